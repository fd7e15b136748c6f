"""Migrations: an empty database upgrades to head, the models match the migrations (no pending
autogenerate difference), and a downgrade to base followed by an upgrade works.

Runs on a temporary SQLite file, and on PostgreSQL when DATABASE_URL points at one — in a
scratch database of its own, so the suite's database (built by `create_all`) is left alone.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from psycopg import sql
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from app import MIGRATIONS_DIR, create_app
from app.extensions import db


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgresql:", "postgresql+", "postgres:")) else None


@contextmanager
def scratch_postgres_database(suffix: str):
    """A new, empty database beside the suite's own; dropped afterwards. Yields its URL."""
    url = make_url(_postgres_url())
    name = f"{url.database}_{suffix}"
    maintenance = url.set(drivername="postgresql").render_as_string(hide_password=False)

    def run(statement: str) -> None:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.SQL(statement).format(sql.Identifier(name)))

    run("DROP DATABASE IF EXISTS {} WITH (FORCE)")
    run("CREATE DATABASE {}")
    try:
        yield url.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False)
    finally:
        run("DROP DATABASE IF EXISTS {} WITH (FORCE)")


@contextmanager
def logging_left_alone():
    """Alembic's env.py calls `logging.config.fileConfig()`, which disables every logger that
    exists already and replaces the root handlers; put things back for the rest of the suite."""
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    loggers = {name: logger for name, logger in logging.Logger.manager.loggerDict.items()
               if isinstance(logger, logging.Logger)}
    disabled = {name: logger.disabled for name, logger in loggers.items()}
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
        for name, logger in logging.Logger.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.disabled = disabled.get(name, False)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    if _postgres_url() is None:
        pytest.skip("PostgreSQL migration test: DATABASE_URL does not point at PostgreSQL")
    with scratch_postgres_database("migr") as url:
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
    with logging_left_alone():
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
