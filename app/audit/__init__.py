"""The audit trail: who did what to whom, when.

Other packages write through `services.record_audit`.
"""
from app.audit.views import bp

__all__ = ["bp"]
