"""The navigation: one list, each item guarded by the permission its page requires."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.auth.roles import Permission


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    permission: Permission | None = None
    # the endpoints that belong to this item: its blueprint, or a narrower prefix
    section: str = ""

    def is_current(self, endpoint: str | None) -> bool:
        prefix = self.section or self.endpoint.split(".")[0] + "."
        return bool(endpoint) and endpoint.startswith(prefix)


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("main.home", _l("Home"), section="main.home"),
    NavItem("training.index", _l("Training"), Permission.USE_TRAINING),
    NavItem("scenarios.index", _l("Training room"), Permission.USE_SCENARIOS),
    NavItem("incentives.index", _l("My windmill"), Permission.USE_INCENTIVES),
    NavItem("leaderboard.index", _l("Leaderboard"), Permission.VIEW_LEADERBOARD),
    NavItem("qa.index", _l("Quality"), Permission.VIEW_OWN_RECORDS),
    NavItem("auth.people_list", _l("People"), Permission.VIEW_PEOPLE, section="auth.people"),
    NavItem("auth.team_list", _l("Teams"), Permission.VIEW_PEOPLE, section="auth.team"),
    NavItem("audit.event_list", _l("Audit trail"), Permission.VIEW_AUDIT),
    NavItem("lti.index", _l("LMS"), Permission.ADMIN_LTI),
)


def navigation_for(user) -> list[NavItem]:
    """The items this user may use, in order."""
    return [item for item in NAVIGATION if item.permission is None or user.can(item.permission)]
