"""QA results: scorecards, imports from call-review tools, disputes."""
from app.qa import models  # noqa: F401  (the tables, for the migrations' metadata)
from app.qa.views import bp

__all__ = ["bp"]
