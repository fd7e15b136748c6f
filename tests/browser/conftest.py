"""Browser tests: a live Pinwheel in a background thread, driven by headless Debian Chromium
through Playwright.

The live app has its own SQLite file, migrated with Alembic and loaded with the demo centre
(`flask demo load`), and CSRF protection on, as in production. `open_page(locale=...)` gives a
page in a fresh browser context (its own cookies, its own Accept-Language). A failed test
leaves a screenshot of each of its pages in test-artifacts/.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_migrate import upgrade
from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from app.demo.people import DEMO_PASSWORD
from app.extensions import db

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 10_000


def _chromium() -> str | None:
    for candidate in (os.environ.get("PINWHEEL_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@contextmanager
def _logging_left_alone():
    """Alembic's env.py calls `logging.config.fileConfig()`, which disables every logger that
    exists already and replaces the root handlers; put things back for the rest of the suite."""
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    disabled = {name: logger.disabled
                for name, logger in logging.Logger.manager.loggerDict.items()
                if isinstance(logger, logging.Logger)}
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
        for name, logger in logging.Logger.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.disabled = disabled.get(name, False)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app behind the live server: migrated SQLite file, demo centre, CSRF on."""
    path = tmp_path_factory.mktemp("browser") / "browser.db"
    app = create_app("testing", overrides={
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "WTF_CSRF_ENABLED": True,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    with app.app_context():
        with _logging_left_alone():
            upgrade()
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app):
    """Serve the live app on a free port in a background thread; its base URL."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    executable = _chromium()
    if executable is None:
        message = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("PINWHEEL_REQUIRE_TOOLS"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture()
def open_page(request, browser, live_server):
    """`open_page(locale="en-US")`: a page in a new browser context against the live server."""
    contexts = []

    def open_(locale: str = "en-US") -> Page:
        context = browser.new_context(base_url=live_server, locale=locale)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_

    failed = any(getattr(request.node, f"report_{when}", None) is not None
                 and getattr(request.node, f"report_{when}").failed
                 for when in ("setup", "call"))
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for number, page in enumerate(p for c in contexts for p in c.pages):
            page.screenshot(path=str(ARTIFACTS / f"{name}-{number}.png"), full_page=True)
    for context in contexts:
        context.close()


@pytest.fixture()
def sign_in():
    """`sign_in(page, employee_number)`: through the English sign-in form, like a person."""

    def sign_in_(page: Page, login: str, password: str = DEMO_PASSWORD) -> None:
        page.goto("/login")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_label("Employee number or e-mail").fill(login)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_test_id("sign-in").click()
        expect(page).not_to_have_url(re.compile(r"/login"))

    return sign_in_


@pytest.fixture()
def sign_out():
    def sign_out_(page: Page) -> None:
        page.get_by_test_id("user-menu").click()
        page.get_by_test_id("sign-out").click()
        expect(page).to_have_url(re.compile(r"/login"))

    return sign_out_
