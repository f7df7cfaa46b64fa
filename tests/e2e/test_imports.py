"""Importing a list in a real browser: upload, map with a live preview, run, summary, rejects."""

from __future__ import annotations

import csv

import pytest

from console.models import Role
from console.services.demo import SAMPLE_FILE
from tests.e2e.conftest import assert_not_reloaded, expect, mark_page, sign_in, url_path

pytestmark = pytest.mark.e2e

JOB_TIMEOUT_MS = 30_000


def sample_row() -> dict[str, str]:
    """The first business of the demo sample, to import again as a duplicate."""
    with SAMPLE_FILE.open(newline="", encoding="utf-8") as handle:
        return next(csv.DictReader(handle))


def write_list(path, rows: list[list[str]]) -> None:
    header = [
        "Company",
        "Owner Name",
        "Street Address",
        "City",
        "ST",
        "Zip Code",
        "Telephone",
        "Notes",
    ]
    with path.open("w", newline="", encoding="cp1252") as handle:
        csv.writer(handle, delimiter=";").writerows([header, *rows])


def test_operator_imports_a_list_and_reads_what_happened_to_every_row(page, tmp_path, shoot):
    known = sample_row()
    path = tmp_path / "broker-list.csv"
    write_list(
        path,
        [
            [
                "Café Olé LLC",
                "José Núñez",
                "12 Main Street Suite 4",
                "Austin",
                "Texas",
                "78701",
                "512.555.0188",
                "walk-in",
            ],
            [
                "Ridge Welding Inc",
                "SMITH, JOHN",
                "400 N Lamar Blvd",
                "Austin",
                "TX",
                "78703",
                "(512) 555-0177",
                "",
            ],
            # A business the demo team already has, its phone typed another way.
            [
                known["Company Name"].upper(),
                known["Contact Name"],
                known["Address"],
                known["City"],
                known["State"],
                known["Zip"],
                known["Phone"].replace("(", "").replace(") ", "-"),
                "",
            ],
            ["", "", "", "", "", "", "", "=cmd|' /C calc'!A0"],
        ],
    )
    sign_in(page, Role.OPERATOR)
    page.get_by_role("link", name="Imports").click()
    page.get_by_label("List file").set_input_files(path)
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page).to_have_url(url_path(r"/imports/\d+/mapping"))
    expect(page.get_by_text("cp1252, semicolon-separated")).to_be_visible()
    expect(page.get_by_label("Field for column Company")).to_have_value("business_name")
    expect(page.get_by_label("Field for column Telephone")).to_have_value("phone")
    preview = page.locator("#mapping-preview")
    expect(preview).to_contain_text("Café Olé LLC")
    expect(preview).to_contain_text("John Smith")
    expect(preview).to_contain_text("12 Main St")
    shoot("import-mapping")

    mark_page(page)
    notes = page.get_by_label("Field for column Notes")
    notes.select_option("ignore")
    expect(page.get_by_label("Field for column Notes")).to_have_value("ignore")
    assert_not_reloaded(page)
    page.get_by_label("Field for column Company").select_option("ignore")
    expect(preview).to_contain_text("Ready")  # an owner with a phone is enough
    page.get_by_label("Field for column Telephone").select_option("ignore")
    expect(preview).to_contain_text("Map a column to Business name")
    page.get_by_label("Field for column Company").select_option("business_name")
    page.get_by_label("Field for column Telephone").select_option("phone")
    expect(preview).to_contain_text("Ready")
    # The last change wins: no slower, older preview may put an old choice back.
    expect(page.get_by_label("Field for column Telephone")).to_have_value("phone")
    expect(page.get_by_label("Field for column Company")).to_have_value("business_name")

    page.get_by_label("Save this mapping as").fill("Semicolon broker list")
    page.get_by_label("Tag the leads").fill("broker-q4")
    page.get_by_role("button", name="Start import").click()

    expect(page).to_have_url(url_path(r"/imports/\d+"))
    mark_page(page)
    expect(page.locator(".job .status")).to_have_text("done", timeout=JOB_TIMEOUT_MS)
    summary = page.locator("#import-summary")
    expect(summary).to_contain_text("Rows read")
    expect(summary.locator(".tile").filter(has_text="Leads created")).to_contain_text("2")
    expect(summary.locator(".tile").filter(has_text="Merged into existing")).to_contain_text("1")
    expect(summary.locator(".tile").filter(has_text="Rejected")).to_contain_text("1")
    expect(summary).to_contain_text("Same phone")
    assert_not_reloaded(page)
    shoot("import-summary")

    with page.expect_download() as download_info:
        summary.get_by_role("link", name="Download rejected rows (CSV)").click()
    rejects = tmp_path / "rejects.csv"
    download_info.value.save_as(rejects)
    with rejects.open(newline="", encoding="utf-8") as handle:
        header, row = list(csv.reader(handle))
    assert header[:3] == ["row_number", "reason", "Company"]
    assert row[0] == "5" and "empty" in row[1].lower()
    assert row[-1].startswith("'=")

    summary.get_by_role("link", name="See the leads").click()
    expect(page).to_have_url(url_path(r"/leads/\?import_id=\d+"))
    expect(page.locator("#lead-rows tbody tr")).to_have_count(3)
    expect(page.locator("#lead-rows")).to_contain_text("broker-q4")


def test_an_empty_file_is_refused_with_a_message(page, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    sign_in(page, Role.OPERATOR)
    page.goto("/imports/")
    page.get_by_label("List file").set_input_files(path)
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page.get_by_text("The file is empty.")).to_be_visible()
    expect(page).to_have_url(url_path(r"/imports/"))
