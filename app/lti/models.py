"""The LMS plug-in's tables: registered platforms, the tool's signing keys, who a platform's
user is here, launch data shared by all workers, used nonces, the gradebook line items, and
the two outboxes (scores for the platform, xAPI statements for the LRS)."""
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

from app.database import UTCDateTime, db


class Platform(db.Model):
    """A learning platform (Moodle, Canvas, …) registered with the tool."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    issuer: Mapped[str] = mapped_column(String(300), nullable=False)
    client_id: Mapped[str] = mapped_column(String(300), nullable=False)
    auth_login_url: Mapped[str] = mapped_column(String(500), nullable=False)
    auth_token_url: Mapped[str] = mapped_column(String(500), nullable=False)
    key_set_url: Mapped[str] = mapped_column(String(500), nullable=False)
    deployment_ids: Mapped[list] = mapped_column(JSON, nullable=False)
    # LTI Instructor / TeachingAssistant become this role here: team_lead or trainer
    instructor_role: Mapped[str] = mapped_column(String(20), nullable=False, default="trainer")
    # course (context id) → {"team_id": 3} or {"cohort": "2026-11"}
    contexts: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class ToolKey(db.Model):
    """A signing key of the tool. The newest active key signs; retired keys stay in the
    JWKS until `retire_at` so platforms can still check what they signed."""

    __tablename__ = "lti_tool_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    private_pem: Mapped[str] = mapped_column(Text, nullable=False)   # encrypted, see keys.py
    public_jwk: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    retire_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LtiIdentity(db.Model):
    """A platform's user (issuer + subject) is this person here."""

    __tablename__ = "lti_identities"
    __table_args__ = (UniqueConstraint("platform_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    last_launch_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    user = relationship("User")
    platform = relationship("Platform")


class LaunchData(db.Model):
    """pylti1p3's state, nonce and launch data: in the database, so every worker sees it."""

    __tablename__ = "lti_launch_data"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)


class UsedNonce(db.Model):
    """A launch's nonce, once used: a second launch with it is a replay."""

    __tablename__ = "lti_used_nonces"

    nonce: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)


class LineItem(db.Model):
    """A gradebook column of a course for one Pinwheel item (quiz, scenario, path)."""

    __tablename__ = "lti_line_items"
    __table_args__ = (UniqueConstraint("platform_id", "lineitems_url", "resource_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"), nullable=False)
    context_id: Mapped[str] = mapped_column(String(255), nullable=False)
    lineitems_url: Mapped[str] = mapped_column(String(500), nullable=False)
    resource_id: Mapped[str] = mapped_column(String(120), nullable=False)  # "quiz:Q-SOP"
    lineitem_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    score_maximum: Mapped[float] = mapped_column(Float, nullable=False, default=100.0)


class GradeOutbox(db.Model):
    """A score waiting to reach a platform's gradebook; retried until it does."""

    __tablename__ = "lti_grade_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index("ix_lti_grade_outbox_due", "status", "next_try_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("lti_line_items.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)   # the platform's user
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)         # the AGS score
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    line_item = relationship("LineItem")


class XapiOutbox(db.Model):
    """An xAPI statement waiting for the LRS; sent in batches, retried until it arrives."""

    __tablename__ = "lti_xapi_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent')", name="status"),
        Index("ix_lti_xapi_outbox_due", "status", "next_try_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    statement: Mapped[dict] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
