"""Monthly leaderboards: individual, team and cohort boards; month close; the wallboard."""
from app.leaderboard.views import bp

__all__ = ["bp"]
