"""The read side of the inbox."""
from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import text

from app.database import db

_UNREAD = text("SELECT count(*) FROM notifications WHERE user_id = :user AND read_at IS NULL")


def unread_count(user_id: int) -> int:
    """How many of the user's notifications are unread, read once per request: the layout
    shows it on every page, and a page that caches itself keys on it. Read on the session's
    connection, without the ORM's work around a query (nothing to load; services flush what
    they add)."""
    counts = request.environ.setdefault("pinwheel.unread", {}) if has_request_context() else {}
    if user_id not in counts:
        counts[user_id] = db.session.connection().execute(
            _UNREAD, {"user": user_id}).scalar() or 0
    return counts[user_id]
