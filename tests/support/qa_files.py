"""In-memory QA export files for tests: CSV in any encoding, XLSX, the standard headers; and
a fingerprint of the whole database (row counts and the ledger's sum) to show that a refused
import left no trace."""
from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import func, select

from app.database import db as _db
from app.incentives.models import PointEntry

SUMMARY_EN = ["evaluation_id", "agent_id", "evaluated_at", "scorecard", "score", "critical_fail",
              "channel", "evaluator", "comment"]
SUMMARY_ZH = ["质检编号", "工号", "质检日期", "评分表", "得分", "致命项", "渠道", "质检员", "备注"]
ITEM_EN = ["evaluation_id", "agent_id", "evaluated_at", "scorecard", "criterion", "result",
           "evaluator", "comment"]
ITEM_ZH = ["质检编号", "工号", "质检日期", "评分表", "评分项", "结果", "质检员", "备注"]


def csv_bytes(*rows, encoding: str = "utf-8", sep: str = ",") -> bytes:
    """Rows of cells (or whole lines as strings) as a CSV file."""
    lines = [row if isinstance(row, str) else sep.join(str(c) for c in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(*rows) -> bytes:
    """Rows of cells as an XLSX file; text that looks like a formula stays text."""
    book = Workbook()
    sheet = book.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def encoded(rows, encoding: str) -> tuple[bytes, str]:
    """The rows as a file in an encoding ("utf-8", "utf-8-sig", "gb18030") or as "xlsx";
    returns the file and its name."""
    if encoding == "xlsx":
        return xlsx_bytes(*rows), "qa.xlsx"
    return csv_bytes(*rows, encoding=encoding), "qa.csv"


def table_counts() -> dict[str, int]:
    """Every table's row count, and the sum of the ledger's points."""
    counts = {table.name: _db.session.scalar(select(func.count()).select_from(table))
              for table in _db.metadata.sorted_tables}
    counts["ledger_sum"] = _db.session.scalar(
        select(func.coalesce(func.sum(PointEntry.points), 0)))
    return counts
