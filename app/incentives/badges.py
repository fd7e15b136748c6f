"""Badges and honours, and the level ladder's edits.

A badge class is earned automatically (a threshold over ledger events, per month or once
ever) or granted by hand by the roles it names, with a monthly cap per granter and never to
oneself. An award's points go through the ledger (event `badge.earned`); revoking an award
reverses them. Every function flushes and never commits: the caller owns the unit of work.
"""
from __future__ import annotations

import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import png
from flask import current_app
from sqlalchemy import func, or_, select

from app.audit.services import record_audit
from app.auth.models import User, UserRole
from app.auth.queries import led_team_ids
from app.auth.roles import Role
from app.centre.events import learning_event
from app.centre.periods import centre_tz, period_of, previous_period
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.incentives.ledger import Award, LedgerError, award, not_a_reversal, reverse_entry
from app.incentives.models import BadgeAward, BadgeClass, Level, PointEntry, Rule
from app.incentives.queries import list_levels
from app.incentives.rules import Blade, EntryStatus, Event
from app.notifications.services import notify

SHIPPED_IMAGES = Path(__file__).resolve().parent.parent / "static" / "badges"
UPLOADED_PREFIX = "upload/"          # BadgeClass.image of an uploaded file: "upload/<file>"
MAX_IMAGE_BYTES = 512 * 1024
IMAGE_SIDES = (64, 1024)             # smallest and largest width or height, in pixels
MAX_BADGE_POINTS = 1000              # the `badge.earned` rule's default `max_points`
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,59}$")
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")

# The roles a badge may name as granters, and the widest scope each gives.
GRANTER_ROLES = (Role.TEAM_LEAD, Role.TRAINER, Role.ADMIN)
_GRANT_ANYONE = {Role.TRAINER.value, Role.ADMIN.value}
KINDS = ("automatic", "manual")
WINDOWS = ("month", "ever")
# Events an automatic badge may count: not badges themselves, not deductions.
NOT_COUNTABLE = {Event.BADGE_EARNED.value, Event.VIOLATION_DEDUCTION.value}
SOURCE_TYPE = "badge_award"


class BadgeError(DomainError):
    """A badge that cannot be defined, granted or withdrawn as asked. `field` names the form
    field the message belongs beside, when there is one."""

    def __init__(self, message: str, *, field: str | None = None, **params):
        super().__init__(message, **params)
        self.field = field


class LevelError(DomainError):
    """A change to the level ladder that would break it."""


# --- badge classes -----------------------------------------------------------------------

@dataclass
class BadgeValues:
    """What a manager edits on a badge class (the code and the image apart)."""

    name_en: str
    name_zh: str
    description_en: str
    description_zh: str
    blade: str
    kind: str
    points: int = 0
    criteria_event: str | None = None
    criteria_min_score: float | None = None
    criteria_count: int | None = None
    criteria_window: str | None = None
    granter_roles: tuple[str, ...] = ()
    monthly_cap_per_granter: int | None = None
    is_active: bool = True


def _checked(values: BadgeValues) -> dict:
    """The columns for these values, or a BadgeError saying what is wrong."""
    names = (values.name_en or "").strip(), (values.name_zh or "").strip()
    if not all(names):
        raise BadgeError(N_("Give the badge a name in both languages."), field="name_en")
    if values.blade not in {b.value for b in Blade}:
        raise BadgeError(N_("Choose one of the eight blades."), field="blade")
    if values.kind not in KINDS:
        raise BadgeError(N_("Choose whether the badge is earned automatically or granted."),
                         field="kind")
    if not 0 <= (values.points or 0) <= MAX_BADGE_POINTS:
        raise BadgeError(N_("A badge is worth between 0 and %(max)s points."),
                         max=MAX_BADGE_POINTS, field="points")
    criteria: dict = {}
    roles: list[str] = []
    cap = values.monthly_cap_per_granter
    if values.kind == "automatic":
        event = values.criteria_event or ""
        if event not in {e.value for e in Event} or event in NOT_COUNTABLE:
            raise BadgeError(N_("Choose the event an automatic badge counts."),
                             field="criteria_event")
        if not values.criteria_count or values.criteria_count < 1:
            raise BadgeError(N_("Say how many events earn the badge (at least one)."),
                             field="criteria_count")
        if values.criteria_window not in WINDOWS:
            raise BadgeError(N_("Choose whether the events count within a month or ever."),
                             field="criteria_window")
        criteria = {"event": event, "count": int(values.criteria_count),
                    "window": values.criteria_window}
        if values.criteria_min_score is not None:
            if not 0 <= values.criteria_min_score <= 100:
                raise BadgeError(N_("The lowest score lies between 0 and 100."),
                                 field="criteria_min_score")
            score = float(values.criteria_min_score)
            criteria["min_score"] = int(score) if score.is_integer() else score
        cap = None
    else:
        allowed = {r.value for r in GRANTER_ROLES}
        roles = sorted({str(r) for r in values.granter_roles})
        if not roles or not set(roles) <= allowed:
            raise BadgeError(N_("Choose who may grant the badge."), field="granter_roles")
        if cap is not None and cap < 1:
            raise BadgeError(N_("A monthly cap is at least 1."),
                             field="monthly_cap_per_granter")
    return {"name_en": names[0], "name_zh": names[1],
            "description_en": (values.description_en or "").strip(),
            "description_zh": (values.description_zh or "").strip(),
            "blade": values.blade, "kind": values.kind, "points": int(values.points or 0),
            "criteria": criteria, "granter_roles": roles, "monthly_cap_per_granter": cap,
            "is_active": bool(values.is_active)}


def upload_folder() -> Path:
    """Where uploaded badge images live: `badges/` in the instance folder."""
    return Path(current_app.instance_path) / "badges"


def check_png(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG image within the limits; else a BadgeError."""
    if len(data) > MAX_IMAGE_BYTES:
        raise BadgeError(N_("The image is larger than %(size)s KB."), size=MAX_IMAGE_BYTES // 1024,
                         field="image")
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise BadgeError(N_("The image must be a PNG file."), field="image")
    low, high = IMAGE_SIDES
    try:
        width, height, rows, _info = png.Reader(bytes=data).read()
        # the sizes first: a small file may claim (and inflate to) a huge image
        if not (low <= width <= high and low <= height <= high):
            raise BadgeError(
                N_("The image must be between %(low)s and %(high)s pixels wide and high."),
                low=low, high=high, field="image")
        for _row in rows:       # decoding every row proves the file is whole
            pass
    except BadgeError:
        raise
    except Exception as error:  # pypng raises several kinds for a broken file
        raise BadgeError(N_("The image is not a valid PNG file."), field="image") from error
    return width, height


def store_image(code: str, data: bytes) -> str:
    """Check and keep an uploaded image; returns the value for `BadgeClass.image`.

    The file name carries the content's hash, so a replaced image never reuses an old name
    (browsers and verifiers may have cached it) and a rolled-back edit leaves only an unused
    file behind."""
    check_png(data)
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{code}-{hashlib.sha256(data).hexdigest()[:16]}.png"
    target = folder / name
    if not target.exists():
        temporary = folder / f".{name}.{uuid.uuid4().hex}"
        temporary.write_bytes(data)
        os.replace(temporary, target)
    return UPLOADED_PREFIX + name


def image_path(badge: BadgeClass) -> Path | None:
    """The file of a badge's image: uploaded (instance folder) or shipped (static/badges)."""
    if badge.image.startswith(UPLOADED_PREFIX):
        folder, name = upload_folder(), badge.image[len(UPLOADED_PREFIX):]
    else:
        folder, name = SHIPPED_IMAGES, badge.image
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = folder / name
    return path if path.is_file() else None


def create_badge_class(code: str, values: BadgeValues, *, image: bytes, actor_id: int | None,
                       now: datetime) -> BadgeClass:
    code = (code or "").strip().lower()
    if not CODE_RE.match(code):
        raise BadgeError(N_("A code has 2 to 60 small letters, digits, '-' or '_'."), field="code")
    if db.session.scalar(select(BadgeClass.id).where(BadgeClass.code == code)):
        raise BadgeError(N_("Another badge already has the code %(code)s."), code=code,
                         field="code")
    columns = _checked(values)
    if not image:
        raise BadgeError(N_("Upload the badge's image."), field="image")
    badge = BadgeClass(code=code, image=store_image(code, image), **columns)
    db.session.add(badge)
    db.session.flush()
    record_audit("badge_class.create", actor_id=actor_id, now=now, target_type="badge_class",
                 target_id=badge.id, details={"code": code})
    return badge


def update_badge_class(badge_id: int, values: BadgeValues, *, image: bytes | None,
                       actor_id: int | None, now: datetime) -> bool:
    """Change a badge class (its code stays: issued assertions point at it). Awards already
    made keep their points; new criteria count from now on. Returns whether anything changed."""
    badge = db.session.get(BadgeClass, badge_id)
    if badge is None:
        raise BadgeError(N_("No such badge."))
    columns = _checked(values)
    if image:
        columns["image"] = store_image(badge.code, image)
    changed = sorted(k for k, v in columns.items() if getattr(badge, k) != v)
    for key in changed:
        setattr(badge, key, columns[key])
    if changed:
        db.session.flush()
        record_audit("badge_class.update", actor_id=actor_id, now=now, target_type="badge_class",
                     target_id=badge.id, details={"code": badge.code, "changed": changed})
    return bool(changed)


# --- awards ------------------------------------------------------------------------------

def _notify_award(badge: BadgeClass, user_id: int, now: datetime) -> None:
    notify(user_id, N_("You earned the badge %(badge_en)s (%(badge_zh)s)."),
           params={"badge_en": badge.name_en, "badge_zh": badge.name_zh},
           link="/windmill/badges", now=now)


def _make_award(badge: BadgeClass, user_id: int, *, now: datetime, window: str = "",
                granter_id: int | None = None, comment: str | None = None,
                uid: str | None = None, strict: bool = True) -> BadgeAward:
    """Record an award and give its points through the ledger. Points the ledger refuses (a
    badge worth more than the rule allows) raise a BadgeError when `strict`; otherwise the
    badge is awarded without them, so that an automatic check never breaks the award it
    follows."""
    row = BadgeAward(uid=uid or uuid.uuid4().hex, badge_id=badge.id, user_id=user_id,
                     granted_by_id=granter_id, period=period_of(now, centre_tz()),
                     awarded_at=now, comment=comment, window=window)
    db.session.add(row)
    db.session.flush()
    if badge.points > 0:
        details = {"badge": badge.code, **({"window": window} if window else {})}
        try:
            result = award(Award(
                event=Event.BADGE_EARNED.value, user_id=user_id,
                idempotency_key=f"badge:{row.uid}", source_type=SOURCE_TYPE,
                source_id=str(row.id), awarded_by_id=granter_id, points=badge.points,
                comment=comment, details=details), now=now)
        except LedgerError as error:
            if strict:
                raise BadgeError(error.message, **error.params) from error
            current_app.logger.warning("badge %s: the ledger refused its %s points",
                                       badge.code, badge.points)
        else:
            row.point_entry_id = result.entry.id if result.entry is not None else None
            db.session.flush()
    _notify_award(badge, user_id, now)
    learning_event.send("incentives", kind="earned", user_id=user_id, object_type="badge",
                        object_id=badge.code, object_name=badge.name_zh, completed=True,
                        at=now)
    return row


def grant_scope(granter: User, badge: BadgeClass) -> set[int] | None:
    """Whom `granter` may grant this badge to: None if nobody, an empty set if any agent,
    else the ids of the teams they lead (a team lead grants within their teams)."""
    held = {r.value for r in granter.roles} & set(badge.granter_roles or [])
    if not held:
        return None
    if held & _GRANT_ANYONE:
        return set()
    return led_team_ids(granter.id) or {-1}


def grants_this_month(granter_id: int, badge_id: int, now: datetime) -> int:
    """Awards of the badge the granter made in the current month (withdrawn ones aside)."""
    return db.session.scalar(
        select(func.count()).select_from(BadgeAward).where(
            BadgeAward.granted_by_id == granter_id, BadgeAward.badge_id == badge_id,
            BadgeAward.period == period_of(now, centre_tz()),
            BadgeAward.revoked_at.is_(None))) or 0


def grant_badge(badge_id: int, user_id: int, granter_id: int, comment: str, now: datetime, *,
                token: str | None = None) -> BadgeAward:
    """A team lead or trainer grants a manual badge to an agent, with a comment.

    `token` (a form's hidden value, 32 hex digits) becomes the award's public id, so the same
    form sent twice grants once."""
    if token is not None and TOKEN_RE.match(token):
        existing = db.session.scalar(select(BadgeAward).where(BadgeAward.uid == token))
        if existing is not None:
            if (existing.badge_id, existing.user_id, existing.granted_by_id) != (
                    badge_id, user_id, granter_id):
                raise BadgeError(N_("The form expired. Please try again."))
            return existing
    else:
        token = None
    # the granter's row is locked (PostgreSQL) so that two grants at once respect the cap
    granter = db.session.scalar(select(User).where(User.id == granter_id).with_for_update())
    agent = db.session.get(User, user_id)
    badge = db.session.get(BadgeClass, badge_id)
    if badge is None:
        raise BadgeError(N_("No such badge."))
    if granter is None or agent is None:
        raise BadgeError(N_("No such person."))
    if badge.kind != "manual":
        raise BadgeError(N_("This badge is earned automatically; it cannot be granted by hand."))
    if not badge.is_active:
        raise BadgeError(N_("This badge is switched off."))
    if granter.id == agent.id:
        raise BadgeError(N_("You cannot grant a badge to yourself."), field="agent_id")
    scope = grant_scope(granter, badge)
    if scope is None or not granter.is_active:
        raise BadgeError(N_("Your role may not grant this badge."))
    if not agent.is_active or not agent.has_role(Role.AGENT):
        raise BadgeError(N_("Badges go to active agents."), field="agent_id")
    if scope and agent.team_id not in scope:
        raise BadgeError(N_("You can only grant badges to agents of the teams you lead."),
                         field="agent_id")
    comment = (comment or "").strip()
    if not comment:
        raise BadgeError(N_("Say what the badge is for."), field="comment")
    cap = badge.monthly_cap_per_granter
    if cap is not None and grants_this_month(granter.id, badge.id, now) >= cap:
        raise BadgeError(N_("You have granted this badge %(cap)s times this month, the most "
                            "allowed."), cap=cap)
    row = _make_award(badge, agent.id, now=now, granter_id=granter.id, comment=comment[:500],
                      uid=token)
    record_audit("badge.grant", actor_id=granter.id, subject_id=agent.id, now=now,
                 target_type="badge_award", target_id=row.id,
                 details={"badge": badge.code, "points": badge.points})
    return row


def _open_windows(user_id: int, event: str, now: datetime) -> set[str]:
    """The months in which a new entry of the event may just have changed a monthly count:
    this month and the last (late events and verifications), and those of the entries
    recorded at this very moment (an import's backfill)."""
    current = period_of(now, centre_tz())
    recorded_now = db.session.scalars(
        select(PointEntry.period).distinct().where(
            PointEntry.user_id == user_id, PointEntry.event == event,
            PointEntry.recorded_at == now))
    return {current, previous_period(current), *recorded_now}


def _reached_windows(badge: BadgeClass, user_id: int, now: datetime) -> list[str]:
    """The windows ("YYYY-MM", or "" for ever) in which the user meets the badge's criteria."""
    criteria = badge.criteria or {}
    needed = max(int(criteria.get("count") or 1), 1)
    counted = [PointEntry.user_id == user_id, PointEntry.event == criteria["event"],
               PointEntry.status == EntryStatus.CONFIRMED.value,
               not_a_reversal()]
    if criteria.get("min_score") is not None:
        counted.append(PointEntry.details["score"].as_float() >= float(criteria["min_score"]))
    if criteria.get("window") == "ever":
        total = db.session.scalar(select(func.count()).select_from(PointEntry).where(*counted))
        return [""] if (total or 0) >= needed else []
    windows = _open_windows(user_id, criteria["event"], now)
    rows = db.session.execute(
        select(PointEntry.period, func.count()).where(*counted, PointEntry.period.in_(windows))
        .group_by(PointEntry.period)).all()
    return sorted(period for period, count in rows if count >= needed)


def users_reaching(event: str, user_ids: set[int], *, now: datetime) -> set[int]:
    """Of these people, those who meet the criteria of an automatic badge of the event in an
    open window — one grouped query per badge, so that a batch of thousands of awards checks
    only the few people who may have earned something."""
    reached: set[int] = set()
    current = period_of(now, centre_tz())
    windows = {current, previous_period(current), *db.session.scalars(
        select(PointEntry.period).distinct().where(PointEntry.event == event,
                                                   PointEntry.recorded_at == now))}
    ids = sorted(user_ids)
    for badge in db.session.scalars(select(BadgeClass).where(
            BadgeClass.kind == "automatic", BadgeClass.is_active.is_(True))):
        criteria = badge.criteria or {}
        if criteria.get("event") != event:
            continue
        needed = max(int(criteria.get("count") or 1), 1)
        for start in range(0, len(ids), 900):
            counted = [PointEntry.user_id.in_(ids[start:start + 900]), PointEntry.event == event,
                       PointEntry.status == EntryStatus.CONFIRMED.value, not_a_reversal()]
            if criteria.get("min_score") is not None:
                counted.append(
                    PointEntry.details["score"].as_float() >= float(criteria["min_score"]))
            group = [PointEntry.user_id]
            if criteria.get("window") != "ever":
                counted.append(PointEntry.period.in_(windows))
                group.append(PointEntry.period)
            reached.update(db.session.scalars(
                select(PointEntry.user_id).where(*counted).group_by(*group)
                .having(func.count() >= needed)))
    return reached


def check_automatic_badges(user_id: int, event: str, *, now: datetime) -> list[BadgeAward]:
    """Award the automatic badges whose criteria the user now meets for this event.

    Safe to call after every award, as often as wished: a badge is earned at most once per
    window (a month, or ever), and a withdrawn award is not given again. Run it in the same
    transaction as the award it follows: the ledger's balance row serialises one person's
    awards, so two concurrent checks cannot both see a window as still open."""
    event = str(event)
    badges = [b for b in db.session.scalars(
        select(BadgeClass).where(BadgeClass.kind == "automatic", BadgeClass.is_active.is_(True))
        .order_by(BadgeClass.id)) if (b.criteria or {}).get("event") == event]
    if not badges:
        return []
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return []
    earned = []
    for badge in badges:
        had = set(db.session.scalars(select(BadgeAward.window).where(
            BadgeAward.badge_id == badge.id, BadgeAward.user_id == user_id)))
        for window in _reached_windows(badge, user_id, now):
            if window not in had:
                earned.append(_make_award(badge, user_id, now=now, window=window,
                                          strict=False))
    return earned


def revoke_award(award_id: int, *, reason: str, actor_id: int, now: datetime) -> BadgeAward:
    """Withdraw an award: its points are reversed through the ledger and its Open Badges
    assertion answers "revoked" from now on."""
    row = db.session.get(BadgeAward, award_id)
    if row is None:
        raise BadgeError(N_("No such badge award."))
    if row.revoked_at is not None:
        raise BadgeError(N_("This badge was already withdrawn."))
    reason = (reason or "").strip()
    if not reason:
        raise BadgeError(N_("Give a reason for withdrawing the badge."))
    row.revoked_at = now
    entry = db.session.get(PointEntry, row.point_entry_id) if row.point_entry_id else None
    if entry is not None and entry.status != EntryStatus.REVERSED.value:
        try:
            reverse_entry(entry.id, reason=reason, actor_id=actor_id, now=now,
                          idempotency_key=f"badge_revoke:{row.uid}")
        except LedgerError as error:
            raise BadgeError(error.message, **error.params) from error
    db.session.flush()
    record_audit("badge.revoke", actor_id=actor_id, subject_id=row.user_id, now=now,
                 target_type="badge_award", target_id=row.id,
                 details={"badge": row.badge.code, "reason": reason[:200]})
    notify(row.user_id, N_("The badge %(badge_en)s (%(badge_zh)s) was withdrawn: %(reason)s"),
           params={"badge_en": row.badge.name_en, "badge_zh": row.badge.name_zh,
                   "reason": reason}, link="/windmill/badges", now=now)
    return row


# --- what the pages read -----------------------------------------------------------------

def get_badge_class(code: str) -> BadgeClass | None:
    return db.session.scalar(select(BadgeClass).where(BadgeClass.code == code))


def get_award(uid: str) -> BadgeAward | None:
    return db.session.scalar(select(BadgeAward).where(BadgeAward.uid == uid))


def list_badge_classes(*, active_only: bool = False) -> list[BadgeClass]:
    query = select(BadgeClass).order_by(BadgeClass.kind, BadgeClass.code)
    if active_only:
        query = query.where(BadgeClass.is_active.is_(True))
    return list(db.session.scalars(query))


def awards_of(user_id: int):
    """A select of one person's awards still standing, newest first (for pagination)."""
    return (select(BadgeAward)
            .where(BadgeAward.user_id == user_id, BadgeAward.revoked_at.is_(None))
            .order_by(BadgeAward.awarded_at.desc(), BadgeAward.id.desc()))


def all_awards(search: str = ""):
    """A select of every award, newest first, optionally for people matching `search`."""
    query = (select(BadgeAward).join(User, User.id == BadgeAward.user_id)
             .order_by(BadgeAward.awarded_at.desc(), BadgeAward.id.desc()))
    if search:
        like = f"%{search.strip()}%"
        query = query.where(or_(User.name.ilike(like), User.employee_number.ilike(like)))
    return query


def countable_rules() -> list[Rule]:
    """The rules whose events an automatic badge may count."""
    return [rule for rule in db.session.scalars(select(Rule).order_by(Rule.event))
            if rule.event not in NOT_COUNTABLE]


def grantable_badges(granter: User) -> list[BadgeClass]:
    """The active manual badges this person's roles may grant."""
    roles = {r.value for r in granter.roles}
    return [b for b in list_badge_classes(active_only=True)
            if b.kind == "manual" and roles & set(b.granter_roles or [])]


def grant_recipients(granter: User, badges: list[BadgeClass]) -> list[User]:
    """The active agents this person may grant at least one of `badges` to (never oneself)."""
    scopes = [grant_scope(granter, b) for b in badges]
    scopes = [s for s in scopes if s is not None]
    if not scopes:
        return []
    query = (select(User).join(UserRole, UserRole.user_id == User.id)
             .where(UserRole.role == Role.AGENT.value, User.is_active.is_(True),
                    User.id != granter.id)
             .order_by(User.name, User.employee_number))
    if all(scopes):     # every scope is a set of teams: a team lead's own teams only
        query = query.where(User.team_id.in_(set().union(*scopes)))
    return list(db.session.scalars(query))


# --- the level ladder --------------------------------------------------------------------

def _check_ladder(changed: Level | None, *, removed: Level | None = None) -> None:
    """The ladder after the change: thresholds unique, none negative, the lowest at 0."""
    levels = [level for level in list_levels() if level is not removed]
    if changed is not None and changed not in levels:
        levels.append(changed)
    thresholds = [level.min_points for level in levels]
    if any(points < 0 for points in thresholds):
        raise LevelError(N_("A level cannot need negative points."))
    if changed is not None and thresholds.count(changed.min_points) > 1:
        raise LevelError(N_("Another level already starts at %(points)s points."),
                         points=changed.min_points)
    if not levels or min(thresholds) != 0:
        raise LevelError(N_("The lowest level must start at 0 points."))


def _level_names(name_en: str, name_zh: str) -> tuple[str, str]:
    names = (name_en or "").strip(), (name_zh or "").strip()
    if not all(names):
        raise LevelError(N_("Give the level a name in both languages."))
    return names


def create_level(*, min_points: int, name_en: str, name_zh: str, actor_id: int | None,
                 now: datetime) -> Level:
    name_en, name_zh = _level_names(name_en, name_zh)
    level = Level(min_points=int(min_points), name_en=name_en, name_zh=name_zh)
    with db.session.no_autoflush:
        _check_ladder(level)
    db.session.add(level)
    db.session.flush()
    record_audit("level.create", actor_id=actor_id, now=now, target_type="level",
                 target_id=level.id, details={"min_points": level.min_points,
                                              "name_en": name_en})
    return level


def update_level(level_id: int, *, min_points: int, name_en: str, name_zh: str,
                 actor_id: int | None, now: datetime) -> bool:
    level = db.session.get(Level, level_id)
    if level is None:
        raise LevelError(N_("No such level."))
    name_en, name_zh = _level_names(name_en, name_zh)
    before = (level.min_points, level.name_en, level.name_zh)
    after = (int(min_points), name_en, name_zh)
    if before == after:
        return False
    with db.session.no_autoflush:
        level.min_points, level.name_en, level.name_zh = after
        try:
            _check_ladder(level)
        except LevelError:
            level.min_points, level.name_en, level.name_zh = before
            raise
    db.session.flush()
    record_audit("level.update", actor_id=actor_id, now=now, target_type="level",
                 target_id=level.id, details={"from": list(before), "to": list(after)})
    return True


def delete_level(level_id: int, *, actor_id: int | None, now: datetime) -> None:
    level = db.session.get(Level, level_id)
    if level is None:
        raise LevelError(N_("No such level."))
    _check_ladder(None, removed=level)
    details = {"min_points": level.min_points, "name_en": level.name_en}
    db.session.delete(level)
    db.session.flush()
    record_audit("level.delete", actor_id=actor_id, now=now, target_type="level",
                 target_id=level_id, details=details)


__all__ = ["BadgeError", "BadgeValues", "LevelError", "check_automatic_badges",
           "create_badge_class", "create_level", "delete_level", "grant_badge",
           "revoke_award", "update_badge_class", "update_level"]
