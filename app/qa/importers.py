"""The QA import: a call-review tool's export → checked evaluations → one all-or-nothing apply.

`plan_import` reads the file (CSV or XLSX; UTF-8, UTF-8 with a BOM or GB18030), finds its
layout from the headers — *summary* (one row per evaluation, with its score) or *item-level*
(one row per evaluation and criterion; the score is computed from the scorecard's weights) —
and checks every row against the rules and the database without writing anything. It works
on whole columns with pandas; what it hands on is plain `EvaluationRow`s and `RowError`s.
`apply_import` writes a plan without errors through the QA services; the caller commits.

Headers may be English or Chinese (compared ignoring case and blanks), or the source's saved
column mapping names them. An evaluation is identified by its source and its id in the file:
importing the same file again changes nothing, and an evaluation whose score, critical flag
or item results changed is corrected (its points reversed and awarded anew).

Cells are text, never evaluated: a formula-looking comment (`=HYPERLINK(…)`) is stored as
the text it is, and the errors download escapes such cells.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from flask import current_app, has_request_context
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.audit.services import record_audit
from app.auth.models import User
from app.centre.periods import centre_tz, periods_of
from app.database import Converted, collector_paused, db, driver_times
from app.errors import DomainError
from app.i18n import N_
from app.imports import FileError, RowError, folded, header_key, read_frame
from app.leaderboard.exports import safe_cell
from app.qa import rules, services
from app.qa.models import (
    ColumnMapping,
    Criterion,
    Evaluation,
    QaImport,
    Scorecard,
    ScorecardVersion,
)
from app.qa.services import EvaluationRow, ItemRow, NewEvaluations

SUMMARY, ITEM = "summary", "item"
MAX_BYTES = 100 * 1024 * 1024      # QA_IMPORT_MAX_BYTES overrides it
MAX_ROWS = 1_000_000               # QA_IMPORT_MAX_ROWS overrides it
MAX_COLUMNS = 200
MAX_LENGTHS = {"evaluation_id": 80, "evaluator": 120, "comment": 4000}
SOURCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
_QUERY_CHUNK = 500   # ids per IN list: well within every database's bound-parameter limit


@dataclass(frozen=True)
class QaColumn:
    name: str                  # the field, and its English header
    chinese: str               # its Chinese header
    layouts: object            # lazy text: in which layout it is required or optional
    description: object        # lazy text
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[QaColumn, ...] = (
    QaColumn("evaluation_id", "质检编号", _l("both, required"),
             _l("The evaluation's id in the call-review tool; unique per source."),
             ("Evaluation ID", "Evaluation No", "Evaluation Number", "QA ID", "QA No",
              "Review ID", "Record ID", "质检单号", "质检ID", "质检记录编号", "评估编号",
              "质检流水号")),
    QaColumn("agent_id", "工号", _l("both, required"), _l("The agent's employee number."),
             ("Employee Number", "Employee No", "Employee ID", "Agent No", "Agent Number",
              "Agent Employee Number", "Staff ID", "Staff No", "坐席工号", "客服工号",
              "员工工号", "被检工号", "员工编号")),
    QaColumn("evaluated_at", "质检日期", _l("both, required"),
             _l("When the contact was evaluated, in the centre's time, e.g. 2026-03-02 14:05."),
             ("Evaluated On", "Evaluation Date", "Evaluation Time", "QA Date", "QA Time",
              "Review Date", "Date", "质检时间", "评估日期", "评估时间", "日期")),
    QaColumn("scorecard", "评分表", _l("both, required"),
             _l("The scorecard's code, or its English or Chinese name."),
             ("Scorecard Code", "Scorecard Name", "QA Form", "Form", "Template", "评分表编号",
              "评分表名称", "质检表", "质检模板", "评分模板")),
    QaColumn("score", "得分", _l("summary, required"), _l("The score out of 100."),
             ("Total Score", "Final Score", "QA Score", "分数", "总分", "质检得分", "质检分数")),
    QaColumn("critical_fail", "致命项", _l("summary, optional"),
             _l("Whether a critical criterion failed (yes/no, 是/否); the score is then 0."),
             ("Critical", "Critical Error", "Fatal", "Fatal Error", "Auto Fail", "一票否决",
              "致命错误", "是否致命", "致命")),
    QaColumn("channel", "渠道", _l("both, optional"),
             _l("phone, chat, email or other (电话, 在线, 邮件, 其他); default: the "
                "scorecard's."), ("Channel Type", "Contact Type", "Media", "服务渠道")),
    QaColumn("evaluator", "质检员", _l("both, optional"), _l("Who evaluated the contact."),
             ("Evaluator Name", "QA Analyst", "Analyst", "Reviewer", "质检人", "质检人员",
              "评估人")),
    QaColumn("comment", "备注", _l("both, optional"), _l("The evaluator's comment."),
             ("Comments", "Remark", "Remarks", "Note", "Notes", "评语", "质检评语", "说明")),
    QaColumn("criterion", "评分项", _l("item-level, required"),
             _l("The criterion's code, or its English or Chinese name."),
             ("Criterion Code", "Criteria", "Item", "Question", "评分项目", "质检项",
              "考核项", "评分标准")),
    QaColumn("result", "结果", _l("item-level, required"),
             _l("The points given, pass or fail (通过/不通过), or N/A (不适用)."),
             ("Item Result", "Points", "Item Points", "Item Score", "Answer", "评分结果",
              "项目得分", "评分项结果")),
)
COLUMN_HELP = COLUMNS
FIELDS: tuple[str, ...] = tuple(c.name for c in COLUMNS)
BY_NAME: dict[str, QaColumn] = {c.name: c for c in COLUMNS}
HEADERS: dict[str, str] = {header_key(h): c.name for c in COLUMNS
                           for h in (c.name, c.chinese, *c.aliases)}
REQUIRED = {
    SUMMARY: ("evaluation_id", "agent_id", "evaluated_at", "scorecard", "score"),
    ITEM: ("evaluation_id", "agent_id", "evaluated_at", "scorecard", "criterion", "result"),
}
# what an evaluation is, in the item-level layout: the same in every row of it
PER_EVALUATION = ("agent_id", "evaluated_at", "scorecard")

YES = {"1", "y", "yes", "true", "t", "x", "√", "✓", "✔", "是", "有", "fail", "failed",
       "不通过", "不合格", "致命", "critical"}
NO = {"", "0", "n", "no", "false", "f", "否", "无", "没有", "pass", "passed", "通过", "合格"}
PASS_WORDS = {"pass", "passed", "p", "yes", "y", "ok", "true", "√", "✓", "✔", "通过", "合格",
              "是", "达标"}
FAIL_WORDS = {"fail", "failed", "f", "no", "n", "false", "x", "×", "✗", "✘", "不通过",
              "不合格", "否", "未达标"}
NA_WORDS = {"n/a", "na", "n.a.", "not applicable", "不适用", "无需", "免检", "/"}
CHANNEL_WORDS = {
    "phone": "phone", "call": "phone", "voice": "phone", "telephone": "phone", "电话": "phone",
    "语音": "phone", "热线": "phone", "chat": "chat", "online": "chat", "webchat": "chat",
    "web chat": "chat", "im": "chat", "在线": "chat", "在线客服": "chat", "文字": "chat",
    "email": "email", "e-mail": "email", "mail": "email", "邮件": "email",
    "电子邮件": "email", "other": "other", "其他": "other",
}

_TIME = re.compile(
    r"^(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*日?"
    r"(?:(?:\s+|T)(?P<hour>\d{1,2})\s*[:时]\s*(?P<minute>\d{1,2})"
    r"(?:\s*[:分]\s*(?P<second>\d{1,2})(?:\.\d+)?\s*秒?)?)?"
    r"\s*(?P<offset>Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)
_EXCEL_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")


class QaImportError(DomainError):
    """A QA import that cannot be applied as asked."""


class ColumnMappingError(DomainError):
    """A column mapping that cannot be saved as asked."""


@dataclass
class ImportPlan:
    """What an import would do: counts for the preview, the rows to write, every error.

    The counts are of the evaluations without errors; a plan with errors keeps no rows to
    write."""

    source: str
    filename: str
    sha256: str
    layout: str | None = None
    rows: int = 0                   # data rows read (blank rows not counted)
    new: int = 0                    # evaluations not imported before
    unchanged: int = 0              # evaluations imported before exactly so
    changed: int = 0                # evaluations imported before with another result
    new_rows: NewEvaluations = field(default_factory=NewEvaluations)
    # (the evaluation's id, the row as the file has it now)
    changed_rows: list[tuple[int, EvaluationRow]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# --- column mappings ------------------------------------------------------------------------

def get_column_mapping(source: str) -> dict[str, str] | None:
    """The source's saved mapping {their header: our field}, or None."""
    return db.session.scalar(select(ColumnMapping.columns).where(
        ColumnMapping.source == (source or "").strip()))


def _field_of(word: str) -> str | None:
    """Our field named by its name or any of its headers."""
    return HEADERS.get(header_key(word))


def save_column_mapping(source: str, columns: dict[str, str], *, actor_id: int | None,
                        now: datetime) -> ColumnMapping | None:
    """Save which of a source's columns means which field; an empty mapping removes it."""
    source = (source or "").strip()
    if not SOURCE_RE.match(source):
        raise ColumnMappingError(N_("Name the source with letters, digits, dots, dashes and "
                                    "underscores (at most 60)."))
    cleaned: dict[str, str] = {}
    theirs_seen: dict[str, str] = {}
    ours_seen: dict[str, str] = {}
    for theirs, ours in columns.items():
        theirs = (theirs or "").strip()
        if not theirs or len(theirs) > 200:
            raise ColumnMappingError(N_("Give each column's header as the file writes it."))
        target = _field_of(ours or "")
        if target is None:
            raise ColumnMappingError(N_("%(field)s is not a field of the QA import."),
                                     field=(ours or "").strip())
        key = header_key(theirs)
        if key in theirs_seen:
            raise ColumnMappingError(N_("The column %(column)s is mapped twice."),
                                     column=theirs)
        if target in ours_seen:
            raise ColumnMappingError(N_("%(first)s and %(second)s are both mapped to "
                                        "%(field)s."), first=ours_seen[target], second=theirs,
                                     field=target)
        theirs_seen[key], ours_seen[target] = theirs, theirs
        cleaned[theirs] = target
    mapping = db.session.scalar(select(ColumnMapping).where(ColumnMapping.source == source))
    if not cleaned:
        if mapping is not None:
            db.session.delete(mapping)
            db.session.flush()
        record_audit("qa.mapping_saved", actor_id=actor_id, now=now,
                     details={"source": source, "removed": True})
        return None
    if mapping is None:
        mapping = ColumnMapping(source=source)
        db.session.add(mapping)
    mapping.columns, mapping.updated_by_id, mapping.updated_at = cleaned, actor_id, now
    db.session.flush()
    record_audit("qa.mapping_saved", actor_id=actor_id, now=now,
                 target_type="qa_column_mapping", target_id=mapping.id,
                 details={"source": source, "columns": cleaned})
    return mapping


# --- reading and checking -------------------------------------------------------------------

def _file_error(plan: ImportPlan, message: str, row: int | None = None, column=None,
                **params) -> ImportPlan:
    plan.errors.append(RowError(row, column, None, message, params))
    return plan


def _column_label(name: str) -> str:
    column = BY_NAME[name]
    return f"{column.name} / {column.chinese}"


def _map_headers(headers: list[str], mapping: dict[str, str] | None,
                 plan: ImportPlan) -> dict[str, int]:
    """Which field each column is, by the source's mapping first, then by the known headers."""
    mapped = {header_key(theirs): ours for theirs, ours in (mapping or {}).items()}
    positions: dict[str, int] = {}
    for index, text in enumerate(headers):
        key = header_key(text)
        name = mapped.get(key) or HEADERS.get(key)
        if not key or name is None:
            continue   # a column the import does not use
        if name in positions:
            plan.errors.append(RowError(
                1, text, None, N_("Two columns mean %(column)s: %(first)s and %(second)s."),
                {"column": _column_label(name), "first": headers[positions[name]],
                 "second": text}))
            continue
        positions[name] = index
    return positions


def _text(column: pd.Series) -> pd.Series:
    """A column's cells as stripped text."""
    return pd.Series([cell.strip() for cell in column.tolist()], index=column.index,
                     dtype=object)


def _fold(values: pd.Series) -> pd.Series:
    """Full-width forms to ASCII (２０２６／３／１, ，), surrounding blanks removed."""
    cells = values.tolist()
    if "".join(cells).isascii():
        return values
    return pd.Series([unicodedata.normalize("NFKC", cell).strip() for cell in cells],
                     index=values.index, dtype=object)


def _per_value(values: pd.Series, transform: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`transform` (of a whole column) applied once to each distinct value: files repeat
    agents, scorecards, channels, scores and results thousands of times."""
    codes, uniques = pd.factorize(values)
    done = transform(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    return pd.Series(done.to_numpy(dtype=object)[codes], index=values.index, dtype=object)


def _keys(values: pd.Series) -> pd.Series:
    """Names as names compare (`_folded_key`), e.g. scorecards, criteria, yes/no words."""
    return _per_value(values, lambda unique: pd.Series(
        [_folded_key(value) for value in unique.tolist()], dtype=object))


def _numbers(values: pd.Series) -> pd.Series:
    """Numbers as files write them (９５, 95.5, 95%); NaN where the text is none."""
    return _per_value(values, lambda unique: pd.to_numeric(
        _fold(unique).str.removesuffix("%").str.strip(), errors="coerce")).astype(float)


class _Checks:
    """The rows of the file (one per data row) and the errors found in them."""

    def __init__(self, raw: pd.DataFrame, headers: dict[str, str], plan: ImportPlan):
        self.raw = raw               # the cells as the file wrote them (stripped)
        self.headers = headers       # field → the file's header
        self.plan = plan
        self.bad = pd.Series(False, index=raw.index)

    def flag(self, mask: pd.Series, column: str | None, message: str, **params) -> None:
        """An error in every row of `mask`; a Series param gives each row its own value."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        self.bad |= mask
        rows = self.raw.loc[mask, "_row"].tolist()
        values = (self.raw.loc[mask, column].tolist() if column is not None
                  else [None] * len(rows))
        per_row = {key: value.loc[mask].tolist() for key, value in params.items()
                   if isinstance(value, pd.Series)}
        label = self.headers.get(column, column) if column else None
        for i, (row, value) in enumerate(zip(rows, values, strict=True)):
            own = {key: per_row[key][i] if key in per_row else param
                   for key, param in params.items()}
            self.plan.errors.append(RowError(int(row), label, value, message, own))

    def required(self, names: tuple[str, ...]) -> None:
        for name in names:
            self.flag(self.raw[name] == "", name, N_("This column needs a value in every row."))

    def too_long(self, name: str, values: pd.Series) -> None:
        limit = MAX_LENGTHS[name]
        if max(map(len, values.tolist()), default=0) > limit:   # (the rows only then)
            self.flag(values.str.len() > limit, name,
                      N_("This value is longer than %(max)s characters."), max=limit)


def _parse_times(values: pd.Series, tz) -> pd.Series:
    """Local date-times (2026-03-02 14:05, 2026/3/2, 2026年3月2日 14:05, Excel serials, or
    ISO 8601 with an offset) → UTC; NaT where the text is no date."""
    values = _fold(values)
    naive = pd.to_datetime(values, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    naive = naive.where(naive.dt.year >= 2000)
    others = naive.isna() & (values != "")
    if others.any():
        naive = naive.astype("datetime64[us]")
        naive[others] = _other_times(values[others])
    utc = naive.dt.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool),
                               nonexistent="shift_forward").dt.tz_convert("UTC")
    if others.any():
        offsets = values[others].str.extract(_TIME)["offset"].dropna()
        if not offsets.empty:
            utc[offsets.index] = _with_offsets(naive[offsets.index], offsets.str.upper())
    return utc


def _other_times(values: pd.Series) -> pd.Series:
    """The forms other than 2026-03-02 14:05:00, naive (the offset, if any, aside)."""
    parts = values.str.extract(_TIME)
    numbers = parts[["year", "month", "day", "hour", "minute", "second"]].apply(
        pd.to_numeric, errors="coerce")
    matched = numbers["year"].notna()
    numbers[["hour", "minute", "second"]] = numbers[["hour", "minute", "second"]].fillna(0)
    out_of_range = ((numbers["year"] < 2000) | (numbers["hour"] > 23)
                    | (numbers["minute"] > 59) | (numbers["second"] > 59))
    numbers.loc[~matched | out_of_range, "year"] = np.nan
    naive = pd.to_datetime(numbers, errors="coerce").astype("datetime64[us]")
    serial = values.where(values.str.match(_EXCEL_SERIAL)).dropna()
    if not serial.empty:
        days = pd.to_numeric(serial, errors="coerce")
        naive[serial.index] = pd.to_datetime(days, unit="D", origin="1899-12-30").dt.round("s")
    return naive


def _with_offsets(naive: pd.Series, offsets: pd.Series) -> pd.Series:
    """Times written with their offset (Z, +08:00) in UTC."""
    sign = np.where(offsets.str[0] == "-", -1, 1)
    digits = offsets.str.replace(":", "", regex=False).str[1:]
    hours = pd.to_numeric(digits.str[:2], errors="coerce").fillna(0)
    minutes = pd.to_numeric(digits.str[2:4], errors="coerce").fillna(0)
    shift = pd.to_timedelta(sign * (hours * 60 + minutes), unit="min")
    return (naive - shift).dt.tz_localize("UTC")


@dataclass(frozen=True)
class _Directory:
    """What the checks need of the database, read once."""

    users: dict[str, int]                        # employee number → id
    scorecards: dict[str, int]                   # folded code / names → scorecard id
    active: dict[int, bool]
    channels: dict[int, str]
    current_version: dict[int, int]              # scorecard id → its current version's id
    version_scorecard: dict[int, int]            # version id → scorecard id

    @classmethod
    def load(cls) -> _Directory:
        users = dict(db.session.execute(select(User.employee_number, User.id)).all())
        cards = db.session.execute(select(Scorecard.id, Scorecard.code, Scorecard.name_en,
                                          Scorecard.name_zh, Scorecard.channel,
                                          Scorecard.is_active, Scorecard.current_version)
                                   ).all()
        versions = db.session.execute(select(ScorecardVersion.id, ScorecardVersion.scorecard_id,
                                             ScorecardVersion.version)).all()
        by_number = {(card_id, number): version_id for version_id, card_id, number in versions}
        names: dict[str, int] = {}
        for card in cards:   # codes first: a code wins over another scorecard's name
            names.setdefault(_folded_key(card.code), card.id)
        for card in cards:
            names.setdefault(_folded_key(card.name_en), card.id)
            names.setdefault(_folded_key(card.name_zh), card.id)
        return cls(
            users=users, scorecards=names,
            active={c.id: c.is_active for c in cards},
            channels={c.id: c.channel for c in cards},
            current_version={c.id: by_number.get((c.id, c.current_version)) for c in cards},
            version_scorecard={version_id: card_id for version_id, card_id, _n in versions},
        )


def _folded_key(text: str) -> str:
    """A scorecard's or criterion's name as names compare: folded, blanks collapsed, any case."""
    return re.sub(r"\s+", " ", folded(text)).casefold()


_EXISTING = ["id", "user_id", "version_id", "fingerprint", "status"]


def _existing(source: str, ids: pd.Series) -> pd.DataFrame:
    """What the source imported before of these evaluations (`ids`: the file's, blanks
    included), indexed by their ids in the file. A source with not many more evaluations than
    the file is read whole, in one query; from a larger one, the file's ids are asked for."""
    columns = (Evaluation.external_id, Evaluation.id, Evaluation.user_id,
               Evaluation.scorecard_version_id, Evaluation.fingerprint, Evaluation.status)
    imported = db.session.scalar(select(func.count()).select_from(Evaluation)
                                 .where(Evaluation.source == source))
    external_ids = ids[ids != ""]
    found = []
    if imported and len(external_ids) and imported <= 2 * len(external_ids):
        found = db.session.execute(select(*columns).where(Evaluation.source == source)).all()
    elif imported and len(external_ids):
        external_ids = sorted(set(external_ids))
        for start in range(0, len(external_ids), _QUERY_CHUNK):
            found.extend(db.session.execute(select(*columns).where(
                Evaluation.source == source,
                Evaluation.external_id.in_(external_ids[start:start + _QUERY_CHUNK]))).all())
    frame = pd.DataFrame([tuple(row) for row in found],
                         columns=["external_id", *_EXISTING], dtype=object)
    frame = frame.set_index("external_id")
    return frame[frame.index.isin(external_ids)]


def _limits() -> tuple[int, int]:
    config = current_app.config
    return (int(config.get("QA_IMPORT_MAX_BYTES", MAX_BYTES)),
            int(config.get("QA_IMPORT_MAX_ROWS", MAX_ROWS)))


@collector_paused()
def plan_import(data: bytes, filename: str, *, source: str, now: datetime,
                progress: Callable[[str], object] | None = None) -> ImportPlan:
    """Read and check a whole export without writing anything: the preview's numbers, the
    rows to write and every error (row, column, value, reason). `progress` hears the name of
    each step ("read", "check", "compare")."""
    step = progress or (lambda _name: None)
    source = (source or "").strip()
    plan = ImportPlan(source=source, filename=filename, sha256=hashlib.sha256(data).hexdigest())
    if not SOURCE_RE.match(source):
        return _file_error(plan, N_("Name the source with letters, digits, dots, dashes and "
                                    "underscores (at most 60)."))
    step("read")
    max_bytes, max_rows = _limits()
    try:
        frame = read_frame(data, filename, max_bytes=max_bytes, max_columns=MAX_COLUMNS,
                           max_rows=max_rows)
    except FileError as error:
        plan.errors.append(error.as_row_error())
        return plan
    headers = [cell.strip() for cell in frame.iloc[0].tolist()]
    if frame.shape[1] == 1:
        return _file_error(plan, N_("The file has only one column: separate the columns with "
                                    "commas, tabs or semicolons."), row=1)
    positions = _map_headers(headers, get_column_mapping(source), plan)
    if not positions:
        return _file_error(plan, N_("The first row holds none of the QA import's column names, "
                                    "such as 质检编号 or evaluation_id."), row=1)
    plan.layout = ITEM if {"criterion", "result"} & set(positions) else SUMMARY
    for name in REQUIRED[plan.layout]:
        if name not in positions:
            plan.errors.append(RowError(1, None, None,
                                        N_("The required column %(column)s is missing."),
                                        {"column": _column_label(name)}))
    if plan.errors:
        return plan

    step("check")
    raw = pd.DataFrame({name: _text(frame.iloc[1:, index])
                        for name, index in positions.items()})
    for name in FIELDS:
        if name not in raw:
            raw[name] = ""
    raw["_row"] = raw.index + 1          # frame row 0 is the header: spreadsheet row 1
    given = (raw[list(positions)] != "").any(axis=1)
    if not given.all():
        raw = raw[given]     # blank rows between blocks
    plan.rows = len(raw)
    if raw.empty:
        return _file_error(plan, N_("The file has a header row but no evaluations."))
    raw = raw.reset_index(drop=True)
    checks = _Checks(raw, {name: headers[index] for name, index in positions.items()}, plan)
    directory = _Directory.load()
    checks.required(REQUIRED[plan.layout])
    parsed = _check_evaluations(raw, checks, directory, now)
    step("compare")
    _classify(raw, parsed, checks, directory)
    order = {header: index for index, header in enumerate(headers)}
    plan.errors.sort(key=lambda e: (e.row or 0, order.get(e.column, -1)))
    if plan.errors:
        plan.new_rows, plan.changed_rows = [], []
    return plan


def _check_evaluations(raw: pd.DataFrame, checks: _Checks, directory: _Directory,
                       now: datetime) -> pd.DataFrame:
    """The checks of what says which evaluation it is, common to both layouts; returns the
    parsed values."""
    tz = centre_tz()
    parsed = pd.DataFrame(index=raw.index)
    parsed["external_id"] = _fold(raw["evaluation_id"])
    checks.too_long("evaluation_id", parsed["external_id"])

    numbers = _per_value(raw["agent_id"], lambda unique: _fold(unique).str.upper())
    parsed["user_id"] = numbers.map(directory.users)
    checks.flag((raw["agent_id"] != "") & parsed["user_id"].isna(), "agent_id",
                N_("Nobody has the employee number %(number)s."), number=numbers)

    parsed["evaluated_at"] = _parse_times(raw["evaluated_at"], tz)
    given = raw["evaluated_at"] != ""
    unparsable = given & parsed["evaluated_at"].isna()
    checks.flag(unparsable, "evaluated_at",
                N_("%(value)s is not a date and time: write it as YYYY-MM-DD HH:MM."),
                value=raw["evaluated_at"])
    checks.flag(given & ~unparsable & (parsed["evaluated_at"] > pd.Timestamp(now)),
                "evaluated_at", N_("The evaluation date %(value)s is in the future."),
                value=raw["evaluated_at"])

    parsed["scorecard_id"] = _keys(raw["scorecard"]).map(directory.scorecards)
    known = parsed["scorecard_id"].notna()
    checks.flag((raw["scorecard"] != "") & ~known, "scorecard",
                N_("There is no scorecard called %(scorecard)s."), scorecard=raw["scorecard"])
    active = parsed["scorecard_id"].map(directory.active).fillna(True).astype(bool)
    checks.flag(known & ~active, "scorecard",
                N_("The scorecard %(scorecard)s is no longer in use."),
                scorecard=raw["scorecard"])
    parsed["version_id"] = parsed["scorecard_id"].map(directory.current_version)

    channels = _keys(raw["channel"])
    parsed["channel"] = channels.map(CHANNEL_WORDS)
    checks.flag((channels != "") & parsed["channel"].isna(), "channel",
                N_("%(value)s is not a channel: write phone, chat, email or other."),
                value=raw["channel"])
    parsed["channel"] = parsed["channel"].where(
        channels != "", parsed["scorecard_id"].map(directory.channels))

    checks.too_long("evaluator", raw["evaluator"])
    checks.too_long("comment", raw["comment"])
    return parsed


def _classify(raw: pd.DataFrame, parsed: pd.DataFrame, checks: _Checks,
              directory: _Directory) -> None:
    """Against what the source imported before: an evaluation keeps its agent, its scorecard
    and the version it was scored with. Then the layout's own checks, and the rows: new,
    unchanged or changed."""
    plan = checks.plan
    ids = parsed["external_id"]
    existing = _existing(plan.source, ids)
    before = existing.reindex(ids.to_numpy())
    before.index = ids.index
    is_known = before["id"].notna()
    old_user = before["user_id"].astype(float)
    checks.flag(is_known & parsed["user_id"].notna() & (old_user != parsed["user_id"]),
                "agent_id", N_("Evaluation %(evaluation)s was imported for another agent: a "
                               "re-import cannot move it."), evaluation=ids)
    old_version = before["version_id"].astype(float)
    old_card = old_version.map(directory.version_scorecard)
    checks.flag(is_known & parsed["scorecard_id"].notna() & (old_card != parsed["scorecard_id"]),
                "scorecard", N_("Evaluation %(evaluation)s was scored with another scorecard: "
                                "a re-import cannot change it."), evaluation=ids)
    parsed["version_id"] = old_version.where(is_known, parsed["version_id"])
    if plan.layout == ITEM:
        built = _item_rows(raw, parsed, checks)
    else:
        built = _summary_rows(raw, parsed, checks)
    # each built evaluation's row in `existing`, or -1 when the source has not imported it
    at = existing.index.get_indexer(built.external_id) if len(existing) else np.full(
        len(built), -1)
    plan.new_rows = built.picked(np.flatnonzero(at < 0).tolist())
    seen = np.flatnonzero(at >= 0)
    earlier = existing.iloc[at[seen]]
    same = earlier["fingerprint"].to_numpy() == np.array(
        [built.fingerprint[n] for n in seen.tolist()], dtype=object)
    plan.unchanged = int(same.sum())
    first_rows = None
    for n, evaluation_id, status in zip(seen[~same].tolist(), earlier["id"][~same].tolist(),
                                        earlier["status"][~same].tolist(), strict=True):
        row = built[n]
        if status == "disputed":
            if first_rows is None:
                first_rows = raw.groupby(ids)["_row"].first()
            plan.errors.append(RowError(int(first_rows[row.external_id]),
                                        checks.headers["evaluation_id"], row.external_id,
                                        N_("Evaluation %(evaluation)s is disputed: resolve the "
                                           "dispute before importing a change."),
                                        {"evaluation": row.external_id}))
        else:
            plan.changed_rows.append((int(evaluation_id), row))
    plan.new, plan.changed = len(plan.new_rows), len(plan.changed_rows)


# --- the summary layout: one row per evaluation ---------------------------------------------

def _summary_rows(raw: pd.DataFrame, parsed: pd.DataFrame,
                  checks: _Checks) -> NewEvaluations:
    scores = _numbers(raw["score"])
    given = raw["score"] != ""
    checks.flag(given & scores.isna(), "score", N_("%(value)s is not a number."),
                value=raw["score"])
    checks.flag(given & ((scores < 0) | (scores > 100)), "score",
                N_("The score %(value)s is outside 0–100."), value=raw["score"])
    flags = _keys(raw["critical_fail"])
    critical = flags.isin(YES)
    checks.flag(~critical & ~flags.isin(NO), "critical_fail",
                N_("%(value)s is not yes or no."), value=raw["critical_fail"])
    ids = parsed["external_id"]
    repeated = (ids != "") & ids.duplicated()
    if repeated.any():   # (the rows they were first in are looked up only then)
        checks.flag(repeated, "evaluation_id",
                    N_("Evaluation %(evaluation)s appears more than once in the file, first in "
                       "row %(first)s."), evaluation=ids,
                    first=raw.groupby(ids)["_row"].transform("first"))
    good = ~checks.bad
    if not good.any():
        return NewEvaluations()
    # a critical fail sets the score to 0 (致命项)
    scores = scores.where(~critical, 0.0).round(2)
    scores, critical = scores[good].astype(float).tolist(), critical[good].astype(bool).tolist()
    fingerprint = {key: rules.fingerprint(key[0], key[1], [])
                   for key in set(zip(scores, critical, strict=True))}
    times = parsed.loc[good, "evaluated_at"]
    return NewEvaluations(
        ids[good].tolist(), parsed.loc[good, "user_id"].astype(int).tolist(),
        parsed.loc[good, "version_id"].astype(int).tolist(),
        times.dt.tz_convert(UTC).dt.to_pydatetime().tolist(),
        parsed.loc[good, "channel"].tolist(), raw.loc[good, "evaluator"].tolist(), scores,
        critical, raw.loc[good, "comment"].tolist(),
        [fingerprint[key] for key in zip(scores, critical, strict=True)],
        stored_times=_stored(times), periods=periods_of(times, centre_tz()))


# --- the item-level layout: one row per evaluation and criterion ----------------------------

@dataclass(frozen=True)
class _Criteria:
    """The criteria of some scorecard versions."""

    ids: dict[str, int]                           # "version|folded code or name" → id
    code: dict[int, str]
    weight: dict[int, float]
    allows_na: dict[int, bool]
    categories: dict[tuple[int, str], str]        # (version id, code) → category
    terms: dict[int, list[rules.CriterionTerms]]  # version id → its criteria, in order

    @classmethod
    def load(cls, version_ids) -> _Criteria:
        found = cls({}, {}, {}, {}, {}, {})
        ids = sorted({int(v) for v in version_ids})
        for start in range(0, len(ids), _QUERY_CHUNK):
            for c in db.session.scalars(select(Criterion).where(
                    Criterion.scorecard_version_id.in_(ids[start:start + _QUERY_CHUNK]))
                    .order_by(Criterion.scorecard_version_id, Criterion.position)):
                found.code[c.id], found.weight[c.id] = c.code, c.weight
                found.allows_na[c.id] = c.allows_na
                found.categories[c.scorecard_version_id, c.code] = c.category
                found.terms.setdefault(c.scorecard_version_id, []).append(
                    rules.CriterionTerms(c.code, c.weight, c.is_critical, c.allows_na))
                for name in (c.code, c.name_en, c.name_zh):
                    found.ids.setdefault(f"{c.scorecard_version_id}|{_folded_key(name)}", c.id)
        return found


def _item_rows(raw: pd.DataFrame, parsed: pd.DataFrame,
               checks: _Checks) -> NewEvaluations:
    """Every row of an evaluation names the same agent, time and scorecard; each names a
    criterion of the evaluation's scorecard version once, with its result. The score comes
    from `rules.score_of`; an evaluation with an error in any of its rows is left out."""
    ids = parsed["external_id"]
    named = ids != ""
    first = raw.groupby(ids)["_row"].transform("first")
    same = {"agent_id": parsed["user_id"],
            "evaluated_at": parsed["evaluated_at"],
            "scorecard": parsed["scorecard_id"]}
    for name, values in same.items():
        firsts = values.groupby(ids).transform("first")
        differs = named & values.notna() & firsts.notna() & (values != firsts)
        checks.flag(differs, name, N_("This row gives evaluation %(evaluation)s another "
                                      "%(field)s than row %(first)s."),
                    evaluation=ids, field=_column_label(name), first=first)

    version = parsed["version_id"]
    criteria = _Criteria.load(version.dropna().unique())
    names = _keys(raw["criterion"])
    criterion = (version.astype("Int64").astype(str) + "|" + names).map(criteria.ids)
    known = criterion.notna()
    checks.flag((raw["criterion"] != "") & version.notna() & ~known, "criterion",
                N_("The scorecard %(scorecard)s has no criterion %(criterion)s."),
                scorecard=raw["scorecard"], criterion=raw["criterion"])
    pair = ids + "|" + criterion.astype("Int64").astype(str)
    checks.flag(known & pair.duplicated(), "criterion",
                N_("Criterion %(criterion)s appears more than once for evaluation "
                   "%(evaluation)s, first in row %(first)s."),
                criterion=raw["criterion"], evaluation=ids,
                first=raw.groupby(pair)["_row"].transform("first"))

    weight = criterion.map(criteria.weight)
    code = criterion.map(criteria.code)
    words = _keys(raw["result"])
    is_na = words.isin(NA_WORDS)
    passed = words.isin(PASS_WORDS)
    failed = words.isin(FAIL_WORDS)
    points = _numbers(words)
    checks.flag((raw["result"] != "") & ~(is_na | passed | failed | points.notna()), "result",
                N_("%(value)s is not a result: write the points, pass, fail or N/A."),
                value=raw["result"])
    allows_na = criterion.map(criteria.allows_na).fillna(True).astype(bool)
    checks.flag(known & is_na & ~allows_na, "result",
                N_("Criterion %(criterion)s cannot be N/A."), criterion=code)
    checks.flag(known & points.notna() & ((points < 0) | (points > weight)), "result",
                N_("%(value)s is outside 0–%(weight)s for criterion %(criterion)s."),
                value=raw["result"], criterion=code,
                weight=weight.map({w: f"{w:g}" for w in weight.dropna().unique()}))
    # pass/fail as points: the whole weight or nothing (as rules.item_points gives them)
    points = points.where(points.notna(), weight.where(passed, 0.0).where(passed | failed))

    bad_ids = set(ids[checks.bad])
    good = named & ~ids.isin(bad_ids)
    if not good.any():
        return NewEvaluations()
    rows = pd.DataFrame({"external_id": ids, "criterion_id": criterion, "points": points,
                         "is_na": is_na, "comment": raw["comment"]})[good]
    rows["criterion_id"] = rows["criterion_id"].astype(int)
    group = rows.groupby("external_id", sort=False)
    # one comment for the whole evaluation when every row repeats it; else one per criterion
    shared = group["comment"].transform("nunique") <= 1
    heads = group.head(1).index
    head = pd.DataFrame({
        "external_id": ids[heads], "row": raw.loc[heads, "_row"],
        "user_id": parsed.loc[heads, "user_id"].astype(int),
        "version_id": parsed.loc[heads, "version_id"].astype(int),
        "evaluated_at": parsed.loc[heads, "evaluated_at"].dt.to_pydatetime(),
        "channel": parsed.loc[heads, "channel"], "evaluator": raw.loc[heads, "evaluator"],
        "comment": raw.loc[heads, "comment"].where(shared[heads], "")})
    # the items, as the services take them, each evaluation's together: `bounds` slices them
    number = group.ngroup().to_numpy()
    order = np.argsort(number, kind="stable")
    bounds = np.searchsorted(number[order], np.arange(len(heads) + 1)).tolist()
    rows = rows.iloc[order]
    given = rows["points"].where(~rows["is_na"])
    passed = (given >= rows["criterion_id"].map(criteria.weight)).where(~rows["is_na"])
    codes = rows["criterion_id"].map(criteria.code).tolist()
    marks = [(code, None if value != value else value)           # NaN: N/A
             for code, value in zip(codes, given.tolist(), strict=True)]
    items = [ItemRow(criterion_id, mark[1], None if mark[1] is None else bool(is_passed),
                     comment)
             for criterion_id, mark, is_passed, comment in zip(
                 rows["criterion_id"].tolist(), marks, passed.tolist(),
                 rows["comment"].where(~shared[rows.index], "").tolist(), strict=True)]
    scored = _Scorer(criteria)
    built = []
    stored, times = _stored(parsed.loc[heads, "evaluated_at"]), Converted()
    months, periods = periods_of(parsed.loc[heads, "evaluated_at"], centre_tz()), []
    for n, (external_id, row, user_id, version_id, at, channel, evaluator, comment) in enumerate(
            zip(*(head[c].tolist() for c in head.columns), strict=True)):
        start, end = bounds[n], bounds[n + 1]
        outcome = scored(version_id, marks[start:end])
        if isinstance(outcome, rules.ScoreError):
            checks.plan.errors.append(RowError(int(row), checks.headers["result"], None,
                                               outcome.message, outcome.params))
            continue
        score, critical, fingerprint, failed_categories = outcome
        built.append(EvaluationRow(
            external_id=external_id, user_id=user_id, scorecard_version_id=version_id,
            evaluated_at=at, channel=channel, evaluator=evaluator, score=score,
            is_critical_fail=critical, comment=comment, fingerprint=fingerprint,
            items=items[start:end], failed_categories=failed_categories))
        times.append(stored[n])
        periods.append(months[n])
    return NewEvaluations.of(built, stored_times=times, periods=periods)


def _stored(times: pd.Series) -> Converted:
    """Evaluation times as the database driver takes them."""
    return driver_times(Evaluation.__table__, "evaluated_at", times)


class _Scorer:
    """`rules.score_of` and `rules.fingerprint` of an evaluation's results, and the
    categories of its failed critical criteria — worked out once for each distinct set of
    results: evaluations repeat the same few patterns (most criteria passed, a deduction or
    two)."""

    def __init__(self, criteria: _Criteria):
        self.criteria = criteria
        self.by_code = {version_id: {t.code: t for t in terms}
                        for version_id, terms in criteria.terms.items()}
        self.done: dict[tuple, tuple | rules.ScoreError] = {}

    def __call__(self, version_id: int, marks: list[tuple[str, float | None]]):
        key = (version_id, tuple(sorted(marks)))
        if key not in self.done:
            self.done[key] = self._score(version_id, key[1])
        return self.done[key]

    def _score(self, version_id: int, marks: tuple[tuple[str, float | None], ...]):
        results = {code: rules.ItemResult(code, is_na=True) if points is None
                   else rules.ItemResult(code, points=points) for code, points in marks}
        try:
            score, critical = rules.score_of(self.criteria.terms[version_id], results)
        except rules.ScoreError as error:
            return error
        terms = self.by_code[version_id]
        failed = tuple(dict.fromkeys(
            self.criteria.categories[version_id, code] for code, points in marks
            if terms[code].is_critical and points is not None and points < terms[code].weight))
        return score, critical, rules.fingerprint(score, critical, list(marks)), failed


# --- applying ---------------------------------------------------------------------------------

@collector_paused()
def apply_import(plan: ImportPlan, *, filename: str, actor_id: int | None,
                 now: datetime, progress: Callable[[str], object] | None = None) -> QaImport:
    """Write a plan without errors: the evaluations already past their dispute window are
    confirmed, then the import, the new evaluations with their pending points, a correction
    for each changed one, an audit line. Flushes; the caller commits."""
    step = progress or (lambda _name: None)
    if plan.errors:
        raise QaImportError(N_("The file has errors: nothing was imported."))
    if not plan.new and not plan.changed:
        raise QaImportError(N_("Nothing to import: every evaluation in the file is imported "
                               "as it is."))
    # what has passed its dispute window becomes final first (cron does it too)
    services.confirm_due(now=now)
    done = QaImport(source=plan.source, filename=(filename or plan.filename)[:255],
                    sha256=plan.sha256, layout=plan.layout, rows=plan.rows, new=plan.new,
                    unchanged=plan.unchanged, changed=plan.changed, imported_by_id=actor_id,
                    imported_at=now)
    db.session.add(done)
    db.session.flush()
    if plan.new_rows:
        step("write")
        services.record_evaluations(plan.new_rows, source=plan.source, import_id=done.id,
                                    actor_id=actor_id, now=now)
    if plan.changed_rows:
        step("correct")
        reason = f"Re-import {filename or plan.filename}"[:500]
        by_id = dict(plan.changed_rows)
        ids = sorted(by_id)
        for start in range(0, len(ids), _QUERY_CHUNK):
            for evaluation in db.session.scalars(select(Evaluation).where(
                    Evaluation.id.in_(ids[start:start + _QUERY_CHUNK])).order_by(Evaluation.id)):
                services.correct_evaluation(evaluation, by_id[evaluation.id], reason=reason,
                                            actor_id=actor_id, now=now, import_id=done.id)
    record_audit("qa.import", actor_id=actor_id, now=now, target_type="qa_import",
                 target_id=done.id,
                 details={"source": plan.source, "filename": done.filename,
                          "layout": plan.layout, "rows": plan.rows, "new": plan.new,
                          "unchanged": plan.unchanged, "changed": plan.changed})
    db.session.flush()
    return done


# --- the errors download --------------------------------------------------------------------

def errors_csv(plan: ImportPlan) -> str:
    """The plan's errors as CSV (with a BOM, for Excel), every cell safe to open: in the
    language of the request, in English outside one (the command line)."""
    in_request = has_request_context()
    text = gettext if in_request else (lambda message: message)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([text("Row"), text("Column"), text("Value"), text("Reason")])
    for error in plan.errors:
        writer.writerow([safe_cell(cell) for cell in (
            "" if error.row is None else error.row, error.column or "",
            "" if error.value is None else error.value,
            error.translated() if in_request else error.english())])
    return "\ufeff" + out.getvalue()


__all__ = ["COLUMNS", "COLUMN_HELP", "FIELDS", "ColumnMappingError", "ImportPlan",
           "QaImportError", "apply_import", "errors_csv", "get_column_mapping", "plan_import",
           "save_column_mapping"]
