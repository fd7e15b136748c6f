"""The `number` filter writes numbers as Babel does, in each language."""
import pytest
from flask_babel import force_locale, format_decimal


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "de", "hi", "ar"])
@pytest.mark.parametrize("value", [0, 7, -7, 999, 1000, -1234, 1234567, -98765432, 12.5, -0.25])
def test_the_number_filter_writes_what_babel_writes(app, locale, value):
    number = app.jinja_env.filters["number"]
    with app.test_request_context(), force_locale(locale):
        assert number(value) == format_decimal(value)
