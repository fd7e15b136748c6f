"""What a closed month leaves behind: a snapshot of every board, shown from then on, forever.
And the read-only links of the wallboard on the floor."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class BoardSnapshotRow(db.Model):
    """One row of a stored board, by its place: a page reads the top of the board and the
    viewer's neighbourhood by place (and the viewer's place by key, from the index alone),
    not the whole board."""

    __tablename__ = "board_snapshot_rows"
    __table_args__ = (Index("ix_board_snapshot_rows_key", "snapshot_id", "key", "position"),)

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("board_snapshots.id"),
                                             primary_key=True)
    # 1, 2, 3 … in the board's order (points, then who reached them first, then the key)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    # the competition rank: equal points share it
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    # a user id, or a team id on the team board
    key: Mapped[int] = mapped_column(Integer, nullable=False)
    # whole points; a team's points per member have two decimals
    points: Mapped[float] = mapped_column(Float, nullable=False)
    reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # another row of the board has the same points
    is_tied: Mapped[bool] = mapped_column(Boolean, nullable=False)


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
