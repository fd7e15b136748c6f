"""Question bank, quizzes, micro-lessons, onboarding paths and mentoring."""
from app.training.views import bp

__all__ = ["bp"]
