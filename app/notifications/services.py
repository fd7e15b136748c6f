"""The one way every package sends an in-app notification."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from app.database import db, insert_values
from app.notifications.models import Notification


class NotificationError(ValueError):
    """A notification that cannot be sent as given."""


def notify(user_id: int, message: str, *, now: datetime, params: dict | None = None,
           link: str | None = None) -> Notification:
    """Put a notification in a user's inbox. `message` is a msgid marked with `N_`."""
    if link is not None and not link.startswith("/"):
        raise NotificationError("a notification link must be app-relative")
    notification = Notification(
        user_id=user_id, message=message, params=dict(params or {}), link=link, created_at=now
    )
    db.session.add(notification)
    db.session.flush()
    return notification


def notify_many(user_ids: list[int], message: str, *, now: datetime,
                params: list[dict], link: str | None = None) -> int:
    """The same message (with each user's own `params`) to many inboxes in one statement per
    thousand, e.g. the level-ups of a batch of points. Returns how many were sent."""
    if link is not None and not link.startswith("/"):
        raise NotificationError("a notification link must be app-relative")
    insert_values(Notification.__table__, ("user_id", "params"), [
        (user_id, dict(values)) for user_id, values in zip(user_ids, params, strict=True)],
        constants={"message": message, "link": link, "created_at": now})
    return len(user_ids)


def mark_read(user_id: int, notification_id: int, *, now: datetime) -> bool:
    """Mark one of the user's notifications read. False if it is not theirs."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        return False
    if notification.read_at is None:
        notification.read_at = now
    db.session.flush()
    return True


def mark_all_read(user_id: int, *, now: datetime) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now)
    )
    return result.rowcount or 0


def list_notifications(user_id: int):
    """A select of the user's notifications, newest first (for pagination)."""
    return (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def count_unread(user_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ) or 0
