"""Confirming many pending entries at once: they count together, a closed month's go to the
current month, entries no longer pending are left alone."""
from datetime import timedelta

from sqlalchemy import func, select

from app.auth.roles import Role
from app.incentives.ledger import close_period, verify_rollups
from app.incentives.models import PointEntry, PointRollup
from app.incentives.services import Award, award, confirm_entries, reverse_entry


def _counted(db, user_id):
    return db.session.scalar(select(func.coalesce(func.sum(PointRollup.points), 0))
                             .where(PointRollup.user_id == user_id))


def test_pending_entries_count_together_and_only_once(db, now, make_user, defaults):
    agents = [make_user(Role.AGENT) for _ in range(3)]
    entries = [award(Award("qa.evaluation", agent.id, f"qa-{agent.id}", "qa_evaluation",
                           score=96, pending=True), now=now).entry for agent in agents]
    rejected = entries[2]
    reverse_entry(rejected.id, reason="withdrawn", actor_id=None, now=now)
    assert confirm_entries([e.id for e in entries], now=now) == 2
    db.session.commit()
    assert [_counted(db, a.id) for a in agents] == [20, 20, 0]
    assert db.session.get(PointEntry, rejected.id).status == "reversed"
    # asking again changes nothing
    assert confirm_entries([e.id for e in entries], now=now) == 0
    assert [_counted(db, a.id) for a in agents] == [20, 20, 0]
    assert verify_rollups() == []


def test_a_closed_month_stays_as_it_was(db, now, make_user, defaults):
    agent = make_user(Role.AGENT)
    last_month = now - timedelta(days=31)
    entry = award(Award("qa.evaluation", agent.id, "qa-late", "qa_evaluation", score=91,
                        occurred_at=last_month, pending=True), now=last_month).entry
    close_period(entry.period, actor_id=None, now=now)
    assert confirm_entries([entry.id], now=now) == 1
    db.session.commit()
    late = db.session.scalar(select(PointEntry).where(
        PointEntry.idempotency_key == f"confirmed:{entry.id}"))
    assert late.period != entry.period and late.points == 10
    assert db.session.scalar(select(func.count()).select_from(PointRollup).where(
        PointRollup.period == entry.period)) == 0
    assert verify_rollups() == []
