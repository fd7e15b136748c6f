"""The sign-in form can be completed with the keyboard alone."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.demo.people import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_the_sign_in_form_works_with_tab_and_enter_only(open_page):
    page = open_page()
    page.goto("/login")
    login = page.get_by_label("Employee number or e-mail")

    for _press in range(15):
        page.keyboard.press("Tab")
        if login.evaluate("field => field === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reaches the employee number field")
    page.keyboard.type("1105")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("home-agent")).to_be_visible()
