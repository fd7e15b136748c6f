"""Badges (mine, granting, managing, withdrawing), the level ladder, the Service Star
proposals, and the public Open Badges documents. Thin: parse, call a service, commit."""
from __future__ import annotations

import uuid
from datetime import date

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.auth.access import permission_required, role_required
from app.auth.roles import Permission, Role
from app.centre.periods import (
    PeriodError,
    centre_tz,
    parse_period,
    period_of,
    previous_period,
)
from app.database import db, utcnow
from app.incentives import badges, openbadges, stars
from app.incentives.badges import BadgeError, BadgeValues, LevelError
from app.incentives.forms_badges import (
    BadgeClassForm,
    DecisionForm,
    GrantBadgeForm,
    LevelForm,
    ProposeMonthForm,
    ProposeYearForm,
    RevokeAwardForm,
)
from app.incentives.ledger import earned_total
from app.incentives.models import BadgeAward, Level, ServiceStarNomination
from app.incentives.queries import list_levels, localized
from app.incentives.stars import StarError
from app.incentives.views import bp


def _locale() -> str:
    return str(get_locale())


def _field_of(form, error: BadgeError, default: str):
    """The form field an error belongs beside (inline), else `default`."""
    return getattr(form, error.field or default, None) or getattr(form, default)


def _page(query):
    return db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)


# --- my badges ---------------------------------------------------------------------------

@bp.route("/badges")
@permission_required(Permission.USE_INCENTIVES)
def badge_list():
    return render_template("incentives/badge_list.html",
                           page=_page(badges.awards_of(current_user.id)),
                           classes=badges.list_badge_classes(active_only=True), locale=_locale())


# --- granting ----------------------------------------------------------------------------

def _grant_form(grantable) -> GrantBadgeForm:
    form = GrantBadgeForm()
    locale = _locale()
    form.badge_id.choices = [SelectChoice(b.id, localized(b, "name", locale)) for b in grantable]
    form.agent_id.choices = [SelectChoice(a.id, a.display_name)
                             for a in badges.grant_recipients(current_user, grantable)]
    if not form.token.data:
        form.token.data = uuid.uuid4().hex
    return form


@bp.route("/badges/grant", methods=["GET", "POST"])
@permission_required(Permission.VIEW_TEAM, Permission.MANAGE_INCENTIVES)
def badge_grant():
    grantable = badges.grantable_badges(current_user)
    form = _grant_form(grantable)
    if request.method == "GET" and request.args.get("agent", type=int):
        form.agent_id.data = request.args.get("agent", type=int)
    if form.validate_on_submit():
        try:
            row = badges.grant_badge(form.badge_id.data, form.agent_id.data, current_user.id,
                                     form.comment.data, utcnow(), token=form.token.data)
        except BadgeError as error:
            db.session.rollback()
            _field_of(form, error, "badge_id").errors.append(error.translated())
        else:
            db.session.commit()
            flash(_("%(name)s received the badge %(badge)s.", name=row.user.name,
                    badge=localized(row.badge, "name", _locale())), "success")
            return redirect(url_for("incentives.badge_grant"))
    now = utcnow()
    used = {b.id: badges.grants_this_month(current_user.id, b.id, now) for b in grantable}
    return render_template("incentives/badge_grant.html", form=form, used=used,
                           grantable=grantable, locale=_locale())


# --- managing badge classes --------------------------------------------------------------

def _class_form(form: BadgeClassForm) -> BadgeClassForm:
    locale = _locale()
    form.criteria_event.choices = [SelectChoice("", "—")] + [
        SelectChoice(r.event, localized(r, "name", locale)) for r in badges.countable_rules()]
    return form


def _values(form: BadgeClassForm) -> BadgeValues:
    return BadgeValues(
        name_en=form.name_en.data, name_zh=form.name_zh.data,
        description_en=form.description_en.data, description_zh=form.description_zh.data,
        blade=form.blade.data, kind=form.kind.data, points=form.points.data or 0,
        criteria_event=form.criteria_event.data or None,
        criteria_min_score=form.criteria_min_score.data,
        criteria_count=form.criteria_count.data, criteria_window=form.criteria_window.data,
        granter_roles=tuple(form.granter_roles.data or ()),
        monthly_cap_per_granter=form.monthly_cap_per_granter.data,
        is_active=form.is_active.data)


def _upload(form: BadgeClassForm) -> bytes | None:
    upload = form.image.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    return upload.read(badges.MAX_IMAGE_BYTES + 1)


@bp.route("/badges/classes")
@permission_required(Permission.MANAGE_INCENTIVES)
def badge_class_list():
    return render_template("incentives/badge_class_list.html",
                           classes=badges.list_badge_classes(), locale=_locale())


@bp.route("/badges/classes/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def badge_class_create():
    form = _class_form(BadgeClassForm())
    if form.validate_on_submit():
        try:
            badge = badges.create_badge_class(form.code.data, _values(form), image=_upload(form),
                                              actor_id=current_user.id, now=utcnow())
        except BadgeError as error:
            db.session.rollback()
            _field_of(form, error, "name_en").errors.append(error.translated())
        else:
            db.session.commit()
            flash(_("The badge %(name)s was created.", name=localized(badge, "name", _locale())),
                  "success")
            return redirect(url_for("incentives.badge_class_list"))
    return render_template("incentives/badge_class_form.html", form=form, badge=None,
                           locale=_locale())


@bp.route("/badges/classes/<code>/edit", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def badge_class_edit(code: str):
    badge = badges.get_badge_class(code) or abort(404)
    form = _class_form(BadgeClassForm(obj=badge) if request.method == "GET" else BadgeClassForm())
    if request.method == "GET":
        criteria = badge.criteria or {}
        form.criteria_event.data = criteria.get("event", "")
        form.criteria_min_score.data = criteria.get("min_score")
        form.criteria_count.data = criteria.get("count")
        form.criteria_window.data = criteria.get("window", "month")
        form.granter_roles.data = list(badge.granter_roles or [])
    if form.validate_on_submit():
        try:
            changed = badges.update_badge_class(badge.id, _values(form), image=_upload(form),
                                                actor_id=current_user.id, now=utcnow())
        except BadgeError as error:
            db.session.rollback()
            _field_of(form, error, "name_en").errors.append(error.translated())
        else:
            db.session.commit()
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("incentives.badge_class_list"))
    return render_template("incentives/badge_class_form.html", form=form, badge=badge,
                           locale=_locale())


# --- awards and withdrawals --------------------------------------------------------------

@bp.route("/badges/awards")
@permission_required(Permission.MANAGE_INCENTIVES)
def badge_award_list():
    search = request.args.get("q", "").strip()
    return render_template("incentives/badge_award_list.html",
                           page=_page(badges.all_awards(search)), search=search,
                           revoke_form=RevokeAwardForm(), locale=_locale())


@bp.route("/badges/awards/<int:award_id>/revoke", methods=["POST"])
@role_required(Role.ADMIN)
def badge_award_revoke(award_id: int):
    row = db.session.get(BadgeAward, award_id) or abort(404)
    form = RevokeAwardForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for withdrawing the badge."), "error")
    else:
        try:
            badges.revoke_award(row.id, reason=form.reason.data, actor_id=current_user.id,
                                now=utcnow())
        except BadgeError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("The badge is withdrawn and its points reversed."), "success")
    return redirect(url_for("incentives.badge_award_list"))


# --- the public Open Badges documents (no sign-in) ---------------------------------------

def _public(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _document(document: dict, status: int = 200) -> Response:
    response = jsonify(document)
    response.status_code = status
    return _public(response)


@bp.route("/badges/issuer.json")
def badge_issuer():
    return _document(openbadges.issuer_profile())


@bp.route("/badges/classes/<code>.json")
def badge_class_json(code: str):
    badge = badges.get_badge_class(code) or abort(404)
    return _document(openbadges.badge_class_document(badge))


@bp.route("/badges/classes/<code>.png")
def badge_class_image(code: str):
    badge = badges.get_badge_class(code) or abort(404)
    path = badges.image_path(badge) or abort(404)
    return _public(send_file(path, mimetype="image/png", max_age=3600))


def _standing_award(uid: str) -> BadgeAward:
    return badges.get_award(uid) or abort(404)


@bp.route("/badges/assertions/<uid>.json")
def badge_assertion_json(uid: str):
    row = _standing_award(uid)
    if row.revoked_at is not None:
        return _document(openbadges.revoked_document(row), 410)
    return _document(openbadges.assertion_document(row))


@bp.route("/badges/assertions/<uid>.png")
def badge_assertion_png(uid: str):
    row = _standing_award(uid)
    if row.revoked_at is not None:
        return _document(openbadges.revoked_document(row), 410)
    baked = openbadges.baked_assertion_png(row) or abort(404)
    response = Response(baked, mimetype="image/png")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{row.badge.code}-{row.uid[:8]}.png"')
    return _public(response)


# --- the level ladder --------------------------------------------------------------------

@bp.route("/levels")
@permission_required(Permission.USE_INCENTIVES)
def level_list():
    return render_template("incentives/badge_level_list.html", levels=list_levels(),
                           earned=earned_total(current_user.id), delete_form=DecisionForm(),
                           locale=_locale())


def _level_action(form: LevelForm, action, template: str, level: Level | None):
    if form.validate_on_submit():
        try:
            action(form)
        except LevelError as error:
            db.session.rollback()
            form.min_points.errors.append(error.translated())
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("incentives.level_list"))
    return render_template(template, form=form, level=level)


@bp.route("/levels/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def level_create():
    return _level_action(
        LevelForm(),
        lambda form: badges.create_level(min_points=form.min_points.data,
                                         name_en=form.name_en.data, name_zh=form.name_zh.data,
                                         actor_id=current_user.id, now=utcnow()),
        "incentives/badge_level_form.html", None)


@bp.route("/levels/<int:level_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def level_edit(level_id: int):
    level = db.session.get(Level, level_id) or abort(404)
    form = LevelForm(obj=level) if request.method == "GET" else LevelForm()
    return _level_action(
        form,
        lambda form: badges.update_level(level.id, min_points=form.min_points.data,
                                         name_en=form.name_en.data, name_zh=form.name_zh.data,
                                         actor_id=current_user.id, now=utcnow()),
        "incentives/badge_level_form.html", level)


@bp.route("/levels/<int:level_id>/delete", methods=["POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def level_delete(level_id: int):
    level = db.session.get(Level, level_id) or abort(404)
    if DecisionForm().validate_on_submit():
        try:
            badges.delete_level(level.id, actor_id=current_user.id, now=utcnow())
        except LevelError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("The level is removed."), "success")
    return redirect(url_for("incentives.level_list"))


# --- Service Star and Service Model ------------------------------------------------------

@bp.route("/stars")
@permission_required(Permission.MANAGE_INCENTIVES)
def star_list():
    current = period_of(utcnow(), centre_tz())
    last_month, last_year = previous_period(current), str(int(current[:4]) - 1)
    month = request.args.get("month") or last_month
    year = request.args.get("year") or last_year
    try:
        parse_period(month)
    except PeriodError:
        abort(400)
    if not (len(year) == 4 and year.isdigit()):
        abort(400)
    month_form = ProposeMonthForm(month=date(int(last_month[:4]), int(last_month[5:]), 1))
    year_form = ProposeYearForm(year=int(last_year))
    return render_template(
        "incentives/star_list.html", month=month, year=year, last_month=last_month,
        stars=stars.list_nominations(stars.SERVICE_STAR, month),
        models=stars.list_nominations(stars.SERVICE_MODEL, year),
        star_periods=stars.nominated_periods(stars.SERVICE_STAR),
        model_periods=stars.nominated_periods(stars.SERVICE_MODEL),
        month_form=month_form, year_form=year_form, decision_form=DecisionForm())


def _proposed(propose, period: str, args: dict):
    try:
        found = propose(period, now=utcnow(), actor_id=current_user.id)
    except StarError as error:
        db.session.rollback()
        flash(error.translated(), "error")
    else:
        db.session.commit()
        if found:
            flash(ngettext("%(num)d person is proposed for %(period)s.",
                           "%(num)d people are proposed for %(period)s.", len(found),
                           period=period), "success")
        else:
            flash(_("Nobody has results for %(period)s yet.", period=period), "info")
    return redirect(url_for("incentives.star_list", **args))


@bp.route("/stars/propose", methods=["POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def star_propose():
    form = ProposeMonthForm()
    if not form.validate_on_submit():
        flash(_("Give a month as YYYY-MM."), "error")
        return redirect(url_for("incentives.star_list"))
    period = form.month.data.strftime("%Y-%m")
    return _proposed(stars.propose_service_stars, period, {"month": period})


@bp.route("/stars/propose-year", methods=["POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def star_propose_year():
    form = ProposeYearForm()
    if not form.validate_on_submit():
        flash(_("Give a year as YYYY."), "error")
        return redirect(url_for("incentives.star_list"))
    year = f"{form.year.data:04d}"
    return _proposed(stars.propose_service_models, year, {"year": year})


def _decided(nomination_id: int, decide, success: str):
    nomination = db.session.get(ServiceStarNomination, nomination_id) or abort(404)
    args = {"month" if nomination.kind == stars.SERVICE_STAR else "year": nomination.period}
    if not DecisionForm().validate_on_submit():
        flash(_("The form expired. Please try again."), "error")
        return redirect(url_for("incentives.star_list", **args))
    try:
        outcome = decide(nomination.id, current_user.id, utcnow())
    except StarError as error:
        db.session.rollback()
        flash(error.translated(), "error")
    else:
        db.session.commit()
        flash(success, "success")
        if isinstance(outcome, tuple) and outcome[1] is None:
            flash(_("The point rule gave no points this time (it is switched off or has "
                    "reached its monthly limit)."), "info")
    return redirect(url_for("incentives.star_list", **args))


@bp.route("/stars/<int:nomination_id>/confirm", methods=["POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def star_confirm(nomination_id: int):
    return _decided(nomination_id, stars.confirm_nomination,
                    _("The honour is confirmed and its points awarded."))


@bp.route("/stars/<int:nomination_id>/decline", methods=["POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def star_decline(nomination_id: int):
    return _decided(nomination_id, stars.decline_nomination, _("The nomination is declined."))
