"""PostgreSQL helpers for tests that need a database of their own beside the suite's."""
from __future__ import annotations

import os
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url


def postgres_url() -> str | None:
    """The suite's DATABASE_URL when it points at PostgreSQL, else None."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgresql:", "postgresql+", "postgres:")) else None


@contextmanager
def scratch_postgres_database(suffix: str, driver: str = "postgresql+psycopg"):
    """A new, empty database beside the suite's own; dropped afterwards. Yields its URL."""
    url = make_url(postgres_url())
    name = f"{url.database}_{suffix}"
    maintenance = url.set(drivername="postgresql").render_as_string(hide_password=False)

    def run(statement: str) -> None:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.SQL(statement).format(sql.Identifier(name)))

    run("DROP DATABASE IF EXISTS {} WITH (FORCE)")
    run("CREATE DATABASE {}")
    try:
        yield url.set(drivername=driver, database=name).render_as_string(hide_password=False)
    finally:
        run("DROP DATABASE IF EXISTS {} WITH (FORCE)")


@contextmanager
def empty_database(kind: str, tmp_path, name: str):
    """An empty database of the given kind for one test: a SQLite file in `tmp_path`, or a
    scratch PostgreSQL database beside the suite's (the test is skipped without one)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'{name}.db'}"
        return
    if postgres_url() is None:
        pytest.skip(f"{name} on PostgreSQL: DATABASE_URL does not point at PostgreSQL")
    with scratch_postgres_database(name) as url:
        yield url
