"""Exports safe against formula injection, the JSON board, and the wallboard's links."""
import io
from datetime import UTC, date, datetime

from openpyxl import load_workbook
from sqlalchemy import select

from app.incentives.services import Award, award, install_defaults
from app.leaderboard.exports import safe_cell, to_csv
from app.leaderboard.models import WallboardToken


def test_cells_that_look_like_formulas_become_text():
    assert safe_cell('=HYPERLINK("http://x")') == "'=HYPERLINK(\"http://x\")"
    for start in ("+1", "-1", "@SUM(A1)", "\tx"):
        assert safe_cell(start).startswith("'")
    assert safe_cell(42) == 42 and safe_cell("王芳") == "王芳"
    assert to_csv(["a"], [["=1+1"]]).decode("utf-8-sig").splitlines()[1] == "'=1+1"


def _world(db, make_user, make_team, now):
    install_defaults(now=now)
    team = make_team("=cmd|' /C calc'!A0")
    evil = make_user("agent", team=team, name="=2+5", hire_date=date(2024, 1, 1))
    award(Award("career.promotion", evil.id, "p", "promotion",
                occurred_at=datetime.now(UTC)), now=datetime.now(UTC))
    db.session.commit()
    return team, evil


def test_the_board_exports_as_csv_and_xlsx_with_escaped_cells(client, login_as, db, make_user,
                                                              make_team, now):
    _world(db, make_user, make_team, now)
    login_as("admin")
    text = client.get("/leaderboard/export.csv").data.decode("utf-8-sig")
    assert "'=2+5" in text and "'=cmd|' /C calc'!A0" in text and "\n=2+5" not in text
    xlsx = client.get("/leaderboard/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "'=2+5" in values and 300 in values
    assert client.get("/leaderboard/export.pdf").status_code == 404


def test_the_board_as_json(client, login_as, db, make_user, make_team, now):
    _world(db, make_user, make_team, now)
    me = login_as("agent")
    data = client.get("/leaderboard/board.json").get_json()
    assert data["board"] == "individual" and data["rows"][0]["points"] == 300
    assert data["me"]["position"] == 2 and data["me"]["gap"] == 301
    assert me.name in {r["name"] for r in data["rows"]}


def test_a_wallboard_link_works_until_revoked_and_shows_only_the_board(
        client, login_as, db, make_user, make_team, now, app):
    team, evil = _world(db, make_user, make_team, now)
    login_as("admin")
    page = client.post("/leaderboard/wallboards", data={"label": "Floor 3 TV"})
    link = page.get_data(as_text=True).split('data-testid="wallboard-link">')[1].split("<")[0]
    path = link.split("localhost", 1)[1]
    anonymous = app.test_client()
    wall = anonymous.get(path)
    assert wall.status_code == 200
    html = wall.get_data(as_text=True)
    assert team.name.replace("'", "&#39;") in html
    data = anonymous.get(path + ".json").get_json()
    assert set(data) == {"period", "teams", "honours"}
    assert set(data["teams"][0]) == {"place", "name", "points"}
    assert evil.employee_number not in html and "/people/" not in html
    token = db.session.scalar(select(WallboardToken))
    assert token.label == "Floor 3 TV" and path.split("/")[-1] not in token.token_hash
    # an honour on the wall: the first sign-off badge
    award(Award("sign_off.received", evil.id, "so", "sign_off"), now=datetime.now(UTC))
    db.session.commit()
    assert "First Sign-off" in anonymous.get(path).get_data(as_text=True)
    assert evil.name in anonymous.get(path + ".json").get_json()["honours"][0]["name"]
    app.config["LEADERBOARD_PSEUDONYMISE"] = True
    try:
        honours = anonymous.get(path + ".json").get_json()["honours"]
        assert honours and evil.name not in honours[0]["name"]
    finally:
        app.config["LEADERBOARD_PSEUDONYMISE"] = False
    client.post(f"/leaderboard/wallboards/{token.id}/revoke")
    assert anonymous.get(path).status_code == 404
    assert anonymous.get(path + ".json").status_code == 404
