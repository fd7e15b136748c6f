"""Pure decisions of the leaderboards: ordering, ties, neighbours, pro-rating. No Flask and no
database here."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import NamedTuple

_NEVER = float("inf")   # the order of a total never reached: after every reached one


class Standing(NamedTuple):
    """One row of a board before it is ranked."""

    key: int                        # a user id or a team id: the stable last tie-break
    points: float
    reached_at: datetime | None     # when the total was reached; None for nothing yet


class Ranked(NamedTuple):
    position: int                   # 1, 2, 3 … as the deterministic order gives them
    rank: int                       # shared by equal points ("ties are shown honestly")
    key: int
    points: float
    reached_at: datetime | None
    tied: bool                      # another row has the same points


def _order(standing: Standing):
    reached = standing.reached_at.timestamp() if standing.reached_at else _NEVER
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


def utc_time(value) -> datetime | None:
    """A UTC time given as a datetime (aware, or naive UTC) or as ISO text (with or without
    its zone, "T" or a space between date and time), as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Board:
    """A ranked board kept as columns of plain values (keys, points, ranks, ties, times):
    cheap to cache and to read back whole, however long the board. It reads as a sequence of
    `Ranked` rows, made only for the rows asked for; `around(key)` finds a row by its key
    without making the others. The times are kept as they came (a snapshot's ISO text, or the
    database's values) and read with `utc_time`."""

    __slots__ = ("keys", "points", "ranks", "tied", "reached")

    def __init__(self, keys, points, ranks, tied, reached):
        self.keys, self.points, self.ranks, self.tied, self.reached = (
            list(keys), list(points), list(ranks), list(tied), list(reached))

    @classmethod
    def of(cls, ranked: list[Ranked]) -> Board:
        return cls([r.key for r in ranked], [r.points for r in ranked],
                   [r.rank for r in ranked], [r.tied for r in ranked],
                   [r.reached_at for r in ranked])

    @classmethod
    def from_ordered(cls, keys, points, reached) -> Board:
        """A board of rows given already in the order of `rank`: the places follow that
        order; equal points share their rank and are marked tied."""
        ranks, tied = [], []
        start, count = 0, len(points)
        while start < count:
            end = start + 1
            while end < count and points[end] == points[start]:
                end += 1
            ranks.extend([start + 1] * (end - start))
            tied.extend([end - start > 1] * (end - start))
            start = end
        return cls(keys, points, ranks, tied, reached)

    @classmethod
    def from_rows(cls, rows: list) -> Board:
        """From a snapshot's rows: [position, rank, key, points, reached ISO or None, tied]."""
        if not rows:
            return cls([], [], [], [], [])
        _positions, ranks, keys, points, reached, tied = zip(*rows, strict=True)
        return cls(keys, points, ranks, tied, reached)

    def columns(self) -> tuple:
        return (self.keys, self.points, self.ranks, self.tied, self.reached)

    def to_rows(self) -> list[list]:
        """The snapshot's rows: [position, rank, key, points, reached ISO or None, tied]."""
        return [[i + 1, self.ranks[i], self.keys[i], self.points[i],
                 at.isoformat() if (at := utc_time(self.reached[i])) else None, self.tied[i]]
                for i in range(len(self.keys))]

    def __len__(self) -> int:
        return len(self.keys)

    def _row(self, i: int) -> Ranked:
        return Ranked(i + 1, self.ranks[i], self.keys[i], self.points[i],
                      utc_time(self.reached[i]), self.tied[i])

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self.keys)))]
        if index < 0:
            index += len(self.keys)
        if not 0 <= index < len(self.keys):
            raise IndexError(index)
        return self._row(index)

    def __iter__(self):
        return (self._row(i) for i in range(len(self.keys)))

    def __eq__(self, other) -> bool:
        if isinstance(other, Board):
            return (self.keys, self.points, self.ranks, self.tied) == (
                other.keys, other.points, other.ranks, other.tied) and list(
                map(utc_time, self.reached)) == list(map(utc_time, other.reached))
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None

    def index_of(self, key: int) -> int | None:
        try:
            return self.keys.index(key)
        except ValueError:
            return None

    def row_of(self, key: int) -> Ranked | None:
        index = self.index_of(key)
        return None if index is None else self._row(index)

    def around(self, key: int, around: int) -> list[Ranked]:
        """The rows from `around` above to `around` below the key (empty when absent): the
        viewer's neighbours, the row above them included (`gap_to_next`), without the rest of
        the board."""
        index = self.index_of(key)
        if index is None:
            return []
        return self[max(0, index - around): index + around + 1]


def gap_to_next(ranked: list[Ranked], key: int) -> float | None:
    """Points needed to move above the row just ahead: reaching its total later is not
    enough, so one more (None when first or absent)."""
    index = next((i for i, r in enumerate(ranked) if r.key == key), None)
    if not index:
        return None
    return ranked[index - 1].points - ranked[index].points + 1


def per_member(points: float, members: float) -> float:
    """A team's points per member, `members` pro-rated (its days of agents over the month's
    days); 0 for a team with nobody in the month."""
    return points / members if members > 0 else 0.0


def pseudonym(key: int, salt: str) -> str:
    """A stable, non-reversible stand-in for a name, e.g. "Agent 7F3A"."""
    return hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()[:4].upper()
