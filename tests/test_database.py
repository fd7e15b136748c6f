"""The bulk INSERT helper: what it writes is what the ORM reads back, constants included
(written into the SQL on SQLite, bound with every row on PostgreSQL)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from app.database import _sqlite_literal, insert_counted, insert_values
from app.qa.models import QaImport


def test_constants_are_written_into_every_row_as_given(db):
    at = datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=8)))
    rows = [(f"it's-{n}.csv", f"{n:064x}", n) for n in range(2500)]   # three statements
    written = insert_values(
        QaImport.__table__, ("filename", "sha256", "rows"), rows,
        returning="filename, id",
        constants={"source": "tool 'a'; --", "layout": "summary", "new": 0, "unchanged": 0,
                   "changed": 0, "imported_by_id": None, "imported_at": at})
    assert len(written) == 2500 and written[0][0] == "it's-0.csv"
    imports = db.session.scalars(select(QaImport).order_by(QaImport.id)).all()
    assert [(i.filename, i.rows) for i in imports[:2]] == [("it's-0.csv", 0), ("it's-1.csv", 1)]
    assert {(i.source, i.layout, i.imported_by_id) for i in imports} == {
        ("tool 'a'; --", "summary", None)}
    assert {i.imported_at for i in imports} == {at.astimezone(UTC)}


def test_a_counted_insert_says_how_many_rows_it_wrote(db):
    rows = [(f"{n}.csv", "f" * 64, n) for n in range(3)]
    assert insert_counted(QaImport.__table__, ("filename", "sha256", "rows"), rows,
                          on_conflict="", constants={
                              "source": "s", "layout": "item", "new": 1, "unchanged": 0,
                              "changed": 0, "imported_at": datetime(2026, 3, 1, tzinfo=UTC)}
                          ) == 3


def test_sqlite_literals_quote_what_they_must():
    assert _sqlite_literal("o'clock") == "'o''clock'"
    assert [_sqlite_literal(v) for v in (None, True, 0, 2.5)] == ["NULL", "1", "0", "2.5"]
