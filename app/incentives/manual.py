"""What people do to the ledger by hand: a team lead's recognitions and honours (bounded per
month, never to oneself), and corrections (reversals) by a trainer or an admin. Audited."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from app.audit.services import record_audit
from app.auth.models import User
from app.auth.queries import led_team_ids
from app.auth.roles import Role
from app.centre.periods import centre_tz, period_of
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.incentives.ledger import Award, LedgerError, award, reverse_entry
from app.incentives.models import PointEntry
from app.incentives.rulebook import MANUAL_SOURCE
from app.incentives.rules import Event
from app.notifications.services import notify

MANUAL_EVENTS = {"recognition": Event.MANUAL_RECOGNITION, "honour": Event.MANUAL_HONOUR}


class RecognitionError(DomainError):
    """A manual award or correction that is not allowed."""


def manual_awards_this_month(granter_id: int, now: datetime) -> int:
    return db.session.scalar(
        select(func.count()).select_from(PointEntry).where(
            PointEntry.awarded_by_id == granter_id, PointEntry.source_type == MANUAL_SOURCE,
            PointEntry.period == period_of(now, centre_tz()))) or 0


def can_recognise(granter: User, agent: User) -> bool:
    """A team lead recognises the agents of the teams they lead; nobody themselves."""
    return (granter.id != agent.id and agent.is_active and granter.has_role(Role.TEAM_LEAD)
            and agent.team_id in led_team_ids(granter.id))


def grant_recognition(agent_id: int, *, kind: str, points: int, comment: str,
                      granter_id: int, now: datetime, token: str) -> PointEntry:
    """A team lead's recognition (recognition blade) or honour (honour blade) for an agent.

    `token` comes from the form: sending the same form twice writes one entry."""
    granter = db.session.get(User, granter_id)
    agent = db.session.get(User, agent_id)
    if granter is None or agent is None:
        raise RecognitionError(N_("No such person."))
    if granter.id == agent.id:
        raise RecognitionError(N_("You cannot recognise yourself."))
    if not can_recognise(granter, agent):
        raise RecognitionError(N_("You can only recognise active agents of the teams you lead."))
    if kind not in MANUAL_EVENTS:
        raise RecognitionError(N_("Choose a recognition or an honour."))
    if not (comment or "").strip():
        raise RecognitionError(N_("Say what the recognition is for."))
    limit = current_app.config["MANUAL_AWARDS_PER_MONTH"]
    if manual_awards_this_month(granter.id, now) >= limit:
        raise RecognitionError(
            N_("You have given the %(limit)s recognitions allowed this month."), limit=limit)
    try:
        result = award(Award(
            event=MANUAL_EVENTS[kind].value, user_id=agent.id,
            idempotency_key=f"manual:{granter.id}:{token}", source_type=MANUAL_SOURCE,
            awarded_by_id=granter.id, points=points, comment=comment.strip(),
        ), now=now)
    except LedgerError as error:
        raise RecognitionError(error.message, **error.params) from error
    if result.entry is None:
        raise RecognitionError(N_("This recognition is switched off at the moment."))
    if result.created:
        record_audit("points.manual_award", actor_id=granter.id, subject_id=agent.id, now=now,
                     target_type="point_entry", target_id=result.entry.id,
                     details={"kind": kind, "points": result.entry.points,
                              "comment": comment.strip()})
        notify(agent.id, N_("%(name)s recognised you: %(comment)s (%(points)s points)."),
               params={"name": granter.name, "comment": comment.strip(),
                       "points": result.entry.points}, link="/windmill/", now=now)
    return result.entry


def reverse_points(entry_id: int, *, reason: str, actor_id: int, now: datetime) -> PointEntry:
    """A trainer or admin corrects an entry: a reversal entry, audited, and the agent told."""
    entry = db.session.get(PointEntry, entry_id)
    if entry is None:
        raise RecognitionError(N_("No such point entry."))
    try:
        reversal = reverse_entry(entry_id, reason=reason, actor_id=actor_id, now=now)
    except LedgerError as error:
        raise RecognitionError(error.message, **error.params) from error
    record_audit("points.reverse", actor_id=actor_id, subject_id=entry.user_id, now=now,
                 target_type="point_entry", target_id=entry.id,
                 details={"points": entry.points, "reason": reason.strip(),
                          "reversal_id": reversal.id if reversal else None})
    message = (N_("%(points)s points were taken back: %(reason)s") if entry.points > 0 else
               N_("A deduction of %(points)s points was taken back: %(reason)s"))
    notify(entry.user_id, message, params={"points": abs(entry.points), "reason": reason.strip()},
           link="/windmill/", now=now)
    return reversal or entry
