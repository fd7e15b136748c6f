"""Forms for sign-in, passwords, people and teams. Labels go through lazy_gettext."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.roles import CareerLevel, Role

ROLE_LABELS = {
    Role.AGENT: _l("Agent"),
    Role.MENTOR: _l("Mentor"),
    Role.TEAM_LEAD: _l("Team lead"),
    Role.QA_ANALYST: _l("QA analyst"),
    Role.TRAINER: _l("Trainer"),
    Role.ADMIN: _l("Administrator"),
}

LEVEL_LABELS = {
    CareerLevel.AGENT: _l("Agent"),
    CareerLevel.SENIOR_AGENT: _l("Senior agent"),
    CareerLevel.TEAM_LEAD: _l("Team lead"),
    CareerLevel.SUPERVISOR: _l("Operations supervisor"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    login = StringField(_l("Employee number or e-mail"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in"))
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class SetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8)])


class UserForm(FlaskForm):
    employee_number = StringField(_l("Employee number"),
                                  validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    hire_date = DateField(_l("Hire date"), validators=[DataRequired()])
    career_level = SelectField(_l("Career level"),
                               choices=[SelectChoice(level.value, label)
                                        for level, label in LEVEL_LABELS.items()])
    team_id = SelectField(_l("Team"), coerce=int)
    roles = MultiCheckboxField(_l("Roles"),
                               choices=[SelectChoice(role.value, label)
                                        for role, label in ROLE_LABELS.items()],
                               validators=[DataRequired(message=_l("Choose at least one role."))])
    password = PasswordField(_l("Initial password"), validators=[Optional(), Length(min=8)])


class DeactivateForm(FlaskForm):
    leave_date = DateField(_l("Leave date"), validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """A button that only needs CSRF protection."""


class MentorForm(FlaskForm):
    mentor_id = SelectField(_l("Mentor"), coerce=int)
    started_on = DateField(_l("Start date"), validators=[DataRequired()])


class EndMentorshipForm(FlaskForm):
    ended_on = DateField(_l("Ended on"), validators=[DataRequired()])


class TeamForm(FlaskForm):
    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=80)])
    lead_id = SelectField(_l("Team lead"), coerce=int)


class RosterUploadForm(FlaskForm):
    file = FileField(_l("Roster file (CSV or XLSX)"), validators=[
        FileRequired(message=_l("Choose a file.")),
        FileAllowed(["csv", "xlsx", "txt"], _l("Upload a CSV or XLSX file.")),
    ])
