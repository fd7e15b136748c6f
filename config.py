"""Configuration classes. Every setting comes from the environment, with safe defaults.

`DATABASE_URL` (any SQLAlchemy URL) overrides the database in every configuration.
`REDIS_URL`, when set, moves caching and rate limits to Redis so that several
worker processes and hosts share them.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("PINWHEEL_INSTANCE", BASE_DIR / "instance"))


def _normalise_db_url(url: str) -> str:
    """Accept the common `postgres://` and `postgresql://` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'pinwheel.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # The centre
    CENTRE_NAME = os.environ.get("CENTRE_NAME", "Pinwheel Contact Centre")
    CENTRE_TIMEZONE = os.environ.get("CENTRE_TIMEZONE", "Asia/Shanghai")

    # Language
    LANGUAGES = ("zh_Hans", "en")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = CENTRE_TIMEZONE
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")

    # Shared state: in-process by default, Redis when REDIS_URL is set.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    CACHE_DEFAULT_TIMEOUT = 300
    RATELIMIT_HEADERS_ENABLED = True
    SIGNIN_RATE_LIMIT = os.environ.get("SIGNIN_RATE_LIMIT", "5 per minute")

    # Security
    WTF_CSRF_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    # the largest request body (uploads: rosters, QA exports)
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(64 * 1024 * 1024)))

    PAGE_SIZE = 25

    # The training room: re-enactment recordings (stage 2) and scenario media files
    SCENARIO_UPLOAD_DIR = os.environ.get("SCENARIO_UPLOAD_DIR",
                                         str(INSTANCE_DIR / "recordings"))
    SCENARIO_MEDIA_DIR = os.environ.get("SCENARIO_MEDIA_DIR",
                                        str(INSTANCE_DIR / "scenario-media"))
    TRAINING_MEDIA_DIR = os.environ.get("TRAINING_MEDIA_DIR", str(INSTANCE_DIR / "lesson-media"))

    # The LMS plug-in
    LTI_LEEWAY_SECONDS = int(os.environ.get("LTI_LEEWAY_SECONDS", "10"))
    # proxies in front of the app whose X-Forwarded-* headers are trusted (0: none)
    PROXY_FIX_HOPS = int(os.environ.get("PROXY_FIX_HOPS", "0"))
    CENTRE_URL = os.environ.get("CENTRE_URL", "")
    LRS_URL = os.environ.get("LRS_URL", "")
    LRS_USERNAME = os.environ.get("LRS_USERNAME", "")
    LRS_PASSWORD = os.environ.get("LRS_PASSWORD", "")
    SCENARIO_RECORDING_MAX_MB = int(os.environ.get("SCENARIO_RECORDING_MAX_MB", "50"))
    PASSWORD_HASH_METHOD = "scrypt"

    # The incentive windmill
    # a month's negative points stay within this share of its positive points
    NEGATIVE_SHARE_PERCENT = int(os.environ.get("NEGATIVE_SHARE_PERCENT", "20"))
    VIOLATION_WINDOW_DAYS = int(os.environ.get("VIOLATION_WINDOW_DAYS", "90"))
    MANUAL_AWARDS_PER_MONTH = int(os.environ.get("MANUAL_AWARDS_PER_MONTH", "10"))
    # leaderboards: days after the month end during which late results still count; and
    # whether agents see other agents under a pseudonym (managers always see names)
    LEADERBOARD_GRACE_DAYS = int(os.environ.get("LEADERBOARD_GRACE_DAYS", "5"))
    # working days after an import in which an agent may dispute a QA evaluation
    QA_DISPUTE_WORKING_DAYS = int(os.environ.get("QA_DISPUTE_WORKING_DAYS", "3"))
    # the largest QA export read, in bytes and rows
    QA_IMPORT_MAX_BYTES = int(os.environ.get("QA_IMPORT_MAX_BYTES", str(100 * 1024 * 1024)))
    QA_IMPORT_MAX_ROWS = int(os.environ.get("QA_IMPORT_MAX_ROWS", "1000000"))
    LEADERBOARD_PSEUDONYMISE = os.environ.get("LEADERBOARD_PSEUDONYMISE", "") in ("1", "true")
    # how the Service Star composite weighs its parts (JSON in the environment)
    SERVICE_STAR_WEIGHTS = json.loads(os.environ.get(
        "SERVICE_STAR_WEIGHTS",
        '{"qa": 0.4, "praise": 0.25, "mystery_shopper": 0.2, "lead_rating": 0.15}'))


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    # Recordings of tests and the browser suite's demo centre stay out of the instance folder
    SCENARIO_UPLOAD_DIR = os.environ.get("SCENARIO_UPLOAD_DIR") or tempfile.mkdtemp(
        prefix="pinwheel-recordings-")
    TRAINING_MEDIA_DIR = os.environ.get("TRAINING_MEDIA_DIR") or tempfile.mkdtemp(
        prefix="pinwheel-lesson-media-")
    # Fast hashes keep the suite quick; production keeps scrypt.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


class ProductionConfig(Config):
    DEBUG = False
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


class ConfigError(RuntimeError):
    """The configuration cannot be used as it is."""


def load_config(name: str | None) -> dict:
    """Return the settings of the named configuration, with environment overrides applied."""
    name = name or os.environ.get("PINWHEEL_CONFIG", "development")
    cls = CONFIGS[name]
    settings = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
    url = os.environ.get("DATABASE_URL")
    if url:
        settings["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(url)
    if name == "production":
        if not os.environ.get("SECRET_KEY"):
            raise ConfigError("production needs SECRET_KEY set in the environment")
        if not url:
            raise ConfigError("production needs DATABASE_URL set in the environment")
    settings["CONFIG_NAME"] = name
    return settings
