"""Benchmark: import a roster of a large centre, then import it again unchanged.

    .venv/bin/python bench/roster_import.py [--people 4000] [--teams 250]

Builds the teams and a roster CSV (GB18030, Chinese headers) in a temporary SQLite database
(or an empty database at DATABASE_URL), times the first import (everyone new) and the
re-import (nothing changes), and prints figures; the last line is `name=value`.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import click  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.auth.importers import import_roster  # noqa: E402
from app.auth.services import create_team  # noqa: E402
from app.database import db, utcnow  # noqa: E402


def build_roster(people: int, teams: int) -> bytes:
    out = io.StringIO()
    out.write("工号,姓名,邮箱,班组,入职日期,职级,角色,师傅工号\n")
    start = date(2018, 1, 1)
    for n in range(people):
        team = f"班组{n % teams:03d}"
        senior = n % 15 < 2
        mentor = "" if senior or n % 15 > 4 else f"{(n - n % 15) + 100000:06d}"
        roles = "客服、师傅" if senior else "客服"
        level = "资深客服代表" if senior else "客服代表"
        hired = start + timedelta(days=(n * 7) % 3000)
        out.write(f"{n + 100000:06d},客服{n:05d},a{n}@bench.example,{team},{hired.isoformat()},"
                  f"{level},{roles},{mentor}\n")
    return out.getvalue().encode("gb18030")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=4000)
    parser.add_argument("--teams", type=int, default=250)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="pinwheel-bench-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir}/bench.db"
    app = create_app("development", overrides={"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()   # the schema as production builds it: by the migrations
        now = utcnow()
        for t in range(args.teams):
            create_team(f"班组{t:03d}", lead_id=None, actor_id=None, now=now)
        db.session.commit()
        data = build_roster(args.people, args.teams)
        print(f"roster: {args.people} people, {args.teams} teams, {len(data) / 1024:.0f} KiB")

        for label in ("first", "again"):
            with click.progressbar(length=args.people, label=f"import ({label})",
                                   file=sys.stderr) as bar:
                started = time.perf_counter()
                result = import_roster(data, "roster.csv", actor_id=None, now=utcnow(),
                                       progress=bar.update)
                db.session.commit()
                elapsed = time.perf_counter() - started
            print(f"{label}: created={result.created} updated={result.updated} "
                  f"unchanged={result.unchanged} seconds={elapsed:.2f}")
            rate = args.people / elapsed
            name = "import_rows_per_s" if label == "first" else "reimport_rows_per_s"
            figures = f"{name}={rate:.0f}"
            if label == "first":
                print(figures)
    print(figures)


if __name__ == "__main__":
    main()
