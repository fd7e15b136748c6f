"""The training room's pages: the room (assigned and library), a scenario's three stages, the
recording and its review, the mentor's sign-off queue, assigning, and the trainer's library
(upload, export, preview) and completion report."""
from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.auth.access import permission_required
from app.auth.models import User, UserRole
from app.auth.queries import led_team_ids
from app.auth.roles import Permission
from app.centre.periods import centre_tz
from app.database import db, utcnow
from app.errors import DomainError
from app.scenarios import importers, queries, rules, services, uploads
from app.scenarios.forms import (
    ActionForm,
    AssignForm,
    RecordingForm,
    ReplyForm,
    ReviewForm,
    SignOffForm,
    UploadForm,
)
from app.scenarios.models import Recording, ScenarioProgress

bp = Blueprint("scenarios", __name__, template_folder="templates")


def _locale() -> str:
    return str(get_locale() or "zh_Hans")


def _today():
    return utcnow().astimezone(centre_tz()).date()


@bp.context_processor
def helpers():
    locale = _locale()
    return {"t": lambda value: queries.text_of(value, locale),
            "title_of": lambda version: queries.title_of(version, locale),
            "STAGE_NAMES": rules.STAGE_NAMES, "CATEGORIES": rules.CATEGORIES,
            "SOP_RULES": rules.SOP_RULES, "SPEAKERS": rules.SPEAKERS, "RUBRIC": rules.RUBRIC,
            "today": _today()}


def _fail(error: DomainError) -> None:
    flash(error.translated(), "error")


def _commit_or_say(call) -> bool:
    """Run one service call: commit, or show the learner why not (and change nothing)."""
    try:
        call()
    except DomainError as error:
        db.session.rollback()
        _fail(error)
        return False
    db.session.commit()
    return True


def _own_progress(progress_id: int) -> ScenarioProgress:
    progress = db.get_or_404(ScenarioProgress, progress_id)
    if progress.user_id != current_user.id:
        abort(403)
    return progress


def _to_stage(progress: ScenarioProgress):
    """The page of the stage the progress is at."""
    if progress.status != "in_progress":
        return redirect(url_for("scenarios.show", code=progress.scenario.code,
                                preview=progress.id if progress.is_preview else None))
    endpoint = {1: "scenarios.case", 2: "scenarios.reverse", 3: "scenarios.practice"}
    return redirect(url_for(endpoint[progress.stage], progress_id=progress.id))


# --- the room -----------------------------------------------------------------------------

@bp.route("/")
@permission_required(Permission.USE_SCENARIOS)
def index():
    """Assigned scenarios first, then the whole library, with the learner's progress."""
    library = queries.list_library()
    progress = queries.progress_by_scenario(current_user.id)
    assignments = queries.open_scenario_assignments([current_user.id])
    watched = queries.watched_learner_ids(current_user)
    overdue_watched = queries.overdue_assignments(watched, _today()) if watched else []
    waiting = queries.sign_off_queue(current_user, include_unmentored=current_user.can(
        Permission.MANAGE_TRAINING))
    return render_template("scenarios/index.html", library=library, progress=progress,
                           assignments=assignments, overdue_watched=overdue_watched,
                           waiting=waiting, titles={s.code: v for s, v in library})


@bp.route("/<code>")
@permission_required(Permission.USE_SCENARIOS)
def show(code: str):
    scenario = queries.get_scenario(code)
    if scenario is None:
        abort(404)
    preview_id = request.args.get("preview", type=int)
    if preview_id:
        progress = _own_progress(preview_id)
    else:
        progress = queries.progress_by_scenario(current_user.id).get(scenario.id)
    version = progress.version if progress else services.current_version(scenario)
    sign_offs = queries.sign_offs_of(progress.id) if progress else []
    recordings = queries.recordings_of(progress.id) if progress else []
    assignments = [a for a in queries.open_scenario_assignments([current_user.id])
                   if a.item_code == code]
    return render_template("scenarios/show.html", scenario=scenario, version=version,
                           doc=version.content, progress=progress, sign_offs=sign_offs,
                           recordings=recordings, assignments=assignments, form=ActionForm())


@bp.route("/<code>/start", methods=["POST"])
@permission_required(Permission.USE_SCENARIOS)
def start(code: str):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        progress = services.start_scenario(current_user.id, code, now=utcnow())
    except DomainError as error:
        _fail(error)
        return redirect(url_for("scenarios.index"))
    db.session.commit()
    return _to_stage(progress)


# --- stage 1 ------------------------------------------------------------------------------

@bp.route("/progress/<int:progress_id>/case", methods=["GET", "POST"])
@permission_required(Permission.USE_SCENARIOS)
def case(progress_id: int):
    progress = _own_progress(progress_id)
    form = ActionForm()
    doc = progress.version.content
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        marked = {line: request.form.get(f"rule-{line}", "")
                  for line in request.form.getlist("line")}
        try:
            services.submit_case(progress.id, marked, actor_id=current_user.id, now=utcnow())
        except DomainError as error:
            _fail(error)
            return render_template("scenarios/case.html", progress=progress, doc=doc,
                                   form=form, attempt=None, marked=marked, key={}), 400
        db.session.commit()
        return redirect(url_for("scenarios.case", progress_id=progress.id))
    attempt = queries.latest_attempt(progress.id, 1)
    if attempt is None and progress.stage != 1:
        return _to_stage(progress)
    return render_template("scenarios/case.html", progress=progress, doc=doc, form=form,
                           attempt=attempt, marked=attempt.state["marked"] if attempt else {},
                           key={e["line"]: e for e in doc["case_analysis"]["error_key"]})


# --- stage 2 ------------------------------------------------------------------------------

@bp.route("/progress/<int:progress_id>/reverse", methods=["GET"])
@permission_required(Permission.USE_SCENARIOS)
def reverse(progress_id: int):
    progress = _own_progress(progress_id)
    if progress.stage < 2:
        return _to_stage(progress)
    if progress.stage > 2 or progress.status != "in_progress":
        attempt = queries.latest_attempt(progress.id, 2)
    else:
        attempt = services.reverse_attempt(progress, now=utcnow())
        db.session.commit()
    return render_template("scenarios/reverse.html", progress=progress,
                           doc=progress.version.content, attempt=attempt, form=ActionForm(),
                           upload=RecordingForm(), max_mb=uploads.max_bytes() // 1024 // 1024,
                           recordings=queries.recordings_of(progress.id))


@bp.route("/progress/<int:progress_id>/reverse/<action>", methods=["POST"])
@permission_required(Permission.USE_SCENARIOS)
def reverse_act(progress_id: int, action: str):
    progress = _own_progress(progress_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    now = utcnow()
    calls = {
        "choose": lambda: services.advance_reverse(
            progress.id, request.form.get("choice", type=int), actor_id=current_user.id,
            now=now),
        "restart": lambda: services.restart_reverse(progress.id, actor_id=current_user.id,
                                                    now=now),
    }
    if action not in calls:
        abort(404)
    _commit_or_say(calls[action])
    return redirect(url_for("scenarios.reverse", progress_id=progress.id) + "#current")


@bp.route("/progress/<int:progress_id>/recording", methods=["POST"])
@permission_required(Permission.USE_SCENARIOS)
def recording_upload(progress_id: int):
    progress = _own_progress(progress_id)
    form = RecordingForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("scenarios.reverse", progress_id=progress.id))
    upload = form.recording.data
    try:
        services.submit_recording(progress.id, upload.stream, upload.filename or "",
                                  form.reflection.data, actor_id=current_user.id, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        _fail(error)
        return redirect(url_for("scenarios.reverse", progress_id=progress.id))
    db.session.commit()
    flash(_("Recording and reflection saved. On to the positive practice."), "success")
    return _to_stage(progress)


# --- stage 3 ------------------------------------------------------------------------------

@bp.route("/progress/<int:progress_id>/practice", methods=["GET"])
@permission_required(Permission.USE_SCENARIOS)
def practice(progress_id: int):
    progress = _own_progress(progress_id)
    if progress.stage < 3:
        return _to_stage(progress)
    attempt = queries.latest_attempt(progress.id, 3)
    # a failed attempt stays on screen with "practise again"; a sent-back one starts afresh
    finished = attempt if (progress.status == "in_progress" and attempt is not None
                           and attempt.finished_at and not attempt.passed) else None
    if progress.status == "in_progress" and finished is None:
        attempt = services.practice_attempt(progress, now=utcnow())
        db.session.commit()
    return render_template("scenarios/practice.html", progress=progress,
                           doc=progress.version.content, attempt=attempt, finished=finished,
                           form=ActionForm(), reply_form=ReplyForm(),
                           sign_offs=queries.sign_offs_of(progress.id))


@bp.route("/progress/<int:progress_id>/practice/<action>", methods=["POST"])
@permission_required(Permission.USE_SCENARIOS)
def practice_act(progress_id: int, action: str):
    progress = _own_progress(progress_id)
    now = utcnow()
    back = url_for("scenarios.practice", progress_id=progress.id)
    if action == "reply":
        form = ReplyForm()
        if not form.validate_on_submit():
            flash(_("Type your reply to the customer."), "error")
            return redirect(back)
        _commit_or_say(lambda: services.reply_practice(
            progress.id, form.reply.data, actor_id=current_user.id, now=now))
        return redirect(back + "#current")
    calls = {
        "choose": lambda: services.choose_practice(
            progress.id, request.form.get("choice", type=int), actor_id=current_user.id,
            now=now),
        "again": lambda: services.practise_again(progress.id, actor_id=current_user.id,
                                                 now=now),
    }
    if action not in calls:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    _commit_or_say(calls[action])
    return redirect(back + "#current")


# --- recordings ---------------------------------------------------------------------------

def _visible_recording(recording_id: int) -> Recording:
    recording = db.get_or_404(Recording, recording_id)
    if not services.may_see_learner(current_user, recording.progress.user):
        abort(403)
    return recording


@bp.route("/recordings/<int:recording_id>", methods=["GET", "POST"])
@permission_required(Permission.USE_SCENARIOS)
def recording_show(recording_id: int):
    recording = _visible_recording(recording_id)
    may_review = services.may_review(current_user, recording.progress.user)
    form = ReviewForm()
    if request.method == "POST":
        if not may_review:
            abort(403)
        if form.validate_on_submit():
            try:
                services.review_recording(recording.id, form.comment.data, actor=current_user,
                                          now=utcnow())
            except DomainError as error:
                _fail(error)
            else:
                db.session.commit()
                flash(_("Your review was sent to the learner."), "success")
                return redirect(url_for("scenarios.recording_show", recording_id=recording.id))
    return render_template("scenarios/recording.html", recording=recording,
                           progress=recording.progress, doc=recording.progress.version.content,
                           may_review=may_review, form=form)


@bp.route("/recordings/<int:recording_id>/file")
@permission_required(Permission.USE_SCENARIOS)
def recording_file(recording_id: int):
    recording = _visible_recording(recording_id)
    response = send_from_directory(uploads.upload_dir(), recording.stored_name,
                                   mimetype=recording.media_type, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.route("/media/<code>/<int:version>/<path:name>")
@permission_required(Permission.USE_SCENARIOS)
def media(code: str, version: int, name: str):
    return send_from_directory(importers.media_root() / code / str(version), name,
                               conditional=True)


# --- sign-off -----------------------------------------------------------------------------

@bp.route("/sign-offs")
@permission_required(Permission.VIEW_APPRENTICES, Permission.MANAGE_TRAINING,
                     Permission.VIEW_TEAM)
def sign_offs():
    waiting = queries.sign_off_queue(current_user, include_unmentored=current_user.can(
        Permission.MANAGE_TRAINING))
    recordings = queries.recordings_to_review(
        current_user, everyone=current_user.can(Permission.MANAGE_TRAINING))
    watched = queries.watched_learner_ids(current_user)
    overdue = queries.overdue_assignments(watched, _today())
    return render_template("scenarios/sign_offs.html", waiting=waiting, recordings=recordings,
                           overdue=overdue)


@bp.route("/sign-offs/<int:progress_id>", methods=["GET", "POST"])
@permission_required(Permission.VIEW_APPRENTICES, Permission.MANAGE_TRAINING)
def sign_off(progress_id: int):
    progress = db.get_or_404(ScenarioProgress, progress_id)
    if progress.is_preview or not services.may_sign_off(current_user, progress.user):
        abort(403)
    form = SignOffForm()
    if form.validate_on_submit():
        try:
            services.decide_sign_off(progress.id, form.decision.data, form.rubric(),
                                     form.comment.data or "", actor=current_user, now=utcnow())
        except DomainError as error:
            _fail(error)
        else:
            db.session.commit()
            flash(_("Signed off.") if form.decision.data == "signed_off"
                  else _("Sent back with your feedback."), "success")
            return redirect(url_for("scenarios.sign_offs"))
    return render_template("scenarios/sign_off.html", progress=progress,
                           doc=progress.version.content, form=form,
                           practice=queries.latest_attempt(progress.id, 3),
                           recordings=queries.recordings_of(progress.id),
                           history=queries.sign_offs_of(progress.id))


# --- assigning ----------------------------------------------------------------------------

def _assignable_agents() -> list[User]:
    query = (select(User).where(User.is_active.is_(True), User.id != current_user.id,
                                User.id.in_(select(UserRole.user_id)
                                            .where(UserRole.role == "agent")))
             .order_by(User.employee_number))
    if not current_user.can(Permission.MANAGE_TRAINING):
        query = query.where(User.team_id.in_(led_team_ids(current_user.id)))
    return list(db.session.scalars(query))


@bp.route("/assign", methods=["GET", "POST"])
@permission_required(Permission.VIEW_TEAM, Permission.MANAGE_TRAINING)
def assign():
    form = AssignForm()
    form.agent_id.choices = [SelectChoice(u.id, f"{u.employee_number} {u.display_name}")
                             for u in _assignable_agents()]
    form.code.choices = [SelectChoice(s.code, f"{s.code} {queries.title_of(v, _locale())}")
                         for s, v in queries.list_library()]
    if request.method == "GET":
        form.agent_id.data = request.args.get("agent", type=int)
        form.code.data = request.args.get("code")
        form.due_on.data = _today() + timedelta(days=7)
    if form.validate_on_submit():
        try:
            services.assign_scenario(form.agent_id.data, form.code.data, due_on=form.due_on.data,
                                     reason=form.reason.data or "", actor=current_user,
                                     now=utcnow())
        except DomainError as error:
            _fail(error)
        else:
            db.session.commit()
            flash(_("Assigned."), "success")
            return redirect(url_for("scenarios.assign"))
    watched = queries.watched_learner_ids(current_user) if not current_user.can(
        Permission.MANAGE_TRAINING) else {u.id for u in _assignable_agents()}
    return render_template("scenarios/assign.html", form=form,
                           open=queries.open_scenario_assignments(watched))


# --- the trainer's library ----------------------------------------------------------------

@bp.route("/manage", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TRAINING)
def manage():
    """Import scenario files (all or nothing), export them, preview them as an agent."""
    form = UploadForm()
    errors, counts = [], None
    if form.validate_on_submit():
        files = [(f.filename or "upload.yaml", f.read()) for f in form.files.data if f]
        plan = importers.plan_import(files, allow_media=False)
        if plan.errors:
            errors = plan.errors
        else:
            counts = importers.apply_import(plan, actor_id=current_user.id, now=utcnow())
            db.session.commit()
            flash(_("Scenarios: %(new)s new, %(versions)s new versions, %(same)s unchanged.",
                    new=counts["new"], versions=counts["new_version"],
                    same=counts["unchanged"]), "success")
            return redirect(url_for("scenarios.manage"))
    return render_template("scenarios/manage.html", form=form, errors=errors,
                           library=queries.list_library(), action=ActionForm()), \
        400 if errors else 200


@bp.route("/manage/<code>/export")
@permission_required(Permission.MANAGE_TRAINING)
def export(code: str):
    scenario = queries.get_scenario(code)
    if scenario is None:
        abort(404)
    version = services.current_version(scenario)
    return Response(version.source, mimetype="application/x-yaml", headers={
        "Content-Disposition": f"attachment; filename={code}-v{version.version}.yaml"})


@bp.route("/manage/<code>/preview", methods=["POST"])
@permission_required(Permission.MANAGE_TRAINING)
def preview(code: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        progress = services.start_scenario(current_user.id, code, now=utcnow(), preview=True)
    except DomainError as error:
        _fail(error)
        return redirect(url_for("scenarios.manage"))
    db.session.commit()
    return _to_stage(progress)


@bp.route("/report")
@permission_required(Permission.MANAGE_TRAINING, Permission.VIEW_ALL_AGENTS)
def report():
    by = request.args.get("by", "team")
    if by not in ("team", "cohort"):
        by = "team"
    code = request.args.get("scenario") or None
    scenario = queries.get_scenario(code) if code else None
    groups = queries.completion_report(by=by, scenario_id=scenario.id if scenario else None)
    chart = {"labels": [g.label for g in groups],
             "completion": [g.completion for g in groups],
             "reach": [g.reach for g in groups],
             "case": [g.case_average or 0 for g in groups],
             "practice": [g.practice_average or 0 for g in groups]}
    return render_template("scenarios/report.html", groups=groups, by=by, scenario=scenario,
                           library=queries.list_library(), chart=chart)
