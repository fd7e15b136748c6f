"""The training room's tables: scenarios and their versions, a learner's progress through the
three stages, the attempts of each stage, the re-enactment recordings, the mentor sign-offs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, db


class Scenario(db.Model):
    """One incident scenario, named by its code across versions."""

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    category: Mapped[str] = mapped_column(String(30), nullable=False)
    current_version: Mapped[int] = mapped_column(Integer, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    versions = relationship("ScenarioVersion", back_populates="scenario",
                            order_by="ScenarioVersion.version")


class ScenarioVersion(db.Model):
    """A scenario as one file described it: the validated document, and the file itself."""

    __tablename__ = "scenario_versions"
    __table_args__ = (UniqueConstraint("scenario_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title_en: Mapped[str] = mapped_column(String(200), nullable=False)
    title_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    content: Mapped[dict] = mapped_column(JSON, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)     # the YAML as imported
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)  # sha256 of the file
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    scenario = relationship("Scenario", back_populates="versions")


class ScenarioProgress(db.Model):
    """A learner's way through one version of a scenario: the stage they are at and how each
    stage went. A preview (a trainer trying it as an agent would) earns nothing and is not in
    the reports."""

    __tablename__ = "scenario_progress"
    __table_args__ = (
        CheckConstraint("stage BETWEEN 1 AND 3", name="stage"),
        CheckConstraint("status IN ('in_progress', 'awaiting_sign_off', 'completed')",
                        name="status"),
        Index("ix_scenario_progress_user_scenario", "user_id", "scenario_id"),
        Index("ix_scenario_progress_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), nullable=False)
    version_id: Mapped[int] = mapped_column(ForeignKey("scenario_versions.id"), nullable=False)
    stage: Mapped[int] = mapped_column(Integer, nullable=False, default=1)  # the current stage
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="in_progress")
    is_preview: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    case_score: Mapped[int | None] = mapped_column(Integer, nullable=True)       # stage 1
    practice_score: Mapped[int | None] = mapped_column(Integer, nullable=True)   # stage 3
    practice_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sent_back_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user = relationship("User", foreign_keys=[user_id])
    scenario = relationship("Scenario")
    version = relationship("ScenarioVersion")
    attempts = relationship("StageAttempt", back_populates="progress",
                            order_by="StageAttempt.id")


class StageAttempt(db.Model):
    """One go at one stage: where the learner is in it (`state`: the node, the path taken,
    the steps of stage 3, the marks of stage 1) and, once finished, the score."""

    __tablename__ = "scenario_stage_attempts"
    __table_args__ = (
        CheckConstraint("stage BETWEEN 1 AND 3", name="stage"),
        CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100", name="score"),
        Index("ix_scenario_stage_attempts_progress", "progress_id", "stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    progress_id: Mapped[int] = mapped_column(ForeignKey("scenario_progress.id"), nullable=False)
    stage: Mapped[int] = mapped_column(Integer, nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)   # 1 for the first go
    state: Mapped[dict] = mapped_column(JSON, nullable=False)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    progress = relationship("ScenarioProgress", back_populates="attempts")


class Recording(db.Model):
    """The learner's re-enactment of the wrong path (stage 2), with their reflection; a trainer
    or mentor reviews it."""

    __tablename__ = "scenario_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    progress_id: Mapped[int] = mapped_column(ForeignKey("scenario_progress.id"), nullable=False,
                                             index=True)
    stored_name: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    original_name: Mapped[str] = mapped_column(String(200), nullable=False)
    media_type: Mapped[str] = mapped_column(String(60), nullable=False)   # as sniffed
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    reflection: Mapped[str] = mapped_column(Text, nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    review_comment: Mapped[str | None] = mapped_column(Text, nullable=True)

    progress = relationship("ScenarioProgress")
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])


class SignOff(db.Model):
    """A mentor's decision on a passed positive practice: signed off, or sent back."""

    __tablename__ = "scenario_sign_offs"
    __table_args__ = (
        CheckConstraint("decision IN ('signed_off', 'sent_back')", name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    progress_id: Mapped[int] = mapped_column(ForeignKey("scenario_progress.id"), nullable=False,
                                             index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    decision: Mapped[str] = mapped_column(String(12), nullable=False)
    rubric: Mapped[dict] = mapped_column(JSON, nullable=False)   # criterion → 1–5
    comment: Mapped[str] = mapped_column(Text, nullable=False)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    progress = relationship("ScenarioProgress")
    mentor = relationship("User", foreign_keys=[mentor_id])
