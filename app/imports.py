"""Reading uploaded spreadsheets, shared by the importers (the roster, QA results).

CSV in UTF-8, UTF-8 with a BOM or GB18030, or the first sheet of an XLSX file, read as text
only: no cell is ever evaluated, a formula-looking cell stays the text it is. Problems with
the file as a whole raise `FileError`; problems of one row are `RowError`s that the importers
collect. pandas stays in the importers: what they hand on is plain values.
"""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from flask_babel import format_date, gettext

from app.errors import DomainError
from app.i18n import N_

ZIP_MAGIC = b"PK\x03\x04"  # every XLSX file is a zip archive
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Files people upload by mistake that can happen to decode as text.
NOT_SPREADSHEETS = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0",
                    b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
ENCODINGS = ("utf-8-sig", "gb18030")
SEPARATORS = (",", "\t", ";")

# Control characters but tab, line feed and carriage return. UTF-8 and GB18030 write them as
# those single bytes and never use such a byte inside another character: the bytes are
# searched, mapped to "!" (those) and "." (all others) first.
_CONTROL_CLASSES = bytes(ord("!") if b in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20),
                                              0x7F) else ord(".") for b in range(256))
# Two Chinese characters in UTF-8 (lead byte E4–E9, two continuation bytes 80–BF, twice) are
# rare by chance in GB18030 text: only the lines with them are tried as UTF-8. The bytes are
# mapped to those classes first, so that the search is a plain substring search.
_UTF8_CLASSES = bytes(ord("L") if 0xE4 <= b <= 0xE9 else ord("C") if 0x80 <= b <= 0xBF
                      else ord(".") for b in range(256))
_TWO_CHINESE = b"LCCLCC"


@dataclass
class RowError:
    row: int | None       # the line in the file as a spreadsheet shows it (header = 1)
    column: str | None    # the header as the file writes it
    value: str | None
    message: str          # an English msgid
    params: dict = field(default_factory=dict)

    def translated(self) -> str:
        """The reason in the current language, dates written the way that language writes them."""
        params = {key: format_date(value) if isinstance(value, date) else value
                  for key, value in self.params.items()}
        return gettext(self.message, **params)

    def english(self) -> str:
        params = {key: value.isoformat() if isinstance(value, date) else value
                  for key, value in self.params.items()}
        return self.message % params if params else self.message

    @property
    def reason(self) -> str:
        return self.english()


def describe_row_error(error: RowError) -> str:
    """One line in English: "row 3, column 入职日期, value 2026-02-30: …"."""
    where = []
    if error.row is not None:
        where.append(f"row {error.row}")
    if error.column:
        where.append(f"column {error.column}")
    if error.value:
        where.append(f"value {error.value}")
    return f"{', '.join(where)}: {error.english()}" if where else error.english()


class FileError(DomainError):
    """The file as a whole cannot be read as a table; `row` when one row is to blame."""

    def __init__(self, message: str, row: int | None = None, **params):
        super().__init__(message, **params)
        self.row = row

    def as_row_error(self) -> RowError:
        return RowError(self.row, None, None, self.message, self.params)


def folded(text: str) -> str:
    """Full-width forms to ASCII (２０２６／３／１, ，), surrounding blanks removed."""
    return unicodedata.normalize("NFKC", text or "").strip()


def header_key(text: str) -> str:
    """A header as headers compare: ignoring case, blanks, _ - . and *."""
    return re.sub(r"[\s_\-.*]", "", folded(text).casefold())


def not_a_spreadsheet() -> FileError:
    return FileError(N_("The file is not a spreadsheet: upload a CSV or XLSX file."))


def _mixed_encoding_line(data: bytes) -> int | None:
    """For a file that is not UTF-8 as a whole: the first line that is (Chinese text in UTF-8
    beside lines in GB18030), or None. Only lines with UTF-8 Chinese in them are decoded."""
    classes = data.translate(_UTF8_CLASSES)
    position = classes.find(_TWO_CHINESE)
    while position >= 0:
        start = data.rfind(b"\n", 0, position) + 1
        end = data.find(b"\n", position)
        end = len(data) if end < 0 else end
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            position = classes.find(_TWO_CHINESE, end)
            continue
        return data.count(b"\n", 0, start) + 1
    return None


def _mixed_encodings(line: int) -> FileError:
    return FileError(N_("The file mixes encodings: row %(line)s is UTF-8, other rows are not. "
                        "Save the whole file as CSV UTF-8."), row=line, line=line)


def _decodings(data: bytes):
    """(encoding, text) for each encoding the file decodes in, in the order tried; a UTF-8
    file cut in the middle of its last character decodes as the text before it."""
    for encoding in ENCODINGS:
        try:
            yield encoding, data.decode(encoding)
        except UnicodeDecodeError as error:
            if (encoding == "utf-8-sig" and error.reason == "unexpected end of data"
                    and error.end == len(data)):
                try:
                    yield encoding, data[:error.start].decode(encoding)
                except UnicodeDecodeError:
                    pass


def decode(data: bytes) -> str:
    if data.startswith(NOT_SPREADSHEETS):
        raise not_a_spreadsheet()
    if data.startswith(UTF16_BOMS):
        raise FileError(N_("The file is in UTF-16: save it as CSV UTF-8 or as XLSX."))
    has_control = b"!" in data.translate(_CONTROL_CLASSES)
    for encoding, text in _decodings(data):
        if has_control:
            raise not_a_spreadsheet()   # binary that happens to decode
        if encoding == "gb18030" and (line := _mixed_encoding_line(data)) is not None:
            raise _mixed_encodings(line)
        return text
    if (line := _mixed_encoding_line(data)) is not None:
        raise _mixed_encodings(line)
    raise not_a_spreadsheet()


def _first_line(text: str) -> str:
    """The first line that is not blank (without splitting the whole text)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if text[start:end].strip():
            return text[start:end]
        start = end + 1
    return ""


def separator(text: str) -> str:
    """The delimiter the header line uses most: comma, tab or semicolon."""
    header = _first_line(text)
    return max(SEPARATORS, key=header.count)


def _read_csv(data: bytes, max_columns: int | None) -> pd.DataFrame:
    text = decode(data)
    sep = separator(text)
    if max_columns is not None:
        if _first_line(text).count(sep) + 1 > max_columns:
            raise FileError(N_("The file has more than %(max)s columns."), row=1,
                            max=max_columns)
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str,
                           keep_default_na=False, skip_blank_lines=False)
    except pd.errors.EmptyDataError as exc:
        raise FileError(N_("The file is empty.")) from exc
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))
        if line:
            row = int(line.group(1))
            raise FileError(N_("This row has more cells than the first row has column names."),
                            row=row) from exc
        quote = re.search(r"EOF inside string starting at row (\d+)", str(exc))
        if quote:
            row = int(quote.group(1)) + 1
            raise FileError(N_("The file ends inside a quoted cell that starts in row "
                               "%(line)s: it looks cut off."), row=row, line=row) from exc
        raise not_a_spreadsheet() from exc


def _read_xlsx(data: bytes) -> pd.DataFrame:
    try:
        return pd.read_excel(io.BytesIO(data), sheet_name=0, header=None, dtype=str,
                             keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # a damaged or foreign file fails in many ways inside openpyxl
        raise not_a_spreadsheet() from exc


def read_frame(data: bytes, filename: str, *, max_bytes: int | None = None,
               max_columns: int | None = None, max_rows: int | None = None) -> pd.DataFrame:
    """The cells of the file (the first sheet of an XLSX) as text, header row first, columns
    numbered from 0, missing cells empty. Cells are not stripped."""
    if max_bytes is not None and len(data) > max_bytes:
        raise FileError(N_("The file is larger than %(max)s MB."),
                        max=f"{max_bytes / 1024 / 1024:g}")
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise FileError(N_("The file is empty."))
    is_xlsx = data.startswith(ZIP_MAGIC) or filename.lower().endswith(".xlsx")
    if max_rows is not None and not is_xlsx and data.count(b"\n") > max_rows + 1:
        raise FileError(N_("The file has more than %(max)s rows."), max=f"{max_rows:,}")
    frame = _read_xlsx(data) if is_xlsx else _read_csv(data, max_columns)
    if max_columns is not None and frame.shape[1] > max_columns:
        raise FileError(N_("The file has more than %(max)s columns."), row=1, max=max_columns)
    if max_rows is not None and len(frame) > max_rows + 1:
        raise FileError(N_("The file has more than %(max)s rows."), max=f"{max_rows:,}")
    frame = frame.fillna("").astype(str)
    frame.columns = range(frame.shape[1])
    return frame.reset_index(drop=True)


def read_table(data: bytes, filename: str) -> list[list[str]]:
    """The cells of the file (the first sheet of an XLSX) as stripped strings, header row first."""
    frame = read_frame(data, filename)
    table = [[str(cell).strip() for cell in row] for row in frame.itertuples(index=False)]
    if not any(any(row) for row in table):
        raise FileError(N_("The file is empty."))
    return table
