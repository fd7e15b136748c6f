"""`flask qa …`: import (steps on stderr, counts, errors with row/column/value/reason and no
trace), confirm-due and install-defaults."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.database import utcnow
from app.incentives.models import PointEntry
from app.qa import services
from app.qa.models import Evaluation, QaImport, Scorecard
from tests.support.qa import evaluate, phone_scorecard
from tests.support.qa_files import SUMMARY_EN, SUMMARY_ZH, csv_bytes, table_counts

ROWS = [["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "96", "否", "电话", "王芳", ""],
        ["QA-2", "A1002", "2026-03-02 11:00", "phone-standard", "85", "否", "电话", "王芳", ""]]


def write(tmp_path, data: bytes, name: str = "results.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def qa_import(runner, path, *extra, by="Q0001"):
    return runner.invoke(args=["qa", "import", str(path), "--source", "tool", "--by", by,
                               *extra])


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_an_import_shows_its_steps_prints_the_counts_and_commits(runner, db, qa, tmp_path):
    path = write(tmp_path, csv_bytes(SUMMARY_ZH, *ROWS, encoding="gb18030"))
    result = qa_import(runner, path)
    assert result.exit_code == 0, result.output
    assert ("Layout: summary. Rows read: 2, new: 2, unchanged: 0, changed: 0, errors: 0."
            in result.stdout)
    assert "Imported 2 new and corrected 0 evaluations" in result.stdout
    for step in ("reading the file", "checking every row", "writing evaluations and points"):
        assert step in result.stderr
    db.session.expire_all()
    assert count(db, Evaluation) == 2 and count(db, PointEntry) == 2
    done = db.session.scalar(select(QaImport))
    assert (done.imported_by_id, done.filename, done.new) == (qa.analyst.id, "results.csv", 2)


def test_importing_again_says_there_is_nothing_to_import(runner, db, qa, tmp_path):
    path = write(tmp_path, csv_bytes(SUMMARY_ZH, *ROWS))
    assert qa_import(runner, path).exit_code == 0
    before = table_counts()
    result = qa_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "new: 0, unchanged: 2, changed: 0" in result.stdout
    assert "Nothing to import" in result.stdout
    assert table_counts() == before


def test_a_dry_run_counts_and_writes_nothing(runner, db, qa, tmp_path):
    before = table_counts()
    result = qa_import(runner, write(tmp_path, csv_bytes(SUMMARY_ZH, *ROWS)), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "new: 2" in result.stdout and "Dry run: nothing was written." in result.stdout
    db.session.expire_all()
    assert table_counts() == before


def test_a_file_with_errors_prints_each_and_exits_non_zero_leaving_no_trace(runner, db, qa,
                                                                           tmp_path):
    assert qa_import(runner, write(tmp_path, csv_bytes(SUMMARY_ZH, ROWS[0]), "first.csv")
                     ).exit_code == 0
    before = table_counts()
    bad = [ROWS[1][:4] + ["-5"] + ROWS[1][5:],
           ["QA-3", "Z9999"] + ROWS[1][2:]]
    result = qa_import(runner, write(tmp_path, csv_bytes(SUMMARY_ZH, ROWS[0], *bad)))
    assert result.exit_code == 1
    assert "row 3, column 得分, value -5: The score -5 is outside 0–100." in result.stderr
    assert ("row 4, column 工号, value Z9999: Nobody has the employee number Z9999."
            in result.stderr)
    assert "Nothing was imported: 2 problem(s) found." in result.stderr
    db.session.expire_all()
    assert table_counts() == before


def test_a_file_that_is_not_a_spreadsheet_exits_with_an_error(runner, db, qa, tmp_path):
    before = table_counts()
    result = qa_import(runner, write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00", "photo.csv"))
    assert result.exit_code == 1
    assert "not a spreadsheet" in result.stderr
    assert table_counts() == before


def test_the_importer_must_be_someone_who_may_import(runner, db, qa, tmp_path):
    path = write(tmp_path, csv_bytes(SUMMARY_EN[:5], ROWS[0][:5]))
    unknown = qa_import(runner, path, by="X0000")
    assert unknown.exit_code == 1 and "Nobody active has the employee number" in unknown.stderr
    agent = qa_import(runner, path, by="A1001")
    assert agent.exit_code == 1 and "may not import QA results" in agent.stderr
    assert count(db, Evaluation) == 0


def test_confirm_due_confirms_the_evaluations_whose_window_has_ended(runner, db, qa):
    version = phone_scorecard(utcnow())
    long_ago = utcnow() - timedelta(days=30)
    old = evaluate(version, qa.agent.id, "OLD", now=long_ago, analyst_id=qa.analyst.id)
    fresh = evaluate(version, qa.agent.id, "NEW", now=utcnow(), analyst_id=qa.analyst.id)
    db.session.commit()
    result = runner.invoke(args=["qa", "confirm-due"])
    assert result.exit_code == 0, result.output
    assert "Confirmed 1 evaluation(s)." in result.stdout
    db.session.expire_all()
    assert db.session.get(Evaluation, old).status == "confirmed"
    assert db.session.get(Evaluation, fresh).status == "pending"
    [entry] = db.session.scalars(select(PointEntry).where(
        PointEntry.idempotency_key == services.points_key(old, 0))).all()
    assert entry.status == "confirmed"


def test_install_defaults_adds_the_missing_scorecards_once(runner, db):
    first = runner.invoke(args=["qa", "install-defaults"])
    assert first.exit_code == 0 and "Installed 2 default scorecard(s)." in first.stdout
    again = runner.invoke(args=["qa", "install-defaults"])
    assert "Installed 0 default scorecard(s)." in again.stdout
    assert sorted(db.session.scalars(select(Scorecard.code))) == ["chat-standard",
                                                                   "phone-standard"]
