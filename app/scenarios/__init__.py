"""The experiential training room: scenario role-play in three stages."""
from app.scenarios import models  # noqa: F401  (the tables, for Alembic and the app)
from app.scenarios.views import bp

__all__ = ["bp"]
