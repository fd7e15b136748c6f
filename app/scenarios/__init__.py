"""The experiential training room: scenario role-play in three stages."""
from app.scenarios.views import bp

__all__ = ["bp"]
