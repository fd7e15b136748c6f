"""An agent opens the windmill in both languages; a team lead gives a recognition."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.incentives.models import PointEntry

pytestmark = pytest.mark.browser

AGENT = "1105"
LEAD = "2100"


def test_an_agent_sees_the_chart_and_the_explained_entries_in_both_languages(
        open_page, sign_in):
    page = open_page(locale="en-US")
    sign_in(page, AGENT)
    page.get_by_role("banner").get_by_role("link", name="My windmill").click()
    expect(page.get_by_role("heading", name="My windmill")).to_be_visible()
    expect(page.locator("#blades-chart")).to_be_visible()
    # Chart.js drew the radar: the library attached a chart to the canvas
    assert page.evaluate("Chart.getChart('blades-chart').config.type") == "radar"
    entries = page.get_by_test_id("entries")
    expect(entries.get_by_role("row").nth(1)).to_be_visible()
    expect(entries).to_contain_text("KBI checklist completed")
    expect(entries).to_contain_text("Automatic")

    page.get_by_test_id("lang-zh_Hans").click()
    expect(page.get_by_role("heading", name="我的激励风车")).to_be_visible()
    expect(page.get_by_test_id("entries")).to_contain_text("关键行为检查表完成")
    expect(page.locator("#blades-chart")).to_be_visible()


def test_a_team_lead_gives_a_recognition_through_the_form(open_page, sign_in, live_app):
    page = open_page(locale="en-US")
    sign_in(page, LEAD)
    page.goto("/windmill/")
    page.get_by_role("link", name="Give a recognition").first.click()
    form = page.get_by_test_id("recognition-form")
    agent_label = form.get_by_label("Agent").locator("option").nth(2).inner_text()
    form.get_by_label("Agent").select_option(label=agent_label)
    form.get_by_label("Kind").select_option("honour")
    form.get_by_label("Points").fill("35")
    form.get_by_label("What it is for").fill("Handled a power-cut complaint with care")
    form.get_by_role("button", name="Give").click()
    expect(page.get_by_text("The recognition is given.")).to_be_visible()
    with live_app.app_context():
        entry = db.session.scalar(select(PointEntry).where(
            PointEntry.comment == "Handled a power-cut complaint with care"))
        assert entry is not None and entry.points == 35 and entry.blade == "honour"
