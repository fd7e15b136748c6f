"""An administrator adds a person through the form; a duplicate employee number is refused."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db

pytestmark = pytest.mark.browser

ADMIN = "9001"


def _count_named(live_app, name: str) -> int:
    with live_app.app_context():
        return db.session.scalar(select(func.count()).select_from(User).where(User.name == name))


def _open_the_new_person_form(page):
    page.get_by_role("banner").get_by_role("link", name="People", exact=True).click()
    page.get_by_role("link", name="Add a person").click()
    expect(page).to_have_url(re.compile(r"/people/new$"))
    return page.get_by_test_id("person-form")


def test_an_admin_adds_a_person_who_can_then_sign_in(open_page, sign_in, live_app):
    page = open_page()
    sign_in(page, ADMIN)
    form = _open_the_new_person_form(page)

    form.get_by_label("Employee number", exact=True).fill("6001")
    form.get_by_label("Name", exact=True).fill("Browser Test Person")
    form.get_by_label("E-mail").fill("browser.person@pinwheel.example")
    form.get_by_label("Hire date").fill("2026-01-05")
    form.get_by_label("Career level").select_option("senior_agent")
    form.get_by_label("Team", exact=True).select_option(label="Service Team C")
    roles = form.get_by_role("group", name="Roles")
    roles.get_by_label("Agent", exact=True).check()
    roles.get_by_label("Mentor", exact=True).check()
    form.get_by_label("Initial password").fill("browser-pass-1")
    form.get_by_test_id("save-person").click()

    expect(page).to_have_url(re.compile(r"/people/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Browser Test Person")
    expect(page.get_by_role("heading", level=1)).to_contain_text("6001")
    assert _count_named(live_app, "Browser Test Person") == 1

    newcomer = open_page()
    sign_in(newcomer, "6001", "browser-pass-1")
    expect(newcomer.get_by_test_id("home-mentor")).to_be_visible()  # mentor home comes first


def test_a_duplicate_employee_number_shows_an_error_and_adds_nobody(open_page, sign_in,
                                                                     live_app):
    page = open_page()
    sign_in(page, ADMIN)
    form = _open_the_new_person_form(page)

    form.get_by_label("Employee number", exact=True).fill("1104")
    form.get_by_label("Name", exact=True).fill("Duplicate Person")
    form.get_by_label("Hire date").fill("2026-01-05")
    form.get_by_test_id("save-person").click()

    expect(page.get_by_role("status")).to_contain_text("1104 is already taken")
    expect(page.get_by_test_id("person-form")).to_be_visible()
    expect(page.get_by_test_id("person-form").get_by_label("Name", exact=True)).to_have_value(
        "Duplicate Person")
    assert _count_named(live_app, "Duplicate Person") == 0
