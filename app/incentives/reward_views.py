"""Pages of the reward catalogue and redemptions, the violation ladder and coaching tasks.
Thin: parse, call one service, commit, and render or redirect."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.auth.access import permission_required
from app.auth.forms import ConfirmForm
from app.auth.models import User
from app.auth.queries import led_team_ids
from app.auth.roles import Permission
from app.centre.periods import centre_tz
from app.database import db, utcnow
from app.incentives import rewards, violations
from app.incentives.forms_rewards import (
    COACHING_KIND_LABELS,
    COACHING_STATUS_LABELS,
    LADDER_STEP_LABELS,
    REDEMPTION_STATUS_LABELS,
    CoachingDoneForm,
    RejectForm,
    RewardForm,
    ViolationForm,
)
from app.incentives.models import CoachingTask, Redemption, Reward
from app.incentives.queries import localized
from app.incentives.rewards import RewardError
from app.incentives.rules import LadderStep
from app.incentives.views import bp
from app.incentives.violations import SOP_RULES, ViolationError, sop_rule_of

# the tabs of the redemption queue: what each shows
QUEUE_TABS = {
    "requested": ("requested",),
    "approved": ("approved",),
    "closed": ("fulfilled", "rejected", "cancelled"),
    "all": None,
}


@bp.record_once
def _reward_template_globals(state):
    state.app.jinja_env.globals.update(
        REDEMPTION_STATUS_LABELS=REDEMPTION_STATUS_LABELS, LADDER_STEP_LABELS=LADDER_STEP_LABELS,
        COACHING_KIND_LABELS=COACHING_KIND_LABELS, COACHING_STATUS_LABELS=COACHING_STATUS_LABELS,
        sop_rule_of=sop_rule_of)


def _locale() -> str:
    return str(get_locale())


def _page(query):
    return db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)


def _today():
    return utcnow().astimezone(centre_tz()).date()


# --- the catalogue, for everyone -------------------------------------------------------------

@bp.route("/rewards")
@permission_required(Permission.USE_INCENTIVES)
def reward_list():
    return render_template("incentives/reward_list.html", page=_page(rewards.list_rewards()),
                           balance=rewards.balance_of(current_user.id), form=ConfirmForm(),
                           locale=_locale())


@bp.route("/rewards/<int:reward_id>/redeem", methods=["POST"])
@permission_required(Permission.USE_INCENTIVES)
def reward_redeem(reward_id: int):
    reward = db.session.get(Reward, reward_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        rewards.request_redemption(current_user.id, reward.id, now=utcnow())
    except RewardError as error:
        db.session.rollback()
        flash(error.translated(), "error")
        return redirect(url_for("incentives.reward_list"))
    db.session.commit()
    flash(_("Your request for %(reward)s is sent. The points are set aside until it is decided.",
            reward=localized(reward, "name", _locale())), "success")
    return redirect(url_for("incentives.redemption_mine"))


@bp.route("/redemptions/mine")
@permission_required(Permission.USE_INCENTIVES)
def redemption_mine():
    return render_template("incentives/reward_redemption_mine.html",
                           page=_page(rewards.list_redemptions(user_id=current_user.id)),
                           balance=rewards.balance_of(current_user.id), form=ConfirmForm(),
                           locale=_locale())


@bp.route("/redemptions/<int:redemption_id>/cancel", methods=["POST"])
@permission_required(Permission.USE_INCENTIVES)
def redemption_cancel(redemption_id: int):
    redemption = db.session.get(Redemption, redemption_id)
    if redemption is None or redemption.user_id != current_user.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        rewards.cancel_redemption(redemption.id, user_id=current_user.id, now=utcnow())
    except RewardError as error:
        db.session.rollback()
        flash(error.translated(), "error")
    else:
        db.session.commit()
        flash(_("Your request is cancelled and %(points)s points are back in your balance.",
                points=redemption.cost), "success")
    return redirect(url_for("incentives.redemption_mine"))


# --- the catalogue and the queue, for trainers and administrators ------------------------------

@bp.route("/rewards/manage")
@permission_required(Permission.MANAGE_INCENTIVES)
def reward_manage():
    return render_template("incentives/reward_manage.html",
                           page=_page(rewards.list_rewards(active_only=False)),
                           locale=_locale())


def _reward_values(form: RewardForm) -> dict:
    return {"name_en": form.name_en.data, "name_zh": form.name_zh.data,
            "description_en": form.description_en.data or "",
            "description_zh": form.description_zh.data or "",
            "cost": form.cost.data, "stock": form.stock.data, "is_active": form.is_active.data}


@bp.route("/rewards/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def reward_create():
    form = RewardForm()
    if form.validate_on_submit():
        try:
            reward = rewards.create_reward(**_reward_values(form), actor_id=current_user.id,
                                           now=utcnow())
        except RewardError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("The reward %(reward)s is in the catalogue.",
                    reward=localized(reward, "name", _locale())), "success")
            return redirect(url_for("incentives.reward_manage"))
    return render_template("incentives/reward_form.html", form=form, reward=None,
                           locale=_locale())


@bp.route("/rewards/<int:reward_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def reward_edit(reward_id: int):
    reward = db.session.get(Reward, reward_id) or abort(404)
    form = RewardForm(obj=reward)
    if form.validate_on_submit():
        try:
            changed = rewards.update_reward(reward.id, **_reward_values(form),
                                            actor_id=current_user.id, now=utcnow())
        except RewardError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("incentives.reward_manage"))
    return render_template("incentives/reward_form.html", form=form, reward=reward,
                           locale=_locale())


@bp.route("/redemptions")
@permission_required(Permission.MANAGE_INCENTIVES)
def redemption_list():
    tab = request.args.get("status", "requested")
    if tab not in QUEUE_TABS:
        abort(404)
    return render_template("incentives/reward_redemption_list.html", tab=tab, tabs=QUEUE_TABS,
                           page=_page(rewards.list_redemptions(statuses=QUEUE_TABS[tab])),
                           form=ConfirmForm(), reject_form=RejectForm(), locale=_locale())


def _decide(redemption_id: int, form, invalid: str, action, success: str):
    """Validate a decision posted from the queue, run one service with it, commit, and go back
    to the queue with the outcome (or the reason it was refused)."""
    redemption = db.session.get(Redemption, redemption_id) or abort(404)
    if not form.validate_on_submit():
        flash(invalid, "error")
    else:
        try:
            action(redemption, form)
        except RewardError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(success, "success")
    tab = request.args.get("status")
    return redirect(url_for("incentives.redemption_list",
                            status=tab if tab in QUEUE_TABS else None))


@bp.route("/redemptions/<int:redemption_id>/approve", methods=["POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def redemption_approve(redemption_id: int):
    return _decide(redemption_id, ConfirmForm(), _("The form expired. Please try again."),
                   lambda r, form: rewards.approve_redemption(r.id, actor_id=current_user.id,
                                                              now=utcnow()),
                   _("The redemption is approved."))


@bp.route("/redemptions/<int:redemption_id>/reject", methods=["POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def redemption_reject(redemption_id: int):
    return _decide(redemption_id, RejectForm(), _("Say why the redemption is rejected."),
                   lambda r, form: rewards.reject_redemption(r.id, note=form.note.data,
                                                             actor_id=current_user.id,
                                                             now=utcnow()),
                   _("The redemption is rejected and the points are back in the balance."))


@bp.route("/redemptions/<int:redemption_id>/fulfil", methods=["POST"])
@permission_required(Permission.MANAGE_INCENTIVES)
def redemption_fulfil(redemption_id: int):
    return _decide(redemption_id, ConfirmForm(), _("The form expired. Please try again."),
                   lambda r, form: rewards.fulfil_redemption(r.id, actor_id=current_user.id,
                                                             now=utcnow()),
                   _("The reward is marked as handed over."))


# --- violations -------------------------------------------------------------------------------

def _violations_page(query, template: str, **extra):
    page = _page(query)
    return render_template(template, page=page, points=violations.deducted_points(page.items),
                           tasks=violations.tasks_of_violations(page.items), locale=_locale(),
                           **extra)


@bp.route("/violations")
@permission_required(Permission.VIEW_TEAM, Permission.VIEW_ALL_AGENTS)
def violation_list():
    """A team lead sees the violations of the agents in the teams they lead; trainers, QA
    analysts and administrators everybody's. `?user=` narrows it to one person's record."""
    sees_all = current_user.can(Permission.VIEW_ALL_AGENTS)
    teams = None if sees_all else led_team_ids(current_user.id)
    person = None
    user_id = request.args.get("user", type=int)
    if user_id:
        person = db.session.get(User, user_id) or abort(404)
        if not sees_all and person.team_id not in teams:
            abort(403)
    query = violations.list_violations(user_id=person.id if person else None, team_ids=teams)
    return _violations_page(query, "incentives/violation_list.html", person=person,
                            can_record=current_user.can(Permission.VIEW_TEAM)
                            or current_user.can(Permission.MANAGE_PEOPLE))


@bp.route("/violations/mine")
@permission_required(Permission.USE_INCENTIVES)
def violation_mine():
    return _violations_page(violations.list_violations(user_id=current_user.id),
                            "incentives/violation_mine.html",
                            window=current_app.config["VIOLATION_WINDOW_DAYS"])


def _recorded_message(violation, points: dict) -> str:
    if violation.step == LadderStep.VERBAL_WARNING.value:
        return _("The violation is recorded: a verbal warning, and a coaching task for the "
                 "team lead.")
    if violation.step == LadderStep.WRITTEN_WARNING.value:
        return _("The violation is recorded: a written warning, and a re-training task for the "
                 "team lead.")
    if violation.id in points:
        return _("The violation is recorded: a bonus deduction of %(points)s points.",
                 points=-points[violation.id])
    return _("The violation is recorded as a bonus deduction, but no points were taken: a "
             "month's deductions may not outweigh its positive points.")


@bp.route("/violations/new", methods=["GET", "POST"])
@permission_required(Permission.VIEW_TEAM, Permission.MANAGE_PEOPLE)
def violation_create():
    agents = violations.recordable_agents(current_user)
    posted = request.form.get("user_id", type=int)
    if request.method == "POST" and posted is not None and posted not in {a.id for a in agents}:
        abort(403)
    form = ViolationForm()
    form.user_id.choices = [SelectChoice(a.id, a.display_name) for a in agents]
    form.sop_rule.choices = [SelectChoice(rule.code, localized(rule, "name", _locale()))
                             for rule in SOP_RULES]
    if request.method == "GET":
        form.occurred_on.data = _today()
        form.user_id.data = request.args.get("agent", type=int)
    if form.validate_on_submit():
        try:
            violation = violations.record_violation(
                form.user_id.data, sop_rule=form.sop_rule.data, evidence=form.evidence.data,
                occurred_on=form.occurred_on.data, is_serious=form.is_serious.data,
                actor_id=current_user.id, now=utcnow())
        except ViolationError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            message = _recorded_message(violation, violations.deducted_points([violation]))
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("incentives.violation_list"))
    return render_template("incentives/violation_form.html", form=form, agents=agents,
                           window=current_app.config["VIOLATION_WINDOW_DAYS"])


# --- coaching tasks ---------------------------------------------------------------------------

@bp.route("/coaching")
@permission_required(Permission.VIEW_TEAM)
def coaching_list():
    """A team lead's coaching tasks; an administrator sees everybody's (also those of teams
    without a lead)."""
    status = request.args.get("status", "open")
    if status not in COACHING_STATUS_LABELS:
        abort(404)
    everyone = current_user.can(Permission.MANAGE_PEOPLE)
    query = violations.list_coaching_tasks(
        assignee_id=None if everyone else current_user.id, status=status)
    return render_template("incentives/coaching_list.html", page=_page(query), status=status,
                           everyone=everyone, form=CoachingDoneForm(), locale=_locale())


@bp.route("/coaching/<int:task_id>/done", methods=["POST"])
@permission_required(Permission.VIEW_TEAM)
def coaching_complete(task_id: int):
    task = db.session.get(CoachingTask, task_id) or abort(404)
    if task.assignee_id != current_user.id and not current_user.can(Permission.MANAGE_PEOPLE):
        abort(403)
    form = CoachingDoneForm()
    if not form.validate_on_submit():
        flash(_("Say briefly how the coaching went."), "error")
    else:
        try:
            violations.complete_coaching_task(task.id, note=form.note.data,
                                              actor_id=current_user.id, now=utcnow())
        except ViolationError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("The task is done."), "success")
    return redirect(url_for("incentives.coaching_list"))
