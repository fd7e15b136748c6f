"""Training's write side. The one assignment service: every remediation and, later, every
path item an agent must do is assigned here."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from app.auth.queries import current_apprentice_ids, team_members
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.notifications.services import notify
from app.training.models import Assignment, ObservationNote


def assign_item(user_id: int, *, item_kind: str, item_code: str, title: str,
                source_type: str, source_id: str, reason: str = "",
                due_on: date | None = None, link: str | None = None,
                actor_id: int | None, now: datetime) -> Assignment:
    """Assign a learning item to an agent, once per source: asking again for the same item
    and source returns the open assignment."""
    existing = db.session.scalar(select(Assignment).where(
        Assignment.user_id == user_id, Assignment.item_kind == item_kind,
        Assignment.item_code == item_code, Assignment.source_type == source_type,
        Assignment.source_id == source_id))
    if existing is not None:
        return existing
    assignment = Assignment(user_id=user_id, item_kind=item_kind, item_code=item_code,
                            title=title, source_type=source_type, source_id=source_id,
                            reason=reason, due_on=due_on, assigned_by_id=actor_id,
                            assigned_at=now, status="open")
    db.session.add(assignment)
    db.session.flush()
    notify(user_id, N_("New training for you: %(title)s. %(reason)s"),
           params={"title": title, "reason": reason}, link=link, now=now)
    return assignment


def list_open_assignments(user_id: int) -> list[Assignment]:
    return list(db.session.scalars(select(Assignment).where(
        Assignment.user_id == user_id, Assignment.status == "open")
        .order_by(Assignment.due_on, Assignment.id)))


def complete_assignments(user_id: int, item_kind: str, item_code: str, *,
                         now: datetime) -> int:
    """The agent did the item: every open assignment of it is done."""
    done = 0
    for assignment in db.session.scalars(select(Assignment).where(
            Assignment.user_id == user_id, Assignment.item_kind == item_kind,
            Assignment.item_code == item_code, Assignment.status == "open")):
        assignment.status = "done"
        assignment.completed_at = now
        done += 1
    return done


def assign_special_topic(item_kind: str, item_code: str, title: str, team_ids: list[int], *,
                         due_on: date, reason: str, link: str, actor_id: int | None,
                         now: datetime) -> int:
    """When complaints cluster on one issue: the lesson or quiz for every active member of
    the chosen teams (once per topic and due date). Returns how many were assigned."""
    people = [u for team_id in team_ids for u in team_members(team_id)]
    for person in people:
        assign_item(person.id, item_kind=item_kind, item_code=item_code, title=title,
                    source_type="special_topic", source_id=f"{item_code}:{due_on.isoformat()}",
                    reason=reason.strip(), due_on=due_on, link=link, actor_id=actor_id, now=now)
    return len(people)


def add_observation_note(mentor_id: int, apprentice_id: int, observed_on: date, text: str, *,
                         now: datetime):
    """A mentor's note of what they observed of their own apprentice's work."""
    if apprentice_id not in current_apprentice_ids(mentor_id) or not text.strip():
        raise DomainError(N_("The note was not saved: choose your apprentice and write what "
                             "you observed."))
    note = ObservationNote(mentor_id=mentor_id, apprentice_id=apprentice_id,
                           observed_on=observed_on, text=text.strip()[:4000], created_at=now)
    db.session.add(note)
    db.session.flush()
    return note
