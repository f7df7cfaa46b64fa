"""Column mapping: owner-name headers as lists spell them, and the mapping's warnings."""

from __future__ import annotations

import pytest

from console.services.lists.mapping import CUSTOM, auto_map, check_mapping, guess_field


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Owner First", "first_name"),
        ("Owner First Name", "first_name"),
        ("Owner Last", "last_name"),
        ("Owner Last Name", "last_name"),
        ("Contact First", "first_name"),
        ("Contact Last", "last_name"),
        ("First", "first_name"),
        ("Last", "last_name"),
        ("Executive First Name", "first_name"),
        ("Executive Last Name", "last_name"),
        ("OWNER_1_FIRST_NAME", "first_name"),
        ("Owner 1 Last Name", "last_name"),
        ("Primary Contact First Name", "first_name"),
        ("Principal Last", "last_name"),
        ("CEO Last Name", "last_name"),
        ("Owner Name", "contact_name"),
        ("Owner's Name", "contact_name"),
        ("Business Owner", "contact_name"),  # not the business's name
        ("Contact Name", "contact_name"),
        ("Contact Person", "contact_name"),
        ("Principal", "contact_name"),
        ("Owner", "contact_name"),
        # Headers about the owner that are not their name keep their own fields.
        ("Owner Title", "title"),
        ("Owner Email", "email"),
        ("Owner Mobile", "mobile"),
        ("Last Contact Date", CUSTOM),
        ("Company Name", "business_name"),
    ],
)
def test_owner_name_headers_are_mapped(header, field):
    assert guess_field(header) == field


def test_a_list_with_owner_first_and_last_maps_both():
    headers = ["Company", "Owner First", "Owner Last", "Phone", "Zip"]
    assert auto_map(headers) == ["business_name", "first_name", "last_name", "phone", "zip"]
    assert not any("owner-name" in w for w in check_mapping(auto_map(headers)).warnings)


def test_mapping_without_an_owner_name_warns_that_texts_say_hi_there():
    check = check_mapping(["business_name", "phone", "zip", CUSTOM, CUSTOM])
    assert check.ok
    (warning,) = [w for w in check.warnings if "owner-name" in w]
    assert "Hi there" in warning
