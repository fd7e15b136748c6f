"""What a closed month leaves behind: a snapshot of every board, shown from then on, forever.
And the read-only links of the wallboard on the floor."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, db


class BoardSnapshot(db.Model):
    __tablename__ = "board_snapshots"
    __table_args__ = (UniqueConstraint("period", "board"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7), nullable=False, index=True)
    # which board: "individual:centre:all", "individual:team-3:honour", "cohort:2026-03:all",
    # "team:centre:all" …
    board: Mapped[str] = mapped_column(String(60), nullable=False)
    # [[position, rank, key, points, reached_at ISO or null, tied], …] in board order
    rows: Mapped[list] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class BoardPlace(db.Model):
    """A person's place on a closed month's centre board (all blades), stored with its
    snapshot: what the rank-history chart reads — one row per person and month, instead of
    the whole snapshot of every month."""

    __tablename__ = "board_places"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)


class WallboardToken(db.Model):
    """A read-only link to the wallboard, for the TV on the floor; revocable."""

    __tablename__ = "wallboard_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # the secret part of the link (only a hash of it is kept)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    label: Mapped[str] = mapped_column(String(120), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
