"""Reading purchased CSV and XLSX lists: what shape a file has, and its rows, streamed.

`sniff` looks at an uploaded file once and describes it as a `FileShape` (kind, encoding,
delimiter, header row, header names); the shape is stored on the import so `preview`,
`count_rows` and `iter_rows` read the file the same way later, in a request or a job.
Nothing here reads a whole file into memory: CSV is parsed line by line and XLSX through
openpyxl's read-only mode, so a 200 MB, million-row list costs the same memory as a small one.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import statistics
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path

from console.config import Config

HEAD_BYTES = 64 * 1024
SCAN_BLOCK_BYTES = 1024 * 1024
MAX_LINE_CHARS = 12 * 1024 * 1024
FIELD_SIZE_LIMIT = 10 * 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_RECORDS = 50
HEADER_SEARCH_ROWS = 15
WIDTH_CHECK_ROWS = 10
# A record spanning more lines than this is a quote left open, not a cell of notes.
MAX_RECORD_LINES = 100
# Sniffing and previews look for rows this far past the header, and no further.
HEAD_SCAN_ROWS = 10_000

# What a workbook may expand to. Checked against the sizes the zip declares before
# anything is parsed (zipfile inflates no more than a member declares), and row by row
# while a sheet streams, since a sheet's dimension and its row numbers may lie.
XLSX_MAX_EXPANDED_BYTES = Config.MAX_CONTENT_LENGTH  # as much text as the largest CSV upload
XLSX_MAX_SHARED_STRINGS_BYTES = 50 * 1024 * 1024  # openpyxl holds them all in memory
XLSX_MAX_ROWS = 1_048_576  # Excel's own limit
XLSX_MAX_COLUMNS = 1_000

EMPTY_MESSAGE = "The file is empty."
NO_HEADER_MESSAGE = (
    "No header row found: the first rows should name the columns (for example Company Name, Phone)."
)
NO_DATA_MESSAGE = "The file has a header but no data rows."
XLS_MESSAGE = "Old Excel .xls files are not supported; save it as .xlsx or CSV."
MARKUP_MESSAGE = (
    "This looks like a web page or XML file, not a CSV or XLSX list; "
    "open it in Excel and save it as .xlsx or CSV."
)
ODS_MESSAGE = "OpenDocument (.ods) files are not supported; save it as .xlsx or CSV."
ENCRYPTED_XLSX_MESSAGE = (
    "This .xlsx file is password-protected; remove the password in Excel and upload it again."
)
SAVE_AS_CSV = "save it as CSV and upload that."

# Leading bytes of formats people upload by mistake, named in the message they get back.
_BINARY_SIGNATURES = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!", "RAR"),
)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Bytes that have no character in Windows-1252; a file with them is read as Latin-1.
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
# C0 controls other than tab, newline, carriage return, form feed and Ctrl-Z never appear in text.
_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0b\x0e-\x19\x1b-\x1f]")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_NUMBERISH = re.compile(r"[-+($€£]?\d[\d\s,.:/%()\-]*")


class FileProblem(ValueError):
    """A file that cannot be imported; str(exc) is a clear message for the operator."""


@dataclass(frozen=True)
class FileShape:
    """How to read one uploaded list: its kind, text encoding, delimiter and header."""

    kind: str
    encoding: str
    delimiter: str
    header_row: int
    headers: tuple[str, ...]
    sheet: str = ""

    def to_dict(self) -> dict:
        """The shape as plain JSON-able values, to store on the import row."""
        return {
            "kind": self.kind,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header_row": self.header_row,
            "headers": list(self.headers),
            "sheet": self.sheet,
        }

    @classmethod
    def from_dict(cls, data: dict) -> FileShape:
        """The shape stored by `to_dict`."""
        return cls(
            kind=data["kind"],
            encoding=data.get("encoding", ""),
            delimiter=data.get("delimiter", ""),
            header_row=int(data["header_row"]),
            headers=tuple(data["headers"]),
            sheet=data.get("sheet", ""),
        )


Record = tuple[int, list[str]]


# ---------------------------------------------------------------------------- public API


def sniff(path: str | Path, filename: str = "") -> FileShape:
    """Detect kind, encoding, delimiter and header row; raise FileProblem when unusable."""
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head:
        raise FileProblem(EMPTY_MESSAGE)
    if head.startswith(_OLE2_MAGIC):
        if filename.lower().endswith((".xlsx", ".xlsm")):
            raise FileProblem(ENCRYPTED_XLSX_MESSAGE)
        raise FileProblem(XLS_MESSAGE)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        _require_workbook(path)
        return _sniff_xlsx(path)
    return _sniff_csv(path, head)


def preview(path: str | Path, shape: FileShape, limit: int = 20) -> list[list[str]]:
    """The first `limit` data rows after the header, each padded/truncated to len(headers)."""
    width = len(shape.headers)
    rows: list[list[str]] = []
    if limit <= 0:
        return rows
    for _, cells in head_rows(path, shape):
        stripped = [cell.strip() for cell in cells[:width]]
        rows.append(stripped + [""] * (width - len(stripped)))
        if len(rows) >= limit:
            break
    return rows


def iter_rows(
    path: str | Path, shape: FileShape, start_after: int = 0, last_row: int | None = None
) -> Iterator[Record]:
    """Data rows as (row_number, cells), skipping blank rows, resuming after `start_after`.

    `row_number` is the 1-based row as a spreadsheet shows it: the sheet row for XLSX, the
    line a record starts on for CSV (so `header_row + n` unless cells hold line breaks).
    CSV cells are returned as read, unpadded, so the caller can check the width; XLSX rows
    lose trailing empty cells. Streams the file: memory stays bounded whatever its size.
    With `last_row`, reading stops at that row, blank or not.
    """
    skip_through = max(shape.header_row, start_after)
    if shape.kind == "xlsx":
        last = XLSX_MAX_ROWS if last_row is None else min(last_row, XLSX_MAX_ROWS)
        yield from _iter_xlsx(Path(path), shape.sheet, skip_through, last)
    else:
        yield from _iter_csv(Path(path), shape, skip_through, last_row)


def head_rows(path: str | Path, shape: FileShape) -> Iterator[Record]:
    """The data rows among the HEAD_SCAN_ROWS file rows after the header, for previews.

    A page that shows the first rows never reads on through a sheet of empty rows.
    """
    return iter_rows(path, shape, last_row=shape.header_row + HEAD_SCAN_ROWS)


def count_rows(path: str | Path, shape: FileShape) -> int:
    """How many non-blank data rows `iter_rows` will yield."""
    return sum(1 for _ in iter_rows(path, shape))


# ---------------------------------------------------------------------------- CSV


def _sniff_csv(path: Path, head: bytes) -> FileShape:
    """The shape of a delimited text file whose first bytes are `head`."""
    whole = path.stat().st_size <= len(head)
    encoding = _detect_encoding(path, head)
    text = _decode_head(head, encoding, whole)
    if not text.replace("\ufeff", "").strip():
        if whole or _only_whitespace(path, encoding):
            raise FileProblem(EMPTY_MESSAGE)
        raise FileProblem(NO_HEADER_MESSAGE)
    if _looks_like_markup(text):
        raise FileProblem(MARKUP_MESSAGE)
    delimiter = _detect_delimiter(text)
    records = _sample_records(text, delimiter, strict=True)
    shape = _shape_from_records(records, kind="csv", encoding=encoding, delimiter=delimiter)
    return _require_data(path, shape)


def _only_whitespace(path: Path, encoding: str) -> bool:
    """Whether the whole file is blank; reads only until the first character that is not."""
    with _open_text(path, encoding) as handle:
        while chunk := handle.read(SCAN_BLOCK_BYTES):
            if chunk.replace("\ufeff", "").strip():
                return False
    return True


def _looks_like_markup(text: str) -> bool:
    """Whether text is HTML or XML, as some sites' "Excel export" .xls files really are."""
    start = text.lstrip("\ufeff \t\r\n")[:10].lower()
    return start.startswith(("<!doctype", "<html", "<table", "<?xml"))


def _detect_encoding(path: Path, head: bytes) -> str:
    """The text encoding: from a BOM, a UTF-16 NUL pattern, or a strict UTF-8 pass."""
    if head.startswith(codecs.BOM_UTF8):
        _scan_text_bytes(path, head)
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(head[:1024])
    if utf16:
        return utf16
    return _scan_text_bytes(path, head)


def _utf16_without_bom(sample: bytes) -> str:
    """'utf-16-le' or 'utf-16-be' when NULs fall on every other byte, as in UTF-16 text."""
    pairs = len(sample) // 2
    if pairs < 2:
        return ""
    even_nuls = sample[0 : pairs * 2 : 2].count(0)
    odd_nuls = sample[1 : pairs * 2 : 2].count(0)
    if odd_nuls >= pairs * 0.3 and even_nuls <= pairs * 0.05:
        return "utf-16-le"
    if even_nuls >= pairs * 0.3 and odd_nuls <= pairs * 0.05:
        return "utf-16-be"
    return ""


def _scan_text_bytes(path: Path, head: bytes) -> str:
    """Check the whole file is text and say which 8-bit encoding reads it.

    UTF-8 is checked strictly over every block, because a single Windows-1252 byte may sit at
    row 90,000. Returns "utf-8", else "cp1252" when every byte has a Windows-1252 character,
    else "latin-1". NUL or control bytes mean a binary file.
    """
    _refuse_binary_head(head)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8_ok = cp1252_ok = True
    with path.open("rb") as handle:
        while block := handle.read(SCAN_BLOCK_BYTES):
            if b"\x00" in block:
                raise _binary_problem(head)
            if utf8_ok:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8_ok = False
            if cp1252_ok and any(byte in block for byte in _CP1252_UNDEFINED):
                cp1252_ok = False
    if utf8_ok:
        try:
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    return "cp1252" if cp1252_ok else "latin-1"


def _refuse_binary_head(head: bytes) -> None:
    """Raise FileProblem when the first bytes are a known binary format or not text at all."""
    if head.startswith(tuple(magic for magic, _ in _BINARY_SIGNATURES)):
        raise _binary_problem(head)
    if b"\x00" in head or len(_CONTROL_BYTES.findall(head)) > max(2, len(head) // 200):
        raise _binary_problem(head)


def _binary_problem(head: bytes) -> FileProblem:
    """The message for a binary file, naming its format when the first bytes tell it."""
    for magic, label in _BINARY_SIGNATURES:
        if head.startswith(magic):
            return FileProblem(f"This looks like a binary file ({label}), not a CSV or XLSX list.")
    return FileProblem("This looks like a binary file, not a CSV or XLSX list.")


def _decode_head(head: bytes, encoding: str, whole: bool) -> str:
    """The first bytes as text, cut back to the last full line unless they are the whole file."""
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    text = decoder.decode(head, final=whole)
    if not whole:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        text = text[: cut + 1] if cut >= 0 else text
    return text


def _detect_delimiter(text: str) -> str:
    """The delimiter giving the most rows with one consistent width of 2 or more columns."""
    best, best_score = ",", (0, 0, 0)
    for rank, delimiter in enumerate(DELIMITERS):
        widths = Counter(len(cells) for _, cells in _sample_records(text, delimiter))
        consistent = [(count, width) for width, count in widths.items() if width >= 2]
        if not consistent:
            continue
        count, width = max(consistent)
        score = (count, width, -rank)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sample_records(text: str, delimiter: str, strict: bool = False) -> list[Record]:
    """The first non-blank records of `text`, with the line each starts on.

    A malformed record ends the sample when guessing (`strict` False) and is a FileProblem
    once the delimiter is chosen.
    """
    reader = _csv_reader(io.StringIO(text, newline=""), delimiter)
    records: list[Record] = []
    try:
        for start, cells in _numbered(reader):
            if _is_blank(cells):
                continue
            records.append((start, cells))
            if len(records) >= SAMPLE_RECORDS:
                break
    except csv.Error as exc:
        if strict:
            raise _unreadable_row(reader.line_num, exc) from exc
    return records


def _iter_csv(
    path: Path, shape: FileShape, skip_through: int, last_row: int | None = None
) -> Iterator[Record]:
    """Non-blank CSV records starting after line `skip_through`, up to line `last_row`.

    A record starts on the line after the one the previous record ended on; the loop is
    written out inline because it runs once per row of files with millions of rows.
    A quote that opens a cell and never closes (or closes MAX_RECORD_LINES lines on)
    would fold the rest of the file into one cell: that row comes back as a BrokenRow,
    its line split as it stands, and the lines after it are read again as rows.
    """
    with _open_text(path, shape.encoding) as handle:
        lines = _RecordLines(handle)
        reader = _csv_reader(lines, shape.delimiter)
        previous_end = 0
        try:
            for cells in reader:
                start = previous_end + 1
                previous_end = reader.line_num - lines.read_again
                spanned = previous_end - start
                if spanned and _quote_runs_on(lines, shape.delimiter, spanned):
                    cells = _broken_row(lines, shape.delimiter, spanned)
                    previous_end = start
                lines.taken.clear()
                if last_row is not None and start > last_row:
                    return
                if start <= skip_through or not "".join(cells).strip():
                    continue
                if cells[-1].endswith("\r"):
                    cells[-1] = cells[-1][:-1]
                yield start, cells
        except csv.Error as exc:
            raise _unreadable_row(reader.line_num - lines.read_again, exc) from exc


class BrokenRow(list):
    """The cells of a row whose quoting is broken; `problem` says how, for the operator."""

    problem: str = ""


class _RecordLines:
    """A text file's lines for the csv reader: bounded in length, each record's lines
    kept (`taken`) so that they can be handed out again."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.taken: list[str] = []
        self.pending: list[str] = []  # lines to hand out again, last first
        self.read_again = 0
        self.at_end = False
        self.number = 0

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        if self.pending:
            line = self.pending.pop()
        else:
            line = self.handle.readline(MAX_LINE_CHARS + 1)
            if not line:
                self.at_end = True
                raise StopIteration
            self.number += 1
            if len(line) > MAX_LINE_CHARS:
                raise _line_too_long(self.number)
        self.taken.append(line)
        return line

    def again(self, lines: list[str]) -> None:
        """Hand `lines` out again, before any line not yet read."""
        self.pending.extend(reversed(lines))
        self.read_again += len(lines)
        self.at_end = False


def _quote_runs_on(lines: _RecordLines, delimiter: str, spanned: int) -> bool:
    """Whether the record just read spans lines because a quote opened and did not close
    where its cell ends: quoting a strict reader refuses, or MAX_RECORD_LINES lines."""
    if spanned >= MAX_RECORD_LINES:
        return True
    try:
        for _ in csv.reader(lines.taken, delimiter=delimiter, strict=True):
            pass
    except csv.Error:
        return True
    return False


def _broken_row(lines: _RecordLines, delimiter: str, spanned: int) -> BrokenRow:
    """The first line of the record just read, as a BrokenRow; its other lines read again."""
    first, *rest = lines.taken
    row = BrokenRow(first.rstrip("\r\n").split(delimiter))
    never = "it never closes; " if lines.at_end and not lines.pending else ""
    after = (
        "the line after it was read as a row of its own"
        if spanned == 1
        else f"the {spanned:,} lines after it were read as rows of their own"
    )
    row.problem = never + after
    lines.again(rest)
    return row


def _numbered(reader) -> Iterator[Record]:
    """Records with the 1-based line each one starts on (records may span lines)."""
    previous_end = 0
    for cells in reader:
        yield previous_end + 1, cells
        previous_end = reader.line_num


def _open_text(path: Path, encoding: str):
    """The file opened as text the way the csv module needs it (newline="")."""
    return path.open(encoding=encoding, errors="replace", newline="")


def _csv_reader(lines, delimiter: str):
    """A csv reader over `lines` that accepts long cells (notes, descriptions).

    Lines are read at most MAX_LINE_CHARS at a time, so a file that is one enormous
    line (a million empty cells) is refused instead of filling memory.
    """
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    if hasattr(lines, "readline"):
        lines = _bounded_lines(lines)
    return csv.reader(lines, delimiter=delimiter)


def _bounded_lines(handle) -> Iterator[str]:
    """The lines of a text file, refusing one longer than MAX_LINE_CHARS."""
    number = 0
    while line := handle.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise _line_too_long(number)
        yield line


def _line_too_long(number: int) -> FileProblem:
    """The message for a line longer than MAX_LINE_CHARS."""
    return FileProblem(
        f"Line {number} is longer than {MAX_LINE_CHARS:,} characters; "
        "is this really a list of businesses?"
    )


def _unreadable_row(line: int, exc: Exception) -> FileProblem:
    """The message for a CSV record the csv module cannot parse."""
    return FileProblem(f"Row {line} could not be read: {exc}.")


def _require_data(path: Path, shape: FileShape) -> FileShape:
    """`shape`, once it is sure at least one data row follows the header."""
    if next(head_rows(path, shape), None) is None:
        raise FileProblem(NO_DATA_MESSAGE)
    return shape


# ---------------------------------------------------------------------------- XLSX


def _require_workbook(path: Path) -> None:
    """Refuse a zip at `path` unless it is an Excel workbook."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise FileProblem("This looks like a damaged zip file, not a CSV or XLSX list.") from exc
    if "content.xml" in names and "mimetype" in names:
        raise FileProblem(ODS_MESSAGE)
    if "xl/workbook.xml" not in names:
        raise FileProblem("This looks like a binary file (zip), not a CSV or XLSX list.")


def _check_expanded_size(path: Path) -> None:
    """Refuse a workbook whose parts would expand past the limits, before parsing any."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise FileProblem("This looks like a damaged zip file, not a CSV or XLSX list.") from exc
    strings = sum(m.file_size for m in members if m.filename.lower() == "xl/sharedstrings.xml")
    if strings > XLSX_MAX_SHARED_STRINGS_BYTES:
        raise FileProblem(
            f"This workbook's text expands to {_megabytes(strings)}; the limit is "
            f"{_megabytes(XLSX_MAX_SHARED_STRINGS_BYTES)}. Remove unused sheets and cells, or "
            + SAVE_AS_CSV
        )
    total = sum(m.file_size for m in members)
    if total > XLSX_MAX_EXPANDED_BYTES:
        raise FileProblem(
            f"This workbook expands to {_megabytes(total)}; the limit is "
            f"{_megabytes(XLSX_MAX_EXPANDED_BYTES)}. Remove unused sheets and empty rows, or "
            + SAVE_AS_CSV
        )


def _size_sheets_from_their_head() -> None:
    """Make openpyxl read a read-only sheet's recorded size from the XML before its rows.

    openpyxl looks for `<dimension>` until `<sheetData>` ends, which for a sheet without one
    is the whole sheet, on every open (minutes for a sheet of millions of empty rows).
    The schema puts `<dimension>` first, so the answer is the same, read at once.
    """
    from openpyxl.reader import excel
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    if excel.ReadOnlyWorksheet is not ReadOnlyWorksheet:
        return

    class HeadSizedWorksheet(ReadOnlyWorksheet):
        def _get_size(self) -> None:
            with self._get_source() as source:
                size = _recorded_size(source)
            if size is not None:
                self._min_column, self._min_row, self._max_column, self._max_row = size

    excel.ReadOnlyWorksheet = HeadSizedWorksheet


def _recorded_size(source) -> tuple[int, int, int, int] | None:
    """A sheet's `<dimension ref>` as (min col, min row, max col, max row), if it has one."""
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.xml.functions import iterparse

    for _, element in iterparse(source, events=("start",)):
        tag = element.tag.rpartition("}")[2]
        if tag == "sheetData":
            return None
        if tag == "dimension":
            try:
                return range_boundaries(element.get("ref", ""))
            except (TypeError, ValueError):
                return None
    return None


def _megabytes(size: int) -> str:
    """A byte count as whole megabytes, rounded up: "201 MB"."""
    return f"{-(-size // (1024 * 1024)):,} MB"


def _open_workbook(path: Path):
    """The workbook in streaming read-only mode, with cached values instead of formulas."""
    from openpyxl import load_workbook

    _check_expanded_size(path)
    _size_sheets_from_their_head()
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise FileProblem(f"This XLSX file could not be opened: {exc}") from exc


def _sniff_xlsx(path: Path) -> FileShape:
    """The shape of the first sheet with at least two rows of data."""
    workbook = _open_workbook(path)
    try:
        # A workbook whose sheets hold at most one row each is judged by the first such sheet.
        chosen: tuple[str, list[Record]] | None = None
        for sheet in workbook.worksheets:
            head = _sheet_records(sheet, 0, last_row=HEAD_SCAN_ROWS)
            records = list(islice(head, SAMPLE_RECORDS))
            if len(records) >= 2 or (records and chosen is None):
                chosen = (sheet.title, records)
            if len(records) >= 2:
                break
    finally:
        workbook.close()
    if chosen is None:
        raise FileProblem(EMPTY_MESSAGE)
    title, records = chosen
    shape = _shape_from_records(records, kind="xlsx", encoding="", delimiter="", sheet=title)
    return _require_data(path, shape)


def _iter_xlsx(path: Path, sheet_title: str, skip_through: int, last_row: int) -> Iterator[Record]:
    """Non-blank rows of the named sheet after row `skip_through`, up to `last_row`."""
    workbook = _open_workbook(path)
    try:
        if sheet_title not in workbook.sheetnames:
            raise FileProblem(f"The sheet {sheet_title!r} is no longer in this workbook.")
        yield from _sheet_records(workbook[sheet_title], skip_through, last_row)
    finally:
        workbook.close()


def _sheet_records(sheet, skip_through: int, last_row: int = XLSX_MAX_ROWS) -> Iterator[Record]:
    """Non-blank rows of a read-only sheet as (sheet row number, text cells), to `last_row`.

    A sheet that declares or has more than XLSX_MAX_ROWS rows or XLSX_MAX_COLUMNS filled
    columns is a FileProblem.
    """
    _check_dimension(sheet)
    # Some writers record a wrong sheet size; read the rows that are really there.
    sheet.reset_dimensions()
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > last_row:
            if number > XLSX_MAX_ROWS:
                raise _too_many_rows(sheet.title)
            return
        if number <= skip_through:
            continue
        cells = [_cell_text(value) for value in values]
        while cells and not cells[-1].strip():
            cells.pop()
        if len(cells) > XLSX_MAX_COLUMNS:
            raise _too_many_columns(sheet.title)
        if cells:
            yield number, cells


def _check_dimension(sheet) -> None:
    """Refuse a sheet whose recorded size (its `<dimension ref>`) passes the limits."""
    if (sheet.max_row or 0) > XLSX_MAX_ROWS:
        raise _too_many_rows(sheet.title, sheet.max_row)
    if (sheet.max_column or 0) > XLSX_MAX_COLUMNS:
        raise _too_many_columns(sheet.title, sheet.max_column)


def _too_many_rows(title: str, rows: int | None = None) -> FileProblem:
    """The message for a sheet longer than XLSX_MAX_ROWS."""
    size = f"{rows:,} rows" if rows else f"more than {XLSX_MAX_ROWS:,} rows"
    return FileProblem(
        f"The sheet {title!r} has {size}; the limit is {XLSX_MAX_ROWS:,}. Delete the empty "
        "rows below the list, or " + SAVE_AS_CSV
    )


def _too_many_columns(title: str, columns: int | None = None) -> FileProblem:
    """The message for a sheet wider than XLSX_MAX_COLUMNS."""
    size = f"{columns:,} columns" if columns else f"more than {XLSX_MAX_COLUMNS:,} columns"
    return FileProblem(
        f"The sheet {title!r} has {size}; the limit is {XLSX_MAX_COLUMNS:,}. Delete the empty "
        "columns beside the list, or " + SAVE_AS_CSV
    )


def _cell_text(value) -> str:
    """A spreadsheet value as the text a person sees: 123 not 123.0, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------------------- the header


def _shape_from_records(records: list[Record], **fields) -> FileShape:
    """The shape whose header is the first header-like record in `records`."""
    if not records:
        raise FileProblem(EMPTY_MESSAGE)
    index = _header_index(records)
    if index is None:
        raise FileProblem(NO_HEADER_MESSAGE)
    header_row, cells = records[index]
    following = [row for _, row in records[index + 1 :]]
    return FileShape(header_row=header_row, headers=_clean_headers(cells, following), **fields)


def _header_index(records: list[Record]) -> int | None:
    """Index of the first of the leading records that names columns, if any does."""
    for index, (_, cells) in enumerate(records[:HEADER_SEARCH_ROWS]):
        following = [row for _, row in records[index + 1 : index + 1 + WIDTH_CHECK_ROWS]]
        if _looks_like_header(cells) and _width_fits(cells, following):
            return index
    return None


def _looks_like_header(cells: Sequence[str]) -> bool:
    """Two or more names, mostly text, and nothing that looks like an email, phone or ID."""
    filled = [cell.strip() for cell in cells if cell.strip()]
    if len(filled) < 2:
        return False
    numeric = 0
    for cell in filled:
        if _EMAIL.search(cell):
            return False
        if _NUMBERISH.fullmatch(cell):
            if sum(ch.isdigit() for ch in cell) >= 5:
                return False
            numeric += 1
    return numeric * 2 < len(filled)


def _width_fits(cells: Sequence[str], following: list[list[str]]) -> bool:
    """Whether a candidate header is as wide as the rows below it typically are.

    Widths count up to the last filled cell: a title line that a spreadsheet padded with
    delimiters has the header's raw width, but not its filled width. Rows below may be
    narrower (empty trailing cells) but, typically, not wider.
    """
    if not following:
        return True
    typical = statistics.median(_filled_width(row) for row in following)
    return typical <= _filled_width(cells)


def _filled_width(cells: Sequence[str]) -> int:
    """The number of cells up to and including the last non-blank one."""
    for index in range(len(cells) - 1, -1, -1):
        if cells[index].strip():
            return index + 1
    return 0


def _clean_headers(
    cells: Sequence[str], following: Sequence[Sequence[str]] = ()
) -> tuple[str, ...]:
    """Header names trimmed, blanks named "Column N", repeats suffixed " (2)", " (3)".

    Blank names after the last real one are kept only when the rows below use those columns.
    """
    width = _filled_width(cells)
    for row in following:
        width = max(width, min(_filled_width(row), len(cells)))
    names: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(cells[:width], start=1):
        name = raw.replace("\ufeff", "").strip() or f"Column {position}"
        unique, copy = name, 1
        while unique.lower() in seen:
            copy += 1
            unique = f"{name} ({copy})"
        seen.add(unique.lower())
        names.append(unique)
    return tuple(names)


def _is_blank(cells: Sequence[str]) -> bool:
    """Whether a record has no text at all (an empty line, or only delimiters and spaces)."""
    return not "".join(cells).strip()
