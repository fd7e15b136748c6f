"""Pinwheel inside a platform's iframe: the registered platforms may frame it (CSP
frame-ancestors lists them, and only them), and a session started by an LTI launch over
HTTPS keeps its cookie in a cross-site frame (SameSite=None; Secure)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import request, session
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from app.database import db
from app.extensions import cache

_CACHE_KEY = "lti-frame-ancestors"


def frame_ancestors() -> list[str]:
    """The origins of the registered platforms (cached for a minute)."""
    origins = cache.get(_CACHE_KEY)
    if origins is None:
        from app.lti.models import Platform
        try:
            rows = db.session.execute(select(Platform.issuer, Platform.auth_login_url).where(
                Platform.is_active.is_(True))).all()
        except Exception:   # no table yet (before the migrations)
            db.session.rollback()
            rows = []
        origins = sorted({f"{u.scheme}://{u.netloc}" for row in rows for u in map(urlsplit, row)
                          if u.scheme in ("http", "https") and u.netloc})
        cache.set(_CACHE_KEY, origins, timeout=60)
    return origins


def forget_frame_ancestors() -> None:
    cache.delete(_CACHE_KEY)


class LtiSessionInterface(SecureCookieSessionInterface):
    def get_cookie_samesite(self, app):
        if session.get("lti") and request.is_secure:
            return "None"
        return super().get_cookie_samesite(app)

    def get_cookie_secure(self, app):
        if session.get("lti") and request.is_secure:
            return True
        return super().get_cookie_secure(app)


