"""The LMS plug-in's write side: registering platforms, people from launches (created or
updated from the claims, keyed by issuer + subject, roles mapped, mentors from
`role_scope_mentor`, courses mapped to a team or cohort), scores published to the gradebook
through a retried outbox, the roster pulled from the platform."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone

import requests
from sqlalchemy import select

from app.audit.services import record_audit
from app.auth import services as people
from app.auth.models import User
from app.auth.roles import Role
from app.centre.periods import centre_tz
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.lti import keys
from app.lti.models import GradeOutbox, LineItem, LtiIdentity, Platform

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


class LtiError(DomainError):
    pass


# --- platforms ------------------------------------------------------------------------------

URL_RE = re.compile(r"^https?://[^\s]+$")


def save_platform(*, platform_id: int | None, name: str, issuer: str, client_id: str,
                  auth_login_url: str, auth_token_url: str, key_set_url: str,
                  deployment_ids: list[str], instructor_role: str = "trainer",
                  actor_id: int | None, now: datetime) -> Platform:
    """Register a platform (or change one); the tool's keys are made on first use."""
    for label, url in (("auth_login_url", auth_login_url), ("auth_token_url", auth_token_url),
                       ("key_set_url", key_set_url), ("issuer", issuer)):
        if not URL_RE.match(url or ""):
            raise LtiError(N_("%(field)s must be an http(s) URL."), field=label)
    if not client_id.strip() or not name.strip():
        raise LtiError(N_("Give the platform a name and the client id it issued."))
    deployments = [d.strip() for d in deployment_ids if d.strip()]
    if not deployments:
        raise LtiError(N_("Give at least one deployment id."))
    if instructor_role not in (Role.TEAM_LEAD.value, Role.TRAINER.value):
        raise LtiError(N_("Instructors become team leads or trainers."))
    platform = db.session.get(Platform, platform_id) if platform_id else None
    clash = db.session.scalar(select(Platform).where(Platform.issuer == issuer.strip(),
                                                     Platform.client_id == client_id.strip()))
    if clash is not None and clash is not platform:
        raise LtiError(N_("This issuer and client id are registered already."))
    if platform is None:
        platform = Platform(created_at=now, contexts={})
        db.session.add(platform)
    platform.name, platform.issuer, platform.client_id = name.strip(), issuer.strip(), \
        client_id.strip()
    platform.auth_login_url, platform.auth_token_url = auth_login_url, auth_token_url
    platform.key_set_url, platform.deployment_ids = key_set_url, deployments
    platform.instructor_role, platform.is_active = instructor_role, True
    db.session.flush()
    keys.active_key(now=now)
    from app.lti.frames import forget_frame_ancestors
    forget_frame_ancestors()
    record_audit("lti.platform_saved", actor_id=actor_id, now=now, target_type="lti_platform",
                 target_id=platform.id, details={"issuer": platform.issuer,
                                                 "client_id": platform.client_id})
    return platform


def map_context(platform_id: int, context_id: str, *, team_id: int | None = None,
                cohort: str | None = None, actor_id: int | None, now: datetime) -> None:
    """A course of the platform is one team, or one onboarding cohort (hire month)."""
    platform = db.session.get(Platform, platform_id)
    if cohort and not re.match(r"^\d{4}-(0[1-9]|1[0-2])$", cohort):
        raise LtiError(N_("A cohort is a hire month: YYYY-MM."))
    contexts = dict(platform.contexts or {})
    known = dict(contexts.get(context_id) or {})
    known.pop("team_id", None)
    known.pop("cohort", None)
    if team_id:
        known["team_id"] = team_id
    elif cohort:
        known["cohort"] = cohort
    contexts[context_id] = known
    platform.contexts = contexts
    record_audit("lti.context_mapped", actor_id=actor_id, now=now, target_type="lti_platform",
                 target_id=platform.id, details={"context": context_id, "team_id": team_id,
                                                 "cohort": cohort})


def remember_context(platform: Platform, data: dict) -> None:
    """The courses a platform launched from, with their title and roster URL, for the admin
    to map and to sync."""
    context = data.get(CLAIM + "context") or {}
    if not context.get("id"):
        return
    contexts = dict(platform.contexts or {})
    known = dict(contexts.get(context["id"]) or {})
    known["title"] = (context.get("title") or context.get("label") or "")[:200]
    members = (data.get(NRPS_CLAIM) or {}).get("context_memberships_url")
    if members:
        known["memberships_url"] = members
    if known != contexts.get(context["id"]):
        contexts[context["id"]] = known
        platform.contexts = contexts


def platform_of(issuer: str, client_id: str | list) -> Platform | None:
    client = client_id[0] if isinstance(client_id, list) else client_id
    return db.session.scalar(select(Platform).where(Platform.issuer == issuer,
                                                    Platform.client_id == client))


# --- people from launches --------------------------------------------------------------------

def roles_of(lti_roles: list[str], platform: Platform) -> set[Role]:
    """LTI roles → ours: Learner → agent, Mentor → mentor, Instructor or TeachingAssistant →
    the platform's instructor role, Administrator → admin."""
    mapped: set[Role] = set()
    for role in lti_roles or []:
        tail = role.rsplit("#", 1)[-1] if "#" in role else role.rsplit("/", 1)[-1]
        if tail == "Learner":
            mapped.add(Role.AGENT)
        elif tail == "Mentor":
            mapped |= {Role.MENTOR, Role.AGENT}
        elif tail in ("Instructor", "TeachingAssistant"):
            mapped.add(Role(platform.instructor_role))
        elif tail == "Administrator":
            mapped.add(Role.ADMIN)
    return mapped or {Role.AGENT}


def _locale(claim: str | None) -> str | None:
    if not claim:
        return None
    return "en" if claim.lower().startswith("en") else "zh_Hans" \
        if claim.lower().startswith("zh") else None


def _free_email(email: str | None, user_id: int | None) -> str | None:
    if not email or "@" not in email:
        return None
    holder = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    return email if holder is None or holder.id == user_id else None


def provision(platform: Platform, data: dict, *, now: datetime) -> User:
    """The person a launch speaks for: created on the first launch, brought up to date on
    each one (name, e-mail, language, roles added, team or cohort of the course)."""
    subject = str(data["sub"])
    name = (data.get("name") or " ".join(filter(None, (data.get("given_name"),
                                                         data.get("family_name"))))
            or subject).strip()[:120]
    locale = _locale(data.get("locale") or (data.get(CLAIM + "launch_presentation") or {})
                     .get("locale"))
    roles = roles_of(data.get(CLAIM + "roles") or [], platform)
    context = (data.get(CLAIM + "context") or {}).get("id")
    remember_context(platform, data)
    mapping = (platform.contexts or {}).get(context) or {}
    identity = db.session.scalar(select(LtiIdentity).where(
        LtiIdentity.platform_id == platform.id, LtiIdentity.subject == subject))
    if identity is None:
        today = now.astimezone(centre_tz()).date()
        hire = today
        if mapping.get("cohort"):
            year, month = (int(x) for x in mapping["cohort"].split("-"))
            hire = date(year, month, 1)
        user = people.create_user(
            employee_number=f"lti{platform.id}-{abs(hash_subject(subject))}"[:32], name=name,
            hire_date=hire, email=_free_email(data.get("email"), None), roles=[
                r.value for r in roles], team_id=mapping.get("team_id"), locale=locale,
            actor_id=None, now=now)
        identity = LtiIdentity(platform_id=platform.id, subject=subject, user_id=user.id,
                               last_launch_at=now)
        db.session.add(identity)
    else:
        user = identity.user
        changes = {"name": name, "roles": {Role(r) for r in user.roles} | roles}
        email = _free_email(data.get("email"), user.id)
        if email:
            changes["email"] = email
        if mapping.get("team_id") and Role.AGENT in roles:
            changes["team_id"] = mapping["team_id"]
        people.update_user(user.id, actor_id=None, now=now, **changes)
        if locale:
            user.locale = locale
        identity.last_launch_at = now
    _mentees(platform, user, roles, data.get(CLAIM + "role_scope_mentor") or [], now)
    db.session.flush()
    return user


def hash_subject(subject: str) -> int:
    """A short stable number for a platform's subject (the employee number of LTI users)."""
    import hashlib
    return int(hashlib.sha256(subject.encode("utf-8")).hexdigest()[:12], 16)


def _mentees(platform: Platform, mentor: User, roles: set[Role], subjects: list[str],
             now: datetime) -> None:
    """A Mentor launch names its mentees: they become this mentor's apprentices here."""
    if Role.MENTOR not in roles or not subjects:
        return
    today = now.astimezone(centre_tz()).date()
    for identity in db.session.scalars(select(LtiIdentity).where(
            LtiIdentity.platform_id == platform.id, LtiIdentity.subject.in_(
                [str(s) for s in subjects]))):
        current = people.current_mentorship(identity.user_id)
        if identity.user_id != mentor.id and (current is None or current.mentor_id != mentor.id):
            people.assign_mentor(identity.user_id, mentor.id, started_on=today, actor_id=None,
                                 now=now)


# --- scores to the gradebook -----------------------------------------------------------------

def remember_line_item(platform: Platform, data: dict, resource_id: str, label: str) -> \
        LineItem | None:
    """The gradebook column a launch's course offers for this item (made on first publish)."""
    endpoint = data.get(AGS_CLAIM) or {}
    lineitems = endpoint.get("lineitems")
    context = (data.get(CLAIM + "context") or {}).get("id") or ""
    if not lineitems or SCOPE_SCORE not in (endpoint.get("scope") or []):
        return None
    item = db.session.scalar(select(LineItem).where(
        LineItem.platform_id == platform.id, LineItem.lineitems_url == lineitems,
        LineItem.resource_id == resource_id))
    if item is None:
        item = LineItem(platform_id=platform.id, context_id=context, lineitems_url=lineitems,
                        resource_id=resource_id, lineitem_url=endpoint.get("lineitem"),
                        label=label[:200], score_maximum=100.0)
        db.session.add(item)
        db.session.flush()
    return item


def queue_score(user_id: int, resource_id: str, *, score: float | None, activity: str,
                grading: str, comment: str = "", now: datetime) -> int:
    """Put a score for every gradebook column of this item the person launched from.
    `activity`/`grading` are AGS's activityProgress and gradingProgress, said truthfully."""
    queued = 0
    identities = db.session.scalars(select(LtiIdentity).where(LtiIdentity.user_id == user_id))
    for identity in identities:
        for item in db.session.scalars(select(LineItem).where(
                LineItem.platform_id == identity.platform_id,
                LineItem.resource_id == resource_id)):
            payload = {"userId": identity.subject, "activityProgress": activity,
                       "gradingProgress": grading,
                       "timestamp": now.astimezone(timezone.utc).isoformat(
                           timespec="milliseconds").replace("+00:00", "Z"),
                       "scoreMaximum": item.score_maximum}
            if score is not None:
                payload["scoreGiven"] = round(float(score), 2)
            if comment:
                payload["comment"] = comment[:1000]
            db.session.add(GradeOutbox(line_item_id=item.id, user_id=user_id,
                                       subject=identity.subject, payload=payload,
                                       status="pending", attempts=0, created_at=now,
                                       next_try_at=now))
            queued += 1
    db.session.flush()
    return queued


def _token(platform: Platform, scopes: list[str], session: requests.Session, now: datetime,
           cache: dict) -> str:
    import jwt
    key = tuple(sorted(scopes)) + (platform.id,)
    if key in cache:
        return cache[key]
    import time
    import uuid
    signing = keys.active_key(now=now)
    issued = int(time.time())   # the wall clock: the platform checks it against its own
    assertion = jwt.encode({
        "iss": platform.client_id, "sub": platform.client_id, "aud": platform.auth_token_url,
        "iat": issued - 5, "exp": issued + 300, "jti": str(uuid.uuid4())},
        keys.private_pem(signing), algorithm="RS256", headers={"kid": signing.kid})
    response = session.post(platform.auth_token_url, data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion, "scope": " ".join(scopes)}, timeout=10)
    response.raise_for_status()
    cache[key] = response.json()["access_token"]
    return cache[key]


def _ensure_line_item(item: LineItem, token: str, session: requests.Session) -> str:
    if item.lineitem_url:
        return item.lineitem_url
    headers = {"Authorization": f"Bearer {token}", "Accept": LINEITEM_TYPE}
    listed = session.get(item.lineitems_url, params={"resource_id": item.resource_id},
                         headers=headers, timeout=10)
    listed.raise_for_status()
    found = [li for li in listed.json() if li.get("resourceId") == item.resource_id]
    if found:
        item.lineitem_url = found[0]["id"]
    else:
        created = session.post(item.lineitems_url, data=json.dumps({
            "scoreMaximum": item.score_maximum, "label": item.label,
            "resourceId": item.resource_id, "tag": "pinwheel"}),
            headers=headers | {"Content-Type": LINEITEM_TYPE}, timeout=10)
        created.raise_for_status()
        item.lineitem_url = created.json()["id"]
    return item.lineitem_url


def publish_pending(*, now: datetime, session: requests.Session | None = None) -> dict:
    """Send the due scores; a failure keeps the score queued, retried later, never lost."""
    session = session or requests.Session()
    tokens: dict = {}
    counts = {"sent": 0, "failed": 0}
    due = db.session.scalars(select(GradeOutbox).where(
        GradeOutbox.status.in_(("pending", "failed")), GradeOutbox.next_try_at <= now)
        .order_by(GradeOutbox.id)).all()
    for entry in due:
        item = entry.line_item
        platform = db.session.get(Platform, item.platform_id)
        try:
            token = _token(platform, [SCOPE_LINEITEM, SCOPE_SCORE], session, now, tokens)
            url = _ensure_line_item(item, token, session)
            base, _, query = url.partition("?")
            response = session.post(f"{base.rstrip('/')}/scores" + (f"?{query}" if query
                                                                    else ""),
                                    data=json.dumps(entry.payload), timeout=10, headers={
                                        "Authorization": f"Bearer {token}",
                                        "Content-Type": SCORE_TYPE})
            response.raise_for_status()
        except (requests.RequestException, KeyError, ValueError) as exc:
            entry.attempts += 1
            entry.status = "failed"
            entry.last_error = str(exc)[:1000]
            entry.next_try_at = now + timedelta(minutes=min(2 ** entry.attempts, 60))
            counts["failed"] += 1
            continue
        entry.status, entry.sent_at, entry.last_error = "sent", now, None
        counts["sent"] += 1
    db.session.flush()
    return counts


# --- the roster ------------------------------------------------------------------------------

def sync_roster(platform: Platform, memberships_url: str, context_id: str, *, now: datetime,
                session: requests.Session | None = None) -> dict:
    """Pull the course's members (all pages) into Pinwheel, as launches would make them."""
    session = session or requests.Session()
    token = _token(platform, [SCOPE_NRPS], session, now, {})
    url, counts = memberships_url, {"members": 0, "created": 0}
    while url:
        response = session.get(url, timeout=10, headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"})
        response.raise_for_status()
        for member in response.json().get("members", []):
            if member.get("status", "Active") != "Active":
                continue
            known = db.session.scalar(select(LtiIdentity).where(
                LtiIdentity.platform_id == platform.id,
                LtiIdentity.subject == str(member["user_id"])))
            provision(platform, {"sub": member["user_id"], "name": member.get("name"),
                                 "given_name": member.get("given_name"),
                                 "family_name": member.get("family_name"),
                                 "email": member.get("email"),
                                 CLAIM + "roles": member.get("roles") or [],
                                 CLAIM + "context": {"id": context_id}}, now=now)
            counts["members"] += 1
            counts["created"] += int(known is None)
        match = re.search(r'<([^>]+)>\s*;\s*rel="next"', response.headers.get("Link", ""))
        url = match.group(1) if match else None
    record_audit("lti.roster_synced", actor_id=None, now=now, target_type="lti_platform",
                 target_id=platform.id, details={"context": context_id, **counts})
    return counts
