"""An agent signs in, switches the language and sees the home page in both; the choice sticks."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

AGENT = "1104"


def test_an_agent_sees_the_home_page_in_both_languages_and_the_choice_sticks(
        open_page, sign_in, sign_out):
    page = open_page(locale="en-US")
    sign_in(page, AGENT)
    html, nav = page.locator("html"), page.get_by_role("banner").get_by_role("navigation")
    expect(page.get_by_test_id("home-agent")).to_be_visible()
    expect(html).to_have_attribute("lang", "en")
    expect(nav.get_by_role("link", name="Training", exact=True)).to_be_visible()

    page.get_by_test_id("lang-zh_Hans").click()
    expect(html).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_test_id("home-agent")).to_be_visible()
    expect(page.get_by_test_id("lang-zh_Hans")).to_have_attribute("aria-pressed", "true")
    expect(nav.get_by_role("link", name="培训", exact=True)).to_be_visible()

    sign_out(page)
    expect(html).to_have_attribute("lang", "zh-Hans")

    # Another browser, in English: the agent's own choice wins once signed in.
    page = open_page(locale="en-US")
    sign_in(page, AGENT)
    html, nav = page.locator("html"), page.get_by_role("banner").get_by_role("navigation")
    expect(html).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_test_id("home-agent")).to_be_visible()

    page.get_by_test_id("lang-en").click()
    expect(html).to_have_attribute("lang", "en")
    expect(nav.get_by_role("link", name="Training", exact=True)).to_be_visible()


@pytest.mark.parametrize(("locale", "lang"), [("zh-CN", "zh-Hans"), ("en-US", "en")])
def test_the_first_visit_follows_the_browser_language(open_page, locale, lang):
    page = open_page(locale=locale)
    page.goto("/")
    expect(page.get_by_test_id("sign-in")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", lang)
