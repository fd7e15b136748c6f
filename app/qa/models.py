"""QA's tables: versioned scorecards and their criteria, imported evaluations with their
criterion results, the imports themselves, saved column mappings, disputes and the
category → remediation mapping."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, db, one_of

# written in bulk by imports: checked without IN (see `one_of`)
EVALUATION_STATUS_CHECK = one_of("status", ("pending", "disputed", "confirmed"))

CHANNELS = ("phone", "chat", "email", "other")


class Scorecard(db.Model):
    """A scorecard by name; what it scores is in its versions (edits make a new one)."""

    __tablename__ = "scorecards"

    id: Mapped[int] = mapped_column(primary_key=True)
    # how import files name it, e.g. "phone-standard"
    code: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(120), nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False, default="phone")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    current_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    versions = relationship("ScorecardVersion", back_populates="scorecard",
                            order_by="ScorecardVersion.version")


class ScorecardVersion(db.Model):
    """One version of a scorecard's criteria; an evaluation keeps the version it was scored
    with."""

    __tablename__ = "scorecard_versions"
    __table_args__ = (UniqueConstraint("scorecard_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")

    scorecard = relationship(Scorecard, back_populates="versions")
    criteria = relationship("Criterion", back_populates="scorecard_version",
                            order_by="Criterion.position")


class Criterion(db.Model):
    """A criterion of one scorecard version, in a section, with its weight (the points it is
    worth out of the version's total)."""

    __tablename__ = "qa_criteria"
    __table_args__ = (
        UniqueConstraint("scorecard_version_id", "code"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_version_id: Mapped[int] = mapped_column(ForeignKey("scorecard_versions.id"),
                                                      nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    # how import files name it, e.g. "greeting"
    code: Mapped[str] = mapped_column(String(60), nullable=False)
    section_en: Mapped[str] = mapped_column(String(120), nullable=False)
    section_zh: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    weight: Mapped[float] = mapped_column(Float, nullable=False)
    # a fail sets the evaluation's score to 0 and flags it (致命项)
    is_critical: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    allows_na: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # the rule of the service standard it checks (violations.SOP_RULES): the category that
    # picks the remediation after a critical fail
    category: Mapped[str] = mapped_column(String(40), nullable=False, default="other")

    scorecard_version = relationship(ScorecardVersion, back_populates="criteria")


class QaImport(db.Model):
    """One confirmed upload of a call-review tool's export."""

    __tablename__ = "qa_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(60), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    layout: Mapped[str] = mapped_column(String(10), nullable=False)   # summary | item
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    new: Mapped[int] = mapped_column(Integer, nullable=False)
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False)
    changed: Mapped[int] = mapped_column(Integer, nullable=False)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    imported_by = relationship("User")


class Evaluation(db.Model):
    """One QA evaluation of one contact of an agent, as the call-review tool exported it.

    `status`: pending (in the dispute window; its points are pending), disputed, confirmed
    (its points count)."""

    __tablename__ = "qa_evaluations"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        CheckConstraint(EVALUATION_STATUS_CHECK, name="status"),
        Index("ix_qa_evaluations_user_evaluated", "user_id", "evaluated_at"),
        Index("ix_qa_evaluations_status_window", "status", "window_ends_at"),
        Index("ix_qa_evaluations_evaluated", "evaluated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(60), nullable=False)
    # the evaluation's id in the call-review tool (质检编号)
    external_id: Mapped[str] = mapped_column(String(80), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    scorecard_version_id: Mapped[int] = mapped_column(ForeignKey("scorecard_versions.id"),
                                                      nullable=False)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    evaluator: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    score: Mapped[float] = mapped_column(Float, nullable=False)
    is_critical_fail: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    # the end of the dispute window: the points are confirmed after it
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # what the row said (score, critical fail, items): a re-import compares it
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("qa_imports.id"), nullable=True)
    # how many times the score was corrected (a re-import or an amended dispute); the points
    # of the current revision are the entry with the key `services.points_key(id, revision)`
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    violation_id: Mapped[int | None] = mapped_column(ForeignKey("violations.id"),
                                                     nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user = relationship("User")
    scorecard_version = relationship(ScorecardVersion)
    items = relationship("EvaluationItem", back_populates="evaluation",
                         order_by="EvaluationItem.id")
    disputes = relationship("Dispute", back_populates="evaluation", order_by="Dispute.id")


class EvaluationItem(db.Model):
    """The result of one criterion in an evaluation: the points given (None when N/A)."""

    __tablename__ = "qa_evaluation_items"
    __table_args__ = (UniqueConstraint("evaluation_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("qa_evaluations.id"),
                                               nullable=False)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("qa_criteria.id"), nullable=False,
                                              index=True)
    points: Mapped[float | None] = mapped_column(Float, nullable=True)
    is_passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)   # None: N/A
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")

    evaluation = relationship(Evaluation, back_populates="items")
    criterion = relationship(Criterion)


class ColumnMapping(db.Model):
    """A call-review tool's column names, saved once per source: {their header: our field}."""

    __tablename__ = "qa_column_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    columns: Mapped[dict] = mapped_column(JSON, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class Dispute(db.Model):
    """An agent's objection to an evaluation, and how it was resolved."""

    __tablename__ = "qa_disputes"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'upheld', 'amended')", name="status"),
        Index("ix_qa_disputes_status", "status", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("qa_evaluations.id"),
                                               nullable=False, index=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolution: Mapped[str] = mapped_column(Text, nullable=False, default="")
    score_before: Mapped[float] = mapped_column(Float, nullable=False)
    score_after: Mapped[float | None] = mapped_column(Float, nullable=True)

    evaluation = relationship(Evaluation, back_populates="disputes")
    raised_by = relationship("User", foreign_keys=[raised_by_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])


class RemediationRule(db.Model):
    """What an agent is assigned after a critical fail of a criterion of this category:
    a scenario or a micro-lesson, named by its code. The trainer edits the mapping."""

    __tablename__ = "qa_remediation_rules"
    __table_args__ = (CheckConstraint("item_kind IN ('scenario', 'lesson')", name="item_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    item_kind: Mapped[str] = mapped_column(String(10), nullable=False)
    item_code: Mapped[str] = mapped_column(String(80), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    due_days: Mapped[int] = mapped_column(Integer, nullable=False, default=7)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
