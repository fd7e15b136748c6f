"""Migrations: an empty database upgrades to head, the models match the migrations (no pending
autogenerate difference), and a downgrade to base followed by an upgrade works.

Runs on a temporary SQLite file, and on PostgreSQL when DATABASE_URL points at one — in a
scratch database of its own, so the suite's database (built by `create_all`) is left alone.
"""
from __future__ import annotations

import json
import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app import MIGRATIONS_DIR, create_app
from app.extensions import db
from tests.support.postgres import empty_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    with empty_database(request.param, tmp_path, "migrations") as url:
        yield url


@pytest.fixture()
def empty_app(empty_database_url):
    """An app bound to an empty database, inside its app context."""
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _table_names() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def _current_revision() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _pending_changes() -> list:
    """What `flask db migrate` would put into a new revision: must be nothing."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, db.metadata)


def _migrate(action, **kwargs) -> None:
    action(**kwargs)


def test_an_empty_database_upgrades_to_head_and_matches_the_models(empty_app):
    assert _table_names() == set()

    _migrate(upgrade)

    head = ScriptDirectory(MIGRATIONS_DIR).get_current_head()
    assert _current_revision() == head
    assert {t.name for t in db.metadata.sorted_tables} <= _table_names()
    assert _pending_changes() == []


def test_downgrading_to_base_and_upgrading_again_gives_the_same_schema(empty_app):
    _migrate(upgrade)
    _migrate(downgrade, revision="base")

    assert _table_names() <= {"alembic_version"}
    assert _current_revision() is None

    _migrate(upgrade)
    assert _pending_changes() == []


def test_the_month_totals_and_closed_places_are_filled_from_what_is_there(empty_app):
    """Revision 0004 adds the month totals and the places on closed months' centre boards:
    a database that has rollups and snapshots already gets them from those."""
    _migrate(upgrade, revision="0003")
    at = "2026-03-0{} 10:00:00.000000"
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO users (id, employee_number, name, is_active, hire_date, career_level,"
            " created_at, updated_at) VALUES (:id, :number, :name, true, '2025-01-01', 'agent',"
            " '2025-01-01 00:00:00', '2025-01-01 00:00:00')"),
            [{"id": 1, "number": "E1", "name": "Ann"}, {"id": 2, "number": "E2", "name": "Bo"}])
        conn.execute(text(
            "INSERT INTO point_rollups (user_id, period, blade, points, positive, negative,"
            " entries, last_changed_at) VALUES (:user, :period, :blade, :points, :points, 0, 1,"
            " :at)"),
            [{"user": 1, "period": "2026-03", "blade": "growth", "points": 20, "at": at.format(2)},
             {"user": 1, "period": "2026-03", "blade": "goal", "points": 5, "at": at.format(4)},
             {"user": 2, "period": "2026-03", "blade": "goal", "points": 30, "at": at.format(1)},
             {"user": 2, "period": "2026-02", "blade": "goal", "points": 7, "at": at.format(3)}])
        conn.execute(text(
            "INSERT INTO board_snapshots (period, board, rows, created_at) VALUES"
            " ('2026-02', 'individual:centre:all', :rows, '2026-03-20 00:00:00'),"
            " ('2026-02', 'individual:centre:goal', :rows, '2026-03-20 00:00:00')"),
            {"rows": '[[1, 1, 2, 7, "2026-03-03T10:00:00+00:00", false],'
                     ' [2, 2, 1, 0, null, false]]'})

    _migrate(upgrade, revision="0004")

    with db.engine.connect() as conn:
        totals = conn.execute(text(
            "SELECT user_id, period, points FROM point_month_totals ORDER BY user_id, period"))
        assert [tuple(row) for row in totals] == [
            (1, "2026-03", 25), (2, "2026-02", 7), (2, "2026-03", 30)]
        reached = conn.execute(text(
            "SELECT reached_at FROM point_month_totals WHERE user_id = 1")).scalar_one()
        assert str(reached).startswith("2026-03-04 10:00:00")
        places = conn.execute(text(
            "SELECT period, user_id, position FROM board_places ORDER BY position"))
        assert [tuple(row) for row in places] == [("2026-02", 2, 1), ("2026-02", 1, 2)]


def test_the_board_columns_are_filled_from_the_people(empty_app):
    """Revision 0011 keeps the agent role on the person and, on each month total and rollup,
    the person's team and whether they are on that month's boards: a database with people
    and points gets them from what is there."""
    _migrate(upgrade, revision="0010")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO teams (id, name, created_at) VALUES"
                          " (7, 'Red', '2025-01-01 00:00:00')"))
        conn.execute(text(
            "INSERT INTO users (id, employee_number, name, is_active, hire_date, leave_date,"
            " career_level, team_id, created_at, updated_at) VALUES (:id, :number, :name,"
            " true, :hired, :left, 'agent', :team, '2025-01-01 00:00:00',"
            " '2025-01-01 00:00:00')"),
            [{"id": 1, "number": "E1", "name": "Ann", "hired": "2026-03-10", "left": None,
              "team": 7},
             {"id": 2, "number": "E2", "name": "Bo", "hired": "2025-01-01",
              "left": "2026-02-28", "team": None},
             {"id": 3, "number": "E3", "name": "Cy", "hired": "2025-01-01", "left": None,
              "team": 7}])
        conn.execute(text("INSERT INTO user_roles (user_id, role) VALUES (:user, :role)"),
                     [{"user": 1, "role": "agent"}, {"user": 2, "role": "agent"},
                      {"user": 3, "role": "trainer"}])
        at = "2026-03-05 10:00:00.000000"
        for period in ("2026-02", "2026-03"):
            for user in (1, 2, 3):
                conn.execute(text(
                    "INSERT INTO point_rollups (user_id, period, blade, points, positive,"
                    " negative, entries, last_changed_at) VALUES (:user, :period, 'goal', 5,"
                    " 5, 0, 1, :at)"), {"user": user, "period": period, "at": at})
                conn.execute(text(
                    "INSERT INTO point_month_totals (user_id, period, points, reached_at)"
                    " VALUES (:user, :period, 5, :at)"),
                    {"user": user, "period": period, "at": at})

    _migrate(upgrade, revision="0011")

    with db.engine.connect() as conn:
        agents = conn.execute(text("SELECT id, is_agent FROM users ORDER BY id"))
        assert [(row[0], bool(row[1])) for row in agents] == [(1, True), (2, True), (3, False)]
        for table in ("point_month_totals", "point_rollups"):
            kept = conn.execute(text(
                f"SELECT user_id, period, team_id, ranked FROM {table}"
                " ORDER BY user_id, period"))
            assert [(*row[:3], bool(row[3])) for row in kept] == [
                (1, "2026-02", 7, False),     # hired in March
                (1, "2026-03", 7, True),
                (2, "2026-02", None, True),   # left on the last day of February
                (2, "2026-03", None, False),
                (3, "2026-02", 7, False),     # not an agent
                (3, "2026-03", 7, False)], table


def test_the_teams_month_totals_are_summed_from_the_people(empty_app):
    """Revision 0012 keeps each team's month totals: a database with people and points gets
    them summed from the people on the boards, with the teams' days of agents."""
    _migrate(upgrade, revision="0011")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO teams (id, name, created_at) VALUES"
                          " (7, 'Red', '2025-01-01 00:00:00'), (8, 'Blue', '2025-01-01 00:00:00')"))
        conn.execute(text(
            "INSERT INTO users (id, employee_number, name, is_active, hire_date, leave_date,"
            " career_level, team_id, is_agent, created_at, updated_at) VALUES (:id, :number,"
            " :name, true, :hired, :left, 'agent', :team, :agent, '2025-01-01 00:00:00',"
            " '2025-01-01 00:00:00')"),
            [{"id": 1, "number": "E1", "name": "Ann", "hired": "2026-03-22", "left": None,
              "team": 7, "agent": True},
             {"id": 2, "number": "E2", "name": "Bo", "hired": "2025-01-01",
              "left": "2026-03-05", "team": 7, "agent": True},
             {"id": 3, "number": "E3", "name": "Cy", "hired": "2025-01-01", "left": None,
              "team": 7, "agent": False},
             {"id": 4, "number": "E4", "name": "Di", "hired": "2025-01-01", "left": None,
              "team": 8, "agent": True}])
        rows = [(1, "2026-03", "goal", 5, "2026-03-25 10:00:00.000000", True),
                (2, "2026-03", "goal", 7, "2026-03-02 10:00:00.000000", True),
                (2, "2026-03", "honour", -3, "2026-03-03 10:00:00.000000", True),
                (3, "2026-03", "goal", 100, "2026-03-30 10:00:00.000000", False),
                (4, "2026-02", "goal", 9, "2026-02-02 10:00:00.000000", True)]
        for user, period, blade, points, at, ranked in rows:
            team = 8 if user == 4 else 7
            conn.execute(text(
                "INSERT INTO point_rollups (user_id, period, blade, points, positive,"
                " negative, entries, last_changed_at, team_id, ranked) VALUES (:user, :period,"
                " :blade, :points, 0, 0, 1, :at, :team, :ranked)"),
                {"user": user, "period": period, "blade": blade, "points": points, "at": at,
                 "team": team, "ranked": ranked})
        totals = {(1, "2026-03"): (5, "2026-03-25"), (2, "2026-03"): (4, "2026-03-03"),
                  (3, "2026-03"): (100, "2026-03-30"), (4, "2026-02"): (9, "2026-02-02")}
        for (user, period), (points, day) in totals.items():
            conn.execute(text(
                "INSERT INTO point_month_totals (user_id, period, points, reached_at, team_id,"
                " ranked) VALUES (:user, :period, :points, :at, :team, :ranked)"),
                {"user": user, "period": period, "points": points,
                 "at": f"{day} 10:00:00.000000", "team": 8 if user == 4 else 7,
                 "ranked": user != 3})

    _migrate(upgrade, revision="0012")

    with db.engine.connect() as conn:
        kept = conn.execute(text(
            "SELECT period, blade, team_id, points, reached_at, member_days"
            " FROM team_month_totals ORDER BY period, team_id, blade"))
        assert [(*row[:4], str(row[4])[:10], row[5]) for row in kept] == [
            ("2026-02", "all", 8, 9, "2026-02-02", 28),
            ("2026-02", "goal", 8, 9, "2026-02-02", 28),
            # Ann from the 22nd (10 days), Bo to the 5th (5 days); Cy is no agent
            ("2026-03", "all", 7, 9, "2026-03-25", 15),
            ("2026-03", "goal", 7, 12, "2026-03-25", 15),
            ("2026-03", "honour", 7, -3, "2026-03-03", 15)]

    _migrate(downgrade, revision="0011")
    with db.engine.connect() as conn:
        assert not inspect(conn).has_table("team_month_totals")


def test_the_bulk_tables_check_their_lists_without_in_and_keep_their_rows(empty_app):
    """Revision 0009 rewrites the IN-list checks of the ledger, its rollups and the QA
    evaluations as OR chains (SQLite checks an IN list slowly): the rows stay, the checks
    still refuse what they refused, and a downgrade gives the IN lists back."""
    _migrate(upgrade, revision="0008")
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO users (id, employee_number, name, is_active, hire_date, career_level,"
            " created_at, updated_at) VALUES (1, 'E1', 'Ann', true, '2025-01-01', 'agent',"
            " '2025-01-01 00:00:00', '2025-01-01 00:00:00')"))
        conn.execute(text(
            "INSERT INTO point_entries (user_id, points, blade, event, source_type,"
            " idempotency_key, occurred_at, recorded_at, period, status, details) VALUES"
            " (1, 5, 'goal', 'quiz.passed', 'quiz', 'k1', '2026-03-01 00:00:00',"
            " '2026-03-01 00:00:00', '2026-03', 'confirmed', '{}')"))

    _migrate(upgrade, revision="0009")

    def definition(table):
        with db.engine.connect() as conn:
            if db.engine.dialect.name == "sqlite":
                return conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"),
                                    {"t": table}).scalar_one()
            return " ".join(conn.execute(text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                "CAST(:t AS regclass) AND contype = 'c' ORDER BY conname"), {"t": table}
            ).scalars())

    for table in ("point_entries", "point_rollups", "qa_evaluations"):
        assert "blade IN" not in definition(table) and "status IN" not in definition(table)
        assert "= ANY" not in definition(table)
    assert re.search(r"blade\)?(::text)? = 'goal'(::text)?\)? OR", definition("point_entries"))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM point_entries")).scalar_one() == 1
    for column, value in (("blade", "nope"), ("status", "done")):
        row = {"blade": "goal", "status": "confirmed", column: value}
        with pytest.raises(Exception, match="(?i)check"), db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO point_entries (user_id, points, blade, event, source_type,"
                " idempotency_key, occurred_at, recorded_at, period, status, details) VALUES"
                " (1, 5, :blade, 'quiz.passed', 'quiz', 'k2', '2026-03-01 00:00:00',"
                " '2026-03-01 00:00:00', '2026-03', :status, '{}')"), row)

    _migrate(downgrade, revision="0008")
    assert not re.search(r"blade\)?(::text)? = 'goal'(::text)?\)? OR",
                         definition("point_entries"))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM point_entries")).scalar_one() == 1


def test_the_stored_boards_move_to_a_row_per_place_and_back(empty_app):
    """Revision 0010 stores a closed month's boards a row per place instead of a JSON list
    per board: the snapshots already stored are moved over, and a downgrade writes them
    back as they were."""
    _migrate(upgrade, revision="0009")
    people = ('[[1, 1, 2, 7, "2026-03-03T10:00:00+00:00", true],'
              ' [2, 1, 1, 7, "2026-03-04T11:30:00+00:00", true], [3, 3, 3, 0, null, false]]')
    teams = '[[1, 1, 5, 12.5, "2026-03-04T11:30:00+00:00", false]]'
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO board_snapshots (id, period, board, rows, created_at) VALUES"
            " (1, '2026-02', 'individual:centre:all', :people, '2026-03-20 00:00:00'),"
            " (2, '2026-02', 'team:centre:all', :teams, '2026-03-20 00:00:00'),"
            " (3, '2026-02', 'cohort:2026-02:all', '[]', '2026-03-20 00:00:00')"),
            {"people": people, "teams": teams})

    _migrate(upgrade, revision="0010")

    with db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT snapshot_id, position, rank, key, points, reached_at, is_tied"
            " FROM board_snapshot_rows ORDER BY snapshot_id, position")).all()
    assert [(s, p, r, k, v, bool(t)) for s, p, r, k, v, _at, t in rows] == [
        (1, 1, 1, 2, 7, True), (1, 2, 1, 1, 7, True), (1, 3, 3, 3, 0, False),
        (2, 1, 1, 5, 12.5, False)]
    assert str(rows[1][5]).startswith("2026-03-04 11:30:00") and rows[2][5] is None
    assert "rows" not in {c["name"] for c in inspect(db.engine).get_columns("board_snapshots")}

    _migrate(downgrade, revision="0009")

    with db.engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT id, rows FROM board_snapshots")).all())
    as_json = {key: json.loads(value) if isinstance(value, str) else value
               for key, value in stored.items()}
    assert as_json == {1: json.loads(people), 2: json.loads(teams), 3: []}
    assert "board_snapshot_rows" not in _table_names()
