"""The reward catalogue and redemptions (the material blade).

An agent spends their *balance* on a reward: requested → approved → fulfilled, or rejected
(by a trainer or an admin) or cancelled (by the agent while still requested), and then the
points and the stock come back. Redemptions never write point entries: the boards read the
ledger's rollups, so spending never lowers a leaderboard position. Earned points and the
spendable balance are separate figures on `PointBalance`.

Money-like changes are single guarded UPDATEs (`… WHERE balance >= :cost`, `… WHERE stock >
0`, `… WHERE status = 'requested'`), so two requests racing each other can never overspend,
oversell or refund twice; the CHECK constraint `balance >= 0` is the last line of defence.
Functions flush but never commit: the caller owns the unit of work.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from app.audit.services import record_audit
from app.auth.models import User
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.incentives.models import PointBalance, Redemption, Reward
from app.notifications.services import notify

# where a notification about a redemption takes the agent
MY_REDEMPTIONS_LINK = "/windmill/redemptions/mine"

# statuses in which a redemption still holds the agent's points and a unit of stock
OPEN_STATUSES = ("requested", "approved")
STATUSES = ("requested", "approved", "fulfilled", "rejected", "cancelled")


class RewardError(DomainError):
    """A catalogue change or a redemption that is not allowed."""


# --- the catalogue -----------------------------------------------------------------------

_REWARD_FIELDS = ("name_en", "name_zh", "description_en", "description_zh", "cost", "stock",
                  "is_active")


def _reward_values(*, name_en: str, name_zh: str, description_en: str | None,
                   description_zh: str | None, cost: int, stock: int | None,
                   is_active: bool) -> dict:
    values = {
        "name_en": (name_en or "").strip(), "name_zh": (name_zh or "").strip(),
        "description_en": (description_en or "").strip(),
        "description_zh": (description_zh or "").strip(),
        "cost": cost, "stock": stock, "is_active": bool(is_active),
    }
    if not values["name_en"] or not values["name_zh"]:
        raise RewardError(N_("Give the reward a name in both languages."))
    if len(values["name_en"]) > 120 or len(values["name_zh"]) > 120:
        raise RewardError(N_("A reward name has at most 120 characters."))
    if cost is None or cost < 1:
        raise RewardError(N_("A reward costs at least 1 point."))
    if stock is not None and stock < 0:
        raise RewardError(N_("The stock cannot be negative."))
    return values


def create_reward(*, name_en: str, name_zh: str, cost: int, description_en: str = "",
                  description_zh: str = "", stock: int | None = None, is_active: bool = True,
                  actor_id: int, now: datetime) -> Reward:
    """Add a reward to the catalogue. `stock` None means unlimited."""
    values = _reward_values(name_en=name_en, name_zh=name_zh, description_en=description_en,
                            description_zh=description_zh, cost=cost, stock=stock,
                            is_active=is_active)
    reward = Reward(**values)
    db.session.add(reward)
    db.session.flush()
    record_audit("reward.create", actor_id=actor_id, now=now, target_type="reward",
                 target_id=reward.id, details=values)
    return reward


def get_reward(reward_id: int) -> Reward:
    reward = db.session.get(Reward, reward_id)
    if reward is None:
        raise RewardError(N_("No such reward."))
    return reward


def update_reward(reward_id: int, *, name_en: str, name_zh: str, cost: int,
                  description_en: str = "", description_zh: str = "",
                  stock: int | None = None, is_active: bool = True, actor_id: int,
                  now: datetime) -> bool:
    """Change a reward. Redemptions already requested keep the price they were asked at.
    Returns whether anything changed."""
    reward = get_reward(reward_id)
    values = _reward_values(name_en=name_en, name_zh=name_zh, description_en=description_en,
                            description_zh=description_zh, cost=cost, stock=stock,
                            is_active=is_active)
    changes = {field: [getattr(reward, field), value] for field, value in values.items()
               if getattr(reward, field) != value}
    if not changes:
        return False
    for field, (_old, new) in changes.items():
        setattr(reward, field, new)
    db.session.flush()
    record_audit("reward.update", actor_id=actor_id, now=now, target_type="reward",
                 target_id=reward.id, details={"changes": changes})
    return True


def list_rewards(*, active_only: bool = True):
    """A select of rewards in price order (for pagination)."""
    query = select(Reward).order_by(Reward.cost, Reward.name_en, Reward.id)
    if active_only:
        query = query.where(Reward.is_active.is_(True))
    return query


# --- balances ----------------------------------------------------------------------------

def balance_of(user_id: int) -> int:
    """What the person may spend now (0 when they never earned anything)."""
    return db.session.scalar(
        select(PointBalance.balance).where(PointBalance.user_id == user_id)) or 0


def _forget(model, key) -> None:
    """A guarded UPDATE changed this row behind the session's back: reload it when next used."""
    loaded = db.session.identity_map.get(db.session.identity_key(model, key))
    if loaded is not None:
        db.session.expire(loaded)


def _debit(user_id: int, cost: int) -> bool:
    """Spend `cost` from the balance if it is there: one guarded UPDATE, safe under races."""
    result = db.session.execute(
        update(PointBalance)
        .where(PointBalance.user_id == user_id, PointBalance.balance >= cost)
        .values(balance=PointBalance.balance - cost, spent=PointBalance.spent + cost)
        .execution_options(synchronize_session=False))
    _forget(PointBalance, user_id)
    return result.rowcount == 1


def _refund(user_id: int, cost: int) -> None:
    db.session.execute(
        update(PointBalance)
        .where(PointBalance.user_id == user_id)
        .values(balance=PointBalance.balance + cost, spent=PointBalance.spent - cost)
        .execution_options(synchronize_session=False))
    _forget(PointBalance, user_id)


def _take_one(reward_id: int) -> bool:
    """Take one unit of a limited stock, if one is left (guarded like the balance)."""
    result = db.session.execute(
        update(Reward)
        .where(Reward.id == reward_id, Reward.stock.is_not(None), Reward.stock > 0)
        .values(stock=Reward.stock - 1)
        .execution_options(synchronize_session=False))
    _forget(Reward, reward_id)
    return result.rowcount == 1


def _put_back(reward_id: int) -> None:
    db.session.execute(
        update(Reward)
        .where(Reward.id == reward_id, Reward.stock.is_not(None))
        .values(stock=Reward.stock + 1)
        .execution_options(synchronize_session=False))
    _forget(Reward, reward_id)


# --- redemptions -------------------------------------------------------------------------

def request_redemption(user_id: int, reward_id: int, *, now: datetime) -> Redemption:
    """An agent asks for a reward: the price is taken from their balance at once (and a unit
    from a limited stock), and the request waits for a trainer or an admin."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise RewardError(N_("No such person."))
    reward = db.session.get(Reward, reward_id)
    if reward is None or not reward.is_active:
        raise RewardError(N_("This reward is not in the catalogue."))
    cost = reward.cost
    limited = reward.stock is not None
    if limited and not _take_one(reward.id):
        raise RewardError(N_("This reward is out of stock."))
    if not _debit(user_id, cost):
        if limited:
            _put_back(reward.id)
        raise RewardError(N_("You do not have enough points for this reward: it costs "
                             "%(cost)s and your balance is %(balance)s."),
                          cost=cost, balance=balance_of(user_id))
    redemption = Redemption(user_id=user_id, reward_id=reward.id, cost=cost,
                            status="requested", requested_at=now)
    db.session.add(redemption)
    db.session.flush()
    return redemption


def get_redemption(redemption_id: int) -> Redemption:
    redemption = db.session.get(Redemption, redemption_id)
    if redemption is None:
        raise RewardError(N_("No such redemption."))
    return redemption


def _move(redemption: Redemption, allowed: tuple[str, ...], values: dict,
          refused: str) -> None:
    """Change the status only if it still is one of `allowed` (checked in the database, so
    that two clicks or two people never decide, or refund, twice)."""
    result = db.session.execute(
        update(Redemption)
        .where(Redemption.id == redemption.id, Redemption.status.in_(allowed))
        .values(**values)
        .execution_options(synchronize_session=False))
    db.session.expire(redemption)
    if result.rowcount != 1:
        raise RewardError(refused)


def _reward_params(redemption: Redemption) -> dict:
    return {"reward_en": redemption.reward.name_en, "reward_zh": redemption.reward.name_zh}


def _audit(action: str, redemption: Redemption, actor_id: int, now: datetime,
           **details) -> None:
    record_audit(action, actor_id=actor_id, subject_id=redemption.user_id, now=now,
                 target_type="redemption", target_id=redemption.id,
                 details={"reward_id": redemption.reward_id, "cost": redemption.cost,
                          **details})


def approve_redemption(redemption_id: int, *, actor_id: int, now: datetime) -> Redemption:
    """A trainer or an admin agrees to a request; the points stay spent."""
    redemption = get_redemption(redemption_id)
    _move(redemption, ("requested",),
          {"status": "approved", "decided_by_id": actor_id, "decided_at": now},
          N_("Only a requested redemption can be approved."))
    _audit("redemption.approve", redemption, actor_id, now)
    notify(redemption.user_id, N_("Your request for %(reward_en)s (%(reward_zh)s) was "
                                  "approved."),
           params=_reward_params(redemption), link=MY_REDEMPTIONS_LINK, now=now)
    return redemption


def reject_redemption(redemption_id: int, *, note: str, actor_id: int,
                      now: datetime) -> Redemption:
    """A trainer or an admin turns a request down (also after approving it, as long as it is
    not fulfilled): the points go back to the balance and the unit back to the stock."""
    note = (note or "").strip()
    if not note:
        raise RewardError(N_("Say why the redemption is rejected."))
    redemption = get_redemption(redemption_id)
    _move(redemption, OPEN_STATUSES,
          {"status": "rejected", "decided_by_id": actor_id, "decided_at": now,
           "note": note[:500]},
          N_("Only a requested or approved redemption can be rejected."))
    _refund(redemption.user_id, redemption.cost)
    _put_back(redemption.reward_id)
    _audit("redemption.reject", redemption, actor_id, now, note=note[:500])
    notify(redemption.user_id,
           N_("Your request for %(reward_en)s (%(reward_zh)s) was rejected and %(points)s "
              "points are back in your balance. The reason: %(note)s"),
           params={**_reward_params(redemption), "points": redemption.cost, "note": note[:500]},
           link=MY_REDEMPTIONS_LINK, now=now)
    return redemption


def fulfil_redemption(redemption_id: int, *, actor_id: int, now: datetime) -> Redemption:
    """The approved reward is handed over."""
    redemption = get_redemption(redemption_id)
    _move(redemption, ("approved",), {"status": "fulfilled", "fulfilled_at": now},
          N_("Only an approved redemption can be marked as handed over."))
    _audit("redemption.fulfil", redemption, actor_id, now)
    notify(redemption.user_id, N_("Your reward %(reward_en)s (%(reward_zh)s) has been handed "
                                  "over to you."),
           params=_reward_params(redemption), link=MY_REDEMPTIONS_LINK, now=now)
    return redemption


def cancel_redemption(redemption_id: int, *, user_id: int, now: datetime) -> Redemption:
    """The agent withdraws their own request while nobody has decided on it: a full refund."""
    redemption = get_redemption(redemption_id)
    if redemption.user_id != user_id:
        raise RewardError(N_("No such redemption."))
    _move(redemption, ("requested",), {"status": "cancelled", "decided_at": now},
          N_("Only a redemption nobody has decided on yet can be cancelled."))
    _refund(redemption.user_id, redemption.cost)
    _put_back(redemption.reward_id)
    return redemption


def list_redemptions(*, user_id: int | None = None, statuses: tuple[str, ...] | None = None):
    """A select of redemptions, oldest request first for the queue and newest first for one
    person's list (for pagination)."""
    query = select(Redemption)
    if user_id is not None:
        query = query.where(Redemption.user_id == user_id).order_by(
            Redemption.requested_at.desc(), Redemption.id.desc())
    else:
        query = query.order_by(Redemption.requested_at, Redemption.id)
    if statuses:
        query = query.where(Redemption.status.in_(statuses))
    return query
