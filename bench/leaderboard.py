"""Benchmark: the leaderboard pages of a centre of 4,000 agents with 24 months of points.

    .venv/bin/python bench/leaderboard.py [--entries 5000000] [--requests 40]

Builds the schema with the migrations in a temporary SQLite database (or an empty database at
DATABASE_URL), installs the default rules and levels, adds 4,000 agents in 250 teams and
writes `--entries` ledger entries over the last 24 months through the batched award path
(`award_batch`, a commit per batch of 5,000 events, in the order they happened, with the
realistic mix of `bench/ledger.py`). The data build is part of the bench and shows progress.

Then, signed in as an agent, it asks for the board pages through the Flask test client (the
server's time, no network): `--requests` pages per board kind (individual — centre, a team,
a blade —, cohort and team) over the last 12 months, each

- uncached: the cache cleared before the request;
- cached: the same request again.

It prints a line per board kind with the median and 95th percentile of both, and where the
uncached time goes (medians): SQL (time in the driver), board (`get_board`: reading or
computing the board, its SQL included), history (`rank_history`: the viewer's place in the
last six months), render (the template); the rest is the page's other work and Flask. Then
it closes a past month (`close_month`: a snapshot of every board) and times that and the
closed month's pages, which read the snapshot. The last line is
`p95_ms=<n>`: the 95th percentile of all uncached live board requests.
"""
from __future__ import annotations

import argparse
import contextvars
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import click
from flask import before_render_template, template_rendered
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, func, select

from app import create_app
from app.auth.models import Team, User
from app.auth.services import create_user
from app.centre.periods import centre_tz, period_of, previous_period
from app.database import db, utcnow
from app.extensions import cache
from app.incentives.ledger import award_batch
from app.incentives.models import PointEntry
from app.incentives.rules import Blade
from app.incentives.services import install_defaults
from app.leaderboard import queries
from app.leaderboard.services import close_month
from bench.ledger import build_centre, make_event

MONTHS = 24
BATCH = 5000
PASSWORD = "bench-password-1"


# --- the data ---------------------------------------------------------------------------

def award_history(agents: list[int], entries: int, rnd: random.Random) -> tuple[int, float]:
    """Events over the last 24 months, in the order they happened, in batches through
    `award_batch`, until `entries` ledger entries are written (caps skip a few events)."""
    now = utcnow()
    start = now - timedelta(days=30 * MONTHS)
    span = (now - start).total_seconds()
    gap = span / (entries * 1.05)          # the mean time between events: a few are skipped
    moment, n, written = 0.0, 0, 0
    started = time.perf_counter()
    with click.progressbar(length=entries, label="awarding history", file=sys.stderr) as bar:
        while written < entries:
            batch = []
            for _ in range(min(BATCH, int((entries - written) * 1.02) + 1)):
                moment = min(moment + rnd.expovariate(1 / gap), span - 1)
                batch.append(make_event(n, rnd.choice(agents),
                                        start + timedelta(seconds=moment), rnd))
                n += 1
            result = award_batch(batch, now=utcnow())
            db.session.commit()
            written += result.created
            bar.update(result.created)
    return n, time.perf_counter() - started


def build(args, rnd: random.Random) -> tuple[User, list[int]]:
    upgrade()   # the schema as production builds it: by the migrations
    now = utcnow()
    install_defaults(now=now)
    agents = build_centre(args.agents, args.teams, now)
    team_id = db.session.scalar(select(Team.id).order_by(Team.id))
    viewer = create_user(employee_number="B99999", name="Bench Viewer", password=PASSWORD,
                         hire_date=now.date() - timedelta(days=400), team_id=team_id,
                         roles=["agent"], actor_id=None, now=now)
    db.session.commit()
    agents.append(viewer.id)
    print(f"centre: {len(agents)} agents, {args.teams} teams, "
          f"database {db.engine.dialect.name}")
    events, seconds = award_history(agents, args.entries, rnd)
    written = db.session.scalar(select(func.count()).select_from(PointEntry))
    print(f"build: events={events} entries={written} seconds={seconds:.1f} "
          f"rows_per_s={written / seconds:.0f}")
    return viewer, agents


# --- the requests -----------------------------------------------------------------------

class IsolatedClient(FlaskClient):
    """Each request in its own application context (its own session and `g`), as in
    production, although the bench holds one open."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


class Clock:
    """Where a request's time goes: SQL in the driver, computing boards, the template."""

    def __init__(self):
        self.sql = self.board = self.history = self.render = 0.0
        self._render_started = None
        self._sql_started: list[float] = []

    def reset(self):
        self.sql = self.board = self.history = self.render = 0.0

    def attach(self, app):
        event.listen(db.engine, "before_cursor_execute", self._before_sql)
        event.listen(db.engine, "after_cursor_execute", self._after_sql)
        before_render_template.connect(self._before_render, app)
        template_rendered.connect(self._after_render, app)
        self._time(queries, "get_board", "board")
        self._time(queries, "rank_history", "history")

    def _time(self, module, name: str, into: str):
        """Add the time spent in module.name (as the views call it) to self.<into>."""
        function = getattr(module, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                setattr(self, into, getattr(self, into) + time.perf_counter() - started)
        setattr(module, name, timed)

    def _before_sql(self, *_args):
        self._sql_started.append(time.perf_counter())

    def _after_sql(self, *_args):
        self.sql += time.perf_counter() - self._sql_started.pop()

    def _before_render(self, *_args, **_kwargs):
        self._render_started = time.perf_counter()

    def _after_render(self, *_args, **_kwargs):
        self.render += time.perf_counter() - self._render_started


def board_urls(kind: str, months: list[str], teams: list[int], cohorts: list[str],
               count: int, rnd: random.Random) -> list[str]:
    blades = ["all"] * 3 + [b.value for b in Blade]
    urls = []
    for _ in range(count):
        month, blade = rnd.choice(months), rnd.choice(blades)
        url = f"/leaderboard/?month={month}&board={kind}&blade={blade}"
        if kind == "individual" and rnd.random() < 0.5:
            url += f"&team={rnd.choice(teams)}"
        elif kind == "cohort" and rnd.random() < 0.5:
            url += f"&cohort={rnd.choice(cohorts)}"
        urls.append(url)
    return urls


def ms(seconds: float) -> float:
    return seconds * 1000


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def time_requests(client, clock: Clock, urls: list[str]) -> dict:
    """Each URL uncached (cache cleared first), then cached (the same request again)."""
    times = {"uncached": [], "cached": [], "sql": [], "board": [], "history": [],
             "render": []}
    for url in urls:
        cache.clear()
        clock.reset()
        started = time.perf_counter()
        response = client.get(url)
        times["uncached"].append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        times["sql"].append(clock.sql)
        times["board"].append(clock.board)
        times["history"].append(clock.history)
        times["render"].append(clock.render)
        started = time.perf_counter()
        response = client.get(url)
        times["cached"].append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return times


def report(name: str, times: dict) -> None:
    print(f"{name}: requests={len(times['uncached'])} "
          f"uncached_median_ms={ms(statistics.median(times['uncached'])):.1f} "
          f"uncached_p95_ms={ms(p95(times['uncached'])):.1f} "
          f"cached_median_ms={ms(statistics.median(times['cached'])):.1f} "
          f"cached_p95_ms={ms(p95(times['cached'])):.1f} "
          f"uncached_median_sql_ms={ms(statistics.median(times['sql'])):.1f} "
          f"board_ms={ms(statistics.median(times['board'])):.1f} "
          f"history_ms={ms(statistics.median(times['history'])):.1f} "
          f"render_ms={ms(statistics.median(times['render'])):.1f}")


def run_requests(app, viewer: User, args, rnd: random.Random) -> float:
    app.test_client_class = IsolatedClient
    client = app.test_client()
    response = client.post("/login", data={"login": viewer.employee_number,
                                           "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    now = utcnow()
    months = [period_of(now, centre_tz())]
    while len(months) < 12:
        months.append(previous_period(months[-1]))
    teams = list(db.session.scalars(select(Team.id)))
    cohorts = queries.cohorts_in(months[0])
    db.session.remove()
    clock = Clock()
    clock.attach(app)
    for url in board_urls("individual", months, teams, cohorts, 3, rnd):   # warm up
        client.get(url)
    uncached = []
    for kind in queries.BOARD_KINDS:
        times = time_requests(client, clock, board_urls(kind, months, teams, cohorts,
                                                        args.requests, rnd))
        report(kind, times)
        uncached += times["uncached"]
    # a month closed: every board stored, then the pages read the snapshot
    closing = months[3]
    started = time.perf_counter()
    boards = close_month(closing, actor_id=None, now=utcnow())
    db.session.commit()
    seconds = time.perf_counter() - started
    db.session.remove()
    print(f"close_month: period={closing} boards={boards} seconds={seconds:.2f}")
    for kind in queries.BOARD_KINDS:
        report(f"{kind}(closed)", time_requests(client, clock, board_urls(
            kind, [closing], teams, cohorts, max(args.requests // 4, 5), rnd)))
    return ms(p95(uncached))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5_000_000,
                        help="ledger entries over 24 months (default 5,000,000)")
    parser.add_argument("--requests", type=int, default=40,
                        help="board pages per board kind, each uncached and cached")
    parser.add_argument("--agents", type=int, default=4000)
    parser.add_argument("--teams", type=int, default=250)
    args = parser.parse_args()
    rnd = random.Random(20261124)
    with tempfile.TemporaryDirectory(prefix="pinwheel-bench-") as workdir:
        # DATABASE_URL, when set, is read (and normalised) by the configuration itself
        overrides = {"WTF_CSRF_ENABLED": False, "DEBUG": False,
                     "TEMPLATES_AUTO_RELOAD": False,
                     "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
        if not os.environ.get("DATABASE_URL"):
            overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{workdir}/bench.db"
        app = create_app("development", overrides=overrides)
        with app.app_context():
            viewer, _agents = build(args, rnd)
            p95_ms = run_requests(app, viewer, args, rnd)
            db.session.remove()
            db.engine.dispose()
    print(f"p95_ms={p95_ms:.1f}")


if __name__ == "__main__":
    main()
