"""Read-only links for the wallboard on the floor: created and revoked by an admin; only a
hash of each link's secret is kept."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select

from app.audit.services import record_audit
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.leaderboard.models import WallboardToken


class WallboardError(DomainError):
    pass


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(label: str, *, actor_id: int | None, now: datetime) -> tuple[WallboardToken, str]:
    """A new link; the secret is returned once and never stored."""
    label = (label or "").strip()
    if not label:
        raise WallboardError(N_("Name the screen the link is for."))
    secret = secrets.token_urlsafe(24)
    token = WallboardToken(token_hash=_hash(secret), label=label[:120], created_by_id=actor_id,
                           created_at=now)
    db.session.add(token)
    db.session.flush()
    record_audit("wallboard.create", actor_id=actor_id, now=now, target_type="wallboard",
                 target_id=token.id, details={"label": token.label})
    return token, secret


def revoke_token(token_id: int, *, actor_id: int | None, now: datetime) -> WallboardToken:
    token = db.session.get(WallboardToken, token_id)
    if token is None:
        raise WallboardError(N_("No such wallboard link."))
    if token.revoked_at is None:
        token.revoked_at = now
        record_audit("wallboard.revoke", actor_id=actor_id, now=now, target_type="wallboard",
                     target_id=token.id, details={"label": token.label})
    db.session.flush()
    return token


def valid_token(secret: str) -> WallboardToken | None:
    """The live token for a link's secret, or None (unknown or revoked)."""
    token = db.session.scalar(select(WallboardToken).where(
        WallboardToken.token_hash == _hash(secret or "")))
    return token if token is not None and token.revoked_at is None else None


def list_tokens() -> list[WallboardToken]:
    return list(db.session.scalars(select(WallboardToken).order_by(
        WallboardToken.created_at.desc())))
