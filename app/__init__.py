"""The application factory."""
from __future__ import annotations

import functools
import os
from pathlib import Path

from babel import Locale
from babel.lists import format_list
from flask import Flask, render_template, request, url_for
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
    gettext,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy import bindparam, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import joinedload

from app.extensions import babel, cache, csrf, db, limiter, login_manager, migrate
from app.i18n import LANGUAGE_NAMES, LANGUAGES, select_locale
from config import INSTANCE_DIR, load_config

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys; WAL so readers never wait for a writer, with NORMAL
    synchronisation (safe from corruption; a power cut may lose the last commits — the
    production database is PostgreSQL)."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # SQLITE_CACHE_MB of page cache (default 64 MiB; SQLite's own is 2 MiB) and fewer, larger
    # WAL checkpoints: the ledger's indexes stay in memory when months of points or a QA
    # export are written
    cache_mb = int(os.environ.get("SQLITE_CACHE_MB", "64"))
    cursor.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.update(load_config(config_name))
    if overrides:
        app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    _configure_shared_state(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   timezone_selector=lambda: app.config["CENTRE_TIMEZONE"])
    _configure_login(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_templating(app)
    _register_errors(app)
    _register_security_headers(app)
    if app.config.get("PROXY_FIX_HOPS"):   # behind a TLS-terminating proxy: https is https
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = int(app.config["PROXY_FIX_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def _configure_shared_state(app: Flask) -> None:
    """Caches and rate limits: in-process by default, Redis when REDIS_URL is set."""
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        app.config.setdefault("CACHE_TYPE", "RedisCache")
        app.config.setdefault("CACHE_REDIS_URL", redis_url)
        app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url)
    else:
        app.config.setdefault("CACHE_TYPE", "SimpleCache")
        app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("CACHE_KEY_PREFIX", "pinwheel:")


def _configure_login(app: Flask) -> None:
    from app.auth.models import User

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    # the signed-in user with their roles (every page asks for them) in one query, built once
    signed_in = (select(User).options(joinedload(User.role_links))
                 .where(User.id == bindparam("user_id")))

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.execute(signed_in, {"user_id": int(user_id)}).unique(
        ).scalar_one_or_none() if user_id.isdigit() else None
        return user if user is not None and user.is_active else None


def _register_blueprints(app: Flask) -> None:
    from app.audit import bp as audit_bp
    from app.auth import bp as auth_bp
    from app.incentives import bp as incentives_bp
    from app.leaderboard import bp as leaderboard_bp
    from app.lti import bp as lti_bp
    from app.main import bp as main_bp
    from app.notifications import bp as notifications_bp
    from app.qa import bp as qa_bp
    from app.scenarios import bp as scenarios_bp
    from app.training import bp as training_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(notifications_bp, url_prefix="/inbox")
    app.register_blueprint(audit_bp, url_prefix="/audit")
    app.register_blueprint(training_bp, url_prefix="/training")
    app.register_blueprint(scenarios_bp, url_prefix="/scenarios")
    app.register_blueprint(incentives_bp, url_prefix="/windmill")
    app.register_blueprint(leaderboard_bp, url_prefix="/leaderboard")
    app.register_blueprint(qa_bp, url_prefix="/qa")
    app.register_blueprint(lti_bp, url_prefix="/lti")
    from app.lti.listeners import connect
    connect()
    from app.lti.frames import LtiSessionInterface
    app.session_interface = LtiSessionInterface()


def _register_cli(app: Flask) -> None:
    from app.auth.cli import users_cli
    from app.demo.cli import demo_cli
    from app.incentives.cli import incentives_cli, points_cli
    from app.leaderboard.cli import leaderboard_cli
    from app.lti.cli import lti_cli
    from app.qa.cli import qa_cli
    from app.scenarios.cli import scenarios_cli
    from app.training.cli import quiz_cli, training_cli

    for group in (users_cli, demo_cli, points_cli, incentives_cli, leaderboard_cli, qa_cli,
                  scenarios_cli, quiz_cli, training_cli, lti_cli):
        app.cli.add_command(group)


def _register_templating(app: Flask) -> None:
    from app.main.navigation import navigation_for
    from app.notifications.queries import unread_count

    @app.context_processor
    def inject_layout():
        user = current_user if current_user.is_authenticated else None
        return {
            "centre_name": app.config["CENTRE_NAME"],
            "nav_items": navigation_for(user) if user else [],
            "unread_count": unread_count(user.id) if user else 0,
            "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "current_locale": select_locale(),
        }

    app.jinja_env.filters["date"] = lambda value, fmt="medium": (
        format_date(value, fmt) if value else "")
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": (
        format_datetime(value, fmt) if value else "")
    app.jinja_env.filters["number"] = _number
    app.jinja_env.filters["decimal1"] = lambda value: format_decimal(value, "#,##0.#")
    app.jinja_env.filters["link_list"] = _link_list
    # obj|loc("name"): obj.name_zh in Chinese, obj.name_en otherwise
    app.jinja_env.filters["loc"] = _localized
    app.jinja_env.filters["percent"] = lambda value, fmt="#,##0.0%": (
        format_percent(value, fmt) if value is not None else "—")


@functools.cache
def _group_separator(locale: str) -> str | None:
    """The group separator of a language that writes whole numbers as "#,##0" in Latin
    digits, as Python's own grouping does; None for any other."""
    parsed = Locale.parse(locale)
    if (parsed.decimal_formats.get(None).pattern != "#,##0.###"
            or parsed.default_numbering_system != "latn"):
        return None
    return parsed.number_symbols["latn"]["group"]


def _number(value) -> str:
    """A number as the current language writes it (Babel's decimal format). Whole numbers
    from 0 up — points and counts, on every board row — are grouped directly when the
    language writes them the plain way: what Babel would write, without its work."""
    if type(value) is int and value >= 0:
        group = _group_separator(str(get_locale()))
        if group is not None:
            return f"{value:,}".replace(",", group)
    return format_decimal(value)


def _localized(obj, field: str):
    """`obj.<field>_zh` (or the dict's key) in Chinese, `…_en` otherwise."""
    name = f"{field}_zh" if str(select_locale()).startswith("zh") else f"{field}_en"
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def _link_list(items, endpoint: str, key: str) -> Markup:
    """Links to the items, joined the way the current language writes a list ("A, B and C",
    "A、B和C"). Each item has an `id` and a `name`."""
    links = [str(Markup('<a href="{}">{}</a>').format(url_for(endpoint, **{key: item.id}),
                                                        item.name)) for item in items]
    if not links:
        return Markup("")
    return Markup(format_list(links, locale=str(get_locale())))


def _register_errors(app: Flask) -> None:
    def page(status: int, title: str, message: str):
        return render_template("errors.html", status=status, title=title,
                               message=message), status

    @app.errorhandler(403)
    def forbidden(error):
        return page(403, gettext("Not allowed"),
                    gettext("Your role does not allow you to open this page."))

    @app.errorhandler(404)
    def not_found(error):
        return page(404, gettext("Not found"), gettext("There is nothing at this address."))

    @app.errorhandler(413)
    def too_large(error):
        return page(413, gettext("The file is too large"),
                    gettext("The upload is larger than %(mb)s MB. Nothing was saved.",
                            mb=app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)))

    @app.errorhandler(429)
    def too_many(error):
        return page(429, gettext("Too many attempts"),
                    gettext("Too many attempts. Please wait a minute and try again."))

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return page(400, gettext("The form expired"),
                    gettext("The form expired or was not sent by this site. "
                            "Please go back, reload the page and try again."))

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return page(500, gettext("Something went wrong"),
                    gettext("Something went wrong on our side. Nothing was saved."))


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        from app.lti.frames import frame_ancestors
        ancestors = frame_ancestors()
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY.replace(
            "frame-ancestors 'self'", "frame-ancestors " + " ".join(["'self'", *ancestors])))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not ancestors:   # platforms frame Pinwheel; CSP's frame-ancestors names them
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
