"""What the boards keep of the people beside the points (`app.incentives.standings`): the
agent role on the person, and on each month total and rollup the person's team and whether
they are on that month's boards — written with the points, written again when roles, teams
or dates change, and checked by `verify_rollups`."""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select, text, update

from app.auth.models import User
from app.auth.services import deactivate_user, reactivate_user, update_user
from app.incentives.models import PointMonthTotal, PointRollup, TeamMonthTotal
from app.incentives.services import Award, award, award_batch, verify_rollups

MARCH_2 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
APRIL_2 = datetime(2026, 4, 2, 1, 0, tzinfo=UTC)


def _kept(db, user_id) -> dict[tuple[str, str], tuple]:
    """(period, blade or "all") → (team, ranked) of the person's totals and rollups."""
    kept = {(t.period, "all"): (t.team_id, t.ranked) for t in db.session.scalars(
        select(PointMonthTotal).where(PointMonthTotal.user_id == user_id))}
    kept.update({(r.period, r.blade): (r.team_id, r.ranked) for r in db.session.scalars(
        select(PointRollup).where(PointRollup.user_id == user_id))})
    db.session.expire_all()
    return kept


def _praise(user_id, key, at):
    return Award("customer_praise.verified", user_id, key, "praise", occurred_at=at)


def test_points_carry_the_team_and_whether_the_person_is_on_the_board(
        db, defaults, make_user, make_team, now):
    red = make_team("Red")
    agent = make_user("agent", team=red, hire_date=date(2026, 3, 10))
    mentor = make_user("mentor", team=red, hire_date=date(2025, 1, 1))
    assert agent.is_agent and not mentor.is_agent
    award(_praise(agent.id, "a", MARCH_2), now=now)      # before the hire date, same month
    award(_praise(mentor.id, "m", MARCH_2), now=now)
    award_batch([_praise(agent.id, "b", datetime(2026, 2, 2, 1, 0, tzinfo=UTC))], now=now)
    db.session.commit()

    assert _kept(db, agent.id) == {("2026-03", "all"): (red.id, True),
                                   ("2026-03", "recognition"): (red.id, True),
                                   ("2026-02", "all"): (red.id, False),   # not yet hired
                                   ("2026-02", "recognition"): (red.id, False)}
    assert _kept(db, mentor.id) == {("2026-03", "all"): (red.id, False),
                                    ("2026-03", "recognition"): (red.id, False)}
    assert verify_rollups() == []


def test_changes_of_roles_teams_and_dates_are_written_to_the_points_at_once(
        db, defaults, make_user, make_team, now):
    red, blue = make_team("Red"), make_team("Blue")
    agent = make_user("agent", team=red, hire_date=date(2025, 1, 1))
    award(_praise(agent.id, "m", MARCH_2), now=now)
    award(_praise(agent.id, "a", APRIL_2), now=now)
    db.session.commit()

    update_user(agent.id, team_id=blue.id, actor_id=None, now=now)
    db.session.commit()
    assert set(_kept(db, agent.id).values()) == {(blue.id, True)}

    update_user(agent.id, roles=["mentor"], actor_id=None, now=now)
    db.session.commit()
    assert set(_kept(db, agent.id).values()) == {(blue.id, False)}
    assert db.session.get(User, agent.id).is_agent is False

    update_user(agent.id, roles=["agent", "mentor"], actor_id=None, now=now)
    deactivate_user(agent.id, leave_date=date(2026, 3, 20), actor_id=None, now=now)
    db.session.commit()
    kept = _kept(db, agent.id)
    assert kept[("2026-03", "all")] == (blue.id, True)     # there until the 20th
    assert kept[("2026-04", "all")] == (blue.id, False)    # gone

    reactivate_user(agent.id, actor_id=None, now=now)
    update_user(agent.id, hire_date=date(2026, 4, 5), actor_id=None, now=now)
    db.session.commit()
    kept = _kept(db, agent.id)
    assert kept[("2026-03", "all")] == (blue.id, False)    # hired later now
    assert kept[("2026-04", "recognition")] == (blue.id, True)
    assert verify_rollups() == []


def _praised_in_march(db, make_user, make_team, now):
    """A team and its agent, praised in March: nothing for `verify_rollups` to report."""
    red = make_team("Red")
    agent = make_user("agent", team=red, hire_date=date(2025, 1, 1))
    award(_praise(agent.id, "m", MARCH_2), now=now)
    db.session.commit()
    assert verify_rollups() == []
    return red, agent


def test_verify_reports_kept_columns_that_no_longer_say_what_the_people_say(
        db, defaults, make_user, make_team, now):
    red, agent = _praised_in_march(db, make_user, make_team, now)

    # written behind the services' back: nothing keeps the columns then
    db.session.execute(update(User).where(User.id == agent.id).values(team_id=None))
    db.session.execute(text("UPDATE point_rollups SET ranked = :no"), {"no": False})
    db.session.commit()

    found = verify_rollups()
    assert {(d["period"], d["blade"], d["ledger"], d["rollup"]) for d in found
            if d["user_id"] == agent.id} == {
        ("2026-03", "all team_id", None, red.id),
        ("2026-03", "recognition team_id", None, red.id),
        ("2026-03", "recognition ranked", True, False)}
    # and the team's totals, which still count a person who is in no team now
    assert {(d["user_id"], d["period"], d["blade"], d["ledger"]) for d in found
            if d["user_id"] != agent.id} == {
        (f"team {red.id}", "2026-03", "all team total", None),
        (f"team {red.id}", "2026-03", "recognition team total", None)}


def _other_blade(db, user_id) -> str:
    """The blade of the person's rollup other than recognition."""
    return db.session.scalar(select(PointRollup.blade).where(
        PointRollup.user_id == user_id, PointRollup.blade != "recognition"))


def _teams(db) -> dict[tuple[str, str, int], tuple[int, int]]:
    """(period, blade or "all", team) → (points, days of agents) of the teams' month
    totals."""
    rows = db.session.execute(select(TeamMonthTotal.period, TeamMonthTotal.blade,
                                     TeamMonthTotal.team_id, TeamMonthTotal.points,
                                     TeamMonthTotal.member_days)).all()
    return {(period, blade, team): (points, days) for period, blade, team, points, days in rows}


def test_team_month_totals_sum_the_people_on_the_board_and_count_their_days(
        db, defaults, make_user, make_team, now):
    red, blue = make_team("Red"), make_team("Blue")
    ann = make_user("agent", team=red, hire_date=date(2025, 1, 1))
    bob = make_user("agent", team=red, hire_date=date(2026, 3, 22))     # 10 days of March
    make_user("mentor", team=red, hire_date=date(2025, 1, 1))           # not on the boards
    cat = make_user("agent", team=blue, hire_date=date(2025, 1, 1))
    award_batch([_praise(ann.id, "a", MARCH_2), _praise(bob.id, "b", MARCH_2),
                 _praise(cat.id, "c", MARCH_2)], now=now)
    award(Award("qa.evaluation", ann.id, "q", "qa_evaluation", score=96,
                occurred_at=MARCH_2), now=now)
    db.session.commit()
    praise = db.session.scalar(select(PointRollup.points).where(
        PointRollup.user_id == cat.id, PointRollup.blade == "recognition"))
    ann_all = db.session.scalar(select(PointMonthTotal.points).where(
        PointMonthTotal.user_id == ann.id))
    assert praise > 0 and ann_all > praise
    assert _teams(db) == {
        ("2026-03", "all", red.id): (ann_all + praise, 31 + 10),
        ("2026-03", "recognition", red.id): (2 * praise, 41),
        ("2026-03", _other_blade(db, ann.id), red.id): (ann_all - praise, 41),
        ("2026-03", "all", blue.id): (praise, 31),
        ("2026-03", "recognition", blue.id): (praise, 31)}
    assert verify_rollups() == []

    # Bob moves to Blue: both teams are summed again, with their days
    update_user(bob.id, team_id=blue.id, actor_id=None, now=now)
    db.session.commit()
    teams = _teams(db)
    assert teams[("2026-03", "all", red.id)] == (ann_all, 31)
    assert teams[("2026-03", "recognition", blue.id)] == (2 * praise, 41)
    # a new agent in Red, without points: Red's days of agents grow
    make_user("agent", team=red, hire_date=date(2026, 3, 31))
    db.session.commit()
    assert _teams(db)[("2026-03", "all", red.id)] == (ann_all, 32)
    # Cat leaves on 15 March: Blue counts her for 15 days, her points still count
    deactivate_user(cat.id, leave_date=date(2026, 3, 15), actor_id=None, now=now)
    db.session.commit()
    assert _teams(db)[("2026-03", "all", blue.id)] == (2 * praise, 15 + 10)
    # Ann is no agent any more: off the board, and out of Red's totals
    update_user(ann.id, roles=["mentor"], actor_id=None, now=now)
    db.session.commit()
    assert ("2026-03", "all", red.id) not in _teams(db)
    assert verify_rollups() == []


def test_verify_reports_team_totals_changed_behind_the_services_back(
        db, defaults, make_user, make_team, now):
    red, agent = _praised_in_march(db, make_user, make_team, now)
    db.session.execute(text("UPDATE team_month_totals SET points = points + 1"
                            " WHERE blade = 'all'"))
    db.session.execute(text("UPDATE team_month_totals SET member_days = 1"
                            " WHERE blade = 'recognition'"))
    db.session.commit()
    found = {(d["user_id"], d["blade"]): (d["ledger"], d["rollup"]) for d in verify_rollups()}
    (all_should, all_kept) = found[(f"team {red.id}", "all team total")]
    assert all_kept[0] == all_should[0] + 1 and all_kept[2] == all_should[2] == 31
    (blade_should, blade_kept) = found[(f"team {red.id}", "recognition team total")]
    assert blade_should[2] == 31 and blade_kept[2] == 1
    assert len(found) == 2
