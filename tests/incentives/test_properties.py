"""Properties of the ledger (hypothesis): whatever happens, in whatever order —

- the rollups equal the ledger's sums (and each earned total the sum of its rollups);
- a closed month never changes;
- a balance never goes below zero, and is exactly what the sequence of changes gives when
  each change is floored at zero (spending, as a redemption does, included).

Each generated sequence mixes single awards and batches of many kinds (quiz attempts, QA
scores, KBI checklists, promotions, deductions, customer praise waiting for verification),
repeats of earlier awards (the same idempotency key again), confirmations, reversals of
any entry (invalid ones must be refused), month closes and rule changes replayed over the
open months (`rulebook.change_rule(..., replay=True)`).

The `db` fixture empties the database after each *test*, not after each example, and the
ledger refuses deletes: so every example works with people of its own, in a year of its own
(its own months, its own closes), and asserts on its own people only — but for
`verify_rollups()`, which must hold for everything at all times. At the end of an example
its months are closed, so that later rule changes replay nothing of it.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from app.extensions import db as database
from app.incentives.ledger import terms_of
from app.incentives.models import (
    ClosedPeriod,
    PointBalance,
    PointEntry,
    PointRollup,
    Rule,
)
from app.incentives.rulebook import change_rule
from app.incentives.rules import Blade, RuleTerms
from app.incentives.services import (
    Award,
    LedgerError,
    award,
    award_batch,
    confirm_entry,
    reverse_entry,
    verify_rollups,
)

PEOPLE = 3
_years = itertools.count(2101)   # each example lives in a year of its own

# --- what a sequence is made of -------------------------------------------------------

KINDS = ("quiz", "qa", "kbi", "stage", "promotion", "violation", "praise")


@st.composite
def an_award(draw):
    return ("award", draw(st.integers(0, PEOPLE - 1)), draw(st.sampled_from(KINDS)),
            draw(st.integers(0, 2)), draw(st.integers(1, 28)), draw(st.integers(0, 99)))


OPERATIONS = st.one_of(
    an_award(),
    st.tuples(st.just("batch"), st.lists(an_award(), min_size=1, max_size=8)),
    st.tuples(st.just("again"), st.integers(0, 10**6)),          # resend an earlier award
    st.tuples(st.just("confirm"), st.integers(0, 10**6)),
    st.tuples(st.just("reverse"), st.integers(0, 10**6)),
    st.tuples(st.just("close"), st.integers(0, 1)),               # January or February
    st.tuples(st.just("spend"), st.integers(0, PEOPLE - 1), st.integers(1, 100)),
)
RULE_CHANGE = st.tuples(
    st.just("rule"),
    st.sampled_from(("quiz.passed", "qa.evaluation", "career.promotion",
                     "customer_praise.verified")),
    st.integers(1, 60),
    st.sampled_from((True, True, True, False)))                   # now and then switched off

SPEND = text("UPDATE point_balances SET balance = balance - :cost, spent = spent + :cost "
             "WHERE user_id = :user_id AND balance >= :cost")

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- one example's world ----------------------------------------------------------------

@dataclass
class World:
    year: int
    people: list[int]
    now: datetime
    sent: list[Award] = field(default_factory=list)
    balance: dict[int, int] = field(default_factory=dict)   # what the model expects
    spent: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    frozen: dict[str, tuple] = field(default_factory=dict)  # closed month → as it was
    keys: itertools.count = field(default_factory=itertools.count)

    def month(self, offset: int) -> str:
        return f"{self.year:04d}-{offset + 1:02d}"

    def make_award(self, spec) -> Award:
        _op, person, kind, month, day, n = spec
        user_id = self.people[person]
        at = datetime(self.year, month + 1, day, 3, 0, tzinfo=UTC)   # 11:00 in Shanghai
        key = f"prop:{self.year}:{next(self.keys)}"
        if kind == "quiz":
            return Award("quiz.passed", user_id, key, "quiz_attempt", key, occurred_at=at,
                         attempt=1 + n % 3)
        if kind == "qa":
            return Award("qa.evaluation", user_id, key, "qa_evaluation", key, occurred_at=at,
                         score=60 + n % 41)
        if kind == "kbi":
            return Award("kbi.checklist_completed", user_id, key, "kbi", key, occurred_at=at)
        if kind == "stage":
            return Award("scenario.stage_completed", user_id, key, "scenario_stage", key,
                         occurred_at=at)
        if kind == "promotion":
            return Award("career.promotion", user_id, key, "promotion", key, occurred_at=at)
        if kind == "violation":
            return Award("violation.deduction", user_id, key, "violation", key, occurred_at=at)
        return Award("customer_praise.verified", user_id, key, "praise", key, occurred_at=at,
                     pending=True)

    def entries(self) -> list[PointEntry]:
        return list(database.session.scalars(
            select(PointEntry).where(PointEntry.user_id.in_(self.people))
            .order_by(PointEntry.id)))

    def month_as_it_is(self, period: str) -> tuple[dict, set]:
        """The people's rollups of the month, and the ids of their entries in it."""
        rollups = {(r.user_id, r.blade): (r.points, r.positive, r.negative, r.entries,
                                          r.last_changed_at)
                   for r in database.session.scalars(select(PointRollup).where(
                       PointRollup.user_id.in_(self.people), PointRollup.period == period))}
        entries = set(database.session.scalars(select(PointEntry.id).where(
            PointEntry.user_id.in_(self.people), PointEntry.period == period)))
        return rollups, entries


def _balances(world: World) -> dict[int, tuple[int, int, int]]:
    database.session.expire_all()
    found = {b.user_id: (b.earned, b.spent, b.balance)
             for b in database.session.scalars(select(PointBalance).where(
                 PointBalance.user_id.in_(world.people)))}
    return {user_id: found.get(user_id, (0, 0, 0)) for user_id in world.people}


def _last_entry_id() -> int:
    return database.session.scalar(select(func.max(PointEntry.id))) or 0


def _new_deductions(world: World, after_id: int) -> dict[int, int]:
    """Per person, the confirmed negative points written since `after_id`."""
    found = defaultdict(int)
    for entry in database.session.scalars(select(PointEntry).where(
            PointEntry.id > after_id, PointEntry.user_id.in_(world.people),
            PointEntry.points < 0, PointEntry.status == "confirmed")):
        found[entry.user_id] += entry.points
    return found


# --- running an operation --------------------------------------------------------------

def _run(world: World, op) -> None:
    db = database
    kind = op[0]
    if kind == "award":
        item = world.make_award(op)
        world.sent.append(item)
        award(item, now=world.now)
    elif kind == "batch":
        items = [world.make_award(spec) for spec in op[1]]
        world.sent.extend(items)
        award_batch(items, now=world.now)
    elif kind == "again":
        if not world.sent:
            return
        item = world.sent[op[1] % len(world.sent)]
        written = db.session.scalar(select(PointEntry).where(
            PointEntry.idempotency_key == item.idempotency_key))
        result = award(item, now=world.now)
        if written is not None:   # a repeat changes nothing (one skipped by a cap may count now)
            assert (result.created, result.skipped, result.entry.id) == (
                False, "duplicate", written.id)
    elif kind in ("confirm", "reverse"):
        entries = world.entries()
        if not entries:
            return
        entry = entries[op[1] % len(entries)]
        try:
            if kind == "confirm":
                confirm_entry(entry.id, now=world.now)
            else:
                reverse_entry(entry.id, reason="property test", actor_id=None, now=world.now)
        except LedgerError:   # not pending, already reversed, a reversal: refused, no change
            db.session.rollback()
            return
    elif kind == "spend":   # a redemption: the guarded UPDATE the rewards use
        user_id = world.people[op[1]]
        balance = world.balance[user_id]
        if balance > 0:
            cost = max(balance * op[2] // 100, 1)
            assert db.session.execute(SPEND, {"cost": cost, "user_id": user_id}).rowcount == 1
            world.balance[user_id] -= cost
            world.spent[user_id] += cost
    elif kind == "close":
        period = world.month(op[1])
        if db.session.get(ClosedPeriod, period) is None:
            db.session.add(ClosedPeriod(period=period, closed_at=world.now))
            db.session.flush()
            world.frozen[period] = world.month_as_it_is(period)
    elif kind == "rule":
        _, event, points, active = op
        rule = db.session.scalar(select(Rule).where(Rule.event == event))
        terms = terms_of(rule)
        if event == "qa.evaluation":
            params = {"bands": [[95, points], [90, max(points // 2, 1)],
                                [80, max(points // 4, 1)]]}
        else:
            params = terms.params
        change_rule(rule.id, terms=RuleTerms(points=points, blade=Blade(rule.blade),
                                             is_active=active, params=params),
                    name_en=rule.name_en, name_zh=rule.name_zh, actor_id=None,
                    now=world.now, replay=True)
    db.session.commit()


def _check_balances(world: World, op, before: dict, after: dict, deductions: dict) -> None:
    """Each change is floored at zero; within one operation the ledger applies the
    deductions first (a batch awards them one by one before its other entries)."""
    for user_id in world.people:
        earned_before, _spent, balance_before = before[user_id]
        earned_after, spent, balance = after[user_id]
        assert balance >= 0 and spent == world.spent[user_id]
        negative = deductions.get(user_id, 0)
        positive = earned_after - earned_before - negative
        if op[0] == "spend":
            assert balance == world.balance[user_id]
        elif op[0] != "rule":
            assert positive >= 0
            expected = max(world.balance[user_id] + negative, 0) + positive
            assert balance == expected, (op, user_id, balance, expected)
        else:   # a replay reverses and awards again entry by entry: bounds only
            assert max(balance_before + negative + positive, 0) <= balance \
                <= max(balance_before + negative, 0) + positive
        world.balance[user_id] = balance


def _check_world(world: World) -> None:
    db = database
    db.session.expire_all()
    assert verify_rollups() == []
    for user_id, (earned, _spent, balance) in _balances(world).items():
        rollups = db.session.scalar(select(func.coalesce(func.sum(PointRollup.points), 0))
                                    .where(PointRollup.user_id == user_id))
        assert earned == rollups
        assert balance >= 0
    for period, (rollups, entries) in world.frozen.items():
        now_rollups, now_entries = world.month_as_it_is(period)
        assert now_rollups == rollups, f"the rollups of the closed month {period} changed"
        assert now_entries == entries, f"an entry landed in the closed month {period}"


def _example(db, make_user, operations) -> None:
    year = next(_years)
    world = World(year=year, people=[make_user("agent").id for _ in range(PEOPLE)],
                  now=datetime(year, 3, 15, 2, 30, tzinfo=UTC))
    world.balance = {user_id: 0 for user_id in world.people}
    for op in operations:
        before, last_id = _balances(world), _last_entry_id()
        _run(world, op)
        _check_balances(world, op, before, _balances(world), _new_deductions(world, last_id))
    _check_world(world)
    for month in range(3):   # the year is over: nothing of it is replayed later
        if db.session.get(ClosedPeriod, world.month(month)) is None:
            db.session.add(ClosedPeriod(period=world.month(month), closed_at=world.now))
    db.session.commit()


# --- the properties --------------------------------------------------------------------

@PROPERTY_SETTINGS
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=25))
def test_awards_reversals_and_closes_keep_the_ledger_consistent(db, defaults, make_user,
                                                                operations):
    _example(db, make_user, operations)


@settings(PROPERTY_SETTINGS, max_examples=100)
@given(operations=st.lists(st.one_of(OPERATIONS, RULE_CHANGE), min_size=1, max_size=20))
def test_rule_changes_replayed_over_open_months_keep_the_ledger_consistent(
        db, defaults, make_user, operations):
    _example(db, make_user, operations)


def test_confirming_an_entry_of_a_closed_month_leaves_the_month_alone(db, defaults,
                                                                     make_user):
    """Found by the properties above: a late confirmation counts in the current month."""
    agent = make_user("agent")
    february = datetime(2026, 2, 10, 3, 0, tzinfo=UTC)
    now = datetime(2026, 3, 15, 2, 30, tzinfo=UTC)
    entry = award(Award("customer_praise.verified", agent.id, "praise:late", "praise",
                        occurred_at=february, pending=True), now=february).entry
    db.session.add(ClosedPeriod(period="2026-02", closed_at=now))
    db.session.commit()
    counted = confirm_entry(entry.id, now=now)
    db.session.commit()
    assert db.session.get(PointRollup, (agent.id, "2026-02", "recognition")) is None
    assert counted.period == "2026-03" and counted.details["confirms"] == entry.id
    assert db.session.get(PointRollup, (agent.id, "2026-03", "recognition")).points == 30
    assert verify_rollups() == []
