"""People and structure: users, their roles, teams and mentorships."""
from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.roles import CareerLevel, Permission, Role, permissions_of, primary_role
from app.centre.periods import period_of_date
from app.database import UTCDateTime, db

CAREER_LEVELS_SQL = ", ".join(f"'{level.value}'" for level in CareerLevel)
ROLES_SQL = ", ".join(f"'{role.value}'" for role in Role)


class Team(db.Model):
    """A team (班组) of agents under one team lead. Sites may group teams later."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_teams_lead_id_users"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id], post_update=True)
    members: Mapped[list[User]] = relationship(
        back_populates="team", foreign_keys="User.team_id", order_by="User.employee_number"
    )

    def __repr__(self) -> str:
        return f"<Team {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"career_level IN ({CAREER_LEVELS_SQL})", name="career_level"),
        CheckConstraint("leave_date IS NULL OR leave_date >= hire_date", name="leave_after_hire"),
        # the agents of a month or a cohort, and of each team, found by the boards in an
        # index alone
        Index("ix_users_agents", "is_agent", "hire_date", "leave_date", "team_id"),
        Index("ix_users_agent_teams", "is_agent", "team_id", "hire_date", "leave_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # 工号: the employee number people sign in with and QA exports refer to.
    employee_number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True, unique=True)
    # Empty until an admin sets one (imported people) or for people who only launch from an LMS.
    password_hash: Mapped[str | None] = mapped_column(String(256), nullable=True)
    # The interface language the user chose; empty means "follow the browser".
    locale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    hire_date: Mapped[date] = mapped_column(Date, nullable=False)
    leave_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    career_level: Mapped[str] = mapped_column(
        String(20), nullable=False, default=CareerLevel.AGENT.value
    )
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True, index=True)
    # holds the agent role: kept with the roles (`app.incentives.standings`), so that the
    # boards find the month's agents in an index instead of looking up each person's roles
    is_agent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                           server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])
    role_links: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<User {self.employee_number}>"

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(link.role) for link in self.role_links)

    def has_role(self, role: Role | str) -> bool:
        return Role(role) in self.roles

    def can(self, permission: Permission) -> bool:
        return permission in permissions_of(self.roles)

    @property
    def primary_role(self) -> Role | None:
        return primary_role(self.roles)

    @property
    def cohort(self) -> str:
        """The onboarding cohort: the month of hire, "YYYY-MM"."""
        return period_of_date(self.hire_date)

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.employee_number})"


class UserRole(db.Model):
    """One role held by one user. A user may hold several."""

    __tablename__ = "user_roles"
    __table_args__ = (CheckConstraint(f"role IN ({ROLES_SQL})", name="role"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_links")


class Mentorship(db.Model):
    """A mentor (师傅) coaching an apprentice (徒弟) from one date to another.

    An apprentice has at most one active mentorship (no end date) at a time; the
    database holds that with a partial unique index.
    """

    __tablename__ = "mentorships"
    __table_args__ = (
        CheckConstraint("mentor_id <> apprentice_id", name="not_self"),
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="end_after_start"),
        Index(
            "uq_mentorships_active_apprentice",
            "apprentice_id",
            unique=True,
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    apprentice_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    started_on: Mapped[date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    mentor: Mapped[User] = relationship(foreign_keys=[mentor_id])
    apprentice: Mapped[User] = relationship(foreign_keys=[apprentice_id])

    @property
    def is_current(self) -> bool:
        return self.ended_on is None
