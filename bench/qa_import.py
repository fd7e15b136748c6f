"""Benchmark: import QA results of a centre of 4,000 agents through `flask qa import`.

    .venv/bin/python bench/qa_import.py [--rows 100000] [--item-rows 500000] [--baseline 2000]

Builds the schema with the migrations in a temporary SQLite database (or an empty database at
DATABASE_URL), installs the default rules, levels and scorecards, and adds 4,000 agents in 250
teams and a QA analyst. Then:

- summary: a GB18030 CSV with Chinese headers, one row per evaluation (`--rows` over the last
  four weeks, ids in the order the evaluations were done, scores around 88, 2 % critical
  fails, phone and chat, comments, some formula-looking), imported
  through the `flask qa import` command — read, validated, scored, pending points posted,
  committed — then imported again (nothing changes);
- item-level: a UTF-8 CSV with English headers, one row per evaluation and criterion
  (`--item-rows`, every criterion of the scorecard, pass/fail, points, N/A), scored from the
  scorecards' weights, imported the same way;
- baseline: the naive way — one CSV row at a time, ORM look-ups, one evaluation and one
  `award` per transaction — on the first `--baseline` rows of the summary data under another
  source; its rate is extrapolated from that subset.

Peak memory is the process's peak resident set (getrusage) after each step, so it includes
building the files. The last line is `rows_per_s=<n>` for the summary file.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.auth.models import User  # noqa: E402
from app.auth.services import create_user  # noqa: E402
from app.centre.periods import centre_tz  # noqa: E402
from app.database import db, utcnow  # noqa: E402
from app.incentives import services as incentives  # noqa: E402
from app.incentives.models import PointEntry  # noqa: E402
from app.incentives.services import install_defaults, verify_rollups  # noqa: E402
from app.qa import rules, services  # noqa: E402
from app.qa.cli import qa_cli  # noqa: E402
from app.qa.models import Evaluation, Scorecard, ScorecardVersion  # noqa: E402
from app.qa.scorecards import DEFAULT_SCORECARDS, install_default_scorecards  # noqa: E402
from bench.ledger import build_centre  # noqa: E402

ANALYST = "Q00001"
EVALUATORS = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊"]
COMMENTS = ["", "", "", "开场规范，语速适中。", "未主动确认客户是否还有其他需要。",
            "安抚情绪到位，解决方案清晰。", "工单记录不完整，请补充来电原因。",
            "Greeting fine; closing rushed.", "=HYPERLINK(\"http://example.com\",\"录音\")",
            "+86 客户要求回电", "核实身份后再披露账户信息，做得好。"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def local(moment: datetime) -> str:
    return moment.astimezone(centre_tz()).strftime("%Y-%m-%d %H:%M:%S")


def summary_file(rows: int, numbers: list[str], now: datetime, rnd: random.Random) -> bytes:
    """One row per evaluation, as a call-review tool exports it: Chinese headers, GB18030."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["质检编号", "工号", "质检日期", "评分表", "得分", "致命项", "渠道", "质检员",
                     "备注"])
    span = int(timedelta(days=28).total_seconds())
    # the tool numbers evaluations as they are done: ids follow the time
    moments = sorted((now - timedelta(seconds=rnd.randrange(3600, span)) for _ in range(rows)))
    for n, moment in enumerate(moments):
        chat = rnd.random() < 0.35
        critical = rnd.random() < 0.02
        score = 0 if critical else min(100.0, round(rnd.gauss(88, 6), 1))
        writer.writerow([
            f"QA{n + 1:08d}", rnd.choice(numbers),
            local(moment), "chat-standard" if chat else "phone-standard", f"{max(score, 0):g}",
            "是" if critical else "否", "在线" if chat else "电话", rnd.choice(EVALUATORS),
            rnd.choice(COMMENTS)])
    return out.getvalue().encode("gb18030")


def item_file(rows: int, numbers: list[str], now: datetime, rnd: random.Random) -> tuple[bytes,
                                                                                          int]:
    """One row per evaluation and criterion (every criterion of the scorecard), English
    headers, UTF-8; returns the file and its number of evaluations."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["evaluation_id", "agent_id", "evaluated_at", "scorecard", "criterion",
                     "result", "evaluator", "comment"])
    cards = {code: criteria for code, _en, _zh, _channel, criteria in DEFAULT_SCORECARDS}
    span = int(timedelta(days=28).total_seconds())
    moments = sorted((now - timedelta(seconds=rnd.randrange(3600, span))
                      for _ in range(rows // len(cards["phone-standard"]) + 1)), reverse=True)
    written = evaluations = 0
    while written < rows:
        code = "chat-standard" if rnd.random() < 0.35 else "phone-standard"
        number, evaluator = rnd.choice(numbers), rnd.choice(EVALUATORS)
        at = local(moments.pop() if moments else now - timedelta(hours=1))
        evaluations += 1
        for criterion in cards[code]:
            if written == rows:
                break
            pick = rnd.random()
            if criterion.allows_na and pick < 0.5:
                result = "N/A"
            elif pick < (0.004 if criterion.is_critical else 0.06):
                result = "fail"
            elif pick < 0.15 and not criterion.is_critical:
                result = f"{rnd.randrange(int(criterion.weight)):g}"
            else:
                result = "pass" if pick < 0.6 else f"{criterion.weight:g}"
            writer.writerow([f"IT{evaluations:08d}", number, at, code, criterion.code, result,
                             evaluator, rnd.choice(COMMENTS) if result == "fail" else ""])
            written += 1
    return out.getvalue().encode("utf-8"), evaluations


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Evaluation)),
            db.session.scalar(select(func.count()).select_from(PointEntry)))


def run_cli(path: Path, source: str) -> float:
    """`flask qa import FILE --source … --by …`, as an analyst runs it; the seconds it took."""
    started = time.perf_counter()
    qa_cli.main(["import", str(path), "--source", source, "--by", ANALYST],
                prog_name="flask qa", standalone_mode=False)
    elapsed = time.perf_counter() - started
    db.session.remove()
    return elapsed


def naive_import(data: bytes, limit: int, *, source: str, actor_id: int) -> float:
    """The baseline: one row at a time, ORM look-ups, one evaluation and one award per
    transaction. Returns the seconds for `limit` rows."""
    reader = csv.reader(io.StringIO(data.decode("gb18030")))
    next(reader)
    tz = centre_tz()
    started = time.perf_counter()
    for n, cells in enumerate(reader):
        if n == limit:
            break
        external_id, number, when, card_code, score, critical, channel, evaluator, comment = cells
        now = utcnow()
        user = db.session.scalar(select(User).where(User.employee_number == number))
        card = db.session.scalar(select(Scorecard).where(Scorecard.code == card_code))
        version = db.session.scalar(select(ScorecardVersion).where(
            ScorecardVersion.scorecard_id == card.id,
            ScorecardVersion.version == card.current_version))
        evaluated_at = datetime.strptime(when, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
        is_critical = critical == "是"
        value = 0.0 if is_critical else float(score)
        evaluation = Evaluation(
            source=source, external_id=external_id, user_id=user.id,
            scorecard_version_id=version.id, evaluated_at=evaluated_at,
            channel="chat" if channel == "在线" else "phone", evaluator=evaluator,
            score=value, is_critical_fail=is_critical, comment=comment, status="pending",
            window_ends_at=services.dispute_window_end(now),
            fingerprint=rules.fingerprint(value, is_critical, []), created_at=now)
        db.session.add(evaluation)
        db.session.flush()
        if not is_critical:
            incentives.award(incentives.Award(
                event=incentives.Event.QA_EVALUATION.value, user_id=user.id,
                idempotency_key=services.points_key(evaluation.id, 0),
                source_type=services.SOURCE_TYPE, source_id=str(evaluation.id),
                occurred_at=evaluated_at, awarded_by_id=actor_id, score=value, pending=True),
                now=now)
        db.session.commit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="summary rows")
    parser.add_argument("--item-rows", type=int, default=500_000, help="item-level rows")
    parser.add_argument("--baseline", type=int, default=2_000,
                        help="rows of the naive one-row-per-transaction import")
    parser.add_argument("--agents", type=int, default=4000)
    parser.add_argument("--teams", type=int, default=250)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pinwheel-bench-") as workdir:
        overrides = ({} if os.environ.get("DATABASE_URL")
                     else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.db"})
        app = create_app("development", overrides=overrides)
        with app.app_context():
            rate = run(args, Path(workdir))
            db.session.remove()
            db.engine.dispose()
    print(f"rows_per_s={rate:.0f}")


def run(args, workdir: Path) -> float:
    upgrade()   # the schema as production builds it: by the migrations
    now = utcnow()
    install_defaults(now=now)
    install_default_scorecards(now=now)
    agents = build_centre(args.agents, args.teams, now)
    analyst = create_user(employee_number=ANALYST, name="质检员", email=None, password=None,
                          hire_date=now.date(), career_level="agent", roles=["qa_analyst"],
                          actor_id=None, now=now)
    db.session.commit()
    analyst_id = analyst.id
    numbers = list(db.session.scalars(select(User.employee_number).where(User.id.in_(agents))))
    print(f"centre: {len(agents)} agents, {args.teams} teams, database {db.engine.dialect.name}")
    rnd = random.Random(20261201)

    summary = summary_file(args.rows, numbers, now, rnd)
    (workdir / "summary.csv").write_bytes(summary)
    print(f"summary file: {args.rows} rows, {len(summary) / 1024 / 1024:.1f} MiB (GB18030)")
    before = counts()
    seconds = run_cli(workdir / "summary.csv", "bench-tool")
    after = counts()
    rate = args.rows / seconds
    print(f"summary: rows={args.rows} evaluations={after[0] - before[0]} "
          f"point_entries={after[1] - before[1]} seconds={seconds:.2f} rows_per_s={rate:.0f} "
          f"peak_rss_mb={peak_mb():.0f}")
    again = run_cli(workdir / "summary.csv", "bench-tool")
    print(f"summary again: evaluations added={counts()[0] - after[0]} seconds={again:.2f}")

    if args.item_rows:
        data, evaluations = item_file(args.item_rows, numbers, now, rnd)
        (workdir / "items.csv").write_bytes(data)
        del data
        print(f"item file: {args.item_rows} rows, {evaluations} evaluations")
        before = counts()
        seconds = run_cli(workdir / "items.csv", "bench-items")
        after = counts()
        print(f"item-level: rows={args.item_rows} evaluations={after[0] - before[0]} "
              f"point_entries={after[1] - before[1]} seconds={seconds:.2f} "
              f"item_rows_per_s={args.item_rows / seconds:.0f} peak_rss_mb={peak_mb():.0f}")

    if args.baseline:
        limit = min(args.baseline, args.rows)
        seconds = naive_import(summary, limit, source="bench-naive", actor_id=analyst_id)
        baseline = limit / seconds
        print(f"baseline: naive one row per transaction (ORM look-ups, one award each), "
              f"{limit} of the {args.rows} summary rows in {seconds:.2f} s, extrapolated to "
              f"{args.rows} rows: {args.rows / baseline:.0f} s")
        print(f"baseline_rows_per_s={baseline:.0f}")
    started = time.perf_counter()
    differences = verify_rollups()
    print(f"verify_rollups: differences={len(differences)} "
          f"seconds={time.perf_counter() - started:.2f}")
    print(f"peak_rss_mb={peak_mb():.0f}")
    return rate


if __name__ == "__main__":
    main()
