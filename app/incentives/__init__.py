"""The incentive windmill: the points ledger, rules, honours, levels, rewards and violations."""
from app.incentives import (
    badge_views,  # noqa: F401
    reward_views,  # noqa: F401  (registers its routes on bp)
)
from app.incentives.views import bp

__all__ = ["bp"]
