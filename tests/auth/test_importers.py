"""The roster import from HR, read from in-memory files: encodings, XLSX, headers and aliases,
idempotent re-imports, leavers, and bad files that leave no trace."""
from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth.importers import (
    HEADERS,
    ROSTER_COLUMNS,
    RosterImportError,
    _header_key,
    import_roster,
    parse_date,
)
from app.auth.models import Mentorship, Team, User
from app.auth.roles import CareerLevel, Role
from app.auth.services import assign_mentor, current_mentorship

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
ZH_HEADER = "工号,姓名,邮箱,班组,入职日期,离职日期,职级,角色,师傅工号"
EN_HEADER = "employee_number,name,email,team,hire_date,leave_date,career_level,roles,mentor"


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(*rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def snapshot(db) -> dict:
    """Every row of every table, as the session sees it (flushed changes included)."""
    return {table.name: sorted(db.session.execute(table.select()).all(), key=repr)
            for table in db.metadata.sorted_tables}


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def person(db, number: str) -> User:
    return db.session.scalar(select(User).where(User.employee_number == number))


@pytest.fixture()
def centre(db, make_team, make_user):
    """The demo centre's four teams, an admin and a mentor (1101) in 服务一班."""
    teams = {name: make_team(name) for name in ("服务一班", "服务二班", "Service Team C",
                                                "Night Shift")}
    admin = make_user(Role.ADMIN, employee_number="9001", name="周海燕")
    mentor = make_user(Role.AGENT, Role.MENTOR, employee_number="1101", name="王芳",
                       team=teams["服务一班"], hire_date=date(2021, 4, 1),
                       level=CareerLevel.SENIOR_AGENT.value)
    return {"teams": teams, "admin": admin, "mentor": mentor}


@pytest.fixture()
def run(db, centre, now):
    """Import as the centre's admin and commit, as the view does."""
    def run_import(data: bytes, filename: str = "roster.csv", **kwargs):
        result = import_roster(data, filename, actor_id=centre["admin"].id, now=now, **kwargs)
        db.session.commit()
        return result

    return run_import


@pytest.fixture()
def refused(db, centre, now):
    """Import a bad file: returns the errors, having checked that nothing was written."""
    def refuse(data: bytes, filename: str = "roster.csv"):
        before = snapshot(db)
        with pytest.raises(RosterImportError) as caught:
            import_roster(data, filename, actor_id=centre["admin"].id, now=now)
        assert snapshot(db) == before
        db.session.rollback()
        assert snapshot(db) == before
        return caught.value.errors

    return refuse


CHINESE_ROSTER = (
    ZH_HEADER,
    "00123,李娜,Li.Na@Example.com,服务一班,2026-03-02,,客服代表,客服,1101",
    "00124,张伟,,服务二班,2026年3月2日,,资深客服代表,\"客服、师傅\",",
    "00125,陈静,,service team c ,2026/03/09,,客服代表,坐席,00124",
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_chinese_roster_reads_the_same_in_every_encoding(db, centre, run, encoding):
    result = run(csv_bytes(*CHINESE_ROSTER, encoding=encoding))

    assert (result.rows, result.created, result.updated, result.unchanged) == (3, 3, 0, 0)
    li = person(db, "00123")
    assert li.name == "李娜" and li.email == "li.na@example.com"
    assert li.team.name == "服务一班" and li.hire_date == date(2026, 3, 2)
    assert li.roles == {Role.AGENT} and li.password_hash is None
    assert current_mentorship(li.id).mentor_id == centre["mentor"].id
    zhang = person(db, "00124")
    assert zhang.career_level == CareerLevel.SENIOR_AGENT.value
    assert zhang.roles == {Role.AGENT, Role.MENTOR}
    chen = person(db, "00125")
    assert chen.team.name == "Service Team C"
    mentorship = current_mentorship(chen.id)
    assert mentorship.mentor_id == zhang.id and mentorship.started_on == date(2026, 3, 15)
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster.import"))
    assert audit.actor_id == centre["admin"].id
    assert audit.details == {"filename": "roster.csv", "rows": 3, "created": 3, "updated": 0,
                             "unchanged": 0}


@pytest.mark.parametrize("filename", ["roster.xlsx", "upload"])
def test_an_xlsx_roster_with_real_date_cells(db, centre, run, filename):
    data = xlsx_bytes(
        ["工号", "姓名", "班组", "入职日期", "离职日期", "角色", "备注"],
        ["00200", "刘洋", "Night Shift", datetime(2026, 3, 2), None, "客服", "夜班"],
        [201, "Kevin Ho", "Night Shift", date(2024, 1, 8), date(2026, 2, 28), "agent", None],
        [None, None, None, None, None, None, None],
        ["00202", "何雪", "服务二班", "2026.3.9", None, None, None],
    )
    result = run(data, filename)

    assert (result.rows, result.created) == (3, 3)
    assert person(db, "00200").hire_date == date(2026, 3, 2)
    leaver = person(db, "201")
    assert leaver.hire_date == date(2024, 1, 8) and leaver.leave_date == date(2026, 2, 28)
    assert not leaver.is_active
    assert person(db, "00202").hire_date == date(2026, 3, 9)
    assert person(db, "00202").roles == {Role.AGENT}


def test_english_headers_and_aliases_are_recognised(db, centre, run):
    data = csv_bytes(
        "Employee No,Full Name,E-mail,Team Name,Start Date,Level,Role,Mentor No,Notes",
        "A1024,Emma Walker,emma@example.com,NIGHT SHIFT,2026-03-02,agent,\"agent, mentor\",,x",
        "a1025 ,Liam Chen,,Night Shift,2026-03-02,Senior Agent,agent;qa_analyst,A1024,",
    )
    result = run(data)

    assert result.created == 2
    emma, liam = person(db, "A1024"), person(db, "A1025")
    assert emma.roles == {Role.AGENT, Role.MENTOR} and emma.team.name == "Night Shift"
    assert liam.career_level == CareerLevel.SENIOR_AGENT.value
    assert liam.roles == {Role.AGENT, Role.QA_ANALYST}
    assert current_mentorship(liam.id).mentor_id == emma.id


@pytest.mark.parametrize("header", [
    "员工编号,姓名,电子邮箱,团队,入职时间,角色,职级,导师工号,离职日期",
    "employee_id,姓名,邮箱,班组,入职日期,角色,职级,师傅,离职日期",
    "Employee Number,Name,Email,班组,Hire Date,Roles,职级,师傅工号,Leave Date",
])
def test_chinese_and_english_aliases(db, centre, run, header):
    data = csv_bytes(header, "3001,赵敏,zhao@example.com,服务一班,2026-03-02,客服,班长,1101,")
    assert run(data).created == 1
    zhao = person(db, "3001")
    assert zhao.email == "zhao@example.com" and zhao.team.name == "服务一班"
    assert zhao.career_level == CareerLevel.TEAM_LEAD.value
    assert current_mentorship(zhao.id).mentor.employee_number == "1101"


def test_every_alias_names_one_column():
    for column in ROSTER_COLUMNS:
        for header in (column.name, column.chinese, *column.aliases):
            assert HEADERS[_header_key(header)] is column, header


@pytest.mark.parametrize("text", ["2026-03-01", "2026/3/1", "2026.03.01", "2026年3月1日",
                                  "2026 年 3 月 1 日", "2026-03-01 00:00:00", " 2026/03/01 ",
                                  "２０２６－０３－０１"])
def test_dates_in_every_form_hr_writes_them(text):
    assert parse_date(text) == date(2026, 3, 1)


@pytest.mark.parametrize("text", ["2026-02-30", "01/03/2026", "2026-3", "next Monday",
                                  "0226-03-01", "2026-03/01"])
def test_what_is_not_a_date(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_reimporting_the_same_file_adds_nothing(db, centre, run):
    data = csv_bytes(*CHINESE_ROSTER,
                     "00126,孙丽,,Night Shift,2024-05-06,2026-01-31,客服代表,客服,")
    first = run(data)
    assert (first.created, first.updated) == (4, 0)
    before = snapshot(db)
    counts = [count(db, model) for model in (User, AuditEvent, Mentorship)]

    again = run(data)

    assert (again.rows, again.created, again.updated, again.unchanged) == (4, 0, 0, 4)
    assert [count(db, model) for model in (User, AuditEvent, Mentorship)] == counts
    assert snapshot(db) == before


def test_a_changed_row_updates_only_that_person_and_is_audited(db, centre, run):
    run(csv_bytes(*CHINESE_ROSTER))
    events = count(db, AuditEvent)
    changed = CHINESE_ROSTER[:2] + (
        "00124,张伟,zhang.wei@example.com,Night Shift,2026-03-02,,资深客服代表,\"客服、师傅\",",
    ) + CHINESE_ROSTER[3:]
    untouched = {n: person(db, n).updated_at for n in ("00123", "00125")}

    result = run(csv_bytes(*changed))

    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    zhang = person(db, "00124")
    assert zhang.email == "zhang.wei@example.com" and zhang.team.name == "Night Shift"
    assert {n: person(db, n).updated_at for n in ("00123", "00125")} == untouched
    new = db.session.scalars(select(AuditEvent).where(AuditEvent.id > events)
                             .order_by(AuditEvent.id)).all()
    assert [e.action for e in new] == ["user.update", "roster.import"]
    assert new[0].subject_id == zhang.id
    assert set(new[0].details) == {"email", "team_id"}
    assert new[1].details["updated"] == 1


def test_an_absent_or_empty_optional_value_leaves_the_person_alone(db, centre, make_user, run):
    agent = make_user(Role.AGENT, Role.MENTOR, employee_number="4001", email="a@example.com",
                      team=centre["teams"]["服务二班"], level=CareerLevel.SENIOR_AGENT.value,
                      hire_date=date(2024, 2, 1))
    result = run(csv_bytes("工号,姓名,入职日期,班组,邮箱", "4001,新名字,2024-02-01,,"))

    assert result.updated == 1
    db.session.refresh(agent)
    assert agent.name == "新名字" and agent.email == "a@example.com"
    assert agent.team.name == "服务二班" and agent.roles == {Role.AGENT, Role.MENTOR}
    assert agent.career_level == CareerLevel.SENIOR_AGENT.value


def test_leavers_are_deactivated_and_stay_in_history(db, centre, make_user, run, now):
    apprentice = make_user(Role.AGENT, employee_number="4100", hire_date=date(2025, 9, 1))
    assign_mentor(apprentice.id, centre["mentor"].id, started_on=date(2025, 9, 1),
                  actor_id=None, now=now)
    db.session.commit()
    data = csv_bytes(ZH_HEADER, "4100,离职者,,,2025-09-01,2026-02-28,,,1101")

    result = run(data)

    assert (result.updated, result.unchanged) == (1, 0)
    db.session.refresh(apprentice)
    assert not apprentice.is_active and apprentice.leave_date == date(2026, 2, 28)
    mentorship = db.session.scalar(select(Mentorship).where(
        Mentorship.apprentice_id == apprentice.id))
    assert mentorship.ended_on == date(2026, 2, 28)
    assert person(db, "4100") is not None
    assert run(data).unchanged == 1


def test_a_new_mentor_ends_the_current_mentorship_today(db, centre, make_user, run, now):
    other = make_user(Role.AGENT, Role.MENTOR, employee_number="1102")
    apprentice = make_user(Role.AGENT, employee_number="4200", hire_date=date(2026, 1, 5))
    assign_mentor(apprentice.id, centre["mentor"].id, started_on=date(2026, 1, 5),
                  actor_id=None, now=now)
    db.session.commit()

    result = run(csv_bytes(ZH_HEADER, "4200,Person,,,2026-01-05,,,,1102"))

    assert result.updated == 1
    history = db.session.scalars(select(Mentorship).where(
        Mentorship.apprentice_id == apprentice.id).order_by(Mentorship.id)).all()
    assert [(m.mentor_id, m.started_on, m.ended_on) for m in history] == [
        (centre["mentor"].id, date(2026, 1, 5), date(2026, 3, 15)),
        (other.id, date(2026, 3, 15), None),
    ]


def test_progress_is_reported_for_every_row(db, centre, run):
    seen = []
    run(csv_bytes(*CHINESE_ROSTER), progress=seen.append)
    assert sum(seen) == 3


def test_the_examples_in_the_docs_import_cleanly_and_say_the_same(db, centre, run):
    english = run((EXAMPLES / "roster.csv").read_bytes(), "roster.csv")
    assert (english.rows, english.created) == (5, 5)
    assert not person(db, "05005").is_active
    assert current_mentorship(person(db, "05002").id).mentor.employee_number == "05004"

    chinese = run((EXAMPLES / "roster-zh.csv").read_bytes(), "roster-zh.csv")
    assert (chinese.rows, chinese.unchanged) == (5, 5)


# --- files that are refused whole ----------------------------------------------------------

def only(errors):
    assert len(errors) == 1, [(e.row, e.column, e.english()) for e in errors]
    return errors[0]


def test_a_missing_required_column_is_named(refused):
    error = only(refused(csv_bytes("工号,姓名,班组", "5001,李雷,服务一班")))
    assert (error.row, error.column) == (1, "hire_date")
    assert "入职日期" in error.english() and "missing" in error.english()


def test_a_duplicate_employee_number_is_refused(refused):
    error = only(refused(csv_bytes(ZH_HEADER, "5001,李雷,,,2026-03-02,,,,",
                                   "5002,韩梅梅,,,2026-03-02,,,,", "5001,李雷,,,2026-03-02,,,,")))
    assert (error.row, error.column, error.value) == (4, "工号", "5001")
    assert "more than once" in error.english() and "row 2" in error.english()


def test_an_unknown_team_is_refused(refused):
    error = only(refused(csv_bytes(ZH_HEADER, "5001,李雷,,服务九班,2026-03-02,,,,")))
    assert (error.row, error.column, error.value) == (2, "班组", "服务九班")
    assert "no team called 服务九班" in error.english()


@pytest.mark.parametrize("value", ["2026-02-30", "03/02/2026", "soon"])
def test_a_bad_date_is_refused_with_its_value(refused, value):
    error = only(refused(csv_bytes(EN_HEADER, f"5001,Li Lei,,,{value},,,,")))
    assert (error.row, error.column, error.value) == (2, "hire_date", value)
    assert error.english() == f"{value} is not a date: write it as YYYY-MM-DD."


@pytest.mark.parametrize("data", [b"", b"   \r\n", b"\xef\xbb\xbf", xlsx_bytes()])
def test_an_empty_file_is_refused(refused, data):
    error = only(refused(data, "roster.xlsx" if data.startswith(b"PK") else "roster.csv"))
    assert error.row is None and error.english() == "The file is empty."


def test_a_header_without_rows_is_refused(refused):
    error = only(refused(csv_bytes(ZH_HEADER, ",,,,,,,,")))
    assert error.english() == "The file has a header row but no people."


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.parametrize("data, filename", [
    (PNG, "roster.csv"), (PDF, "roster.pdf"), (PDF, "roster.xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4, "roster.xls"),
    (b"PK\x03\x04" + b"\x00" * 64, "roster.xlsx"),
])
def test_what_is_not_a_spreadsheet_is_refused(refused, data, filename):
    error = only(refused(data, filename))
    assert error.row is None and "not a spreadsheet" in error.english()


def test_a_file_of_other_columns_is_refused_with_one_error(refused):
    error = only(refused(csv_bytes("a,b,c", "1,2,3")))
    assert error.row == 1 and "none of the roster's column names" in error.english()


def test_an_unknown_role_is_refused(refused):
    error = only(refused(csv_bytes(ZH_HEADER, '5001,李雷,,,2026-03-02,,,"客服、老板",')))
    assert (error.row, error.column) == (2, "角色")
    assert error.english() == "Unknown role: 老板."


def test_an_unknown_career_level_is_refused(refused):
    error = only(refused(csv_bytes(ZH_HEADER, "5001,李雷,,,2026-03-02,,总经理,,")))
    assert (error.row, error.column, error.english()) == (2, "职级",
                                                          "Unknown career level: 总经理.")


def test_an_unknown_mentor_is_refused(refused):
    error = only(refused(csv_bytes(ZH_HEADER, "5001,李雷,,,2026-03-02,,,,7777")))
    assert (error.row, error.column, error.value) == (2, "师傅工号", "7777")
    assert error.english() == "Nobody has the employee number 7777."


def test_a_mentor_without_the_mentor_role_is_refused(refused):
    error = only(refused(csv_bytes(ZH_HEADER, "5001,李雷,,,2026-03-02,,,,",
                                   "5002,韩梅梅,,,2026-03-02,,,,5001")))
    assert (error.row, error.column) == (3, "师傅工号")
    assert error.english() == "李雷 does not hold the mentor role."


def test_a_mentor_who_loses_the_mentor_role_in_the_file_is_refused(refused):
    error = only(refused(csv_bytes(ZH_HEADER, "1101,王芳,,,2021-04-01,,,客服,",
                                   "5002,韩梅梅,,,2026-03-02,,,,1101")))
    assert (error.row, error.english()) == (3, "王芳 does not hold the mentor role.")


def test_nobody_mentors_themselves(refused):
    error = only(refused(csv_bytes(ZH_HEADER, '5001,李雷,,,2026-03-02,,,"客服,师傅",5001')))
    assert (error.row, error.english()) == (2, "Nobody can be their own mentor.")


def test_a_leave_date_before_the_hire_date_is_refused(refused):
    error = only(refused(csv_bytes(ZH_HEADER, "5001,李雷,,,2026-03-02,2026-03-01,,,")))
    assert (error.row, error.column, error.value) == (2, "离职日期", "2026-03-01")


def test_a_leave_date_in_the_future_is_refused(refused):
    error = only(refused(csv_bytes(ZH_HEADER, "5001,李雷,,,2026-03-02,2026-04-30,,,")))
    assert (error.row, error.column) == (2, "离职日期")
    assert "in the future" in error.english()


def test_duplicate_and_taken_emails_are_refused(refused, make_user):
    make_user(Role.AGENT, email="taken@example.com")
    errors = refused(csv_bytes(ZH_HEADER, "5001,李雷,a@example.com,,2026-03-02,,,,",
                               "5002,韩梅梅,A@example.com,,2026-03-02,,,,",
                               "5003,张三,taken@example.com,,2026-03-02,,,,",
                               "5004,李四,not-an-address,,2026-03-02,,,,"))
    assert [(e.row, e.column, e.english()) for e in errors] == [
        (3, "邮箱", ("The e-mail address a@example.com appears more than once in the file, "
                   "first in row 2.")),
        (4, "邮箱", "The e-mail address taken@example.com is already taken."),
        (5, "邮箱", "not-an-address is not an e-mail address."),
    ]


def test_an_admin_cannot_deactivate_themselves_or_drop_their_admin_role(refused):
    errors = refused(csv_bytes(ZH_HEADER, "9001,周海燕,,,2025-06-01,2026-03-01,,客服,"))
    assert [(e.column, e.english()) for e in errors] == [
        ("离职日期", "You cannot deactivate yourself."),
        ("角色", "You cannot take the admin role away from yourself."),
    ]


def test_every_problem_is_listed_at_once_in_row_order(refused):
    errors = refused(csv_bytes(
        ZH_HEADER,
        "5001,李雷,,服务九班,2026-03-02,,,,",
        ",韩梅梅,,,2026-03-02,,,,",
        "5003,,,,,,,,",
        "5004,张三,,,2026-13-01,,,保安,9999",
    ))
    assert [(e.row, e.column) for e in errors] == [
        (2, "班组"), (3, "工号"), (4, "姓名"), (4, "入职日期"), (5, "入职日期"), (5, "角色"),
        (5, "师傅工号"),
    ]


def test_a_row_longer_than_the_header_is_refused(refused):
    error = only(refused(csv_bytes("工号,姓名,入职日期", "5001,李雷,2026-03-02",
                                   "5002,韩梅梅,2026-03-02,extra")))
    assert error.row == 3 and "more cells" in error.english()


def test_the_database_is_untouched_even_when_rows_before_a_bad_one_are_good(db, refused):
    users = count(db, User)
    refused(csv_bytes(ZH_HEADER, *CHINESE_ROSTER[1:], "5009,坏行,,,not a date,,,,"))
    assert count(db, User) == users and count(db, Team) == 4
