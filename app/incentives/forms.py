"""Forms of the windmill's own pages (rewards and badges have theirs beside them)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.incentives.queries import BLADE_LABELS


class RecognitionForm(FlaskForm):
    agent_id = SelectField(_l("Agent"), coerce=int)
    kind = SelectField(_l("Kind"), choices=[
        SelectChoice("recognition", _l("Recognition (recognition and care blade)")),
        SelectChoice("honour", _l("Honour (honour blade)"))])
    points = IntegerField(_l("Points"), default=20,
                          validators=[DataRequired(), NumberRange(min=1, max=100)])
    comment = TextAreaField(_l("What it is for"), validators=[DataRequired(), Length(max=500)])
    token = HiddenField()


class RuleForm(FlaskForm):
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    blade = SelectField(_l("Blade"), choices=[SelectChoice(blade.value, label)
                                              for blade, label in BLADE_LABELS.items()])
    points = IntegerField(_l("Points"), validators=[NumberRange(min=-1000, max=10000)])
    is_active = BooleanField(_l("Switched on"))
    daily_cap = IntegerField(_l("At most per person and day"),
                             validators=[Optional(), NumberRange(min=1)])
    monthly_cap = IntegerField(_l("At most per person and month"),
                               validators=[Optional(), NumberRange(min=1)])
    params = TextAreaField(_l("Shape (JSON)"), validators=[Length(max=2000)])
    comment = StringField(_l("Why it changes"), validators=[Length(max=500)])
    preview = SubmitField(_l("Preview the effect on open months"))
    save = SubmitField(_l("Save (past entries keep their value)"))
    save_replay = SubmitField(_l("Save and replay the open months"))


class ReverseForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
