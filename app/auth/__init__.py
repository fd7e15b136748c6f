"""People, teams, roles, mentorships, sign-in and the roster import."""
from app.auth.views import bp

__all__ = ["bp"]
