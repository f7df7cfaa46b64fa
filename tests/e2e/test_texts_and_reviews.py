"""What texts say and what imports keep, in a real browser: the editor's {industry}
words, a sender's signing name, the mapping's owner-name warning, and a merge undone."""

from __future__ import annotations

import csv

import pytest

from console.models import Role
from console.services.demo import SAMPLE_FILE
from tests.e2e.conftest import expect, sign_in, url_path

pytestmark = pytest.mark.e2e

JOB_TIMEOUT_MS = 30_000


def sample_row() -> dict[str, str]:
    """The demo sample's first business (a roofer, SIC 1761)."""
    with SAMPLE_FILE.open(newline="", encoding="utf-8") as handle:
        return next(csv.DictReader(handle))


def test_editor_preview_says_the_industry_in_plain_words(page, shoot):
    sign_in(page, Role.OPERATOR)
    page.goto("/templates/new")
    body = page.get_by_label("Variant A")
    body.fill("Hi {firstName|there}, {senderName|I} work with owners of {industry|businesses}.")
    preview = page.locator("#measure-A")
    expect(preview.locator("#industry-A")).to_contain_text("{industry}")
    text = preview.locator(".sms").inner_text()
    assert "NEC" not in text and not any(c.isupper() for c in text.split("owners of ")[1])
    shoot("defb-editor-industry")


def test_admin_sets_a_senders_signing_name(page, shoot):
    sign_in(page, Role.ADMIN)
    page.goto("/settings/sending")
    page.locator("a[href*='/settings/senders/']").first.click()
    expect(page).to_have_url(url_path(r"/settings/senders/\d+"))
    page.get_by_label("Signing name").fill("Dana Reyes")
    shoot("defb-sender-signing-name")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(url_path(r"/settings/sending"))


def test_mapping_warns_without_owner_names_and_a_merge_is_undone(page, tmp_path, shoot):
    known = sample_row()
    path = tmp_path / "owners.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(
            [
                [
                    "Company",
                    "Owner First",
                    "Owner Last",
                    "Address",
                    "City",
                    "State",
                    "Zip",
                    "Phone",
                ],
                # The demo roofer's owner and ZIP, a new name, street and phone: a pair to review.
                [
                    "Hillcrest Roofing Services",
                    known["Contact Name"].split()[0],
                    " ".join(known["Contact Name"].split()[1:]),
                    "500 Congress Ave",
                    known["City"],
                    "XX",
                    known["Zip"],
                    "(512) 555-0142",
                ],
                ["#REF!", "#N/A", "", "", "", "", "", "(512) 555-0143"],
            ]
        )
    sign_in(page, Role.OPERATOR)
    page.goto("/imports/")
    page.get_by_label("List file").set_input_files(path)
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page).to_have_url(url_path(r"/imports/\d+/mapping"))
    expect(page.get_by_label("Field for column Owner First")).to_have_value("first_name")
    expect(page.get_by_label("Field for column Owner Last")).to_have_value("last_name")
    preview = page.locator("#mapping-preview")
    expect(preview).to_contain_text("State 'XX' is not a US state: left blank")
    expect(preview).to_contain_text("The only name is a spreadsheet error")
    page.get_by_label("Field for column Owner First").select_option("")
    page.get_by_label("Field for column Owner Last").select_option("")
    expect(preview).to_contain_text("No owner-name column is mapped")
    shoot("defb-mapping-no-owner")
    page.get_by_label("Field for column Owner First").select_option("first_name")
    page.get_by_label("Field for column Owner Last").select_option("last_name")
    expect(preview).not_to_contain_text("No owner-name column is mapped")
    page.get_by_role("button", name="Start import").click()
    expect(page.locator(".job .status")).to_have_text("done", timeout=JOB_TIMEOUT_MS)

    page.goto("/imports/reviews")
    pair = page.locator("article.pair").filter(has_text="Hillcrest Roofing Services")
    pair.get_by_role("button", name="Merge").click()
    page.goto("/imports/reviews?status=merged")
    pair = page.locator("article.pair").filter(has_text="Hillcrest Roofing Services")
    expect(pair).to_contain_text("as merged")
    expect(pair).to_contain_text("500 Congress Ave")
    shoot("defb-reviews-merged")
    pair.get_by_role("button", name="Undo merge").click()
    expect(page.locator(".flash")).to_contain_text("Merge undone")
    pending = page.locator("article.pair").filter(has_text="Hillcrest Roofing Services")
    expect(pending.get_by_role("button", name="Merge")).to_be_visible()
    shoot("defb-reviews-undone")
