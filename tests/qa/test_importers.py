"""The QA import, from in-memory files: both layouts in every encoding and header language,
column mappings, the preview's numbers, idempotent re-imports, corrections of changed scores,
critical fails and their remediation, scores computed from the scorecard's weights."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.incentives.models import PointEntry
from app.qa import importers, rules, services
from app.qa.importers import ColumnMappingError, QaImportError
from app.qa.models import ColumnMapping, Criterion, Evaluation, EvaluationItem, QaImport
from app.qa.scorecards import CriterionSpec, save_scorecard, specs_of
from app.training.models import Assignment
from tests.support.qa_files import (
    ITEM_EN,
    ITEM_ZH,
    SUMMARY_EN,
    SUMMARY_ZH,
    csv_bytes,
    encoded,
    table_counts,
    xlsx_bytes,
)

ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "xlsx"]


def evaluation(external_id: str, source: str = "tool") -> Evaluation:
    from app.database import db
    return db.session.scalar(select(Evaluation).where(Evaluation.source == source,
                                                      Evaluation.external_id == external_id))


def entries_of(evaluation_id: int) -> list[PointEntry]:
    from app.database import db
    return list(db.session.scalars(select(PointEntry).where(
        PointEntry.source_type == "qa_evaluation", PointEntry.source_id == str(evaluation_id))
        .order_by(PointEntry.id)))


def summary_rows(language: str) -> list[list]:
    if language == "zh":
        return [SUMMARY_ZH,
                ["QA-1", "A1001", "2026-03-02 10:00", "电话服务质检评分表", "96", "否", "电话",
                 "王芳", "开场规范"],
                ["QA-2", "a1002", "2026/3/3 9:05", "在线客服质检评分表", "85.5", "", "在线",
                 "王芳", ""]]
    return [SUMMARY_EN,
            ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "96", "no", "phone",
             "Wang Fang", "Good opening"],
            ["QA-2", "a1002", "2026/3/3 9:05", "Chat service standard", "85.5", "", "chat",
             "Wang Fang", ""]]


def item_rows(language: str) -> list[list]:
    """QA-1: greeting 5 of 10, the wait N/A, closing failed → 85/95; QA-2 all passed."""
    if language == "zh":
        return [ITEM_ZH,
                ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "问候并报公司名称和工号",
                 "5", "王芳", "问候不完整"],
                ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "wait_apology", "不适用",
                 "王芳", ""],
                ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "closing", "不通过",
                 "王芳", "未等客户先挂机"],
                ["QA-2", "A1002", "2026-03-03 09:05", "电话服务质检评分表", "greeting", "通过",
                 "王芳", ""]]
    return [ITEM_EN,
            ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard",
             "Greeting with the company name and employee number", "5", "Wang Fang",
             "Greeting incomplete"],
            ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "wait_apology", "N/A",
             "Wang Fang", ""],
            ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "closing", "fail",
             "Wang Fang", "Hung up first"],
            ["QA-2", "A1002", "2026-03-03 09:05", "Phone service standard", "greeting", "pass",
             "Wang Fang", ""]]


# --- every layout × encoding × header language -----------------------------------------------

@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_summary_file_imports_in_every_encoding_and_language(qa, plan, run_import, encoding,
                                                               language):
    data, filename = encoded(summary_rows(language), encoding)
    planned = plan(data, filename)
    assert planned.errors == []
    assert (planned.layout, planned.rows, planned.new, planned.unchanged, planned.changed) == (
        "summary", 2, 2, 0, 0)
    done = run_import(data, filename)
    assert (done.layout, done.rows, done.new) == ("summary", 2, 2)
    first, second = evaluation("QA-1"), evaluation("QA-2")
    assert (first.user_id, first.score, first.is_critical_fail, first.channel) == (
        qa.agent.id, 96.0, False, "phone")
    # the centre's local time (Asia/Shanghai) stored in UTC
    assert first.evaluated_at == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert (second.user_id, second.score, second.channel) == (qa.other.id, 85.5, "chat")
    assert second.evaluated_at == datetime(2026, 3, 3, 1, 5, tzinfo=UTC)
    assert second.scorecard_version.scorecard.code == "chat-standard"
    assert first.evaluator in ("王芳", "Wang Fang") and first.status == "pending"
    [entry] = entries_of(first.id)
    assert (entry.status, entry.points) == ("pending", 20)      # ≥ 95 → 20 points
    assert [e.points for e in entries_of(second.id)] == [5]     # ≥ 80 → 5


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_item_level_file_imports_in_every_encoding_and_language(qa, plan, run_import,
                                                                   encoding, language):
    data, filename = encoded(item_rows(language), encoding)
    planned = plan(data, filename)
    assert planned.errors == []
    assert (planned.layout, planned.rows, planned.new) == ("item", 4, 2)
    run_import(data, filename)
    first, second = evaluation("QA-1"), evaluation("QA-2")
    assert (first.score, first.is_critical_fail) == (round(85 * 100 / 95, 2), False)
    assert first.evaluated_at == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    items = {item.criterion.code: item for item in first.items}
    assert set(items) == {"greeting", "wait_apology", "closing"}
    assert (items["greeting"].points, items["greeting"].is_passed) == (5.0, False)
    assert (items["wait_apology"].points, items["wait_apology"].is_passed) == (None, None)
    assert (items["closing"].points, items["closing"].is_passed) == (0.0, False)
    assert items["closing"].comment in ("未等客户先挂机", "Hung up first")
    assert second.score == 100.0 and second.user_id == qa.other.id
    assert [e.points for e in entries_of(second.id)] == [20]
    assert [e.points for e in entries_of(first.id)] == [5]       # 89.47 → 5


def test_xlsx_cells_of_dates_and_numbers_read_as_their_text(qa, make_user, plan):
    make_user(employee_number="100234")
    data = xlsx_bytes(SUMMARY_EN[:5], ["QA-1", 100234, datetime(2026, 3, 2, 10, 0),
                                       "phone-standard", 95.5])
    planned = plan(data, "qa.xlsx")
    assert planned.errors == []
    [row] = planned.new_rows
    assert (row.score, row.evaluated_at) == (95.5, datetime(2026, 3, 2, 2, 0, tzinfo=UTC))


def test_headers_compare_ignoring_case_blanks_and_aliases(qa, plan):
    data = csv_bytes([" Evaluation ID ", "EMPLOYEE NO", "qa date", "Scorecard Code",
                      "Total Score"],
                     ["QA-1", "A1001", "2026-03-02 10:00", "PHONE-STANDARD", "96"])
    planned = plan(data)
    assert planned.errors == [] and planned.new == 1
    assert planned.new_rows[0].score == 96.0


def test_dates_in_the_forms_files_use(qa, plan):
    rows = [SUMMARY_EN[:5]] + [[f"QA-{n}", "A1001", value, "phone-standard", "90"]
                               for n, value in enumerate([
                                   "2026-03-02 10:00:00", "2026/3/2 10:00", "2026.03.02 10:00",
                                   "2026年3月2日 10:00", "2026-03-02T10:00",
                                   "２０２６－０３－０２ １０:００",
                                   "2026-03-02T02:00:00Z", "2026-03-02T10:00:00+08:00",
                                   "46083.41666666666"])]
    planned = plan(csv_bytes(*rows))
    assert planned.errors == []
    assert {row.evaluated_at for row in planned.new_rows} == {
        datetime(2026, 3, 2, 2, 0, tzinfo=UTC)}
    only_a_day = plan(csv_bytes(SUMMARY_EN[:5], ["QA-1", "A1001", "2026-03-02",
                                                 "phone-standard", "90"]))
    assert only_a_day.new_rows[0].evaluated_at == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)


def test_the_channel_defaults_to_the_scorecards(qa, plan):
    data = csv_bytes(SUMMARY_EN[:5], ["QA-1", "A1001", "2026-03-02 10:00", "chat-standard",
                                      "90"])
    assert plan(data).new_rows[0].channel == "chat"


def test_formula_looking_cells_are_stored_as_text(qa, run_import):
    data = csv_bytes(SUMMARY_EN, ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "90",
                                  "no", "phone", "@SUM(A1)",
                                  '"=HYPERLINK(""http://evil.example"",""click"")"'])
    run_import(data)
    stored = evaluation("QA-1")
    assert stored.comment == '=HYPERLINK("http://evil.example","click")'
    assert stored.evaluator == "@SUM(A1)"


def test_the_errors_download_escapes_formula_looking_cells(qa, plan):
    data = csv_bytes(SUMMARY_EN[:5], ["QA-1", "=1+2", "2026-03-02 10:00", "phone-standard",
                                      "90"])
    text = importers.errors_csv(plan(data))
    assert text.startswith("\ufeffRow,Column,Value,Reason")
    assert "2,agent_id,'=1+2,Nobody has the employee number =1+2." in text


# --- column mappings --------------------------------------------------------------------------

ACME = {"Ticket QA No": "evaluation_id", "Staff": "agent_id", "When": "evaluated_at",
        "Form": "scorecard", "Mark": "score"}


def test_a_saved_column_mapping_reads_the_sources_own_headers(qa, db, now, plan):
    data = csv_bytes(list(ACME), ["T-9", "A1001", "2026-03-02 10:00", "phone-standard", "91"])
    assert {e.english() for e in plan(data, source="acme").errors} >= {
        "The required column evaluation_id / 质检编号 is missing."}
    importers.save_column_mapping("acme", ACME, actor_id=qa.analyst.id, now=now)
    db.session.commit()
    assert importers.get_column_mapping("acme") == ACME
    planned = plan(data, source="acme")
    assert planned.errors == [] and planned.new_rows[0].external_id == "T-9"
    # another source does not use it
    assert plan(data, source="other").errors
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "qa.mapping_saved"))
    assert audit.actor_id == qa.analyst.id and audit.details["source"] == "acme"


def test_a_mapping_may_name_fields_by_their_headers_and_wins_over_them(qa, db, now, plan):
    importers.save_column_mapping("acme", {"Score": "comment", "Points": "得分",
                                           "QA No": "evaluation_id"},
                                  actor_id=qa.analyst.id, now=now)
    data = csv_bytes(["QA No", "agent_id", "evaluated_at", "scorecard", "Score", "Points"],
                     ["T-1", "A1001", "2026-03-02 10:00", "phone-standard", "great call", "88"])
    [row] = plan(data, source="acme").new_rows
    assert (row.score, row.comment) == (88.0, "great call")


@pytest.mark.parametrize("columns, message", [
    ({"Staff": "salary"}, "salary is not a field of the QA import."),
    ({"Staff": "agent_id", "Agent": "工号"}, "Staff and Agent are both mapped to agent_id."),
    ({"Staff": "agent_id", " staff ": "comment"}, "The column staff is mapped twice."),
])
def test_a_mapping_that_makes_no_sense_is_refused(qa, now, columns, message):
    with pytest.raises(ColumnMappingError) as error:
        importers.save_column_mapping("acme", columns, actor_id=qa.analyst.id, now=now)
    assert str(error.value) == message


def test_an_empty_mapping_removes_it(qa, db, now):
    importers.save_column_mapping("acme", ACME, actor_id=qa.analyst.id, now=now)
    assert importers.save_column_mapping("acme", {}, actor_id=qa.analyst.id, now=now) is None
    assert importers.get_column_mapping("acme") is None
    assert db.session.scalar(select(ColumnMapping)) is None


# --- the preview, re-imports and corrections --------------------------------------------------

def test_the_preview_counts_rows_new_unchanged_and_changed(qa, plan, run_import):
    run_import(csv_bytes(SUMMARY_EN[:5],
                         ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "96"],
                         ["QA-2", "A1001", "2026-03-02 11:00", "phone-standard", "91"],
                         ["QA-3", "A1002", "2026-03-02 12:00", "phone-standard", "85"]))
    planned = plan(csv_bytes(SUMMARY_EN[:5],
                             ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "96"],
                             ["QA-2", "A1001", "2026-03-02 11:00", "phone-standard", "91.0"],
                             ",,,,",
                             ["QA-3", "A1002", "2026-03-02 12:00", "phone-standard", "70"],
                             ["QA-4", "A1002", "2026-03-03 12:00", "phone-standard", "99"],
                             ["QA-5", "A1002", "2026-03-03 13:00", "chat-standard", "80"]))
    assert planned.errors == []
    assert (planned.rows, planned.new, planned.unchanged, planned.changed) == (5, 2, 2, 1)
    assert [row.external_id for row in planned.new_rows] == ["QA-4", "QA-5"]
    assert [row.score for _id, row in planned.changed_rows] == [70.0]


def test_a_small_file_of_a_source_with_many_evaluations_is_compared_by_its_ids(
        qa, plan, run_import, monkeypatch):
    """Earlier imports of a source more than twice the file's size are asked for by the
    file's ids (a query per chunk of ids) rather than read whole."""
    run_import(csv_bytes(SUMMARY_EN[:5], *[
        [f"QA-{n}", "A1001", f"2026-03-02 {10 + n}:00", "phone-standard", "90"]
        for n in range(1, 8)]))
    monkeypatch.setattr(importers, "_QUERY_CHUNK", 2)
    planned = plan(csv_bytes(SUMMARY_EN[:5],
                             ["QA-5", "A1001", "2026-03-02 15:00", "phone-standard", "90"],
                             ["QA-2", "A1001", "2026-03-02 12:00", "phone-standard", "75"],
                             ["QA-9", "A1002", "2026-03-03 12:00", "phone-standard", "99"]))
    assert planned.errors == []
    assert (planned.new, planned.unchanged, planned.changed) == (1, 1, 1)
    assert [row.external_id for row in planned.new_rows] == ["QA-9"]
    assert [(evaluation("QA-2").id, 75.0)] == [(i, row.score) for i, row in planned.changed_rows]


def test_the_preview_counts_the_rows_without_errors_and_keeps_nothing_to_write(qa, plan):
    planned = plan(csv_bytes(SUMMARY_EN[:5],
                             ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "96"],
                             ["QA-2", "A9999", "2026-03-02 11:00", "phone-standard", "91"]))
    assert (planned.rows, planned.new, len(planned.errors)) == (2, 1, 1)
    assert planned.new_rows == [] and planned.changed_rows == []
    with pytest.raises(QaImportError):
        importers.apply_import(planned, filename="qa.csv", actor_id=qa.analyst.id,
                               now=datetime.now(UTC))


def test_reimporting_the_same_file_adds_nothing(qa, db, now, plan, run_import):
    data, filename = encoded(item_rows("zh"), "gb18030")
    run_import(data, filename)
    before = table_counts()
    planned = plan(data, filename)
    assert (planned.new, planned.unchanged, planned.changed, planned.errors) == (0, 2, 0, [])
    with pytest.raises(QaImportError) as error:
        importers.apply_import(planned, filename=filename, actor_id=qa.analyst.id, now=now)
    assert "Nothing to import" in str(error.value)
    db.session.rollback()
    assert table_counts() == before


def test_a_changed_score_is_corrected_with_an_audit_line(qa, db, now, plan, run_import):
    run_import(csv_bytes(SUMMARY_EN[:5],
                         ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "96"]))
    stored = evaluation("QA-1")
    [old] = entries_of(stored.id)
    assert (old.status, old.points) == ("pending", 20)

    done = run_import(csv_bytes(SUMMARY_EN[:5],
                                ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "85"],
                                ["QA-2", "A1002", "2026-03-02 10:00", "phone-standard", "90"]),
                      "second.csv")
    assert (done.new, done.changed, done.unchanged) == (1, 1, 0)
    db.session.refresh(stored)
    assert (stored.score, stored.revision, stored.import_id) == (85.0, 1, done.id)
    first, second = entries_of(stored.id)
    assert (first.id, first.status) == (old.id, "reversed")     # pending: simply rejected
    assert (second.status, second.points, second.idempotency_key) == (
        "pending", 5, services.points_key(stored.id, 1))
    corrected = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "qa.evaluation_corrected"))
    assert corrected.target_id == stored.id and corrected.actor_id == qa.analyst.id
    assert corrected.details["reason"] == "Re-import second.csv"
    assert corrected.details["before"]["score"] == 96.0
    imported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "qa.import")
                                  .order_by(AuditEvent.id)).all()
    assert [a.details["new"] for a in imported] == [1, 1]
    assert (imported[-1].details["filename"], imported[-1].details["changed"]) == (
        "second.csv", 1)


def test_a_reimport_cannot_move_an_evaluation_to_another_agent(qa, plan, run_import):
    run_import(csv_bytes(SUMMARY_EN[:5],
                         ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "96"]))
    [error] = plan(csv_bytes(SUMMARY_EN[:5],
                             ["QA-1", "A1002", "2026-03-02 10:00", "phone-standard", "80"])).errors
    assert (error.row, error.column) == (2, "agent_id")
    assert "imported for another agent" in error.english()


def test_a_disputed_evaluation_is_not_corrected_by_a_reimport(qa, db, now, plan, run_import):
    run_import(csv_bytes(SUMMARY_EN[:5],
                         ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "96"]))
    services.raise_dispute(evaluation("QA-1").id, reason="I greeted properly.",
                           actor_id=qa.agent.id, now=now)
    db.session.commit()
    [error] = plan(csv_bytes(SUMMARY_EN[:5],
                             ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "80"])).errors
    assert (error.row, error.column, error.value) == (2, "evaluation_id", "QA-1")
    assert "is disputed" in error.english()


def test_an_evaluation_keeps_the_scorecard_version_it_was_scored_with(qa, db, now, plan,
                                                                      run_import):
    run_import(csv_bytes(ITEM_EN[:6],
                         ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "greeting",
                          "5"]))
    old_version = evaluation("QA-1").scorecard_version
    specs = specs_of(old_version)
    specs[1] = CriterionSpec(**{**specs[1].__dict__, "weight": 20})      # greeting now 20
    save_scorecard(old_version.scorecard_id, code="phone-standard", name_en="Phone",
                   name_zh="电话", channel="phone", criteria=specs, actor_id=qa.analyst.id,
                   now=now)
    db.session.commit()
    planned = plan(csv_bytes(ITEM_EN[:6],
                             ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "greeting",
                              "5"],
                             ["QA-2", "A1001", "2026-03-02 10:00", "phone-standard", "greeting",
                              "15"]))
    assert planned.errors == []
    assert (planned.unchanged, planned.new) == (1, 1)
    [new] = planned.new_rows
    assert new.scorecard_version_id != old_version.id
    assert new.score == round(105 * 100 / 110, 2)


# --- scores, critical fails, remediation ------------------------------------------------------

def test_the_score_comes_from_the_weights_as_the_rules_compute_it(qa, db, plan):
    data = csv_bytes(ITEM_EN[:6],
                     ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "greeting", "7.5"],
                     ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "empathy", "N/A"],
                     ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "wait_apology",
                      "n/a"],
                     ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "accurate_answer",
                      "fail"],
                     ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "closing", "pass"])
    [row] = plan(data).new_rows
    version = db.session.get(Criterion, row.items[0].criterion_id).scorecard_version
    terms = [rules.CriterionTerms(c.code, c.weight, c.is_critical, c.allows_na)
             for c in version.criteria]
    expected, critical = rules.score_of(terms, {
        "greeting": rules.ItemResult("greeting", points=7.5),
        "empathy": rules.ItemResult("empathy", is_na=True),
        "wait_apology": rules.ItemResult("wait_apology", is_na=True),
        "accurate_answer": rules.ItemResult("accurate_answer", passed=False),
        "closing": rules.ItemResult("closing", passed=True)})
    assert (row.score, row.is_critical_fail) == (expected, critical) == (
        round(67.5 * 100 / 85, 2), False)
    assert row.fingerprint == rules.fingerprint(expected, False, [
        ("greeting", 7.5), ("empathy", None), ("wait_apology", None), ("accurate_answer", 0.0),
        ("closing", 5.0)])


def test_an_items_comment_shared_by_every_row_is_the_evaluations(qa, plan):
    data = csv_bytes(ITEM_EN,
                     ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "greeting", "5",
                      "Wang", "Calm call"],
                     ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "closing", "pass",
                      "Wang", "Calm call"])
    [row] = plan(data).new_rows
    assert row.comment == "Calm call" and {i.comment for i in row.items} == {""}


def test_a_failed_critical_criterion_scores_zero_earns_nothing_and_assigns_remediation(
        qa, db, now, run_import):
    services.save_remediation_rule("forbidden_phrase", item_kind="lesson",
                                   item_code="lesson-forbidden-phrases",
                                   title="Forbidden phrases", due_days=7,
                                   actor_id=qa.analyst.id, now=now)
    db.session.commit()
    run_import(csv_bytes(ITEM_EN[:6],
                         ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "greeting",
                          "pass"],
                         ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard",
                          "no_forbidden_phrases", "fail"],
                         ["QA-2", "A1002", "2026-03-02 10:00", "phone-standard",
                          "verification", "fail"]))
    first, second = evaluation("QA-1"), evaluation("QA-2")
    assert (first.score, first.is_critical_fail) == (0.0, True)
    assert entries_of(first.id) == [] and entries_of(second.id) == []
    [assignment] = db.session.scalars(select(Assignment)).all()
    assert (assignment.user_id, assignment.item_code, assignment.source_id) == (
        qa.agent.id, "lesson-forbidden-phrases", str(first.id))
    # verification has no mapping: nothing is assigned for QA-2


def test_a_critical_fail_in_a_summary_file_uses_the_other_mapping(qa, db, now, run_import):
    services.save_remediation_rule("other", item_kind="scenario", item_code="sc-basics",
                                   title="Service basics", due_days=7, actor_id=qa.analyst.id,
                                   now=now)
    db.session.commit()
    run_import(csv_bytes(SUMMARY_ZH[:6],
                         ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard", "75", "是"]))
    stored = evaluation("QA-1")
    assert (stored.score, stored.is_critical_fail) == (0.0, True)
    assert entries_of(stored.id) == []
    [assignment] = db.session.scalars(select(Assignment)).all()
    assert assignment.item_code == "sc-basics" and assignment.user_id == qa.agent.id


def test_the_import_row_and_its_audit_line(qa, db, run_import):
    data, filename = encoded(summary_rows("en"), "utf-8")
    done = run_import(data, "results.csv")
    stored = db.session.get(QaImport, done.id)
    assert (stored.source, stored.filename, stored.imported_by_id) == (
        "tool", "results.csv", qa.analyst.id)
    assert len(stored.sha256) == 64
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "qa.import"))
    assert audit.target_id == done.id and audit.details["rows"] == 2
    assert db.session.scalar(select(EvaluationItem)) is None     # a summary has no items
