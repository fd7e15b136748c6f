"""pylti1p3 behind one thin module of ours (the library can be swapped here): the tool's
configuration read from the registered platforms, launch data kept in the database for all
workers, and a message launch that also checks the audience, the authorised party, a small
clock leeway and that a nonce is used once."""
from __future__ import annotations

from datetime import datetime, timedelta

import jwt
from flask import current_app
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.exception import LtiException
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.tool_config import ToolConfDict
from sqlalchemy import delete, select

from app.database import db, utcnow
from app.extensions import cache
from app.lti import keys
from app.lti.models import LaunchData, Platform, UsedNonce

NONCE_LIFETIME = timedelta(hours=2)


class _ToolConf(ToolConfDict):
    """pylti1p3's dictionary configuration, refusing an unknown issuer or client the way it
    refuses everything else (an LtiException the launch page shows)."""

    def get_iss_config(self, iss, client_id=None):
        try:
            return super().get_iss_config(iss, client_id)
        except LtiException:
            raise
        except Exception as exc:
            raise LtiException(f"The issuer or client id is not registered: {exc}") from exc


def tool_config(*, now: datetime) -> ToolConfDict:
    """Every active platform, one issuer with one or more client ids, signed with the active
    key."""
    platforms = db.session.scalars(select(Platform).where(Platform.is_active.is_(True))).all()
    data: dict[str, list] = {}
    for platform in platforms:
        data.setdefault(platform.issuer, []).append({
            "default": not data.get(platform.issuer), "client_id": platform.client_id,
            "auth_login_url": platform.auth_login_url,
            "auth_token_url": platform.auth_token_url, "auth_audience": None,
            "key_set_url": platform.key_set_url, "key_set": None,
            "deployment_ids": list(platform.deployment_ids)})
    conf = _ToolConf(data)
    key = keys.active_key(now=now)
    private, public = keys.private_pem(key), keys.public_pem(key)
    for platform in platforms:
        conf.set_private_key(platform.issuer, private, client_id=platform.client_id)
        conf.set_public_key(platform.issuer, public, client_id=platform.client_id)
    return conf


class DatabaseLaunchData(LaunchDataStorage):
    """State, nonce and launch data in a table: every worker and host sees them."""

    def get_session_cookie_name(self):
        # as pylti1p3's cache storage: without HTTPS, keys go without the session prefix
        if self._request is not None and not self._request.is_secure():
            return None
        return super().get_session_cookie_name()

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str):
        row = db.session.get(LaunchData, self._prepare_key(key)[:255])
        if row is None or row.expires_at <= utcnow():
            return None
        return row.value.get("v")

    def set_value(self, key: str, value, exp: int | None = None) -> None:
        name = self._prepare_key(key)[:255]
        expires = utcnow() + timedelta(seconds=exp or 7200)
        row = db.session.get(LaunchData, name)
        if row is None:
            db.session.add(LaunchData(key=name, value={"v": value}, expires_at=expires))
        else:
            row.value, row.expires_at = {"v": value}, expires
        db.session.flush()

    def check_value(self, key: str) -> bool:
        return self.get_value(key) is not None


def purge_expired(*, now: datetime) -> int:
    done = db.session.execute(delete(LaunchData).where(LaunchData.expires_at <= now)).rowcount
    done += db.session.execute(delete(UsedNonce).where(UsedNonce.expires_at <= now)).rowcount
    return done


class MessageLaunch(FlaskMessageLaunch):
    """pylti1p3's launch with the checks it leaves out (see ../shared/lms-notes.md), and the
    platform's key set cached, fetched again when a token names a key it does not hold."""

    _refreshed = False

    def fetch_public_key(self, key_set_url: str):
        cache_key = "lti-jwks-" + key_set_url
        if not self._refreshed:
            cached = cache.get(cache_key)
            if cached:
                return cached
        key_set = super().fetch_public_key(key_set_url)
        cache.set(cache_key, key_set, timeout=3600)
        return key_set

    def get_public_key(self):
        try:
            return super().get_public_key()
        except LtiException as exc:
            if self._refreshed or "Unable to find public key" not in str(exc):
                raise
            self._refreshed = True          # a new key at the platform: fetch once more
            self._registration.set_key_set(None)
            return super().get_public_key()

    def validate_jwt_signature(self):
        public_key, alg = self.get_public_key()
        body = self._get_jwt_body()
        client_id = self._registration.get_client_id()
        try:
            jwt.decode(self._get_id_token(), public_key, algorithms=[alg], audience=client_id,
                       issuer=self._registration.get_issuer(),
                       leeway=current_app.config["LTI_LEEWAY_SECONDS"],
                       options={"require": ["exp", "iat", "aud", "iss", "sub", "nonce"]})
        except jwt.InvalidTokenError as exc:
            raise LtiException(f"The id_token was refused: {exc}") from exc
        audience = body.get("aud")
        if isinstance(audience, list) and len(audience) > 1 and body.get("azp") != client_id:
            raise LtiException("The authorised party (azp) is not this tool.")
        if "azp" in body and body["azp"] != client_id:
            raise LtiException("The authorised party (azp) is not this tool.")
        return self

    def validate_nonce(self):
        super().validate_nonce()
        nonce = self._get_jwt_body().get("nonce")
        if db.session.get(UsedNonce, nonce[:255]) is not None:
            raise LtiException("This launch was used already (replayed nonce).")
        db.session.add(UsedNonce(nonce=nonce[:255], expires_at=utcnow() + NONCE_LIFETIME))
        db.session.flush()
        return self


def _storage(request: FlaskRequest) -> DatabaseLaunchData:
    storage = DatabaseLaunchData()
    storage.set_request(request)
    return storage


def oidc_login(*, now: datetime):
    request = FlaskRequest()
    return FlaskOIDCLogin(request, tool_config(now=now), launch_data_storage=_storage(request))


def message_launch(*, now: datetime, launch_id: str | None = None):
    request = FlaskRequest()
    conf = tool_config(now=now)
    if launch_id is not None:
        return MessageLaunch.from_cache(launch_id, request, conf,
                                        launch_data_storage=_storage(request))
    return MessageLaunch(request, conf, launch_data_storage=_storage(request))
