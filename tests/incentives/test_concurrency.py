"""Concurrency: when requests race, the database keeps the ledger right, not luck.

Threads (each with its own application context, session and connection) and processes award,
confirm and spend at the same moment — released together by a barrier — against a database
of their own: a SQLite *file* (the suite's in-memory database has a single connection), and
a scratch PostgreSQL database when DATABASE_URL points at PostgreSQL. The schema comes from
the migrations, as in production.

SQLite lets one writer in at a time and makes the others wait (busy_timeout); a writer that
still finds the database locked retries its whole unit of work, as a client would retry a
failed request. On PostgreSQL no retry may be needed: the unique key, the row locks of the
upserts and the guarded UPDATEs decide.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from app import create_app
from app.auth.services import create_user
from app.extensions import db
from app.incentives.models import PointBalance, PointEntry, PointRollup
from app.incentives.services import (
    Award,
    LedgerError,
    award,
    confirm_entry,
    install_defaults,
    reverse_entry,
    verify_rollups,
)
from tests.support.postgres import empty_database

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 15, 2, 30, tzinfo=UTC)
THREADS = 8
PROCESSES = 4
QUIZ_POINTS = 20          # quiz.passed, first attempt, under the default rules
PRAISE_POINTS = 30        # customer_praise.verified


@dataclass
class Centre:
    app: Flask
    url: str
    agent_id: int

    @property
    def dialect(self) -> str:
        return "postgresql" if self.url.startswith("postgresql") else "sqlite"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    with empty_database(request.param, tmp_path, "concurrency") as url:
        yield url


@pytest.fixture()
def centre(database_url):
    """An app on a database of its own, upgraded by the migrations, with the default rules
    and one agent; the test runs inside its app context."""
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade()
        install_defaults(now=NOW)
        agent = create_user(employee_number="C0001", name="Racing Agent",
                            hire_date=date(2025, 6, 1), actor_id=None, now=NOW)
        db.session.commit()
        yield Centre(app, database_url, agent.id)
        db.session.remove()
        db.engine.dispose()


# --- helpers ----------------------------------------------------------------------------

def committed(unit):
    """Run a unit of work and commit it; when SQLite still finds the database locked, roll
    back and run it again. Returns (what the unit returned, how many retries it took)."""
    for retry in range(100):
        try:
            result = unit()
            db.session.commit()
            return result, retry
        except OperationalError as error:
            db.session.rollback()
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            time.sleep(0.005 * (retry + 1))
    raise AssertionError("the database stayed locked")


def race(app: Flask, workers: int, work) -> list:
    """Run `work(i)` in `workers` threads released at the same moment, each in its own app
    context (so its own session and connection). Returns what each returned or raised."""
    barrier = threading.Barrier(workers)
    outcomes: list = [None] * workers

    def run(i: int) -> None:
        with app.app_context():
            try:
                db.session.execute(text("SELECT 1"))   # connect before the start
                db.session.rollback()
                barrier.wait(timeout=30)
                outcomes[i] = work(i)
            except Exception as error:  # noqa: BLE001 - the test judges what each raised
                outcomes[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return outcomes


def no_errors(outcomes: list) -> list:
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert not errors, errors
    return outcomes


def entries_with_key(key: str) -> int:
    return db.session.scalar(select(func.count()).select_from(PointEntry)
                             .where(PointEntry.idempotency_key == key))


def assert_counts_once(centre: Centre, points: int) -> None:
    """The agent's rollup, earned total and balance show the points exactly once."""
    db.session.expire_all()
    rollup = db.session.scalar(select(func.sum(PointRollup.points))
                               .where(PointRollup.user_id == centre.agent_id))
    balance = db.session.get(PointBalance, centre.agent_id)
    assert (rollup, balance.earned, balance.balance, balance.spent) == (points, points,
                                                                        points, 0)
    assert verify_rollups() == []


def quiz(centre: Centre, key: str) -> Award:
    return Award("quiz.passed", centre.agent_id, key, "quiz_attempt", key, attempt=1)


# --- the same idempotency key at once --------------------------------------------------

def test_many_threads_with_the_same_key_yield_one_entry(centre):
    def work(_i):
        result, retries = committed(lambda: award(quiz(centre, "quiz:race"), now=NOW))
        return result.created, result.skipped, result.entry.id, retries

    outcomes = no_errors(race(centre.app, THREADS, work))
    assert sum(created for created, _skipped, _entry, _retries in outcomes) == 1
    assert {skipped for created, skipped, _entry, _retries in outcomes
            if not created} == {"duplicate"}
    assert len({entry for _created, _skipped, entry, _retries in outcomes}) == 1
    if centre.dialect == "postgresql":
        assert all(retries == 0 for _created, _skipped, _entry, retries in outcomes)
    assert entries_with_key("quiz:race") == 1
    assert_counts_once(centre, QUIZ_POINTS)


# Run by each process of the test below: awards the key once the parent says go, prints JSON.
_PROCESS_WORKER = """
import json, sys, time
from datetime import datetime
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from app import create_app
from app.extensions import db
from app.incentives.services import Award, award

url, agent_id, key, now = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": url})
with app.app_context():
    db.session.execute(text("SELECT 1"))
    db.session.rollback()
    print("ready", flush=True)
    sys.stdin.readline()
    for retry in range(100):
        try:
            result = award(Award("quiz.passed", agent_id, key, "quiz_attempt", key, attempt=1),
                           now=datetime.fromisoformat(now))
            db.session.commit()
            break
        except OperationalError as error:
            db.session.rollback()
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            time.sleep(0.005 * (retry + 1))
    print(json.dumps({"created": result.created, "skipped": result.skipped,
                      "entry": result.entry.id, "retries": retry}), flush=True)
"""


def test_many_processes_with_the_same_key_yield_one_entry(centre):
    processes = [
        subprocess.Popen([sys.executable, "-c", _PROCESS_WORKER, centre.url,
                          str(centre.agent_id), "quiz:processes", NOW.isoformat()],
                         cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)]
    try:
        for process in processes:   # all connected and waiting
            line = process.stdout.readline()
            assert line.strip() == "ready", process.stderr.read()
        for process in processes:   # go
            process.stdin.write("go\n")
            process.stdin.flush()
        reports = []
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert sum(report["created"] for report in reports) == 1
    assert {report["skipped"] for report in reports if not report["created"]} <= {"duplicate"}
    assert len({report["entry"] for report in reports}) == 1
    if centre.dialect == "postgresql":
        assert all(report["retries"] == 0 for report in reports)
    assert entries_with_key("quiz:processes") == 1
    assert_counts_once(centre, QUIZ_POINTS)


# --- many awards for one person at once ------------------------------------------------

def test_racing_awards_for_one_person_all_count_in_the_rollup_and_the_balance(centre):
    per_thread = 5

    def work(i):
        for n in range(per_thread):
            committed(lambda n=n: award(quiz(centre, f"quiz:{i}:{n}"), now=NOW))

    no_errors(race(centre.app, THREADS, work))
    assert db.session.scalar(select(func.count()).select_from(PointEntry)) == THREADS * per_thread
    assert_counts_once(centre, THREADS * per_thread * QUIZ_POINTS)


# --- confirming and rejecting a pending entry at once -----------------------------------

def _pending_praise(centre: Centre) -> int:
    entry = award(Award("customer_praise.verified", centre.agent_id, "praise:race", "praise",
                        pending=True), now=NOW).entry
    db.session.commit()
    return entry.id


def _refused(outcome) -> bool:
    """The ledger said no: by then the entry was no longer pending."""
    return isinstance(outcome, LedgerError)


def test_a_pending_entry_confirmed_twice_at_once_counts_once(centre):
    entry_id = _pending_praise(centre)

    def work(_i):
        committed(lambda: confirm_entry(entry_id, now=NOW))
        return "confirmed"

    outcomes = race(centre.app, THREADS, work)
    assert outcomes.count("confirmed") == 1, outcomes
    assert all(_refused(o) for o in outcomes if o != "confirmed"), outcomes
    assert db.session.get(PointEntry, entry_id).status == "confirmed"
    assert_counts_once(centre, PRAISE_POINTS)


def test_a_pending_entry_confirmed_and_rejected_at_once_ends_consistent(centre):
    entry_id = _pending_praise(centre)

    def work(i):
        if i == 0:
            return committed(lambda: confirm_entry(entry_id, now=NOW))
        return committed(lambda: reverse_entry(entry_id, reason="not verified", actor_id=None,
                                               now=NOW))

    outcomes = race(centre.app, 2, work)
    assert all(not isinstance(o, BaseException) or _refused(o) for o in outcomes), outcomes
    db.session.expire_all()
    entry = db.session.get(PointEntry, entry_id)
    reversals = db.session.scalar(select(func.count()).select_from(PointEntry)
                                  .where(PointEntry.reverses_id == entry_id))
    # whoever came first, the ledger and the rollups agree
    assert verify_rollups() == []
    earned = db.session.get(PointBalance, centre.agent_id)
    if entry.status == "confirmed":
        assert reversals == 0 and earned.earned == PRAISE_POINTS
    else:
        assert entry.status == "reversed"
        assert (earned.earned if earned else 0) == 0


# --- spending a balance that covers one redemption ------------------------------------

SPEND = text("UPDATE point_balances SET balance = balance - :cost, spent = spent + :cost "
             "WHERE user_id = :user_id AND balance >= :cost")


def test_two_racing_redemptions_on_one_balance_only_one_is_paid(centre):
    for n in range(2):   # 40 points: enough for one redemption of 30, not for two
        award(quiz(centre, f"quiz:spend:{n}"), now=NOW)
    db.session.commit()

    def work(_i):
        result, _retries = committed(lambda: db.session.execute(
            SPEND, {"cost": 30, "user_id": centre.agent_id}).rowcount)
        return result

    outcomes = no_errors(race(centre.app, 2, work))
    assert sorted(outcomes) == [0, 1]
    db.session.expire_all()
    balance = db.session.get(PointBalance, centre.agent_id)
    assert (balance.earned, balance.spent, balance.balance) == (40, 30, 10)


def test_the_database_refuses_a_negative_balance(centre):
    award(quiz(centre, "quiz:check"), now=NOW)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE point_balances SET balance = balance - :cost, "
                                "spent = spent + :cost WHERE user_id = :user_id"),
                           {"cost": QUIZ_POINTS + 1, "user_id": centre.agent_id})
        db.session.flush()
    db.session.rollback()
    assert db.session.get(PointBalance, centre.agent_id).balance == QUIZ_POINTS
