"""LMS plug-in fixtures: a real Ralph LRS (`ralph-malph`) in a subprocess.

`ralph_server` prepares one (a free local port, a fresh working directory and RALPH_APP_DIR,
credentials written by `ralph auth … -w`) without starting it; `lrs` starts it and yields
`(url, username, password)`. Ralph's file backend accepts only the first write to its data
file, which lands in the server's working directory: hence a fresh directory per test, and one
batched POST per test.

When Ralph cannot be started the tests that need it are skipped, unless PINWHEEL_REQUIRE_TOOLS
is set: then they fail."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

LRS_USERNAME = "pinwheel"
LRS_PASSWORD = "lrs-secret-1"
START_TIMEOUT_SECONDS = 45


def _unavailable(reason: str):
    if os.environ.get("PINWHEEL_REQUIRE_TOOLS"):
        pytest.fail(f"Ralph LRS: {reason}", pytrace=False)
    pytest.skip(f"Ralph LRS: {reason}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ralph_executable() -> str | None:
    beside = Path(sys.executable).with_name("ralph")
    return str(beside) if beside.exists() else shutil.which("ralph")


class RalphServer:
    """A Ralph LRS on 127.0.0.1 with the fs backend, started and stopped on demand."""

    def __init__(self, executable: str, root: Path):
        self.executable = executable
        self.workdir = root / "lrs"
        self.app_dir = root / "ralph-app"
        self.workdir.mkdir()
        self.app_dir.mkdir()
        self.log_path = root / "ralph.log"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/xAPI"
        self.username = LRS_USERNAME
        self.password = LRS_PASSWORD
        self.process: subprocess.Popen | None = None
        self.env = {**os.environ, "RALPH_APP_DIR": str(self.app_dir),
                    "RALPH_RUNSERVER_BACKEND": "fs", "PYTHONUNBUFFERED": "1"}

    @property
    def credentials(self) -> tuple[str, str, str]:
        return self.url, self.username, self.password

    def write_credentials(self) -> None:
        subprocess.run(
            [self.executable, "auth", "-u", self.username, "-p", self.password, "-s", "all",
             "-M", f"mailto:{self.username}@example.org", "-w"],
            cwd=self.workdir, env=self.env, check=True, capture_output=True, text=True,
            timeout=120,
        )

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def start(self) -> None:
        """Start the server and wait until it answers; raises RuntimeError if it does not."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [self.executable, "runserver", "-b", "fs", "--host", "127.0.0.1",
             "--port", str(self.port)],
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,   # its own group: the reloader too
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ralph runserver exited ({self.process.returncode}):\n"
                                   + self._log_tail())
            try:
                response = requests.get(f"http://127.0.0.1:{self.port}/whoami",
                                        auth=(self.username, self.password), timeout=2)
                if response.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError("ralph runserver did not answer in time:\n" + self._log_tail())

    def start_or_skip(self) -> None:
        """`start`, or skip the test (fail it under PINWHEEL_REQUIRE_TOOLS)."""
        try:
            self.start()
        except (OSError, RuntimeError) as exc:
            _unavailable(str(exc))

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)   # the group of the process started above
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def statements(self) -> list[dict]:
        """What the LRS holds (GET /xAPI/statements)."""
        response = requests.get(f"{self.url}/statements", params={"limit": 500},
                                auth=(self.username, self.password), timeout=10,
                                headers={"X-Experience-API-Version": "1.0.3"})
        response.raise_for_status()
        return response.json()["statements"]


@pytest.fixture()
def ralph_server(tmp_path):
    """A prepared, not yet started Ralph LRS; stopped after the test."""
    executable = _ralph_executable()
    if executable is None:
        _unavailable("the `ralph` command is not installed (pip install ralph-malph[lrs,cli])")
    server = RalphServer(executable, tmp_path)
    try:
        server.write_credentials()
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        _unavailable(f"`ralph auth` failed: {exc}\n{detail[-2000:]}")
    yield server
    server.stop()


@pytest.fixture()
def lrs(ralph_server):
    """A running Ralph LRS: `(url, username, password)`, url ending in /xAPI."""
    ralph_server.start_or_skip()
    yield ralph_server.credentials
    ralph_server.stop()
