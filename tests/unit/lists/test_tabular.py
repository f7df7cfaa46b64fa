"""Reading uploaded CSV and XLSX lists: encodings, delimiters, headers, rows, streaming."""

from __future__ import annotations

import codecs
import gzip
import json
import time
import tracemalloc
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from console.services.lists.tabular import (
    EMPTY_MESSAGE,
    MARKUP_MESSAGE,
    NO_DATA_MESSAGE,
    NO_HEADER_MESSAGE,
    ODS_MESSAGE,
    XLS_MESSAGE,
    XLSX_MAX_COLUMNS,
    XLSX_MAX_ROWS,
    FileProblem,
    FileShape,
    count_rows,
    iter_rows,
    preview,
    sniff,
)
from tests.workbooks import write_workbook

HEADER = "Company Name,Owner,Phone,City,State,Zip"
ROWS = [
    "Harborview Plumbing,Jane Doe,(512) 555-0101,Austin,TX,78701",
    "Desert Sun HVAC,John Smith,512-555-0102,El Paso,TX,79901",
    "Main Street Dental,Ann Lee,5125550103,Dallas,TX,75201",
]


def write_text(tmp_path, text, encoding="utf-8", name="list.csv"):
    """A file in tmp_path holding `text` in `encoding`, written byte for byte."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def write_bytes(tmp_path, data, name="list.csv"):
    """A file in tmp_path holding `data`."""
    path = tmp_path / name
    path.write_bytes(data)
    return path


def lines(*rows, end="\r\n"):
    """Rows joined as a file's lines, with a final line ending."""
    return end.join(rows) + end


def write_xlsx(tmp_path, sheets, name="list.xlsx"):
    """A workbook with one sheet per (title, rows) pair; None rows stay empty."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row or (), start=1):
                sheet.cell(row=number, column=column, value=value)
    path = tmp_path / name
    workbook.save(path)
    return path


def problem_message(path, filename=""):
    """The FileProblem message `sniff` gives for `path`."""
    with pytest.raises(FileProblem) as caught:
        sniff(path, filename)
    return str(caught.value)


# ---------------------------------------------------------------------------- encodings


def test_plain_utf8_comma_file(tmp_path):
    path = write_text(tmp_path, lines(HEADER, *ROWS))
    shape = sniff(path, "list.csv")
    assert shape == FileShape(
        kind="csv",
        encoding="utf-8",
        delimiter=",",
        header_row=1,
        headers=("Company Name", "Owner", "Phone", "City", "State", "Zip"),
    )
    assert list(iter_rows(path, shape)) == [(n + 2, row.split(",")) for n, row in enumerate(ROWS)]
    assert count_rows(path, shape) == 3


def test_utf8_bom_is_read_as_utf8_sig_and_kept_out_of_the_first_header(tmp_path):
    path = write_text(
        tmp_path, lines(HEADER, "Café Olé,José,5125550101,Austin,TX,78701"), "utf-8-sig"
    )
    shape = sniff(path)
    assert shape.encoding == "utf-8-sig"
    assert shape.headers[0] == "Company Name"
    assert preview(path, shape)[0][:2] == ["Café Olé", "José"]


def test_excel_unicode_text_is_utf16_with_bom_and_tabs(tmp_path):
    text = lines(HEADER.replace(",", "\t"), "Café Ñandú\tZoë\t5125550101\tAustin\tTX\t78701")
    path = write_text(tmp_path, text, "utf-16", name="list.txt")
    assert path.read_bytes().startswith(codecs.BOM_UTF16_LE)
    shape = sniff(path)
    assert (shape.encoding, shape.delimiter) == ("utf-16", "\t")
    assert list(iter_rows(path, shape)) == [
        (2, ["Café Ñandú", "Zoë", "5125550101", "Austin", "TX", "78701"])
    ]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_found_by_its_nul_pattern(tmp_path, encoding):
    path = write_text(tmp_path, lines(HEADER, *ROWS), encoding)
    shape = sniff(path)
    assert shape.encoding == encoding
    assert shape.headers[0] == "Company Name"
    assert count_rows(path, shape) == 3


def test_cp1252_byte_deep_in_the_file_is_found(tmp_path):
    rows = [f"Shop {n},Owner {n},512555{n:04d},Austin,TX,78701" for n in range(2, 6000)]
    rows[5000 - 2] = "Café – Bakery,Zoë,5125550000,Austin,TX,78701"
    path = write_text(tmp_path, lines(HEADER, *rows), "cp1252")
    shape = sniff(path)
    assert shape.encoding == "cp1252"
    found = dict(iter_rows(path, shape, start_after=4999))
    assert found[5000][:2] == ["Café – Bakery", "Zoë"]


def test_bytes_undefined_in_cp1252_mean_latin1(tmp_path):
    data = lines(HEADER, *ROWS).encode() + b"Caf\xe9 \x81,Jo,5125550104,Waco,TX,76701\r\n"
    path = write_bytes(tmp_path, data)
    shape = sniff(path)
    assert shape.encoding == "latin-1"
    assert preview(path, shape)[-1][0] == "Café \x81"


def test_utf8_character_split_across_scan_blocks_is_still_utf8(tmp_path):
    filler = "x" * (1024 * 1024 - len(HEADER) - 2 - 1)
    text = lines(HEADER, f"{filler}é,Jo,5125550104,Waco,TX,76701", *ROWS)
    path = write_text(tmp_path, text)
    assert path.read_bytes()[1024 * 1024 - 1 : 1024 * 1024 + 1] == "é".encode()
    assert sniff(path).encoding == "utf-8"


# ---------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_detected(tmp_path, delimiter):
    rows = [row.replace(",", delimiter) for row in (HEADER, *ROWS)]
    path = write_text(tmp_path, lines(*rows))
    shape = sniff(path)
    assert shape.delimiter == delimiter
    assert shape.headers[-1] == "Zip"
    assert next(iter_rows(path, shape))[1][0] == "Harborview Plumbing"


def test_european_excel_semicolons_with_decimal_commas(tmp_path):
    path = write_text(
        tmp_path,
        lines(
            "Firma;Umsatz;Stadt",
            "Bäckerei Müller;1,5;Berlin",
            "Schmidt GmbH;12,75;Hamburg",
            "Weber KG;3,0;München",
        ),
    )
    shape = sniff(path)
    assert shape.delimiter == ";"
    assert preview(path, shape)[0] == ["Bäckerei Müller", "1,5", "Berlin"]


def test_tab_file_with_commas_inside_company_names(tmp_path):
    path = write_text(
        tmp_path,
        lines(
            "Company\tCity\tPhone",
            "Smith, Jones & Co\tAustin\t5125550101",
            "Acme\tWaco, North\t5125550102",
            "Lee Dental\tDallas\t5125550103",
        ),
    )
    assert sniff(path).delimiter == "\t"


def test_quoted_commas_and_line_breaks_keep_record_start_lines(tmp_path):
    text = lines(
        "Company,Notes,Phone",
        '"Smith, Jones & Co","Call after 5, ask for Bob",5125550101',
        '"Acme","line one',
        "line two",
        'line three",5125550102',
        'Lee Dental,"said ""hi""",5125550103',
    )
    path = write_text(tmp_path, text)
    shape = sniff(path)
    assert shape.delimiter == ","
    assert list(iter_rows(path, shape)) == [
        (2, ["Smith, Jones & Co", "Call after 5, ask for Bob", "5125550101"]),
        (3, ["Acme", "line one\r\nline two\r\nline three", "5125550102"]),
        (6, ["Lee Dental", 'said "hi"', "5125550103"]),
    ]
    assert count_rows(path, shape) == 3


def test_single_column_file_has_no_usable_header(tmp_path):
    path = write_text(tmp_path, lines("Company", "Acme", "Beta", "Gamma"))
    assert problem_message(path) == NO_HEADER_MESSAGE


# ---------------------------------------------------------------------------- the header


def test_title_lines_before_the_header_are_skipped(tmp_path):
    text = lines("USBizData.com - Plumbers in Texas", "", "Exported 2026-01-02", HEADER, *ROWS)
    path = write_text(tmp_path, text)
    shape = sniff(path)
    assert shape.header_row == 4
    assert shape.headers[0] == "Company Name"
    assert [number for number, _ in iter_rows(path, shape)] == [5, 6, 7]


def test_title_lines_padded_with_delimiters_are_skipped(tmp_path):
    text = lines(
        "USBizData.com - Plumbers in Texas,,,,,",
        "Exported 2026-01-02,by USBizData,,,,",
        ",,,,,",
        HEADER,
        *ROWS,
    )
    path = write_text(tmp_path, text)
    shape = sniff(path)
    assert shape.header_row == 4
    assert len(shape.headers) == 6


def test_blank_lines_in_the_middle_are_skipped_with_true_row_numbers(tmp_path):
    text = lines(HEADER, ROWS[0], "", ",,,,,", "   ", ROWS[1], "", ROWS[2])
    path = write_text(tmp_path, text)
    shape = sniff(path)
    assert [number for number, _ in iter_rows(path, shape)] == [2, 6, 8]
    assert count_rows(path, shape) == 3


def test_ragged_rows_come_back_unpadded_and_preview_pads_them(tmp_path):
    text = lines("Company,Phone,City", "Acme,5125550101", "Beta,5125550102,Waco,extra", "Gamma")
    path = write_text(tmp_path, text)
    shape = sniff(path)
    assert [cells for _, cells in iter_rows(path, shape)] == [
        ["Acme", "5125550101"],
        ["Beta", "5125550102", "Waco", "extra"],
        ["Gamma"],
    ]
    assert preview(path, shape) == [
        ["Acme", "5125550101", ""],
        ["Beta", "5125550102", "Waco"],
        ["Gamma", "", ""],
    ]


def test_duplicate_and_blank_header_names_are_made_unique(tmp_path):
    text = lines(" Phone , Company,Phone,,phone,Phone (2)", "5125550101,Acme,1,2,3,4")
    shape = sniff(write_text(tmp_path, text))
    assert shape.headers == (
        "Phone",
        "Company",
        "Phone (2)",
        "Column 4",
        "phone (3)",
        "Phone (2) (2)",
    )


def test_trailing_blank_header_cells_count_only_when_data_uses_them(tmp_path):
    rows = ["Acme,5125550101,,", "Beta,5125550102,,", "Gamma,5125550103,,"]
    unused = sniff(write_text(tmp_path, lines("Company,Phone,,", *rows), name="a.csv"))
    rows[1] = "Beta,5125550102,stray note,"
    used = sniff(write_text(tmp_path, lines("Company,Phone,,", *rows), name="b.csv"))
    assert unused.headers == ("Company", "Phone")
    assert used.headers == ("Company", "Phone", "Column 3")


def test_preview_strips_cells_and_respects_the_limit(tmp_path):
    rows = [f"  Shop {n} ,Austin ,5125550{n:03d}" for n in range(30)]
    path = write_text(tmp_path, lines("Company,City,Phone", *rows))
    shape = sniff(path)
    assert preview(path, shape, limit=2) == [
        ["Shop 0", "Austin", "5125550000"],
        ["Shop 1", "Austin", "5125550001"],
    ]
    assert len(preview(path, shape)) == 20
    assert next(iter_rows(path, shape))[1][0] == "  Shop 0 "


def test_all_numeric_rows_have_no_header(tmp_path):
    path = write_text(tmp_path, lines("5125550101,78701,12", "5125550102,78702,13"))
    assert problem_message(path) == NO_HEADER_MESSAGE


def test_data_rows_with_emails_and_phones_are_not_taken_for_a_header(tmp_path):
    text = lines("Acme,jane@acme.com,Austin", "Beta,bob@beta.com,Waco", "Gamma,al@g.com,Dallas")
    assert problem_message(write_text(tmp_path, text)) == NO_HEADER_MESSAGE


def test_header_without_data_rows(tmp_path):
    assert problem_message(write_text(tmp_path, lines(HEADER))) == NO_DATA_MESSAGE
    blank_after = write_text(tmp_path, lines(HEADER, "", ",,,,,", ""), name="b.csv")
    assert problem_message(blank_after) == NO_DATA_MESSAGE


def test_old_mac_line_endings(tmp_path):
    path = write_text(tmp_path, lines(HEADER, *ROWS, end="\r"))
    shape = sniff(path)
    assert [number for number, _ in iter_rows(path, shape)] == [2, 3, 4]


def test_content_decides_the_kind_not_the_name(tmp_path):
    path = write_text(tmp_path, lines(HEADER, *ROWS), name="list.xlsx")
    assert sniff(path, "list.xlsx").kind == "csv"


# ---------------------------------------------------------------------------- unusable files


@pytest.mark.parametrize(
    "data",
    [b"", b"   \r\n\r\n\t  \n", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\r\n  \r\n"],
    ids=["zero-bytes", "whitespace", "bom-only", "bom-and-blank-lines"],
)
def test_empty_files(tmp_path, data):
    assert problem_message(write_bytes(tmp_path, data)) == EMPTY_MESSAGE


def test_long_whitespace_only_file_is_empty(tmp_path):
    path = write_bytes(tmp_path, b" ,  ,\r\n" * 20_000)
    assert problem_message(path) == EMPTY_MESSAGE


def test_utf16_file_with_only_a_bom_and_spaces_is_empty(tmp_path):
    assert problem_message(write_text(tmp_path, "  \r\n", "utf-16")) == EMPTY_MESSAGE


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
        (gzip.compress(lines(HEADER, *ROWS).encode()), "gzip"),
    ],
    ids=["png", "pdf", "gzip"],
)
def test_binary_files_are_refused_by_name(tmp_path, data, label):
    message = problem_message(write_bytes(tmp_path, data))
    assert message == f"This looks like a binary file ({label}), not a CSV or XLSX list."


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "list.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("list.csv", lines(HEADER, *ROWS))
    assert problem_message(path) == "This looks like a binary file (zip), not a CSV or XLSX list."


def test_old_excel_xls_is_refused_with_advice(tmp_path):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    assert problem_message(write_bytes(tmp_path, data, "list.xls"), "list.xls") == XLS_MESSAGE


def test_password_protected_xlsx_says_so(tmp_path):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    message = problem_message(write_bytes(tmp_path, data, "list.xlsx"), "list.xlsx")
    assert "password-protected" in message


def test_an_html_table_named_xls_is_refused_with_advice(tmp_path):
    html = "<!DOCTYPE html>\n<html><body><table><tr><td>Company</td></tr></table></body></html>"
    path = write_text(tmp_path, html, name="export.xls")
    assert problem_message(path, "export.xls") == MARKUP_MESSAGE


def test_an_opendocument_spreadsheet_is_refused_with_advice(tmp_path):
    path = tmp_path / "list.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    assert problem_message(path, "list.ods") == ODS_MESSAGE


def test_a_damaged_workbook_is_refused(tmp_path):
    path = tmp_path / "list.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "not xml at all")
    assert problem_message(path, "list.xlsx").startswith("This XLSX file could not be opened")


def test_text_with_nul_bytes_is_binary(tmp_path):
    data = lines(HEADER, *ROWS).encode() + b"Acme\x00\x00\x01\x02,x,y,z,w,v\r\n"
    message = problem_message(write_bytes(tmp_path, data))
    assert message == "This looks like a binary file, not a CSV or XLSX list."


def test_a_damaged_record_is_reported_with_its_row(tmp_path):
    unclosed = 'Gamma,"' + "x" * (11 * 1024 * 1024)
    path = write_text(tmp_path, lines(HEADER, ROWS[0], unclosed))
    shape = sniff(path)
    with pytest.raises(FileProblem, match=r"^Row 3 could not be read"):
        count_rows(path, shape)
    with pytest.raises(FileProblem, match=r"^Row 3 could not be read"):
        list(iter_rows(path, shape))


def test_an_unclosed_quote_breaks_its_row_only(tmp_path):
    path = write_text(
        tmp_path,
        lines("Company,Phone", "Acme,5125550100", '"Broken Co,5125550101', "Good,5125550102"),
    )
    shape = sniff(path)
    read = list(iter_rows(path, shape))
    assert read == [
        (2, ["Acme", "5125550100"]),
        (3, ['"Broken Co', "5125550101"]),
        (4, ["Good", "5125550102"]),
    ]
    assert read[1][1].problem == "it never closes; the line after it was read as a row of its own"
    assert count_rows(path, shape) == 3


def test_a_quote_closed_rows_later_breaks_its_row_only(tmp_path):
    text = lines("Company,Phone", '"Broken Co,5125550101', 'Good,"two', 'lines",5', "Last,5")
    path = write_text(tmp_path, text)
    shape = sniff(path)
    read = list(iter_rows(path, shape))
    assert read == [
        (2, ['"Broken Co', "5125550101"]),
        (3, ["Good", "two\r\nlines", "5"]),
        (5, ["Last", "5"]),
    ]
    assert read[0][1].problem == "the line after it was read as a row of its own"
    assert count_rows(path, shape) == 3


def test_a_quoted_cell_over_lines_is_still_one_cell(tmp_path):
    path = write_text(tmp_path, lines("Company,Notes", 'Acme,"two\r\nlines"', "Beta,x"))
    shape = sniff(path)
    assert list(iter_rows(path, shape)) == [(2, ["Acme", "two\r\nlines"]), (4, ["Beta", "x"])]


# ---------------------------------------------------------------------------- XLSX


def test_xlsx_with_title_rows_numbers_and_dates(tmp_path):
    path = write_xlsx(
        tmp_path,
        [
            (
                "Plumbers",
                [
                    ["USBizData.com - Plumbers in Texas"],
                    None,
                    ["Company", "Phone", "Zip", "Employees", "Revenue", "Founded", "Since"],
                    [
                        "Acme",
                        5125550101,
                        2101,
                        12.0,
                        1234.5,
                        date(2026, 1, 2),
                        datetime(1999, 5, 6),
                    ],
                    None,
                    ["Beta", "(512) 555-0102", "78701", 3, 0.25, datetime(2020, 1, 2, 13, 45)],
                ],
            )
        ],
    )
    shape = sniff(path, "list.xlsx")
    assert (shape.kind, shape.sheet, shape.header_row) == ("xlsx", "Plumbers", 3)
    assert (shape.encoding, shape.delimiter) == ("", "")
    assert shape.headers[:3] == ("Company", "Phone", "Zip")
    assert list(iter_rows(path, shape)) == [
        (4, ["Acme", "5125550101", "2101", "12", "1234.5", "2026-01-02", "1999-05-06"]),
        (6, ["Beta", "(512) 555-0102", "78701", "3", "0.25", "2020-01-02 13:45:00"]),
    ]
    assert preview(path, shape)[1][-1] == ""
    assert count_rows(path, shape) == 2


def test_xlsx_reads_the_first_sheet_with_data(tmp_path):
    path = write_xlsx(
        tmp_path,
        [("Cover", [["About this list"]]), ("Leads", [["Company", "Phone"], ["Acme", 5125550101]])],
    )
    shape = sniff(path)
    assert shape.sheet == "Leads"
    assert list(iter_rows(path, shape)) == [(2, ["Acme", "5125550101"])]


def test_empty_workbook_is_empty(tmp_path):
    assert problem_message(write_xlsx(tmp_path, [("Sheet1", [])])) == EMPTY_MESSAGE


def test_workbook_with_only_a_header(tmp_path):
    path = write_xlsx(tmp_path, [("Sheet1", [["Company", "Phone"]])])
    assert problem_message(path) == NO_DATA_MESSAGE


def test_workbook_without_a_header(tmp_path):
    path = write_xlsx(tmp_path, [("Sheet1", [[5125550101, 78701], [5125550102, 78702]])])
    assert problem_message(path) == NO_HEADER_MESSAGE


# ---------------------------------------------------------------------------- resuming, storing


def test_iter_rows_resumes_after_a_row_number(tmp_path):
    text = lines(HEADER, ROWS[0], "", ROWS[1], ROWS[2])
    path = write_text(tmp_path, text)
    shape = sniff(path)
    assert [number for number, _ in iter_rows(path, shape, start_after=2)] == [4, 5]
    assert [number for number, _ in iter_rows(path, shape, start_after=3)] == [4, 5]
    assert list(iter_rows(path, shape, start_after=5)) == []


def test_xlsx_resumes_after_a_row_number(tmp_path):
    rows = [["Company", "Phone"]] + [[f"Shop {n}", 5125550100 + n] for n in range(5)]
    path = write_xlsx(tmp_path, [("Sheet1", rows)])
    shape = sniff(path)
    assert [number for number, _ in iter_rows(path, shape, start_after=4)] == [5, 6]


@pytest.mark.parametrize(
    "shape",
    [
        FileShape("csv", "utf-16", "\t", 4, ("Company", "Column 2", "Phone (2)")),
        FileShape("xlsx", "", "", 1, ("Company",), sheet="Leads"),
    ],
)
def test_shape_round_trips_through_json(shape):
    stored = json.loads(json.dumps(shape.to_dict()))
    assert FileShape.from_dict(stored) == shape


# ---------------------------------------------------------------------------- XLSX bombs


def refused_quickly(call) -> str:
    """The FileProblem message `call` raises, asserting it came in well under a second."""
    started = time.perf_counter()
    with pytest.raises(FileProblem) as caught:
        call()
    assert time.perf_counter() - started < 1.5
    return str(caught.value)


def test_a_workbook_whose_text_expands_past_the_limit_is_refused_before_parsing(tmp_path):
    path = write_workbook(tmp_path / "list.xlsx", padding_strings_bytes=60 * 1024 * 1024)
    assert path.stat().st_size < 1024 * 1024
    message = refused_quickly(lambda: sniff(path, "list.xlsx"))
    assert message.startswith("This workbook's text expands to 60 MB; the limit is 50 MB.")


def test_a_workbook_that_expands_past_the_upload_limit_is_refused_before_parsing(tmp_path):
    path = write_workbook(tmp_path / "list.xlsx", padding_rows_bytes=210 * 1024 * 1024)
    assert path.stat().st_size < 1024 * 1024
    message = refused_quickly(lambda: sniff(path, "list.xlsx"))
    assert message.startswith("This workbook expands to 211 MB; the limit is 200 MB.")


def test_a_sheet_recording_too_many_rows_or_columns_is_refused(tmp_path):
    rows = write_workbook(tmp_path / "rows.xlsx", dimension="A1:B5000000")
    assert refused_quickly(lambda: sniff(rows, "rows.xlsx")).startswith(
        "The sheet 'Sheet1' has 5,000,000 rows; the limit is 1,048,576."
    )
    columns = write_workbook(tmp_path / "columns.xlsx", dimension="A1:ZZZ2")
    assert refused_quickly(lambda: sniff(columns, "columns.xlsx")).startswith(
        "The sheet 'Sheet1' has 18,278 columns; the limit is 1,000."
    )


def test_a_sheet_past_the_last_row_is_refused_while_streaming_whatever_it_records(tmp_path):
    past = XLSX_MAX_ROWS + 1
    tail = f'<row r="{past}"><c r="A{past}" t="inlineStr"><is><t>Late LLC</t></is></c></row>'
    path = write_workbook(tmp_path / "list.xlsx", dimension="A1:B2", tail=tail)
    shape = sniff(path, "list.xlsx")
    assert preview(path, shape) == [["Acme Plumbing", "5125550100"]]
    message = refused_quickly(lambda: count_rows(path, shape))
    assert message.startswith("The sheet 'Sheet1' has more than 1,048,576 rows")
    with pytest.raises(FileProblem, match="more than 1,048,576 rows"):
        list(iter_rows(path, shape))


def test_a_row_wider_than_the_limit_is_refused_while_streaming(tmp_path):
    column = get_column_letter(XLSX_MAX_COLUMNS + 1)
    wide = f'<row r="3"><c r="{column}3" t="inlineStr"><is><t>x</t></is></c></row>'
    path = write_workbook(tmp_path / "list.xlsx", tail=wide)
    message = refused_quickly(lambda: sniff(path, "list.xlsx"))
    assert message.startswith("The sheet 'Sheet1' has more than 1,000 columns")


def test_sniffing_and_previews_do_not_read_through_empty_rows(tmp_path):
    path = write_workbook(tmp_path / "list.xlsx", blank_rows=500_000)
    started = time.perf_counter()
    shape = sniff(path, "list.xlsx")
    assert preview(path, shape) == [["Acme Plumbing", "5125550100"]]
    assert time.perf_counter() - started < 1.5
    assert shape.headers == ("Company", "Phone")


# ---------------------------------------------------------------------------- size


def test_large_file_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "big.csv"
    row_count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Company,Owner,Phone,Street,City,State,Zip,Email,Notes\r\n")
        # Long notes keep the row count (and so the test's time under tracemalloc) modest.
        notes = "Family owned since 1987, two trucks, asked to call back in spring. " * 12
        while handle.tell() < 50 * 1024 * 1024:
            block = [
                f"Shop {n},Owner {n},512555{n % 10000:04d},{n} Main St,Austin,TX,78701,"
                f'owner{n}@example.com,"{notes}"\r\n'
                for n in range(row_count, row_count + 5000)
            ]
            handle.write("".join(block))
            row_count += len(block)
    started = time.perf_counter()
    shape = sniff(path)
    assert time.perf_counter() - started < 5
    tracemalloc.start()
    try:
        seen = sum(1 for _ in iter_rows(path, shape))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == row_count
    assert peak < 20 * 1024 * 1024
    assert count_rows(path, shape) == row_count
