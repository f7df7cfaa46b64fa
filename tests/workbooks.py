"""Hand-made XLSX files for the tests: a workbook's minimal parts written straight into a
zip, so a test can build what no spreadsheet program writes (a sheet recording a size it
does not have, a row past Excel's last one, megabytes of text that compress to nothing)."""

from __future__ import annotations

import zipfile
from pathlib import Path

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OFFICE}.worksheet+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_OFFICE}.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
# The header (shared strings 0 and 1) and one business.
HEAD_ROWS = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>Acme Plumbing</t></is></c>'
    '<c r="B2" t="inlineStr"><is><t>5125550100</t></is></c></row>'
)
_BLOCK = 1 << 20


def write_workbook(
    path: Path,
    *,
    dimension: str = "",
    blank_rows: int = 0,
    tail: str = "",
    padding_rows_bytes: int = 0,
    padding_strings_bytes: int = 0,
) -> Path:
    """A one-sheet workbook at `path`: the header and one business, then `blank_rows`
    empty rows, `padding_rows_bytes` of unnumbered empty rows and the raw row XML `tail`;
    the sheet records `dimension` when given, and the shared strings are padded with
    `padding_strings_bytes` of one-letter strings."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}">'.encode())
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>" + HEAD_ROWS.encode())
            _write_blank_rows(sheet, 3, blank_rows)
            _write_repeated(sheet, b"<row/>", padding_rows_bytes)
            sheet.write(tail.encode() + b"</sheetData></worksheet>")
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as strings:
            header = "<si><t>Company</t></si><si><t>Phone</t></si>"
            strings.write(f'<sst xmlns="{_MAIN}">{header}'.encode())
            _write_repeated(strings, b"<si><t>a</t></si>", padding_strings_bytes)
            strings.write(b"</sst>")
    return path


def _write_blank_rows(out, first: int, count: int) -> None:
    """Rows `first` .. `first + count - 1`, each empty, in blocks."""
    number, last = first, first + count
    while number < last:
        stop = min(last, number + 50_000)
        out.write("".join(f'<row r="{n}"/>' for n in range(number, stop)).encode())
        number = stop


def _write_repeated(out, unit: bytes, size: int) -> None:
    """`unit` repeated to about `size` bytes, in blocks."""
    block = unit * (_BLOCK // len(unit))
    for _ in range(size // len(block)):
        out.write(block)
