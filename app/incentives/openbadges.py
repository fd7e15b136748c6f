"""Badges as Open Badges 2.0: the hosted issuer Profile, BadgeClass and Assertion documents,
and the baked PNG (the assertion in an iTXt chunk with the keyword "openbadges").

Hosted verification: every document lives at its own public address (its `id`), so anyone
can check an assertion by fetching it. Public documents expose only what the specification
needs: the recipient is a salted SHA-256 hash of their e-mail address (or, without one, of
the address of their profile in this centre), never a name or an employee number.
Addresses are absolute: these functions run inside a request (or with SERVER_NAME set).
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json

import openbadges_bakery
from flask import current_app, url_for

from app.incentives.badges import image_path
from app.incentives.models import BadgeAward, BadgeClass

CONTEXT = "https://w3id.org/openbadges/v2"


def issuer_url() -> str:
    return url_for("incentives.badge_issuer", _external=True)


def badge_class_url(badge: BadgeClass) -> str:
    return url_for("incentives.badge_class_json", code=badge.code, _external=True)


def assertion_url(row: BadgeAward) -> str:
    return url_for("incentives.badge_assertion_json", uid=row.uid, _external=True)


def issuer_profile() -> dict:
    """The centre as the issuer of every badge."""
    return {"@context": CONTEXT, "type": "Issuer", "id": issuer_url(),
            "name": current_app.config["CENTRE_NAME"],
            "url": url_for("main.index", _external=True)}


def badge_class_document(badge: BadgeClass) -> dict:
    description = badge.description_en or badge.name_en
    return {
        "@context": CONTEXT, "type": "BadgeClass", "id": badge_class_url(badge),
        "name": badge.name_en, "description": description,
        "image": url_for("incentives.badge_class_image", code=badge.code, _external=True),
        "criteria": {"narrative": description},
        "issuer": issuer_url(),
        "tags": [badge.blade],
    }


def salt_of(row: BadgeAward) -> str:
    """A salt per assertion, derived from the secret key: unguessable, nothing to store."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"openbadges-salt:{row.uid}".encode(), hashlib.sha256).hexdigest()[:16]


def hashed(identity: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest()


def recipient_of(row: BadgeAward) -> dict:
    """The recipient as an OB 2.0 IdentityObject: their e-mail address hashed with a salt, or
    the address of their profile in this centre when they have no e-mail."""
    salt = salt_of(row)
    person = row.user
    if person.email:
        kind, identity = "email", person.email
    else:
        kind = "url"
        identity = url_for("auth.people_show", user_id=person.id, _external=True)
    return {"type": kind, "hashed": True, "salt": salt, "identity": hashed(identity, salt)}


def assertion_document(row: BadgeAward) -> dict:
    return {
        "@context": CONTEXT, "type": "Assertion", "id": assertion_url(row),
        "recipient": recipient_of(row),
        "badge": badge_class_url(row.badge),
        "issuedOn": row.awarded_at.isoformat(timespec="seconds"),
        "image": url_for("incentives.badge_assertion_png", uid=row.uid, _external=True),
        "verification": {"type": "hosted"},
    }


def revoked_document(row: BadgeAward) -> dict:
    """What a withdrawn assertion answers (with 410 Gone)."""
    return {"@context": CONTEXT, "type": "Assertion", "id": assertion_url(row), "revoked": True}


def bake(image: bytes, assertion: dict) -> bytes:
    """The badge's PNG with the assertion baked into an iTXt chunk ("openbadges")."""
    baked = openbadges_bakery.bake(io.BytesIO(image),
                                   json.dumps(assertion, ensure_ascii=False, sort_keys=True),
                                   io.BytesIO())
    return baked.getvalue()


def unbake(data: bytes) -> str | None:
    """The Open Badges text baked into a PNG, if any."""
    return openbadges_bakery.unbake(io.BytesIO(data))


def baked_assertion_png(row: BadgeAward) -> bytes | None:
    path = image_path(row.badge)
    if path is None:
        return None
    return bake(path.read_bytes(), assertion_document(row))
