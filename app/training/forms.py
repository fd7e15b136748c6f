"""Forms of the training pages. Quiz answers are read from the request by the quiz's own
questions; these forms carry the CSRF token and the fixed fields."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp


class ActionForm(FlaskForm):
    """A button that changes something: CSRF only."""


class GiftUploadForm(FlaskForm):
    file = FileField(_l("GIFT file"), validators=[FileRequired()])
    category = StringField(_l("Category for questions before the first $CATEGORY line"),
                           validators=[Optional(), Length(max=200)])


class QuizForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Regexp(
        r"^[A-Z0-9][A-Z0-9_-]{0,39}$", message=_l("Capital letters, digits, - or _."))])
    title_zh = StringField(_l("Title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=200)])
    draws = TextAreaField(_l("Random draws: one line each, category and count"),
                          validators=[Optional(), Length(max=2000)])
    fixed = StringField(_l("Fixed questions: their titles, separated by spaces"),
                        validators=[Optional(), Length(max=2000)])
    shuffle = BooleanField(_l("Shuffle the questions and choices"), default=True)
    time_limit_minutes = IntegerField(_l("Time limit in minutes (empty: none)"),
                                      validators=[Optional(), NumberRange(min=1, max=600)])
    attempts = IntegerField(_l("Attempts allowed (0: any)"), default=0,
                            validators=[Optional(), NumberRange(min=0, max=100)])
    grading = SelectField(_l("Grade"), choices=[
        SelectChoice("highest", _l("Highest attempt")), SelectChoice("last", _l("Last attempt")),
        SelectChoice("first", _l("First attempt")), SelectChoice("average", _l("Average"))])
    pass_mark = FloatField(_l("Pass mark (per cent)"), default=90,
                           validators=[DataRequired(), NumberRange(min=0, max=100)])
    review = SelectField(_l("Show feedback and right answers"), choices=[
        SelectChoice("after_attempt", _l("After each attempt")),
        SelectChoice("after_pass", _l("Once passed")), SelectChoice("never", _l("Never"))])
    remedial = StringField(_l("Remedial lesson code"), validators=[Optional(), Length(max=40)])


class EnrolForm(FlaskForm):
    path = SelectField(_l("Path"), validators=[DataRequired()])
    cohort = SelectField(_l("Cohort (hire month)"), validators=[Optional()])
    people = SelectMultipleField(_l("Or these people"), coerce=int, validators=[Optional()])


class NoteForm(FlaskForm):
    apprentice_id = SelectField(_l("Apprentice"), coerce=int, validators=[DataRequired()])
    observed_on = DateField(_l("Observed on"), validators=[DataRequired()])
    text = TextAreaField(_l("What you observed"), validators=[DataRequired(), Length(max=4000)])


class TopicForm(FlaskForm):
    item = SelectField(_l("Lesson or quiz"), validators=[DataRequired()])
    teams = SelectMultipleField(_l("Teams"), coerce=int, validators=[DataRequired()])
    due_on = DateField(_l("Due on"), validators=[DataRequired()])
    reason = TextAreaField(_l("Why (the complaints that cluster)"),
                           validators=[DataRequired(), Length(max=500)])


class EssayGradeForm(FlaskForm):
    index = IntegerField(validators=[NumberRange(min=0)])
    percent = FloatField(_l("Mark (per cent)"), validators=[DataRequired(), NumberRange(min=0,
                                                                                 max=100)])
    feedback = TextAreaField(_l("Feedback"), validators=[Optional(), Length(max=2000)])


class LessonUploadForm(FlaskForm):
    file = FileField(_l("Lesson file (Markdown with front matter)"), validators=[FileRequired()])
    video = FileField(_l("Video (optional: mp4 or webm)"))


class PathUploadForm(FlaskForm):
    file = FileField(_l("Path file (YAML)"), validators=[FileRequired()])


class QuestionForm(FlaskForm):
    gift = TextAreaField(_l("The question in GIFT"), validators=[DataRequired(),
                                                                 Length(max=20000)])
    remove = BooleanField(_l("Take this question out of the bank"))
