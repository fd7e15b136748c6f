"""Home pages per role, the language switch and the health check."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from app.auth.access import safe_next
from app.auth.roles import HOME_PRIORITY, Role
from app.auth.services import set_locale
from app.centre.periods import centre_tz
from app.database import db, utcnow
from app.i18n import LANGUAGES
from app.main.forms import LanguageForm
from app.main.queries import HOME_DATA

bp = Blueprint("main", __name__, template_folder="templates")


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("main.home"))


@bp.route("/home")
@login_required
def home():
    role = current_user.primary_role
    if role is None:
        abort(403)
    return redirect(url_for("main.role_home", role=role.value))


@bp.route("/home/<role>")
@login_required
def role_home(role: str):
    if role not in {r.value for r in Role} or not current_user.has_role(role):
        abort(403)
    today = utcnow().astimezone(centre_tz()).date()
    data = HOME_DATA[Role(role)](current_user, today)
    other_roles = [r for r in HOME_PRIORITY if r in current_user.roles and r.value != role]
    return render_template(f"main/home_{role}.html", today=today, other_roles=other_roles,
                           **data)


@bp.route("/language", methods=["POST"])
def language_set():
    """Switch the interface language; remembered for the user, or the browser session."""
    form = LanguageForm()
    if not form.validate_on_submit() or form.locale.data not in LANGUAGES:
        abort(400)
    session["locale"] = form.locale.data
    if current_user.is_authenticated:
        set_locale(current_user.id, form.locale.data, now=utcnow())
        db.session.commit()
    return redirect(safe_next(form.next.data) or url_for("main.index"))


@bp.route("/healthz")
def healthz():
    """Liveness and database reachability, for load balancers and monitoring."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any driver error means "not reachable"
        db.session.rollback()
        database = "unreachable"
    status = 200 if database == "ok" else 503
    return jsonify({"status": "ok" if status == 200 else "degraded", "database": database}), status
