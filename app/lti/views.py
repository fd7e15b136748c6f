"""The LMS plug-in's pages: the platform's side (OIDC login, launch, JWKS, deep linking) and
the admin's (platforms, the values a platform needs, keys, the outboxes)."""
from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, OIDCException
from sqlalchemy import func, select

from app.auth.access import permission_required
from app.auth.roles import Permission, Role
from app.centre.events import learning_event
from app.database import db, utcnow
from app.errors import DomainError
from app.extensions import csrf
from app.lti import keys, services, tool
from app.lti.forms import PlatformForm
from app.lti.models import GradeOutbox, Platform, ToolKey, XapiOutbox

bp = Blueprint("lti", __name__, template_folder="templates")
log = logging.getLogger(__name__)

ITEM_CLAIM = "pinwheel_item"


def _refused(reason: str, status: int = 400):
    log.warning("LTI launch refused: %s", reason)
    return render_template("lti/refused.html", reason=reason), status


def item_url(item: str) -> str | None:
    """Where a Pinwheel item (as deep linking names it) is: "scenario:S05", "quiz:Q-SOP",
    "lesson:L-SOP", "path:ONBOARDING", "leaderboard"."""
    kind, _sep, code = (item or "").partition(":")
    endpoints = {"scenario": ("scenarios.show", "code"), "quiz": ("training.quiz", "code"),
                 "lesson": ("training.lesson", "code"), "path": ("training.path", "code")}
    if kind == "leaderboard":
        return url_for("leaderboard.index")
    if kind in endpoints and code:
        endpoint, arg = endpoints[kind]
        return url_for(endpoint, **{arg: code})
    return None


# --- the platform's side ------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
def login():
    """OIDC third-party-initiated login: the platform asks; the tool answers with the
    authentication request (state and nonce kept for every worker)."""
    now = utcnow()
    target = request.values.get("target_link_uri") or url_for("lti.launch", _external=True)
    try:
        response = tool.oidc_login(now=now).redirect(target)
    except (LtiException, OIDCException) as exc:
        db.session.rollback()
        return _refused(str(exc))
    db.session.commit()
    return response


@bp.route("/launch", methods=["POST"])
@csrf.exempt
def launch():
    now = utcnow()
    try:
        message = tool.message_launch(now=now)
        data = message.get_launch_data()
    except LtiException as exc:
        db.session.rollback()
        return _refused(str(exc))
    platform = services.platform_of(data["iss"], data["aud"])
    if platform is None or not platform.is_active:
        db.session.rollback()
        return _refused("The platform is not registered.")
    try:
        user = services.provision(platform, data, now=now)
    except DomainError as exc:
        db.session.rollback()
        return _refused(exc.message % exc.params)
    custom = data.get(services.CLAIM + "custom") or {}
    item = custom.get(ITEM_CLAIM, "")
    if item:
        services.remember_line_item(platform, data, item, item)
    db.session.commit()
    login_user(user)
    session["lti"] = True
    if user.locale:
        session["locale"] = user.locale
    learning_event.send("lti", kind="launched", user_id=user.id,
                        object_type=item.partition(":")[0] or "pinwheel",
                        object_id=item.partition(":")[2] or "home", object_name=item or "Pinwheel",
                        at=now, homepage=platform.issuer)
    db.session.commit()
    if message.is_deep_link_launch():
        return redirect(url_for("lti.deep_link", launch_id=message.get_launch_id()))
    return redirect(item_url(item) or url_for("main.index"))


@bp.route("/jwks")
def jwks():
    data = keys.jwks(now=utcnow())
    db.session.commit()
    return jsonify(data)


@bp.route("/deep-link/<launch_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TRAINING, Permission.VIEW_TEAM)
def deep_link(launch_id: str):
    """An instructor picks what to place in the course; the tool answers the platform with
    the signed content item."""
    from app.scenarios.queries import list_library
    from app.training.queries import paths, quizzes
    try:
        message = tool.message_launch(now=utcnow(), launch_id=launch_id)
    except LtiException:
        abort(404)
    choices = [("leaderboard", _("This month's leaderboard"))]
    choices += [(f"scenario:{s.code}", f"{s.code} {v.title_zh} / {v.title_en}")
                for s, v in list_library()]
    choices += [(f"quiz:{q.code}", f"{q.code} {q.title_zh} / {q.title_en}") for q in quizzes()]
    choices += [(f"path:{p.code}", f"{p.code} {p.title_zh} / {p.title_en}") for p in paths()]
    if request.method == "POST":
        item = request.form.get("item", "")
        label = dict(choices).get(item)
        if label is None:
            flash(_("Choose what to place in the course."), "error")
        else:
            resource = (DeepLinkResource().set_url(url_for("lti.launch", _external=True))
                        .set_title(str(label)).set_custom_params({ITEM_CLAIM: item}))
            if item.startswith(("quiz:", "scenario:", "path:")):
                resource.set_lineitem(_line_item(item, str(label)))
            html = message.get_deep_link().output_response_form([resource])
            return html
    return render_template("lti/deep_link.html", choices=choices)


def _line_item(item: str, label: str):
    from pylti1p3.lineitem import LineItem
    return (LineItem().set_score_maximum(100).set_label(label[:200]).set_resource_id(item)
            .set_tag("pinwheel"))


# --- the admin's side ---------------------------------------------------------------------

@bp.route("/")
@permission_required(Permission.ADMIN_LTI)
def index():
    now = utcnow()
    keys.active_key(now=now)
    db.session.commit()
    platforms = db.session.scalars(select(Platform).order_by(Platform.name)).all()
    tool_keys = db.session.scalars(select(ToolKey).order_by(ToolKey.id.desc())).all()
    grades = dict(db.session.execute(select(GradeOutbox.status, func.count(GradeOutbox.id))
                                     .group_by(GradeOutbox.status)).all())
    statements = dict(db.session.execute(select(XapiOutbox.status, func.count(XapiOutbox.id))
                                         .group_by(XapiOutbox.status)).all())
    failed = db.session.scalars(select(GradeOutbox).where(GradeOutbox.status == "failed")
                                .order_by(GradeOutbox.id.desc()).limit(20)).all()
    values = {_("OIDC login URL"): url_for("lti.login", _external=True),
              _("Launch (redirect) URL"): url_for("lti.launch", _external=True),
              _("Deep-linking URL"): url_for("lti.launch", _external=True),
              _("Public key set (JWKS) URL"): url_for("lti.jwks", _external=True)}
    return render_template("lti/index.html", platforms=platforms, keys=tool_keys,
                           values=values, grades=grades, statements=statements, failed=failed,
                           lrs=bool(current_app.config.get("LRS_URL")), now=now)


@bp.route("/platforms/new", methods=["GET", "POST"], defaults={"platform_id": None})
@bp.route("/platforms/<int:platform_id>", methods=["GET", "POST"])
@permission_required(Permission.ADMIN_LTI)
def platform_edit(platform_id: int | None):
    platform = db.get_or_404(Platform, platform_id) if platform_id else None
    form = PlatformForm(obj=platform)
    if request.method == "GET" and platform is not None:
        form.deployment_ids.data = "\n".join(platform.deployment_ids)
    if form.validate_on_submit():
        try:
            services.save_platform(
                platform_id=platform_id, name=form.name.data, issuer=form.issuer.data,
                client_id=form.client_id.data, auth_login_url=form.auth_login_url.data,
                auth_token_url=form.auth_token_url.data, key_set_url=form.key_set_url.data,
                deployment_ids=(form.deployment_ids.data or "").split(),
                instructor_role=form.instructor_role.data, actor_id=current_user.id,
                now=utcnow())
        except DomainError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("Platform saved."), "success")
            return redirect(url_for("lti.index"))
    from app.auth.models import Team
    teams = db.session.scalars(select(Team).order_by(Team.name)).all()
    return render_template("lti/platform.html", form=form, platform=platform, teams=teams)


@bp.route("/platforms/<int:platform_id>/courses", methods=["POST"])
@permission_required(Permission.ADMIN_LTI)
def course_action(platform_id: int):
    """Map a course to a team or a cohort, or pull its roster."""
    from app.lti.forms import ActionForm
    platform = db.get_or_404(Platform, platform_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    context = request.form.get("context", "")
    known = (platform.contexts or {}).get(context)
    if known is None:
        abort(404)
    now = utcnow()
    try:
        if request.form.get("action") == "sync":
            if not known.get("memberships_url"):
                flash(_("This course has not offered its roster yet."), "error")
                return redirect(url_for("lti.platform_edit", platform_id=platform.id))
            counts = services.sync_roster(platform, known["memberships_url"], context, now=now)
            flash(_("Roster pulled: %(members)s members, %(created)s new.", **counts), "success")
        else:
            services.map_context(platform.id, context,
                                 team_id=request.form.get("team_id", type=int),
                                 cohort=(request.form.get("cohort") or "").strip() or None,
                                 actor_id=current_user.id, now=now)
            flash(_("Course mapping saved."), "success")
    except DomainError as error:
        db.session.rollback()
        flash(error.translated(), "error")
        return redirect(url_for("lti.platform_edit", platform_id=platform.id))
    except Exception as error:   # the platform did not answer: say so, change nothing
        db.session.rollback()
        flash(_("The platform did not answer: %(error)s", error=str(error)[:200]), "error")
        return redirect(url_for("lti.platform_edit", platform_id=platform.id))
    db.session.commit()
    return redirect(url_for("lti.platform_edit", platform_id=platform.id))


@bp.route("/keys/rotate", methods=["POST"])
@permission_required(Permission.ADMIN_LTI)
def keys_rotate():
    from app.lti.forms import ActionForm
    if not ActionForm().validate_on_submit():
        abort(400)
    new = keys.rotate(actor_id=current_user.id, now=utcnow())
    db.session.commit()
    flash(_("A new signing key %(kid)s signs from now on; the old one stays published for a "
            "week.", kid=new.kid[:12]), "success")
    return redirect(url_for("lti.index"))


@bp.route("/outbox/send", methods=["POST"])
@permission_required(Permission.ADMIN_LTI)
def outbox_send():
    from app.lti.forms import ActionForm
    if not ActionForm().validate_on_submit():
        abort(400)
    now = utcnow()
    grades = services.publish_pending(now=now)
    db.session.commit()
    flash(_("Scores sent: %(sent)s; still waiting: %(failed)s.", sent=grades["sent"],
            failed=grades["failed"]), "success" if not grades["failed"] else "error")
    return redirect(url_for("lti.index"))


def is_instructor(user) -> bool:
    return user.has_role(Role.TRAINER) or user.has_role(Role.TEAM_LEAD) or \
        user.has_role(Role.ADMIN)
