"""Benchmark: the leaderboard pages of a centre of 4,000 agents with 24 months of points.

    .venv/bin/python bench/leaderboard.py [--entries 5000000] [--requests 40]

Builds the schema with the migrations in a temporary SQLite database (or an empty database at
DATABASE_URL), installs the default rules and levels, adds 4,000 agents in 250 teams and
writes `--entries` ledger entries over the last 24 months, up to now, through the batched
award path (`award_batch`), in the order they happened, with the realistic mix of
`bench/ledger.py`. The history comes in as a centre would import it, a month at a time: each
month's events in one `award_batch` call and one transaction, as an import of that month's
file (`bench/ledger.py` times batches of 5,000 events, a commit each). The data build is part
of the bench and shows progress.

Then it closes the months as a centre does: in a real centre only the current month (and the
previous one while its grace period runs) is open; every older month has been closed by
`close_month`, which stored a snapshot of each of its boards. So the bench closes every month
whose grace period is over, oldest first, and reports how long that took (the month close is
timed, not hidden: `close_month: …`, with the slowest month).

Then, signed in as an agent, it asks for the board pages through the Flask test client (the
server's time, no network): `--requests` pages per board kind (individual — centre, a team,
a blade —, cohort and team) over the last 12 months (the open ones read the month totals and
rollups, the closed ones their snapshots), each

- uncached: the cache cleared before the request;
- cached: the same request again.

It prints a line per board kind with the median and 95th percentile of both, and where the
uncached time goes (medians): SQL (time in the driver), board (`get_board`: reading or
computing the board, its SQL included; for a closed month's board of people, `snapshot_part`:
its top and the viewer's neighbours from the stored rows; for an open month's board of the
whole centre, `live_part`: the same counted and read in the month's index), history
(`rank_history`: the viewer's place in the last six months), render (the template — which
reads the board and the history as it needs them, so it includes both: a cached page reads
neither); the rest is the page's other work and Flask. Then the same for the open months
alone (`<kind>(open)`: every board computed from the month totals and rollups). The last
line is `p95_ms=<n>`: the 95th percentile of all uncached board requests (both sets).
"""
from __future__ import annotations

import argparse
import contextvars
import gc
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
import numpy as np
import pandas as pd
from flask import before_render_template, template_rendered
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, func, select

from app import create_app
from app.auth.models import Team
from app.auth.services import create_user
from app.centre.periods import centre_tz, next_period, period_of, previous_period
from app.database import db, utcnow
from app.extensions import cache
from app.incentives.ledger import award_batch
from app.incentives.models import PointEntry
from app.incentives.rules import Blade
from app.incentives.services import install_defaults
from app.leaderboard import queries
from app.leaderboard.services import close_month, month_status
from bench.ledger import build_centre, make_events

MONTHS = 24
BATCH = 400_000   # events a call at most (a month has about 210,000)
STEP = 20_000   # events made at a time
PASSWORD = "bench-password-1"


# --- the data ---------------------------------------------------------------------------

def award_history(agents: list[int], entries: int, rnd: random.Random) -> tuple[int, float]:
    """Events over the last 24 months up to now, in the order they happened, until `entries`
    ledger entries are written: each month's events handed to `award_batch` at once (at most
    `BATCH`) and committed, as an import of a month's file. Caps skip a few events: the
    events still to make are spread over the time that is left, at the rate of entries per
    event so far."""
    tz = centre_tz()
    now = utcnow()
    start = now - timedelta(days=30 * MONTHS)
    span = (now - start).total_seconds()
    moment, made, awarded, written = 0.0, 0, 0, 0
    month = period_of(start, tz)   # of the events waiting
    waiting: list = []
    generator = np.random.default_rng(rnd.getrandbits(64))
    agents_array = np.array(agents)
    started = time.perf_counter()
    with click.progressbar(length=entries, label="awarding history", file=sys.stderr) as bar:
        while written < entries:
            per_event = written / awarded if awarded else 1.0   # entries per event so far
            events_left = max((entries - written) / per_event - len(waiting), 1.0)
            gap = (span - moment) / events_left   # mean time between events
            size = min(STEP, int(events_left * 1.02) + 1)
            moments = np.minimum(moment + np.cumsum(generator.exponential(gap, size)), span - 1)
            moment = float(moments[-1])
            times = (pd.Timestamp(start) + pd.to_timedelta(moments, unit="s")).to_pydatetime()
            waiting += make_events(made, agents_array[generator.integers(0, len(agents), size)]
                                   .tolist(), times.tolist(), rnd)
            made += size
            reached = period_of(waiting[-1].occurred_at, tz)
            if (reached != month or len(waiting) >= BATCH
                    or written + len(waiting) * per_event >= entries):
                result = award_batch(waiting, now=utcnow())
                db.session.commit()   # a month of history imported
                written += result.created
                awarded += len(waiting)
                waiting, month = [], reached
                bar.update(result.created)
    return made, time.perf_counter() - started


def build(args, rnd: random.Random) -> tuple[str, list[int]]:
    """The centre and its history; returns the viewer's employee number and the agents."""
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
    return viewer.employee_number, agents


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
        self._time(queries, "snapshot_part", "board")
        self._time(queries, "live_part", "board")
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


def close_past_months(now) -> None:
    """Close every month whose grace period is over, oldest first, as the centre would have
    month by month; report the time."""
    today = now.astimezone(centre_tz()).date()
    period = period_of(now - timedelta(days=30 * MONTHS + 31), centre_tz())
    months, boards, times = [], 0, []
    while period < period_of(now, centre_tz()):
        if month_status(period, today) == "ready":
            started = time.perf_counter()
            boards += close_month(period, actor_id=None, now=now)
            db.session.commit()
            times.append(time.perf_counter() - started)
            months.append(period)
        period = next_period(period)
    db.session.remove()
    print(f"close_month: months={len(months)} ({months[0] if months else '-'}.."
          f"{months[-1] if months else '-'}) boards={boards} seconds={sum(times):.1f} "
          f"per_month_median_s={statistics.median(times) if times else 0:.2f} "
          f"per_month_max_s={max(times, default=0):.2f}")


def run_requests(app, viewer: str, args, rnd: random.Random) -> float:
    """Time the board pages, signed in as `viewer` (an employee number)."""
    app.test_client_class = IsolatedClient
    client = app.test_client()
    response = client.post("/login", data={"login": viewer, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    now = utcnow()
    months = [period_of(now, centre_tz())]
    while len(months) < 12:
        months.append(previous_period(months[-1]))
    open_months = [m for m in months if not queries.is_closed(m)]
    teams = list(db.session.scalars(select(Team.id)))
    cohorts = queries.cohorts_in(months[0])
    db.session.remove()
    print(f"months: timed={months[-1]}..{months[0]} open={','.join(sorted(open_months))}")
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
    for kind in queries.BOARD_KINDS:
        times = time_requests(client, clock, board_urls(
            kind, open_months, teams, cohorts, max(args.requests // 2, 5), rnd))
        report(f"{kind}(open)", times)
        uncached += times["uncached"]
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
            close_past_months(utcnow())
            # as a production worker does after start-up (wsgi.py): what exists now stays
            gc.collect()
            gc.freeze()
            p95_ms = run_requests(app, viewer, args, rnd)
            db.session.remove()
            db.engine.dispose()
    print(f"p95_ms={p95_ms:.1f}")


if __name__ == "__main__":
    main()
