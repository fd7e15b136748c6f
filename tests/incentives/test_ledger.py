"""The ledger through its services: awards, idempotency, caps, reversals, rollups."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.centre.periods import centre_tz, periods_of
from app.database import driver_times
from app.incentives import ledger
from app.incentives.ledger import closed_periods
from app.incentives.models import ClosedPeriod, PointBalance, PointEntry, PointRollup, Rule
from app.incentives.services import (
    Award,
    LedgerError,
    award,
    award_batch,
    confirm_entry,
    reverse_entry,
    verify_rollups,
)
from app.notifications.models import Notification


def _rollup(db, user_id, period, blade):
    return db.session.get(PointRollup, (user_id, period, blade))


def test_an_award_writes_the_entry_its_rollup_and_the_balance(db, defaults, make_user, now):
    agent = make_user("agent")
    result = award(Award("quiz.passed", agent.id, "quiz:1", "quiz_attempt", "1", attempt=1),
                   now=now)
    db.session.commit()
    assert result.created and result.entry.points == 20 and result.entry.blade == "growth"
    assert result.entry.period == "2026-03" and result.entry.rule_version == 1
    assert _rollup(db, agent.id, "2026-03", "growth").points == 20
    balance = db.session.get(PointBalance, agent.id)
    assert (balance.earned, balance.balance, balance.spent) == (20, 20, 0)


def test_the_same_key_twice_yields_one_entry(db, defaults, make_user, now):
    agent = make_user("agent")
    first = award(Award("quiz.passed", agent.id, "k", "quiz_attempt", attempt=1), now=now)
    again = award(Award("quiz.passed", agent.id, "k", "quiz_attempt", attempt=1), now=now)
    assert first.created and not again.created and again.skipped == "duplicate"
    assert again.entry.id == first.entry.id
    assert db.session.scalar(select(func.count()).select_from(PointEntry)) == 1
    assert _rollup(db, agent.id, "2026-03", "growth").points == 20


def test_later_attempts_earn_less(db, defaults, make_user, now):
    agent = make_user("agent")
    points = [award(Award("quiz.passed", agent.id, f"q{n}", "quiz_attempt", attempt=n),
                    now=now).entry.points for n in (1, 2, 3)]
    assert points == [20, 10, 5]


def test_the_month_is_the_centres_month(db, defaults, make_user, now):
    agent = make_user("agent")
    late_night = datetime(2026, 3, 31, 17, 0, tzinfo=timezone.utc)   # 1 April 01:00 Shanghai
    entry = award(Award("quiz.passed", agent.id, "x", "quiz_attempt", occurred_at=late_night,
                        attempt=1), now=now).entry
    assert entry.period == "2026-04"


def test_caps_per_day_and_month(db, defaults, make_user, now):
    agent = make_user("agent")
    first = award(Award("kbi.checklist_completed", agent.id, "d1", "kbi"), now=now)
    second = award(Award("kbi.checklist_completed", agent.id, "d2", "kbi"), now=now)
    tomorrow = award(Award("kbi.checklist_completed", agent.id, "d3", "kbi",
                           occurred_at=now + timedelta(days=1)), now=now)
    assert first.created and second.skipped == "daily_cap" and tomorrow.created
    star = [award(Award("service_star.won", agent.id, f"s{n}", "service_star"), now=now)
            for n in (1, 2)]
    assert star[0].created and star[1].skipped == "monthly_cap"


def test_a_switched_off_rule_awards_nothing(db, defaults, make_user, now):
    agent = make_user("agent")
    db.session.scalar(select(Rule).where(Rule.event == "quiz.passed")).is_active = False
    assert award(Award("quiz.passed", agent.id, "q", "quiz_attempt"), now=now).skipped == "rule_off"
    assert award(Award("no.such", agent.id, "n", "x"), now=now).skipped == "no_rule"


def test_negative_points_are_bounded_by_the_months_positive(db, defaults, make_user, now, app):
    agent = make_user("agent")
    assert award(Award("violation.deduction", agent.id, "v0", "violation"),
                 now=now).skipped == "negative_cap"
    award(Award("promotion", agent.id, "p", "x"), now=now)            # unknown: nothing
    award(Award("career.promotion", agent.id, "p1", "promotion"), now=now)   # +300
    first = award(Award("violation.deduction", agent.id, "v1", "violation"), now=now)
    second = award(Award("violation.deduction", agent.id, "v2", "violation"), now=now)
    assert first.entry.points == -50 and second.entry.points == -10   # 20 % of 300 = 60
    assert award(Award("violation.deduction", agent.id, "v3", "violation"),
                 now=now).skipped == "negative_cap"


def test_pending_entries_count_only_once_confirmed(db, defaults, make_user, now):
    agent = make_user("agent")
    entry = award(Award("customer_praise.verified", agent.id, "praise:1", "praise",
                        pending=True), now=now).entry
    assert entry.status == "pending" and _rollup(db, agent.id, "2026-03", "recognition") is None
    confirm_entry(entry.id, now=now)
    assert _rollup(db, agent.id, "2026-03", "recognition").points == 30
    with pytest.raises(LedgerError):
        confirm_entry(entry.id, now=now)


def test_a_reversal_is_a_new_entry_and_the_original_stays(db, defaults, make_user, now):
    agent = make_user("agent")
    lead = make_user("team_lead")
    entry = award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1), now=now).entry
    reversal = reverse_entry(entry.id, reason="graded twice", actor_id=lead.id, now=now)
    db.session.commit()
    assert reversal.points == -20 and reversal.reverses_id == entry.id
    assert entry.points == 20 and entry.status == "reversed"
    assert _rollup(db, agent.id, "2026-03", "growth").points == 0
    assert db.session.get(PointBalance, agent.id).earned == 0
    with pytest.raises(LedgerError):
        reverse_entry(entry.id, reason="again", actor_id=lead.id, now=now)
    with pytest.raises(LedgerError):
        reverse_entry(reversal.id, reason="undo", actor_id=lead.id, now=now)
    assert verify_rollups() == []


def test_corrections_never_land_in_a_closed_month(db, defaults, make_user, now):
    agent = make_user("agent")
    february = datetime(2026, 2, 10, 3, 0, tzinfo=timezone.utc)
    entry = award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1,
                        occurred_at=february), now=february).entry
    db.session.add(ClosedPeriod(period="2026-02", closed_at=now))
    db.session.flush()
    assert closed_periods() == {"2026-02"}
    reversal = reverse_entry(entry.id, reason="wrong agent", actor_id=None, now=now)
    late = award(Award("quiz.passed", agent.id, "late", "quiz_attempt", attempt=1,
                       occurred_at=february), now=now).entry
    assert reversal.period == "2026-03" and late.period == "2026-03"
    assert _rollup(db, agent.id, "2026-02", "growth").points == 20


def test_the_database_refuses_to_change_or_delete_entries(db, defaults, make_user, now):
    agent = make_user("agent")
    entry = award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1), now=now).entry
    db.session.commit()
    for statement in (f"UPDATE point_entries SET points = 999 WHERE id = {entry.id}",
                      f"DELETE FROM point_entries WHERE id = {entry.id}",
                      f"UPDATE point_entries SET status = 'pending' WHERE id = {entry.id}"):
        with pytest.raises(DBAPIError):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.get(PointEntry, entry.id).points == 20


def test_a_balance_cannot_go_negative_in_the_database(db, defaults, make_user, now):
    agent = make_user("agent")
    award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1), now=now)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text(f"UPDATE point_balances SET balance = balance - 21 "
                                f"WHERE user_id = {agent.id}"))
    db.session.rollback()


def test_a_batch_writes_the_same_as_single_awards(db, defaults, make_user, now):
    agents = [make_user("agent") for _ in range(3)]
    awards = [Award("qa.evaluation", a.id, f"qa:{a.id}:{n}", "qa_evaluation", score=s)
              for a in agents for n, s in enumerate((96, 91, 85, 70))]
    awards.append(awards[0])                                   # a repeat in the batch
    result = award_batch(awards, now=now)
    again = award_batch(awards, now=now)
    db.session.commit()
    assert result.created == 9 and result.skipped["no_points"] == 3 and result.duplicates == 1
    assert again.created == 0
    for agent in agents:
        assert _rollup(db, agent.id, "2026-03", "goal").points == 35
    assert verify_rollups() == []


def test_a_batch_over_keys_written_before_writes_only_the_new_ones(db, defaults, make_user,
                                                                   now):
    """Entries whose keys are in the ledger already are counted as duplicates, and only what
    the batch wrote reaches the rollups (on SQLite the batch finds them by id, not RETURNING)."""
    agent, other = make_user("agent"), make_user("agent")
    award(Award("quiz.passed", agent.id, "quiz:1", "quiz_attempt", attempt=1), now=now)
    db.session.commit()
    awards = [Award("quiz.passed", agent.id, "quiz:1", "quiz_attempt", attempt=1),
              Award("quiz.passed", other.id, "quiz:2", "quiz_attempt", attempt=1),
              Award("qa.evaluation", agent.id, "qa:7:0", "qa_evaluation", score=96)]
    result = award_batch(awards, now=now)
    db.session.commit()
    assert (result.created, result.duplicates) == (2, 1)
    assert db.session.scalar(select(func.count()).select_from(PointEntry)) == 3
    assert _rollup(db, agent.id, "2026-03", "growth").points == 20
    assert _rollup(db, other.id, "2026-03", "growth").points == 20
    assert verify_rollups() == []


def test_a_batch_puts_each_entry_in_the_centres_month(db, defaults, make_user, now):
    """Around a month's start in the centre's zone (UTC+8): 15:59 UTC on the last day is
    still that month, 16:00 UTC is the next one."""
    agent = make_user("agent")
    edge = datetime(2026, 2, 28, 16, 0, tzinfo=timezone.utc)
    awards = [Award("qa.evaluation", agent.id, f"qa:{n}:0", "qa_evaluation", score=96,
                    occurred_at=edge + timedelta(seconds=offset))
              for n, offset in enumerate((-3600, -1, 0, 1, 899, 900))]
    award_batch(awards, now=now)
    db.session.commit()
    periods = dict(db.session.execute(
        select(PointEntry.idempotency_key, PointEntry.period)).tuples().all())
    assert periods == {"qa:0:0": "2026-02", "qa:1:0": "2026-02", "qa:2:0": "2026-03",
                       "qa:3:0": "2026-03", "qa:4:0": "2026-03", "qa:5:0": "2026-03"}


def test_a_batch_counts_daily_caps_by_the_centres_day(db, defaults, make_user, now):
    """The KBI checklist earns once a day: in a batch (several steps of it), a day in the
    centre's zone (UTC+8) ends at 16:00 UTC, whatever the moments' zone."""
    agent = make_user("agent")
    midnight = datetime(2026, 3, 9, 16, 0, tzinfo=timezone.utc)   # 10 March 00:00 Shanghai
    east = timezone(timedelta(hours=8))
    moments = [midnight - timedelta(hours=9), (midnight - timedelta(seconds=1)).astimezone(east),
               midnight, midnight + timedelta(hours=7, minutes=59), midnight + timedelta(hours=8),
               midnight + timedelta(days=1)]
    awards = [Award("kbi.checklist_completed", agent.id, f"kbi:{n}", "kbi", occurred_at=at)
              for n, at in enumerate(moments)]
    result = ledger.award_batch(awards, now=now, chunk=2)
    db.session.commit()
    assert (result.created, result.skipped["daily_cap"]) == (3, 3)
    written = set(db.session.scalars(select(PointEntry.idempotency_key)))
    assert written == {"kbi:0", "kbi:2", "kbi:5"}
    assert _rollup(db, agent.id, "2026-03", "goal").entries == 3
    assert verify_rollups() == []


def test_a_batch_counts_a_days_entries_that_landed_in_a_later_month(db, defaults, make_user,
                                                                   now):
    """A KBI checklist of a day in a closed month lands in the current month; another of the
    same day, in a later batch, still finds the day's one."""
    agent = make_user("agent")
    db.session.add(ClosedPeriod(period="2026-01", closed_at=now))
    day = datetime(2026, 1, 20, 2, 0, tzinfo=timezone.utc)
    first = ledger.award_batch([Award("kbi.checklist_completed", agent.id, "kbi:a", "kbi",
                                      occurred_at=day)], now=now)
    again = ledger.award_batch([Award("kbi.checklist_completed", agent.id, "kbi:b", "kbi",
                                      occurred_at=day + timedelta(hours=3))], now=now)
    db.session.commit()
    assert first.created == 1 and db.session.scalar(select(PointEntry.period)) == "2026-03"
    assert again.created == 0 and again.skipped["daily_cap"] == 1


def test_a_batch_in_many_steps_sums_each_rollup_once(db, defaults, make_user, now):
    """Entries written a few at a time (`chunk`) reach the rollups, totals and balances
    together: the same as the same events awarded one by one."""
    batched = [make_user("agent") for _ in range(3)]
    single = [make_user("agent") for _ in range(3)]

    def events(agent):
        return [Award(event, agent.id, f"{event}:{agent.id}:{n}", "test", attempt=1,
                      score=96, occurred_at=now - timedelta(hours=n))
                for n in range(5)
                for event in ("quiz.passed", "qa.evaluation", "scenario.stage_completed")]

    result = ledger.award_batch([a for agent in batched for a in events(agent)], now=now,
                                chunk=4)
    for agent in single:
        for one in events(agent):
            award(one, now=now)
    db.session.commit()
    assert result.created == 45
    for agent, twin in zip(batched, single, strict=True):
        assert _rollup(db, agent.id, "2026-03", "growth").points == 5 * 20 + 5 * 15
        for blade in ("growth", "goal"):
            mine, theirs = _rollup(db, agent.id, "2026-03", blade), _rollup(
                db, twin.id, "2026-03", blade)
            assert (mine.points, mine.entries, mine.last_changed_at) == (
                theirs.points, theirs.entries, theirs.last_changed_at)
        assert db.session.get(PointBalance, agent.id).earned == db.session.get(
            PointBalance, twin.id).earned
    assert verify_rollups() == []


def _entries_as_written(db):
    return sorted(db.session.execute(select(
        PointEntry.user_id, PointEntry.points, PointEntry.blade, PointEntry.event,
        PointEntry.rule_id, PointEntry.rule_version, PointEntry.source_type,
        PointEntry.source_id, PointEntry.idempotency_key, PointEntry.awarded_by_id,
        PointEntry.occurred_at, PointEntry.recorded_at, PointEntry.period, PointEntry.status,
        PointEntry.comment, PointEntry.details)).tuples().all())


@pytest.mark.parametrize("converted", [False, True])
@pytest.mark.parametrize("capped", [False, True])
def test_scores_in_columns_write_what_a_batch_of_awards_writes(db, defaults, make_user, now,
                                                               capped, converted):
    """`award_scores` (QA imports) and `award_batch` of the same pending scored events give
    the same entries, a closed month's included; with a cap the batch itself does it. The
    times and their months may come converted all at once, as an import gives them."""
    from app.incentives.ledger import award_scores

    agents = [make_user("agent") for _ in range(3)]
    analyst = make_user("qa_analyst")
    db.session.commit()
    if capped:
        db.session.scalar(select(Rule).where(Rule.event == "qa.evaluation")).monthly_cap = 2
    db.session.add(ClosedPeriod(period="2026-01", closed_at=now))
    db.session.flush()
    events = [(agents[n % 3].id, f"qa:{n}:0", str(n), now - timedelta(days=n * 9, minutes=n),
               (96.0, 91.5, 85.0, 70.0, 100.0)[n % 5]) for n in range(9)]
    columns = dict(zip(("user_ids", "keys", "source_ids", "occurred_at", "scores"),
                       map(list, zip(*events, strict=True)), strict=True))
    if converted:
        times = pd.Series(columns["occurred_at"]).dt.tz_convert("America/New_York")
        columns["stored_times"] = driver_times(PointEntry.__table__, "occurred_at", times)
        columns["periods"] = periods_of(times, centre_tz())
    scored = award_scores("qa.evaluation", **columns, source_type="qa_evaluation",
                          awarded_by_id=analyst.id, now=now)
    by_scores = _entries_as_written(db)
    db.session.rollback()

    db.session.add(ClosedPeriod(period="2026-01", closed_at=now))
    if capped:
        db.session.scalar(select(Rule).where(Rule.event == "qa.evaluation")).monthly_cap = 2
    batch = award_batch([Award("qa.evaluation", user_id, key, "qa_evaluation",
                               source_id=source_id, occurred_at=at, awarded_by_id=analyst.id,
                               score=score, pending=True)
                         for user_id, key, source_id, at, score in events], now=now)
    assert by_scores and _entries_as_written(db) == by_scores
    assert (scored.created, dict(scored.skipped)) == (batch.created, dict(batch.skipped))
    assert {row[12] for row in by_scores} >= {"2026-03"}          # January went to March
    assert "2026-01" not in {row[12] for row in by_scores}


def test_verify_reports_a_rollup_that_drifted(db, defaults, make_user, now):
    agent = make_user("agent")
    award(Award("quiz.passed", agent.id, "q", "quiz_attempt", attempt=1), now=now)
    _rollup(db, agent.id, "2026-03", "growth").points = 25
    db.session.flush()
    [difference] = verify_rollups()
    assert difference["ledger"] == 20 and difference["rollup"] == 25


def test_reaching_a_level_sends_a_notice(db, defaults, make_user, now):
    agent = make_user("agent")
    award(Award("career.promotion", agent.id, "p", "promotion"), now=now)   # 300 ≥ 200
    messages = db.session.scalars(select(Notification.params)
                                  .where(Notification.user_id == agent.id)).all()
    assert {"level_en": "Rising Star", "level_zh": "服务新星"} in messages


def test_a_batch_tells_everyone_who_reached_a_level(db, defaults, make_user, now):
    agents = [make_user("agent") for _ in range(3)]
    award_batch([Award("career.promotion", a.id, f"p{a.id}", "promotion")
                 for a in agents[:2]], now=now)                    # 300 ≥ 200, twice
    notices = db.session.execute(select(Notification.user_id, Notification.params,
                                        Notification.link, Notification.created_at)).all()
    assert sorted((user_id, params["level_en"], link) for user_id, params, link, _at
                  in notices) == [(agents[0].id, "Rising Star", "/windmill/"),
                                  (agents[1].id, "Rising Star", "/windmill/")]
    assert {at for *_rest, at in notices} == {now}


def test_manual_points_stay_within_the_rules_bounds(db, defaults, make_user, now):
    agent = make_user("agent")
    with pytest.raises(LedgerError):
        award(Award("manual.recognition", agent.id, "m", "manual", points=51), now=now)
    assert award(Award("manual.recognition", agent.id, "m", "manual", points=50),
                 now=now).entry.points == 50
