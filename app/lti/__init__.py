"""The LMS plug-in: LTI 1.3 Advantage tool and xAPI statements."""
from app.lti.views import bp

__all__ = ["bp"]
