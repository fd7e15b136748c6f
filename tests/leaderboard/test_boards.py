"""Boards from the rollups, month close and snapshots, through services and pages."""
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.incentives.models import ClosedPeriod, PointEntry
from app.incentives.services import Award, award, install_defaults, reverse_entry
from app.leaderboard.models import BoardSnapshot
from app.leaderboard.queries import (
    BoardPage,
    BoardSpec,
    compute_board,
    get_board,
    snapshot_part,
)
from app.leaderboard.services import MonthError, close_month, month_status

MARCH = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
APRIL_20 = datetime(2026, 4, 20, 3, 0, tzinfo=UTC)


@pytest.fixture()
def centre(db, make_user, make_team, now):
    install_defaults(now=now)
    red, blue = make_team("Red"), make_team("Blue")
    people = {
        "ann": make_user("agent", team=red, name="Ann", hire_date=date(2024, 1, 1)),
        "bo": make_user("agent", team=red, name="Bo", hire_date=date(2026, 3, 2)),
        "cy": make_user("agent", team=blue, name="Cy", hire_date=date(2025, 5, 5)),
        "di": make_user("agent", team=blue, name="Di", hire_date=date(2026, 3, 16)),
    }
    db.session.commit()
    return {"red": red, "blue": blue, **people}


def give(user, key, event="career.promotion", when=MARCH, recorded=None, **extra):
    return award(Award(event, user.id, key, "test", occurred_at=when, **extra),
                 now=recorded or when)


def test_the_individual_board_ranks_every_agent_of_the_month(db, centre):
    give(centre["cy"], "c1")                                   # 300
    give(centre["ann"], "a1", "quiz.passed", attempt=1)        # 20
    board = compute_board("2026-03", BoardSpec("individual"))
    assert [r.key for r in board][:2] == [centre["cy"].id, centre["ann"].id]
    assert len(board) == 4 and board[-1].points == 0


def test_the_cohort_board_holds_only_that_months_joiners(db, centre):
    board = compute_board("2026-03", BoardSpec("cohort", "2026-03"))
    assert {r.key for r in board} == {centre["bo"].id, centre["di"].id}


def test_a_blade_board_counts_only_that_blade(db, centre):
    give(centre["cy"], "c1")                                             # career
    give(centre["ann"], "a1", "customer_praise.verified")                # recognition
    board = compute_board("2026-03", BoardSpec("individual", "centre", "recognition"))
    assert board[0].key == centre["ann"].id and board[0].points == 30


def test_teams_are_ranked_by_points_per_prorated_member(db, centre):
    give(centre["ann"], "a1")      # Red: 300 over Ann (1) + Bo (30/31)
    give(centre["cy"], "c1")       # Blue: 300 over Cy (1) + Di (16/31)
    board = compute_board("2026-03", BoardSpec("team"))
    assert board[0].key == centre["blue"].id
    assert board[0].points == pytest.approx(300 / (1 + 16 / 31), abs=0.01)
    assert board[1].points == pytest.approx(300 / (1 + 30 / 31), abs=0.01)


def test_a_new_award_shows_on_the_cached_board_at_once(db, centre):
    spec = BoardSpec("individual")
    before = get_board("2026-03", spec)
    assert get_board("2026-03", spec) == before               # served from the cache
    give(centre["bo"], "b1")
    db.session.commit()
    assert get_board("2026-03", spec)[0].key == centre["bo"].id


def test_a_closed_month_keeps_its_snapshot(db, centre):
    give(centre["ann"], "a1")
    db.session.commit()
    assert month_status("2026-03", date(2026, 4, 3)) == "grace"
    with pytest.raises(MonthError):
        close_month("2026-03", actor_id=None, now=datetime(2026, 4, 3, 3, tzinfo=UTC))
    count = close_month("2026-03", actor_id=None, now=APRIL_20)
    db.session.commit()
    assert count == db.session.scalar(select(func.count()).select_from(BoardSnapshot))
    assert db.session.get(ClosedPeriod, "2026-03") is not None
    frozen = get_board("2026-03", BoardSpec("individual"))
    late = give(centre["bo"], "late", recorded=APRIL_20)        # a late result for March
    reverse_entry(late.entry.id, reason="test", actor_id=None, now=APRIL_20)
    give(centre["cy"], "c-late", recorded=APRIL_20)
    original = db.session.scalar(select(func.min(PointEntry.id)))
    reverse_entry(original, reason="correction after close", actor_id=None, now=APRIL_20)
    db.session.commit()
    assert late.entry.period == "2026-04"
    assert get_board("2026-03", BoardSpec("individual")) == frozen
    with pytest.raises(MonthError):
        close_month("2026-03", actor_id=None, now=APRIL_20)


def test_the_page_shows_my_position_and_gap(client, login_as, centre, db, make_user):
    me = login_as("agent", team=centre["red"], name="Me")
    give(centre["cy"], "c1", when=datetime.now(UTC))
    give(me, "m1", "quiz.passed", attempt=1, when=datetime.now(UTC))
    db.session.commit()
    page = client.get("/leaderboard/").get_data(as_text=True)
    assert "You are number 2 of 5, with 20 points." in page
    assert "281 more points to move up a place." in page
    assert "Cy" in page


def test_pseudonyms_hide_other_agents_from_agents(client, login_as, centre, db, app):
    app.config["LEADERBOARD_PSEUDONYMISE"] = True
    try:
        login_as("agent", team=centre["red"], name="Viewer")
        page = client.get("/leaderboard/").get_data(as_text=True)
        for other in ("Ann", "Bo", "Cy", "Di"):
            assert f">{other}<" not in page and f">{other} " not in page
        assert "Viewer" in page
    finally:
        app.config["LEADERBOARD_PSEUDONYMISE"] = False


def test_managers_see_names_even_when_pseudonymised(app, centre, make_user, db):
    app.config["LEADERBOARD_PSEUDONYMISE"] = True
    try:
        lead = make_user("team_lead", "agent")
        client = app.test_client()
        client.post("/login", data={"login": lead.employee_number, "password": "correct-horse-1"})
        page = client.get("/leaderboard/").get_data(as_text=True)
        assert "Ann" in page and "Cy" in page
    finally:
        app.config["LEADERBOARD_PSEUDONYMISE"] = False


def test_an_admin_closes_a_month_with_the_button_and_the_cli(client, login_as, centre, runner,
                                                             db):
    login_as("admin")
    response = client.post("/leaderboard/close/2026-02", follow_redirects=True)
    assert "2026-02 is closed" in response.get_data(as_text=True)
    result = runner.invoke(args=["leaderboard", "close", "2026-01"])
    assert result.exit_code == 0 and "2026-01 is closed" in result.output
    again = runner.invoke(args=["leaderboard", "close", "2026-01"])
    assert again.exit_code != 0 and "already closed" in again.output


@pytest.mark.parametrize("query", ["month=2026-13", "board=nope", "blade=nope",
                                   "board=cohort&cohort=1999-01"])
def test_bad_board_requests_are_refused(client, login_as, centre, query):
    login_as("agent")
    assert client.get(f"/leaderboard/?{query}").status_code == 400


def test_the_cached_page_shows_a_new_award_at_once(client, login_as, centre, db):
    me = login_as("agent", team=centre["red"], name="Me")
    give(centre["cy"], "c1", when=datetime.now(UTC))
    db.session.commit()
    assert "You are number 5 of 5, with 0 points." in client.get("/leaderboard/").get_data(
        as_text=True)
    give(me, "m1", when=datetime.now(UTC))       # 300, reached after Cy
    db.session.commit()
    page = client.get("/leaderboard/").get_data(as_text=True)
    assert "You are number 2 of 5, with 300 points." in page
    give(me, "m2", "quiz.passed", attempt=1, when=datetime.now(UTC))
    db.session.commit()
    assert "You are number 1 of 5, with 320 points." in client.get("/leaderboard/").get_data(
        as_text=True)


def test_a_closed_months_cohorts_are_those_of_its_stored_boards(db, centre, make_user, app):
    from app.extensions import cache
    from app.leaderboard.queries import cohorts_in
    close_month("2026-03", actor_id=None, now=APRIL_20)
    db.session.commit()
    assert cohorts_in("2026-03") == ["2026-03", "2025-05", "2024-01"]
    # someone recorded later as hired in March 2025 — a cohort without a board that month
    make_user("agent", name="Late", hire_date=date(2025, 3, 3))
    cache.clear()
    assert cohorts_in("2026-03") == ["2026-03", "2025-05", "2024-01"]
    assert "2025-03" in cohorts_in("2026-04")                 # an open month reads people


def test_the_team_filter_lists_every_team_and_selects_the_shown_one(client, login_as, centre,
                                                                    make_team):
    odd = make_team("R&D <night>")
    login_as("agent", team=centre["red"])
    page = client.get(f"/leaderboard/?team={centre['blue'].id}").get_data(as_text=True)
    assert f'<option value="{centre["blue"].id}" selected>Blue</option>' in page
    assert f'<option value="{centre["red"].id}">Red</option>' in page
    assert f'<option value="{odd.id}">R&amp;D &lt;night&gt;</option>' in page
    assert page.count(" selected>") == 2       # the board kind and the team


def test_a_snapshot_read_by_place_gives_the_rows_of_the_whole_board(db, centre):
    give(centre["cy"], "c1")                                   # 300
    give(centre["ann"], "a1", "quiz.passed", attempt=1)        # 20
    give(centre["bo"], "b1", "quiz.passed", attempt=1, when=datetime(2026, 3, 11, tzinfo=UTC))
    close_month("2026-03", actor_id=None, now=APRIL_20)
    db.session.commit()
    for spec in (BoardSpec("individual"), BoardSpec("cohort", "2026-03"),
                 BoardSpec("individual", blade="career")):
        whole = compute_board("2026-03", spec)
        assert get_board("2026-03", spec) == whole
        for key in [*whole.keys, -1]:
            for top, around in ((1, 1), (2, 0), (10, 3)):
                size, rows = snapshot_part("2026-03", spec, key, top=top, around=around)
                expected = {r.position: r for r in whole[:top] + whole.around(key, around)}
                assert size == len(whole)
                assert rows == [expected[p] for p in sorted(expected)]
                assert all(type(r.points) is int and type(r.tied) is bool for r in rows)


def test_a_closed_months_page_shows_what_the_board_at_the_close_showed(db, centre, now):
    give(centre["cy"], "c1")
    give(centre["ann"], "a1", "quiz.passed", attempt=1)
    give(centre["di"], "d1", "quiz.passed", attempt=1, when=datetime(2026, 3, 20, tzinfo=UTC))
    spec = BoardSpec("individual")
    naming = {"pseudonymise": False, "salt": "s", "locale": "en", "viewer_team_id": None}
    live = {key: BoardPage("2026-03", spec, viewer_id=key, **naming)
            for key in compute_board("2026-03", spec).keys}
    live = {key: (page.size, page.rows, page.mine, page.gap) for key, page in live.items()}
    close_month("2026-03", actor_id=None, now=APRIL_20)
    db.session.commit()
    for key, shown in live.items():
        page = BoardPage("2026-03", spec, viewer_id=key, **naming)
        assert (page.size, page.rows, page.mine, page.gap) == shown
    assert live[centre["ann"].id][3] == 281 and live[centre["cy"].id][3] is None
    assert snapshot_part("2026-04", spec, centre["ann"].id, top=10, around=3) is None
