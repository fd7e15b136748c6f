"""The LMS plug-in: LTI 1.3 Advantage tool and xAPI statements."""
from app.lti import models  # noqa: F401  (the tables, for Alembic and the app)
from app.lti.views import bp

__all__ = ["bp"]
