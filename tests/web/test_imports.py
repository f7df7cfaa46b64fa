# ruff: noqa: E501 - list rows read best one to a line
"""Imports from the browser's side: upload, mapping, run, summary, rejects, cancel, resume."""

from __future__ import annotations

import csv
import io
import json
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from console.extensions import db
from console.models import Business, ImportJob, JobRun, Lead, LeadSource, MappingPreset, Phone
from console.services.lists import ingest, tabular
from console.services.lists.imports import FILENAME_CHARS
from jobs.worker import drain
from tests.conftest import login
from tests.workbooks import write_workbook

HEADER = "Company Name,Contact Name,Title,Address,City,State,Zip,Phone,Email,Employees,Sales Volume,Notes"
ROWS = [
    "Hillcrest Roofing LLC,Amanda Williams,Owner,8074 W Lakeview Dr,Austin,TX,78701,(512) 555-0100,amanda@hillcrest.example,5 to 9,$1-2.5 Million,met at expo",
    "Bluebonnet Child Care Co,Sandra Carter,President,9094 E 5th Ave,Houston,TX,77002,(713) 555-0101,,20 to 49,$5 to 10 Million,",
    # The same roofer again: LLC vs Inc, phone reformatted, a suite number.
    "Hillcrest Roofing Inc.,AMANDA WILLIAMS,Owner,8074 West Lakeview Drive Suite 2,Austin,TX,78701,512.555.0100,,5 to 9,,",
    # No business name and no phone: rejected.
    ",John Doe,Owner,1 Main St,Dallas,TX,75201,,,,,",
    # A formula in a cell, to be escaped in the rejects CSV.
    ',=HYPERLINK("x"),,,,,,,,,,',
]


def list_file(rows=ROWS, header=HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def upload(client, content: bytes, name: str = "plumbers.csv"):
    return client.post(
        "/imports/",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def start_import(client, import_id: int, **form):
    page = client.get(f"/imports/{import_id}/mapping")
    assert page.status_code == 200
    columns = db.session.get(ImportJob, import_id).mapping
    return client.post(f"/imports/{import_id}/start", data={"column": columns, **form})


def import_through_the_browser(app, client, content: bytes, **form) -> ImportJob:
    response = upload(client, content)
    assert response.status_code == 302, response.text
    import_id = int(response.headers["Location"].split("/")[-2])
    assert start_import(client, import_id, **form).status_code == 302
    drain(app)
    db.session.expire_all()
    return db.session.get(ImportJob, import_id)


def test_upload_maps_columns_from_the_alias_table(app, client, crew):
    login(client, crew.operator)
    response = upload(client, list_file())
    job = db.session.scalars(select(ImportJob)).one()
    assert response.headers["Location"].endswith(f"/imports/{job.id}/mapping")
    assert job.mapping[:11] == [
        "business_name",
        "contact_name",
        "title",
        "street",
        "city",
        "state",
        "zip",
        "phone",
        "email",
        "employees",
        "revenue",
    ]
    assert job.mapping[11] == ""  # Notes: kept as a custom field
    page = client.get(f"/imports/{job.id}/mapping")
    assert "Hillcrest Roofing LLC" in page.text and "(512) 555-0100" in page.text
    assert "Rejected:" in page.text  # the preview says what each row becomes


def test_import_runs_to_a_summary_with_every_row_accounted_for(app, client, crew):
    login(client, crew.operator)
    job = import_through_the_browser(app, client, list_file(), tags="tx-roofers")
    assert job.status == "done"
    counts = job.counts
    assert counts["rows"] == 5
    assert (counts["created"], counts["merged"], counts["rejected"]) == (2, 1, 2)
    assert counts["merged_by_rule"] == {"owner_phone": 1}
    assert counts["rows"] == counts["created"] + counts["merged"] + counts["rejected"]

    roofer = db.session.scalars(
        select(Lead).where(Lead.business.has(name="Hillcrest Roofing LLC"))
    ).one()
    assert roofer.tags == ["tx-roofers"]
    assert roofer.custom_fields == {"Notes": "met at expo"}
    assert [(s.row_number, s.action) for s in roofer.sources] == [(2, "created"), (4, "merged")]
    assert roofer.business.unit == "Ste 2"  # filled from the duplicate, which had a suite
    assert roofer.business.revenue_low == 1_000_000 and roofer.business.employees_high == 9

    summary = client.get(f"/imports/{job.id}")
    assert "Leads created" in summary.text and "Same phone" in summary.text
    assert client.get(f"/leads/?import_id={job.id}").text.count('class="code">LEAD-') == 2


def test_rejected_rows_download_with_reasons_and_escaped_formulas(app, client, crew):
    login(client, crew.operator)
    job = import_through_the_browser(app, client, list_file())
    response = client.get(f"/imports/{job.id}/rejects.csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["row_number", "reason", "Company Name"]
    assert rows[1][0] == "5" and "owner has no phone" in rows[1][1]
    assert rows[2][0] == "6" and rows[2][3] == '\'=HYPERLINK("x")'


OWNER_FIRST_LIST = "\n".join(
    [
        "Company,Owner First,Owner Last,State,Phone",
        "Lake Plumbing LLC,Dana,Reyes,XX,(512) 555-0100",
        "#REF!,#N/A,,TX,(512) 555-0101",
        "Hill Dental,#VALUE!,Ng,TX,(512) 555-0102",
    ]
)


def test_owner_first_and_last_columns_name_the_owner(app, client, crew):
    login(client, crew.operator)
    job = import_through_the_browser(app, client, OWNER_FIRST_LIST.encode())
    assert job.mapping == ["business_name", "first_name", "last_name", "state", "phone"]
    plumber = db.session.scalars(
        select(Lead).where(Lead.business.has(name="Lake Plumbing LLC"))
    ).one()
    assert (plumber.owner.first_name, plumber.owner.last_name) == ("Dana", "Reyes")
    assert plumber.custom_fields == {}  # not kept as custom fields any more
    assert plumber.business.state == ""  # "XX" is no state


def test_error_cells_never_become_names_and_rejects_say_why(app, client, crew):
    login(client, crew.operator)
    job = import_through_the_browser(app, client, OWNER_FIRST_LIST.encode())
    assert (job.counts["created"], job.counts["rejected"]) == (2, 1)
    names = set(db.session.scalars(select(Business.name)))
    assert names == {"Lake Plumbing LLC", "Hill Dental"}
    dental = db.session.scalars(select(Lead).where(Lead.business.has(name="Hill Dental"))).one()
    assert (dental.owner.first_name, dental.owner.last_name) == ("", "Ng")
    rows = list(csv.reader(io.StringIO(client.get(f"/imports/{job.id}/rejects.csv").text)))
    assert rows[1][:2] == [
        "3",
        "The only name is a spreadsheet error, not a name: "
        "Business name is #REF!; Owner first name is #N/A",
    ]
    summary = client.get(f"/imports/{job.id}").text
    assert "left blank as invalid" in summary  # the state and the #VALUE! in kept rows


def test_mapping_page_warns_when_no_owner_name_is_mapped(client, crew):
    login(client, crew.operator)
    response = upload(client, b"Company,Phone\nLake Plumbing LLC,(512) 555-0100\n")
    page = client.get(response.headers["Location"]).text
    assert "No owner-name column is mapped" in page and "Hi there" in page
    response = upload(client, OWNER_FIRST_LIST.encode(), "owners.csv")
    page = client.get(response.headers["Location"]).text
    assert "No owner-name column is mapped" not in page
    assert "State &#39;XX&#39; is not a US state: left blank" in page  # the preview's notes


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "logo.csv", "binary"),
        (b"1,2,3\n4,5,6\n7,8,9\n", "numbers.csv", "No header row"),
        (b"Company,Phone\n", "header-only.csv", "no data rows"),
    ],
)
def test_unusable_files_get_a_clear_message_and_create_nothing(
    client, crew, content, name, message
):
    login(client, crew.operator)
    response = upload(client, content, name)
    assert response.status_code == 400
    assert message.lower() in response.text.lower()
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_importing_the_same_file_twice_creates_nothing_new(app, client, crew):
    login(client, crew.operator)
    first = import_through_the_browser(app, client, list_file())
    leads_before = db.session.scalar(select(func.count()).select_from(Lead))
    phones_before = db.session.scalar(select(func.count()).select_from(Phone))
    second = import_through_the_browser(app, client, list_file())
    assert second.counts["created"] == 0
    assert second.counts["merged_by_rule"]["same_row"] == 3
    assert db.session.scalar(select(func.count()).select_from(Lead)) == leads_before
    assert db.session.scalar(select(func.count()).select_from(Phone)) == phones_before
    assert first.counts["created"] == leads_before


def test_an_import_killed_halfway_resumes_without_duplicates(app, client, crew, monkeypatch):
    rows = [
        f"Shop {n} LLC,Owner {n} Smith,Owner,{n} Main St,Austin,TX,78701,(512) 555-{n:04d},,,,"
        for n in range(1, 26)
    ]
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 10)
    real = ingest.process_chunk
    calls = {"n": 0}

    def dies_on_the_third_chunk(session, ctx, chunk, built=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real(session, ctx, chunk, built)

    monkeypatch.setattr(ingest, "process_chunk", dies_on_the_third_chunk)
    login(client, crew.operator)
    job = import_through_the_browser(app, client, list_file(rows))
    assert job.status == "failed" and "worker killed" in job.error
    assert (job.rows_done, job.counts["created"]) == (20, 20)
    run = db.session.get(JobRun, job.job_run_id)
    assert run.status == "failed"

    assert client.post(f"/jobs/{run.id}/retry").status_code == 302
    drain(app)
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert job.status == "done" and job.rows_done == 25
    assert job.counts["created"] == 25 and job.counts["merged"] == 0
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 25
    assert db.session.scalar(select(func.count()).select_from(LeadSource)) == 25


def test_a_crashed_import_run_again_from_the_start_creates_no_duplicates(app, client, crew):
    login(client, crew.operator)
    job = import_through_the_browser(app, client, list_file())
    # As if the checkpoint had been lost: the run starts over from the first row.
    job.status, job.last_row, job.rows_done, job.counts = "failed", 0, 0, {}
    db.session.commit()
    from console.services.lists import imports

    job.stored_path = str(app.config["UPLOAD_DIR"]) + "/again.csv"
    with open(job.stored_path, "wb") as handle:
        handle.write(list_file())
    db.session.commit()
    imports.run_import(db.session, job.id)
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 2
    assert job.counts["merged_by_rule"] == {"same_row": 3}


def test_cancel_stops_a_queued_import(app, client, crew):
    login(client, crew.operator)
    response = upload(client, list_file())
    import_id = int(response.headers["Location"].split("/")[-2])
    start_import(client, import_id)
    assert client.post(f"/imports/{import_id}/cancel").status_code == 302
    drain(app)
    db.session.expire_all()
    job = db.session.get(ImportJob, import_id)
    assert job.status == "cancelled" and job.rows_done == 0
    assert db.session.get(JobRun, job.job_run_id).status == "cancelled"
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_a_saved_mapping_is_offered_again_for_the_same_header(app, client, crew):
    header = "Biz,Boss,Tel,Postal"
    content = list_file(["Acme Welding,Jo Park,(512) 555-0111,78701"], header)
    login(client, crew.operator)
    response = upload(client, content)
    import_id = int(response.headers["Location"].split("/")[-2])
    mapping = ["business_name", "contact_name", "phone", "zip"]
    client.post(
        f"/imports/{import_id}/start", data={"column": mapping, "preset_name": "Broker list"}
    )
    assert db.session.scalars(select(MappingPreset)).one().name == "Broker list"
    response = upload(client, content, "next-week.csv")
    again = db.session.get(ImportJob, int(response.headers["Location"].split("/")[-2]))
    assert again.mapping == mapping
    assert "Broker list" in client.get(f"/imports/{again.id}/mapping").text


def test_mapping_without_a_business_or_owner_and_phone_cannot_start(app, client, crew):
    login(client, crew.operator)
    response = upload(client, list_file())
    import_id = int(response.headers["Location"].split("/")[-2])
    columns = ["ignore"] * 12
    columns[1] = "contact_name"
    response = client.post(f"/imports/{import_id}/start", data={"column": columns})
    assert response.status_code == 302 and response.headers["Location"].endswith("/mapping")
    assert db.session.get(ImportJob, import_id).status == "mapping"
    preview = client.post(
        f"/imports/{import_id}/mapping/preview",
        data={"column": columns},
        headers={"HX-Request": "true"},
    )
    assert "Map a column to Business name" in preview.text and "<html" not in preview.text


def test_another_teams_import_is_a_404(app, client, crew, outsider):
    login(client, outsider.operator)
    response = upload(client, list_file())
    import_id = int(response.headers["Location"].split("/")[-2])
    client.post("/logout")
    login(client, crew.operator)
    for path in (f"/imports/{import_id}/mapping", f"/imports/{import_id}/rejects.csv"):
        assert client.get(path).status_code == 404
    assert client.post(f"/imports/{import_id}/cancel").status_code == 404
    assert "plumbers.csv" not in client.get("/imports/").text


def test_reviewers_cannot_import(client, crew):
    login(client, crew.reviewer)
    assert client.get("/imports/").status_code == 403
    assert upload(client, list_file()).status_code == 403


def test_import_csv_command_prints_a_json_summary(app, runner, crew, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(list_file())
    result = runner.invoke(args=["import-csv", str(path), "--team", crew.team.name, "--tag", "cli"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["status"] == "done"
    assert (summary["rows"], summary["created"], summary["merged"], summary["rejected"]) == (
        5,
        2,
        1,
        2,
    )
    missing = runner.invoke(
        args=["import-csv", str(path), "--team", crew.team.name, "--preset", "nope"]
    )
    assert missing.exit_code != 0 and "No saved mapping named 'nope'" in missing.output


def test_an_unclosed_quote_rejects_its_row_and_imports_the_rows_after_it(app, client, crew):
    login(client, crew.operator)
    broken = '"Broken Quote Roofing,Al Broken,Owner,1 Main St,Austin,TX,78701,(512) 555-0150,,,,'
    after = [
        f"Lake {n} Plumbing LLC,Dana Owner{n},Owner,{n} Lake Dr,Austin,TX,78701,(512) 555-01{60 + n},,,,"
        for n in range(1, 5)
    ]
    job = import_through_the_browser(app, client, list_file([ROWS[0], broken, *after]))
    assert job.status == "done"
    assert job.counts["rows"] == 6
    assert (job.counts["created"], job.counts["rejected"]) == (5, 1)
    assert job.counts["rejected_by_reason"] == {"broken_quote": 1}
    names = set(db.session.scalars(select(Lead.code)))
    assert len(names) == 5
    rejects = list(csv.reader(io.StringIO(client.get(f"/imports/{job.id}/rejects.csv").text)))
    assert rejects[1][:3] == [
        "3",
        "A quote opened in the row runs on past its cell: it never closes; "
        "the 4 lines after it were read as rows of their own",
        '"Broken Quote Roofing',
    ]
    assert (
        "A quote opened in the row runs on past its cell" in client.get(f"/imports/{job.id}").text
    )


def test_a_row_with_a_document_in_a_cell_is_rejected_quickly_with_its_reason(app, client, crew):
    """A 200,000-character address (the normalizers' worst text) rejects its row at once."""
    login(client, crew.operator)
    huge = "(" * 200_000
    row = f"Lake Plumbing LLC,Dana Owner,Owner,{huge},Austin,TX,78701,(512) 555-0160,,,,"
    started = time.perf_counter()
    job = import_through_the_browser(app, client, list_file([ROWS[0], row]))
    assert time.perf_counter() - started < 30  # it took hours before
    assert (job.status, job.counts["created"]) == ("done", 1)
    assert job.counts["rejected_by_reason"] == {"too_long": 1}
    rejects = list(csv.reader(io.StringIO(client.get(f"/imports/{job.id}/rejects.csv").text)))
    assert rejects[1][1] == (
        "A value is far longer than a list cell: Street address has 200,000 characters"
        " (at most 1,000)"
    )


@pytest.mark.parametrize(
    "sent, stored",
    [
        ("plumb\x00ers\x1b.csv", "plumbers.csv"),
        ("lists/" + "p" * 300 + ".csv", "p" * (FILENAME_CHARS - 4) + ".csv"),
        ("\x00\x07", "upload.csv"),
    ],
    ids=["control characters", "a long path", "nothing left"],
)
def test_an_uploaded_files_name_is_stored_the_same_on_every_database(
    app, client, crew, sent, stored
):
    login(client, crew.operator)
    response = client.post(
        "/imports/",
        data={"file": (io.BytesIO(list_file()), sent)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.text
    job = db.session.scalars(select(ImportJob)).one()
    assert job.filename == stored
    assert start_import(client, job.id).status_code == 302
    drain(app)
    db.session.expire_all()
    assert db.session.get(ImportJob, job.id).status == "done"
    assert {source.filename for source in db.session.scalars(select(LeadSource))} == {stored}


def test_a_workbook_bomb_is_refused_on_upload_at_once(client, crew, tmp_path):
    login(client, crew.operator)
    bomb = write_workbook(tmp_path / "owners.xlsx", padding_strings_bytes=60 * 1024 * 1024)
    started = time.perf_counter()
    response = upload(client, bomb.read_bytes(), "owners.xlsx")
    assert time.perf_counter() - started < 2
    assert response.status_code == 400
    assert "This workbook&#39;s text expands to 60 MB; the limit is 50 MB." in response.text
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_a_sheet_of_empty_rows_maps_at_once_and_refuses_past_the_last_row(
    app, client, crew, tmp_path
):
    login(client, crew.operator)
    past = tabular.XLSX_MAX_ROWS + 1
    tail = f'<row r="{past}"><c r="A{past}" t="inlineStr"><is><t>Late LLC</t></is></c></row>'
    bomb = write_workbook(tmp_path / "owners.xlsx", blank_rows=300_000, tail=tail)
    started = time.perf_counter()
    response = upload(client, bomb.read_bytes(), "owners.xlsx")
    import_id = int(response.headers["Location"].split("/")[-2])
    page = client.get(f"/imports/{import_id}/mapping")
    assert time.perf_counter() - started < 2
    assert "Acme Plumbing" in page.text
    assert start_import(client, import_id).status_code == 302
    drain(app)
    db.session.expire_all()
    job = db.session.get(ImportJob, import_id)
    assert job.status == "failed"
    assert job.error.startswith("The sheet 'Sheet1' has more than 1,048,576 rows")


def test_import_csv_command_refuses_a_giant_line_in_one_line_without_a_traceback(
    runner, crew, tmp_path
):
    path = tmp_path / "list.csv"
    giant = "Giant Line LLC," + "x" * (13 * 1024 * 1024)
    path.write_bytes(list_file(ROWS[:2] + [giant]))
    result = runner.invoke(args=["import-csv", str(path), "--team", crew.team.name])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    assert result.stderr.splitlines()[-1] == (
        "Error: Line 4 is longer than 12,582,912 characters; is this really a list of businesses?"
    )
    job = db.session.scalars(select(ImportJob)).one()
    assert (job.status, job.error) == ("failed", result.stderr.splitlines()[-1][len("Error: ") :])


def test_a_second_process_normalizes_big_files_with_the_same_outcome(
    app, client, crew, monkeypatch
):
    monkeypatch.setattr(ingest, "PARALLEL_FROM_ROWS", 1)
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 2)
    login(client, crew.operator)
    job = import_through_the_browser(app, client, list_file())
    assert job.status == "done"
    assert (job.counts["created"], job.counts["merged"], job.counts["rejected"]) == (2, 1, 2)


def test_a_row_with_absurd_numbers_does_not_stop_the_import(app, client, crew):
    rows = [
        "Big Numbers LLC,Al Big,Owner,1 Main St,Austin,TX,78701,(512) 555-0190,,5000000000,$"
        + "9" * 400
        + ",",
        *ROWS[:2],
    ]
    login(client, crew.operator)
    job = import_through_the_browser(app, client, list_file(rows))
    assert job.status == "done"
    assert job.counts["rows"] == 3 and job.counts["created"] + job.counts["rejected"] == 3


def test_the_rejects_header_is_escaped_too(app, client, crew):
    header = HEADER.replace("Notes", '=HYPERLINK("http://evil")')
    login(client, crew.operator)
    job = import_through_the_browser(app, client, list_file(ROWS, header))
    first_line = client.get(f"/imports/{job.id}/rejects.csv").text.splitlines()[0]
    assert first_line.endswith('"\'=HYPERLINK(""http://evil"")"')


def test_a_damaged_workbook_is_refused_and_leaves_nothing(app, client, crew, tmp_path):
    import zipfile

    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook><sheets><sheet name='S'")
    login(client, crew.operator)
    response = upload(client, path.read_bytes(), "broken.xlsx")
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0
    assert not any((tmp_path / "uploads").rglob("*.xlsx"))


def test_start_twice_queues_the_import_once(app, client, crew):
    login(client, crew.operator)
    response = upload(client, list_file())
    import_id = int(response.headers["Location"].split("/")[-2])
    start_import(client, import_id)
    columns = db.session.get(ImportJob, import_id).mapping
    client.post(f"/imports/{import_id}/start", data={"column": columns})
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1


def test_a_failed_import_can_be_given_up(app, client, crew, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest, "process_chunk", broken)
    login(client, crew.operator)
    job = import_through_the_browser(app, client, list_file())
    assert job.status == "failed"
    assert client.post(f"/imports/{job.id}/cancel").status_code == 302
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert job.status == "cancelled"
    assert db.session.get(JobRun, job.job_run_id).status == "cancelled"
    from pathlib import Path

    assert not Path(job.stored_path).exists()


def test_the_price_paid_for_a_list_is_kept_and_shown(app, client, crew):
    login(client, crew.operator)
    page = client.get(upload(client, list_file()).headers["Location"])
    assert "Price paid for this list ($)" in page.text
    job = import_through_the_browser(app, client, list_file(), list_price="$2,500.50")
    assert job.list_price == Decimal("2500.50")
    assert "list price $2,500.50" in client.get(f"/imports/{job.id}").text


@pytest.mark.parametrize("typed", ["a lot", "-5", "99999999999"])
def test_a_list_price_that_is_not_an_amount_keeps_the_import_waiting(app, client, crew, typed):
    login(client, crew.operator)
    import_id = int(upload(client, list_file()).headers["Location"].split("/")[-2])
    response = start_import(client, import_id, list_price=typed)
    assert response.status_code == 302 and response.headers["Location"].endswith("/mapping")
    db.session.expire_all()
    job = db.session.get(ImportJob, import_id)
    assert job.status == "mapping" and job.list_price is None
    assert "price paid for this list in dollars" in client.get(response.headers["Location"]).text


def test_a_blank_list_price_is_no_price(app, client, crew):
    login(client, crew.operator)
    job = import_through_the_browser(app, client, list_file(), list_price=" ")
    assert job.status == "done" and job.list_price is None
