"""Forms of the training room. The stage pages build their fields from the scenario (lines to
mark, choices, replies); their FlaskForm carries the CSRF token and what is fixed."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.scenarios import rules


class ActionForm(FlaskForm):
    """A button that changes something (start, continue, choose, restart): CSRF only."""


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("Your reply to the customer"),
                          validators=[DataRequired(), Length(max=2000)])


class RecordingForm(FlaskForm):
    recording = FileField(_l("Recording of your re-enactment (video or audio)"),
                          validators=[FileRequired()])
    reflection = TextAreaField(_l("Your reflection"),
                               validators=[DataRequired(), Length(min=30, max=5000)])


class ReviewForm(FlaskForm):
    comment = TextAreaField(_l("Comment for the learner"),
                            validators=[DataRequired(), Length(max=5000)])


def _rubric_field(key: str):
    return IntegerField(_l(rules.RUBRIC[key]), validators=[DataRequired(), NumberRange(
        min=rules.RUBRIC_MIN, max=rules.RUBRIC_MAX)], default=3)


class SignOffForm(FlaskForm):
    opening = _rubric_field("opening")
    empathy = _rubric_field("empathy")
    standard = _rubric_field("standard")
    resolution = _rubric_field("resolution")
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)])
    decision = RadioField(_l("Decision"), choices=[
        SelectChoice("signed_off", _l("Sign off: the practice meets the standard")),
        SelectChoice("sent_back", _l("Send back: practise again"))],
        validators=[DataRequired()])

    def rubric(self) -> dict[str, int]:
        return {key: getattr(self, key).data for key in rules.RUBRIC}


class AssignForm(FlaskForm):
    agent_id = SelectField(_l("Agent"), coerce=int, validators=[DataRequired()])
    code = SelectField(_l("Scenario"), validators=[DataRequired()])
    due_on = DateField(_l("Due on"), validators=[Optional()])
    reason = TextAreaField(_l("Why"), validators=[Optional(), Length(max=500)])


class UploadForm(FlaskForm):
    files = MultipleFileField(_l("Scenario files (.yaml)"), validators=[DataRequired()])
