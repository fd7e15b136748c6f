"""The training room's read side: the library with a learner's progress, the sign-off queue,
overdue assignments, recordings to review, completion and stage scores per team and cohort."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from app.auth.models import Mentorship, Team, User, UserRole
from app.auth.queries import current_apprentice_ids, led_team_ids
from app.database import db
from app.scenarios.models import (
    Recording,
    Scenario,
    ScenarioProgress,
    ScenarioVersion,
    SignOff,
    StageAttempt,
)
from app.training.models import Assignment


def title_of(version: ScenarioVersion, locale: str) -> str:
    return version.title_zh if (locale or "").startswith("zh") else version.title_en


def text_of(value: dict | None, locale: str) -> str:
    """A bilingual text of a scenario file in the reader's language."""
    if not value:
        return ""
    return value.get("zh" if (locale or "").startswith("zh") else "en") or ""


def get_scenario(code: str) -> Scenario | None:
    return db.session.scalar(select(Scenario).where(Scenario.code == code))


def list_library() -> list[tuple[Scenario, ScenarioVersion]]:
    rows = db.session.execute(
        select(Scenario, ScenarioVersion)
        .join(ScenarioVersion, (ScenarioVersion.scenario_id == Scenario.id)
              & (ScenarioVersion.version == Scenario.current_version))
        .where(Scenario.is_active.is_(True)).order_by(Scenario.code)).all()
    return [(s, v) for s, v in rows]


def progress_by_scenario(user_id: int) -> dict[int, ScenarioProgress]:
    """The learner's latest real progress on each scenario."""
    found: dict[int, ScenarioProgress] = {}
    for progress in db.session.scalars(
            select(ScenarioProgress).where(ScenarioProgress.user_id == user_id,
                                           ScenarioProgress.is_preview.is_(False))
            .order_by(ScenarioProgress.id)):
        found[progress.scenario_id] = progress
    return found


def open_scenario_assignments(user_ids) -> list[Assignment]:
    ids = list(user_ids)
    if not ids:
        return []
    return list(db.session.scalars(
        select(Assignment).where(Assignment.user_id.in_(ids), Assignment.status == "open",
                                 Assignment.item_kind == "scenario")
        .order_by(Assignment.due_on.is_(None), Assignment.due_on, Assignment.id)))


def overdue_assignments(user_ids, today: date) -> list[Assignment]:
    return [a for a in open_scenario_assignments(user_ids)
            if a.due_on is not None and a.due_on < today]


def sign_off_queue(mentor: User, *, include_unmentored: bool) -> list[ScenarioProgress]:
    """Practices waiting for this mentor: their apprentices'; for a trainer also those of
    agents who have no mentor."""
    apprentices = current_apprentice_ids(mentor.id)
    query = (select(ScenarioProgress)
             .where(ScenarioProgress.status == "awaiting_sign_off",
                    ScenarioProgress.is_preview.is_(False))
             .order_by(ScenarioProgress.updated_at))
    waiting = list(db.session.scalars(query))
    if include_unmentored:
        mentored = set(db.session.scalars(select(Mentorship.apprentice_id).where(
            Mentorship.ended_on.is_(None))))
        return [p for p in waiting if p.user_id in apprentices or p.user_id not in mentored]
    return [p for p in waiting if p.user_id in apprentices]


def completed_counts(user_ids) -> dict[int, int]:
    """How many scenarios each of these learners has completed."""
    ids = list(user_ids)
    if not ids:
        return {}
    return dict(db.session.execute(
        select(ScenarioProgress.user_id, func.count(ScenarioProgress.id))
        .where(ScenarioProgress.user_id.in_(ids), ScenarioProgress.status == "completed",
               ScenarioProgress.is_preview.is_(False))
        .group_by(ScenarioProgress.user_id)).all())


def sign_offs_of(progress_id: int) -> list[SignOff]:
    return list(db.session.scalars(select(SignOff).where(SignOff.progress_id == progress_id)
                                   .order_by(SignOff.id)))


def recordings_of(progress_id: int) -> list[Recording]:
    return list(db.session.scalars(select(Recording).where(Recording.progress_id == progress_id)
                                   .order_by(Recording.id)))


def recordings_to_review(reviewer: User, *, everyone: bool) -> list[Recording]:
    query = (select(Recording).join(ScenarioProgress)
             .where(Recording.reviewed_at.is_(None), ScenarioProgress.is_preview.is_(False))
             .order_by(Recording.uploaded_at))
    if not everyone:
        query = query.where(ScenarioProgress.user_id.in_(current_apprentice_ids(reviewer.id)))
    return list(db.session.scalars(query.limit(100)))


def latest_attempt(progress_id: int, stage: int) -> StageAttempt | None:
    return db.session.scalar(select(StageAttempt).where(
        StageAttempt.progress_id == progress_id, StageAttempt.stage == stage)
        .order_by(StageAttempt.id.desc()))


def watched_learner_ids(viewer: User) -> set[int]:
    """Whose training a mentor or team lead follows: apprentices and the led teams' members."""
    ids = set(current_apprentice_ids(viewer.id))
    teams = led_team_ids(viewer.id)
    if teams:
        ids |= set(db.session.scalars(select(User.id).where(User.team_id.in_(teams),
                                                            User.is_active.is_(True))))
    return ids


@dataclass
class GroupReport:
    """Completion and stage scores of one team or cohort."""

    label: str
    agents: int = 0
    started: int = 0
    stage_reached: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    awaiting: int = 0
    completed: int = 0
    case_scores: list[int] = field(default_factory=list)
    practice_scores: list[int] = field(default_factory=list)
    learners: set[int] = field(default_factory=set)

    @property
    def completion(self) -> float:
        """Of the scenario runs started, the share signed off."""
        return round(100 * self.completed / self.started, 1) if self.started else 0.0

    @property
    def reach(self) -> float:
        """The share of the group's agents who have started a scenario."""
        return round(100 * len(self.learners) / self.agents, 1) if self.agents else 0.0

    @property
    def case_average(self) -> float | None:
        return round(sum(self.case_scores) / len(self.case_scores), 1) \
            if self.case_scores else None

    @property
    def practice_average(self) -> float | None:
        return round(sum(self.practice_scores) / len(self.practice_scores), 1) \
            if self.practice_scores else None


def completion_report(*, by: str, scenario_id: int | None = None) -> list[GroupReport]:
    """Per team (`by="team"`) or per onboarding cohort (`by="cohort"`): active agents, how
    many scenario runs started, reached each stage, wait for sign-off, completed, and the
    average stage-1 and stage-3 scores."""
    agent_ids = select(UserRole.user_id).where(UserRole.role == "agent")
    agents = db.session.execute(
        select(User.id, User.team_id, User.hire_date)
        .where(User.is_active.is_(True), User.id.in_(agent_ids))).all()
    teams = dict(db.session.execute(select(Team.id, Team.name)).all())

    def key_of(team_id, hire_date) -> str:
        if by == "cohort":
            return f"{hire_date.year:04d}-{hire_date.month:02d}"
        return teams.get(team_id, "—")

    groups: dict[str, GroupReport] = {}
    group_of: dict[int, GroupReport] = {}
    for user_id, team_id, hire_date in agents:
        label = key_of(team_id, hire_date)
        group = groups.setdefault(label, GroupReport(label))
        group.agents += 1
        group_of[user_id] = group
    query = select(ScenarioProgress.user_id, ScenarioProgress.stage, ScenarioProgress.status,
                   ScenarioProgress.case_score, ScenarioProgress.practice_score).where(
        ScenarioProgress.is_preview.is_(False))
    if scenario_id:
        query = query.where(ScenarioProgress.scenario_id == scenario_id)
    for user_id, stage, status, case_score, practice_score in db.session.execute(query):
        group = group_of.get(user_id)
        if group is None:
            continue
        group.started += 1
        group.learners.add(user_id)
        group.stage_reached[stage] += 1
        if status == "awaiting_sign_off":
            group.awaiting += 1
        elif status == "completed":
            group.completed += 1
        if case_score is not None:
            group.case_scores.append(case_score)
        if practice_score is not None and status != "in_progress":
            group.practice_scores.append(practice_score)
    reverse = by == "cohort"
    return sorted(groups.values(), key=lambda g: g.label, reverse=reverse)
