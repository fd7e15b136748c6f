"""My windmill, a team's windmill, recognitions by team leads, the rules and corrections."""
from __future__ import annotations

import json
import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.auth import queries as people
from app.auth.access import permission_required
from app.auth.models import Team, User
from app.auth.roles import Permission, Role
from app.centre.periods import PeriodError, centre_tz, parse_period, period_of
from app.database import db, utcnow
from app.incentives import queries
from app.incentives.forms import RecognitionForm, ReverseForm, RuleForm
from app.incentives.manual import (
    RecognitionError,
    can_recognise,
    grant_recognition,
    manual_awards_this_month,
    reverse_points,
)
from app.incentives.models import PointEntry
from app.incentives.rulebook import (
    RuleChangeError,
    change_rule,
    get_rule,
    preview_by_person,
    terms_from_form,
)

bp = Blueprint("incentives", __name__, template_folder="templates")


@bp.record_once
def _template_globals(state):
    state.app.jinja_env.globals.update(
        BLADE_LABELS=queries.BLADE_LABELS, SOURCE_LABELS=queries.SOURCE_LABELS,
        ENTRY_STATUS_LABELS=queries.STATUS_LABELS, localized=queries.localized)


def _month() -> str:
    """The month asked for (?month=YYYY-MM), else the current one."""
    asked = request.args.get("month")
    if asked:
        try:
            parse_period(asked)
        except PeriodError:
            abort(400)
        return asked
    return period_of(utcnow(), centre_tz())


def _windmill_page(person: User, template: str = "incentives/windmill.html", **extra):
    month = _month()
    page = db.paginate(queries.entries_of(person.id), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    return render_template(template, person=person, month=month, page=page,
                           locale=str(get_locale()), reverse_form=ReverseForm(),
                           **queries.windmill_of(person.id, month), **extra)


@bp.route("/")
@permission_required(Permission.USE_INCENTIVES)
def index():
    led = people.led_team_ids(current_user.id) if current_user.has_role(Role.TEAM_LEAD) else set()
    return _windmill_page(current_user, led_teams=sorted(led))


@bp.route("/people/<int:user_id>")
@permission_required(Permission.USE_INCENTIVES)
def person_show(user_id: int):
    person = db.session.get(User, user_id) or abort(404)
    if not people.can_view_person(current_user, person):
        abort(403)
    return _windmill_page(person)


@bp.route("/teams/<int:team_id>")
@permission_required(Permission.USE_INCENTIVES)
def team_show(team_id: int):
    team = db.session.get(Team, team_id) or abort(404)
    if not (current_user.can(Permission.VIEW_ALL_AGENTS) or team.lead_id == current_user.id):
        abort(403)
    month = _month()
    members = people.team_members(team.id)
    ids = [m.id for m in members]
    return render_template(
        "incentives/team.html", team=team, month=month,
        standings=queries.team_standings(members, month),
        blades=queries.blades_of(ids, month), trend=queries.trend_of(ids, month))


def _recognition_form() -> RecognitionForm:
    form = RecognitionForm()
    agents = [m for team_id in sorted(people.led_team_ids(current_user.id))
              for m in people.team_members(team_id) if can_recognise(current_user, m)]
    form.agent_id.choices = [SelectChoice(a.id, a.display_name) for a in agents]
    if not form.token.data:
        form.token.data = uuid.uuid4().hex
    return form


@bp.route("/recognitions/new", methods=["GET", "POST"])
@permission_required(Permission.VIEW_TEAM)
def recognition_create():
    form = _recognition_form()
    if request.method == "GET" and request.args.get("agent", type=int):
        form.agent_id.data = request.args.get("agent", type=int)
    if form.validate_on_submit():
        try:
            grant_recognition(form.agent_id.data, kind=form.kind.data, points=form.points.data,
                              comment=form.comment.data, granter_id=current_user.id,
                              now=utcnow(), token=form.token.data)
        except RecognitionError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("The recognition is given."), "success")
            return redirect(url_for("incentives.recognition_create"))
    used = manual_awards_this_month(current_user.id, utcnow())
    return render_template("incentives/recognition_form.html", form=form, used=used,
                           limit=current_app.config["MANUAL_AWARDS_PER_MONTH"])


@bp.route("/rules")
@permission_required(Permission.MANAGE_INCENTIVES)
def rule_list():
    return render_template("incentives/rule_list.html", rules=queries.list_rules(),
                           locale=str(get_locale()))


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def rule_edit(rule_id: int):
    try:
        rule = get_rule(rule_id)
    except RuleChangeError:
        abort(404)
    form = RuleForm(obj=rule) if request.method == "GET" else RuleForm()
    if request.method == "GET":
        form.params.data = json.dumps(rule.params or {}, ensure_ascii=False)
    preview = None
    if form.validate_on_submit():
        try:
            params = json.loads(form.params.data or "{}")
            if not isinstance(params, dict):
                raise ValueError
        except ValueError:
            form.params.errors.append(_("Write the shape as a JSON object, e.g. {}."))
        else:
            try:
                terms = terms_from_form(points=form.points.data or 0, blade=form.blade.data,
                                        is_active=form.is_active.data,
                                        daily_cap=form.daily_cap.data,
                                        monthly_cap=form.monthly_cap.data, params=params)
                if form.preview.data:
                    preview = preview_by_person(rule.id, terms)
                else:
                    _rule, lines = change_rule(rule.id, terms=terms, name_en=form.name_en.data,
                                           name_zh=form.name_zh.data,
                                           actor_id=current_user.id, now=utcnow(),
                                           comment=form.comment.data,
                                           replay=bool(form.save_replay.data))
                    db.session.commit()
                    flash(_("Saved as version %(version)s; %(count)s entries replayed.",
                            version=rule.version, count=len(lines)), "success")
                    return redirect(url_for("incentives.rule_edit", rule_id=rule.id))
            except RuleChangeError as error:
                db.session.rollback()
                flash(error.translated(), "error")
    return render_template("incentives/rule_form.html", rule=rule, form=form, preview=preview,
                           locale=str(get_locale()))


@bp.route("/entries/<int:entry_id>/reverse", methods=["POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def entry_reverse(entry_id: int):
    entry = db.session.get(PointEntry, entry_id) or abort(404)
    form = ReverseForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for the reversal."), "error")
    else:
        try:
            reverse_points(entry.id, reason=form.reason.data, actor_id=current_user.id,
                           now=utcnow())
        except RecognitionError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("The entry is reversed."), "success")
    return redirect(url_for("incentives.person_show", user_id=entry.user_id))
