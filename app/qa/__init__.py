"""QA results: scorecards, imports from call-review tools, disputes."""
from app.qa.views import bp

__all__ = ["bp"]
