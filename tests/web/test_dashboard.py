"""The dashboard's figures, and where each role lands."""

from __future__ import annotations

from console.extensions import db
from console.models import Phone
from console.models.base import utcnow
from tests.conftest import login, make_lead


def test_verified_mobiles_count_leads_as_the_leads_filter_does(client, crew):
    verified = make_lead(crew.team, "Lone Star Welding", "Ann Lee", "+15125550111")
    checked_landline = make_lead(crew.team, "Alamo Roofing", "Raj Patel", "+15125550122")
    make_lead(crew.team, "Never Checked", "Bo Diaz", "+15125550133")
    for lead, line_type, textable in (
        (verified, "mobile", True),
        (checked_landline, "landline", False),
    ):
        phone = lead.owner.phones[0]
        phone.line_type, phone.textable, phone.validated_at = line_type, textable, utcnow()
    db.session.add(
        Phone(
            team_id=crew.team.id,
            business_id=verified.business_id,
            e164="+15125550144",
            line_type="mobile",
            textable=True,
            validated_at=utcnow(),
        )
    )
    db.session.commit()
    login(client, crew.manager)
    page = client.get("/").text
    tile = page[page.index("Verified mobiles") - 80 :]
    assert '<div class="tile-value">1</div>' in tile
    assert "leads with a number a line-type check found to be a mobile that takes texts" in tile
    assert "Phones verified" not in page
    listed = client.get("/leads/?mobile_verified=yes").text
    assert "of 1 leads" in listed
