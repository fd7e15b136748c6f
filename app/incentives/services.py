"""The incentive windmill's write side, as other packages call it.

Every point in the product is awarded through `award` (or `award_batch`); nothing else
writes the ledger. See `ledger.py` for the ledger itself.
"""
from app.incentives.defaults import install_defaults
from app.incentives.ledger import (
    Award,
    AwardResult,
    BatchResult,
    LedgerError,
    award,
    award_batch,
    confirm_entry,
    reverse_entry,
    verify_rollups,
)
from app.incentives.rules import Blade, EntryStatus, Event

__all__ = ["Award", "AwardResult", "BatchResult", "Blade", "EntryStatus", "Event",
           "LedgerError", "award", "award_batch", "confirm_entry", "install_defaults",
           "reverse_entry", "verify_rollups"]
