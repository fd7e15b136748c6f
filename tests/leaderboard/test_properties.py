"""Properties of the boards (hypothesis): a closed month's snapshot is unchanged after later
awards, reversals and rule replays.

Each example awards points in a month M of its own, closes M with `close_month` once its
grace has passed, and reads every board of M (`all_board_specs`) — then runs a random
sequence of later operations: late results for M (they land in the current month),
reversals of any entry (of M or later), rule changes replayed over the open months
(`rulebook.change_rule(..., replay=True)`) and new awards in the current month. After each
operation every board of M still reads as it did at the close, and the stored snapshot rows
are untouched.

The `db` fixture empties the database after each *test*, not after each example, and the
ledger refuses deletes: so the examples share one small centre (built by the first of them),
each works in two months of its own (M, then the current month M + 1, both later than any
earlier example's) and closes its current month at the end, so that later rule changes
replay nothing of it.
"""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db as database
from app.incentives.ledger import close_period, terms_of
from app.incentives.models import PointEntry, Rule
from app.incentives.rulebook import change_rule
from app.incentives.rules import Blade, RuleTerms
from app.incentives.services import (
    Award,
    LedgerError,
    award,
    install_defaults,
    reverse_entry,
)
from app.leaderboard.models import BoardSnapshot, BoardSnapshotRow
from app.leaderboard.queries import (
    all_board_specs,
    compute_board,
    get_board,
    rank_history,
)
from app.leaderboard.services import close_month

PEOPLE = 5
KINDS = ("quiz", "qa", "kbi", "stage", "promotion", "praise", "violation")
_months = itertools.count(0)     # each example: months 2 k and 2 k + 1 from January 2101

# --- what an example is made of --------------------------------------------------------

AN_AWARD = st.tuples(st.integers(0, PEOPLE - 1), st.sampled_from(KINDS),
                     st.integers(1, 28), st.integers(0, 99))
LATER = st.one_of(
    st.tuples(st.just("late"), AN_AWARD),            # a result of M, recorded after the close
    st.tuples(st.just("award"), AN_AWARD),           # a result of the current month
    st.tuples(st.just("reverse"), st.integers(0, 10**6)),
    st.tuples(st.just("rule"),
              st.sampled_from(("quiz.passed", "qa.evaluation", "career.promotion",
                               "kbi.checklist_completed", "scenario.stage_completed")),
              st.integers(1, 80), st.sampled_from((True, True, True, False))),
)


def _period(index: int) -> tuple[int, int]:
    return 2101 + index // 12, index % 12 + 1


class Example:
    """One example's months, people and keys."""

    def __init__(self, people: list[int]):
        index = next(_months) * 2
        self.year, self.month = _period(index)
        self.next_year, self.next_month = _period(index + 1)
        self.period = f"{self.year:04d}-{self.month:02d}"
        self.current = f"{self.next_year:04d}-{self.next_month:02d}"
        self.people = people
        self.keys = itertools.count()
        self.clock = itertools.count()

    def in_m(self, day: int) -> datetime:
        return datetime(self.year, self.month, day, 3, 0, tzinfo=UTC)      # 11:00 in Shanghai

    def later(self) -> datetime:
        """A moment of the current month, after M's grace, a minute after the previous."""
        return datetime(self.next_year, self.next_month, 15, 2, 0, tzinfo=UTC) + timedelta(
            minutes=next(self.clock))

    def make_award(self, spec, occurred_at: datetime) -> Award:
        person, kind, _day, n = spec
        user_id = self.people[person]
        key = f"board-prop:{self.period}:{next(self.keys)}"
        if kind == "quiz":
            return Award("quiz.passed", user_id, key, "quiz_attempt", key,
                         occurred_at=occurred_at, attempt=1 + n % 3)
        if kind == "qa":
            return Award("qa.evaluation", user_id, key, "qa_evaluation", key,
                         occurred_at=occurred_at, score=70 + n % 31)
        if kind == "kbi":
            return Award("kbi.checklist_completed", user_id, key, "kbi", key,
                         occurred_at=occurred_at)
        if kind == "stage":
            return Award("scenario.stage_completed", user_id, key, "scenario_stage", key,
                         occurred_at=occurred_at)
        if kind == "promotion":
            return Award("career.promotion", user_id, key, "promotion", key,
                         occurred_at=occurred_at)
        if kind == "violation":
            return Award("violation.deduction", user_id, key, "violation", key,
                         occurred_at=occurred_at)
        return Award("customer_praise.verified", user_id, key, "praise", key,
                     occurred_at=occurred_at)


def _boards(period: str) -> dict[str, list]:
    return {spec.key: get_board(period, spec) for spec in all_board_specs(period)}


def _stored(period: str) -> dict[str, list]:
    row = BoardSnapshotRow
    stored = {}
    for board, *values in database.session.execute(
            select(BoardSnapshot.board, row.position, row.rank, row.key, row.points,
                   row.reached_at, row.is_tied)
            .outerjoin(row, row.snapshot_id == BoardSnapshot.id)
            .where(BoardSnapshot.period == period).order_by(BoardSnapshot.board, row.position)):
        stored.setdefault(board, [])
        if values[0] is not None:
            stored[board].append(tuple(values))
    return stored


def _run(db, example: Example, op) -> None:
    kind = op[0]
    now = example.later()
    if kind == "late":
        award(example.make_award(op[1], example.in_m(op[1][2])), now=now)
    elif kind == "award":
        award(example.make_award(op[1], now), now=now)
    elif kind == "reverse":
        entries = list(db.session.scalars(select(PointEntry.id).where(
            PointEntry.user_id.in_(example.people)).order_by(PointEntry.id)))
        if not entries:
            return
        try:
            reverse_entry(entries[op[1] % len(entries)], reason="property test",
                          actor_id=None, now=now)
        except LedgerError:   # already reversed, or a reversal: refused, nothing changes
            db.session.rollback()
            return
    elif kind == "rule":
        _, event, points, active = op
        rule = db.session.scalar(select(Rule).where(Rule.event == event))
        terms = terms_of(rule)
        params = terms.params
        if event == "qa.evaluation":
            params = {"bands": [[95, points], [90, max(points // 2, 1)],
                                [80, max(points // 4, 1)]]}
        change_rule(rule.id, terms=RuleTerms(points=points, blade=Blade(rule.blade),
                                             is_active=active, daily_cap=terms.daily_cap,
                                             monthly_cap=terms.monthly_cap, params=params),
                    name_en=rule.name_en, name_zh=rule.name_zh, actor_id=None, now=now,
                    replay=True)
    db.session.commit()


# --- the property ----------------------------------------------------------------------

@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(first=st.lists(AN_AWARD, min_size=1, max_size=10),
       later=st.lists(LATER, min_size=1, max_size=12))
def test_a_closed_months_boards_never_change(db, make_user, make_team, now, first, later):
    if not db.session.scalar(select(Rule.id).limit(1)):          # the first example
        install_defaults(now=now)
        red, blue = make_team("Red"), make_team("Blue")
        for n, hired in enumerate((date(2100, 1, 4), date(2100, 1, 20), date(2100, 6, 1),
                                   date(2100, 6, 1), date(2100, 11, 30))):
            make_user("agent", team=red if n % 2 else blue, hire_date=hired)
        db.session.commit()
    people = list(db.session.scalars(select(User.id).order_by(User.id).limit(PEOPLE)))
    example = Example(people)
    for spec in first:
        at = example.in_m(spec[2])
        award(example.make_award(spec, at), now=at)
        db.session.commit()
    live = _boards(example.period)
    assert live == {spec.key: compute_board(example.period, spec)
                    for spec in all_board_specs(example.period)}
    close_month(example.period, actor_id=None, now=example.later())
    db.session.commit()
    frozen, stored = _boards(example.period), _stored(example.period)
    assert frozen == live, "the snapshot differs from the board at the close"
    assert set(stored) == set(frozen)
    for op in later:
        _run(db, example, op)
        assert _boards(example.period) == frozen, op
        assert _stored(example.period) == stored, op
    # the month after M is over too: later examples' rule changes replay nothing of it
    close_period(example.current, actor_id=None, now=example.later())
    db.session.commit()


# --- the rank history counts positions in the database: the same as the board's -----------

TIES = st.lists(st.tuples(st.integers(0, PEOPLE - 1),
                          st.sampled_from(("quiz", "kbi", "promotion", "violation")),
                          st.integers(1, 3), st.integers(0, 2)), max_size=10)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(awards=TIES, close=st.booleans())
def test_the_rank_history_gives_each_persons_place_on_the_centre_board(
        db, make_user, make_team, now, awards, close):
    """Few kinds and days, so that equal points and equal times (ties) are common."""
    if not db.session.scalar(select(Rule.id).limit(1)):          # the first example
        install_defaults(now=now)
        team = make_team("Green")
        for hired in (date(2100, 1, 4), date(2100, 1, 4), date(2100, 6, 1)):
            make_user("agent", team=team, hire_date=hired)
        make_user("agent", team=team, hire_date=date(2100, 2, 1))
        make_user("team_lead", team=team, hire_date=date(2100, 1, 4))   # not ranked
        db.session.commit()
    people = list(db.session.scalars(select(User.id).order_by(User.id).limit(PEOPLE)))
    example = Example(people)
    for spec in awards:
        at = example.in_m(spec[2])
        award(example.make_award(spec, at), now=at)
        db.session.commit()
    if close:
        close_month(example.period, actor_id=None, now=example.later())
        db.session.commit()
    board = {r.key: r.position for r in compute_board(
        example.period, all_board_specs(example.period)[0])}
    for user_id in people:
        expected = board.get(user_id)
        assert rank_history(user_id, [example.period]) == [(example.period, expected)]
        assert rank_history(user_id, [example.period]) == [(example.period, expected)]  # cached
    close_period(example.current, actor_id=None, now=example.later())
    db.session.commit()
