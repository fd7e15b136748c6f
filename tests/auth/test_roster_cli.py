"""`flask users import FILE`: a summary on success; one line per problem and no trace on error."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.auth.roles import Role

ZH_HEADER = "工号,姓名,邮箱,班组,入职日期,离职日期,职级,角色,师傅工号"


def snapshot(db) -> dict:
    return {table.name: sorted(db.session.execute(table.select()).all(), key=repr)
            for table in db.metadata.sorted_tables}


def write(tmp_path, *lines: str, name: str = "roster.csv", encoding: str = "utf-8-sig"):
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


@pytest.fixture()
def centre(make_team, make_user):
    make_team("服务一班")
    return make_user(Role.AGENT, Role.MENTOR, employee_number="1101", hire_date=date(2021, 4, 1))


def test_importing_a_roster_prints_a_summary_and_commits(runner, db, centre, tmp_path):
    path = write(tmp_path, ZH_HEADER, "00123,李娜,,服务一班,2025-11-03,,客服代表,客服,1101",
                 "00124,张伟,,服务一班,2025-11-03,,,,")

    result = runner.invoke(args=["users", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert "Rows: 2, created: 2, updated: 0, unchanged: 0." in result.output
    db.session.expire_all()
    numbers = set(db.session.scalars(select(User.employee_number)))
    assert {"00123", "00124"} <= numbers

    again = runner.invoke(args=["users", "import", str(path)])
    assert again.exit_code == 0
    assert "Rows: 2, created: 0, updated: 0, unchanged: 2." in again.output


def test_a_bad_roster_lists_each_problem_and_writes_nothing(runner, db, centre, tmp_path):
    path = write(tmp_path, ZH_HEADER, "00123,李娜,,服务一班,2025-11-03,,,,",
                 "00124,张伟,,服务九班,2025-02-30,,,,")
    before = snapshot(db)

    result = runner.invoke(args=["users", "import", str(path)])

    assert result.exit_code != 0
    assert "row 3, column 班组, value 服务九班: There is no team called 服务九班" in result.stderr
    assert ("row 3, column 入职日期, value 2025-02-30: 2025-02-30 is not a date: write it as "
            "YYYY-MM-DD.") in result.stderr
    assert "Nothing was imported: 2 problem(s) found." in result.output
    db.session.expire_all()
    assert snapshot(db) == before


def test_a_file_that_is_not_a_spreadsheet_exits_with_an_error(runner, db, centre, tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    before = snapshot(db)

    result = runner.invoke(args=["users", "import", str(path)])

    assert result.exit_code != 0
    assert "not a spreadsheet" in result.stderr
    assert snapshot(db) == before
