"""The audit trail: who did what to whom, and when."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_occurred_at", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who acted; empty for the system itself (a CLI run without a user, a scheduled job).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # A dotted verb such as "user.create", "user.roles_change", "roster.import".
    action: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    # The person the action was about, if any.
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), nullable=True, index=True
    )
    # What was acted on, when it is not a person (e.g. "team", 3).
    target_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    target_id: Mapped[int | None] = mapped_column(nullable=True)
    details: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    actor = relationship("User", foreign_keys=[actor_id])
    subject = relationship("User", foreign_keys=[subject_id])
