"""Forms of the badge, level and Service Star pages. Labels go through lazy_gettext."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    FloatField,
    HiddenField,
    IntegerField,
    MonthField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.auth.forms import ROLE_LABELS, MultiCheckboxField
from app.incentives.badges import GRANTER_ROLES, MAX_BADGE_POINTS, MAX_IMAGE_BYTES
from app.incentives.queries import BLADE_LABELS

KIND_LABELS = {
    "automatic": _l("Earned automatically by criteria"),
    "manual": _l("Granted by hand"),
}
WINDOW_LABELS = {
    "month": _l("within one month"),
    "ever": _l("in all"),
}


class BadgeClassForm(FlaskForm):
    code = StringField(_l("Code (part of the badge's public address)"),
                       validators=[Optional(), Length(max=60)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    description_en = TextAreaField(_l("Description (English)"), render_kw={"rows": 4, "cols": 40},
                                   validators=[DataRequired(), Length(max=2000)])
    description_zh = TextAreaField(_l("Description (Chinese)"), render_kw={"rows": 4, "cols": 40},
                                   validators=[DataRequired(), Length(max=2000)])
    blade = SelectField(_l("Blade"), choices=[SelectChoice(blade.value, label)
                                              for blade, label in BLADE_LABELS.items()])
    kind = SelectField(_l("How it is earned"),
                       choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()])
    criteria_event = SelectField(_l("Event that counts (automatic badges)"))
    criteria_min_score = FloatField(_l("Lowest score that counts (optional)"),
                                    validators=[Optional(), NumberRange(min=0, max=100)])
    criteria_count = IntegerField(_l("How many are needed"),
                                  validators=[Optional(), NumberRange(min=1, max=1000)])
    criteria_window = SelectField(_l("Counted over"), choices=[SelectChoice(w, label)
                                                          for w, label in WINDOW_LABELS.items()])
    points = IntegerField(_l("Points"), default=0,
                          validators=[InputRequired(), NumberRange(min=0, max=MAX_BADGE_POINTS)])
    granter_roles = MultiCheckboxField(_l("Who may grant it (badges granted by hand)"),
                                       choices=[SelectChoice(r.value, ROLE_LABELS[r])
                                                for r in GRANTER_ROLES])
    monthly_cap_per_granter = IntegerField(_l("At most per granter and month"),
                                           validators=[Optional(), NumberRange(min=1)])
    is_active = BooleanField(_l("Switched on"), default=True)
    image = FileField(_l("Image (PNG, at most %(size)s KB)", size=MAX_IMAGE_BYTES // 1024),
                      validators=[FileAllowed(["png"], _l("Upload a PNG image."))])


class GrantBadgeForm(FlaskForm):
    agent_id = SelectField(_l("Agent"), coerce=int)
    badge_id = SelectField(_l("Badge"), coerce=int)
    comment = TextAreaField(_l("What it is for"), render_kw={"rows": 3, "cols": 40},
                            validators=[DataRequired(), Length(max=500)])
    token = HiddenField()


class RevokeAwardForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class LevelForm(FlaskForm):
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=80)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=80)])
    min_points = IntegerField(_l("Points needed"),
                              validators=[InputRequired(), NumberRange(min=0, max=10_000_000)])


class ProposeMonthForm(FlaskForm):
    month = MonthField(_l("Month"), validators=[DataRequired()])


class ProposeYearForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(min=2000, max=2999)])


class DecisionForm(FlaskForm):
    """A confirm or decline button: only CSRF protection."""
