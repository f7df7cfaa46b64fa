"""Where a deal came from, read from the real tables: the import its lead came from, the
first text's campaign, template and variant, the personas that opened and closed it, the
texts it took to get a reply and the days it took to close; and the page that shows it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from console.extensions import db
from console.models import Deal, Draft, ImportJob, LeadSource
from console.services.deals import attribution, deals, moves
from tests.conftest import login, make_lead
from tests.deal_helpers import stage_named
from tests.web.campaign_helpers import mobile, sent_message
from tests.web.inbox_helpers import make_desk, reply_from

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
YES = "Yes, I would consider selling. Lets talk."


def texted(desk, lead, at: datetime, **values):
    """A text the desk's campaign sent the lead at `at`."""
    return sent_message(
        desk.team,
        "SM" + uuid.uuid4().hex,
        to=mobile(1),
        kind="campaign",
        lead_id=lead.id,
        campaign_id=desk.campaign.id,
        sender_id=desk.sender.id,
        sent_at=at,
        **values,
    )


@pytest.fixture
def story(crew):
    """A lead imported from a list, texted twice by a campaign (variant B first), who
    answered, then texted once more; a person answered as SABRINA."""
    desk = make_desk(crew)
    desk.campaign.persona = "CATHY"
    job = ImportJob(team_id=crew.team.id, filename="austin-marinas.csv", stored_path="/x")
    db.session.add(job)
    db.session.commit()
    lead = make_lead(crew.team, "Lake 1 Marine LLC", owner_name="Dana Owner1", mobile=mobile(1))
    db.session.add(
        LeadSource(team_id=crew.team.id, lead_id=lead.id, import_id=job.id, filename=job.filename)
    )
    first = texted(desk, lead, T0, template_id=desk.campaign.template_id, variant="B")
    texted(desk, lead, T0 + timedelta(days=2))
    item = reply_from(desk, mobile(1), YES, now=T0 + timedelta(days=3))
    texted(desk, lead, T0 + timedelta(days=4))
    db.session.add(
        Draft(
            team_id=crew.team.id,
            item_id=item.id,
            persona="SABRINA",
            state="sent",
            body="Glad to hear it",
            decided_at=T0 + timedelta(days=3, hours=1),
        )
    )
    db.session.commit()
    return desk, job, lead, first


def test_stamp_copies_the_leads_attribution_onto_a_new_deal(crew, story):
    desk, job, lead, first = story
    deal, created = deals.open_deal(db.session, lead, crew.reviewer)
    db.session.commit()
    assert created
    assert deal.source_import_id == job.id
    assert deal.source_campaign_id == desk.campaign.id
    assert deal.first_message_id == first.id
    assert deal.first_touch_persona == "CATHY"  # the campaign's persona
    assert deal.touches_before_reply == 2


def test_a_lead_never_texted_stamps_nothing(crew):
    lead = make_lead(crew.team, "Quiet Shop LLC")
    deal, _ = deals.open_deal(db.session, lead, crew.reviewer)
    assert (deal.first_message_id, deal.source_campaign_id, deal.first_touch_persona) == (
        None,
        None,
        "",
    )
    assert deal.touches_before_reply is None


def test_stamp_closing_takes_the_last_persona_a_person_sent(crew, story):
    _desk, _job, lead, _first = story
    deal, _ = deals.open_deal(db.session, lead, crew.reviewer)
    attribution.stamp_closing(db.session, deal)
    assert deal.closing_persona == "SABRINA"


def test_stamp_closing_falls_back_to_the_first_touch(crew):
    lead = make_lead(crew.team, "Quiet Shop LLC")
    deal, _ = deals.open_deal(db.session, lead, crew.reviewer)
    deal.first_touch_persona = "GIANNA"
    attribution.stamp_closing(db.session, deal)
    assert deal.closing_persona == "GIANNA"


def test_winning_a_deal_stamps_its_closer_and_for_deal_reads_the_whole_story(crew, story):
    desk, job, lead, _first = story
    deal, _ = deals.open_deal(db.session, lead, crew.reviewer)
    deal.created_at = T0 + timedelta(days=3)
    db.session.flush()
    moves.move_deal(
        db.session,
        deal,
        stage_named(crew.team.id, "Won"),
        crew.manager,
        fields=moves.MoveFields(value=Decimal("900000")),
        today=date(2026, 2, 20),
    )
    db.session.commit()

    found = attribution.for_deal(db.session, db.session.get(Deal, deal.id))

    assert found == attribution.Attribution(
        import_id=job.id,
        import_name="austin-marinas.csv",
        campaign_id=desk.campaign.id,
        campaign_name=desk.campaign.name,
        template_name="Opener",
        variant="B",
        first_touch_persona="CATHY",
        closing_persona="SABRINA",
        touches_before_reply=2,
        days_to_close=(date(2026, 2, 20) - date(2026, 1, 8)).days,
    )


def test_the_page_links_the_list_and_the_campaign(client, crew, story):
    desk, job, lead, _first = story
    deal, _ = deals.open_deal(db.session, lead, crew.reviewer)
    db.session.commit()
    login(client, crew.reviewer)
    page = client.get(f"/deals/{deal.id}").text
    assert f'href="/imports/{job.id}">austin-marinas.csv</a>' in page
    assert f'href="/campaigns/{desk.campaign.id}">{desk.campaign.name}</a>' in page
    assert "Opener, variant B" in page
