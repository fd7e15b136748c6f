"""The one way every package writes to the audit trail."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.database import db


def record_audit(action: str, *, actor_id: int | None, now: datetime,
                 subject_id: int | None = None, target_type: str | None = None,
                 target_id: int | None = None, details: dict | None = None) -> AuditEvent:
    """Append one line to the audit trail. Never updated or deleted afterwards."""
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        subject_id=subject_id,
        target_type=target_type,
        target_id=target_id,
        details=dict(details or {}),
        occurred_at=now,
    )
    db.session.add(event)
    db.session.flush()
    return event


def list_audit_events(action: str | None = None, subject_id: int | None = None):
    """A select of audit events, newest first, optionally filtered (for pagination)."""
    query = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.like(f"{action}%"))
    if subject_id:
        query = query.where(AuditEvent.subject_id == subject_id)
    return query
