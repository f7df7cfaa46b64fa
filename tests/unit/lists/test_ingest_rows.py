"""One list row normalized: spreadsheet error cells and states that are not states."""

from __future__ import annotations

import pytest

from console.services.lists.ingest import Record, Rejected, build_record
from console.services.lists.normalize import spreadsheet_error

HEADERS = ["Company", "Owner First", "Owner Last", "City", "State", "Phone", "Notes"]
MAPPING = ["business_name", "first_name", "last_name", "city", "state", "phone", ""]


def row(**cells: str) -> list[str]:
    """A row of HEADERS with a plumber's values, some replaced."""
    values = {
        "Company": "Lake Plumbing LLC",
        "Owner First": "Dana",
        "Owner Last": "Reyes",
        "City": "Austin",
        "State": "TX",
        "Phone": "(512) 555-0100",
        "Notes": "met at expo",
    }
    values.update({k.replace("_", " "): v for k, v in cells.items()})
    return [values[h] for h in HEADERS]


@pytest.mark.parametrize(
    "cell",
    [
        "#REF!",
        "#N/A",
        "#VALUE!",
        "#DIV/0!",
        "#NAME?",
        "#NULL!",
        "#NUM!",
        "#SPILL!",
        "#CALC!",
        "#ref!",
    ],
)
def test_spreadsheet_errors_are_recognised(cell):
    assert spreadsheet_error(cell) == cell.upper()


@pytest.mark.parametrize("cell", ["#1 Plumbing", "REF!", "#REF! Plumbing", "", "N/A"])
def test_values_that_are_not_spreadsheet_errors(cell):
    assert spreadsheet_error(cell) == ""


def test_an_error_cell_is_blank_and_noted():
    record = build_record(2, row(Company="#REF!", Notes="#VALUE!"), HEADERS, MAPPING)
    assert isinstance(record, Record)
    assert record.business is None  # never a lead named "#Ref!"
    assert record.owner["full_name"] == "Dana Reyes"
    assert "Business name #REF! is a spreadsheet error: left blank" in record.notes
    assert record.custom == {}  # the custom column's error is dropped too


def test_a_row_whose_only_name_is_an_error_cell_is_rejected_with_the_reason():
    cells = row(Company="#REF!", Owner_First="#N/A", Owner_Last="")
    rejected = build_record(3, cells, HEADERS, MAPPING)
    assert isinstance(rejected, Rejected)
    assert rejected.code == "error_name"
    assert rejected.reason == (
        "The only name is a spreadsheet error, not a name: "
        "Business name is #REF!; Owner first name is #N/A"
    )
    assert rejected.cells == cells  # downloadable as it was


def test_a_row_of_only_error_cells_is_rejected_as_such():
    cells = ["#REF!", "", "", "", "", "", ""]
    rejected = build_record(4, cells, HEADERS, MAPPING)
    assert (rejected.code, rejected.reason) == (
        "error_name",
        "The only name is a spreadsheet error, not a name: Business name is #REF!",
    )


def test_an_invalid_state_is_blanked_with_the_reason():
    record = build_record(5, row(State="XX"), HEADERS, MAPPING)
    assert record.business["state"] == ""
    assert "State 'XX' is not a US state: left blank" in record.notes
    good = build_record(6, row(State="texas"), HEADERS, MAPPING)
    assert good.business["state"] == "TX" and good.notes == []


def test_a_last_name_alone_is_no_first_name():
    record = build_record(7, row(Owner_First="#VALUE!", Owner_Last="NG"), HEADERS, MAPPING)
    assert (record.owner["first_name"], record.owner["last_name"]) == ("", "Ng")
