"""The bulk INSERT helper: what it writes is what the ORM reads back, constants included
(written into the SQL on SQLite, bound once per statement on PostgreSQL)."""
from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import select

from app import database
from app.database import (
    Converted,
    _sqlite_literal,
    collector_paused,
    driver_times,
    insert_columns,
    insert_counted,
    insert_ids,
    insert_values,
)
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


def test_times_converted_all_at_once_are_stored_as_the_orm_stores_them(db):
    """`driver_times` (numpy's text on SQLite) against the column type's own conversion:
    microseconds, other zones, a summer-time change."""
    moments = pd.Series(pd.to_datetime([
        "2026-03-29 01:59:59.999999", "2026-03-29 03:00:00", "1999-12-31 23:59:59.123456",
        "2026-11-30 16:00:00"], format="ISO8601")).dt.tz_localize("Europe/Berlin")
    stored = driver_times(QaImport.__table__, "imported_at", moments)
    assert isinstance(stored, Converted) and len(stored) == 4
    by_orm = QaImport.__table__.c.imported_at.type.process_bind_param
    dialect = db.session.connection().dialect
    expected = [by_orm(m, dialect) for m in moments.dt.to_pydatetime()]
    if dialect.name == "sqlite":
        expected = [m.isoformat(" ", "microseconds") for m in expected]
    assert list(stored) == expected
    assert insert_columns(QaImport.__table__, {
        "filename": [f"{n}.csv" for n in range(4)], "imported_at": stored},
        constants={"source": "s", "sha256": "0" * 64, "layout": "item", "rows": 1, "new": 1,
                   "unchanged": 0, "changed": 0}, counted=True) == 4
    read = db.session.scalars(select(QaImport.imported_at).order_by(QaImport.id)).all()
    assert read == [m.astimezone(UTC) for m in moments.dt.to_pydatetime()]


def test_columns_are_converted_unless_given_converted(db):
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    rows = insert_columns(QaImport.__table__, {
        "filename": ["a.csv", "b.csv"], "imported_at": [at, at + timedelta(seconds=1)],
        "rows": (1, 2)}, returning="filename, rows",
        constants={"source": "s", "sha256": "0" * 64, "layout": "item", "new": 1,
                   "unchanged": 0, "changed": 0})
    assert [tuple(r) for r in rows] == [("a.csv", 1), ("b.csv", 2)]
    assert db.session.scalars(select(QaImport.imported_at).order_by(QaImport.id)).all() == [
        at, at + timedelta(seconds=1)]


def test_long_columns_of_utc_times_are_converted_all_at_once_as_one_by_one():
    """`_utc_texts` (pandas and numpy) gives `_utc_text` of each value: whole seconds,
    microseconds, times long ago; it leaves short columns and any other zone to the
    per-value conversion, which refuses naive times."""
    start = datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    moments = [start + timedelta(seconds=37 * n, microseconds=n % 3) for n in range(300)]
    assert database._utc_texts(moments) == [database._utc_text(m) for m in moments]
    assert database._convert_all(moments, database._utc_text, {})[:2] == [
        "1999-12-31 23:59:59.999999", "2000-01-01 00:00:37.000000"]
    assert database._utc_texts(moments[:10]) is None
    east = [m.astimezone(timezone(timedelta(hours=8))) for m in moments]
    assert database._utc_texts(east) is None
    assert database._convert_all(east, database._utc_text, {}) == [
        database._utc_text(m) for m in moments]
    naive = [*moments[:-1], moments[-1].replace(tzinfo=None)]
    assert database._utc_texts(naive) is None
    with pytest.raises(ValueError, match="naive"):
        database._convert_all(naive, database._utc_text, {})


def _imports(count: int, start: int = 0) -> dict[str, list]:
    return {"filename": [f"{n}.csv" for n in range(start, start + count)],
            "sha256": ["0" * 64] * count, "rows": list(range(start, start + count))}


_IMPORT_CONSTANTS = {"source": "s", "layout": "item", "new": 1, "unchanged": 0, "changed": 0,
                     "imported_at": datetime(2026, 3, 1, tzinfo=UTC)}


def test_new_rows_ids_come_back_in_row_order(db):
    first = insert_ids(QaImport.__table__, _imports(3), key="filename",
                       constants=_IMPORT_CONSTANTS)
    ids = insert_ids(QaImport.__table__, _imports(1500, start=3), key="filename",
                     constants=_IMPORT_CONSTANTS)   # two statements
    assert len(set(first + ids)) == 1503
    stored = dict(db.session.execute(select(QaImport.id, QaImport.filename)).all())
    assert [stored[i] for i in first + ids] == [f"{n}.csv" for n in range(1503)]


def test_new_rows_ids_are_returned_when_they_cannot_be_the_next_ones(db):
    """SQLite picks ids at random once its largest possible id is taken."""
    if db.session.connection().dialect.name != "sqlite":
        pytest.skip("SQLite's choice of ids; elsewhere the ids are always returned")
    insert_columns(QaImport.__table__, {"id": [2**63 - 1], **_imports(1, start=99)},
                   constants=_IMPORT_CONSTANTS)
    ids = insert_ids(QaImport.__table__, _imports(50), key="filename",
                     constants=_IMPORT_CONSTANTS)
    stored = dict(db.session.execute(select(QaImport.id, QaImport.filename)).all())
    assert [stored[i] for i in ids] == [f"{n}.csv" for n in range(50)]


def test_bulk_jobs_pause_the_cycle_collector_and_leave_it_as_it_was():
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()   # the inner pause leaves the outer one paused
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()   # paused before: stays paused
    finally:
        gc.enable()


def test_rows_are_written_in_order_over_many_statements(db, monkeypatch):
    monkeypatch.setattr(database, "_ROWS_PER_STATEMENT", 7)
    monkeypatch.setattr(database, "_PG_ROWS_PER_STATEMENT", 7)
    ids = insert_ids(QaImport.__table__, _imports(20), key="filename",
                     constants=_IMPORT_CONSTANTS)
    assert ids == sorted(ids)   # written in row order: each takes the next id
    stored = db.session.execute(select(QaImport.filename, QaImport.rows, QaImport.source)
                                .order_by(QaImport.id)).all()
    assert [tuple(row) for row in stored] == [(f"{n}.csv", n, "s") for n in range(20)]
    assert insert_counted(QaImport.__table__, ("filename", "sha256", "rows"),
                          [(f"x{n}", "f" * 64, n) for n in range(9)], on_conflict="",
                          constants=_IMPORT_CONSTANTS) == 9
