"""The incentive windmill's tables: the append-only ledger and its rollups, rules and their
versions, balances, honours and badges, levels, rewards, violations and coaching tasks."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, db, one_of
from app.incentives.rules import Blade, EntryStatus, LadderStep

BLADES_SQL = ", ".join(f"'{b.value}'" for b in Blade)
# the tables written in bulk check their lists of values without IN (see `one_of`)
BLADE_CHECK = one_of("blade", [b.value for b in Blade])
STATUS_CHECK = one_of("status", [s.value for s in EntryStatus])


class Rule(db.Model):
    """What one kind of event is worth. Edits make a new version; entries keep theirs."""

    __tablename__ = "rules"
    __table_args__ = (CheckConstraint(f"blade IN ({BLADES_SQL})", name="blade"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(120), nullable=False)
    blade: Mapped[str] = mapped_column(String(20), nullable=False)
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    daily_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    monthly_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class RuleVersion(db.Model):
    """Every version a rule has had, as it stood: the history behind each entry's value."""

    __tablename__ = "rule_versions"
    __table_args__ = (UniqueConstraint("rule_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # points, blade, is_active, caps and params at this version
    terms: Mapped[dict] = mapped_column(JSON, nullable=False)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    comment: Mapped[str | None] = mapped_column(String(500), nullable=True)


class PointEntry(db.Model):
    """One line of the ledger. Never updated (but for its status) and never deleted:
    corrections are reversal entries that point at the original. The database refuses
    deletes and changes of value (triggers in the migration and in `create_all`)."""

    __tablename__ = "point_entries"
    __table_args__ = (
        CheckConstraint(BLADE_CHECK, name="blade"),
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint("points <> 0", name="not_zero"),
        CheckConstraint(
            "points > 0 OR event = 'violation.deduction' OR reverses_id IS NOT NULL",
            name="negative_only_for_violations"),
        Index("ix_point_entries_user_period", "user_id", "period"),
        Index("ix_point_entries_rule_user_period", "rule_id", "user_id", "period"),
        Index("ix_point_entries_period_occurred", "period", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    blade: Mapped[str] = mapped_column(String(20), nullable=False)
    event: Mapped[str] = mapped_column(String(60), nullable=False)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("rules.id"), nullable=True)
    rule_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # what caused it: ("qa_evaluation", "QA-2026-0012"), ("quiz_attempt", "17"), ("manual", …)
    source_type: Mapped[str] = mapped_column(String(40), nullable=False)
    source_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the same key twice yields one entry, whoever sends it and however often
    idempotency_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    awarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # the calendar month (centre time zone) the points count for, "YYYY-MM"
    period: Mapped[str] = mapped_column(String(7), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False,
                                        default=EntryStatus.CONFIRMED.value)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("point_entries.id"),
                                                    nullable=True, unique=True)
    # why, in words people wrote (a team lead's comment, a reversal's reason)
    comment: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # facts the explanation shows: score, attempt, scorecard, reward… (plain JSON values)
    details: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    user = relationship("User", foreign_keys=[user_id])
    awarded_by = relationship("User", foreign_keys=[awarded_by_id])
    rule = relationship(Rule)
    reverses = relationship("PointEntry", remote_side=[id], foreign_keys=[reverses_id])


class PointRollup(db.Model):
    """Per user, month and blade: the confirmed points, kept in the same transaction as every
    entry so that boards never scan the ledger. `flask points verify` recomputes them."""

    __tablename__ = "point_rollups"
    __table_args__ = (
        CheckConstraint(BLADE_CHECK, name="blade"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    blade: Mapped[str] = mapped_column(String(20), primary_key=True)
    points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    positive: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    negative: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # ≤ 0
    entries: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # when the current total was reached: the leaderboard's first tie-break
    last_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # copied from the person (see `app.incentives.standings`): their team, and whether they
    # are on the month's boards (an agent employed in the month)
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ranked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                         server_default=false())


class PointMonthTotal(db.Model):
    """Per user and month: the confirmed points of all blades together, kept beside the
    rollups (in the same statements) so that the "all blades" boards and a person's place
    read one row per person. `flask points verify` recomputes them."""

    __tablename__ = "point_month_totals"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # when the current total was reached (the latest change of any blade's rollup): the
    # boards' first tie-break
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # as on the rollups
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ranked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                         server_default=false())


# A month's boards read these indexes alone, without visiting the people: the people on the
# board in its order (points, then who reached them first, then the id) — its top, a place,
# the rows around it, counted and read by range. A team's rows, by team: what its month
# totals are summed again from when its people change.
Index("ix_point_month_totals_board", PointMonthTotal.period, PointMonthTotal.ranked,
      PointMonthTotal.points.desc(), PointMonthTotal.reached_at, PointMonthTotal.user_id)
Index("ix_point_month_totals_team", PointMonthTotal.team_id)
Index("ix_point_rollups_board", PointRollup.period, PointRollup.blade, PointRollup.ranked,
      PointRollup.points.desc(), PointRollup.last_changed_at, PointRollup.user_id)
Index("ix_point_rollups_team", PointRollup.team_id)


class TeamMonthTotal(db.Model):
    """Per team, month and blade ("all": every blade): the points of its people on the
    month's boards, summed, and the team's days of agents in the month — what the team board
    ranks, kept beside the people's totals so that it reads one row per team
    (`app.incentives.standings` keeps them). A team without points in the month has none."""

    __tablename__ = "team_month_totals"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    blade: Mapped[str] = mapped_column(String(20), primary_key=True)   # a blade, or "all"
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # the latest time any of its people's totals changed: the board's first tie-break
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # its agents' days in the month (joiners and leavers for the days they were there), of
    # which points per member are reckoned; None only until the write that made the row
    # counts them
    member_days: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PointBalance(db.Model):
    """What a person may spend. Earned points and the spendable balance are separate:
    redeeming spends the balance and never lowers a leaderboard position."""

    __tablename__ = "point_balances"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("spent >= 0", name="spent_not_negative"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    earned: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # all-time net
    spent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    balance: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ClosedPeriod(db.Model):
    """A month that is closed: no entry lands in it any more; later ones go to an open month."""

    __tablename__ = "closed_periods"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class Level(db.Model):
    """A level reached by cumulative earned points, named in both languages."""

    __tablename__ = "levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    min_points: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    name_en: Mapped[str] = mapped_column(String(80), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(80), nullable=False)


class BadgeClass(db.Model):
    """An honour or badge that can be earned: automatically by criteria, or granted."""

    __tablename__ = "badge_classes"
    __table_args__ = (
        CheckConstraint(f"blade IN ({BLADES_SQL})", name="blade"),
        CheckConstraint("kind IN ('automatic', 'manual')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(120), nullable=False)
    description_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_zh: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # a file under app/static/badges/ (shipped) or the instance folder (uploaded)
    image: Mapped[str] = mapped_column(String(200), nullable=False)
    blade: Mapped[str] = mapped_column(String(20), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    # automatic: {"event": "qa.evaluation", "min_score": 95, "count": 10, "window": "month"}
    criteria: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # manual: the roles that may grant it, and how many each granter may give a month
    granter_roles: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    monthly_cap_per_granter: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class BadgeAward(db.Model):
    __tablename__ = "badge_awards"
    __table_args__ = (Index("ix_badge_awards_user", "user_id", "awarded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # the public id of the Open Badges assertion
    uid: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badge_classes.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    period: Mapped[str] = mapped_column(String(7), nullable=False)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    comment: Mapped[str | None] = mapped_column(String(500), nullable=True)
    point_entry_id: Mapped[int | None] = mapped_column(ForeignKey("point_entries.id"),
                                                       nullable=True)
    # an automatic badge is earned once per window: "2026-03" for a monthly one, "" once ever
    window: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    badge = relationship(BadgeClass)
    user = relationship("User", foreign_keys=[user_id])
    granted_by = relationship("User", foreign_keys=[granted_by_id])


class ServiceStarNomination(db.Model):
    """A proposed (then confirmed) Service Star of a month, or Service Model of a year."""

    __tablename__ = "service_star_nominations"
    __table_args__ = (
        UniqueConstraint("kind", "period", "user_id"),
        CheckConstraint("kind IN ('service_star', 'service_model')", name="kind"),
        CheckConstraint("status IN ('proposed', 'confirmed', 'declined')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    period: Mapped[str] = mapped_column(String(7), nullable=False)  # "2026-03" or "2026"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    composite: Mapped[float] = mapped_column(nullable=False)
    # the parts of the composite: qa, praise, mystery_shopper, lead_rating
    components: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="proposed")
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user = relationship("User", foreign_keys=[user_id])


class Reward(db.Model):
    """An item of the reward catalogue (material blade)."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("cost > 0", name="cost_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(120), nullable=False)
    description_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_zh: Mapped[str] = mapped_column(Text, nullable=False, default="")
    cost: Mapped[int] = mapped_column(Integer, nullable=False)
    stock: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: unlimited
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class Redemption(db.Model):
    """A request to spend points on a reward: requested → approved → fulfilled, or rejected
    or cancelled (the points come back)."""

    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('requested', 'approved', 'fulfilled', 'rejected', 'cancelled')",
            name="status"),
        CheckConstraint("cost > 0", name="cost_positive"),
        Index("ix_redemptions_status", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"), nullable=False)
    cost: Mapped[int] = mapped_column(Integer, nullable=False)  # the price when requested
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="requested")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)

    user = relationship("User", foreign_keys=[user_id])
    reward = relationship(Reward)


class Violation(db.Model):
    """A breach of the service standard, with the ladder step it took."""

    __tablename__ = "violations"
    __table_args__ = (
        CheckConstraint(f"step IN ({', '.join(repr(s.value) for s in LadderStep)})",
                        name="step"),
        Index("ix_violations_user_date", "user_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    # the rule of the service standard that was broken, e.g. "forbidden_phrase"
    sop_rule: Mapped[str] = mapped_column(String(40), nullable=False)
    evidence: Mapped[str] = mapped_column(Text, nullable=False)
    is_serious: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    step: Mapped[str] = mapped_column(String(20), nullable=False)
    point_entry_id: Mapped[int | None] = mapped_column(ForeignKey("point_entries.id"),
                                                       nullable=True)

    user = relationship("User", foreign_keys=[user_id])
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])


class CoachingTask(db.Model):
    """Follow-up work a violation creates: coaching by the team lead, or re-training."""

    __tablename__ = "coaching_tasks"
    __table_args__ = (
        CheckConstraint("kind IN ('coaching', 'retraining')", name="kind"),
        CheckConstraint("status IN ('open', 'done')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True,
                                                    index=True)
    violation_id: Mapped[int | None] = mapped_column(ForeignKey("violations.id"), nullable=True)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)

    user = relationship("User", foreign_keys=[user_id])
    assignee = relationship("User", foreign_keys=[assignee_id])
    violation = relationship(Violation)


# --- the ledger is append-only, in the database itself ----------------------------------

_FROZEN_COLUMNS = ("user_id", "points", "blade", "event", "rule_id", "rule_version",
                   "source_type", "source_id", "idempotency_key", "awarded_by_id",
                   "occurred_at", "recorded_at", "period", "reverses_id", "comment")

APPEND_ONLY_DDL = {
    "sqlite": [
        """CREATE TRIGGER point_entries_no_delete BEFORE DELETE ON point_entries
        BEGIN SELECT RAISE(ABORT, 'point_entries is append-only'); END""",
        f"""CREATE TRIGGER point_entries_no_change BEFORE UPDATE OF
        {", ".join(_FROZEN_COLUMNS)}, details ON point_entries
        BEGIN SELECT RAISE(ABORT, 'point_entries is append-only: only the status changes'); END""",
        """CREATE TRIGGER point_entries_status_forward BEFORE UPDATE OF status ON point_entries
        WHEN OLD.status <> NEW.status
         AND NOT (OLD.status = 'pending' AND NEW.status IN ('confirmed', 'reversed'))
         AND NOT (OLD.status = 'confirmed' AND NEW.status = 'reversed')
        BEGIN SELECT RAISE(ABORT, 'a point entry status only moves forward'); END""",
    ],
    "postgresql": [
        f"""CREATE OR REPLACE FUNCTION point_entries_append_only() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'point_entries is append-only';
          END IF;
          IF ({", ".join("NEW." + c for c in _FROZEN_COLUMNS)}, NEW.details::text)
             IS DISTINCT FROM ({", ".join("OLD." + c for c in _FROZEN_COLUMNS)}, OLD.details::text)
          THEN
            RAISE EXCEPTION 'point_entries is append-only: only the status changes';
          END IF;
          IF OLD.status <> NEW.status
             AND NOT (OLD.status = 'pending' AND NEW.status IN ('confirmed', 'reversed'))
             AND NOT (OLD.status = 'confirmed' AND NEW.status = 'reversed') THEN
            RAISE EXCEPTION 'a point entry status only moves forward';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER point_entries_append_only BEFORE UPDATE OR DELETE ON point_entries
        FOR EACH ROW EXECUTE FUNCTION point_entries_append_only()""",
    ],
}


@event.listens_for(PointEntry.__table__, "after_create")
def _append_only(target, connection, **kw) -> None:
    """`create_all` (the tests) builds the same guard as the migration does."""
    for statement in APPEND_ONLY_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)
