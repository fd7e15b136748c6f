"""Forms of the QA pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

CHANNEL_CHOICES = [SelectChoice("phone", _l("Phone")), SelectChoice("chat", _l("Chat")),
                   SelectChoice("email", _l("E-mail")), SelectChoice("other", _l("Other"))]

SOURCE_PATTERN = Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$",
                        message=_l("Letters, digits, dots, dashes and underscores only."))


class CriterionForm(Form):
    """One row of the scorecard editor (a sub-form: the CSRF token is the outer form's)."""

    criterion_code = StringField(_l("Code"), validators=[Optional(), Length(max=60)])
    section_en = StringField(_l("Section (English)"), validators=[Length(max=120)])
    section_zh = StringField(_l("Section (Chinese)"), validators=[Length(max=120)])
    name_en = StringField(_l("Criterion (English)"), validators=[Length(max=200)])
    name_zh = StringField(_l("Criterion (Chinese)"), validators=[Length(max=200)])
    weight = FloatField(_l("Weight"), validators=[Optional(), NumberRange(min=0.1, max=100)])
    is_critical = BooleanField(_l("Critical"))
    allows_na = BooleanField(_l("May be N/A"))
    category = SelectField(_l("Rule of the service standard"))
    remove = BooleanField(_l("Remove"))


class ScorecardForm(FlaskForm):
    code = StringField(_l("Code (as import files name it)"),
                       validators=[DataRequired(), Length(max=60), SOURCE_PATTERN])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    channel = SelectField(_l("Channel"), choices=CHANNEL_CHOICES)
    note = StringField(_l("What changed"), validators=[Optional(), Length(max=200)])
    criteria = FieldList(FormField(CriterionForm), min_entries=1)


class UploadForm(FlaskForm):
    file = FileField(_l("Export file"), validators=[FileRequired()])
    source = StringField(_l("Source (the call-review tool)"), default="default",
                         validators=[DataRequired(), Length(max=60), SOURCE_PATTERN])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the plan is read again from the stored upload."""


class MappingForm(FlaskForm):
    source = StringField(_l("Source (the call-review tool)"),
                         validators=[DataRequired(), Length(max=60), SOURCE_PATTERN])
    columns = TextAreaField(_l("Their column = our field, one per line"),
                            validators=[DataRequired(), Length(max=4000)])


class DisputeForm(FlaskForm):
    reason = TextAreaField(_l("Why the evaluation is wrong"),
                           validators=[DataRequired(), Length(min=5, max=4000)])


class ResolveForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[
        SelectChoice("uphold", _l("Uphold the evaluation as scored")),
        SelectChoice("amend", _l("Amend the score"))], default="uphold")
    score = FloatField(_l("Amended score (0–100)"),
                       validators=[Optional(), NumberRange(min=0, max=100)])
    is_critical_fail = BooleanField(_l("A critical criterion failed"))
    note = TextAreaField(_l("Explanation for the agent"),
                         validators=[DataRequired(), Length(max=4000)])


class RemediationForm(FlaskForm):
    category = HiddenField(validators=[DataRequired()])
    item_kind = SelectField(_l("Kind"), choices=[
        SelectChoice("scenario", _l("Scenario")), SelectChoice("lesson", _l("Micro-lesson"))])
    item_code = StringField(_l("Item code"), validators=[Optional(), Length(max=80)])
    title = StringField(_l("Title the agent sees"), validators=[Optional(), Length(max=200)])
    due_days = IntegerField(_l("Due in days"), default=7,
                            validators=[DataRequired(), NumberRange(min=1, max=90)])
