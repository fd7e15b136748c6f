"""An agent sees their position and gap in both languages; an admin closes a month; the
wallboard renders and refreshes itself."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from app.centre.periods import period_of_date, previous_period

pytestmark = pytest.mark.browser


def test_an_agent_sees_their_position_and_gap_in_both_languages(open_page, sign_in):
    page = open_page(locale="en-US")
    sign_in(page, "1106")
    page.get_by_role("banner").get_by_role("link", name="Leaderboard").click()
    mine = page.get_by_test_id("my-position")
    expect(mine).to_contain_text(re.compile(r"You are number \d+ of \d+"))
    expect(mine).to_contain_text(re.compile(r"(more points to move up a place|First place)"))
    expect(page.get_by_test_id("board").locator("tr.me")).to_have_count(1)
    page.get_by_test_id("lang-zh_Hans").click()
    expect(page.get_by_test_id("my-position")).to_contain_text(re.compile(r"排名第 \d+"))
    expect(page.get_by_test_id("my-position")).to_contain_text(
        re.compile(r"(上升一名|第一名)"))


def test_an_admin_closes_a_month(open_page, sign_in):
    # months before the demo's history are over and not yet closed
    period = date.today().replace(day=1)
    month = period_of_date(period)
    for _ in range(8):
        month = previous_period(month)
    page = open_page(locale="en-US")
    sign_in(page, "9001")
    page.goto(f"/leaderboard/?month={month}")
    expect(page.get_by_test_id("month-status")).to_have_text("Ready to close")
    page.get_by_test_id("close-month").click()
    expect(page.get_by_text(f"{month} is closed")).to_be_visible()
    expect(page.get_by_test_id("month-status")).to_have_text("Closed")


def test_the_wallboard_renders_and_refreshes(open_page, sign_in, browser, live_server):
    page = open_page(locale="en-US")
    sign_in(page, "9001")
    page.goto("/leaderboard/wallboards")
    page.get_by_label("Which screen is it for?").fill("Floor TV")
    page.get_by_role("button", name="Create a link").click()
    link = page.get_by_test_id("wallboard-link").inner_text()
    tv = browser.new_context(locale="en-US").new_page()   # no sign-in on the TV
    tv.goto(link + "?refresh=2")
    expect(tv.get_by_test_id("wall-teams").locator("li")).to_have_count(4)
    expect(tv.get_by_test_id("wall-updated")).to_have_attribute("data-refreshes",
                                                                  re.compile(r"[1-9]"),
                                                                  timeout=10000)
    tv.context.close()
