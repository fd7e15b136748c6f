import pytest

from app.incentives.services import install_defaults


@pytest.fixture()
def defaults(db, now):
    """The shipped rules, levels and badges."""
    install_defaults(now=now)
    db.session.commit()
