from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class WallboardForm(FlaskForm):
    label = StringField(_l("Which screen is it for?"), validators=[DataRequired(), Length(max=120)])
