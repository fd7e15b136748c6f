"""The tool's signing keys: generated once, kept encrypted (a key derived from SECRET_KEY),
rotated with the old key kept in the JWKS until it retires."""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta

from cryptography.fernet import Fernet
from flask import current_app
from jwcrypto.jwk import JWK
from sqlalchemy import select

from app.audit.services import record_audit
from app.database import db
from app.lti.models import ToolKey

RETIRE_AFTER = timedelta(days=7)


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    digest = hashlib.sha256(b"pinwheel-lti-keys:" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _public_jwk(private: JWK) -> dict:
    import json
    public = json.loads(private.export_public())
    public.update({"alg": "RS256", "use": "sig", "kid": private.thumbprint()})
    return public


def create_key(*, now: datetime) -> ToolKey:
    private = JWK.generate(kty="RSA", size=2048)
    pem = private.export_to_pem(private_key=True, password=None).decode("ascii")
    key = ToolKey(kid=private.thumbprint(), private_pem=_fernet().encrypt(
        pem.encode("ascii")).decode("ascii"), public_jwk=_public_jwk(private), created_at=now)
    db.session.add(key)
    db.session.flush()
    return key


def active_key(*, now: datetime) -> ToolKey:
    """The key that signs now: the newest not rotated out; made on first use."""
    key = db.session.scalar(select(ToolKey).where(ToolKey.rotated_at.is_(None))
                            .order_by(ToolKey.id.desc()))
    return key or create_key(now=now)


def private_pem(key: ToolKey) -> str:
    return _fernet().decrypt(key.private_pem.encode("ascii")).decode("ascii")


def public_pem(key: ToolKey) -> str:
    import json
    return JWK.from_json(json.dumps(key.public_jwk)).export_to_pem().decode("ascii")


def rotate(*, actor_id: int | None, now: datetime) -> ToolKey:
    """A new signing key; the old one stays published until it retires."""
    old = active_key(now=now)
    old.rotated_at, old.retire_at = now, now + RETIRE_AFTER
    new = create_key(now=now)
    record_audit("lti.key_rotated", actor_id=actor_id, now=now,
                 details={"old": old.kid, "new": new.kid})
    return new


def jwks(*, now: datetime) -> dict:
    """The public keys platforms verify the tool's signatures with: one `keys` array."""
    active_key(now=now)
    keys = db.session.scalars(select(ToolKey).order_by(ToolKey.id)).all()
    return {"keys": [k.public_jwk for k in keys if k.retire_at is None or k.retire_at > now]}
