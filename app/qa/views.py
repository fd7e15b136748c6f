"""QA pages: the QA desk, scorecards, the upload → preview → confirm import, column mappings,
an agent's evaluations and disputes, the dispute queue, a team's QA trend and the
remediation mapping."""
from __future__ import annotations

import json
import secrets
from datetime import timedelta
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.auth.access import permission_required
from app.auth.models import User
from app.auth.queries import can_view_person
from app.auth.roles import Permission
from app.database import db, utcnow
from app.errors import DomainError
from app.incentives.queries import STATUS_LABELS as ENTRY_STATUS_LABELS
from app.incentives.violations import SOP_RULES
from app.qa import importers, queries, scorecards, services
from app.qa.forms import (
    CHANNEL_CHOICES,
    ConfirmForm,
    CriterionForm,
    DisputeForm,
    MappingForm,
    RemediationForm,
    ResolveForm,
    ScorecardForm,
    UploadForm,
)
from app.qa.models import Dispute, Evaluation, QaImport, Scorecard, ScorecardVersion
from app.scenarios import queries as scenario_queries
from app.training.services import list_open_assignments

bp = Blueprint("qa", __name__, template_folder="templates")

CHANNEL_LABELS = {choice.value: choice.label for choice in CHANNEL_CHOICES}
EVALUATION_STATUS_LABELS = {
    "pending": _l("In its dispute window"),
    "disputed": _l("Disputed"),
    "confirmed": _l("Final"),
}
DISPUTE_STATUS_LABELS = {"open": _l("Open"), "upheld": _l("Upheld"), "amended": _l("Amended")}


@bp.context_processor
def labels():
    return {"CHANNEL_LABELS": CHANNEL_LABELS, "EVALUATION_STATUS_LABELS":
            EVALUATION_STATUS_LABELS, "DISPUTE_STATUS_LABELS": DISPUTE_STATUS_LABELS,
            "ENTRY_STATUS_LABELS": ENTRY_STATUS_LABELS}

EMPTY_ROWS = 3   # blank criterion rows offered for new criteria in the scorecard editor


def _sop_choices():
    return [SelectChoice(rule.code, f"{rule.name_zh} / {rule.name_en}") for rule in SOP_RULES]


@bp.route("/")
@login_required
def index():
    """QA's front door: the desk for QA, the team trend for a team lead, else one's own."""
    if current_user.can(Permission.USE_QA):
        return redirect(url_for("qa.desk"))
    if current_user.can(Permission.VIEW_TEAM):
        return redirect(url_for("qa.team"))
    return redirect(url_for("qa.mine"))


@bp.route("/desk")
@permission_required(Permission.USE_QA)
def desk():
    now = utcnow()
    return render_template("qa/desk.html", desk=queries.desk(now),
                           disputes=queries.open_disputes_for(current_user),
                           scorecards=queries.list_scorecards())


# --- scorecards ---------------------------------------------------------------------------

@bp.route("/scorecards")
@permission_required(Permission.USE_QA)
def scorecard_list():
    return render_template("qa/scorecards.html", scorecards=queries.list_scorecards())


@bp.route("/scorecards/<int:scorecard_id>")
@permission_required(Permission.USE_QA)
def scorecard_show(scorecard_id: int):
    scorecard = db.get_or_404(Scorecard, scorecard_id)
    number = request.args.get("version", scorecard.current_version, type=int)
    version = db.session.scalar(select(ScorecardVersion).where(
        ScorecardVersion.scorecard_id == scorecard.id, ScorecardVersion.version == number))
    if version is None:
        abort(404)
    return render_template("qa/scorecard.html", scorecard=scorecard, version=version,
                           total=sum(c.weight for c in version.criteria),
                           sop={rule.code: rule for rule in SOP_RULES})


def _criteria_of(form: ScorecardForm) -> list[scorecards.CriterionSpec]:
    return [scorecards.CriterionSpec(
        row.criterion_code.data or "", row.section_en.data or "", row.section_zh.data or "",
        row.name_en.data or "", row.name_zh.data or "", row.weight.data or 0,
        row.is_critical.data, row.allows_na.data, row.category.data)
        for row in form.criteria
        if not row.remove.data and (row.criterion_code.data or row.name_en.data)]


@bp.route("/scorecards/new", methods=["GET", "POST"], defaults={"scorecard_id": None})
@bp.route("/scorecards/<int:scorecard_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.USE_QA)
def scorecard_edit(scorecard_id: int | None):
    """Create a scorecard or save its criteria as a new version."""
    scorecard = db.get_or_404(Scorecard, scorecard_id) if scorecard_id else None
    form = ScorecardForm()
    if request.method == "GET":
        specs = []
        if scorecard is not None:
            form.code.data, form.channel.data = scorecard.code, scorecard.channel
            form.name_en.data, form.name_zh.data = scorecard.name_en, scorecard.name_zh
            specs = scorecards.specs_of(scorecards.current_version(scorecard))
        while len(form.criteria.entries):
            form.criteria.pop_entry()
        for spec in specs:
            form.criteria.append_entry({
                "criterion_code": spec.code, "section_en": spec.section_en,
                "section_zh": spec.section_zh, "name_en": spec.name_en, "name_zh": spec.name_zh,
                "weight": spec.weight, "is_critical": spec.is_critical,
                "allows_na": spec.allows_na, "category": spec.category})
        for _n in range(EMPTY_ROWS):
            form.criteria.append_entry({"category": "other"})
    for row in form.criteria:
        row.category.choices = _sop_choices()
    if form.validate_on_submit():
        try:
            version = scorecards.save_scorecard(
                scorecard.id if scorecard else None, code=form.code.data,
                name_en=form.name_en.data, name_zh=form.name_zh.data,
                channel=form.channel.data, criteria=_criteria_of(form),
                actor_id=current_user.id, now=utcnow(), note=form.note.data or "")
        except DomainError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("Saved as version %(version)s.", version=version.version), "success")
            return redirect(url_for("qa.scorecard_show", scorecard_id=version.scorecard_id))
    return render_template("qa/scorecard_form.html", form=form, scorecard=scorecard,
                           blank=CriterionForm)


# --- imports ------------------------------------------------------------------------------

def _upload_dir() -> Path:
    folder = Path(current_app.config.get("QA_UPLOAD_FOLDER")
                  or Path(current_app.instance_path) / "qa_uploads")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stored(token: str) -> tuple[bytes, dict]:
    """The upload behind a preview token, if it is the current user's."""
    if not token.replace("-", "").replace("_", "").isalnum() or len(token) > 64:
        abort(404)
    folder = _upload_dir()
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        data = (folder / f"{token}.bin").read_bytes()
    except FileNotFoundError:
        abort(404)
    if meta.get("user_id") != current_user.id:
        abort(404)
    return data, meta


def _forget(token: str) -> None:
    for suffix in (".json", ".bin"):
        (_upload_dir() / f"{token}{suffix}").unlink(missing_ok=True)


@bp.route("/imports/new", methods=["GET", "POST"])
@permission_required(Permission.USE_QA)
def import_new():
    """Upload an export; nothing is written before the preview is confirmed."""
    form = UploadForm()
    if form.validate_on_submit():
        token = secrets.token_urlsafe(18)
        folder = _upload_dir()
        (folder / f"{token}.bin").write_bytes(form.file.data.read())
        (folder / f"{token}.json").write_text(json.dumps({
            "user_id": current_user.id, "filename": form.file.data.filename or "upload",
            "source": form.source.data.strip(), "uploaded_at": utcnow().isoformat()}))
        location = url_for("qa.import_preview", token=token)
        if request.accept_mimetypes.best == "application/json":   # progress.js's upload
            return jsonify(location=location)
        return redirect(location)
    return render_template("qa/import_new.html", form=form, columns=importers.COLUMN_HELP)


@bp.route("/imports/preview/<token>", methods=["GET", "POST"])
@permission_required(Permission.USE_QA)
def import_preview(token: str):
    """The preview: rows read, new, unchanged, changed and errors; confirming imports it
    whole (the file is checked again against the database as it is then)."""
    data, meta = _stored(token)
    form = ConfirmForm()
    now = utcnow()
    plan = importers.plan_import(data, meta["filename"], source=meta["source"], now=now)
    if form.validate_on_submit():
        if plan.errors:
            flash(_("Nothing was imported: the file has errors."), "error")
        else:
            try:
                done = importers.apply_import(plan, filename=meta["filename"],
                                              actor_id=current_user.id, now=now)
            except DomainError as error:
                db.session.rollback()
                flash(error.translated(), "error")
            else:
                db.session.commit()
                _forget(token)
                flash(_("Imported: %(new)s new and %(changed)s corrected evaluations.",
                        new=done.new, changed=done.changed), "success")
                return redirect(url_for("qa.import_show", import_id=done.id))
    return render_template("qa/import_preview.html", plan=plan, meta=meta, form=form,
                           token=token)


@bp.route("/imports/preview/<token>/errors.csv")
@permission_required(Permission.USE_QA)
def import_errors(token: str):
    data, meta = _stored(token)
    plan = importers.plan_import(data, meta["filename"], source=meta["source"], now=utcnow())
    return Response(importers.errors_csv(plan), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=qa-import-errors.csv"})


@bp.route("/imports/<int:import_id>")
@permission_required(Permission.USE_QA)
def import_show(import_id: int):
    done = db.get_or_404(QaImport, import_id)
    page = db.paginate(queries.evaluations_of_import(done.id),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("qa/import_show.html", done=done, page=page)


@bp.route("/mappings", methods=["GET", "POST"])
@permission_required(Permission.USE_QA)
def mappings():
    """Save a call-review tool's column names once: `their column = our field`."""
    form = MappingForm()
    if request.method == "GET" and request.args.get("source"):
        saved = importers.get_column_mapping(request.args["source"])
        form.source.data = request.args["source"]
        if saved:
            form.columns.data = "\n".join(f"{theirs} = {ours}" for theirs, ours in saved.items())
    if form.validate_on_submit():
        columns = {}
        for line in form.columns.data.splitlines():
            if "=" in line:
                theirs, ours = line.rsplit("=", 1)
                if theirs.strip() and ours.strip():
                    columns[theirs.strip()] = ours.strip()
        try:
            importers.save_column_mapping(form.source.data.strip(), columns,
                                          actor_id=current_user.id, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("qa.desk"))
    return render_template("qa/mappings.html", form=form, fields=importers.FIELDS,
                           saved=queries.desk(utcnow())["mappings"])


# --- evaluations and disputes ---------------------------------------------------------------

@bp.route("/mine")
@permission_required(Permission.VIEW_OWN_RECORDS)
def mine():
    """The agent's own evaluations, newest first, with their dispute windows."""
    now = utcnow()
    page = db.paginate(queries.evaluations_of(current_user.id),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("qa/mine.html", page=page, now=now, person=current_user,
                           summary=queries.summary_of(current_user.id, now - timedelta(days=90)),
                           assignments=list_open_assignments(current_user.id))


@bp.route("/people/<int:user_id>")
@login_required
def person(user_id: int):
    """A person's evaluations, for those who may see their records."""
    person = db.get_or_404(User, user_id)
    if not can_view_person(current_user, person):
        abort(404)
    if person.id == current_user.id:
        return redirect(url_for("qa.mine"))
    now = utcnow()
    page = db.paginate(queries.evaluations_of(person.id),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("qa/mine.html", page=page, now=now, person=person,
                           summary=queries.summary_of(person.id, now - timedelta(days=90)),
                           assignments=list_open_assignments(person.id))


def _evaluation_for_viewer(evaluation_id: int) -> Evaluation:
    evaluation = db.get_or_404(Evaluation, evaluation_id)
    if not (can_view_person(current_user, evaluation.user)
            or current_user.can(Permission.USE_QA)):
        abort(404)
    return evaluation


@bp.route("/evaluations/<int:evaluation_id>")
@login_required
def evaluation_show(evaluation_id: int):
    evaluation = _evaluation_for_viewer(evaluation_id)
    now = utcnow()
    open_dispute = next((d for d in evaluation.disputes if d.status == "open"), None)
    resolve_form = None
    if open_dispute is not None and services.can_resolve(evaluation, current_user):
        resolve_form = ResolveForm()
        resolve_form.score.data = evaluation.score
    return render_template(
        "qa/evaluation.html", evaluation=evaluation, now=now, open_dispute=open_dispute,
        dispute_form=DisputeForm() if services.can_dispute(evaluation, current_user, now)
        else None, resolve_form=resolve_form,
        points=services.points_of(evaluation), sop={rule.code: rule for rule in SOP_RULES})


@bp.route("/evaluations/<int:evaluation_id>/dispute", methods=["POST"])
@login_required
def dispute(evaluation_id: int):
    evaluation = _evaluation_for_viewer(evaluation_id)
    form = DisputeForm()
    if form.validate_on_submit():
        try:
            services.raise_dispute(evaluation.id, reason=form.reason.data,
                                   actor_id=current_user.id, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("Your dispute was sent. The points wait until it is resolved."), "success")
    else:
        flash(_("Say why you dispute the evaluation."), "error")
    return redirect(url_for("qa.evaluation_show", evaluation_id=evaluation.id))


@bp.route("/disputes")
@login_required
def disputes():
    """The open disputes this person may resolve."""
    if not (current_user.can(Permission.USE_QA) or current_user.can(Permission.VIEW_TEAM)):
        abort(403)
    return render_template("qa/disputes.html",
                           disputes=queries.open_disputes_for(current_user),
                           resolved=queries.recent_disputes_for(current_user))


@bp.route("/disputes/<int:dispute_id>/resolve", methods=["POST"])
@login_required
def resolve(dispute_id: int):
    dispute = db.get_or_404(Dispute, dispute_id)
    if not services.can_resolve(dispute.evaluation, current_user):
        abort(404)
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            services.resolve_dispute(
                dispute.id, decision=form.decision.data, note=form.note.data,
                score=form.score.data, is_critical_fail=form.is_critical_fail.data,
                actor_id=current_user.id, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("The dispute is resolved and the agent was told."), "success")
            return redirect(url_for("qa.disputes"))
    else:
        flash(_("Choose a decision and explain it to the agent."), "error")
    return redirect(url_for("qa.evaluation_show", evaluation_id=dispute.evaluation_id))


# --- a team's trend -------------------------------------------------------------------------

@bp.route("/team")
@login_required
def team():
    """A team's QA trend: average score and critical-fail rate by week or month, per agent
    and per criterion, and the criteria most often failed."""
    teams = queries.teams_visible_to(current_user)
    if not teams:
        abort(403)
    team_id = request.args.get("team", type=int)
    chosen = next((t for t in teams if t.id == team_id), teams[0])
    by = "month" if request.args.get("by") == "month" else "week"
    weeks = 26 if by == "month" else 12
    members = list(db.session.scalars(select(User).where(User.team_id == chosen.id)
                                      .order_by(User.name, User.employee_number)))
    agent = next((m for m in members if m.id == request.args.get("agent", type=int)), None)
    criterion = (request.args.get("criterion") or "").strip()[:60] or None
    trend = queries.team_trend([chosen.id], since=utcnow() - timedelta(weeks=weeks), by=by,
                               user_id=agent.id if agent else None, criterion=criterion)
    return render_template("qa/team.html", teams=teams, team=chosen, by=by, trend=trend,
                           members=members, agent=agent, criterion=criterion)


# --- remediation mapping ------------------------------------------------------------------

@bp.route("/remediation", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TRAINING)
def remediation():
    """What a critical fail of each rule of the service standard assigns."""
    form = RemediationForm()
    scenarios = {s.code: v for s, v in scenario_queries.list_library()}
    if form.validate_on_submit():
        code = (form.item_code.data or "").strip()
        if form.item_kind.data == "scenario" and code and code not in scenarios:
            flash(_("There is no scenario %(code)s in the training room.", code=code), "error")
            return redirect(url_for("qa.remediation"))
        if form.item_kind.data == "scenario" and code and not (form.title.data or "").strip():
            form.title.data = scenarios[code].title_zh
        try:
            services.save_remediation_rule(
                form.category.data, item_kind=form.item_kind.data,
                item_code=form.item_code.data, title=form.title.data,
                due_days=form.due_days.data, actor_id=current_user.id, now=utcnow())
        except DomainError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("qa.remediation"))
    mapped = queries.remediation_rules()
    forms = []
    for rule in SOP_RULES:
        current = mapped.get(rule.code)
        row = RemediationForm(formdata=None, category=rule.code,
                              item_kind=current.item_kind if current else "scenario",
                              item_code=current.item_code if current else "",
                              title=current.title if current else "",
                              due_days=current.due_days if current else 7)
        forms.append((rule, row))
    return render_template("qa/remediation.html", forms=forms, scenarios=scenarios)
