"""The month lifecycle: open → grace → closed. Closing stores a snapshot of every board,
which the past-month pages show from then on, and proposes the month's Service Stars."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import insert

from app.audit.services import record_audit
from app.centre.periods import PeriodError, centre_tz, month_last_day, parse_period, period_of
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.incentives.ledger import LedgerError, close_period
from app.incentives.stars import StarError, propose_service_stars
from app.leaderboard.models import BoardPlace, BoardSnapshot, BoardSnapshotRow
from app.leaderboard.queries import CENTRE, all_board_specs, compute_boards, is_closed
from app.leaderboard.rules import utc_time


class MonthError(DomainError):
    """A month that cannot be closed (yet)."""


def month_status(period: str, today: date) -> str:
    """"open" (the month is running), "grace" (over, late results still count), "ready"
    (the grace has passed: it may be closed) or "closed"."""
    if is_closed(period):
        return "closed"
    last = month_last_day(period)
    if today <= last:
        return "open"
    if today <= last + timedelta(days=current_app.config["LEADERBOARD_GRACE_DAYS"]):
        return "grace"
    return "ready"


def close_month(period: str, *, actor_id: int | None, now: datetime,
                progress=None) -> int:
    """Close a month whose grace has passed: snapshot every board, close the ledger's month,
    propose the Service Stars. Returns the number of boards stored."""
    try:
        parse_period(period)
    except PeriodError as error:
        raise MonthError(N_("Give a month as YYYY-MM.")) from error
    today = now.astimezone(centre_tz()).date()
    status = month_status(period, today)
    if status == "closed":
        raise MonthError(N_("The month %(period)s is already closed."), period=period)
    if status in ("open", "grace"):
        raise MonthError(N_("%(period)s cannot be closed before its grace period ends on "
                            "%(date)s."), period=period,
                         date=(month_last_day(period) + timedelta(
                             days=current_app.config["LEADERBOARD_GRACE_DAYS"])).isoformat())
    specs = all_board_specs(period)
    boards = compute_boards(period, specs)
    snapshot_ids = dict(db.session.execute(
        insert(BoardSnapshot).returning(BoardSnapshot.board, BoardSnapshot.id),
        [{"period": period, "board": spec.key, "created_at": now} for spec in specs]).all())
    rows = []
    for spec in specs:
        board, snapshot_id = boards[spec], snapshot_ids[spec.key]
        rows += [{"snapshot_id": snapshot_id, "position": i + 1, "rank": board.ranks[i],
                  "key": key, "points": board.points[i],
                  "reached_at": utc_time(board.reached[i]), "is_tied": bool(board.tied[i])}
                 for i, key in enumerate(board.keys)]
        if spec.key == CENTRE and board.keys:   # the rank history reads each person's place
            db.session.execute(insert(BoardPlace), [
                {"period": period, "user_id": key, "position": i + 1}
                for i, key in enumerate(board.keys)])
        if progress:
            progress(1)
    if rows:
        db.session.execute(insert(BoardSnapshotRow.__table__), rows)
    try:
        close_period(period, actor_id=actor_id, now=now)
    except LedgerError as error:
        raise MonthError(error.message, **error.params) from error
    try:
        proposed = len(propose_service_stars(period, now=now, actor_id=actor_id))
    except StarError:
        proposed = 0
    record_audit("month.close", actor_id=actor_id, now=now, target_type="period",
                 details={"period": period, "boards": len(specs), "service_stars": proposed})
    db.session.flush()
    return len(specs)


def current_period(now: datetime) -> str:
    return period_of(now, centre_tz())
