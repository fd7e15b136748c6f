"""Forms of the LMS plug-in's admin pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

_URL = Regexp(r"^https?://\S+$", message=_l("An http(s) URL."))


class ActionForm(FlaskForm):
    """A button that changes something: CSRF only."""


class PlatformForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    issuer = StringField(_l("Issuer"), validators=[DataRequired(), Length(max=300), _URL])
    client_id = StringField(_l("Client id"), validators=[DataRequired(), Length(max=300)])
    auth_login_url = StringField(_l("Authentication request URL"),
                                 validators=[DataRequired(), Length(max=500), _URL])
    auth_token_url = StringField(_l("Access token URL"),
                                 validators=[DataRequired(), Length(max=500), _URL])
    key_set_url = StringField(_l("Public key set URL"),
                              validators=[DataRequired(), Length(max=500), _URL])
    deployment_ids = TextAreaField(_l("Deployment ids, one per line"),
                                   validators=[DataRequired(), Length(max=2000)])
    instructor_role = SelectField(_l("Instructors and teaching assistants become"), choices=[
        SelectChoice("trainer", _l("Trainers")), SelectChoice("team_lead", _l("Team leads"))])
