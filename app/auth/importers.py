"""The roster import from HR: CSV or XLSX → validated rows → one all-or-nothing apply.

`plan_roster` reads the file (with `app.imports`) and checks every row against the
rules and the database without writing anything; it returns plain rows or raises
`RosterImportError` with every problem it found. `apply_roster` carries a plan out through the
people services only. `import_roster` does both. The caller commits, or rolls back on error.

Re-importing the same roster changes nothing: a row equal to the database is "unchanged", and
an optional column that is absent or empty leaves the person's current value alone.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit.services import record_audit
from app.auth import rules
from app.auth.models import Mentorship, Team, User
from app.auth.roles import CareerLevel, Role
from app.auth.services import (
    PeopleError,
    assign_mentor,
    create_user,
    current_mentorship,
    deactivate_user,
    update_user,
)
from app.centre.periods import centre_tz
from app.database import db
from app.errors import DomainError
from app.i18n import N_
from app.imports import FileError, RowError, read_table
from app.imports import folded as _folded
from app.imports import header_key as _header_key


@dataclass(frozen=True)
class RosterColumn:
    name: str            # canonical English header
    chinese: str         # canonical Chinese header
    required: bool
    description: object  # lazy_gettext text
    aliases: tuple[str, ...] = ()  # other headers HR files use; compared ignoring case and spaces


ROSTER_COLUMNS: tuple[RosterColumn, ...] = (
    RosterColumn("employee_number", "工号", True, _l("The employee number; the key of each row."),
                 ("Employee No", "Employee No.", "Employee Number", "Employee ID", "Emp No",
                  "Staff No", "Staff ID", "Staff Number", "员工编号", "员工工号", "员工号")),
    RosterColumn("name", "姓名", True, _l("Full name."),
                 ("Full Name", "Employee Name", "员工姓名", "名字")),
    RosterColumn("email", "邮箱", False, _l("E-mail address, unique."),
                 ("E-mail", "Email Address", "E-mail Address", "Mail", "电子邮箱", "电子邮件",
                  "邮件", "邮箱地址")),
    RosterColumn("team", "班组", False, _l("The name of an existing team."),
                 ("Team Name", "团队", "小组", "组别", "班组名称")),
    RosterColumn("hire_date", "入职日期", True, _l("Date of hire, e.g. 2026-03-01."),
                 ("Hire Date", "Hired On", "Date of Hire", "Start Date", "Joined", "入职时间")),
    RosterColumn("leave_date", "离职日期", False, _l("Date of leaving; the person is deactivated."),
                 ("Leave Date", "Left On", "Date of Leaving", "Termination Date", "离职时间")),
    RosterColumn("career_level", "职级", False,
                 _l("The career level: agent, senior_agent, team_lead or supervisor, "
                    "or in Chinese 客服代表, 资深客服代表, 班长, 运营主管."),
                 ("Career Level", "Level", "Grade", "级别", "职业等级")),
    RosterColumn("roles", "角色", False,
                 _l("The roles, separated by commas: agent, mentor, team_lead, qa_analyst, "
                    "trainer, admin, or in Chinese 客服, 师傅, 班长, 质检员, 培训师, 管理员. "
                    "A new person without roles becomes an agent."),
                 ("Role",)),
    RosterColumn("mentor", "师傅工号", False, _l("The mentor's employee number."),
                 ("Mentor No", "Mentor Number", "Mentor Employee Number", "Mentor ID", "师傅",
                  "导师", "导师工号")),
)

# Words HR files use for career levels and roles, besides the English values themselves.
LEVEL_WORDS: dict[str, CareerLevel] = {
    "客服代表": CareerLevel.AGENT,
    "客服专员": CareerLevel.AGENT,
    "资深客服代表": CareerLevel.SENIOR_AGENT,
    "班长": CareerLevel.TEAM_LEAD,
    "班组长": CareerLevel.TEAM_LEAD,
    "运营主管": CareerLevel.SUPERVISOR,
    "operations_supervisor": CareerLevel.SUPERVISOR,
}
ROLE_WORDS: dict[str, Role] = {
    "客服": Role.AGENT,
    "坐席": Role.AGENT,
    "师傅": Role.MENTOR,
    "导师": Role.MENTOR,
    "班长": Role.TEAM_LEAD,
    "班组长": Role.TEAM_LEAD,
    "质检": Role.QA_ANALYST,
    "质检员": Role.QA_ANALYST,
    "培训师": Role.TRAINER,
    "管理员": Role.ADMIN,
    "administrator": Role.ADMIN,
}

MAX_LENGTHS = {"name": 120, "email": 254}

_ROLE_SEPARATORS = re.compile(r"[,;|、]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_PATTERNS = (
    # 2026-03-01, 2026/3/1, 2026.03.01, optionally with a time (Excel date cells read as text)
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"),
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"),
)


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


@dataclass
class RosterRow:
    """One checked row. None in an optional field means "leave what the person has"."""

    row: int
    employee_number: str
    name: str
    hire_date: date
    email: str | None = None
    team_id: int | None = None
    leave_date: date | None = None
    career_level: str | None = None
    roles: tuple[str, ...] | None = None
    mentor: str | None = None  # the mentor's employee number, only for people who stay


@dataclass
class RosterPlan:
    filename: str
    rows: list[RosterRow]


# --- reading the file --------------------------------------------------------------------

HEADERS: dict[str, RosterColumn] = {
    _header_key(header): column
    for column in ROSTER_COLUMNS
    for header in (column.name, column.chinese, *column.aliases)
}


def _file_error(message: str, **params) -> RosterImportError:
    return RosterImportError([RowError(None, None, None, message, params)])


# --- checking the rows -------------------------------------------------------------------

def parse_date(value: str) -> date:
    """A date as HR files write it: 2026-03-01, 2026/3/1, 2026.03.01 or 2026年3月1日."""
    text = _folded(value)
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            numbers = [g for g in match.groups() if g.isdigit()]
            year, month, day = (int(n) for n in numbers)
            if not 1900 <= year <= 2100:
                break
            return date(year, month, day)  # ValueError for 2026-02-30
    raise ValueError(f"not a date: {value!r}")


def parse_level(value: str) -> str:
    key = _folded(value)
    word = re.sub(r"[\s-]+", "_", key.casefold())
    if word in {level.value for level in CareerLevel}:
        return word
    level = LEVEL_WORDS.get(key) or LEVEL_WORDS.get(word)
    if level is None:
        raise ValueError(f"not a career level: {value!r}")
    return level.value


def parse_roles(value: str) -> tuple[list[str], list[str]]:
    """The roles named in a cell, and the words that name no role."""
    found: list[str] = []
    unknown: list[str] = []
    for token in _ROLE_SEPARATORS.split(_folded(value)):
        token = token.strip()
        if not token:
            continue
        word = re.sub(r"[\s-]+", "_", token.casefold())
        role = ROLE_WORDS.get(token) or ROLE_WORDS.get(word)
        if role is None and word in {r.value for r in Role}:
            role = Role(word)
        if role is None:
            unknown.append(token)
        elif role.value not in found:
            found.append(role.value)
    return found, unknown


@dataclass
class _Row:
    """The cells of one data row, keyed by canonical column name, and the errors found in it."""

    number: int
    cells: dict[str, str]
    headers: dict[str, str]   # canonical name → the header as the file wrote it
    errors: list[RowError]

    def value(self, column: str) -> str:
        return self.cells.get(column, "")

    def error(self, column: str | None, message: str, **params) -> None:
        self.errors.append(RowError(self.number, self.headers.get(column, column),
                                    self.cells.get(column) if column else None, message, params))

    def has_error(self, column: str) -> bool:
        header = self.headers.get(column, column)
        return any(e.row == self.number and e.column == header for e in self.errors)

    def required(self, column: str) -> str | None:
        value = self.value(column)
        if not value:
            self.error(column, N_("This column needs a value in every row."))
            return None
        return value

    def date(self, column: str) -> date | None:
        value = self.value(column)
        if not value:
            return None
        try:
            return parse_date(value)
        except ValueError:
            self.error(column, N_("%(value)s is not a date: write it as YYYY-MM-DD."), value=value)
            return None


def _map_headers(header_row: list[str], errors: list[RowError]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, text in enumerate(header_row):
        column = HEADERS.get(_header_key(text))
        if column is None:
            continue  # a column the roster does not use
        if column.name in positions:
            errors.append(RowError(1, text, None,
                                   N_("Two columns mean %(column)s: %(first)s and %(second)s."),
                                   {"column": f"{column.name} / {column.chinese}",
                                    "first": header_row[positions[column.name]],
                                    "second": text}))
            continue
        positions[column.name] = index
    if not positions:
        errors.append(RowError(1, None, None, N_(
            "The first row holds none of the roster's column names, "
            "such as 工号 or employee_number.")))
        return positions
    for column in ROSTER_COLUMNS:
        if column.required and column.name not in positions:
            errors.append(RowError(1, column.name, None,
                                   N_("The required column %(column)s is missing."),
                                   {"column": f"{column.name} / {column.chinese}"}))
    return positions


@dataclass
class _Directory:
    """What the checks need to know of the database, read once."""

    users: dict[str, User]              # by employee number
    emails: dict[str, User]
    teams: dict[str, Team]              # by folded name
    mentorships: dict[int, Mentorship]  # current ones, by apprentice id

    @classmethod
    def load(cls) -> _Directory:
        users = list(db.session.scalars(select(User)))
        return cls(
            users={u.employee_number: u for u in users},
            emails={u.email: u for u in users if u.email},
            teams={t.name.strip().casefold(): t for t in db.session.scalars(select(Team))},
            mentorships={m.apprentice_id: m for m in db.session.scalars(
                select(Mentorship).where(Mentorship.ended_on.is_(None)))},
        )


def _check_row(row: _Row, directory: _Directory, today: date) -> RosterRow:
    """The row's own values, each checked on its own."""
    number = row.required("employee_number")
    if number is not None:
        number = rules.normalise_employee_number(_folded(number))
        if not rules.is_valid_employee_number(number):
            row.error("employee_number", N_(
                "Employee number %(number)s is not valid: use letters, digits, - and _."),
                number=number)
    name = row.required("name")
    if name and len(name) > MAX_LENGTHS["name"]:
        row.error("name", N_("This value is longer than %(max)s characters."),
                  max=MAX_LENGTHS["name"])
    hire_date = row.date("hire_date") if row.required("hire_date") else None
    checked = RosterRow(row=row.number, employee_number=number or "", name=name or "",
                        hire_date=hire_date or today)

    if row.value("email"):
        email = rules.normalise_email(_folded(row.value("email")))
        if not _EMAIL.match(email) or len(email) > MAX_LENGTHS["email"]:
            row.error("email", N_("%(email)s is not an e-mail address."), email=row.value("email"))
        checked.email = email
    if row.value("team"):
        team = directory.teams.get(row.value("team").casefold())
        if team is None:
            row.error("team", N_("There is no team called %(team)s: create it first."),
                      team=row.value("team"))
        else:
            checked.team_id = team.id
    checked.leave_date = row.date("leave_date")
    if checked.leave_date and hire_date and checked.leave_date < hire_date:
        row.error("leave_date", N_("The leave date cannot be before the hire date."))
    elif checked.leave_date and checked.leave_date > today:
        row.error("leave_date", N_(
            "The leave date %(date)s is in the future: import the leaver on or after that day."),
            date=checked.leave_date)
    if row.value("career_level"):
        try:
            checked.career_level = parse_level(row.value("career_level"))
        except ValueError:
            row.error("career_level", N_("Unknown career level: %(level)s."),
                      level=row.value("career_level"))
    if row.value("roles"):
        roles, unknown = parse_roles(row.value("roles"))
        for word in unknown:
            row.error("roles", N_("Unknown role: %(role)s."), role=word)
        checked.roles = tuple(sorted(roles)) or None
    if row.value("mentor"):
        checked.mentor = rules.normalise_employee_number(_folded(row.value("mentor")))
    return checked


def _check_against_others(rows: list[tuple[_Row, RosterRow]], directory: _Directory,
                          actor_id: int | None, today: date) -> None:
    """What only the whole file and the database can tell: duplicates, clashes, mentors."""
    in_file: dict[str, RosterRow] = {}
    emails: dict[str, RosterRow] = {}
    for row, checked in rows:
        if not checked.employee_number:
            continue
        first = in_file.setdefault(checked.employee_number, checked)
        if first is not checked:
            row.error("employee_number", N_(
                "Employee number %(number)s appears more than once in the file, first in row "
                "%(first)s."), number=checked.employee_number, first=first.row)
        if checked.email:
            first = emails.setdefault(checked.email, checked)
            owner = directory.emails.get(checked.email)
            if first is not checked:
                row.error("email", N_(
                    "The e-mail address %(email)s appears more than once in the file, first in "
                    "row %(first)s."), email=checked.email, first=first.row)
            elif owner is not None and owner.employee_number != checked.employee_number:
                row.error("email", N_("The e-mail address %(email)s is already taken."),
                          email=checked.email)

    def roles_after(number: str) -> set[str]:
        planned, person = in_file.get(number), directory.users.get(number)
        if planned is not None and planned.roles is not None:
            return set(planned.roles)
        return {r.value for r in person.roles} if person else {Role.AGENT.value}

    def leaves(number: str) -> bool:
        planned, person = in_file.get(number), directory.users.get(number)
        return bool((planned and planned.leave_date) or (person and not person.is_active))

    actor = next((u for u in directory.users.values() if u.id == actor_id), None)
    for row, checked in rows:
        person = directory.users.get(checked.employee_number)
        if person is not None and not person.is_active:
            if checked.leave_date and checked.leave_date != person.leave_date:
                row.error("leave_date", N_(
                    "%(name)s left on %(date)s; an import cannot change a leave date."),
                    name=person.name, date=person.leave_date)
            elif (person.leave_date and not row.has_error("hire_date")
                  and checked.hire_date > person.leave_date):
                row.error("hire_date", N_("The hire date cannot be after the leave date."))
        if person is not None and person is actor:
            if checked.leave_date and person.is_active:
                row.error("leave_date", N_("You cannot deactivate yourself."))
            if (checked.roles is not None and person.has_role(Role.ADMIN)
                    and Role.ADMIN.value not in checked.roles):
                row.error("roles", N_("You cannot take the admin role away from yourself."))
        if checked.mentor is None:
            continue
        if leaves(checked.employee_number):
            checked.mentor = None  # a leaver's mentorship ends; the cell is history
            continue
        mentor_row, mentor = in_file.get(checked.mentor), directory.users.get(checked.mentor)
        if mentor_row is None and mentor is None:
            row.error("mentor", N_("Nobody has the employee number %(number)s."),
                      number=checked.mentor)
        elif checked.mentor == checked.employee_number:
            row.error("mentor", N_("Nobody can be their own mentor."))
        elif Role.MENTOR.value not in roles_after(checked.mentor):
            row.error("mentor", N_("%(name)s does not hold the mentor role."),
                      name=mentor_row.name if mentor_row else mentor.name)
        elif leaves(checked.mentor):
            row.error("mentor", N_("Only active people can take part in a mentorship."))
        elif person is not None:
            current = directory.mentorships.get(person.id)
            if (current is not None and current.mentor.employee_number != checked.mentor
                    and current.started_on > _mentorship_start(checked, today)):
                row.error("mentor", N_("The new mentorship cannot start before the current one."))


def _mentorship_start(row: RosterRow, today: date) -> date:
    return max(row.hire_date, today)


def _today(now: datetime) -> date:
    return now.astimezone(centre_tz()).date()


def plan_roster(data: bytes, filename: str, *, actor_id: int | None,
                now: datetime) -> RosterPlan:
    """Read and check a whole roster without writing anything; raise with every problem found."""
    try:
        table = read_table(data, filename)
    except FileError as error:
        raise RosterImportError([error.as_row_error()]) from error
    errors: list[RowError] = []
    positions = _map_headers(table[0], errors)
    if errors:
        raise RosterImportError(errors)
    headers = {name: table[0][index] for name, index in positions.items()}
    directory = _Directory.load()
    today = _today(now)
    rows: list[tuple[_Row, RosterRow]] = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cells):
            continue  # a blank line between blocks of people
        row = _Row(number, {name: cells[index] if index < len(cells) else ""
                            for name, index in positions.items()}, headers, errors)
        rows.append((row, _check_row(row, directory, today)))
    if not rows:
        raise _file_error(N_("The file has a header row but no people."))
    _check_against_others(rows, directory, actor_id, today)
    if errors:
        raise RosterImportError(sorted(errors, key=lambda e: e.row or 0))
    return RosterPlan(filename=filename, rows=[checked for _row, checked in rows])


# --- applying the plan -------------------------------------------------------------------

def _changes(row: RosterRow) -> dict:
    changes = {"name": row.name, "hire_date": row.hire_date}
    if row.email is not None:
        changes["email"] = row.email
    if row.team_id is not None:
        changes["team_id"] = row.team_id
    if row.career_level is not None:
        changes["career_level"] = row.career_level
    if row.roles is not None:
        changes["roles"] = row.roles
    return changes


def apply_roster(plan: RosterPlan, *, actor_id: int | None, now: datetime,
                 progress: Callable[[int], object] | None = None) -> RosterResult:
    """Carry out a checked plan: people first, then mentors and leavers (who may be new)."""
    today = _today(now)
    people: dict[str, User] = {}
    created: set[str] = set()
    changed: set[str] = set()
    row = None
    try:
        for row in plan.rows:
            person = db.session.scalar(
                select(User).where(User.employee_number == row.employee_number))
            if person is None:
                person = create_user(employee_number=row.employee_number, actor_id=actor_id,
                                     now=now, **_changes(row))
                created.add(row.employee_number)
            elif update_user(person.id, actor_id=actor_id, now=now, **_changes(row)):
                changed.add(row.employee_number)
            people[row.employee_number] = person
            if progress is not None:
                progress(1)
        for row in plan.rows:
            person = people[row.employee_number]
            if row.mentor is not None:
                mentor = people.get(row.mentor) or db.session.scalar(
                    select(User).where(User.employee_number == row.mentor))
                current = current_mentorship(person.id)
                if current is None or current.mentor_id != mentor.id:
                    assign_mentor(person.id, mentor.id, started_on=_mentorship_start(row, today),
                                  actor_id=actor_id, now=now)
                    changed.add(row.employee_number)
            if row.leave_date is not None and person.is_active:
                deactivate_user(person.id, leave_date=row.leave_date, actor_id=actor_id, now=now)
                changed.add(row.employee_number)
    except PeopleError as error:  # the checks should have caught it; report it the same way
        raise RosterImportError([RowError(row.row if row else None, None, None, error.message,
                                          error.params)]) from error
    result = RosterResult(rows=len(plan.rows), created=len(created),
                          updated=len(changed - created))
    result.unchanged = result.rows - result.created - result.updated
    if result.created or result.updated:
        record_audit("roster.import", actor_id=actor_id, now=now,
                     details={"filename": plan.filename, "rows": result.rows,
                              "created": result.created, "updated": result.updated,
                              "unchanged": result.unchanged})
    return result


def import_roster(data: bytes, filename: str, *, actor_id: int | None, now: datetime,
                  progress=None) -> RosterResult:
    """Check a whole roster, then apply it; raise `RosterImportError` having written nothing."""
    plan = plan_roster(data, filename, actor_id=actor_id, now=now)
    return apply_roster(plan, actor_id=actor_id, now=now, progress=progress)
