"""Home pages per role, the language switch and the health check."""
from app.main.views import bp

__all__ = ["bp"]
