"""Shared fixtures: `app`, `db` (a clean database per test), `client`, `runner`, `now`,
factories (`make_user`, `make_team`) and `login_as(role)`.

The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL is set.
"""
from __future__ import annotations

import contextvars
import itertools
from datetime import date, datetime, timezone

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.auth.roles import CareerLevel, Role
from app.auth.services import create_team, create_user
from app.extensions import cache, limiter
from app.extensions import db as _db

PASSWORD = "correct-horse-1"
FIXED_NOW = datetime(2026, 3, 15, 2, 30, tzinfo=timezone.utc)  # 10:30 in Shanghai


class IsolatedClient(FlaskClient):
    """Each request runs in its own application context, as in production.

    The tests hold an app context open (for services and factories); without this, a request
    would reuse it and share `g` (the signed-in user) and the database session with the test
    and with other clients.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app():
    app = create_app("testing")
    app.test_client_class = IsolatedClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        yield app
        _db.session.remove()
        _db.drop_all()


def _wipe(session) -> None:
    tables = list(reversed(_db.metadata.sorted_tables))
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        names = ", ".join(t.name for t in tables)
        session.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
        session.commit()
    else:
        # the ledger's append-only triggers refuse deletes: build the schema anew
        session.commit()
        session.close()
        with _db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            _db.metadata.drop_all(connection)
            _db.metadata.create_all(connection)
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


@pytest.fixture()
def db(app):
    """The database, empty at the start of the test and wiped after it."""
    yield _db
    _db.session.rollback()
    _wipe(_db.session)
    _db.session.remove()
    limiter.reset()
    cache.clear()


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture()
def now():
    return FIXED_NOW


_numbers = itertools.count(1)


@pytest.fixture()
def make_team(db, now):
    def make(name: str | None = None, lead=None):
        team = create_team(name or f"Team {next(_numbers)}", lead_id=lead.id if lead else None,
                           actor_id=None, now=now)
        db.session.commit()
        return team

    return make


@pytest.fixture()
def make_user(db, now):
    def make(*roles: Role | str, team=None, password: str | None = PASSWORD, name=None,
             employee_number: str | None = None, email: str | None = None,
             hire_date: date = date(2025, 6, 1), level: str = CareerLevel.AGENT.value):
        n = next(_numbers)
        user = create_user(
            employee_number=employee_number or f"E{n:05d}", name=name or f"Person {n}",
            email=email, password=password, hire_date=hire_date, career_level=level,
            team_id=team.id if team else None, roles=[str(r) for r in (roles or (Role.AGENT,))],
            actor_id=None, now=now,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture()
def login_as(client, make_user):
    """Sign the test client in through the real sign-in form; returns the user."""

    def login(role_or_user=Role.AGENT, **kwargs):
        user = role_or_user if hasattr(role_or_user, "id") else make_user(role_or_user, **kwargs)
        response = client.post("/login", data={"login": user.employee_number,
                                               "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return login
