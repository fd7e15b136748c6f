"""The monthly Service Star (服务之星) and the annual Service Model (服务标兵).

When a month (or a year) is over, the top agents by a composite of four components are
proposed; a trainer confirms (the honour and its points are awarded) or declines each one.

The components, each read from the ledger's counted entries of the period and brought to
0–100:
- `qa`: the average QA score (details["score"] of `qa.evaluation` entries);
- `praise`: verified customer praise (`customer_praise.verified` entries), as a share of
  the most any agent received in the period;
- `mystery_shopper`: the average mystery-shopper score (`mystery_shopper.scored`);
- `lead_rating`: the team lead's rating from 1 to 5, read from details["rating"] of
  `manual.recognition` entries where a rating was given (1 → 0, 5 → 100).
A component without data counts 0. The weights come from SERVICE_STAR_WEIGHTS and are stored
with each nomination, so a nomination explains itself after the weights change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from app.audit.services import record_audit
from app.auth.models import User, UserRole
from app.auth.roles import Role
from app.centre.periods import PeriodError, centre_tz, parse_period, period_of
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.incentives.ledger import Award, LedgerError, award, not_a_reversal
from app.incentives.models import PointEntry, ServiceStarNomination
from app.incentives.rules import EntryStatus, Event
from app.notifications.services import notify

DEFAULT_WEIGHTS = {"qa": 0.4, "praise": 0.25, "mystery_shopper": 0.2, "lead_rating": 0.15}
COMPONENTS = tuple(DEFAULT_WEIGHTS)
SERVICE_STAR, SERVICE_MODEL = "service_star", "service_model"
KIND_EVENTS = {SERVICE_STAR: Event.SERVICE_STAR, SERVICE_MODEL: Event.SERVICE_MODEL}
YEAR_RE = re.compile(r"^\d{4}$")
MAX_PROPOSED = 5


class StarError(DomainError):
    """A Service Star or Service Model decision that is not allowed."""


# --- the composite (no database) ---------------------------------------------------------

@dataclass(frozen=True)
class Raw:
    """What the ledger says about one agent in the period."""

    qa: float | None = None                # average QA score, 0–100
    praise: int = 0                        # verified customer praise
    mystery_shopper: float | None = None   # average mystery-shopper score, 0–100
    lead_rating: float | None = None       # average team-lead rating, 1–5


@dataclass(frozen=True)
class Standing:
    user_id: int
    raw: Raw
    scores: dict[str, float]   # each component on 0–100
    composite: float


def _clamp(value: float) -> float:
    return max(0.0, min(100.0, value))


def component_scores(raw: Raw, most_praise: int) -> dict[str, float]:
    return {
        "qa": _clamp(raw.qa or 0.0),
        "praise": _clamp(100.0 * raw.praise / most_praise) if most_praise else 0.0,
        "mystery_shopper": _clamp(raw.mystery_shopper or 0.0),
        "lead_rating": (_clamp((raw.lead_rating - 1.0) * 25.0)
                        if raw.lead_rating is not None else 0.0),
    }


def checked_weights(weights: dict) -> dict[str, float]:
    """The four weights, none negative and not all zero (missing ones count 0)."""
    chosen = {name: float(weights.get(name, 0.0)) for name in COMPONENTS}
    if any(w < 0 for w in chosen.values()) or not sum(chosen.values()):
        raise StarError(N_("The Service Star weights must not be negative or all zero."))
    return chosen


def composite_of(scores: dict[str, float], weights: dict[str, float]) -> float:
    total = sum(weights.values())
    return round(sum(weights[name] * scores[name] for name in COMPONENTS) / total, 2)


def rank(raws: dict[int, Raw], weights: dict[str, float]) -> list[Standing]:
    """Every agent with a composite above zero, best first. Ties: the better QA average,
    then more praise, then the earlier account."""
    most_praise = max((raw.praise for raw in raws.values()), default=0)
    standings = []
    for user_id, raw in raws.items():
        scores = component_scores(raw, most_praise)
        composite = composite_of(scores, weights)
        if composite > 0:
            standings.append(Standing(user_id, raw, scores, composite))
    return sorted(standings, key=lambda s: (-s.composite, -s.scores["qa"], -s.raw.praise,
                                            s.user_id))


# --- reading the ledger ------------------------------------------------------------------

def _in_period(period: str):
    """Entries of a month ("YYYY-MM") or of a year's months ("YYYY")."""
    if YEAR_RE.match(period):
        return PointEntry.period.like(f"{period}-%")
    return PointEntry.period == period


def _counted(event: Event, period: str) -> list:
    return [PointEntry.event == event.value, PointEntry.status == EntryStatus.CONFIRMED.value,
            not_a_reversal(), _in_period(period)]


def _average(event: Event, key: str, period: str) -> dict[int, float]:
    value = PointEntry.details[key].as_float()
    return {user_id: float(avg) for user_id, avg in db.session.execute(
        select(PointEntry.user_id, func.avg(value))
        .where(*_counted(event, period), value.is_not(None))
        .group_by(PointEntry.user_id)) if avg is not None}


def raw_components(period: str) -> dict[int, Raw]:
    """Each active agent's raw components over the month or year."""
    agents = list(db.session.scalars(
        select(User.id).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.AGENT.value, User.is_active.is_(True))))
    qa = _average(Event.QA_EVALUATION, "score", period)
    mystery = _average(Event.MYSTERY_SHOPPER, "score", period)
    rating = _average(Event.MANUAL_RECOGNITION, "rating", period)
    praise = dict(db.session.execute(
        select(PointEntry.user_id, func.count())
        .where(*_counted(Event.CUSTOMER_PRAISE, period)).group_by(PointEntry.user_id)).all())
    return {user_id: Raw(qa=qa.get(user_id), praise=int(praise.get(user_id, 0)),
                         mystery_shopper=mystery.get(user_id), lead_rating=rating.get(user_id))
            for user_id in agents}


def configured_weights() -> dict[str, float]:
    return checked_weights(current_app.config.get("SERVICE_STAR_WEIGHTS", DEFAULT_WEIGHTS))


# --- proposing ---------------------------------------------------------------------------

def list_nominations(kind: str, period: str) -> list[ServiceStarNomination]:
    return list(db.session.scalars(
        select(ServiceStarNomination)
        .where(ServiceStarNomination.kind == kind, ServiceStarNomination.period == period)
        .order_by(ServiceStarNomination.rank)))


def nominated_periods(kind: str, limit: int = 24) -> list[str]:
    """The latest periods with nominations of this kind, newest first."""
    return list(db.session.scalars(
        select(ServiceStarNomination.period).where(ServiceStarNomination.kind == kind)
        .distinct().order_by(ServiceStarNomination.period.desc()).limit(limit)))


def _propose(kind: str, period: str, *, now: datetime, count: int,
             actor_id: int | None) -> list[ServiceStarNomination]:
    if not 1 <= count <= MAX_PROPOSED:
        raise StarError(N_("Propose between 1 and %(max)s people."), max=MAX_PROPOSED)
    existing = list_nominations(kind, period)
    if existing:
        return existing
    weights = configured_weights()
    standings = rank(raw_components(period), weights)[:count]
    nominations = []
    for position, standing in enumerate(standings, start=1):
        components = {**standing.scores, "raw": vars(standing.raw), "weights": weights}
        nomination = ServiceStarNomination(
            kind=kind, period=period, user_id=standing.user_id, rank=position,
            composite=standing.composite, components=components, status="proposed",
            proposed_at=now)
        db.session.add(nomination)
        nominations.append(nomination)
    db.session.flush()
    if nominations:
        record_audit(f"{kind}.propose", actor_id=actor_id, now=now,
                     target_type="service_star_nomination", target_id=nominations[0].id,
                     details={"period": period, "proposed": len(nominations)})
    return nominations


def propose_service_stars(period: str, *, now: datetime, count: int = 3,
                          actor_id: int | None = None) -> list[ServiceStarNomination]:
    """Propose the Service Stars of a month that has ended ("YYYY-MM"), best first.

    Idempotent: a month that has nominations keeps them (the month close may run again)."""
    try:
        parse_period(period)
    except PeriodError as error:
        raise StarError(N_("Give a month as YYYY-MM.")) from error
    if period >= period_of(now, centre_tz()):
        raise StarError(N_("Service Stars are proposed once the month is over."))
    return _propose(SERVICE_STAR, period, now=now, count=count, actor_id=actor_id)


def propose_service_models(year: str, *, now: datetime, count: int = 3,
                           actor_id: int | None = None) -> list[ServiceStarNomination]:
    """Propose the Service Models of a year that has ended ("YYYY"), over its twelve months.
    Idempotent like the monthly proposal."""
    year = str(year)
    if not YEAR_RE.match(year):
        raise StarError(N_("Give a year as YYYY."))
    if year >= period_of(now, centre_tz())[:4]:
        raise StarError(N_("Service Models are proposed once the year is over."))
    return _propose(SERVICE_MODEL, year, now=now, count=count, actor_id=actor_id)


# --- deciding ----------------------------------------------------------------------------

def _decidable(nomination_id: int, trainer_id: int) -> tuple[ServiceStarNomination, User]:
    nomination = db.session.get(ServiceStarNomination, nomination_id)
    if nomination is None:
        raise StarError(N_("No such nomination."))
    trainer = db.session.get(User, trainer_id)
    if trainer is None or not trainer.is_active or not (
            trainer.has_role(Role.TRAINER) or trainer.has_role(Role.ADMIN)):
        raise StarError(N_("Only a trainer decides on a nomination."))
    if trainer.id == nomination.user_id:
        raise StarError(N_("You cannot decide on your own nomination."))
    if nomination.status != "proposed":
        raise StarError(N_("This nomination is already decided."))
    return nomination, trainer


def confirm_nomination(nomination_id: int, trainer_id: int, now: datetime
                       ) -> tuple[ServiceStarNomination, PointEntry | None]:
    """A trainer confirms a nomination: the honour is awarded with its points (once, whatever
    happens later) and the winner is told. Returns the nomination and its point entry (None
    when the rule gave no points: switched off, or its monthly cap reached)."""
    nomination, trainer = _decidable(nomination_id, trainer_id)
    nomination.status = "confirmed"
    nomination.decided_by_id = trainer.id
    nomination.decided_at = now
    event = KIND_EVENTS[nomination.kind]
    try:
        result = award(Award(
            event=event.value, user_id=nomination.user_id,
            idempotency_key=f"{nomination.kind}:{nomination.period}:{nomination.user_id}",
            source_type=nomination.kind, source_id=str(nomination.id),
            awarded_by_id=trainer.id,
            details={"period": nomination.period, "rank": nomination.rank,
                     "composite": nomination.composite}), now=now)
    except LedgerError as error:
        raise StarError(error.message, **error.params) from error
    db.session.flush()
    record_audit(f"{nomination.kind}.confirm", actor_id=trainer.id, subject_id=nomination.user_id,
                 now=now, target_type="service_star_nomination", target_id=nomination.id,
                 details={"period": nomination.period,
                          "points": result.entry.points if result.entry else 0})
    if nomination.kind == SERVICE_STAR:
        message = N_("You are the Service Star of %(period)s. Congratulations!")
    else:
        message = N_("You are the Service Model of %(period)s. Congratulations!")
    notify(nomination.user_id, message, params={"period": nomination.period},
           link="/windmill/", now=now)
    return nomination, result.entry


def decline_nomination(nomination_id: int, trainer_id: int, now: datetime
                       ) -> ServiceStarNomination:
    nomination, trainer = _decidable(nomination_id, trainer_id)
    nomination.status = "declined"
    nomination.decided_by_id = trainer.id
    nomination.decided_at = now
    db.session.flush()
    record_audit(f"{nomination.kind}.decline", actor_id=trainer.id, subject_id=nomination.user_id,
                 now=now, target_type="service_star_nomination", target_id=nomination.id,
                 details={"period": nomination.period})
    return nomination
