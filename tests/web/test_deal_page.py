"""The deal page: every section shown, the details edited and audited, who may edit,
another team's deal a 404 on every route, time spent in each stage, a reply to the owner
through the inbox's gate, and tasks and notes that show on the deal and its lead."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from markupsafe import escape
from sqlalchemy import select

from console.extensions import db
from console.models import AuditEvent, Deal, DealStageHistory, InboxItem, Note, Role, Task
from console.pipeline import deal_page
from console.services.deals import deal_record, pipelines
from console.services.sending import delivery
from tests.conftest import login, make_lead
from tests.deal_helpers import make_deal, stage_id, stage_named
from tests.sending_helpers import CENTRAL, TUE, Clock, next_weekday
from tests.web.campaign_helpers import mobile
from tests.web.inbox_helpers import make_desk, replies_to, reply_from, texted_lead

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
YES = "Yes, I would consider selling. Lets talk."


def fresh_deal(deal: Deal) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal.id)


def audit_of(deal: Deal, action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.action == action,
                AuditEvent.entity_type == "deals",
                AuditEvent.entity_id == deal.id,
            )
            .order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def deal(crew) -> Deal:
    """Our operator's deal on an Austin lead, in Qualified, worth $850,000."""
    lead = make_lead(crew.team, "Lake Travis Marine LLC", owner_name="Dana Reyes", mobile=mobile(7))
    made = make_deal(
        crew.team.id,
        lead,
        "Qualified",
        at=T0,
        value=Decimal("850000"),
        assignee_id=crew.operator.id,
        expected_close=date(2026, 6, 30),
    )
    db.session.commit()
    return made


@pytest.fixture
def rival_deal(outsider) -> Deal:
    lead = make_lead(outsider.team, "Rival Secret Bakery Inc", owner_name="Sam Rival")
    made = make_deal(outsider.team.id, lead, "Qualified", assignee_id=outsider.manager.id)
    db.session.commit()
    return made


@pytest.fixture
def daytime(monkeypatch) -> Clock:
    """Noon in Austin on a coming Tuesday, for the reply's gate and the page."""
    clock = Clock(next_weekday(TUE, 12, zone=CENTRAL))
    monkeypatch.setattr(deal_record, "utcnow", clock)
    monkeypatch.setattr(deal_page, "utcnow", clock)
    return clock


@pytest.fixture
def late_evening(monkeypatch) -> Clock:
    """10:30 pm in Austin on a coming Tuesday: quiet hours."""
    clock = Clock(next_weekday(TUE, 22, 30, zone=CENTRAL))
    monkeypatch.setattr(deal_record, "utcnow", clock)
    monkeypatch.setattr(deal_page, "utcnow", clock)
    return clock


# ----------------------------------------------------------------------------- reading


def test_the_page_shows_each_section(client, crew, deal):
    login(client, crew.manager)

    page = client.get(f"/deals/{deal.id}").text

    for heading in (
        "Conversation",
        "Tasks and callbacks",
        "Stage history",
        "Lead",
        "Details",
        "Attribution",
        "Notes",
        "Timeline",
    ):
        assert f">{heading}<" in page or f">{heading} <" in page, heading
    assert "<h1>Lake Travis Marine LLC</h1>" in page
    assert "Dana Reyes" in page
    assert "$850,000.00" in page  # the value
    assert "20%" in page  # Qualified's probability
    assert "$170,000.00" in page  # weighted
    assert "Jun 30, 2026" in page
    assert "Operator of Harbor Partners" in page
    assert f'href="/leads/{deal.lead_id}"' in page
    assert 'id="deal-move"' in page  # where the board's stage select goes
    assert page.count('class="note-form"') == 1  # the timeline leaves notes to the panel


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_deal(client, crew, deal, role):
    login(client, crew.by_role(role))
    assert client.get(f"/deals/{deal.id}").status_code == 200


def test_the_page_needs_a_sign_in(client, deal):
    response = client.get(f"/deals/{deal.id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_won_deal_shows_its_close_date_and_final_value(client, crew, deal):
    won = fresh_deal(deal)
    won.stage_id = stage_id(crew.team.id, "Won")
    won.closed_on = date(2026, 2, 3)
    db.session.commit()
    login(client, crew.reviewer)
    page = client.get(f"/deals/{deal.id}").text
    assert "<strong>Won</strong> on Feb 3, 2026 for $850,000.00" in page


def test_a_lost_deal_shows_its_reason_note_and_date(client, crew, deal):
    lost = fresh_deal(deal)
    lost.stage_id = stage_id(crew.team.id, "Lost")
    lost.closed_on = date(2026, 2, 3)
    lost.lost_reason_id = pipelines.lost_reasons(db.session, crew.team.id)[1].id  # Price gap
    lost.lost_note = "Wants <3x> EBITDA"
    db.session.commit()
    login(client, crew.reviewer)
    page = client.get(f"/deals/{deal.id}").text
    assert "<strong>Lost</strong> on Feb 3, 2026: Price gap" in page
    assert str(escape("Wants <3x> EBITDA")) in page


def test_a_stale_deal_is_marked(client, crew, deal):
    stale = fresh_deal(deal)
    stale.stale_at = T0 + timedelta(days=15)
    db.session.commit()
    login(client, crew.reviewer)
    assert "Stale since" in client.get(f"/deals/{deal.id}").text


def test_history_says_how_long_the_deal_spent_in_each_stage(client, crew, deal, monkeypatch):
    for days, name in ((3, "Valuation"), (15, "LOI")):
        db.session.add(
            DealStageHistory(
                team_id=crew.team.id,
                deal_id=deal.id,
                from_stage="Qualified" if name == "Valuation" else "Valuation",
                to_stage=name,
                by_id=crew.manager.id,
                at=T0 + timedelta(days=days),
            )
        )
    db.session.commit()
    monkeypatch.setattr(deal_page, "utcnow", lambda: T0 + timedelta(days=20, hours=2))
    login(client, crew.reviewer)

    page = client.get(f"/deals/{deal.id}").text

    history = page[page.index('id="stage-history"') :]
    rows = re.findall(r"<tr>\s*<td class=\"nowrap\">.*?</tr>", history, re.S)
    assert len(rows) == 3
    assert "5 days" in rows[0] and "so far" in rows[0] and "LOI" in rows[0]
    assert "12 days" in rows[1] and "Valuation" in rows[1]
    assert "3 days" in rows[2] and "Opened in" in rows[2]


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (30, "under a minute"),
        (60, "1 minute"),
        (45 * 60, "45 minutes"),
        (3600, "1 hour"),
        (5 * 3600 + 59 * 60, "5 hours"),
        (86400, "1 day"),
        (12 * 86400 + 3600, "12 days"),
    ],
)
def test_time_spent_is_said_in_its_largest_whole_unit(seconds, words):
    assert deal_record.span_words(timedelta(seconds=seconds)) == words


# ----------------------------------------------------------------------------- isolation


POSTS = ("details", "pipeline", "reply", "notes")


def test_another_teams_deal_is_a_404_on_get(client, crew, rival_deal):
    login(client, crew.admin)
    assert client.get(f"/deals/{rival_deal.id}").status_code == 404


@pytest.mark.parametrize("action", POSTS)
def test_another_teams_deal_is_a_404_on_every_post(client, crew, rival_deal, action):
    login(client, crew.admin)
    form = {
        "title": "Mine now",
        "value": "1",
        "body": "Hello",
        "stage_id": str(stage_id(crew.team.id, "Discovery")),
    }
    response = client.post(f"/deals/{rival_deal.id}/{action}", data=form)
    assert response.status_code == 404
    assert fresh_deal(rival_deal).title == "Rival Secret Bakery Inc"
    assert db.session.scalar(select(Note.id)) is None


def test_tasks_on_another_teams_deal_are_a_404(client, crew, deal, rival_deal):
    login(client, crew.admin)
    form = {
        "lead_id": deal.lead_id,
        "deal_id": rival_deal.id,
        "title": "Steal",
        "date": "2026-03-01",
        "time": "09:00",
    }
    assert client.post("/tasks", data=form).status_code == 404
    form["date"], form["time"] = "2026-03-01", "10:00"
    assert client.post(f"/tasks/callback/{deal.lead_id}", data=form).status_code == 404
    assert client.get(f"/tasks/lead/{deal.lead_id}?deal_id={rival_deal.id}").status_code == 404
    assert db.session.scalar(select(Task.id)) is None


# ----------------------------------------------------------------------------- editing


def details(deal: Deal, **changes) -> dict:
    """The details form as the page fills it, with `changes`."""
    form = {
        "title": deal.title,
        "value": f"{deal.value:.2f}" if deal.value is not None else "",
        "expected_close": deal.expected_close.isoformat() if deal.expected_close else "",
        "assignee_id": str(deal.assignee_id or ""),
    }
    return form | changes


def test_a_manager_edits_the_details_and_the_audit_keeps_before_and_after(client, crew, deal):
    login(client, crew.manager)
    form = details(
        deal,
        title="Lake Travis Marine (two yards)",
        value="$1,250,000",
        expected_close="2026-09-15",
        assignee_id=str(crew.reviewer.id),
    )

    response = client.post(f"/deals/{deal.id}/details", data=form)

    assert response.status_code == 302
    edited = fresh_deal(deal)
    assert edited.title == "Lake Travis Marine (two yards)"
    assert edited.value == Decimal("1250000.00")
    assert edited.expected_close == date(2026, 9, 15)
    assert edited.assignee_id == crew.reviewer.id
    (event,) = audit_of(deal, "deal.edited")
    assert event.actor_id == crew.manager.id
    assert event.before == {
        "title": "Lake Travis Marine LLC",
        "value": "850000.00",
        "expected_close": "2026-06-30",
        "assignee": "Operator of Harbor Partners",
    }
    assert event.after == {
        "title": "Lake Travis Marine (two yards)",
        "value": "1250000.00",
        "expected_close": "2026-09-15",
        "assignee": "Reviewer of Harbor Partners",
    }
    page = client.get(f"/deals/{deal.id}").text
    assert "Saved the title, value, expected close date, assignee." in page
    assert "$1,250,000.00" in page


def test_only_changed_fields_are_audited(client, crew, deal):
    login(client, crew.manager)
    client.post(f"/deals/{deal.id}/details", data=details(deal, value="900000"))
    (event,) = audit_of(deal, "deal.edited")
    assert (event.before, event.after) == ({"value": "850000.00"}, {"value": "900000.00"})


def test_a_value_that_is_not_an_amount_is_refused_and_nothing_changes(client, crew, deal):
    login(client, crew.manager)
    response = client.post(
        f"/deals/{deal.id}/details", data=details(deal, value="lots", title="New <b>name</b>")
    )
    assert response.status_code == 422
    assert "Type the deal&#39;s value in dollars" in response.text
    assert str(escape("New <b>name</b>")) in response.text  # kept as typed, escaped
    assert fresh_deal(deal).value == Decimal("850000")
    assert audit_of(deal, "deal.edited") == []


def test_the_assignee_is_a_teammate(client, crew, outsider, deal):
    login(client, crew.manager)
    response = client.post(
        f"/deals/{deal.id}/details", data=details(deal, assignee_id=str(outsider.admin.id))
    )
    assert response.status_code == 422
    assert "someone on your team" in response.text
    assert fresh_deal(deal).assignee_id == crew.operator.id


def test_an_operator_edits_their_own_deal(client, crew, deal):
    login(client, crew.operator)
    client.post(f"/deals/{deal.id}/details", data=details(deal, value="900000"))
    assert fresh_deal(deal).value == Decimal("900000")


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.REVIEWER])
def test_operators_and_reviewers_cannot_edit_a_deal_not_theirs(client, crew, deal, role):
    theirs = fresh_deal(deal)
    theirs.assignee_id = crew.manager.id
    db.session.commit()
    login(client, crew.by_role(role))
    assert "Only the deal's assignee" in client.get(f"/deals/{deal.id}").text
    assert client.post(f"/deals/{deal.id}/details", data=details(deal, value="1")).status_code == (
        403
    )
    stage = pipelines.add_pipeline(db.session, crew.team.id, "Roll-up").stages[0]
    db.session.commit()
    response = client.post(f"/deals/{deal.id}/pipeline", data={"stage_id": stage.id})
    assert response.status_code == 403
    assert fresh_deal(deal).value == Decimal("850000")


def test_moving_to_another_pipeline_puts_it_in_the_chosen_stage_with_history(client, crew, deal):
    rollup = pipelines.add_pipeline(db.session, crew.team.id, "Roll-up")
    db.session.commit()
    target = stage_named(crew.team.id, "Valuation", "Roll-up")
    login(client, crew.manager)

    page = client.get(f"/deals/{deal.id}").text
    assert "Roll-up: Valuation" in page
    response = client.post(f"/deals/{deal.id}/pipeline", data={"stage_id": target.id})

    assert response.status_code == 302
    moved = fresh_deal(deal)
    assert (moved.pipeline_id, moved.stage_id) == (rollup.id, target.id)
    last = db.session.scalars(
        select(DealStageHistory)
        .where(DealStageHistory.deal_id == deal.id)
        .order_by(DealStageHistory.id.desc())
    ).first()
    assert (last.from_stage, last.to_stage, last.by_id) == (
        "Qualified",
        "Valuation",
        crew.manager.id,
    )
    assert last.note == "Pipeline Deals → Roll-up"
    (event,) = audit_of(deal, "deal.pipeline_changed")
    assert event.before == {"pipeline": "Deals", "stage": "Qualified"}
    assert event.after == {"pipeline": "Roll-up", "stage": "Valuation"}


def test_another_pipelines_closed_stage_is_refused(client, crew, deal):
    pipelines.add_pipeline(db.session, crew.team.id, "Roll-up")
    db.session.commit()
    won = stage_named(crew.team.id, "Won", "Roll-up")
    login(client, crew.manager)
    response = client.post(f"/deals/{deal.id}/pipeline", data={"stage_id": won.id})
    assert response.status_code == 422
    assert fresh_deal(deal).stage_id == stage_id(crew.team.id, "Qualified")


# ----------------------------------------------------------------------------- replying


@pytest.fixture
def replied_deal(crew) -> Deal:
    """A lead texted by a campaign who answered yes; its deal made from the conversation."""
    desk = make_desk(crew)
    lead = texted_lead(desk, 1, business="Lake 1 Plumbing LLC", owner="Dana Owner1")
    item = reply_from(desk, mobile(1), YES)
    made = make_deal(
        crew.team.id,
        lead,
        "Qualified",
        conversation_id=item.conversation_id,
        assignee_id=crew.reviewer.id,
    )
    db.session.commit()
    return made


def test_the_conversation_shows_both_ways_newest_at_the_bottom(client, crew, replied_deal):
    login(client, crew.reviewer)
    page = client.get(f"/deals/{replied_deal.id}").text
    opener, answer = page.find("Thinking of selling Lake 1 Plumbing LLC?"), page.find(YES)
    assert 0 < opener < answer
    assert 'class="turn turn-out channel-text"' in page
    assert 'class="turn turn-in channel-text"' in page


def test_a_reply_from_the_deal_page_goes_through_the_gate(client, crew, replied_deal, daytime):
    login(client, crew.reviewer)

    response = client.post(
        f"/deals/{replied_deal.id}/reply", data={"body": "Could we talk Thursday?"}
    )

    assert response.status_code == 302
    (reply,) = replies_to(mobile(1))
    assert (reply.kind, reply.status, reply.hold_reason) == ("reply", "approved", "")
    assert (reply.conversation_id, reply.lead_id) == (
        replied_deal.conversation_id,
        replied_deal.lead_id,
    )
    assert reply.approved_by_id == crew.reviewer.id
    assert fresh_deal(replied_deal).last_touch_at == daytime()
    item = db.session.scalar(
        select(InboxItem).where(InboxItem.conversation_id == replied_deal.conversation_id)
    )
    assert (item.state, item.resolution) == ("done", "sent")  # answered, as from the inbox
    page = client.get(f"/deals/{replied_deal.id}").text
    assert "Could we talk Thursday?" in page  # waiting in the thread
    assert "Reply queued" in page


def test_a_reply_with_no_open_inbox_item_is_audited_on_the_deal(
    client, crew, replied_deal, daytime
):
    item = db.session.scalar(
        select(InboxItem).where(InboxItem.conversation_id == replied_deal.conversation_id)
    )
    item.state = "done"
    db.session.commit()
    login(client, crew.operator)

    client.post(f"/deals/{replied_deal.id}/reply", data={"body": "Following up on Thursday"})

    (reply,) = replies_to(mobile(1))
    (event,) = audit_of(replied_deal, "deal.reply")
    assert event.after == {"message_id": reply.id, "body": "Following up on Thursday"}
    assert event.actor_id == crew.operator.id


def test_a_reply_to_a_suppressed_number_is_refused_with_its_reason(
    client, crew, replied_deal, daytime
):
    delivery.suppress_number(
        db.session, crew.team.id, mobile(1), reason="dnc", source="Settings: DNC list"
    )
    db.session.commit()
    login(client, crew.reviewer)

    response = client.post(f"/deals/{replied_deal.id}/reply", data={"body": "Still there?"})

    assert response.status_code == 422
    assert "Not sent: On the do-not-contact list (dnc)" in response.text
    assert "Still there?" in response.text  # the typed reply is kept
    assert replies_to(mobile(1)) == []


def test_a_reply_in_quiet_hours_is_held_with_the_time_it_goes(
    client, crew, replied_deal, late_evening
):
    login(client, crew.reviewer)

    client.post(f"/deals/{replied_deal.id}/reply", data={"body": "Talk tomorrow?"})

    (reply,) = replies_to(mobile(1))
    assert reply.hold_reason
    page = client.get(f"/deals/{replied_deal.id}").text
    assert "Reply held" in page
    assert re.search(r"Goes tomorrow at 10:00 am E[SD]T \(9:00 am for the owner, Austin\)", page)


def test_a_deal_without_a_conversation_has_no_reply_box(client, crew, deal):
    login(client, crew.reviewer)
    page = client.get(f"/deals/{deal.id}").text
    assert "No texts with this owner yet" in page
    assert "Send reply" not in page


# ------------------------------------------------------------------- tasks and notes


def test_a_note_on_the_deal_carries_the_deal_and_the_lead(client, crew, deal):
    login(client, crew.reviewer)

    response = client.post(f"/deals/{deal.id}/notes", data={"body": "Wants <cash> at close"})

    assert response.status_code == 302
    (note,) = db.session.scalars(select(Note)).all()
    assert (note.deal_id, note.lead_id, note.author_id) == (deal.id, deal.lead_id, crew.reviewer.id)
    written = str(escape("Wants <cash> at close"))
    assert written in client.get(f"/deals/{deal.id}").text
    assert written in client.get(f"/leads/{deal.lead_id}").text


def test_an_empty_note_is_refused(client, crew, deal):
    login(client, crew.reviewer)
    response = client.post(f"/deals/{deal.id}/notes", data={"body": "  "})
    assert response.status_code == 422
    assert db.session.scalar(select(Note.id)) is None


def test_tasks_booked_on_the_deal_carry_the_deal_and_the_lead(client, crew, deal):
    login(client, crew.operator)
    page = client.get(f"/deals/{deal.id}").text
    assert f'name="deal_id" value="{deal.id}"' in page

    task = {"lead_id": deal.lead_id, "deal_id": deal.id, "title": "Send the NDA"}
    created = client.post("/tasks", data=task | {"date": "2026-03-02", "time": "09:00"})
    booked = client.post(
        f"/tasks/callback/{deal.lead_id}?deal_id={deal.id}",
        data={"date": "2026-03-03", "time": "15:00"},
    )

    assert (created.status_code, booked.status_code) == (302, 302)
    rows = db.session.scalars(select(Task).order_by(Task.id)).all()
    assert [(t.kind, t.deal_id, t.lead_id) for t in rows] == [
        ("task", deal.id, deal.lead_id),
        ("callback", deal.id, deal.lead_id),
    ]
    assert "Send the NDA" in client.get(f"/deals/{deal.id}").text
    assert "Send the NDA" in client.get(f"/leads/{deal.lead_id}").text


def test_the_next_step_is_the_soonest_open_task(client, crew, deal, monkeypatch):
    monkeypatch.setattr(deal_page, "utcnow", lambda: T0)
    login(client, crew.operator)
    for title, day in (("Call the CPA", "2026-03-05"), ("Send the NDA", "2026-03-02")):
        form = {"lead_id": deal.lead_id, "deal_id": deal.id, "title": title}
        client.post("/tasks", data=form | {"date": day, "time": "09:00"})
    page = client.get(f"/deals/{deal.id}").text
    next_step = re.search(r'<dd class="next-step">(.*?)</dd>', page, re.S).group(1)
    assert "Send the NDA" in next_step


# ----------------------------------------------------------------------------- links


def test_the_lead_page_links_its_deal(client, crew, deal):
    login(client, crew.reviewer)
    assert f'href="/deals/{deal.id}"' in client.get(f"/leads/{deal.lead_id}").text


def test_the_inbox_links_the_deal(client, crew, replied_deal):
    login(client, crew.reviewer)
    item_page = client.get("/inbox").text
    assert f'href="/deals/{replied_deal.id}"' in item_page
