"""The boards, read from the month totals and rollups (never the ledger), cached under the
points version so that a new award shows at once; closed months read their snapshot.

What the pages show beside the boards — teams, cohorts, names and levels — is cached too:
under the points version and, because people and teams change without points changing, for
`PEOPLE_SECONDS` at most."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from flask_babel import gettext as _
from sqlalchemy import (
    Boolean,
    Date,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    true,
    type_coerce,
)

from app.auth.models import Team, User
from app.centre.periods import month_first_day, month_last_day, previous_period
from app.database import db
from app.extensions import cache
from app.incentives.ledger import points_version
from app.incentives.models import (
    BadgeAward,
    PointMonthTotal,
    PointRollup,
    ServiceStarNomination,
)
from app.incentives.rules import Blade, level_index
from app.leaderboard import rules
from app.leaderboard.models import BoardSnapshot, BoardSnapshotRow

BOARD_KINDS = ("individual", "cohort", "team")
BLADES = ("all",) + tuple(b.value for b in Blade)
CACHE_SECONDS = 300
# names, teams, cohorts and levels: how long a change that moves no points may take to show
PEOPLE_SECONDS = 60
# a closed month's snapshot never changes
SNAPSHOT_SECONDS = 24 * 3600
CENTRE = "individual:centre:all"   # the board of the rank history


@dataclass(frozen=True)
class BoardSpec:
    """Which board: its kind, scope ("centre", "team-<id>", "<cohort>") and blade ("all")."""

    kind: str
    scope: str = "centre"
    blade: str = "all"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.scope}:{self.blade}"

    @classmethod
    def parse(cls, key: str) -> BoardSpec:
        kind, scope, blade = key.split(":")
        return cls(kind, scope, blade)


def _employed_in(period: str):
    first, last = month_first_day(period), month_last_day(period)
    return (User.hire_date <= last) & or_(User.leave_date.is_(None), User.leave_date >= first)


def _is_agent():
    """The person holds the agent role (kept on the person: `app.incentives.standings`)."""
    return User.is_agent == true()


def _in_scope(spec: BoardSpec) -> list:
    """The conditions on User of the board's scope, beyond "an agent employed that month"."""
    if spec.scope.startswith("team-"):
        return [User.team_id == int(spec.scope[5:])]
    if spec.kind == "cohort":
        return [User.hire_date >= month_first_day(spec.scope),
                User.hire_date <= month_last_day(spec.scope)]
    return []


def _points_of(period: str, blade: str):
    """Where a person's points of the month are: all blades in the month totals, one blade in
    its rollup — one row per person either way. (source, join condition on User, points,
    when they were reached as stored)."""
    if blade == "all":
        return (PointMonthTotal,
                and_(PointMonthTotal.user_id == User.id, PointMonthTotal.period == period),
                PointMonthTotal.points, _stored(PointMonthTotal.reached_at))
    return (PointRollup,
            and_(PointRollup.user_id == User.id, PointRollup.period == period,
                 PointRollup.blade == blade),
            PointRollup.points, _stored(PointRollup.last_changed_at))


def _stored(column):
    """A time column as the driver gives it (text on SQLite, a naive UTC datetime on
    PostgreSQL), without SQLAlchemy's conversion of each value: a board reads thousands, and
    orders them in the database; `rules.utc_time` reads the few that are shown."""
    return type_coerce(column, String)


def _plain_rows(query, params: dict | None = None) -> list[tuple]:
    """The rows of a query as the driver returns them, plain tuples, without SQLAlchemy's row
    objects: a board reads thousands of rows, and those objects cost more than the database's
    own work (and fill the young generations of the garbage collector). Only for columns
    that need no conversion: ids, integers and `_stored` times."""
    result = db.session.connection().execute(query, params)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


# --- an open month's board, read in its index ------------------------------------------
# A board of people is, in its order: those with a total of zero or more (`_LiveSource.part`
# "A": the month's totals or rollups marked `ranked`, in their index), then the agents of the
# month without a total (0 points, nothing reached: "Z", by id), then the negative totals
# ("N"). A page needs the board's length, its top, the viewer's place and the rows around it:
# each is counted or read by range in the indexes, with LIMIT and OFFSET, so that no request
# reads the thousands of people of the board. Plain SQL, as for the snapshots.

def _employed_sql(alias: str = "") -> str:
    """An agent of the month, as `_employed_in` and `_is_agent` say, on `users` as `alias`."""
    u = f"{alias}." if alias else ""
    return (f"{u}is_agent = :yes AND {u}hire_date <= :last"
            f" AND ({u}leave_date IS NULL OR {u}leave_date >= :first)")


_TYPES = (bindparam("yes", type_=Boolean), bindparam("first", type_=Date),
          bindparam("last", type_=Date))


def _sql(statement: str):
    return text(statement).bindparams(*(b for b in _TYPES if f":{b.key}" in statement))


class _LiveSource:
    """The SQL of the live boards of one source: the month totals (all blades) or the
    rollups (one blade)."""

    def __init__(self, table: str, at: str, *, of_blade: bool):
        blade = " AND blade = :blade" if of_blade else ""
        rows = f"FROM {table} WHERE period = :period{blade} AND ranked = :yes"
        order = f"ORDER BY points DESC, {at}, user_id LIMIT :n OFFSET :skip"
        own = (f"t.user_id = u.id AND t.period = :period"
               f"{' AND t.blade = :blade' if of_blade else ''}")
        self.counts = _sql(
            f"SELECT (SELECT count(*) FROM users WHERE {_employed_sql()}), count(*),"
            f" count(*) FILTER (WHERE points >= 0) {rows}")
        self.me = _sql(
            f"SELECT u.id, t.points, t.{at} FROM users u LEFT JOIN {table} t ON {own}"
            f" WHERE u.id = :me AND {_employed_sql('u')}")
        # those with more points, and those with as many who reached them before: one range
        # of the index
        self.ahead = _sql(
            f"SELECT count(*) FILTER (WHERE points > :points), count(*) FILTER (WHERE"
            f" points = :points AND ({at} < :at OR ({at} = :at AND user_id < :me)))"
            f" {rows} AND points >= :points")
        self.zero_below = _sql(
            f"SELECT (SELECT count(*) FROM users WHERE {_employed_sql()} AND id < :me)"
            f" - (SELECT count(*) {rows} AND user_id < :me)")
        self.part = {
            "A": _sql(f"SELECT user_id, points, {at} {rows} AND points >= 0 {order}"),
            "N": _sql(f"SELECT user_id, points, {at} {rows} AND points < 0 {order}")}
        # walked in the order of ids, which LIMIT stops early: the agent test is written so
        # that no index of it is taken instead (each would be read whole, then sorted)
        zero = (f"SELECT id FROM users u WHERE CAST(u.is_agent AS INTEGER) = 1"
                f" AND u.hire_date <= :last AND (u.leave_date IS NULL OR u.leave_date >= :first)"
                f" AND NOT EXISTS (SELECT 1 FROM {table} t WHERE {own})")
        self.zero = {
            "first": _sql(f"{zero} ORDER BY id LIMIT :n OFFSET :skip"),
            "last": _sql(f"{zero} ORDER BY id DESC LIMIT :n OFFSET :skip"),
            "below": _sql(f"{zero} AND id < :me ORDER BY id DESC LIMIT :n"),
            "above": _sql(f"{zero} AND id > :me ORDER BY id LIMIT :n")}
        self.greater = _sql(f"SELECT count(*) {rows} AND points > :points")


_LIVE_SOURCES = {"all": _LiveSource("point_month_totals", "reached_at", of_blade=False),
                 "blade": _LiveSource("point_rollups", "last_changed_at", of_blade=True)}


class LiveBoard:
    """The board of people of the whole centre in an open month, one blade or all, as the
    month totals and rollups give it now — read in part (see above)."""

    def __init__(self, period: str, blade: str = "all"):
        self.source = _LIVE_SOURCES["all" if blade == "all" else "blade"]
        self.params = {"period": period, "blade": blade, "yes": True,
                       "first": month_first_day(period), "last": month_last_day(period)}
        self.connection = db.session.connection()
        self._greater: dict[int, int] = {}   # points → how many have more (as counted)

    def _execute(self, statement, **params):
        return self.connection.execute(statement, {**self.params, **params})

    @cached_property
    def _counts(self) -> tuple[int, int, int]:
        """The agents on the board, those with a total and those with a total of 0 or more
        (A), from which Z and N follow."""
        return tuple(self._execute(self.source.counts).one())

    @property
    def size(self) -> int:
        return self._counts[0]

    @property
    def zero_count(self) -> int:
        """Agents without a total (Z)."""
        size, with_total, _a = self._counts
        return max(size - with_total, 0)

    def place(self, key: int) -> tuple[int, int | None] | None:
        """The person's position, and their index among those without a total (None when
        they have one); None when they are not on the board."""
        me = self._execute(self.source.me, me=key).first()
        if me is None:
            return None
        _id, points, at = me
        if points is None:
            below = self._execute(self.source.zero_below, me=key).scalar()
            return self._counts[2] + below + 1, below
        greater, earlier = self._execute(self.source.ahead, me=key, points=points,
                                         at=at).one()
        self._greater[points] = greater
        return greater + earlier + (self.zero_count if points < 0 else 0) + 1, None

    def rows(self, first: int, last: int, *, key: int | None = None,
             zero_index: int | None = None) -> list[tuple[int, int, float, object]]:
        """(position, key, points, reached as stored) of the positions first..last; the
        person `key` at `zero_index` among those without a total, if they are."""
        size, with_total, in_a = self._counts
        zeros = self.zero_count
        last = min(last, size)
        found = []
        low, high = first, min(last, in_a)
        if low <= high:
            found += self._part("A", low, high, low - 1)
        low, high = max(first, in_a + 1), min(last, in_a + zeros)
        if low <= high:
            i, j = low - in_a - 1, high - in_a - 1
            ids = self._zero_ids(i, j, key, zero_index)
            found += [(low + n, user_id, 0, None) for n, user_id in enumerate(ids)]
        low, high = max(first, in_a + zeros + 1), last
        if low <= high:
            found += self._part("N", low, high, low - in_a - zeros - 1)
        return found

    def _part(self, part: str, low: int, high: int, skip: int) -> list[tuple]:
        return [(low + n, *row) for n, row in enumerate(self._execute(
            self.source.part[part], n=high - low + 1, skip=skip))]

    def _zero_ids(self, i: int, j: int, key: int | None, index: int | None) -> list[int]:
        """The ids of those without a total, from the i-th to the j-th (by id): read from
        the nearest of the viewer, the first and the last."""
        zero = self.source.zero
        if index is not None and i <= index <= j:
            below = [row[0] for row in self._execute(zero["below"], me=key, n=index - i)]
            above = [row[0] for row in self._execute(zero["above"], me=key, n=j - index)]
            return below[::-1] + [key] + above
        if j + 1 <= self.zero_count - i:
            return [row[0] for row in self._execute(zero["first"], n=j - i + 1, skip=i)]
        ids = [row[0] for row in self._execute(zero["last"], n=j - i + 1,
                                               skip=self.zero_count - 1 - j)]
        return ids[::-1]

    def ranked(self, rows: list[tuple], shown) -> list[rules.Ranked]:
        """The rows at the `shown` places with their rank (equal points share it) and whether
        they are tied, from the rows themselves: `rows` are runs of consecutive places
        (position, key, points, reached as stored), each with the row before and the row
        after it where the board has them. A row is tied when a neighbour has its points; its
        rank is that of the row before it with the same points, else its own place — only a
        run's first points, when the row before it has them too, are counted in the index
        (how many have more)."""
        by_position = {row[0]: row for row in rows}
        ranks = {}    # None: as the row before, which is not among the rows
        for position, _key, points, _at in rows:
            before = by_position.get(position - 1)
            if before is not None and before[2] == points:
                ranks[position] = ranks[position - 1]
            elif before is not None or position == 1:
                ranks[position] = position
            else:
                ranks[position] = None
        ranked = []
        for position, key, points, at in rows:
            if position not in shown:
                continue
            rank = ranks[position]
            if rank is None:
                if points not in self._greater:
                    self._greater[points] = self._execute(self.source.greater,
                                                          points=points).scalar()
                rank = self._greater[points] + (self.zero_count if points < 0 else 0) + 1
            before, after = by_position.get(position - 1), by_position.get(position + 1)
            tied = (before is not None and before[2] == points) or (
                after is not None and after[2] == points)
            ranked.append(rules.Ranked(position, rank, key, points, rules.utc_time(at), tied))
        return ranked


def live_part(period: str, spec: BoardSpec, key: int | None, *, top: int,
              around: int) -> tuple[int, list[rules.Ranked]]:
    """What a page shows of an open month's board of the whole centre (see `snapshot_part`):
    the board's length, its top `top` rows and the rows from `around` above to `around`
    below the key's, in the board's order."""
    board = LiveBoard(period, spec.blade)
    size = board.size
    ranges = [(1, top)]
    zero_index = None
    place = board.place(key) if key is not None else None
    if place is not None:
        position, zero_index = place
        ranges.append((max(1, position - around), position + around))
    if len(ranges) == 2 and ranges[1][0] <= ranges[0][1] + 1:
        ranges = [(1, max(ranges[0][1], ranges[1][1]))]
    rows, wanted = {}, set()
    for first, last in ranges:
        wanted.update(range(first, min(last, size) + 1))
        # with the row before and the row after: ranks and ties follow from the rows
        rows.update((row[0], row) for row in board.rows(max(1, first - 1), last + 1, key=key,
                                                        zero_index=zero_index))
    return size, board.ranked([rows[p] for p in sorted(rows)], wanted)


def compute_board(period: str, spec: BoardSpec) -> rules.Board:
    """A board as the month totals and rollups give it now. The database returns the agents
    in the board's order (that of `rules.rank`: points, then who reached them first, then the
    id); places, ranks and ties follow from it."""
    if spec.kind == "team":
        return _team_board(period, spec.blade)
    source, on, points, reached = _points_of(period, spec.blade)
    points = func.coalesce(points, 0)
    rows = _plain_rows(
        select(User.id, points, reached).select_from(User).outerjoin(source, on)
        .where(_employed_in(period), _is_agent(), *_in_scope(spec))
        .order_by(points.desc(), reached.asc().nulls_last(), User.id))
    if not rows:
        return rules.Board.from_rows([])
    keys, totals, times = zip(*rows, strict=True)
    return rules.Board.from_ordered(keys, totals, times)


# every team, with its month totals where it has them
_TEAM_TOTALS = text(
    "SELECT t.id, m.points, m.reached_at, m.member_days FROM teams t"
    " LEFT JOIN team_month_totals m ON m.team_id = t.id AND m.period = :period"
    " AND m.blade = :blade")


def _team_board(period: str, blade: str) -> rules.Board:
    """Teams by points per pro-rated member (the team's days of agents in the month over the
    month's days: joiners and leavers count for the days they were there), from the teams'
    month totals (`app.incentives.standings` keeps them: one row per team), in the order of
    `rules.rank` (the times compared as stored: ISO text on SQLite). Every team is on the
    board, also without points."""
    days = (month_last_day(period) - month_first_day(period)).days + 1
    rows = sorted(((round(rules.per_member(points or 0, (member_days or 0) / days), 2), at,
                    team_id) for team_id, points, at, member_days in
                   _plain_rows(_TEAM_TOTALS, {"period": period, "blade": blade})),
                  key=lambda row: (-row[0], row[1] is None, row[1] or "", row[2]))
    if not rows:
        return rules.Board.from_rows([])
    per_member, reached, keys = zip(*rows, strict=True)
    return rules.Board.from_ordered(keys, per_member, reached)


def compute_boards(period: str, specs: list[BoardSpec]) -> dict[BoardSpec, rules.Board]:
    """Many boards of one month at once (the month close stores every board): the month's
    agents, totals and rollups are read once and each board of people is ranked from them
    (`rules.rank`); the team boards are read as `compute_board` reads them."""
    agents = db.session.execute(
        select(User.id, User.team_id, User.hire_date)
        .where(_employed_in(period), _is_agent())).all()
    points: dict[str, dict[int, tuple]] = defaultdict(dict)   # blade → user → (points, at)
    for user_id, total, at in _plain_rows(
            select(PointMonthTotal.user_id, PointMonthTotal.points,
                   _stored(PointMonthTotal.reached_at)).where(PointMonthTotal.period == period)):
        points["all"][user_id] = (total, rules.utc_time(at))
    for user_id, blade, total, at in _plain_rows(
            select(PointRollup.user_id, PointRollup.blade, PointRollup.points,
                   _stored(PointRollup.last_changed_at)).where(PointRollup.period == period)):
        points[blade][user_id] = (total, rules.utc_time(at))
    in_team, in_cohort = defaultdict(list), defaultdict(list)
    for agent in agents:
        in_team[f"team-{agent.team_id}"].append(agent)
        in_cohort[f"{agent.hire_date.year:04d}-{agent.hire_date.month:02d}"].append(agent)
    nothing = (0, None)
    boards = {}
    for spec in specs:
        if spec.kind == "team":
            boards[spec] = _team_board(period, spec.blade)
            continue
        if spec.scope.startswith("team-"):
            members = in_team.get(spec.scope, [])
        elif spec.kind == "cohort":
            members = in_cohort.get(spec.scope, [])
        else:
            members = agents
        of_blade = points[spec.blade]
        boards[spec] = rules.Board.of(rules.rank([
            rules.Standing(a.id, int(p), at) for a in members
            for p, at in [of_blade.get(a.id, nothing)]]))
    return boards


_CLOSED = text("SELECT period FROM closed_periods WHERE period = :period")


def is_closed(period: str) -> bool:
    """Whether the month is closed. Every board page asks: a closed month stays closed, so that
    answer is cached; an open one is read each time, on the session's connection (one key,
    nothing to load)."""
    key = f"closed/{period}"
    if cache.get(key):
        return True
    closed = db.session.connection().execute(_CLOSED, {"period": period}).first() is not None
    if closed:
        cache.set(key, True, timeout=SNAPSHOT_SECONDS)
    return closed


def snapshot_id(period: str, spec: BoardSpec) -> int | None:
    """The stored board of a closed month (None when the month has no snapshot of it)."""
    return db.session.scalar(select(BoardSnapshot.id).where(
        BoardSnapshot.period == period, BoardSnapshot.board == spec.key))


def _snapshot_points(kind: str):
    """How a stored board's points read back: whole points on the boards of people, points
    per member (two decimals) on the team board."""
    return float if kind == "team" else int


def snapshot_board(snapshot: int, kind: str) -> rules.Board:
    """A stored board, whole (exports, the team chart, the board's JSON)."""
    row = BoardSnapshotRow
    rows = _plain_rows(select(row.key, row.points, row.rank, row.is_tied,
                              _stored(row.reached_at))
                       .where(row.snapshot_id == snapshot).order_by(row.position))
    if not rows:
        return rules.Board.from_rows([])
    keys, points, ranks, tied, reached = zip(*rows, strict=True)
    return rules.Board(keys, map(_snapshot_points(kind), points), ranks, map(bool, tied),
                       reached)


# what a page shows of a stored board, in plain SQL: SQLAlchemy's building of a statement
# cost more than the database's reading of these few rows. The snapshot, the board's length
# and the viewer's place, from the indexes alone:
_SNAPSHOT_PLACE = text(
    "SELECT s.id, (SELECT r.position FROM board_snapshot_rows r WHERE r.snapshot_id = s.id"
    " ORDER BY r.position DESC LIMIT 1), (SELECT r.position FROM board_snapshot_rows r"
    " WHERE r.snapshot_id = s.id AND r.key = :key)"
    " FROM board_snapshots s WHERE s.period = :period AND s.board = :board")
# the top and the viewer's neighbourhood: two ranges of the primary key (SQLite reads an OR
# of the two as the whole board)
_TOP_SQL = (
    "SELECT position, rank, key, points, reached_at, is_tied FROM board_snapshot_rows"
    " WHERE snapshot_id = :snapshot AND position <= :top")
_SNAPSHOT_ROWS = text(_TOP_SQL)
_SNAPSHOT_NEIGHBOURS = text(
    _TOP_SQL + " UNION ALL SELECT position, rank, key, points, reached_at, is_tied"
    " FROM board_snapshot_rows WHERE snapshot_id = :snapshot AND position >= :first"
    " AND position <= :last")


def snapshot_part(period: str, spec: BoardSpec, key: int | None, *, top: int,
                  around: int) -> tuple[int, list[rules.Ranked]] | None:
    """What a page shows of a month's stored board, read by place: the board's length, and
    its top `top` rows with the rows from `around` above to `around` below the key's (if it
    is on the board), in the board's order; None when the month has no snapshot of it."""
    connection = db.session.connection()
    found = connection.execute(_SNAPSHOT_PLACE, {"key": key, "period": period,
                                                 "board": spec.key}).first()
    if found is None:
        return None
    snapshot, size, place = found
    if place is None:
        rows = connection.execute(_SNAPSHOT_ROWS, {"snapshot": snapshot, "top": top})
    else:
        rows = connection.execute(_SNAPSHOT_NEIGHBOURS, {
            "snapshot": snapshot, "top": top, "first": place - around,
            "last": place + around})
    points = _snapshot_points(spec.kind)
    shown = {position: rules.Ranked(position, rank, shown_key, points(at_points),
                                    rules.utc_time(reached), bool(tied))
             for position, rank, shown_key, at_points, reached, tied in rows}
    return size or 0, [shown[position] for position in sorted(shown)]


def get_board(period: str, spec: BoardSpec, *, closed: bool | None = None) -> rules.Board:
    """The board of a month: its snapshot once the month is closed, else the live board,
    cached until points change. Kept in the cache as columns (see `rules.Board`). `closed`:
    whether the month is closed, if the caller knows (an open month has no snapshot)."""
    snapshot_key = f"board-snapshot/{period}/{spec.key}"
    columns = cache.get(snapshot_key)
    if columns is not None:
        return rules.Board(*columns)
    snapshot = None if closed is False else snapshot_id(period, spec)
    if snapshot is not None:
        board = snapshot_board(snapshot, spec.kind)
        cache.set(snapshot_key, board.columns(), timeout=SNAPSHOT_SECONDS)
        return board
    key = f"board/{period}/{spec.key}/{points_version()}"
    columns = cache.get(key)
    if columns is not None:
        return rules.Board(*columns)
    board = compute_board(period, spec)
    cache.set(key, board.columns(), timeout=CACHE_SECONDS)
    return board


def all_board_specs(period: str) -> list[BoardSpec]:
    """Every board of a month: the centre, each team, each cohort, the teams; each in all
    blades and in every single blade."""
    scopes = [("individual", "centre"), ("team", "centre")]
    scopes += [("individual", f"team-{team_id}") for team_id in
               db.session.scalars(select(Team.id).order_by(Team.id))]
    scopes += [("cohort", cohort) for cohort in _cohorts(period)]
    return [BoardSpec(kind, scope, blade) for kind, scope in scopes for blade in BLADES]


def _cached(key: str, compute, timeout: int = PEOPLE_SECONDS):
    """`compute()`, cached under `key` and the points version for `timeout` seconds."""
    key = f"{key}/{points_version()}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=timeout)
    return value


def _hire_month():
    """A person's hire month as "YYYY-MM", written by the database: on SQLite the start of
    the date's stored text (cheaper than two `extract`s on every agent), elsewhere
    `to_char`."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.substr(type_coerce(User.hire_date, String), 1, 7)
    return func.to_char(User.hire_date, "YYYY-MM")


def _cohorts(period: str) -> list[str]:
    return sorted(db.session.scalars(select(_hire_month()).distinct().where(
        _employed_in(period), _is_agent())), reverse=True)


def _stored_cohorts(period: str) -> list[str] | None:
    """A closed month's cohorts: those whose boards its close stored (it stores every board,
    the centre's always), read from the snapshots' keys; None for a month without them."""
    boards = set(db.session.scalars(select(BoardSnapshot.board).where(
        BoardSnapshot.period == period,
        or_(BoardSnapshot.board == CENTRE, BoardSnapshot.board.like("cohort:%:all")))))
    if CENTRE not in boards:
        return None
    return sorted((BoardSpec.parse(key).scope for key in boards if key != CENTRE),
                  reverse=True)


def cohorts_in(period: str) -> list[str]:
    """The onboarding cohorts (hire months) of the agents employed in that month, newest
    first; for a closed month, those of its stored boards."""
    def cohorts():
        stored = _stored_cohorts(period) if is_closed(period) else None
        return _cohorts(period) if stored is None else stored
    return _cached(f"cohorts/{period}", cohorts)


# what every board page reads of the people, teams and levels, in plain SQL (building the
# statements cost more than the database's reading of these few rows)
_TEAMS = text("SELECT id, name FROM teams ORDER BY name, id")
_LEVELS = text("SELECT min_points, name_en, name_zh FROM levels ORDER BY min_points")
_NAMES = text(
    "SELECT u.id, u.name, t.name, b.earned FROM users u LEFT JOIN teams t ON t.id = u.team_id"
    " LEFT JOIN point_balances b ON b.user_id = u.id WHERE u.id IN :keys").bindparams(
        bindparam("keys", expanding=True))
_CENTRE_PLACES = text(
    "SELECT s.period, p.position FROM board_snapshots s LEFT JOIN board_places p"
    " ON p.period = s.period AND p.user_id = :user WHERE s.period IN :periods"
    f" AND s.board = '{CENTRE}'").bindparams(bindparam("periods", expanding=True))


def list_teams() -> list[tuple[int, str]]:
    """Every team as (id, name), by name."""
    return _cached("teams", lambda: _plain_rows(_TEAMS))


def _levels() -> list[tuple[int, str, str]]:
    return _cached("levels", lambda: _plain_rows(_LEVELS))


def pseudonym_of(user_id: int, salt: str) -> str:
    """What an agent is called where names are hidden: "Agent 7F3A"."""
    return _("Agent %(code)s", code=rules.pseudonym(user_id, salt))


def board_names(spec: BoardSpec, keys: list[int], *, viewer_id: int | None,
                pseudonymise: bool, salt: str, locale: str) -> dict[int, dict]:
    """What each shown row of a board displays: for a team its name; for a person a name
    (a pseudonym when `pseudonymise`, except for the viewer themself), their team (hidden
    with the name) and their level in the viewer's language."""
    if spec.kind == "team":
        wanted = set(keys)
        return {team_id: {"name": name} for team_id, name in list_teams() if team_id in wanted}
    if not keys:
        return {}
    levels = _levels()
    thresholds = [min_points for min_points, _en, _zh in levels]
    chinese = locale.startswith("zh")
    names = {}
    for user_id, name, team, earned in _plain_rows(_NAMES, {"keys": list(keys)}):
        hidden = pseudonymise and user_id != viewer_id
        level = None
        if levels:
            _min, name_en, name_zh = levels[level_index(thresholds, earned or 0)]
            level = name_zh if chinese else name_en
        names[user_id] = {"name": pseudonym_of(user_id, salt) if hidden else name,
                          "level": level, "team": None if hidden else team}
    return names


def _centre_places(user_id: int, periods: list[str]) -> dict[str, int | None]:
    """The person's place on each closed month's centre board (None when not on it); months
    without a snapshot are left out."""
    return dict(_plain_rows(_CENTRE_PLACES, {"user": user_id, "periods": list(periods)}))


def _live_position(period: str, user_id: int) -> int | None:
    """The person's position on the live centre board of the month, counted in the index
    (`LiveBoard.place`)."""
    place = LiveBoard(period).place(user_id)
    return None if place is None else place[0]


def _position_key(period: str, user_id: int, version: int | None = None) -> str:
    """Where a person's place on an open month's centre board is cached (0: not on it)."""
    return (f"board-position/{period}/{user_id}/"
            f"{points_version() if version is None else version}")


def rank_history(user_id: int, periods: list[str]) -> list[tuple[str, int | None]]:
    """The person's position on the centre board in each month (None when not ranked):
    closed months from the places stored with their snapshot, open ones live."""
    places = _centre_places(user_id, periods)
    version = points_version()
    history = []
    for period in periods:
        if period in places:
            position = places[period]
        else:
            columns = cache.get(f"board/{period}/{CENTRE}/{version}")
            if columns is not None:
                index = rules.Board(*columns).index_of(user_id)
                position = None if index is None else index + 1
            else:
                key = _position_key(period, user_id, version)
                position = cache.get(key)
                if position is None:
                    position = _live_position(period, user_id) or 0   # 0: not ranked
                    cache.set(key, position, timeout=CACHE_SECONDS)
                position = position or None
        history.append((period, position))
    return history


class BoardPage:
    """What the board page shows of one board to one viewer — the board's top, the viewer's
    row with their neighbours and the gap to the next place, names and levels, the rank
    history or the team chart — each part read when first asked for, so that a page whose
    cached fragment already holds them reads none of it. `fragment_key` names that fragment:
    it changes with the points version, the viewer and how names are shown."""

    TOP = 10
    AROUND = 3
    HISTORY_MONTHS = 6

    def __init__(self, period: str, spec: BoardSpec, *, viewer_id: int,
                 viewer_team_id: int | None, pseudonymise: bool, salt: str, locale: str,
                 closed: bool | None = None):
        self.period, self.spec = period, spec
        # whether the month is closed, if the caller knows (an open month has no snapshot)
        self.closed = closed
        self.viewer_id = viewer_id
        # the viewer's row: their own, or their team's on the team board
        self.me = viewer_team_id if spec.kind == "team" else viewer_id
        self._naming = {"viewer_id": viewer_id, "pseudonymise": pseudonymise, "salt": salt,
                        "locale": locale}
        self.fragment_key = (f"{period}/{spec.key}/{points_version()}/{viewer_id}/"
                             f"{self.me}/{locale}/{int(pseudonymise)}")

    @cached_property
    def board(self) -> rules.Board:
        """The whole board (the team chart; a live board, whose rows the page then shows)."""
        if not self.spec.scope:    # a cohort board of a month without cohorts
            return rules.Board.from_rows([])
        return get_board(self.period, self.spec, closed=self.closed)

    @cached_property
    def _shown(self) -> tuple[int, list[rules.Ranked]]:
        """The board's length, and the rows the page shows: the top of the board, and the
        viewer with their neighbours wherever they are — read by place from a closed month's
        snapshot, or in an open month's index for the boards of the whole centre (the boards
        of a team or a cohort are short, and read whole; the team board is read whole for its
        chart)."""
        if self.spec.scope and self.spec.kind != "team":
            stored = None if self.closed is False else snapshot_part(
                self.period, self.spec, self.me, top=self.TOP, around=self.AROUND)
            if stored is not None:
                return stored
            if self.spec.kind == "individual" and self.spec.scope == "centre":
                size, rows = live_part(self.period, self.spec, self.me, top=self.TOP,
                                       around=self.AROUND)
                if self.spec.key == CENTRE:   # the rank history's place of this month
                    mine = next((r.position for r in rows if r.key == self.me), 0)
                    cache.set(_position_key(self.period, self.me), mine,
                              timeout=CACHE_SECONDS)
                return size, rows
        board = self.board
        shown = {r.position: r for r in board[:self.TOP]}
        shown.update({r.position: r for r in board.around(self.me, self.AROUND)})
        return len(board), [shown[p] for p in sorted(shown)]

    @property
    def size(self) -> int:
        return self._shown[0]

    @property
    def rows(self) -> list[rules.Ranked]:
        return self._shown[1]

    @cached_property
    def mine(self) -> rules.Ranked | None:
        return next((r for r in self.rows if r.key == self.me), None)

    @cached_property
    def gap(self):
        """Points to move up a place: the viewer's neighbours, the row above them included,
        are among the rows shown."""
        return rules.gap_to_next(self.rows, self.me) if self.mine else None

    @cached_property
    def names(self) -> dict[int, dict]:
        return board_names(self.spec, [r.key for r in self.rows], **self._naming)

    @cached_property
    def history(self) -> list[tuple[str, int | None]]:
        """The viewer's place on the centre board over the last six months (individual
        boards only)."""
        if self.spec.kind != "individual":
            return []
        months = [self.period]
        while len(months) < self.HISTORY_MONTHS:
            months.append(previous_period(months[-1]))
        return rank_history(self.viewer_id, list(reversed(months)))

    @cached_property
    def team_chart(self) -> tuple[list[str], list[float]]:
        """Each team's name and points per member, in the board's order (the team board
        only): read from the board's columns, without making a row of each team."""
        if self.spec.kind != "team":
            return [], []
        names = dict(list_teams())
        shown = [(names[key], points) for key, points in zip(self.board.keys,
                                                             self.board.points, strict=True)
                 if key in names]
        return [name for name, _p in shown], [points for _n, points in shown]


def latest_honours(limit: int = 8) -> list[dict]:
    """The newest badges and confirmed Service Stars, for the wallboard."""
    badges = db.session.scalars(
        select(BadgeAward).where(BadgeAward.revoked_at.is_(None))
        .order_by(BadgeAward.awarded_at.desc()).limit(limit))
    stars = db.session.scalars(
        select(ServiceStarNomination).where(ServiceStarNomination.status == "confirmed")
        .order_by(ServiceStarNomination.decided_at.desc()).limit(limit))
    honours = [{"at": b.awarded_at, "user": b.user, "badge": b.badge, "star": None}
               for b in badges]
    honours += [{"at": s.decided_at, "user": s.user, "badge": None, "star": s} for s in stars]
    return sorted(honours, key=lambda h: h["at"], reverse=True)[:limit]


def wall_honours(*, pseudonymise: bool, salt: str, locale: str,
                 limit: int = 8) -> list[dict]:
    """The wallboard's honours as it shows them: who (a pseudonym when the centre hides
    names) and which honour, in the screen's language."""
    chinese = locale.startswith("zh")
    return [{"name": pseudonym_of(h["user"].id, salt) if pseudonymise else h["user"].name,
             "honour": (h["badge"].name_zh if chinese else h["badge"].name_en)
             if h["badge"] else _("Service Star of %(month)s", month=h["star"].period)}
            for h in latest_honours(limit)]
