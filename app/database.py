"""The declarative base every model uses, with a constraint naming convention, shared column
types, and the bulk INSERT the ledger and the imports write with."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    SQLite keeps no zone, so values are stored as naive UTC and handed back aware.
    Naive values given to it are refused: a time without a zone is a bug.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a timezone-aware one is needed")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def one_of(column: str, values) -> str:
    """A CHECK that the column holds one of the values, written as `column = 'a' OR column =
    'b' …`: SQLite checks an IN list by building a lookup table for every row it writes, which
    made the constraint cost more than the row on the ledger's and the QA imports' tables."""
    return " OR ".join(f"{column} = '{value}'" for value in values)


def utcnow() -> datetime:
    """The current moment, timezone-aware UTC. Views and commands pass it to services as `now`."""
    return datetime.now(timezone.utc)


# --- writing many rows fast ----------------------------------------------------------------
# The ledger's and the imports' bulk writes go to the driver as SQL, many rows per statement,
# after the columns' own type conversions (UTC times, JSON): SQLAlchemy neither caches the
# dialect-specific ON CONFLICT constructs nor is cheap per row in a bulk INSERT … RETURNING,
# which for these writes costs more than the database's own work.

@contextmanager
def collector_paused():
    """Python's cycle collector paused for a bulk job (an import, a batch of awards), as it
    was again afterwards. Such a job makes hundreds of thousands of objects without cycles,
    and every collection walks all of them again: a tenth of an import's time. Reference
    counting still frees them. Also a decorator."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_ROWS_PER_STATEMENT = 1000   # SQLite's: × 17 columns, within its limit on bound parameters

_EAST_8 = timezone(timedelta(hours=8))


def _utc_text(value: datetime) -> str:
    """`UTCDateTime` on SQLite without SQLAlchemy's per-value formatting: naive UTC text,
    "YYYY-MM-DD HH:MM:SS.ffffff" (checked against the dialect's own conversion before use)."""
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a timezone-aware one is needed")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _converter(column_type, dialect):
    """What turns a column's Python value into the driver's, or None when nothing does."""
    convert = column_type.dialect_impl(dialect).bind_processor(dialect)
    if isinstance(column_type, UTCDateTime) and dialect.name == "sqlite" and convert:
        samples = (datetime(2026, 3, 31, 16, 0, tzinfo=UTC),
                   datetime(1999, 12, 31, 23, 59, 59, 123456, tzinfo=_EAST_8))
        if all(_utc_text(v) == convert(v) for v in samples):
            return _utc_text
    return convert


class Converted(list):
    """A column's values already in the form the driver takes (see `driver_times`): the bulk
    INSERT passes them on as they are."""

    __slots__ = ()


def driver_times(table, name: str, values) -> Converted:
    """The timezone-aware times of a pandas Series as the driver takes them for the
    `UTCDateTime` column `name` of `table`, converted all at once: on SQLite the UTC text
    (numpy writes it, in C), elsewhere naive UTC datetimes."""
    dialect = db.session.connection().dialect
    utc = values.dt.tz_convert(UTC).dt.tz_localize(None)
    if _converter(table.c[name].type, dialect) is _utc_text:
        return Converted(_texts_of(utc.to_numpy()))
    return Converted(utc.dt.to_pydatetime().tolist())


def _texts_of(utc) -> list[str]:
    """`_utc_text` of naive UTC numpy datetimes, written by numpy."""
    texts = np.datetime_as_string(utc.astype("datetime64[us]"), unit="us")
    return [text.replace("T", " ") for text in texts.tolist()]


_MANY = 256   # values from which one conversion of all of them pays


def _utc_texts(column) -> list[str] | None:
    """`_utc_text` of every value of a long column of UTC times, all at once (pandas reads
    them, numpy writes them): None when the column is short or holds anything else."""
    if len(column) < _MANY or not all(
            type(value) is datetime and value.tzinfo is UTC for value in column):
        return None
    return _texts_of(pd.DatetimeIndex(column).tz_convert(None).to_numpy())


def insert_values(table, names: tuple[str, ...], rows: list[tuple], *, on_conflict: str = "",
                  returning: str | None = None, converted: dict | None = None,
                  constants: dict | None = None) -> list:
    """INSERT the rows (tuples of the columns `names`) with `on_conflict` (e.g. "ON CONFLICT
    (key) DO NOTHING", or none); the RETURNING rows. `constants` (column → value) are the
    columns every row has the same value in: written into the SQL on SQLite, bound once on
    PostgreSQL. `converted` (what the driver takes, by column type and value id) may be shared by
    several inserts of the same values, for as long as the caller keeps those values alive."""
    return insert_columns(table, _columns_of(names, rows), on_conflict=on_conflict,
                          returning=returning, converted=converted, constants=constants)


def insert_counted(table, names: tuple[str, ...], rows: list[tuple], *, on_conflict: str,
                   converted: dict | None = None, constants: dict | None = None) -> int:
    """`insert_values` without RETURNING: how many rows were inserted (those that an ON
    CONFLICT … DO NOTHING skipped are not counted), which costs the driver nothing."""
    return insert_columns(table, _columns_of(names, rows), on_conflict=on_conflict,
                          converted=converted, constants=constants, counted=True)


def _columns_of(names: tuple[str, ...], rows: list[tuple]) -> dict[str, list]:
    if not rows:
        return dict.fromkeys(names, ())
    return dict(zip(names, zip(*rows, strict=True), strict=True))


def insert_columns(table, columns: dict[str, list], *, on_conflict: str = "",
                   returning: str | None = None, converted: dict | None = None,
                   constants: dict | None = None, counted: bool = False):
    """`insert_values` of rows given as columns (name → values, all as long): the RETURNING
    rows, or with `counted` how many rows were inserted (the driver's row count, without
    RETURNING). A column given as `Converted` is passed to the driver as it is."""
    returned, inserted = [], 0
    for result in _insert_statements(table, columns, on_conflict=on_conflict,
                                     returning=None if counted else returning,
                                     converted=converted, constants=constants):
        if counted:
            inserted += result.rowcount
        elif returning:   # plain tuples from the driver: no row objects for thousands of keys
            returned.extend(result.cursor.fetchall())
        result.close()
    return inserted if counted else returned


_SQLITE_MAX_ID = 2**63 - 1   # beyond it SQLite picks new ids at random


def insert_ids(table, columns: dict[str, list], *, key: str,
               constants: dict | None = None) -> list[int]:
    """`insert_columns` of new rows (a conflict is an error) that returns their ids (the
    primary key `id`) in row order; `key` names a column whose values are unique among them.

    On SQLite the writing transaction is the only writer and each new row's id is one more
    than the table's largest (while that is below SQLite's largest id), so the ids are the
    next ones in row order: one query checks that (how many rows have higher ids than before,
    the lowest and highest, and the keys at both ends), which costs less than RETURNING a key
    and an id for every row. Elsewhere the INSERT returns them."""
    count = len(columns[key])
    if not count:
        return []
    connection = db.session.connection()
    name = table.name
    last = None
    if connection.dialect.name == "sqlite":
        last = connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {name}").scalar()
    if last is None or last + count > _SQLITE_MAX_ID:
        by_key = dict(insert_columns(table, columns, returning=f"{key}, id",
                                     constants=constants))
        return [by_key[value] for value in columns[key]]
    insert_columns(table, columns, constants=constants, counted=True)
    check = connection.exec_driver_sql(
        f"SELECT count(*), min(id), max(id), (SELECT {key} FROM {name} WHERE id = ?), "
        f"(SELECT {key} FROM {name} WHERE id = ?) FROM {name} WHERE id > ?",
        (last + 1, last + count, last)).one()
    if tuple(check) != (count, last + 1, last + count, columns[key][0], columns[key][-1]):
        raise RuntimeError(f"the new rows of {name} did not take the next ids: {tuple(check)}")
    return list(range(last + 1, last + count + 1))


def _insert_statements(table, columns: dict[str, list], *, on_conflict, returning,
                       converted, constants):
    """The INSERT statements' results, one per `_ROWS_PER_STATEMENT` rows."""
    names = tuple(columns)
    count = len(next(iter(columns.values()), ()))
    if not count:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    constants = constants or {}
    fixed = tuple(_converted_value(table, name, value, dialect)
                  for name, value in constants.items())
    # one conversion per value object and column type (a batch shares its times and
    # details); the columns keep every value alive meanwhile, so that no id is reused
    converted = {} if converted is None else converted
    values = []
    for name, column in columns.items():
        column_type = table.c[name].type
        convert = None if isinstance(column, Converted) else _converter(column_type, dialect)
        values.append(column if convert is None else _convert_all(
            column, convert, converted.setdefault(type(column_type), {})))
    tail = (f" {on_conflict}" if on_conflict else "") + (
        f" RETURNING {returning}" if returning else "")
    if dialect.name == "postgresql":
        yield from _postgresql_statements(connection, table, names, values, constants, fixed,
                                          count, tail)
        return
    # SQLite: the rows' values bound, the constants written into the SQL
    width = len(names)
    head = f"INSERT INTO {table.name} ({', '.join((*names, *constants))}) VALUES "
    one_row = "(" + ", ".join(["?"] * width + [_sqlite_literal(value) for value in fixed]) + ")"
    for start in range(0, count, _ROWS_PER_STATEMENT):
        end = min(start + _ROWS_PER_STATEMENT, count)
        flat = [None] * ((end - start) * width)
        for i, column in enumerate(values):   # row by row, column i at every width-th place
            flat[i::width] = column[start:end]
        yield connection.exec_driver_sql(head + ", ".join([one_row] * (end - start)) + tail,
                                         tuple(flat))


_PG_ROWS_PER_STATEMENT = 20_000


def _postgresql_statements(connection, table, names, values, constants, fixed, count, tail):
    """PostgreSQL's INSERTs: each column bound as one array and the rows made by `unnest`,
    in order, the constants bound once — rather than a parameter per value, which the server
    parses and plans as one huge statement each time."""
    dialect = connection.dialect
    arrays = ", ".join(f"%s::{table.c[name].type.compile(dialect=dialect)}[]"
                       for name in names)
    chosen = ", ".join([f"u.{name}" for name in names] + [
        f"%s::{table.c[name].type.compile(dialect=dialect)}" for name in constants])
    sql = (f"INSERT INTO {table.name} ({', '.join((*names, *constants))}) SELECT {chosen} "
           f"FROM unnest({arrays}) WITH ORDINALITY AS u({', '.join(names)}, row_number) "
           f"ORDER BY u.row_number{tail}")
    for start in range(0, count, _PG_ROWS_PER_STATEMENT):
        end = min(start + _PG_ROWS_PER_STATEMENT, count)
        yield connection.exec_driver_sql(sql, (*fixed, *(list(column[start:end])
                                                         for column in values)))


def _convert_all(column, convert, converted: dict) -> list:
    """Every value of a column converted, each distinct object once (`converted` remembers
    them by id); a long column of UTC times all at once."""
    if convert is _utc_text:
        texts = _utc_texts(column)
        if texts is not None:
            return texts
    for key, value in {id(value): value for value in column}.items():
        if key not in converted:
            converted[key] = convert(value)
    return list(map(converted.__getitem__, map(id, column)))


def _sqlite_literal(value) -> str:
    """A constant (as the driver takes it) written into SQLite's SQL: binding a value costs
    more than parsing it, and numbered parameters (?1) cost more still."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQLite literal for {type(value).__name__}")


def _converted_value(table, name: str, value, dialect):
    convert = _converter(table.c[name].type, dialect)
    return value if convert is None or value is None else convert(value)

