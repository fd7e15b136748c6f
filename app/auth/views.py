"""Sign-in, passwords, people, teams and mentorships. Thin: parse, call a service, commit."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from app.auth import queries
from app.auth.access import permission_required, safe_next
from app.auth.forms import (
    LEVEL_LABELS,
    ROLE_LABELS,
    ChangePasswordForm,
    ConfirmForm,
    DeactivateForm,
    EndMentorshipForm,
    LoginForm,
    MentorForm,
    RosterUploadForm,
    SetPasswordForm,
    TeamForm,
    UserForm,
)
from app.auth.importers import ROSTER_COLUMNS, RosterImportError, import_roster
from app.auth.models import Team, User
from app.auth.roles import Permission
from app.auth.services import (
    PeopleError,
    assign_mentor,
    authenticate,
    change_password,
    create_team,
    create_user,
    current_mentorship,
    deactivate_user,
    end_mentorship,
    reactivate_user,
    set_password,
    update_team,
    update_user,
)
from app.centre.periods import centre_tz
from app.database import db, utcnow
from app.extensions import limiter

bp = Blueprint("auth", __name__, template_folder="templates")


@bp.record_once
def _template_globals(state):
    """Role and level names for every template, macros included."""
    state.app.jinja_env.globals.update(ROLE_LABELS=ROLE_LABELS, LEVEL_LABELS=LEVEL_LABELS)


def _today():
    return utcnow().astimezone(centre_tz()).date()


def _signin_limit() -> str:
    return current_app.config["SIGNIN_RATE_LIMIT"]


def _failed_signin(response) -> bool:
    """Only failed sign-ins count against the limit (a success redirects)."""
    return response.status_code != 302


# --- sign-in -----------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"], deduct_when=_failed_signin)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(form.login.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            if user.locale is None and session.get("locale"):
                user.locale = session["locale"]
                db.session.commit()
            return redirect(safe_next(form.next.data) or url_for("main.home"))
        form.password.errors.append(
            _("The employee number, e-mail or password is not correct, "
              "or the account is inactive."))
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password_change():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user.id, form.current_password.data, form.new_password.data,
                            now=utcnow())
        except PeopleError as error:
            db.session.rollback()
            form.current_password.errors.append(error.translated())
        else:
            db.session.commit()
            flash(_("Your password is changed."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password_change.html", form=form)


# --- people ------------------------------------------------------------------------------

@bp.route("/people")
@permission_required(Permission.VIEW_PEOPLE)
def people_list():
    search = request.args.get("q", "").strip()
    team_id = request.args.get("team", type=int)
    role = request.args.get("role") or None
    status = request.args.get("status", "active")
    page = db.paginate(
        queries.people_query(search=search, team_id=team_id, role=role, status=status),
        per_page=current_app.config["PAGE_SIZE"], error_out=False,
    )
    return render_template(
        "auth/people_list.html", page=page, search=search, team_id=team_id, role=role,
        status=status, teams=[t for t, _count in queries.list_teams()],
        mentors=queries.mentors_of([u.id for u in page.items]),
    )


def _user_form(form: UserForm) -> UserForm:
    form.team_id.choices = [SelectChoice(0, _("— no team —"))] + [
        SelectChoice(team.id, team.name) for team, _count in queries.list_teams()]
    return form


def _form_values(form: UserForm) -> dict:
    return {
        "employee_number": form.employee_number.data,
        "name": form.name.data,
        "email": form.email.data,
        "hire_date": form.hire_date.data,
        "career_level": form.career_level.data,
        "team_id": form.team_id.data or None,
        "roles": form.roles.data,
    }


@bp.route("/people/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PEOPLE)
def people_create():
    form = _user_form(UserForm())
    if request.method == "GET":
        form.roles.data = ["agent"]
        form.hire_date.data = _today()
    if form.validate_on_submit():
        try:
            user = create_user(**_form_values(form), password=form.password.data or None,
                               actor_id=current_user.id, now=utcnow())
        except PeopleError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("%(name)s was added.", name=user.name), "success")
            return redirect(url_for("auth.people_show", user_id=user.id))
    return render_template("auth/people_form.html", form=form, person=None)


def _visible_person(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    if not queries.can_view_person(current_user, person):
        abort(403)
    return person


@bp.route("/people/<int:user_id>")
@login_required
def people_show(user_id: int):
    person = _visible_person(user_id)
    manage = current_user.can(Permission.MANAGE_PEOPLE)
    mentor_form = MentorForm(started_on=_today()) if manage else None
    if mentor_form is not None:
        mentor_form.mentor_id.choices = [
            SelectChoice(m.id, m.display_name) for m in queries.active_mentor_choices()
            if m.id != person.id]
    return render_template(
        "auth/people_show.html", person=person, manage=manage,
        history=queries.mentorship_history(person.id),
        current=current_mentorship(person.id),
        apprentices=queries.apprentices_of(person.id),
        mentor_form=mentor_form,
        end_form=EndMentorshipForm(ended_on=_today()) if manage else None,
        deactivate_form=DeactivateForm(leave_date=_today()) if manage else None,
        confirm_form=ConfirmForm(),
        password_form=SetPasswordForm() if manage else None,
    )


@bp.route("/people/<int:user_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PEOPLE)
def people_edit(user_id: int):
    person = _person(user_id)
    form = _user_form(UserForm(obj=person))
    if request.method == "GET":
        form.roles.data = sorted(r.value for r in person.roles)
        form.team_id.data = person.team_id or 0
    if form.validate_on_submit():
        try:
            changed = update_user(person.id, actor_id=current_user.id, now=utcnow(),
                                  **_form_values(form))
        except PeopleError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("auth.people_show", user_id=person.id))
    return render_template("auth/people_form.html", form=form, person=person)


def _person_action(person: User, form, invalid: str, action, success: str):
    """Validate a form posted from a person's page, run one service with it, commit, and go
    back to the page with the outcome (or the reason it was refused)."""
    if not form.validate_on_submit():
        flash(invalid, "error")
    else:
        try:
            action(form)
        except PeopleError as error:
            db.session.rollback()
            flash(error.translated(), "error")
        else:
            db.session.commit()
            flash(success, "success")
    return redirect(url_for("auth.people_show", user_id=person.id))


def _person(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/people/<int:user_id>/deactivate", methods=["POST"])
@permission_required(Permission.MANAGE_PEOPLE)
def people_deactivate(user_id: int):
    person = _person(user_id)
    return _person_action(
        person, DeactivateForm(), _("Give a valid leave date."),
        lambda form: deactivate_user(person.id, leave_date=form.leave_date.data,
                                     actor_id=current_user.id, now=utcnow()),
        _("%(name)s is now inactive.", name=person.name))


@bp.route("/people/<int:user_id>/reactivate", methods=["POST"])
@permission_required(Permission.MANAGE_PEOPLE)
def people_reactivate(user_id: int):
    person = _person(user_id)
    return _person_action(
        person, ConfirmForm(), _("The form expired. Please try again."),
        lambda form: reactivate_user(person.id, actor_id=current_user.id, now=utcnow()),
        _("%(name)s is active again.", name=person.name))


@bp.route("/people/<int:user_id>/password", methods=["POST"])
@permission_required(Permission.MANAGE_PEOPLE)
def people_password(user_id: int):
    person = _person(user_id)
    return _person_action(
        person, SetPasswordForm(), _("The password must be at least 8 characters long."),
        lambda form: set_password(person.id, form.new_password.data,
                                  actor_id=current_user.id, now=utcnow()),
        _("The password of %(name)s is set.", name=person.name))


@bp.route("/people/<int:user_id>/mentor", methods=["POST"])
@permission_required(Permission.MANAGE_PEOPLE)
def people_mentor(user_id: int):
    person = _person(user_id)
    form = MentorForm()
    form.mentor_id.choices = [SelectChoice(m.id, m.display_name)
                              for m in queries.active_mentor_choices()]
    return _person_action(
        person, form, _("Choose a mentor and a start date."),
        lambda form: assign_mentor(person.id, form.mentor_id.data,
                                   started_on=form.started_on.data,
                                   actor_id=current_user.id, now=utcnow()),
        _("The mentor is assigned."))


@bp.route("/people/<int:user_id>/mentor/end", methods=["POST"])
@permission_required(Permission.MANAGE_PEOPLE)
def people_mentor_end(user_id: int):
    person = _person(user_id)
    return _person_action(
        person, EndMentorshipForm(), _("Give a valid end date."),
        lambda form: end_mentorship(person.id, ended_on=form.ended_on.data,
                                    actor_id=current_user.id, now=utcnow()),
        _("The mentorship has ended."))


# --- teams -------------------------------------------------------------------------------

@bp.route("/teams")
@permission_required(Permission.VIEW_PEOPLE)
def team_list():
    return render_template("auth/team_list.html", teams=queries.list_teams(),
                           cohorts=queries.cohorts())


def _team_form(form: TeamForm) -> TeamForm:
    form.lead_id.choices = [SelectChoice(0, _("— no team lead —"))] + [
        SelectChoice(u.id, u.display_name) for u in queries.active_lead_choices()]
    return form


@bp.route("/teams/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TEAMS)
def team_create():
    form = _team_form(TeamForm())
    if form.validate_on_submit():
        try:
            team = create_team(form.name.data, lead_id=form.lead_id.data or None,
                               actor_id=current_user.id, now=utcnow())
        except PeopleError as error:
            db.session.rollback()
            form.name.errors.append(error.translated())
        else:
            db.session.commit()
            flash(_("The team %(name)s was created.", name=team.name), "success")
            return redirect(url_for("auth.team_show", team_id=team.id))
    return render_template("auth/team_form.html", form=form, team=None)


@bp.route("/teams/<int:team_id>")
@login_required
def team_show(team_id: int):
    team = db.session.get(Team, team_id) or abort(404)
    if not queries.can_view_team(current_user, team):
        abort(403)
    members = queries.team_members(team.id)
    return render_template("auth/team_show.html", team=team, members=members,
                           mentors=queries.mentors_of([m.id for m in members]),
                           detail=current_user.can(Permission.VIEW_PEOPLE)
                           or team.lead_id == current_user.id)


@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_TEAMS)
def team_edit(team_id: int):
    team = db.session.get(Team, team_id) or abort(404)
    form = _team_form(TeamForm(obj=team))
    if request.method == "GET":
        form.lead_id.data = team.lead_id or 0
    if form.validate_on_submit():
        try:
            update_team(team.id, name=form.name.data, lead_id=form.lead_id.data or None,
                        actor_id=current_user.id, now=utcnow())
        except PeopleError as error:
            db.session.rollback()
            form.name.errors.append(error.translated())
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("auth.team_show", team_id=team.id))
    return render_template("auth/team_form.html", form=form, team=team)


# --- roster import -----------------------------------------------------------------------

@bp.route("/people/import", methods=["GET", "POST"])
@permission_required(Permission.IMPORT_ROSTER)
def roster_import():
    """Upload a roster from HR: applied whole, or not at all with a list of what is wrong."""
    form = RosterUploadForm()
    result = errors = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = import_roster(upload.read(), upload.filename or "",
                                   actor_id=current_user.id, now=utcnow())
        except RosterImportError as error:
            db.session.rollback()
            errors = error.errors
        else:
            db.session.commit()
    return render_template("auth/roster_import.html", form=form, result=result, errors=errors,
                           columns=ROSTER_COLUMNS)
