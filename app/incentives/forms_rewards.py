"""Forms and labels of the reward catalogue, redemptions, violations and coaching tasks."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.incentives.rules import LadderStep

REDEMPTION_STATUS_LABELS = {
    "requested": _l("Requested"),
    "approved": _l("Approved"),
    "fulfilled": _l("Handed over"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"),
}

LADDER_STEP_LABELS = {
    LadderStep.VERBAL_WARNING.value: _l("Verbal warning and coaching"),
    LadderStep.WRITTEN_WARNING.value: _l("Written warning and re-training"),
    LadderStep.BONUS_DEDUCTION.value: _l("Bonus deduction"),
}

COACHING_KIND_LABELS = {
    "coaching": _l("Coaching"),
    "retraining": _l("Re-training"),
}

COACHING_STATUS_LABELS = {
    "open": _l("To do"),
    "done": _l("Done"),
}


class RewardForm(FlaskForm):
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    description_zh = TextAreaField(_l("Description (Chinese)"),
                                   validators=[Optional(), Length(max=2000)])
    description_en = TextAreaField(_l("Description (English)"),
                                   validators=[Optional(), Length(max=2000)])
    cost = IntegerField(_l("Cost in points"),
                        validators=[DataRequired(), NumberRange(min=1, max=1_000_000)])
    stock = IntegerField(_l("Stock"), validators=[Optional(), NumberRange(min=0)])
    is_active = BooleanField(_l("In the catalogue"), default=True)


class RejectForm(FlaskForm):
    note = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class ViolationForm(FlaskForm):
    user_id = SelectField(_l("Agent"), coerce=int)
    sop_rule = SelectField(_l("Rule of the service standard"))
    evidence = TextAreaField(_l("Evidence"), validators=[DataRequired(), Length(max=5000)])
    occurred_on = DateField(_l("Date of the violation"), validators=[DataRequired()])
    is_serious = BooleanField(_l("Serious (leads straight to a bonus deduction)"))


class CoachingDoneForm(FlaskForm):
    note = StringField(_l("How it went"), validators=[DataRequired(), Length(max=500)])
