"""The board page is kept whole per viewer: what may change shows at once all the same."""
import re
from datetime import UTC, date, datetime

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.extensions import cache
from app.incentives.services import Award, award, install_defaults
from app.notifications.services import notify

PAGE = "/leaderboard/?month={month}&board=individual&blade=all"


@pytest.fixture()
def centre(db, make_user, make_team, now):
    install_defaults(now=now)
    red = make_team("Red")
    people = {"ann": make_user("agent", team=red, name="Ann", hire_date=date(2024, 1, 1)),
              "cy": make_user("agent", team=red, name="Cy", hire_date=date(2025, 5, 5))}
    db.session.commit()
    return {"red": red, **people}


def month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def give(user, key: str) -> None:
    award(Award("career.promotion", user.id, key, "test", occurred_at=datetime.now(UTC)),
          now=datetime.now(UTC))


def cached_pages() -> list[str]:
    return [key for key in cache.cache._cache if "leaderboard-page/" in key]


def test_the_page_is_kept_and_a_new_award_shows_on_the_next_request(client, login_as, centre,
                                                                     db):
    me = login_as("agent", team=centre["red"], name="Me")
    url = PAGE.format(month=month())
    first = client.get(url).get_data(as_text=True)
    assert "You are number 3 of 3, with 0 points." in first
    assert len(cached_pages()) == 1
    assert client.get(url).get_data(as_text=True) == first       # the kept page
    give(me, "m1")
    db.session.commit()
    assert "You are number 1 of 3, with 300 points." in client.get(url).get_data(as_text=True)


def test_a_waiting_message_is_shown_not_swallowed_by_the_kept_page(client, login_as, centre):
    login_as("agent", team=centre["red"])
    url = PAGE.format(month=month())
    client.get(url)
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "A message waiting to be read")]
    page = client.get(url).get_data(as_text=True)
    assert "A message waiting to be read" in page
    # shown once: neither kept with the page nor shown again
    assert "A message waiting to be read" not in client.get(url).get_data(as_text=True)


def test_one_viewer_never_gets_anothers_page(app, centre, make_user):
    url = PAGE.format(month=month())
    pages = {}
    for name in ("Viewer One", "Viewer Two"):
        viewer = make_user("agent", team=centre["red"], name=name)
        client = app.test_client()
        client.post("/login", data={"login": viewer.employee_number,
                                    "password": "correct-horse-1"})
        pages[name] = client.get(url).get_data(as_text=True)
    assert 'data-testid="user-menu">Viewer One<' in pages["Viewer One"]
    assert 'data-testid="user-menu">Viewer Two<' in pages["Viewer Two"]
    assert "Viewer One" not in pages["Viewer Two"].split('class="topbar"')[1].split("</header>")[0]


def _tokens(page: str) -> set[str]:
    return set(re.findall(r'name="csrf_token" value="([^"]+)"', page))


def test_a_kept_page_carries_the_csrf_token_of_the_session_that_shows_it(app, centre,
                                                                         make_user):
    """The same person signed in twice (two sessions): each session's page holds a token
    its own session accepts."""
    viewer = make_user("agent", team=centre["red"], name="Twice")
    url = PAGE.format(month=month())
    clients = [app.test_client(), app.test_client()]
    for client in clients:
        client.post("/login", data={"login": viewer.employee_number,
                                    "password": "correct-horse-1"})
        client.get(url)
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for client in clients:
            page = client.get(url).get_data(as_text=True)
            with client.session_transaction() as session:
                raw = session["csrf_token"]
            tokens = _tokens(page)
            assert tokens and {serializer.loads(token) for token in tokens} == {raw}
            response = client.post("/language", data={"locale": "en", "next": url,
                                                      "csrf_token": tokens.pop()})
            assert response.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_switching_the_language_shows_the_page_in_the_other_language(client, login_as,
                                                                       centre):
    login_as("agent", team=centre["red"])
    url = PAGE.format(month=month())
    assert "<h1>Leaderboard" in client.get(url).get_data(as_text=True)
    client.post("/language", data={"locale": "zh_Hans", "next": url})
    assert "<h1>排行榜" in client.get(url).get_data(as_text=True)
    client.post("/language", data={"locale": "en", "next": url})
    assert "<h1>Leaderboard" in client.get(url).get_data(as_text=True)


def test_a_new_notification_shows_in_the_kept_pages_inbox_badge(client, login_as, centre, db,
                                                                 now):
    me = login_as("agent", team=centre["red"])
    url = PAGE.format(month=month())
    assert 'class="badge"' not in client.get(url).get_data(as_text=True)
    notify(me.id, "Hello", now=now)
    db.session.commit()
    assert 'class="badge"' in client.get(url).get_data(as_text=True)


def test_a_closed_month_shows_closed_at_once(client, login_as, centre, db):
    login_as("admin")
    url = PAGE.format(month="2026-02")
    assert 'data-testid="close-month"' in client.get(url).get_data(as_text=True)
    response = client.post("/leaderboard/close/2026-02", follow_redirects=True)
    assert "2026-02 is closed" in response.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="close-month"' not in page and "the stored snapshot" in page
