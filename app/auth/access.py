"""Route guards: every view says which permission it needs; ownership is checked in the view
through the package's queries (e.g. `can_view_person`)."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user

from app.extensions import login_manager


def permission_required(*permissions):
    """Signed in, and holding at least one of the permissions; else 401-redirect or 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if permissions and not any(current_user.can(p) for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permissions = permissions
        return wrapped

    return decorator


def role_required(*roles):
    """Signed in, and holding at least one of the roles."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not any(current_user.has_role(r) for r in roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: redirects never leave the site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc or "\\" in target else target
