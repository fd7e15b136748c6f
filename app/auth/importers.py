"""The roster import from HR: CSV or XLSX → validated rows → one all-or-nothing apply.

INTERFACE ONLY — being implemented (see tests/auth/test_importers.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext, lazy_gettext as _l

from app.errors import DomainError


@dataclass(frozen=True)
class RosterColumn:
    name: str            # canonical English header
    chinese: str         # canonical Chinese header
    required: bool
    description: object  # lazy_gettext text
    aliases: tuple[str, ...] = ()


ROSTER_COLUMNS: tuple[RosterColumn, ...] = (
    RosterColumn("employee_number", "工号", True, _l("The employee number; the key of each row.")),
    RosterColumn("name", "姓名", True, _l("Full name.")),
    RosterColumn("email", "邮箱", False, _l("E-mail address, unique.")),
    RosterColumn("team", "班组", False, _l("The name of an existing team.")),
    RosterColumn("hire_date", "入职日期", True, _l("Date of hire, e.g. 2026-03-01.")),
    RosterColumn("leave_date", "离职日期", False, _l("Date of leaving; the person is deactivated.")),
    RosterColumn("career_level", "职级", False, _l("agent, senior_agent, team_lead or supervisor.")),
    RosterColumn("roles", "角色", False, _l("Roles separated by commas; default agent.")),
    RosterColumn("mentor", "师傅工号", False, _l("The mentor's employee number.")),
)


@dataclass
class RowError:
    row: int | None       # the line in the file as a spreadsheet shows it (header = 1)
    column: str | None
    value: str | None
    message: str          # an English msgid
    params: dict = field(default_factory=dict)

    def translated(self) -> str:
        return gettext(self.message, **self.params)


class RosterImportError(DomainError):
    def __init__(self, errors: list[RowError]):
        super().__init__("The roster has errors.")
        self.errors = errors


@dataclass
class RosterResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def import_roster(data: bytes, filename: str, *, actor_id: int | None, now: datetime,
                  progress=None) -> RosterResult:
    raise NotImplementedError
