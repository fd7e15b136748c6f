"""The one place that says what each role may do.

A user may hold several roles; what they may do is the union of their roles' permissions.
No Flask and no database here: views and templates ask `user.can(Permission.X)`.
"""
from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    MENTOR = "mentor"
    TEAM_LEAD = "team_lead"
    QA_ANALYST = "qa_analyst"
    TRAINER = "trainer"
    ADMIN = "admin"


class CareerLevel(StrEnum):
    """The career ladder (职业发展通道), from the floor up."""

    AGENT = "agent"
    SENIOR_AGENT = "senior_agent"
    TEAM_LEAD = "team_lead"
    SUPERVISOR = "supervisor"


class Permission(StrEnum):
    VIEW_OWN_RECORDS = "view_own_records"          # one's own training, points, QA results
    VIEW_APPRENTICES = "view_apprentices"          # the records of one's own apprentices
    VIEW_TEAM = "view_team"                        # the records of the team one leads
    VIEW_ALL_AGENTS = "view_all_agents"            # every agent's records (QA, training)
    VIEW_PEOPLE = "view_people"                    # the people directory with details
    MANAGE_PEOPLE = "manage_people"                # create, edit, deactivate, assign
    IMPORT_ROSTER = "import_roster"
    MANAGE_TEAMS = "manage_teams"
    VIEW_AUDIT = "view_audit"
    USE_TRAINING = "use_training"
    USE_INCENTIVES = "use_incentives"
    VIEW_LEADERBOARD = "view_leaderboard"
    USE_QA = "use_qa"
    USE_SCENARIOS = "use_scenarios"
    ADMIN_LTI = "admin_lti"
    MANAGE_INCENTIVES = "manage_incentives"        # rules, badges, levels, rewards, reversals
    MANAGE_TRAINING = "manage_training"            # training content, remediation mapping


_EVERYONE = {
    Permission.VIEW_OWN_RECORDS,
    Permission.USE_TRAINING,
    Permission.USE_INCENTIVES,
    Permission.VIEW_LEADERBOARD,
    Permission.USE_SCENARIOS,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_EVERYONE),
    Role.MENTOR: frozenset(_EVERYONE | {Permission.VIEW_APPRENTICES}),
    Role.TEAM_LEAD: frozenset(_EVERYONE | {Permission.VIEW_TEAM}),
    Role.QA_ANALYST: frozenset(
        _EVERYONE | {Permission.VIEW_ALL_AGENTS, Permission.USE_QA, Permission.VIEW_PEOPLE}
    ),
    Role.TRAINER: frozenset(
        _EVERYONE | {Permission.VIEW_ALL_AGENTS, Permission.VIEW_PEOPLE, Permission.USE_QA,
                     Permission.MANAGE_INCENTIVES, Permission.MANAGE_TRAINING}
    ),
    Role.ADMIN: frozenset(Permission),
}

# The order in which a user's home page is chosen when they hold several roles.
HOME_PRIORITY: tuple[Role, ...] = (
    Role.ADMIN,
    Role.TRAINER,
    Role.QA_ANALYST,
    Role.TEAM_LEAD,
    Role.MENTOR,
    Role.AGENT,
)


def permissions_of(roles) -> frozenset[Permission]:
    """The union of the permissions of the given roles (names or `Role`s)."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[Role(role)]
    return frozenset(granted)


def primary_role(roles) -> Role | None:
    """The role whose home page a user with these roles lands on."""
    held = {Role(r) for r in roles}
    for role in HOME_PRIORITY:
        if role in held:
            return role
    return None
