"""The roster import page: an admin uploads a file and sees the counts or the problems."""
from __future__ import annotations

import io

from app.auth.roles import Role

ZH_HEADER = "工号,姓名,邮箱,班组,入职日期,离职日期,职级,角色,师傅工号"


def snapshot(db) -> dict:
    return {table.name: sorted(db.session.execute(table.select()).all(), key=repr)
            for table in db.metadata.sorted_tables}


def upload(client, *lines: str, filename: str = "roster.csv"):
    data = ("\n".join(lines) + "\n").encode("gb18030")
    return client.post("/people/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_the_page_lists_the_columns(client, login_as):
    login_as(Role.ADMIN)
    page = client.get("/people/import")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "employee_number" in text and "师傅工号" in text


def test_an_admin_imports_a_roster_and_sees_the_counts(client, db, login_as, make_team):
    login_as(Role.ADMIN)
    make_team("服务一班")
    response = upload(client, ZH_HEADER, "00123,李娜,,服务一班,2025-11-03,,,,",
                      "00124,张伟,,服务一班,2025-11-03,,,,")

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'data-testid="roster-result"' in text and 'data-testid="roster-errors"' not in text
    assert "Rows read: 2 · added: 2 · changed: 0 · unchanged: 0" in text

    again = upload(client, ZH_HEADER, "00123,李娜,,服务一班,2025-11-03,,,,",
                   "00124,张伟,,服务一班,2025-11-03,,,,")
    assert "Rows read: 2 · added: 0 · changed: 0 · unchanged: 2" in again.get_data(as_text=True)


def test_a_bad_roster_shows_the_problems_and_changes_nothing(client, db, login_as, make_team):
    login_as(Role.ADMIN)
    make_team("服务一班")
    before = snapshot(db)

    response = upload(client, ZH_HEADER, "00123,李娜,,服务一班,2025-11-03,,,,",
                      "00124,张伟,,服务九班,2025-11-03,,,,")

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'data-testid="roster-errors"' in text and 'data-testid="roster-result"' not in text
    table = text.split('data-testid="roster-errors"')[1]
    assert "<td>3</td><td>班组</td><td>服务九班</td>" in table
    db.session.expire_all()
    assert snapshot(db) == before


def test_an_agent_may_not_import_a_roster(client, db, login_as):
    login_as(Role.AGENT)
    before = snapshot(db)
    assert client.get("/people/import").status_code == 403
    response = upload(client, ZH_HEADER, "00123,李娜,,,2025-11-03,,,,")
    assert response.status_code == 403
    assert snapshot(db) == before
