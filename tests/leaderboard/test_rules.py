"""Ranking arithmetic, without an app."""
from datetime import UTC, date, datetime

from app.centre.periods import days_in
from app.leaderboard.rules import (
    Board,
    Standing,
    gap_to_next,
    per_member,
    rank,
    utc_time,
)


def at(day):
    return datetime(2026, 3, day, tzinfo=UTC)


def test_points_then_who_reached_the_total_first_then_the_stable_key():
    board = rank([Standing(5, 100, at(10)), Standing(3, 120, at(20)), Standing(9, 100, at(4)),
                  Standing(1, 100, at(10)), Standing(7, 0, None)])
    assert [r.key for r in board] == [3, 9, 1, 5, 7]
    assert [r.position for r in board] == [1, 2, 3, 4, 5]
    assert [r.rank for r in board] == [1, 2, 2, 2, 5]          # ties shown honestly
    assert [r.tied for r in board] == [False, True, True, True, False]


def test_neighbours_and_the_gap_to_the_next_place():
    board = Board.of(rank([Standing(k, 100 - k, at(1)) for k in range(1, 21)]))
    assert [r.key for r in board.around(10, 3)] == [7, 8, 9, 10, 11, 12, 13]
    assert [r.key for r in board.around(1, 3)] == [1, 2, 3, 4]
    assert [r.key for r in board.around(20, 3)] == [17, 18, 19, 20]
    assert gap_to_next(board.around(10, 3), 10) == 2      # 90 → 91 + 1
    assert gap_to_next(board.around(1, 3), 1) is None
    assert board.around(99, 3) == []


def test_joiners_and_leavers_count_for_their_days_in_the_month():
    first, last = date(2026, 4, 1), date(2026, 4, 30)
    assert days_in(first, last, date(2020, 1, 1), None) == 30
    assert days_in(first, last, date(2026, 4, 16), None) == 15
    assert days_in(first, last, date(2020, 1, 1), date(2026, 4, 15)) == 15
    assert days_in(first, last, date(2026, 5, 1), None) == 0
    # a team of 9 and a team of 15 with the same points per member tie
    assert per_member(900, 9) == per_member(1500, 15) == 100
    # one there all month, two for half of it: two members
    assert per_member(100, (30 + 15 + 15) / 30) == 50
    assert per_member(0, 0) == 0


def test_a_board_given_in_order_ranks_as_the_rule_does():
    board = rank([Standing(5, 100, at(10)), Standing(3, 120, at(20)), Standing(9, 100, at(4)),
                  Standing(1, 100, at(10)), Standing(7, 0, None), Standing(2, -5, at(3))])
    ordered = Board.from_ordered([r.key for r in board], [r.points for r in board],
                                 [r.reached_at for r in board])
    assert ordered == board and list(ordered) == board and len(ordered) == 6
    assert Board.from_rows(ordered.to_rows()) == ordered          # a snapshot reads the same
    assert ordered.row_of(1) == board[2] and ordered.row_of(42) is None
    assert ordered.around(1, 1) == board[1:4] and ordered.around(3, 1) == board[:2]
    assert gap_to_next(ordered.around(1, 1), 1) == gap_to_next(board, 1)
    assert ordered[-1] == board[-1] and ordered[1:3] == board[1:3]


def test_times_are_read_as_utc_whatever_form_they_are_kept_in():
    moment = datetime(2026, 3, 4, 10, 0, 0, 5, tzinfo=UTC)
    for kept in (moment, moment.replace(tzinfo=None), moment.isoformat(),
                 "2026-03-04 10:00:00.000005"):
        assert utc_time(kept) == moment
    assert utc_time(None) is None
