"""Benchmark: award points in a centre of 4,000 agents, one event at a time and in batches.

    .venv/bin/python bench/ledger.py [--entries 200000] [--single N] [--services]

Builds the schema with the migrations in a temporary SQLite database (or an empty database at
DATABASE_URL), installs the default rules and levels, and adds 4,000 agents in 250 teams.
Then it awards points through the ledger two ways:

- single: one event per transaction, as a web request does (`award` and a commit each);
  `--single` of them, by default `--entries` / 20 (at most 20,000);
- batched: `--entries` events over the last 24 months (quiz attempts, QA scores, KBI
  checklists, scenario stages, sign-offs, customer praise, mystery-shopper scores) in
  batches of 5,000, in the order they happened, as an importer of history sends them
  (`award_batch` and a commit per batch).

Rollups, balances and level-up notices are written in the same transactions, so the rates
include them. With `--services` the awards go through `app.incentives.services`, which also
checks the automatic badges after each award. At the end `verify_rollups()` recomputes every
rollup from the ledger. The rates count the entries written per second; the last line is
`batched_per_s=<n>`.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import click
import numpy as np
from flask_migrate import upgrade
from sqlalchemy import func, insert, select, update

from app import create_app
from app.auth.models import Team, User, UserRole
from app.database import db, utcnow
from app.incentives import ledger, services
from app.incentives.models import PointEntry
from app.incentives.services import Award, Event, install_defaults, verify_rollups

MONTHS = 24
BATCH = 5000


def build_centre(agents: int, teams: int, now) -> list[int]:
    """Teams and agents with Core bulk inserts (no password hashing); returns the agents' ids."""
    db.session.execute(insert(Team), [{"name": f"班组{t:03d}", "created_at": now}
                                      for t in range(teams)])
    team_ids = list(db.session.scalars(select(Team.id).order_by(Team.id)))
    start = date(2018, 1, 1)
    db.session.execute(insert(User), [{
        "employee_number": f"{n + 100000:06d}", "name": f"客服{n:05d}",
        "email": f"a{n}@bench.example", "password_hash": None, "is_active": True,
        "is_agent": True,   # as the agent role below makes them (`app.incentives.standings`)
        "hire_date": start + timedelta(days=(n * 7) % 3000), "career_level": "agent",
        "team_id": team_ids[n % teams], "created_at": now, "updated_at": now,
    } for n in range(agents)])
    rows = db.session.execute(select(User.id, User.team_id).order_by(User.id)).all()
    leads = {}
    for user_id, team_id in rows:
        leads.setdefault(team_id, user_id)
    db.session.execute(insert(UserRole), [{"user_id": user_id, "role": "agent"}
                                          for user_id, _team in rows]
                       + [{"user_id": lead, "role": "team_lead"} for lead in leads.values()])
    db.session.execute(update(Team), [{"id": team, "lead_id": lead}
                                      for team, lead in leads.items()])
    db.session.commit()
    return [user_id for user_id, _team in rows]


def make_event(n: int, user_id: int, occurred_at, rnd: random.Random) -> Award:
    """One event of a realistic mix, with an idempotency key as its source would give it."""
    pick = rnd.random()
    if pick < 0.35:
        return Award(Event.QUIZ_PASSED, user_id, f"quiz_attempt:{n}", "quiz_attempt", str(n),
                     occurred_at=occurred_at, attempt=rnd.choice((1, 1, 1, 2, 2, 3)))
    if pick < 0.65:
        return Award(Event.QA_EVALUATION, user_id, f"qa:{n}", "qa_evaluation", f"QA-{n}",
                     occurred_at=occurred_at, score=round(rnd.uniform(80, 100), 1))
    if pick < 0.78:
        return Award(Event.KBI_CHECKLIST, user_id, f"kbi:{n}", "kbi_checklist", str(n),
                     occurred_at=occurred_at)
    if pick < 0.88:
        return Award(Event.SCENARIO_STAGE_COMPLETED, user_id, f"stage:{n}", "scenario_stage",
                     str(n), occurred_at=occurred_at)
    if pick < 0.93:
        return Award(Event.SIGN_OFF_RECEIVED, user_id, f"sign_off:{n}", "sign_off", str(n),
                     occurred_at=occurred_at)
    if pick < 0.97:
        return Award(Event.CUSTOMER_PRAISE, user_id, f"praise:{n}", "customer_praise", str(n),
                     occurred_at=occurred_at)
    return Award(Event.MYSTERY_SHOPPER, user_id, f"mystery:{n}", "mystery_shopper", str(n),
                 occurred_at=occurred_at, score=round(rnd.uniform(82, 100), 1))


# make_event's mix: the share of each kind of event, cumulated
_MIX = np.array([0.35, 0.65, 0.78, 0.88, 0.93, 0.97])


def make_events(first: int, users: list[int], moments: list, rnd: random.Random) -> list[Award]:
    """`make_event` for many events at once (numbered from `first`, for `users` at
    `moments`): the same mix, its choices drawn all together by numpy."""
    generator = np.random.default_rng(rnd.getrandbits(64))
    count = len(users)
    kinds = np.searchsorted(_MIX, generator.random(count), side="right").tolist()
    attempts = generator.choice((1, 1, 1, 2, 2, 3), count).tolist()
    qa_scores = np.round(generator.uniform(80, 100, count), 1).tolist()
    mystery_scores = np.round(generator.uniform(82, 100, count), 1).tolist()
    events = []
    append = events.append
    # Award's fields in order: event, user, key, source type, source id, occurred at,
    # awarded by, attempt, score
    for i, (kind, user_id, at) in enumerate(zip(kinds, users, moments, strict=True)):
        n = first + i
        if kind == 0:
            append(Award(Event.QUIZ_PASSED, user_id, f"quiz_attempt:{n}", "quiz_attempt",
                         str(n), at, None, attempts[i]))
        elif kind == 1:
            append(Award(Event.QA_EVALUATION, user_id, f"qa:{n}", "qa_evaluation", f"QA-{n}",
                         at, None, None, qa_scores[i]))
        elif kind == 6:
            append(Award(Event.MYSTERY_SHOPPER, user_id, f"mystery:{n}", "mystery_shopper",
                         str(n), at, None, None, mystery_scores[i]))
        else:
            event_name, source_type, prefix = _PLAIN[kind]
            append(Award(event_name, user_id, f"{prefix}:{n}", source_type, str(n), at))
    return events


# the kinds of `_MIX` that carry neither attempt nor score: (event, source type, key prefix)
_PLAIN = {2: (Event.KBI_CHECKLIST, "kbi_checklist", "kbi"),
          3: (Event.SCENARIO_STAGE_COMPLETED, "scenario_stage", "stage"),
          4: (Event.SIGN_OFF_RECEIVED, "sign_off", "sign_off"),
          5: (Event.CUSTOMER_PRAISE, "customer_praise", "praise")}


def count_entries() -> int:
    return db.session.scalar(select(func.count()).select_from(PointEntry))


def run_single(award, agents: list[int], count: int, rnd: random.Random) -> float:
    """One event per transaction, happening now, as a web request awards it."""
    written = count_entries()
    with click.progressbar(length=count, label="single awards", file=sys.stderr) as bar:
        started = time.perf_counter()
        for n in range(count):
            now = utcnow()
            award(make_event(n, rnd.choice(agents), None, rnd), now=now)
            db.session.commit()
            if n % 100 == 99:
                bar.update(100)
        elapsed = time.perf_counter() - started
        bar.update(count % 100)
    written = count_entries() - written
    print(f"single: events={count} entries={written} seconds={elapsed:.2f} "
          f"rows_per_s={written / elapsed:.0f}")
    return written / elapsed


def run_batched(award_batch, agents: list[int], count: int, rnd: random.Random) -> float:
    """`count` events over the last 24 months, in batches as an importer sends them: in the
    order they happened (an export of history is sorted by time)."""
    now = utcnow()
    span = int(timedelta(days=30 * MONTHS).total_seconds())
    moments = sorted(now - timedelta(seconds=rnd.randrange(span)) for _ in range(count))
    events = make_events(1_000_000, rnd.choices(agents, k=count), moments, rnd)
    written = count_entries()
    with click.progressbar(length=count, label="batched awards", file=sys.stderr) as bar:
        started = time.perf_counter()
        for start in range(0, count, BATCH):
            part = events[start:start + BATCH]
            award_batch(part, now=utcnow())
            db.session.commit()
            bar.update(len(part))
        elapsed = time.perf_counter() - started
    written = count_entries() - written
    print(f"batched: events={count} entries={written} batch={BATCH} seconds={elapsed:.2f} "
          f"rows_per_s={written / elapsed:.0f}")
    return written / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000,
                        help="events awarded in batches (default 200,000)")
    parser.add_argument("--single", type=int, default=None,
                        help="events awarded one per transaction (default entries/20, "
                             "at most 20,000)")
    parser.add_argument("--services", action="store_true",
                        help="award through app.incentives.services, which also checks the "
                             "automatic badges after each award")
    parser.add_argument("--agents", type=int, default=4000)
    parser.add_argument("--teams", type=int, default=250)
    args = parser.parse_args()
    single = args.single if args.single is not None else min(args.entries // 20, 20_000)
    with tempfile.TemporaryDirectory(prefix="pinwheel-bench-") as workdir:
        # DATABASE_URL, when set, is read (and normalised) by the configuration itself
        overrides = ({} if os.environ.get("DATABASE_URL")
                     else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.db"})
        app = create_app("development", overrides=overrides)
        with app.app_context():
            rates, differences = run(args, single)
            db.session.remove()
            db.engine.dispose()
    print(f"single_per_s={rates[0]:.0f}")
    print(f"batched_per_s={rates[1]:.0f}")
    sys.exit(1 if differences else 0)


def run(args, single: int) -> tuple[tuple[float, float], list]:
    upgrade()   # the schema as production builds it: by the migrations
    now = utcnow()
    install_defaults(now=now)
    agents = build_centre(args.agents, args.teams, now)
    print(f"centre: {len(agents)} agents, {args.teams} teams, database {db.engine.dialect.name}")
    path = services if args.services else ledger
    print(f"awarding through {path.__name__}")
    rnd = random.Random(20261124)
    single_rate = run_single(path.award, agents, single, rnd)
    batched_rate = run_batched(path.award_batch, agents, args.entries, rnd)
    started = time.perf_counter()
    differences = verify_rollups()
    elapsed = time.perf_counter() - started
    print(f"verify_rollups: entries={count_entries()} differences={len(differences)} "
          f"seconds={elapsed:.2f}")
    if differences:
        print(f"first differences: {differences[:5]}", file=sys.stderr)
    return (single_rate, batched_rate), differences

if __name__ == "__main__":
    main()
