"""Migrations: an empty database upgrades to head, the models match the migrations (no pending
autogenerate difference), and a downgrade to base followed by an upgrade works.

Runs on a temporary SQLite file, and on PostgreSQL when DATABASE_URL points at one — in a
scratch database of its own, so the suite's database (built by `create_all`) is left alone.
"""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

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
