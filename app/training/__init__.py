"""Question bank, quizzes, micro-lessons, onboarding paths and mentoring."""
from app.training import models  # noqa: F401  (the tables, for the migrations' metadata)
from app.training.views import bp

__all__ = ["bp"]
