"""Training pages: the learner's training (paths, assigned lessons and quizzes), lessons,
quizzes and their attempts (answers saved as they go), certificates; the trainer's question
bank (GIFT in and out), quizzes, paths and enrolment, essay grading, special topics and the
coverage report; the mentor's and the team lead's view of their people."""
from __future__ import annotations

import yaml
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
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
from app.auth.models import Team, User
from app.auth.queries import (
    apprentices_of,
    cohorts,
    current_apprentice_ids,
    led_team_ids,
    team_members,
)
from app.auth.roles import Permission
from app.centre.periods import centre_tz
from app.database import db, utcnow
from app.errors import DomainError
from app.i18n import N_
from app.leaderboard.exports import to_csv, to_xlsx
from app.training import importers, paths, queries, quizzes
from app.training.forms import (
    ActionForm,
    EnrolForm,
    EssayGradeForm,
    GiftUploadForm,
    LessonUploadForm,
    NoteForm,
    PathUploadForm,
    QuestionForm,
    QuizForm,
    TopicForm,
)
from app.training.models import Lesson, Question, QuizAttempt
from app.training.questions import (
    ESSAY,
    MATCHING,
    MULTIPLE,
    NUMERICAL,
    SHORT,
    SINGLE,
    TRUE_FALSE,
)
from app.training.services import (
    add_observation_note,
    assign_special_topic,
    list_open_assignments,
)

bp = Blueprint("training", __name__, template_folder="templates")


def _locale() -> str:
    return str(get_locale() or "zh_Hans")


def _today():
    return utcnow().astimezone(centre_tz()).date()


@bp.context_processor
def helpers():
    locale = _locale()
    return {"title_of": lambda obj: queries.title_of(obj, locale), "today": _today()}


def _commit_or_say(call):
    try:
        result = call()
    except DomainError as error:
        db.session.rollback()
        flash(error.translated(), "error")
        return None
    db.session.commit()
    return result


# --- the learner --------------------------------------------------------------------------

@bp.route("/")
@permission_required(Permission.USE_TRAINING)
def index():
    today = _today()
    states = queries.states_of([current_user.id], today).get(current_user.id, [])
    assigned = [a for a in list_open_assignments(current_user.id)
                if a.item_kind in ("lesson", "quiz")]
    return render_template("training/index.html", states=states, assigned=assigned,
                           lessons=queries.lessons(_locale()), quizzes=queries.quizzes())


@bp.route("/lessons/<code>", methods=["GET", "POST"])
@permission_required(Permission.USE_TRAINING)
def lesson(code: str):
    found = queries.lesson(code, _locale())
    if found is None:
        abort(404)
    form = ActionForm()
    if form.validate_on_submit():
        _commit_or_say(lambda: paths.mark_lesson_read(code, current_user.id, now=utcnow()))
        if found.quiz_code:
            return redirect(url_for("training.quiz", code=found.quiz_code))
        return redirect(url_for("training.index"))
    return render_template("training/lesson.html", lesson=found, form=form)


@bp.route("/quizzes/<code>")
@permission_required(Permission.USE_TRAINING)
def quiz(code: str):
    try:
        found = quizzes.get_quiz(code)
    except DomainError:
        abort(404)
    attempts = quizzes.attempts_of(found.id, current_user.id)
    grade = quizzes.quiz_grade(found, current_user.id)
    remedial = queries.lesson(found.remedial, _locale()) if found.remedial else None
    used_up = bool(found.attempts_allowed) and len(attempts) >= found.attempts_allowed and \
        not any(a.status == "in_progress" for a in attempts)
    return render_template("training/quiz.html", quiz=found, attempts=attempts, grade=grade,
                           remedial=remedial, used_up=used_up, form=ActionForm())


@bp.route("/quizzes/<code>/start", methods=["POST"])
@permission_required(Permission.USE_TRAINING)
def quiz_start(code: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    attempt = _commit_or_say(lambda: quizzes.start_attempt(code, current_user, now=utcnow()))
    if attempt is None:
        return redirect(url_for("training.quiz", code=code))
    return redirect(url_for("training.attempt", attempt_id=attempt.id))


def _own_attempt(attempt_id: int) -> QuizAttempt:
    attempt = db.get_or_404(QuizAttempt, attempt_id)
    if attempt.user_id != current_user.id:
        abort(403)
    return attempt


def response_from(entry: dict, index: int, values):
    """One question's answer from submitted form fields (`q<index>…`), typed for grading."""
    qtype = entry["body"]["qtype"]
    name = f"q{index}"
    if qtype == SINGLE:
        value = values.get(name, "")
        return int(value) if value.isdigit() else None
    if qtype == MULTIPLE:
        return [int(v) for v in values.getlist(name) if v.isdigit()]
    if qtype == TRUE_FALSE:
        value = values.get(name, "")
        return {"true": True, "false": False}.get(value)
    if qtype == MATCHING:
        prompts = [p["prompt"] for p in entry["body"]["pairs"] if p["prompt"]]
        return {prompt: values.get(f"{name}-{k}", "") for k, prompt in enumerate(prompts)}
    if qtype in (SHORT, NUMERICAL, ESSAY):
        return values.get(name, "")
    return None


@bp.route("/attempts/<int:attempt_id>")
@permission_required(Permission.USE_TRAINING)
def attempt(attempt_id: int):
    found = _own_attempt(attempt_id)
    now = utcnow()
    if found.status == "in_progress" and found.deadline_at and found.deadline_at <= now:
        _commit_or_say(lambda: quizzes.submit_attempt(found.id, current_user, now=now))
    return render_template("training/attempt.html", attempt=found, form=ActionForm(),
                           review=quizzes.may_review(found), now=now,
                           remedial=queries.lesson(found.quiz.remedial, _locale())
                           if found.quiz.remedial else None)


@bp.route("/attempts/<int:attempt_id>/answer", methods=["POST"])
@permission_required(Permission.USE_TRAINING)
def attempt_answer(attempt_id: int):
    """Save one answer as it is given (the page's script), or all of them (no script)."""
    found = _own_attempt(attempt_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    index = request.form.get("index", type=int)
    indexes = [index] if index is not None else range(len(found.questions))
    now = utcnow()
    try:
        for i in indexes:
            if not 0 <= i < len(found.questions):
                abort(400)
            quizzes.save_answer(found.id, i, response_from(found.questions[i], i, request.form),
                                current_user, now=now)
    except DomainError as error:
        db.session.rollback()
        if request.accept_mimetypes.best == "application/json":
            return jsonify(saved=False, error=error.translated()), 409
        flash(error.translated(), "error")
        return redirect(url_for("training.attempt", attempt_id=found.id))
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify(saved=True, at=now.isoformat())
    if request.form.get("submit"):
        _commit_or_say(lambda: quizzes.submit_attempt(found.id, current_user, now=now))
    return redirect(url_for("training.attempt", attempt_id=found.id))


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@permission_required(Permission.USE_TRAINING)
def attempt_submit(attempt_id: int):
    found = _own_attempt(attempt_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    _commit_or_say(lambda: quizzes.submit_attempt(found.id, current_user, now=utcnow()))
    return redirect(url_for("training.attempt", attempt_id=found.id))


@bp.route("/paths/<code>")
@permission_required(Permission.USE_TRAINING)
def path(code: str):
    user_id = request.args.get("user", type=int) or current_user.id
    person = db.get_or_404(User, user_id)
    if person.id != current_user.id and not _follows(person):
        abort(403)
    enrolment = next((e for e in paths.enrolments_of(person.id) if e.path.code == code), None)
    if enrolment is None:
        abort(404)
    return render_template("training/path.html", state=paths.state_of(enrolment, _today()),
                           person=person)


@bp.route("/paths/<code>/certificate")
@permission_required(Permission.USE_TRAINING)
def certificate(code: str):
    enrolment = next((e for e in paths.enrolments_of(current_user.id)
                      if e.path.code == code), None)
    if enrolment is None or enrolment.completed_at is None:
        abort(404)
    return render_template("training/certificate.html", enrolment=enrolment)


# --- mentors and team leads ---------------------------------------------------------------

def _follows(person: User) -> bool:
    """A mentor follows their apprentices, a lead their team, a trainer everyone."""
    if current_user.can(Permission.VIEW_ALL_AGENTS):
        return True
    if person.id in current_apprentice_ids(current_user.id):
        return True
    return person.team_id is not None and person.team_id in led_team_ids(current_user.id)


@bp.route("/people")
@permission_required(Permission.VIEW_APPRENTICES, Permission.VIEW_TEAM)
def people():
    """The mentor's apprentices and the lead's team: paths, what is next and overdue, notes."""
    apprentices = [user for user, _ in apprentices_of(current_user.id)]
    team = [u for team_id in led_team_ids(current_user.id) for u in team_members(team_id)
            if u.id != current_user.id]
    everyone = {u.id: u for u in apprentices + team}
    today = _today()
    form = NoteForm()
    form.apprentice_id.choices = [SelectChoice(u.id, u.display_name) for u in apprentices]
    form.observed_on.data = form.observed_on.data or today
    from app.scenarios.queries import sign_off_queue
    return render_template(
        "training/people.html", apprentices=apprentices, team=team,
        states=queries.states_of(everyone, today), form=form,
        notes={u.id: queries.notes_of(u.id)[:3] for u in apprentices},
        waiting=sign_off_queue(current_user, include_unmentored=False))


@bp.route("/notes", methods=["POST"])
@permission_required(Permission.VIEW_APPRENTICES)
def note_add():
    form = NoteForm()
    form.apprentice_id.choices = [SelectChoice(u.id, u.display_name)
                                  for u, _ in apprentices_of(current_user.id)]
    if form.validate_on_submit():
        if _commit_or_say(lambda: add_observation_note(
                current_user.id, form.apprentice_id.data, form.observed_on.data,
                form.text.data, now=utcnow())) is not None:
            flash(_("Your observation note is saved."), "success")
    else:
        flash(_("The note was not saved: choose your apprentice and write what you observed."),
              "error")
    return redirect(url_for("training.people"))


# --- the trainer --------------------------------------------------------------------------

@bp.route("/bank", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TRAINING)
def bank():
    form = GiftUploadForm()
    plan = None
    if form.validate_on_submit():
        upload = form.file.data
        name = upload.filename or "upload.gift"
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            flash(_("The file is not UTF-8 text."), "error")
            return redirect(url_for("training.bank"))
        plan = importers.plan_gift(text, name, category=(form.category.data or "").strip())
        if not plan.errors:
            counts = importers.apply_gift(plan, filename=name, actor_id=current_user.id,
                                          now=utcnow())
            db.session.commit()
            flash(_("Questions: %(new)s new, %(changed)s changed, %(same)s unchanged.",
                    new=counts["new"], changed=counts["changed"], same=counts["unchanged"]),
                  "success")
            return redirect(url_for("training.bank"))
    category = request.args.get("category") or None
    lang = request.args.get("lang") or None
    listed = db.paginate(queries.questions_in(category, lang), per_page=50) if category else None
    return render_template("training/bank.html", form=form, plan=plan, listed=listed,
                           categories=queries.categories(), types=queries.type_counts(),
                           category=category, lang=lang), 400 if plan and plan.errors else 200


@bp.route("/bank/questions/<int:question_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TRAINING)
def question_edit(question_id: int):
    """Change one question by editing its GIFT, or take it out of the bank."""
    question = db.get_or_404(Question, question_id)
    form = QuestionForm()
    if request.method == "GET":
        form.gift.data = importers.question_gift(question)
    elif form.validate_on_submit():
        if form.remove.data:
            question.is_active = False
            db.session.commit()
            flash(_("The question is out of the bank; attempts that used it keep it."),
                  "success")
            return redirect(url_for("training.bank", category=question.category,
                                    lang=question.lang))
        errors = importers.replace_question(question, form.gift.data, now=utcnow())
        if not errors:
            db.session.commit()
            flash(_("Question saved."), "success")
            return redirect(url_for("training.bank", category=question.category,
                                    lang=question.lang))
        db.session.rollback()
        for error in errors:
            flash(f"{error.where}: {_(error.message, **error.params)}", "error")
    return render_template("training/question.html", question=question, form=form)


@bp.route("/bank/export")
@permission_required(Permission.MANAGE_TRAINING)
def bank_export():
    lang = request.args.get("lang") or None
    category = request.args.get("category") or None
    text = importers.export_gift(lang=lang, category=category)
    name = "-".join(filter(None, ["pinwheel-bank", (category or "").replace("/", "_"), lang]))
    return Response(text, mimetype="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}.gift"})


def _draws_of(text: str) -> list[dict]:
    draws = []
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            draws.append({"category": parts[0], "count": int(parts[1])})
        elif line.strip():
            raise ValueError(line)
    return draws


@bp.route("/quizzes", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TRAINING)
def quiz_manage():
    form = QuizForm()
    code = request.args.get("code")
    if request.method == "GET" and code:
        existing = quizzes.get_quiz(code)
        form.process(obj=existing)
        form.draws.data = "\n".join(f"{d['category']} {d['count']}" for d in existing.draws)
        form.fixed.data = " ".join(existing.fixed)
        form.attempts.data = existing.attempts_allowed
    if form.validate_on_submit():
        try:
            draws = _draws_of(form.draws.data)
        except ValueError as line:
            flash(_("Write each draw as a category and a count: %(line)s", line=str(line)),
                  "error")
        else:
            quiz, errors = importers.save_quiz({
                "code": form.code.data, "title": {"zh": form.title_zh.data,
                                                  "en": form.title_en.data},
                "draws": draws, "questions": (form.fixed.data or "").split(),
                "shuffle": form.shuffle.data, "time_limit_minutes": form.time_limit_minutes.data,
                "attempts": form.attempts.data or 0, "grading": form.grading.data,
                "pass_mark": form.pass_mark.data, "review": form.review.data,
                "remedial": (form.remedial.data or "").strip() or None}, now=utcnow())
            if errors:
                db.session.rollback()
                for error in errors:
                    flash(_(error.message, **error.params), "error")
            else:
                db.session.commit()
                flash(_("Quiz %(code)s saved.", code=quiz.code), "success")
                return redirect(url_for("training.quiz_manage"))
    return render_template("training/quizzes.html", form=form, quizzes=queries.quizzes(),
                           categories=queries.categories())


@bp.route("/lessons", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TRAINING)
def lesson_manage():
    """Add or replace a micro-lesson from its Markdown file, with an optional video."""
    form = LessonUploadForm()
    errors = []
    if form.validate_on_submit():
        name = form.file.data.filename or "lesson.md"
        try:
            text = form.file.data.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            text = ""
        meta, errors = importers.parse_lesson(text, name)
        if meta is not None and form.video.data and form.video.data.filename:
            stored, problem = importers.store_video(form.video.data.read(),
                                                    form.video.data.filename)
            errors = [problem] if problem else []
            meta["video"] = stored
        if meta is not None and not errors:
            lesson = importers.save_lesson(meta, now=utcnow())
            db.session.commit()
            flash(_("Lesson %(code)s saved.", code=lesson.code), "success")
            return redirect(url_for("training.lesson_manage"))
    return render_template("training/lessons.html", form=form, errors=errors,
                           lessons=db.session.scalars(select(Lesson).order_by(
                               Lesson.code, Lesson.lang)).all()), 400 if errors else 200


@bp.route("/media/<name>")
@permission_required(Permission.USE_TRAINING)
def media(name: str):
    return send_from_directory(importers.media_dir(), name, conditional=True)


@bp.route("/paths/upload", methods=["POST"])
@permission_required(Permission.MANAGE_TRAINING)
def path_upload():
    """Add or change a learning path from its YAML file (validated first)."""
    form = PathUploadForm()
    if not form.validate_on_submit():
        flash(_("Choose a path file."), "error")
        return redirect(url_for("training.path_manage"))
    name = form.file.data.filename or "path.yaml"
    try:
        spec = yaml.safe_load(form.file.data.read().decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError):
        spec = None
    errors = importers.validate_path(spec, name) if spec is not None else [
        importers.ContentError(name, N_("The file is not valid YAML."))]
    if errors:
        for error in errors[:10]:
            flash(f"{error.where}: {_(error.message, **error.params)}", "error")
        return redirect(url_for("training.path_manage"))
    path = importers.save_path(spec, now=utcnow())
    db.session.commit()
    flash(_("Path %(code)s saved.", code=path.code), "success")
    return redirect(url_for("training.path_manage"))


@bp.route("/paths", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TRAINING)
def path_manage():
    form = EnrolForm()
    form.path.choices = [SelectChoice(p.code, f"{p.code} {queries.title_of(p, _locale())}")
                         for p in queries.paths()]
    form.cohort.choices = [SelectChoice("", "—")] + [
        SelectChoice(c, f"{c} ({n})") for c, n in cohorts()]
    form.people.choices = [SelectChoice(u.id, f"{u.employee_number} {u.display_name}")
                           for u in db.session.scalars(select(User).where(
                               User.is_active.is_(True)).order_by(User.employee_number))]
    if form.validate_on_submit():
        now = utcnow()
        if form.cohort.data:
            added = _commit_or_say(lambda: paths.enrol_cohort(
                form.path.data, form.cohort.data, actor_id=current_user.id, now=now))
        elif form.people.data:
            added = _commit_or_say(lambda: paths.enrol(
                form.path.data, form.people.data, source="individual",
                actor_id=current_user.id, now=now))
        else:
            added = None
            flash(_("Choose a cohort or people to enrol."), "error")
        if added is not None:
            flash(_("%(n)s enrolled.", n=added), "success")
            return redirect(url_for("training.path_manage"))
    return render_template("training/paths.html", form=form, paths=queries.paths(),
                           upload=PathUploadForm())


@bp.route("/grading", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TRAINING)
def grading_queue():
    form = EssayGradeForm()
    attempt_id = request.args.get("attempt", type=int)
    if form.validate_on_submit() and attempt_id:
        done = _commit_or_say(lambda: quizzes.grade_by_hand(
            attempt_id, form.index.data, form.percent.data / 100, form.feedback.data or "",
            actor=current_user, now=utcnow()))
        if done is not None:
            flash(_("Graded."), "success")
        return redirect(url_for("training.grading_queue"))
    return render_template("training/grading.html", attempts=queries.essays_to_grade(),
                           form=form)


@bp.route("/special-topics", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TRAINING)
def special_topic():
    """When complaints cluster on one issue: a lesson or quiz for everyone in chosen teams."""
    form = TopicForm()
    locale = _locale()
    form.item.choices = [SelectChoice(f"lesson:{x.code}", f"{x.code} {x.title}")
                         for x in queries.lessons(locale)] + [
        SelectChoice(f"quiz:{q.code}", f"{q.code} {queries.title_of(q, locale)}")
        for q in queries.quizzes()]
    form.teams.choices = [SelectChoice(t.id, t.name) for t in db.session.scalars(
        select(Team).order_by(Team.name))]
    if form.validate_on_submit():
        kind, code = form.item.data.split(":", 1)
        title = dict((c.value, c.label) for c in form.item.choices)[form.item.data]
        assigned = assign_special_topic(
            kind, code, title, form.teams.data, due_on=form.due_on.data,
            reason=form.reason.data, link=url_for(f"training.{kind}", code=code),
            actor_id=current_user.id, now=utcnow())
        db.session.commit()
        flash(_("Assigned to %(n)s people.", n=assigned), "success")
        return redirect(url_for("training.special_topic"))
    return render_template("training/special_topic.html", form=form)


@bp.route("/report")
@permission_required(Permission.MANAGE_TRAINING, Permission.VIEW_ALL_AGENTS)
def report():
    by = request.args.get("by", "team") if request.args.get("by") in ("team", "cohort") \
        else "team"
    quiz_code = request.args.get("quiz") or None
    groups = queries.coverage_report(by=by, today=_today(), quiz_code=quiz_code)
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        header = [_("Team") if by == "team" else _("Cohort"), _("Agents"), _("Enrolled"),
                  _("Coverage (per cent)"), _("Completed"), _("Overdue"), _("Agents tested"),
                  _("Agents passed"), _("Pass rate (per cent)"), _("Attempts"),
                  _("Attempts passed"), _("Target (per cent)")]
        rows = [[g.label, g.agents, g.enrolled, g.coverage, g.completed, g.overdue,
                 len(g.tested), len(g.passed), g.pass_rate, g.attempts, g.passed_attempts,
                 queries.TARGET_PASS_RATE]
                for g in groups]
        if fmt == "csv":
            return Response(to_csv(header, rows), mimetype="text/csv", headers={
                "Content-Disposition": f"attachment; filename=training-{by}.csv"})
        return Response(to_xlsx(_("Training"), header, rows), mimetype=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            headers={"Content-Disposition": f"attachment; filename=training-{by}.xlsx"})
    chart = {"labels": [g.label for g in groups],
             "coverage": [g.coverage for g in groups],
             "pass_rate": [g.pass_rate or 0 for g in groups],
             "attempts": [g.attempt_pass_rate or 0 for g in groups],
             "target": [queries.TARGET_PASS_RATE for _g in groups]}
    return render_template("training/report.html", groups=groups, by=by, chart=chart,
                           quizzes=queries.quizzes(), quiz_code=quiz_code,
                           target=queries.TARGET_PASS_RATE)


@bp.route("/attempts/<int:attempt_id>/review")
@permission_required(Permission.MANAGE_TRAINING, Permission.VIEW_ALL_AGENTS)
def attempt_review(attempt_id: int):
    """A trainer reads any attempt with its answers and marks."""
    found = db.get_or_404(QuizAttempt, attempt_id)
    return render_template("training/attempt.html", attempt=found, form=ActionForm(),
                           review=True, now=utcnow(), remedial=None, staff=True)
