"""Training's tables. For now: assignments of learning items to agents (remediation after a
QA critical fail, later also paths); the question bank, quizzes and lessons come with the
training issue."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, db


class Assignment(db.Model):
    """A learning item an agent must do: a scenario or a micro-lesson, named by its code,
    with why (the source) and by when."""

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("item_kind IN ('scenario', 'lesson', 'quiz', 'path')",
                        name="item_kind"),
        CheckConstraint("status IN ('open', 'done', 'cancelled')", name="status"),
        Index("ix_assignments_user_status", "user_id", "status"),
        Index("ix_assignments_source", "source_type", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    item_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    item_code: Mapped[str] = mapped_column(String(80), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    # why it was assigned, e.g. ("qa_evaluation", "17"): what the agent is shown
    source_type: Mapped[str] = mapped_column(String(30), nullable=False)
    source_id: Mapped[str] = mapped_column(String(40), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user = relationship("User", foreign_keys=[user_id])
