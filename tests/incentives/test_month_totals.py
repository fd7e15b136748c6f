"""The month totals (all blades, per person and month) kept beside the rollups: by awards,
batches, confirmations and reversals; checked by `verify_rollups`; and the fast writing path
they share with the rollups."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select

from app.database import UTCDateTime, _converter, _utc_text
from app.incentives.models import ClosedPeriod, PointMonthTotal, PointRollup
from app.incentives.services import (
    Award,
    award,
    award_batch,
    confirm_entry,
    reverse_entry,
    verify_rollups,
)

MARCH_2 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _total(db, user_id, period):
    row = db.session.get(PointMonthTotal, (user_id, period))
    return None if row is None else (row.points, row.reached_at)


def _rollups_say(db, user_id, period):
    """(the sum of the month's rollups, the latest time one of them changed)."""
    return tuple(db.session.execute(
        select(func.sum(PointRollup.points), func.max(PointRollup.last_changed_at))
        .where(PointRollup.user_id == user_id, PointRollup.period == period)).one())


def test_awards_of_every_blade_add_up_in_the_month_total(db, defaults, make_user, now):
    agent = make_user("agent")
    award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1,
                occurred_at=MARCH_2), now=now)                                    # growth 20
    award(Award("customer_praise.verified", agent.id, "p", "praise"), now=now)  # recognition 30
    db.session.commit()
    assert _total(db, agent.id, "2026-03") == (50, now)
    assert _total(db, agent.id, "2026-03") == _rollups_say(db, agent.id, "2026-03")
    assert verify_rollups() == []


def test_a_batch_keeps_the_totals_of_each_person_and_month(db, defaults, make_user, now):
    ann, bo = make_user("agent"), make_user("agent")
    february = datetime(2026, 2, 20, 3, 0, tzinfo=UTC)
    result = award_batch([
        Award("scenario.stage_completed", ann.id, "s1", "scenario_stage", occurred_at=february),
        Award("scenario.stage_completed", ann.id, "s2", "scenario_stage", occurred_at=MARCH_2),
        Award("qa.evaluation", ann.id, "qa1", "qa_evaluation", score=96,
              occurred_at=MARCH_2 + timedelta(hours=1)),
        Award("scenario.stage_completed", bo.id, "s3", "scenario_stage", occurred_at=MARCH_2),
        Award("scenario.stage_completed", bo.id, "s3", "scenario_stage", occurred_at=MARCH_2),
    ], now=now)
    db.session.commit()
    assert result.created == 4 and result.duplicates == 1
    assert _total(db, ann.id, "2026-02") == (15, february)
    assert _total(db, ann.id, "2026-03") == (35, MARCH_2 + timedelta(hours=1))
    assert _total(db, bo.id, "2026-03") == (15, MARCH_2)
    assert verify_rollups() == []


def test_a_pending_entry_counts_in_the_total_once_confirmed(db, defaults, make_user, now):
    agent = make_user("agent")
    entry = award(Award("customer_praise.verified", agent.id, "p", "praise", pending=True,
                        occurred_at=MARCH_2), now=MARCH_2).entry
    assert _total(db, agent.id, "2026-03") is None
    confirm_entry(entry.id, now=now)
    db.session.commit()
    assert _total(db, agent.id, "2026-03") == (30, now)
    assert verify_rollups() == []


def test_a_late_confirmation_counts_in_the_current_month(db, defaults, make_user, now):
    agent = make_user("agent")
    february = datetime(2026, 2, 10, 3, 0, tzinfo=UTC)
    entry = award(Award("customer_praise.verified", agent.id, "p", "praise", pending=True,
                        occurred_at=february), now=february).entry
    db.session.add(ClosedPeriod(period="2026-02", closed_at=now))
    db.session.flush()
    confirm_entry(entry.id, now=now)
    db.session.commit()
    assert _total(db, agent.id, "2026-02") is None
    assert _total(db, agent.id, "2026-03") == (30, now)
    assert verify_rollups() == []


def test_a_reversal_takes_the_points_out_of_the_total(db, defaults, make_user, now):
    agent = make_user("agent")
    entry = award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1,
                        occurred_at=MARCH_2), now=MARCH_2).entry
    award(Award("quiz.passed", agent.id, "q2", "quiz_attempt", attempt=1,
                occurred_at=MARCH_2), now=MARCH_2)
    reverse_entry(entry.id, reason="graded twice", actor_id=None, now=now)
    db.session.commit()
    # what is left, reached when the reversal changed it
    assert _total(db, agent.id, "2026-03") == (20, now)
    assert verify_rollups() == []


def test_verify_reports_a_month_total_that_drifted(db, defaults, make_user, now):
    agent = make_user("agent")
    award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1), now=now)
    db.session.get(PointMonthTotal, (agent.id, "2026-03")).points = 25
    db.session.flush()
    [difference] = verify_rollups()
    assert difference == {"user_id": agent.id, "period": "2026-03", "blade": "all",
                          "ledger": 20, "rollup": 25}


def test_verify_reports_a_month_total_with_the_wrong_time(db, defaults, make_user, now):
    agent = make_user("agent")
    award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1), now=now)
    db.session.get(PointMonthTotal, (agent.id, "2026-03")).reached_at = now - timedelta(days=1)
    db.session.flush()
    [difference] = verify_rollups()
    assert difference["blade"] == "all" and difference["ledger"] == now


def test_verify_reports_a_missing_month_total(db, defaults, make_user, now):
    agent = make_user("agent")
    award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1), now=now)
    db.session.delete(db.session.get(PointMonthTotal, (agent.id, "2026-03")))
    db.session.flush()
    [difference] = verify_rollups()
    assert (difference["period"], difference["ledger"], difference["rollup"]) == (
        "2026-03", 20, 0)


def test_times_are_written_as_the_database_type_writes_them(db):
    """The ledger's own conversion of times (on SQLite: no per-value formatting) gives what
    the column type gives, for any zone and with or without microseconds."""
    dialect = db.session.connection().dialect
    column_type = UTCDateTime()
    by_the_type = column_type.dialect_impl(dialect).bind_processor(dialect)
    by_the_ledger = _converter(column_type, dialect)
    for moment in (datetime(2026, 3, 31, 16, 0, tzinfo=UTC),
                   datetime(2026, 4, 1, 0, 30, 5, 7, tzinfo=timezone(timedelta(hours=8))),
                   datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)):
        if by_the_type is None:   # the driver takes the time as it is
            assert by_the_ledger is None
        else:
            assert by_the_ledger(moment) == by_the_type(moment)
        if dialect.name == "sqlite":
            assert by_the_ledger is _utc_text
