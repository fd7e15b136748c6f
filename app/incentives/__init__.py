"""The incentive windmill: the points ledger, rules, honours, levels, rewards and violations."""
from app.incentives.views import bp

__all__ = ["bp"]
