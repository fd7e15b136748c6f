"""Several worker processes share rate limits and caches through Redis.

Two gunicorn processes serve the development configuration (CSRF on) against one PostgreSQL
database and one Redis (Debian's redis-server, started here on a free port). Failed sign-ins
spread over both processes count against one limit, and a value cached by one process is read
by another. Runs only when DATABASE_URL points at PostgreSQL (`make test` does so in its second
run); the schema comes from `flask db upgrade` in a scratch database of its own.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, build_opener

import pytest
import redis

from tests.support.postgres import postgres_url, scratch_postgres_database

ROOT = Path(__file__).resolve().parent.parent
SIGNIN_LIMIT = 3
ADMIN_NUMBER = "5001"
ADMIN_PASSWORD = "multi-process-1"


pytestmark = [
    pytest.mark.multiprocess,
    pytest.mark.skipif(postgres_url() is None,
                       reason="multiprocess test: needs DATABASE_URL pointing at PostgreSQL "
                              "(`make test` runs it against a throw-away cluster)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until(ready, what: str, process: subprocess.Popen, log: Path, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{log.read_text()}")
        if ready():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} was not ready after {timeout}s:\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("multiprocess")


@pytest.fixture(scope="module")
def redis_url(workdir):
    """A private redis-server on a free port, stopped at the end of the module."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("PINWHEEL_REQUIRE_TOOLS"):
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    log = workdir / "redis.log"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
         "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", str(log)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    log.touch()

    def answers() -> bool:
        try:
            return redis.Redis.from_url(url, socket_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            return False

    try:
        _wait_until(answers, "redis-server", process, log)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def app_env(workdir, redis_url):
    """The environment of every app process: development settings, the scratch PostgreSQL
    database (migrated with `flask db upgrade`, holding one admin) and the shared Redis."""
    with scratch_postgres_database("mp", driver="postgresql") as database_url:
        env = {
            **os.environ,
            "FLASK_APP": "wsgi.py",
            "PINWHEEL_CONFIG": "development",
            "PINWHEEL_INSTANCE": str(workdir / "instance"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "multiprocess-" + uuid.uuid4().hex,
            "SIGNIN_RATE_LIMIT": f"{SIGNIN_LIMIT} per minute",
        }
        run_flask(env, "db", "upgrade")
        run_flask(env, "users", "create-admin", "--employee-number", ADMIN_NUMBER,
              "--name", "Multi Process", "--password", ADMIN_PASSWORD)
        yield env


def run_flask(env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, f"flask {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def run_python(env: dict, code: str, *args: str) -> str:
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def servers(workdir, app_env):
    """Two separate gunicorn processes (one worker each) serving `wsgi:app`; base URLs."""
    started: list[subprocess.Popen] = []
    bases: list[str] = []
    try:
        for name in ("a", "b"):
            port = _free_port()
            log = workdir / f"gunicorn-{name}.log"
            with log.open("w") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "--workers", "1",
                     "--bind", f"127.0.0.1:{port}", "--access-logfile", "-", "wsgi:app"],
                    cwd=ROOT, env=app_env, stdin=subprocess.DEVNULL, stdout=out,
                    stderr=subprocess.STDOUT)
            started.append(process)
            base = f"http://127.0.0.1:{port}"
            _wait_until(lambda base=base: Client(base).get("/healthz")[0] == 200,
                        f"gunicorn {name}", process, log)
            bases.append(base)
        yield bases
    finally:
        for process in started:
            _stop(process)


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Client:
    """A tiny browser: one cookie jar, redirects not followed, returns (status, body)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), _NoRedirects())

    def _open(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=10) as response:
                return response.status, response.read().decode()
        except HTTPError as error:
            return error.code, error.read().decode()
        except (URLError, ConnectionError):
            return 0, ""

    def get(self, path: str) -> tuple[int, str]:
        return self._open(path)

    def sign_in(self, login: str, password: str) -> int:
        """Open the sign-in page, then send the form with its CSRF token; the status code."""
        status, page = self.get("/login")
        assert status == 200, page[:500]
        field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page)
        assert field, "no csrf_token on the sign-in page"
        token = re.search(r'value="([^"]+)"', field.group(0)).group(1)
        status, _body = self._open("/login", {"csrf_token": token, "login": login,
                                              "password": password, "next": ""})
        return status


def test_both_processes_report_the_database_reachable(servers):
    for base in servers:
        status, body = Client(base).get("/healthz")
        assert status == 200, body
        assert '"database":"ok"' in body.replace(" ", "")


def test_failed_sign_ins_on_two_processes_count_against_one_limit(servers):
    a, b = Client(servers[0]), Client(servers[1])
    assert Client(servers[1]).sign_in(ADMIN_NUMBER, ADMIN_PASSWORD) == 302  # success is free

    assert a.sign_in(ADMIN_NUMBER, "wrong-password") == 401
    assert b.sign_in(ADMIN_NUMBER, "wrong-password") == 401
    assert a.sign_in(ADMIN_NUMBER, "wrong-password") == 401

    # three failures in all, on two processes: both refuse from now on
    assert b.sign_in(ADMIN_NUMBER, "wrong-password") == 429
    assert a.sign_in(ADMIN_NUMBER, "wrong-password") == 429
    assert Client(servers[1]).sign_in(ADMIN_NUMBER, ADMIN_PASSWORD) == 429


CACHE_SET = """
import sys
from app import create_app
from app.extensions import cache
app = create_app()
with app.app_context():
    assert cache.set(sys.argv[1], sys.argv[2])
    print(app.config["CACHE_TYPE"])
"""

CACHE_GET = """
import sys
from app import create_app
from app.extensions import cache
app = create_app()
with app.app_context():
    print(cache.get(sys.argv[1]))
"""


def test_a_value_cached_by_one_process_is_read_by_another(app_env):
    key, value = f"multiprocess-{uuid.uuid4().hex}", uuid.uuid4().hex

    assert run_python(app_env, CACHE_SET, key, value) == "RedisCache"
    assert run_python(app_env, CACHE_GET, key) == value
