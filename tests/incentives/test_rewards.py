"""The reward catalogue and redemptions through their services: balances, stock, refunds."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditEvent
from app.incentives.models import (
    PointBalance,
    PointEntry,
    PointRollup,
    Redemption,
    Reward,
)
from app.incentives.rewards import (
    RewardError,
    approve_redemption,
    balance_of,
    cancel_redemption,
    create_reward,
    fulfil_redemption,
    reject_redemption,
    request_redemption,
    update_reward,
)
from app.incentives.services import Award, award
from app.notifications.models import Notification


@pytest.fixture()
def trainer(make_user):
    return make_user("trainer")


@pytest.fixture()
def earn(db, defaults, now):
    """Give a person points through the ledger (a promotion is worth 300)."""

    def give(user, key="promotion"):
        award(Award("career.promotion", user.id, f"{key}:{user.id}", "promotion"), now=now)
        db.session.commit()

    return give


@pytest.fixture()
def reward(db, trainer, now):
    def make(cost=100, stock=None, **values):
        item = create_reward(name_en=values.pop("name_en", "Cinema voucher"),
                             name_zh=values.pop("name_zh", "电影票"), cost=cost, stock=stock,
                             actor_id=trainer.id, now=now, **values)
        db.session.commit()
        return item

    return make


def _balance(db, user_id) -> PointBalance:
    return db.session.get(PointBalance, user_id, populate_existing=True)


def _entries(db) -> int:
    return db.session.scalar(select(func.count()).select_from(PointEntry))


def _rollups(db, user_id) -> list[tuple]:
    return [(r.period, r.blade, r.points) for r in db.session.scalars(
        select(PointRollup).where(PointRollup.user_id == user_id)
        .order_by(PointRollup.period, PointRollup.blade))]


def test_a_redemption_spends_the_balance_and_leaves_earned_points_alone(
        db, make_user, earn, reward, now):
    agent = make_user("agent")
    earn(agent)
    entries, rollups = _entries(db), _rollups(db, agent.id)
    redemption = request_redemption(agent.id, reward(cost=120).id, now=now)
    db.session.commit()
    balance = _balance(db, agent.id)
    assert (balance.earned, balance.spent, balance.balance) == (300, 120, 180)
    assert redemption.status == "requested" and redemption.cost == 120
    # no point entry, no rollup change: the leaderboard position stays where it was
    assert _entries(db) == entries and _rollups(db, agent.id) == rollups


def test_two_redemptions_that_together_exceed_the_balance_the_second_is_refused(
        db, make_user, earn, reward, now):
    agent = make_user("agent")
    earn(agent)
    item = reward(cost=200)
    request_redemption(agent.id, item.id, now=now)
    db.session.commit()
    with pytest.raises(RewardError) as refused:
        request_redemption(agent.id, item.id, now=now)
    db.session.rollback()
    assert "not have enough points" in refused.value.message
    assert refused.value.params == {"cost": 200, "balance": 100}
    assert _balance(db, agent.id).balance == 100
    assert db.session.scalar(select(func.count()).select_from(Redemption)) == 1


def test_someone_without_any_points_cannot_redeem(db, make_user, reward, now):
    agent = make_user("agent")
    with pytest.raises(RewardError):
        request_redemption(agent.id, reward(cost=1).id, now=now)
    assert balance_of(agent.id) == 0


def test_the_database_decides_not_a_stale_balance_in_memory(db, make_user, earn, reward, now):
    agent = make_user("agent")
    earn(agent)
    item = reward(cost=250)
    loaded = db.session.get(PointBalance, agent.id)
    assert loaded.balance == 300
    # another request spends most of it behind this session's back
    db.session.execute(text("UPDATE point_balances SET balance = 50, spent = 250 "
                            "WHERE user_id = :u"), {"u": agent.id})
    with pytest.raises(RewardError):
        request_redemption(agent.id, item.id, now=now)
    db.session.rollback()


def test_the_database_refuses_a_negative_balance(db, make_user, earn):
    agent = make_user("agent")
    earn(agent)
    with pytest.raises(IntegrityError):
        db.session.execute(update(PointBalance).where(PointBalance.user_id == agent.id)
                           .values(balance=PointBalance.balance - 301))
        db.session.flush()
    db.session.rollback()
    assert _balance(db, agent.id).balance == 300


def test_a_limited_stock_runs_out_and_comes_back_on_rejection(
        db, make_user, earn, reward, trainer, now):
    first, second = make_user("agent"), make_user("agent")
    earn(first)
    earn(second)
    item = reward(cost=100, stock=1)
    redemption = request_redemption(first.id, item.id, now=now)
    db.session.commit()
    assert db.session.get(Reward, item.id).stock == 0
    with pytest.raises(RewardError) as refused:
        request_redemption(second.id, item.id, now=now)
    db.session.rollback()
    assert "out of stock" in refused.value.message
    assert _balance(db, second.id).balance == 300          # nothing taken from the second
    reject_redemption(redemption.id, note="The cinema closed.", actor_id=trainer.id, now=now)
    db.session.commit()
    assert db.session.get(Reward, item.id).stock == 1
    assert request_redemption(second.id, item.id, now=now).status == "requested"


def test_an_unlimited_reward_never_runs_out(db, make_user, earn, reward, now):
    agent = make_user("agent")
    earn(agent)
    item = reward(cost=10)
    for _ in range(5):
        request_redemption(agent.id, item.id, now=now)
    db.session.commit()
    assert db.session.get(Reward, item.id).stock is None
    assert _balance(db, agent.id).balance == 250


def test_a_rejection_refunds_and_tells_the_agent_why(db, make_user, earn, reward, trainer, now):
    agent = make_user("agent")
    earn(agent)
    redemption = request_redemption(agent.id, reward(cost=100).id, now=now)
    db.session.commit()
    with pytest.raises(RewardError):
        reject_redemption(redemption.id, note="  ", actor_id=trainer.id, now=now)
    reject_redemption(redemption.id, note="Not available this month.", actor_id=trainer.id,
                      now=now)
    db.session.commit()
    balance = _balance(db, agent.id)
    assert (balance.balance, balance.spent, balance.earned) == (300, 0, 300)
    redemption = db.session.get(Redemption, redemption.id)
    assert redemption.status == "rejected" and redemption.note == "Not available this month."
    assert redemption.decided_by_id == trainer.id
    message = db.session.scalars(select(Notification).where(Notification.user_id == agent.id)
                                 .order_by(Notification.id.desc())).first()
    assert "rejected" in message.message and message.params["note"] == "Not available this month."
    assert message.params["reward_zh"] == "电影票"


def test_a_decision_is_taken_once_and_refunds_once(db, make_user, earn, reward, trainer, now):
    agent = make_user("agent")
    earn(agent)
    redemption = request_redemption(agent.id, reward(cost=100).id, now=now)
    reject_redemption(redemption.id, note="No.", actor_id=trainer.id, now=now)
    db.session.commit()
    for decide in (lambda: reject_redemption(redemption.id, note="Again.", actor_id=trainer.id,
                                             now=now),
                   lambda: approve_redemption(redemption.id, actor_id=trainer.id, now=now),
                   lambda: cancel_redemption(redemption.id, user_id=agent.id, now=now)):
        with pytest.raises(RewardError):
            decide()
        db.session.rollback()
    assert _balance(db, agent.id).balance == 300


def test_approve_then_fulfil_keeps_the_points_spent_and_is_audited(
        db, make_user, earn, reward, trainer, now):
    agent = make_user("agent")
    earn(agent)
    redemption = request_redemption(agent.id, reward(cost=100).id, now=now)
    with pytest.raises(RewardError):
        fulfil_redemption(redemption.id, actor_id=trainer.id, now=now)
    approve_redemption(redemption.id, actor_id=trainer.id, now=now)
    fulfil_redemption(redemption.id, actor_id=trainer.id, now=now)
    db.session.commit()
    redemption = db.session.get(Redemption, redemption.id)
    assert redemption.status == "fulfilled" and redemption.fulfilled_at is not None
    assert _balance(db, agent.id).balance == 200
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.subject_id == agent.id).order_by(AuditEvent.id)))
    assert actions[-2:] == ["redemption.approve", "redemption.fulfil"]
    told = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == agent.id, Notification.link == "/windmill/redemptions/mine"))
    assert told == 2


def test_the_agent_cancels_a_request_only_while_nobody_decided(
        db, make_user, earn, reward, trainer, now):
    agent, other = make_user("agent"), make_user("agent")
    earn(agent)
    item = reward(cost=100, stock=3)
    first = request_redemption(agent.id, item.id, now=now)
    second = request_redemption(agent.id, item.id, now=now)
    db.session.commit()
    with pytest.raises(RewardError):
        cancel_redemption(first.id, user_id=other.id, now=now)      # not theirs
    cancel_redemption(first.id, user_id=agent.id, now=now)
    approve_redemption(second.id, actor_id=trainer.id, now=now)
    db.session.commit()
    with pytest.raises(RewardError):
        cancel_redemption(second.id, user_id=agent.id, now=now)
    db.session.rollback()
    assert db.session.get(Redemption, first.id).status == "cancelled"
    assert _balance(db, agent.id).balance == 200
    assert db.session.get(Reward, item.id).stock == 2


def test_an_approved_redemption_can_still_be_rejected_with_a_refund(
        db, make_user, earn, reward, trainer, now):
    agent = make_user("agent")
    earn(agent)
    redemption = request_redemption(agent.id, reward(cost=100).id, now=now)
    approve_redemption(redemption.id, actor_id=trainer.id, now=now)
    reject_redemption(redemption.id, note="Sold out at the supplier.", actor_id=trainer.id,
                      now=now)
    db.session.commit()
    assert _balance(db, agent.id).balance == 300


def test_a_withdrawn_reward_cannot_be_redeemed(db, make_user, earn, reward, trainer, now):
    agent = make_user("agent")
    earn(agent)
    item = reward(cost=100)
    update_reward(item.id, name_en=item.name_en, name_zh=item.name_zh, cost=100,
                  is_active=False, actor_id=trainer.id, now=now)
    with pytest.raises(RewardError):
        request_redemption(agent.id, item.id, now=now)


def test_a_price_change_leaves_earlier_requests_at_their_price(
        db, make_user, earn, reward, trainer, now):
    agent = make_user("agent")
    earn(agent)
    item = reward(cost=100)
    redemption = request_redemption(agent.id, item.id, now=now)
    update_reward(item.id, name_en=item.name_en, name_zh=item.name_zh, cost=150,
                  actor_id=trainer.id, now=now)
    cancel_redemption(redemption.id, user_id=agent.id, now=now)
    db.session.commit()
    assert db.session.get(Redemption, redemption.id).cost == 100
    assert _balance(db, agent.id).balance == 300


def test_the_catalogue_is_checked_and_its_changes_audited(db, reward, trainer, now):
    with pytest.raises(RewardError):
        create_reward(name_en="Mug", name_zh="", cost=10, actor_id=trainer.id, now=now)
    with pytest.raises(RewardError):
        create_reward(name_en="Mug", name_zh="杯子", cost=0, actor_id=trainer.id, now=now)
    with pytest.raises(RewardError):
        create_reward(name_en="Mug", name_zh="杯子", cost=5, stock=-1, actor_id=trainer.id,
                      now=now)
    item = reward(cost=50, stock=10, description_en="A mug.", description_zh="一个杯子。")
    assert update_reward(item.id, name_en="Mug", name_zh="马克杯", cost=60, stock=10,
                         description_en="A mug.", description_zh="一个杯子。",
                         actor_id=trainer.id, now=now)
    assert not update_reward(item.id, name_en="Mug", name_zh="马克杯", cost=60, stock=10,
                             description_en="A mug.", description_zh="一个杯子。",
                             actor_id=trainer.id, now=now)
    db.session.commit()
    events = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.target_type == "reward").order_by(AuditEvent.id)))
    assert [e.action for e in events] == ["reward.create", "reward.update"]
    assert events[1].details["changes"]["cost"] == [50, 60]
    assert events[1].actor_id == trainer.id


def test_racing_requests_never_spend_the_same_points_twice(app, db, make_user, earn, reward,
                                                           now):
    """Two requests at once for more than the balance holds: the guarded UPDATE makes the
    second wait for the first and then find too little (PostgreSQL, real concurrency)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL)")
    agent = make_user("agent")
    earn(agent)
    item = reward(cost=200)
    agent_id, reward_id = agent.id, item.id
    first_debited = threading.Event()
    outcomes: dict[str, str] = {}

    def redeem(name: str, hold: bool) -> None:
        with app.app_context():
            try:
                request_redemption(agent_id, reward_id, now=now)
                if hold:                 # keep the row locked while the other one tries
                    first_debited.set()
                    time.sleep(0.5)
                db.session.commit()
                outcomes[name] = "ok"
            except RewardError:
                db.session.rollback()
                outcomes[name] = "refused"
            finally:
                first_debited.set()
                db.session.remove()

    first = threading.Thread(target=redeem, args=("first", True))
    first.start()
    first_debited.wait(5)
    second = threading.Thread(target=redeem, args=("second", False))
    second.start()
    first.join(10)
    second.join(10)
    assert outcomes == {"first": "ok", "second": "refused"}
    assert _balance(db, agent_id).balance == 100
