"""An LTI launch in a real browser: the platform emulator's authorisation page posts the
signed launch; the learner lands on the linked scenario, signed in, in the launch's locale."""
from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import expect

from app.database import utcnow
from app.extensions import db
from app.lti import services
from tests.lti.emulator import PlatformEmulator

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale, lang, title", [
    ("en-US", "en", "Account details disclosed to an unverified caller"),
    ("zh-CN", "zh-Hans", "未核实身份泄露账户信息"),
])
def test_a_launch_lands_the_learner_on_the_linked_scenario(live_app, live_server, open_page,
                                                          locale, lang, title):
    with PlatformEmulator(issuer=f"https://lms-{lang.lower()}.example.test") as lms:
        with live_app.app_context():
            services.save_platform(platform_id=None, name=f"LMS {lang}", actor_id=None,
                                   now=utcnow(), **lms.registration())
            db.session.commit()
        lms.tool_jwks = lambda: requests.get(f"{live_server}/lti/jwks", timeout=5).json()
        launch_url = f"{live_server}/lti/launch"
        subject = f"browser-{lang}"
        lms.next_claims = {"sub": subject, "name": "Browser Learner", "locale": locale,
                           "target_link_uri": launch_url,
                           "custom": {"pinwheel_item": "scenario:S05"}}
        page = open_page(locale="en-US")
        page.goto("/lti/login?" + urlencode({
            "iss": lms.issuer, "login_hint": subject, "target_link_uri": launch_url,
            "client_id": lms.client_id, "lti_deployment_id": lms.deployment_id}))
        expect(page).to_have_url(re.compile(r"/scenarios/S05$"))
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(page.get_by_test_id("user-menu")).to_contain_text("Browser Learner")
