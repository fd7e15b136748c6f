"""Pure decisions of the leaderboards: ordering, ties, neighbours, pro-rating. No Flask and no
database here."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Standing:
    """One row of a board before it is ranked."""

    key: int                        # a user id or a team id: the stable last tie-break
    points: float
    reached_at: datetime | None     # when the total was reached; None for nothing yet


@dataclass(frozen=True)
class Ranked:
    position: int                   # 1, 2, 3 … as the deterministic order gives them
    rank: int                       # shared by equal points ("ties are shown honestly")
    key: int
    points: float
    reached_at: datetime | None
    tied: bool                      # another row has the same points


def _order(standing: Standing):
    reached = standing.reached_at.timestamp() if standing.reached_at else float("inf")
    return (-standing.points, reached, standing.key)


def rank(standings: list[Standing]) -> list[Ranked]:
    """Points descending, then whoever reached that total first, then the stable key.

    `position` is strict; `rank` is the competition rank (1, 1, 3) of equal points, so that
    ties are visible; `tied` marks them."""
    ordered = sorted(standings, key=_order)
    counts: dict[float, int] = {}
    for s in ordered:
        counts[s.points] = counts.get(s.points, 0) + 1
    ranked, previous_points, previous_rank = [], None, 0
    for position, s in enumerate(ordered, start=1):
        shared = s.points == previous_points
        current_rank = previous_rank if shared else position
        ranked.append(Ranked(position, current_rank, s.key, s.points, s.reached_at,
                             counts[s.points] > 1))
        previous_points, previous_rank = s.points, current_rank
    return ranked


def neighbours(ranked: list[Ranked], key: int, around: int = 3) -> list[Ranked]:
    """The rows from `around` above to `around` below the given key (empty if absent)."""
    index = next((i for i, r in enumerate(ranked) if r.key == key), None)
    if index is None:
        return []
    return ranked[max(0, index - around): index + around + 1]


def gap_to_next(ranked: list[Ranked], key: int) -> float | None:
    """Points needed to move above the row just ahead: reaching its total later is not
    enough, so one more (None when first or absent)."""
    index = next((i for i, r in enumerate(ranked) if r.key == key), None)
    if not index:
        return None
    return ranked[index - 1].points - ranked[index].points + 1


def share_of_month(first: date, last: date, hired: date, left: date | None) -> float:
    """The part of the month (first..last, inclusive) a person was on the team: joiners and
    leavers count for the days they were there."""
    start = max(first, hired)
    end = min(last, left) if left else last
    if end < start:
        return 0.0
    return ((end - start).days + 1) / ((last - first).days + 1)


def per_member(points: float, shares: list[float]) -> float:
    """A team's points per (pro-rated) member; 0 for a team with nobody in the month."""
    members = sum(shares)
    return points / members if members > 0 else 0.0


def pseudonym(key: int, salt: str) -> str:
    """A stable, non-reversible stand-in for a name, e.g. "Agent 7F3A"."""
    return hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()[:4].upper()
