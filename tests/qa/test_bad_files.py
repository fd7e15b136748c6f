"""A corpus of bad QA exports: each is refused with a clear reason (and its row, column and
value where one row is to blame), and leaves the database exactly as it was — every table's
row count and the ledger's sum."""
from __future__ import annotations

import random

import pytest

from app.qa import importers
from app.qa.importers import QaImportError
from tests.support.qa_files import (
    ITEM_EN,
    SUMMARY_EN,
    SUMMARY_ZH,
    csv_bytes,
    table_counts,
    xlsx_bytes,
)

GOOD_ZH = ["QA-9", "A1001", "2026-03-02 10:00", "phone-standard", "90", "否", "电话", "王芳",
           "开场规范"]
GOOD_EN = ["QA-9", "A1001", "2026-03-02 10:00", "phone-standard", "90", "no", "phone", "Wang",
           ""]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def zh(**cells) -> list[str]:
    """The good Chinese summary row with some cells changed (by English field name)."""
    row = list(GOOD_ZH)
    for name, value in cells.items():
        row[SUMMARY_EN.index(name)] = value
    return row


def summary(*rows, encoding="utf-8") -> bytes:
    return csv_bytes(SUMMARY_ZH, *rows, encoding=encoding)


def items(*rows) -> bytes:
    """Item-level rows: (evaluation, agent, criterion, result)."""
    return csv_bytes(ITEM_EN[:6], *[[e, a, "2026-03-02 10:00", "phone-standard", c, r]
                                    for e, a, c, r in rows])


def garbage() -> bytes:
    return random.Random(4).randbytes(4096)


def truncated_xlsx() -> bytes:
    whole = xlsx_bytes(SUMMARY_EN, GOOD_EN)
    return whole[:len(whole) // 2]


def mixed_encodings() -> bytes:
    return (summary(GOOD_ZH, encoding="gb18030")
            + csv_bytes(zh(evaluation_id="QA-10"), encoding="utf-8"))


def one_column_of_10_mb() -> bytes:
    return b"comment\r\n" + (b"x" * 98 + b"\r\n") * 105_000


# (what, the file, its name, expected row, column, value, the reason — or a part of it)
CORPUS = [
    ("empty", lambda: b"", "qa.csv", None, None, None, "The file is empty."),
    ("only a BOM", lambda: b"\xef\xbb\xbf", "qa.csv", None, None, None, "The file is empty."),
    ("blank lines", lambda: b"\r\n  \r\n\t\r\n", "qa.csv", None, None, None,
     "The file is empty."),
    ("a header without rows", lambda: csv_bytes(SUMMARY_ZH), "qa.csv", None, None, None,
     "The file has a header row but no evaluations."),
    ("empty rows", lambda: csv_bytes(SUMMARY_ZH, ",,,,,,,,", " , ,,,,,,,"), "qa.csv", None,
     None, None, "The file has a header row but no evaluations."),
    ("binary garbage", garbage, "qa.csv", None, None, None, "not a spreadsheet"),
    ("a picture", lambda: PNG, "qa.csv", None, None, None, "not a spreadsheet"),
    ("a PDF", lambda: PDF, "qa.xlsx", None, None, None, "not a spreadsheet"),
    ("an old .xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "qa.xls", None,
     None, None, "not a spreadsheet"),
    ("a truncated XLSX", truncated_xlsx, "qa.xlsx", None, None, None, "not a spreadsheet"),
    ("a CSV cut inside a quoted cell",
     lambda: summary(GOOD_ZH) + b'QA-10,A1001,2026-03-02 10:00,phone-standard,90,,,,"Good op',
     "qa.csv", 3, None, None, "The file ends inside a quoted cell that starts in row 3"),
    ("a CSV cut in the middle of a row",
     lambda: summary(GOOD_ZH) + b"QA-10,A1001,2026-03-0", "qa.csv", 3, "质检日期", "2026-03-0",
     "2026-03-0 is not a date and time: write it as YYYY-MM-DD HH:MM."),
    ("a UTF-8 file cut inside a character",
     lambda: summary(GOOD_ZH) + "QA-10,A1001,2026-03-02 10:00,电话服务质检评分".encode()[:-1],
     "qa.csv", 3, "得分", "", "This column needs a value in every row."),
    ("the wrong delimiter", lambda: csv_bytes(SUMMARY_ZH, GOOD_ZH, sep="|"), "qa.csv", 1, None,
     None, "The file has only one column: separate the columns with commas, tabs or "
           "semicolons."),
    ("10 MB of one column", one_column_of_10_mb, "qa.csv", 1, None, None,
     "The file has only one column"),
    ("too many columns", lambda: csv_bytes([f"c{n}" for n in range(300)], ["1"] * 300),
     "qa.csv", 1, None, None, "The file has more than 200 columns."),
    ("duplicated headers",
     lambda: csv_bytes(SUMMARY_ZH + ["agent_id"], GOOD_ZH + ["A1001"]), "qa.csv", 1,
     "agent_id", None, "Two columns mean agent_id / 工号: 工号 and agent_id."),
    ("a missing required column", lambda: csv_bytes(SUMMARY_ZH[:4], GOOD_ZH[:4]), "qa.csv", 1,
     None, None, "The required column score / 得分 is missing."),
    ("nothing but other columns", lambda: csv_bytes(["a", "b", "c"], ["1", "2", "3"]),
     "qa.csv", 1, None, None, "The first row holds none of the QA import's column names"),
    ("a negative score", lambda: summary(zh(score="-5")), "qa.csv", 2, "得分", "-5",
     "The score -5 is outside 0–100."),
    ("a score over 100", lambda: summary(zh(score="100.5")), "qa.csv", 2, "得分", "100.5",
     "The score 100.5 is outside 0–100."),
    ("a score that is no number", lambda: summary(zh(score="九十")), "qa.csv", 2, "得分", "九十",
     "九十 is not a number."),
    ("a date in the future", lambda: summary(zh(evaluated_at="2026-03-15 11:00")), "qa.csv", 2,
     "质检日期", "2026-03-15 11:00", "The evaluation date 2026-03-15 11:00 is in the future."),
    ("a date written the American way", lambda: summary(zh(evaluated_at="03/02/2026")),
     "qa.csv", 2, "质检日期", "03/02/2026", "is not a date and time"),
    ("an impossible date", lambda: summary(zh(evaluated_at="2026-02-30 10:00")), "qa.csv", 2,
     "质检日期", "2026-02-30 10:00", "is not a date and time"),
    ("an impossible time", lambda: summary(zh(evaluated_at="2026-03-02 25:00")), "qa.csv", 2,
     "质检日期", "2026-03-02 25:00", "is not a date and time"),
    ("an unknown employee number", lambda: summary(zh(agent_id="Z9999")), "qa.csv", 2, "工号",
     "Z9999", "Nobody has the employee number Z9999."),
    ("a formula in the employee number",
     lambda: summary(zh(agent_id='"=HYPERLINK(""http://evil.example"",""A1001"")"')), "qa.csv",
     2, "工号", '=HYPERLINK("http://evil.example","A1001")', "Nobody has the employee number"),
    ("an empty employee number", lambda: summary(zh(agent_id="")), "qa.csv", 2, "工号", "",
     "This column needs a value in every row."),
    ("an unknown scorecard", lambda: summary(zh(scorecard="email-standard")), "qa.csv", 2,
     "评分表", "email-standard", "There is no scorecard called email-standard."),
    ("an unknown critical flag", lambda: summary(zh(critical_fail="maybe")), "qa.csv", 2,
     "致命项", "maybe", "maybe is not yes or no."),
    ("an unknown channel", lambda: summary(zh(channel="fax")), "qa.csv", 2, "渠道", "fax",
     "fax is not a channel: write phone, chat, email or other."),
    ("an evaluation id that is too long", lambda: summary(zh(evaluation_id="Q" * 81)),
     "qa.csv", 2, "质检编号", "Q" * 81, "This value is longer than 80 characters."),
    ("a duplicate evaluation", lambda: summary(GOOD_ZH, zh(score="80")), "qa.csv", 3, "质检编号",
     "QA-9", "Evaluation QA-9 appears more than once in the file, first in row 2."),
    ("an unknown criterion", lambda: items(("QA-1", "A1001", "politeness", "pass")), "qa.csv",
     2, "criterion", "politeness", "The scorecard phone-standard has no criterion politeness."),
    ("a duplicate criterion",
     lambda: items(("QA-1", "A1001", "greeting", "pass"), ("QA-1", "A1001", "Greeting", "5")),
     "qa.csv", 3, "criterion", "Greeting",
     "Criterion Greeting appears more than once for evaluation QA-1, first in row 2."),
    ("points over the weight", lambda: items(("QA-1", "A1001", "greeting", "12")), "qa.csv", 2,
     "result", "12", "12 is outside 0–10 for criterion greeting."),
    ("a result that is none", lambda: items(("QA-1", "A1001", "greeting", "maybe")), "qa.csv",
     2, "result", "maybe", "maybe is not a result: write the points, pass, fail or N/A."),
    ("N/A where it does not apply", lambda: items(("QA-1", "A1001", "greeting", "N/A")),
     "qa.csv", 2, "result", "N/A", "Criterion greeting cannot be N/A."),
    ("an evaluation of two agents",
     lambda: items(("QA-1", "A1001", "greeting", "pass"), ("QA-1", "A1002", "closing", "pass")),
     "qa.csv", 3, "agent_id", "A1002",
     "This row gives evaluation QA-1 another agent_id / 工号 than row 2."),
    ("a control character in UTF-8 text", lambda: summary(zh(comment="响铃\x07了")), "qa.csv",
     None, None, None, "not a spreadsheet"),
    ("a control character in GB18030 text",
     lambda: summary(zh(comment="\x1b[0m录音"), encoding="gb18030"), "qa.csv", None, None,
     None, "not a spreadsheet"),
    ("mixed encodings", mixed_encodings, "qa.csv", 3, None, None,
     "The file mixes encodings: row 3 is UTF-8"),
    ("UTF-16", lambda: "质检编号\t工号\r\n".encode("utf-16"), "qa.csv", None, None, None,
     "The file is in UTF-16"),
    ("more cells than column names",
     lambda: summary(GOOD_ZH, zh(evaluation_id="QA-10") + ["extra"]), "qa.csv", 3, None, None,
     "This row has more cells than the first row has column names."),
    ("an XLSX with a bad score", lambda: xlsx_bytes(SUMMARY_EN, GOOD_EN[:4] + ["abc"]),
     "qa.xlsx", 2, "score", "abc", "abc is not a number."),
    ("an XLSX whose employee number is a formula",
     lambda: xlsx_bytes(SUMMARY_EN, GOOD_EN[:1] + ["=A1"] + GOOD_EN[2:]), "qa.xlsx", 2,
     "agent_id", "=A1", "Nobody has the employee number =A1."),
]


@pytest.fixture()
def imported_before(qa, run_import):
    """Something in every QA table the import writes, and points in the ledger."""
    run_import(csv_bytes(SUMMARY_EN, ["QA-1", "A1001", "2026-03-02 10:00", "phone-standard",
                                      "96", "no", "phone", "Wang", ""],
                         ["QA-2", "A1002", "2026-03-02 10:00", "phone-standard", "82", "no",
                          "phone", "Wang", ""]))
    counts = table_counts()
    assert counts["qa_evaluations"] == 2 and counts["ledger_sum"] == 25
    return counts


def refused(plan, db, now, analyst_id, data: bytes, filename: str, source: str = "tool"):
    """The plan's errors, having checked that nothing can be applied and nothing changed."""
    before = table_counts()
    planned = plan(data, filename, source=source)
    assert planned.errors
    with pytest.raises(QaImportError):
        importers.apply_import(planned, filename=filename, actor_id=analyst_id, now=now)
    db.session.rollback()
    assert table_counts() == before
    return planned.errors


@pytest.mark.parametrize("what, make, filename, row, column, value, reason", CORPUS,
                         ids=[case[0] for case in CORPUS])
def test_a_bad_file_is_refused_with_a_clear_reason_and_changes_nothing(
        qa, db, now, plan, imported_before, what, make, filename, row, column, value, reason):
    errors = refused(plan, db, now, qa.analyst.id, make(), filename)
    matching = [e for e in errors if reason in e.english()]
    assert matching, [e.english() for e in errors]
    error = matching[0]
    assert (error.row, error.column) == (row, column)
    if value is not None:
        assert error.value == value
    assert table_counts() == imported_before


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 25


def test_a_file_larger_than_the_limit_is_refused(qa, db, now, plan, app, monkeypatch,
                                                 imported_before):
    monkeypatch.setitem(app.config, "QA_IMPORT_MAX_BYTES", 1024 * 1024)
    data = summary(*[zh(evaluation_id=f"QA-{n}") for n in range(40_000)])
    [error] = refused(plan, db, now, qa.analyst.id, data, "qa.csv")
    assert error.english() == "The file is larger than 1 MB."


def test_a_file_with_more_rows_than_the_limit_is_refused(qa, db, now, plan, app, monkeypatch,
                                                         imported_before):
    monkeypatch.setitem(app.config, "QA_IMPORT_MAX_ROWS", 5)
    data = summary(*[zh(evaluation_id=f"QA-{n}") for n in range(10)])
    [error] = refused(plan, db, now, qa.analyst.id, data, "qa.csv")
    assert error.english() == "The file has more than 5 rows."


def test_a_source_name_that_is_no_name_is_refused(qa, db, now, plan, imported_before):
    [error] = refused(plan, db, now, qa.analyst.id, summary(GOOD_ZH), "qa.csv",
                      source="our tool!")
    assert error.english().startswith("Name the source with letters, digits")


def test_a_truncated_row_names_every_missing_value(qa, db, now, plan, imported_before):
    errors = refused(plan, db, now, qa.analyst.id,
                     summary(GOOD_ZH) + "QA-10,A1001".encode(), "qa.csv")
    assert {(e.row, e.column, e.english()) for e in errors} == {
        (3, "质检日期", "This column needs a value in every row."),
        (3, "评分表", "This column needs a value in every row."),
        (3, "得分", "This column needs a value in every row.")}


def test_a_file_with_many_errors_lists_them_all_in_row_order(qa, db, now, plan,
                                                             imported_before):
    errors = refused(plan, db, now, qa.analyst.id,
                     summary(zh(evaluation_id="QA-10", score="-1"),
                             zh(evaluation_id="QA-11", agent_id="Z1", scorecard="nope"),
                             zh(evaluation_id="QA-12")), "qa.csv")
    assert [(e.row, e.column) for e in errors] == [(2, "得分"), (3, "工号"), (3, "评分表")]
    text = importers.errors_csv(importers.ImportPlan("tool", "qa.csv", "", errors=errors))
    assert text.count("\n") == 4
