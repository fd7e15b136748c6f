"""An open month's boards read in their index (`LiveBoard`, `live_part`, the team board) say
what the people and their points say — checked against boards ranked here, in Python, from
the people's roles, teams and dates and their totals and rollups, after random awards
(zero and negative totals included) and random changes of roles, teams and dates
(hypothesis).

The `db` fixture empties the database after each test, not after each example: the examples
share one small centre (made by the first of them) and each awards in a month of its own."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.auth.models import Team, User
from app.auth.roles import Role
from app.auth.services import deactivate_user, reactivate_user, update_user
from app.centre.periods import days_in, month_first_day, month_last_day
from app.extensions import db as database
from app.incentives.models import PointEntry, PointMonthTotal, PointRollup, Rule
from app.incentives.services import Award, LedgerError, award, install_defaults, reverse_entry
from app.leaderboard import rules
from app.leaderboard.queries import (
    BoardSpec,
    LiveBoard,
    _live_position,
    _team_board,
    compute_board,
    live_part,
)

PEOPLE = 9
KINDS = ("quiz", "qa", "praise", "violation", "violation")
_months = itertools.count(0)    # each example: a month of its own from January 2201

# the last three people never earn: there are always agents without a total
AN_AWARD = st.tuples(st.integers(0, PEOPLE - 4), st.sampled_from(KINDS), st.integers(1, 28),
                     st.integers(0, 99))
A_CHANGE = st.one_of(
    st.tuples(st.just("team"), st.integers(0, PEOPLE - 1), st.integers(0, 2)),  # 2: none
    st.tuples(st.just("agent"), st.integers(0, PEOPLE - 1), st.booleans()),
    st.tuples(st.just("leave"), st.integers(0, PEOPLE - 1), st.integers(0, 40)),  # 0: stays
    st.tuples(st.just("hire"), st.integers(0, PEOPLE - 1), st.integers(-40, 40)),
)


def _award(user_id: int, kind: str, at: datetime, n: int, key: str) -> Award:
    if kind == "quiz":
        return Award("quiz.passed", user_id, key, "quiz_attempt", key, occurred_at=at,
                     attempt=1 + n % 3)
    if kind == "qa":
        return Award("qa.evaluation", user_id, key, "qa_evaluation", key, occurred_at=at,
                     score=70 + n % 31)
    if kind == "violation":
        return Award("violation.deduction", user_id, key, "violation", key, occurred_at=at)
    return Award("customer_praise.verified", user_id, key, "praise", key, occurred_at=at)


def _change(change, people: list[User], teams: list[int], period: str, now) -> None:
    kind, person, value = change
    user = people[person]
    if kind == "team":
        update_user(user.id, team_id=teams[value] if value < 2 else None, actor_id=None,
                    now=now)
    elif kind == "agent":
        roles = {Role.AGENT} if value else {Role.MENTOR}
        update_user(user.id, roles=roles, actor_id=None, now=now)
    elif kind == "leave":
        if not user.is_active:
            reactivate_user(user.id, actor_id=None, now=now)
        if value:
            left = max(month_first_day(period).toordinal() + value - 20,
                       user.hire_date.toordinal())
            deactivate_user(user.id, leave_date=date.fromordinal(left), actor_id=None,
                            now=now)
    else:
        hired = date.fromordinal(month_first_day(period).toordinal() + value)
        if user.leave_date is None or hired <= user.leave_date:
            update_user(user.id, hire_date=hired, actor_id=None, now=now)


def _on_board(period: str) -> list[User]:
    """The agents employed in the month, from their roles (not from the kept flag)."""
    first, last = month_first_day(period), month_last_day(period)
    return [u for u in database.session.scalars(select(User)).all()
            if Role.AGENT in u.roles and u.hire_date <= last
            and (u.leave_date is None or u.leave_date >= first)]


def _points(period: str, blade: str) -> dict[int, tuple]:
    if blade == "all":
        return {t.user_id: (t.points, t.reached_at) for t in database.session.scalars(
            select(PointMonthTotal).where(PointMonthTotal.period == period))}
    return {r.user_id: (r.points, r.last_changed_at) for r in database.session.scalars(
        select(PointRollup).where(PointRollup.period == period, PointRollup.blade == blade))}


def _expected_board(period: str, blade: str) -> list[rules.Ranked]:
    points = _points(period, blade)
    return rules.rank([rules.Standing(u.id, *points.get(u.id, (0, None)))
                       for u in _on_board(period)])


def _expected_teams(period: str, blade: str) -> list[rules.Ranked]:
    first, last = month_first_day(period), month_last_day(period)
    points = _points(period, blade)
    standings = []
    for team in database.session.scalars(select(Team)).all():
        members = [u for u in _on_board(period) if u.team_id == team.id]
        total = sum(points.get(u.id, (0, None))[0] for u in members)
        reached = [points[u.id][1] for u in members if u.id in points]
        days = sum(days_in(first, last, u.hire_date, u.leave_date) for u in members)
        members = days / ((last - first).days + 1)
        standings.append(rules.Standing(team.id, round(rules.per_member(total, members), 2),
                                        max(reached) if reached else None))
    return rules.rank(standings)


def _plain(rows) -> list[tuple]:
    return [(r.position, r.rank, r.key, r.points, rules.utc_time(r.reached_at), r.tied)
            for r in rows]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(awards=st.lists(AN_AWARD, max_size=14), reversals=st.lists(st.integers(0, 99), max_size=6),
       changes=st.lists(A_CHANGE, max_size=6),
       top=st.integers(1, 4), around=st.integers(0, 3))
def test_live_boards_match_boards_ranked_from_the_people(db, make_user, make_team, now,
                                                         awards, reversals, changes, top,
                                                         around):
    if not db.session.scalar(select(Rule.id).limit(1)):          # the first example
        install_defaults(now=now)
        red, blue = make_team("Red"), make_team("Blue")
        for n in range(PEOPLE):
            make_user("agent", team=(red, blue, None)[n % 3], hire_date=date(2200, 1, 1))
        make_user("trainer", hire_date=date(2200, 1, 1))
        db.session.commit()
    people = list(db.session.scalars(select(User).order_by(User.id).limit(PEOPLE)))
    teams = list(db.session.scalars(select(Team.id).order_by(Team.id)))
    index = next(_months)
    year, month = 2201 + index // 12, index % 12 + 1
    period = f"{year:04d}-{month:02d}"
    keys = itertools.count()
    for person, kind, day, n in awards:
        at = datetime(year, month, day, 3, 0, tzinfo=UTC)
        award(_award(people[person].id, kind, at, n, f"live:{period}:{next(keys)}"), now=at)
        db.session.commit()
    # a reversal of a month's points lands in its month while it is open: after a deduction,
    # reversing what was earned leaves a total below zero
    entries = list(db.session.scalars(select(PointEntry.id).where(
        PointEntry.idempotency_key.like(f"live:{period}:%")).order_by(PointEntry.id)))
    for n in reversals:
        if entries:
            try:
                reverse_entry(entries[n % len(entries)], reason="test", actor_id=None,
                              now=datetime(year, month, 28, 4, 0, tzinfo=UTC))
            except LedgerError:    # already reversed
                db.session.rollback()
            else:
                db.session.commit()
    for change in changes:
        _change(change, people, teams, period, now)
        db.session.commit()

    viewers = [u.id for u in database.session.scalars(select(User)).all()]
    for blade in ("all", "qa", "honour"):
        expected = _expected_board(period, blade)
        spec = BoardSpec("individual", "centre", blade)
        assert _plain(compute_board(period, spec)) == _plain(expected)
        assert LiveBoard(period, blade).size == len(expected)
        for viewer in viewers:
            index_of = next((i for i, r in enumerate(expected) if r.key == viewer), None)
            shown = {r.position: r for r in expected[:top]}
            if index_of is not None:
                shown.update((r.position, r) for r in
                             expected[max(0, index_of - around):index_of + around + 1])
            size, rows = live_part(period, spec, viewer, top=top, around=around)
            assert size == len(expected)
            assert _plain(rows) == _plain(shown[p] for p in sorted(shown)), (blade, viewer)
            if blade == "all":
                assert _live_position(period, viewer) == (
                    None if index_of is None else index_of + 1)
        assert _plain(_team_board(period, blade)) == _plain(_expected_teams(period, blade))


def test_a_tie_below_zero_far_from_the_top_shares_the_rank_after_those_without_a_total(
        db, make_user, now):
    """The viewer's run of equal negative totals started above their neighbours: its rank is
    counted, and the agents without a total (0 points) stand above it."""
    install_defaults(now=now)
    people = [make_user("agent", hire_date=date(2200, 1, 1)) for _ in range(6)]
    db.session.commit()
    period = "2201-01"
    # a deduction, then the points it was taken from reversed: a total below zero
    earned = []
    for n, person in enumerate([0, 1, 2, 3]):
        at = datetime(2201, 1, 2 + n, 3, 0, tzinfo=UTC)
        earned.append(award(_award(people[person].id, "quiz", at, 0, f"tie:q{n}"),
                            now=at).entry.id)
        if person:
            at = datetime(2201, 1, 10 + n, 3, 0, tzinfo=UTC)
            award(_award(people[person].id, "violation", at, 0, f"tie:v{n}"), now=at)
        db.session.commit()
    for entry in earned[1:]:
        reverse_entry(entry, reason="test", actor_id=None,
                      now=datetime(2201, 1, 20, 3, 0, tzinfo=UTC))
        db.session.commit()
    expected = _expected_board(period, "all")
    negatives = [r for r in expected if r.points < 0]
    assert [(r.position, r.rank, r.tied) for r in negatives] == [
        (4, 4, True), (5, 4, True), (6, 4, True)]    # after 1 above zero and 2 at zero
    spec = BoardSpec("individual", "centre", "all")
    for row in negatives:
        size, rows = live_part(period, spec, row.key, top=1, around=0)
        assert size == 6
        assert _plain(rows) == _plain([expected[0], row])
