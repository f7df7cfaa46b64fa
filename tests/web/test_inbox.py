"""The inbox from the browser's side: who may open it and another team's items, the
list's order, filters, totals, export and live poll, the item's page, every action a
reviewer takes, bulk actions, auto-send's rules, the dispatcher sending replies, and
names and texts with HTML in them.

Replies are made as they happen: a lead got a campaign text, the owner's answer comes
in through `inbound.receive` with Twilio's form, and the reading job's own function
(`inbox.process_item`) reads it with the rules and templates, or a scripted Claude.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from console.extensions import db
from console.models import (
    AuditEvent,
    ConsentEvent,
    Deal,
    DealStageHistory,
    Draft,
    Enrollment,
    InboxItem,
    Lead,
    Message,
    Role,
    Suppression,
    Task,
)
from console.models.base import utcnow
from console.services.campaigns import segments
from console.services.deals import tasks
from console.services.replies import drafting, inbox, inbox_list, priority
from console.services.sending import delivery, dispatch
from console.services.sending.policy import ReplySettings, SendingSettings
from console.services.tracing import scoring
from jobs.worker import drain
from tests.conftest import PASSWORD, login
from tests.deal_helpers import stage_id
from tests.sending_helpers import CENTRAL, TUE, WED, Clock, at_local, next_weekday
from tests.web.campaign_helpers import add_campaign, make_template, mobile
from tests.web.inbox_helpers import (
    AI_DRAFT,
    OPENER_SENT,
    Desk,
    RecordingTransport,
    ScriptedClaude,
    add_sender,
    detail_field,
    dispatch_options,
    fresh,
    fresh_item,
    listed_ids,
    make_desk,
    poll_version,
    read_item,
    receive_text,
    replies_to,
    reply_from,
    save_reply_settings,
    textarea_text,
    texted_lead,
    totals,
    triggered,
)

YES = "Yes, I would consider selling. Lets talk."
NO = "No thanks, not interested."
CALL_ME = "Call me tomorrow after 3pm"
PRICE = "What would you pay for it?"
WRONG = "You have the wrong number"
EMAIL = "Sure, email me at dana@example.com"
RIVAL_NUMBER = "+15125550177"


@pytest.fixture
def desk(crew) -> Desk:
    """Our team with a sender and a campaign."""
    return make_desk(crew)


@pytest.fixture
def rival_item(outsider) -> InboxItem:
    """Another team's open inbox item: their lead answered their campaign."""
    theirs = make_desk(outsider, address=RIVAL_NUMBER)
    texted_lead(theirs, 900, business="Rival Secret Bakery Inc")
    return reply_from(theirs, mobile(900), YES)


@pytest.fixture
def daytime(monkeypatch) -> Clock:
    """The inbox's clock stands at noon in Austin on a coming Tuesday, inside every
    texting window, so that sends never depend on the hour the suite runs."""
    clock = Clock(next_weekday(TUE, 12, zone=CENTRAL))
    monkeypatch.setattr(inbox, "utcnow", clock)
    return clock


@pytest.fixture
def late_evening(monkeypatch) -> Clock:
    """The inbox's clock at 10:30 pm in Austin on a coming Tuesday: quiet hours."""
    clock = Clock(next_weekday(TUE, 22, 30, zone=CENTRAL))
    monkeypatch.setattr(inbox, "utcnow", clock)
    return clock


def open_item(desk: Desk, n: int, text: str = YES, **lead) -> InboxItem:
    """A lead texted by the campaign whose answer was read: an open item."""
    texted_lead(desk, n, **lead)
    item = reply_from(desk, mobile(n), text)
    assert item.state == "open", (item.state, item.label)
    return item


def draft_of(item: InboxItem) -> Draft:
    """The draft proposed for an item."""
    db.session.expire_all()
    draft = inbox.current_draft(db.session, item)
    assert draft is not None
    return draft


def audit_actions(team_id: int) -> list[str]:
    """The team's audit trail, oldest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.team_id == team_id).order_by(AuditEvent.id)
        )
    )


# ------------------------------------------------------------------------------ access


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/inbox"),
        ("get", "/inbox/1"),
        ("get", "/inbox/changes?v=0"),
        ("post", "/inbox/1/send"),
        ("post", "/inbox/1/do/archive"),
        ("post", "/inbox/bulk"),
        ("post", "/inbox/measure"),
        ("post", "/inbox/simulate"),
    ],
)
def test_signed_out_visitor_is_sent_to_sign_in(client, desk, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert "/login" in response.location


@pytest.mark.parametrize("role", list(Role))
def test_every_role_opens_the_inbox(client, crew, desk, role):
    item = open_item(desk, 1)
    login(client, crew.by_role(role))
    page = client.get("/inbox")
    assert page.status_code == 200
    assert listed_ids(page.text) == [item.id]
    assert client.get(f"/inbox/{item.id}").status_code == 200


def test_another_teams_item_page_is_a_404(client, crew, desk, rival_item):
    ours = open_item(desk, 1)
    login(client, crew.operator)
    assert client.get(f"/inbox/{ours.id}").status_code == 200
    response = client.get(f"/inbox/{rival_item.id}")
    assert response.status_code == 404
    assert "Rival Secret Bakery" not in response.text
    listing = client.get("/inbox?view=all").text
    assert rival_item.id not in listed_ids(listing)
    assert "Rival Secret Bakery" not in listing


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("send", {"body": "Hello from the wrong team"}),
        ("do/archive", {}),
        ("do/escalate", {}),
        ("do/suppress", {}),
        ("do/confirm-opt-out", {}),
        ("do/dismiss-opt-out", {}),
        ("do/deal", {}),
        ("callback", {"date": "2031-07-08", "time": "15:30"}),
        ("assign", {"assignee": ""}),
    ],
)
def test_no_action_reaches_another_teams_item(client, crew, desk, rival_item, action, form):
    login(client, crew.manager)
    response = client.post(f"/inbox/{rival_item.id}/{action}", data=form)
    assert response.status_code == 404
    theirs = fresh_item(rival_item.id)
    assert (theirs.state, theirs.resolution, theirs.assignee_id) == ("open", "", None)
    assert replies_to(mobile(900)) == []
    assert db.session.scalar(select(func.count(Suppression.id))) == 0
    assert db.session.scalar(select(func.count(Deal.id))) == 0
    assert db.session.scalar(select(func.count(Task.id))) == 0


def test_an_unknown_action_is_a_404(client, crew, desk):
    item = open_item(desk, 1)
    login(client, crew.operator)
    assert client.post(f"/inbox/{item.id}/do/delete").status_code == 404
    assert fresh_item(item.id).state == "open"


@pytest.fixture
def csrf_client(app):
    """A client of the app with CSRF protection on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False


def _csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("send", {"body": "Happy to talk. When suits you?"}),
        ("do/escalate", {}),
        ("callback", {"date": "2031-07-08", "time": "15:30"}),
        ("assign", {"assignee": ""}),
        ("/inbox/bulk", {"action": "archive"}),
        ("/inbox/measure", {"body": "Hi"}),
    ],
)
def test_inbox_posts_need_the_csrf_token(csrf_client, crew, desk, path, form):
    item = open_item(desk, 1)
    if not path.startswith("/"):
        path = f"/inbox/{item.id}/{path}"
    if path == "/inbox/bulk":
        form = {**form, "ids": str(item.id)}
    token = _csrf_token(csrf_client.get("/login").text)
    csrf_client.post(
        "/login", data={"email": crew.operator.email, "password": PASSWORD, "csrf_token": token}
    )
    token = _csrf_token(csrf_client.get("/inbox").text)
    htmx = {"HX-Request": "true"}

    refused = csrf_client.post(path, data=form, headers=htmx)
    assert refused.status_code == 400
    assert fresh_item(item.id).state == "open"
    assert replies_to(mobile(1)) == []

    accepted = csrf_client.post(path, data=form, headers={**htmx, "X-CSRFToken": token})
    assert accepted.status_code == 200


# -------------------------------------------------------------------------------- list


def test_items_are_sorted_by_priority_then_deadline(client, crew, desk):
    now = utcnow()
    earlier = now - timedelta(minutes=30)
    texted_lead(desk, 1, sent_at=earlier - timedelta(minutes=10))
    first_yes = reply_from(desk, mobile(1), YES, now=earlier)
    no = open_item(desk, 2, NO)
    call = open_item(desk, 3, CALL_ME)
    second_yes = open_item(desk, 4, YES)
    question = open_item(desk, 5, "Who is this? How did you get my number?")
    texted_lead(desk, 6)
    being_read = receive_text(desk, mobile(6), "Tell me more").item_id

    login(client, crew.reviewer)
    shown = listed_ids(client.get("/inbox").text)

    # Callback 130, two yeses at 120 (the older one's deadline comes first, though its
    # id is lower), the question 80, the no 30; an item still being read tops the list.
    assert shown == [being_read, call.id, first_yes.id, second_yes.id, question.id, no.id]
    assert first_yes.priority == second_yes.priority
    assert first_yes.sla_due_at < second_yes.sla_due_at


@dataclass
class Mixed:
    """A mixed inbox: its items' ids by name, and the second campaign's id."""

    ids: dict[str, int]
    autumn_id: int

    def names(self, item_ids: list[int]) -> set[str]:
        """The names of listed items."""
        by_id = {item_id: name for name, item_id in self.ids.items()}
        return {by_id[item_id] for item_id in item_ids}


@pytest.fixture
def mixed(desk, crew) -> Mixed:
    """Seven items of every kind the filters tell apart."""
    autumn = add_campaign(
        crew.team, make_template(crew.team, name="Autumn opener"), desk.sender, name="Autumn"
    )
    callback = open_item(desk, 1, CALL_ME)
    positive = open_item(desk, 2, YES)
    texted_lead(desk, 3, campaign=autumn)
    question = reply_from(desk, mobile(3), "Who is this? How did you get my number?")
    negative = open_item(desk, 4, NO)
    two_days_ago = utcnow() - timedelta(days=2)
    texted_lead(desk, 5, sent_at=two_days_ago - timedelta(minutes=30))
    late = reply_from(desk, mobile(5), "Maybe next year", now=two_days_ago)
    stranger = reply_from(desk, mobile(99), "Is this about the shop?")
    texted_lead(desk, 6)
    pending = receive_text(desk, mobile(6), "Tell me more").item_id

    inbox.assign(db.session, crew.team.id, [positive.id], crew.reviewer, crew.manager)
    inbox.assign(db.session, crew.team.id, [callback.id], crew.operator, crew.manager)
    inbox.escalate(db.session, fresh_item(question.id), crew.reviewer)
    inbox.archive(db.session, fresh_item(negative.id), crew.reviewer)
    db.session.commit()
    ids = {
        "callback": callback.id,
        "positive": positive.id,
        "question": question.id,
        "negative": negative.id,
        "late": late.id,
        "stranger": stranger.id,
        "pending": pending,
    }
    return Mixed(ids, autumn.id)


def test_mixed_inbox_is_what_the_filters_expect(mixed):
    labels = {name: fresh_item(item_id).label for name, item_id in mixed.ids.items()}
    assert labels == {
        "callback": "CALLBACK_REQUEST",
        "positive": "POSITIVE",
        "question": "QUESTION",
        "negative": "NEGATIVE",
        "late": "LATER",
        "stranger": "QUESTION",
        "pending": "",
    }
    assert fresh_item(mixed.ids["pending"]).state == "processing"


# Each query string, and the items (by name) it must list.
FILTERS: dict[str, set[str]] = {
    "": {"callback", "late", "pending", "positive", "question", "stranger"},
    "view=open": {"callback", "late", "pending", "positive", "question", "stranger"},
    "view=escalated": {"question"},
    "view=done": {"negative"},
    "view=all": {"callback", "late", "negative", "pending", "positive", "question", "stranger"},
    "bucket=high": {"callback", "positive"},
    "bucket=medium": {"late", "question", "stranger"},
    "view=all&bucket=low": {"negative", "pending"},
    "label=LATER": {"late"},
    "label=question": {"question", "stranger"},
    "view=all&label=NEGATIVE": {"negative"},
    "campaign={autumn_campaign}": {"question"},
    "persona=SABRINA": {"callback", "positive"},
    "persona=GIANNA": {"late", "question", "stranger"},
    "assignee=me": {"positive"},
    "assignee=none": {"late", "pending", "question", "stranger"},
    "assignee={operator}": {"callback"},
    "breached=1": {"late"},
    "unmatched=1": {"stranger"},
    "q=tomorrow": {"callback"},
    "q=5550099": {"stranger"},
    "q=next%20year&bucket=medium": {"late"},
    "view=nonsense&bucket=bogus": {
        "callback",
        "late",
        "pending",
        "positive",
        "question",
        "stranger",
    },
}


def test_filters_narrow_the_list(client, crew, mixed):
    login(client, crew.reviewer)
    shown = {}
    for query in FILTERS:
        url = "/inbox?" + query.format(autumn_campaign=mixed.autumn_id, operator=crew.operator.id)
        page = client.get(url)
        assert page.status_code == 200, url
        shown[query] = mixed.names(listed_ids(page.text))
    assert shown == FILTERS


def test_bucket_totals_add_up(client, crew, mixed):
    login(client, crew.reviewer)
    counts = totals(client.get("/inbox").text)
    buckets = {name: counts[name] for name in ("Urgent", "High", "Medium", "Low")}
    assert buckets == {"Urgent": 0, "High": 2, "Medium": 3, "Low": 0}
    assert counts["Total"] == sum(buckets.values()) == 5  # open and escalated
    assert counts["Past deadline"] == 1
    assert counts["Escalated"] == 1
    assert counts["Being read"] == 1
    # The totals are the whole inbox's, whatever the list is narrowed to.
    assert totals(client.get("/inbox?label=LATER").text) == counts


def test_csv_export_has_the_filtered_rows(client, crew, mixed, rival_item):
    login(client, crew.reviewer)
    response = client.get("/inbox?format=csv&bucket=high")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    assert header == list(inbox_list.EXPORT_COLUMNS)
    column = {name: i for i, name in enumerate(header)}
    assert [int(row[column["item"]]) for row in rows] == [
        mixed.ids["callback"],
        mixed.ids["positive"],
    ]
    callback = rows[0]
    assert callback[column["text"]] == CALL_ME
    assert callback[column["label"]] == "CALLBACK_REQUEST"
    assert callback[column["number"]] == "'" + mobile(1)  # formula-safe: a leading + is quoted
    assert callback[column["campaign"]] == "Spring owners"
    assert callback[column["assignee"]] == crew.operator.email
    assert callback[column["extracted"]] == "callback_time=tomorrow after 3pm"

    everything = client.get("/inbox?format=csv&view=all").text
    assert len(list(csv.reader(io.StringIO(everything)))) == 1 + 7
    assert "Rival Secret Bakery" not in everything
    late = client.get("/inbox?format=csv&breached=1").text
    (late_row,) = list(csv.reader(io.StringIO(late)))[1:]
    assert late_row[column["breached"]] == "yes"


def test_htmx_request_gets_the_list_partial_only(client, crew, mixed):
    login(client, crew.reviewer)
    partial = client.get("/inbox?bucket=high", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<section id="inbox-list"')
    assert "<html" not in partial.text
    assert 'id="inbox-detail"' not in partial.text
    assert 'id="inbox-filters"' not in partial.text
    assert {*listed_ids(partial.text)} == {mixed.ids["callback"], mixed.ids["positive"]}
    whole = client.get("/inbox?bucket=high")
    assert "<html" in whole.text and 'id="inbox-detail"' in whole.text


# -------------------------------------------------------------------------------- live


def test_changes_answers_204_until_a_new_reply_arrives(client, crew, desk):
    open_item(desk, 1)
    login(client, crew.reviewer)
    version = poll_version(client.get("/inbox").text)
    unchanged = client.get(f"/inbox/changes?v={version}")
    assert unchanged.status_code == 204
    assert triggered(unchanged) == set()

    texted_lead(desk, 2)
    receive_text(desk, mobile(2), NO)

    changed = client.get(f"/inbox/changes?v={version}")
    assert changed.status_code == 200
    assert "inbox-changed" in triggered(changed)
    newer = poll_version(client.get("/inbox").text)
    assert newer != version
    assert client.get(f"/inbox/changes?v={newer}").status_code == 204


def test_an_action_changes_the_version_too(client, crew, desk):
    item = open_item(desk, 1)
    login(client, crew.reviewer)
    version = poll_version(client.get("/inbox").text)
    response = client.post(f"/inbox/{item.id}/do/escalate")
    assert "inbox-changed" in triggered(response)
    assert client.get(f"/inbox/changes?v={version}").status_code == 200


def test_simulated_reply_is_read_by_the_job(app, client, crew, desk):
    texted_lead(desk, 1)
    login(client, crew.operator)
    assert "Simulate a reply" in client.get("/inbox").text
    response = client.post("/inbox/simulate", data={"from": mobile(1), "body": CALL_ME})
    assert response.status_code == 200
    assert "inbox-changed" in triggered(response)
    (item,) = db.session.scalars(select(InboxItem)).all()
    assert item.state == "processing"

    drain(app)

    item = fresh_item(item.id)
    assert (item.state, item.label) == ("open", "CALLBACK_REQUEST")
    assert item.extracted == {"callback_time": "tomorrow after 3pm"}
    assert draft_of(item).source == "template"


def test_simulated_reply_says_where_it_went(client, crew, desk):
    texted_lead(desk, 1)
    login(client, crew.operator)
    page = client.get("/inbox").text
    assert 'hx-target="#simulate-result"' in page and 'id="simulate-result"' in page

    response = client.post("/inbox/simulate", data={"from": mobile(1), "body": CALL_ME})

    (item,) = db.session.scalars(select(InboxItem)).all()
    assert response.status_code == 200
    assert "Reply from (512) 555-0001 received; it is in the inbox." in response.text
    assert f'<a href="/inbox/{item.id}">Open it</a>' in response.text
    assert 'role="status"' in response.text


def test_simulated_stop_says_the_number_is_suppressed(client, crew, desk):
    texted_lead(desk, 1)
    login(client, crew.operator)
    response = client.post("/inbox/simulate", data={"from": mobile(1), "body": "STOP"})
    assert "in the inbox as an opt-out, and the number is suppressed" in response.text


def test_simulated_reply_from_no_number_is_refused(client, crew, desk):
    login(client, crew.operator)
    response = client.post("/inbox/simulate", data={"from": "<b>you</b>", "body": YES})
    assert response.status_code == 422
    assert "Type the number the reply comes from" in response.text
    assert "<b>you</b>" not in response.text
    assert db.session.scalar(select(func.count(InboxItem.id))) == 0


def test_simulate_is_only_for_the_sandbox(app, client, crew, desk):
    app.config["TWILIO_SANDBOX"] = False
    login(client, crew.operator)
    assert "Simulate a reply" not in client.get("/inbox").text
    response = client.post("/inbox/simulate", data={"from": mobile(1), "body": YES})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(InboxItem.id))) == 0


# --------------------------------------------------------------------------- item page


def test_item_page_shows_the_lead_the_reading_and_the_draft(client, crew, desk):
    item = open_item(desk, 7, EMAIL, score=64, title="Owner")
    draft = draft_of(item)
    login(client, crew.reviewer)
    page = client.get(f"/inbox/{item.id}").text

    assert f'<li class="turn turn-in"><p>{EMAIL}</p>' in page
    assert detail_field(page, "Score") == "64"
    assert detail_field(page, "Business") == "Lake 7 Plumbing LLC"
    assert detail_field(page, "Title") == "Owner"
    assert detail_field(page, "Deal") == "none"
    assert detail_field(page, "Reading").startswith("Email captured 85%")
    assert detail_field(page, "Email") == "dana@example.com"
    assert textarea_text(page) == str(escape(draft.body))
    assert str(escape(segments.measure(draft.body).summary)) in page
    # Email 100 + half the score 32 + answered within the hour 20 + an owner 15.
    assert (item.priority, item.bucket) == (167, "urgent")


def test_conversation_shows_our_opener_the_owners_texts_and_our_reply(client, crew, desk, daytime):
    first = open_item(desk, 1, YES, business="Lake 1 Plumbing LLC")
    ours = "Great to hear. Does Thursday at 10 work for a call?"
    login(client, crew.operator)
    assert client.post(f"/inbox/{first.id}/send", data={"body": ours}).status_code == 200
    dispatch.run_replies(db.session, crew.team.id, dispatch_options(RecordingTransport(), daytime))
    second = reply_from(desk, mobile(1), "Thursday works", now=daytime.advance(minutes=5))
    assert second.id != first.id

    page = client.get(f"/inbox/{second.id}").text
    turns = re.findall(r'<li class="turn turn-(in|out)[^"]*">\s*<p>(.*?)</p>', page, re.S)
    opener = str(escape(OPENER_SENT.format(business="Lake 1 Plumbing LLC")))
    assert turns == [("out", opener), ("in", YES), ("out", ours), ("in", "Thursday works")]


def test_item_panel_alone_for_htmx(client, crew, desk):
    item = open_item(desk, 1)
    login(client, crew.reviewer)
    panel = client.get(
        f"/inbox/{item.id}", headers={"HX-Request": "true", "HX-Target": "inbox-detail"}
    )
    assert panel.status_code == 200
    assert panel.text.lstrip().startswith(f'<article class="inbox-item" id="item-{item.id}"')
    assert "<html" not in panel.text
    assert 'id="inbox-list"' not in panel.text


@pytest.mark.parametrize(
    ("body", "encoding", "count"),
    [
        ("Happy to talk. When suits you?", "GSM-7", 1),
        ("Happy to talk \U0001f642 When suits you?", "UCS-2", 1),
        ("x" * 161, "GSM-7", 2),
        ("\u00e9" * 70 + "\u0436", "UCS-2", 2),
    ],
)
def test_measure_counts_segments_as_the_reply_is_written(client, crew, desk, body, encoding, count):
    login(client, crew.reviewer)
    response = client.post("/inbox/measure", data={"body": body})
    assert response.status_code == 200
    expected = segments.measure(body)
    assert (expected.encoding, expected.segments) == (encoding, count)
    assert str(escape(expected.summary)) in response.text
    assert "<html" not in response.text


# ----------------------------------------------------------------------------- sending


def test_approve_and_send_queues_the_draft_as_a_reply(client, crew, desk, daytime):
    item = open_item(desk, 1, YES)
    draft = draft_of(item)
    login(client, crew.reviewer)

    response = client.post(f"/inbox/{item.id}/send", data={"body": draft.body})

    assert response.status_code == 200
    assert "inbox-changed" in triggered(response)
    (reply,) = replies_to(mobile(1))
    assert (reply.kind, reply.status, reply.body) == ("reply", "approved", draft.body)
    assert (reply.due_at, reply.hold_reason) == (daytime(), "")
    assert reply.conversation_id == item.conversation_id
    assert (reply.sender_id, reply.lead_id, reply.campaign_id) == (
        desk.sender.id,
        item.lead_id,
        None,
    )
    assert reply.approved_by_id == crew.reviewer.id
    logged = fresh(draft)
    assert (logged.state, logged.edited, logged.sent_body, logged.message_id) == (
        "sent",
        False,
        draft.body,
        reply.id,
    )
    assert logged.decided_by_id == crew.reviewer.id
    done = fresh_item(item.id)
    assert (done.state, done.resolution, done.resolved_by_id) == ("done", "sent", crew.reviewer.id)
    assert "inbox.reply" in audit_actions(crew.team.id)
    assert str(escape(draft.body)) in response.text  # waiting in the conversation


def test_edit_and_send_keeps_both_texts_for_the_quality_log(client, crew, desk, daytime):
    item = open_item(desk, 1, YES)
    draft = draft_of(item)
    edited = "Glad to hear it, Dana. Could we talk Thursday morning?"
    assert edited != draft.body
    login(client, crew.operator)

    assert client.post(f"/inbox/{item.id}/send", data={"body": edited}).status_code == 200

    (reply,) = replies_to(mobile(1))
    assert reply.body == reply.rendered_body == edited
    logged = fresh(draft)
    assert (logged.body, logged.sent_body, logged.edited) == (draft.body, edited, True)
    assert logged.source == "template"


def test_own_reply_without_a_draft_is_logged_as_a_persons(client, crew, desk, daytime):
    texted_lead(desk, 1)
    item_id = receive_text(desk, mobile(1), YES).item_id  # not read yet: no draft
    mine = "Thanks Dana, I'll call you this afternoon."
    login(client, crew.operator)

    assert client.post(f"/inbox/{item_id}/send", data={"body": mine}).status_code == 200

    (draft,) = db.session.scalars(select(Draft).where(Draft.item_id == item_id)).all()
    assert (draft.source, draft.body, draft.sent_body) == ("person", "", mine)
    assert (draft.state, draft.edited) == ("sent", True)
    assert [m.body for m in replies_to(mobile(1))] == [mine]
    assert read_item(item_id) == "nothing to read"  # the job finds it answered


def test_reply_to_a_suppressed_number_is_refused_with_the_reason(client, crew, desk, daytime):
    item = open_item(desk, 1, YES)
    delivery.suppress_number(
        db.session, crew.team.id, mobile(1), reason="dnc", source="Settings: DNC list"
    )
    db.session.commit()
    login(client, crew.reviewer)

    response = client.post(f"/inbox/{item.id}/send", data={"body": draft_of(item).body})

    assert response.status_code == 422
    assert "Not sent: On the do-not-contact list (dnc)" in response.text
    assert replies_to(mobile(1)) == []
    assert fresh_item(item.id).state == "open"
    assert draft_of(item).state == "proposed"


def test_reply_in_quiet_hours_is_queued_with_its_hold(client, crew, desk, late_evening):
    item = open_item(desk, 1, YES)
    login(client, crew.reviewer)

    response = client.post(f"/inbox/{item.id}/send", data={"body": draft_of(item).body})

    assert response.status_code == 200
    (reply,) = replies_to(mobile(1))
    assert reply.status == "approved"
    assert reply.hold_reason
    tomorrow = (late_evening() + timedelta(days=1)).astimezone(CENTRAL).date()
    assert reply.due_at == at_local(tomorrow, 9, zone=CENTRAL)
    for page in (response.text, client.get(f"/inbox/{item.id}").text):
        assert "held" in page
        assert str(escape(reply.hold_reason)) in page

    transport = RecordingTransport()
    late_evening.advance(minutes=1)
    assert (
        dispatch.run_replies(
            db.session, crew.team.id, dispatch_options(transport, late_evening)
        ).sent
        == 0
    )
    late_evening.set(reply.due_at + timedelta(minutes=1))
    assert (
        dispatch.run_replies(
            db.session, crew.team.id, dispatch_options(transport, late_evening)
        ).sent
        == 1
    )
    assert [t["body"] for t in transport.sent] == [reply.body]


def test_held_reply_says_when_it_goes_for_the_viewer_and_the_owner(
    client, crew, desk, late_evening
):
    item = open_item(desk, 1, YES)
    login(client, crew.reviewer)

    response = client.post(f"/inbox/{item.id}/send", data={"body": draft_of(item).body})

    # 9 am in Austin tomorrow, seen from the team's zone (US Eastern by default).
    goes = re.compile(
        r"Goes (tomorrow |on \w+ )?at 10:00 am E[SD]T \(9:00 am for the owner, Austin\) · held: "
    )
    for page in (response.text, client.get(f"/inbox/{item.id}").text):
        assert goes.search(page), page


def test_sandbox_open_hours_queue_a_late_reply_to_go_now(client, crew, desk, late_evening):
    settings = SendingSettings.of(crew.team)
    settings.sandbox_open_hours = True
    settings.save(crew.team)
    db.session.commit()
    item = open_item(desk, 1, YES)
    login(client, crew.reviewer)

    client.post(f"/inbox/{item.id}/send", data={"body": draft_of(item).body})

    (reply,) = replies_to(mobile(1))
    assert (reply.hold_reason, reply.due_at) == ("", late_evening())


def test_a_done_item_cannot_be_sent(client, crew, desk, daytime):
    item = open_item(desk, 1, NO)
    login(client, crew.reviewer)
    assert client.post(f"/inbox/{item.id}/do/archive").status_code == 200
    response = client.post(f"/inbox/{item.id}/send", data={"body": "One more thing"})
    assert response.status_code == 422
    assert "This item is already done." in response.text
    assert replies_to(mobile(1)) == []


@pytest.mark.parametrize("body", ["", "   ", "x" * 1601])
def test_an_empty_or_overlong_reply_is_refused(client, crew, desk, daytime, body):
    item = open_item(desk, 1, YES)
    login(client, crew.reviewer)
    response = client.post(f"/inbox/{item.id}/send", data={"body": body})
    assert response.status_code == 422
    assert "The reply is" in response.text
    assert replies_to(mobile(1)) == []
    assert fresh_item(item.id).state == "open"


# ---------------------------------------------------------------------- other actions


def test_archiving_a_no_marks_the_lead_not_interested(client, crew, desk):
    item = open_item(desk, 1, NO)
    draft = draft_of(item)
    login(client, crew.reviewer)

    response = client.post(f"/inbox/{item.id}/do/archive")

    assert response.status_code == 200
    assert "inbox-changed" in triggered(response)
    done = fresh_item(item.id)
    assert (done.state, done.resolution) == ("done", "archived")
    assert db.session.get(Lead, item.lead_id).status == "not_interested"
    assert fresh(draft).state == "discarded"
    assert db.session.scalar(select(func.count(Suppression.id))) == 0
    assert "inbox.archive" in audit_actions(crew.team.id)
    assert item.id not in listed_ids(client.get("/inbox").text)
    assert item.id in listed_ids(client.get("/inbox?view=done").text)


def test_archiving_a_wrong_number_suppresses_it(client, crew, desk):
    item = open_item(desk, 1, WRONG)
    assert item.label == "WRONG_NUMBER"
    login(client, crew.reviewer)

    assert client.post(f"/inbox/{item.id}/do/archive").status_code == 200

    (suppression,) = db.session.scalars(select(Suppression)).all()
    assert (suppression.e164, suppression.reason) == (mobile(1), "wrong_number")
    assert suppression.created_by_id == crew.reviewer.id
    # A wrong number never consented, so there is no opt-out to record.
    assert db.session.scalar(select(func.count(ConsentEvent.id))) == 0


def test_escalated_item_shows_in_the_escalated_view(client, crew, desk):
    item = open_item(desk, 1, PRICE)
    other = open_item(desk, 2, YES)
    login(client, crew.reviewer)

    response = client.post(
        f"/inbox/{item.id}/do/escalate", data={"note": "Asks for a figure; Pat should answer"}
    )

    assert response.status_code == 200
    escalated = fresh_item(item.id)
    assert (escalated.state, escalated.escalated_note) == (
        "escalated",
        "Asks for a figure; Pat should answer",
    )
    assert "Asks for a figure; Pat should answer" in response.text
    assert 'id="do-escalate"' not in response.text
    assert listed_ids(client.get("/inbox?view=escalated").text) == [item.id]
    assert set(listed_ids(client.get("/inbox").text)) == {item.id, other.id}
    assert totals(client.get("/inbox").text)["Escalated"] == 1


def test_suppress_puts_the_number_on_the_dnc_list_and_stops_enrollments(client, crew, desk):
    item = open_item(desk, 1, YES)
    enrollment = Enrollment(
        team_id=crew.team.id,
        campaign_id=desk.campaign.id,
        lead_id=item.lead_id,
        e164=mobile(1),
        sender_id=desk.sender.id,
        next_due_at=utcnow() + timedelta(days=3),
    )
    db.session.add(enrollment)
    db.session.commit()
    login(client, crew.operator)

    assert client.post(f"/inbox/{item.id}/do/suppress").status_code == 200

    (suppression,) = db.session.scalars(select(Suppression)).all()
    assert (suppression.e164, suppression.reason) == (mobile(1), "dnc")
    assert db.session.get(Lead, item.lead_id).status == "do_not_contact"
    assert fresh(enrollment).status != "active"
    done = fresh_item(item.id)
    assert (done.state, done.resolution) == ("done", "suppressed")
    assert "inbox.suppress" in audit_actions(crew.team.id)


SUSPECT = "I am all set. Not something I want to keep hearing about."


def suspected_item(desk: Desk, n: int) -> InboxItem:
    """A reply the rules let through and Claude reads as a possible opt-out."""
    texted_lead(desk, n)
    claude = ScriptedClaude("NEGATIVE", 70, opt_out=True)
    item = reply_from(desk, mobile(n), SUSPECT, claude=claude)
    assert (item.state, item.opt_out_suspected, item.bucket) == ("open", True, "urgent")
    return item


def test_confirming_a_suspected_opt_out_suppresses_the_number(client, crew, desk):
    item = suspected_item(desk, 1)
    login(client, crew.reviewer)
    assert "Possible opt-out" in client.get(f"/inbox/{item.id}").text

    response = client.post(f"/inbox/{item.id}/do/confirm-opt-out")

    assert response.status_code == 200
    assert "Possible opt-out" not in response.text
    (suppression,) = db.session.scalars(select(Suppression)).all()
    assert (suppression.e164, suppression.reason) == (mobile(1), "opt_out")
    (consent,) = db.session.scalars(select(ConsentEvent)).all()
    assert (consent.e164, consent.kind) == (mobile(1), "opt_out")
    done = fresh_item(item.id)
    assert (done.label, done.opt_out, done.opt_out_suspected) == ("STOP", True, False)
    assert (done.state, done.resolution) == ("done", "opted_out")
    assert db.session.get(Lead, item.lead_id).status == "do_not_contact"


def test_dismissing_a_suspected_opt_out_keeps_the_item_open(client, crew, desk):
    item = suspected_item(desk, 1)
    login(client, crew.reviewer)

    flagged_priority = item.priority

    response = client.post(f"/inbox/{item.id}/do/dismiss-opt-out")

    assert response.status_code == 200
    assert "Possible opt-out" not in response.text
    kept = fresh_item(item.id)
    assert (kept.state, kept.opt_out_suspected, kept.label) == ("open", False, "NEGATIVE")
    assert kept.bucket != "urgent" and kept.priority < flagged_priority
    assert db.session.scalar(select(func.count(Suppression.id))) == 0
    assert "inbox.opt_out_dismissed" in audit_actions(crew.team.id)


@pytest.mark.parametrize(
    ("day", "at", "expected", "card"),
    [
        (
            "2031-07-08",
            "15:30",
            datetime(2031, 7, 8, 20, 30, tzinfo=UTC),
            "Tue Jul 8, 3:30 pm CDT for the owner, Chicago = 4:30 pm EDT for you",
        ),
        (
            "2031-01-15",
            "09:00",
            datetime(2031, 1, 15, 15, 0, tzinfo=UTC),
            "Wed Jan 15, 9:00 am CST for the owner, Chicago = 10:00 am EST for you",
        ),
    ],
)
def test_callback_is_booked_on_the_owners_clock_and_shows_on_the_lead_card(
    client, crew, desk, day, at, expected, card
):
    # The owner is in Austin (TX, a 512 mobile); the operator reads New York time, and
    # the browser's zone (the old hidden field) counts for nothing.
    crew.operator.time_zone = "America/New_York"
    db.session.commit()
    item = open_item(desk, 1, CALL_ME)
    login(client, crew.operator)

    response = client.post(
        f"/inbox/{item.id}/callback", data={"date": day, "time": at, "tz": "Asia/Tokyo"}
    )

    assert response.status_code == 200
    assert "tasks-changed" in triggered(response)
    callback = tasks.next_callback(db.session, item.lead_id)
    assert callback.due_at == expected
    assert callback.note == "tomorrow after 3pm"  # the owner's words, when none typed
    assert (callback.kind, callback.zone, callback.assignee_id) == (
        "callback",
        "America/Chicago",
        crew.operator.id,
    )
    done = fresh_item(item.id)
    assert (done.state, done.resolution) == ("done", "callback")
    assert detail_field(response.text, "Callback") == f"{card} · tomorrow after 3pm"
    page = client.get(f"/inbox/{item.id}").text
    assert detail_field(page, "Callback") == f"{card} · tomorrow after 3pm"
    assert {"inbox.callback", "task.created"} <= set(audit_actions(crew.team.id))


def test_callback_form_is_prefilled_from_the_owners_words_on_their_clock(client, crew, desk):
    # "Call me tomorrow after 3pm", received Wednesday 3 pm in Austin (4 pm in New York).
    crew.operator.time_zone = "America/New_York"
    db.session.commit()
    texted_lead(desk, 1, sent_at=datetime(2026, 1, 14, 20, 0, tzinfo=UTC))
    item = reply_from(desk, mobile(1), CALL_ME, now=datetime(2026, 1, 14, 21, 0, tzinfo=UTC))
    login(client, crew.operator)

    page = client.get(f"/inbox/{item.id}").text

    form = re.search(r'<form [^>]*class="row-form callback".*?</form>', page, re.S).group(0)
    inputs = dict(re.findall(r'<input type="(date|time)" name="\1"[^>]* value="([^"]*)"', form))
    assert inputs == {"date": "2026-01-15", "time": "15:00"}
    assert "the owner's time, Austin" in form  # the business's city, as on the lead card
    assert "= 4:00 pm EST for you" in form
    assert 'name="tz"' not in form  # the browser's zone is not asked for


@pytest.mark.parametrize(
    ("day", "at"),
    [("", ""), ("2031-07-08", ""), ("next tuesday", "15:00"), ("2031-02-30", "10:00")],
)
def test_callback_without_a_date_is_refused(client, crew, desk, day, at):
    item = open_item(desk, 1, CALL_ME)
    login(client, crew.operator)
    response = client.post(f"/inbox/{item.id}/callback", data={"date": day, "time": at})
    assert response.status_code == 422
    assert "Pick a date and time for the callback." in response.text
    assert tasks.next_callback(db.session, item.lead_id) is None
    assert fresh_item(item.id).state == "open"


def test_convert_to_deal_makes_one_discovery_deal(client, crew, desk):
    item = open_item(desk, 1, YES, business="Lake 1 Plumbing LLC")
    login(client, crew.operator)

    response = client.post(
        f"/inbox/{item.id}/do/deal", data={"stage": stage_id(crew.team.id, "Discovery")}
    )

    assert response.status_code == 200
    (deal,) = db.session.scalars(select(Deal)).all()
    assert (deal.stage.name, deal.lead_id, deal.conversation_id) == (
        "Discovery",
        item.lead_id,
        item.conversation_id,
    )
    assert (deal.title, deal.assignee_id, deal.team_id) == (
        "Lake 1 Plumbing LLC",
        crew.operator.id,
        crew.team.id,
    )
    (history,) = db.session.scalars(select(DealStageHistory)).all()
    assert (history.deal_id, history.to_stage, history.by_id) == (
        deal.id,
        "Discovery",
        crew.operator.id,
    )
    assert db.session.get(Lead, item.lead_id).status == "deal"
    assert fresh_item(item.id).resolution == "converted"
    assert detail_field(response.text, "Deal") == "Lake 1 Plumbing LLC (Discovery)"

    client.post(f"/inbox/{item.id}/do/deal", data={"stage": stage_id(crew.team.id, "Qualified")})
    later = reply_from(desk, mobile(1), "Also, my partner wants to join the call")
    assert later.id != item.id and later.state == "open"
    later_page = client.get(f"/inbox/{later.id}").text
    assert detail_field(later_page, "Deal") == "Lake 1 Plumbing LLC (Discovery)"
    assert "already has the deal" in later_page  # the dialog says it stays as it is
    assert (
        client.post(
            f"/inbox/{later.id}/do/deal", data={"stage": stage_id(crew.team.id, "Discovery")}
        ).status_code
        == 200
    )

    db.session.expire_all()
    assert db.session.scalar(select(func.count(Deal.id))) == 1
    assert db.session.scalar(select(func.count(DealStageHistory.id))) == 1
    assert db.session.get(Lead, item.lead_id).status == "deal"


def test_convert_to_deal_asks_the_stage_and_value_first(client, crew, desk):
    item = open_item(desk, 1, YES, business="Lake 1 Plumbing LLC")
    login(client, crew.operator)
    page = client.get(f"/inbox/{item.id}").text

    # The button (and its c key) only opens the question; the question's form posts.
    button = re.search(r'<button[^>]*id="do-deal"[^>]*>', page).group(0)
    assert 'data-dialog="deal-dialog"' in button and "hx-post" not in button
    dialog = re.search(r'<dialog id="deal-dialog".*?</dialog>', page, re.S).group(0)
    assert f'hx-post="/inbox/{item.id}/do/deal"' in dialog
    stages = re.findall(r'<option value="(\d+)"[^>]*>([^<(]+)', dialog)
    assert [name.strip() for _, name in stages] == [
        "Discovery", "Qualified", "Valuation", "LOI", "Due diligence", "Closing"
    ]  # fmt: skip
    assert '<optgroup label="Deals">' in dialog
    assert 'name="value"' in dialog

    response = client.post(
        f"/inbox/{item.id}/do/deal",
        data={"stage": stage_id(crew.team.id, "Valuation"), "value": "$1,250,000"},
    )
    assert response.status_code == 200
    (deal,) = db.session.scalars(select(Deal)).all()
    assert (deal.stage.name, deal.value) == ("Valuation", Decimal("1250000.00"))
    (history,) = db.session.scalars(select(DealStageHistory)).all()
    assert (history.deal_id, history.from_stage, history.to_stage) == (deal.id, "", "Valuation")
    assert detail_field(response.text, "Deal") == "Lake 1 Plumbing LLC (Valuation)"


def test_convert_to_deal_without_a_value_leaves_it_blank(client, crew, desk):
    item = open_item(desk, 1, YES)
    login(client, crew.operator)
    client.post(
        f"/inbox/{item.id}/do/deal",
        data={"stage": stage_id(crew.team.id, "Qualified"), "value": "  "},
    )
    (deal,) = db.session.scalars(select(Deal)).all()
    assert (deal.stage.name, deal.value) == ("Qualified", None)


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        ({}, "Pick the pipeline and stage"),
        ({"stage": "Won"}, "Pick the pipeline and stage"),
        ({"stage": "<b>made-up</b>"}, "Pick the pipeline and stage"),
        ({"stage": "Discovery", "value": "lots"}, "Type the deal&#39;s value in dollars"),
        ({"stage": "Discovery", "value": "-5"}, "between $0 and $10,000,000,000"),
        ({"stage": "Discovery", "value": "1e30"}, "between $0 and $10,000,000,000"),
        ({"stage": "LOI"}, "LOI needs the deal&#39;s value"),
    ],
)
def test_convert_to_deal_refuses_a_stage_or_value_it_cannot_take(client, crew, desk, form, problem):
    item = open_item(desk, 1, YES)
    login(client, crew.operator)
    if form.get("stage") in ("Won", "Discovery", "LOI"):  # a stage of the team, by its id
        form = form | {"stage": stage_id(crew.team.id, form["stage"])}
    response = client.post(f"/inbox/{item.id}/do/deal", data=form)
    assert response.status_code == 422
    assert problem in response.text
    assert "<b>made-up</b>" not in response.text
    assert db.session.scalar(select(func.count(Deal.id))) == 0
    assert fresh_item(item.id).state == "open"
    assert db.session.get(Lead, item.lead_id).status != "deal"


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("do/deal", {}),
        ("callback", {"date": "2031-07-08", "time": "15:30"}),
    ],
)
def test_an_unmatched_number_cannot_become_a_deal_or_a_callback(client, crew, desk, action, form):
    item = reply_from(desk, mobile(99), "Is this about the shop?")
    assert (item.unmatched, item.lead_id) == (True, None)
    login(client, crew.operator)

    response = client.post(f"/inbox/{item.id}/{action}", data=form)

    assert response.status_code == 422
    assert "matches no lead" in response.text
    assert fresh_item(item.id).state == "open"
    assert db.session.scalar(select(func.count(Deal.id))) == 0


def test_assigning_an_item_to_a_teammate(client, crew, desk, outsider):
    item = open_item(desk, 1)
    login(client, crew.reviewer)

    response = client.post(f"/inbox/{item.id}/assign", data={"assignee": crew.operator.id})

    assert response.status_code == 200
    assert fresh_item(item.id).assignee_id == crew.operator.id
    assert f"assigned to {crew.operator.name}" in response.text
    foreign = client.post(f"/inbox/{item.id}/assign", data={"assignee": outsider.operator.id})
    assert foreign.status_code == 404
    assert fresh_item(item.id).assignee_id == crew.operator.id
    client.post(f"/inbox/{item.id}/assign", data={"assignee": ""})
    assert fresh_item(item.id).assignee_id is None


# -------------------------------------------------------------------------------- bulk


def test_bulk_archive_changes_only_our_ticked_items(client, crew, desk, rival_item):
    no = open_item(desk, 1, NO)
    yes = open_item(desk, 2, YES)
    call = open_item(desk, 3, CALL_ME)
    login(client, crew.reviewer)

    response = client.post(
        "/inbox/bulk",
        data={"action": "archive", "ids": [str(no.id), str(yes.id), str(rival_item.id)]},
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="inbox-list"')
    assert listed_ids(response.text) == [call.id]
    assert [fresh_item(i.id).resolution for i in (no, yes, call)] == ["archived", "archived", ""]
    assert fresh_item(rival_item.id).state == "open"
    assert audit_actions(crew.team.id).count("inbox.archive") == 2
    assert "inbox.archive" not in audit_actions(rival_item.team_id)


def test_bulk_assign_changes_only_our_ticked_items(client, crew, desk, rival_item, outsider):
    first = open_item(desk, 1, NO)
    second = open_item(desk, 2, YES)
    login(client, crew.reviewer)

    response = client.post(
        "/inbox/bulk",
        data={
            "action": "assign",
            "assignee": str(crew.operator.id),
            "ids": [str(first.id), str(rival_item.id)],
        },
    )

    assert response.status_code == 200
    assert fresh_item(first.id).assignee_id == crew.operator.id
    assert fresh_item(second.id).assignee_id is None
    assert fresh_item(rival_item.id).assignee_id is None
    assert "inbox.assign" in audit_actions(crew.team.id)
    assert "inbox.assign" not in audit_actions(rival_item.team_id)
    assert listed_ids(client.get("/inbox?assignee=" + str(crew.operator.id)).text) == [first.id]

    outside = client.post(
        "/inbox/bulk",
        data={"action": "assign", "assignee": str(outsider.operator.id), "ids": [str(second.id)]},
    )
    assert outside.status_code == 404
    assert fresh_item(second.id).assignee_id is None
    assert (
        client.post("/inbox/bulk", data={"action": "delete", "ids": [str(second.id)]}).status_code
        == 400
    )


# --------------------------------------------------------------------------- auto-send


def answered_once(desk: Desk, n: int) -> Lead:
    """A lead whose first reply a person answered (the next reply is not a first)."""
    item = open_item(desk, n, YES)
    inbox.send_reply(db.session, fresh_item(item.id), desk.crew.operator, draft_of(item).body)
    return db.session.get(Lead, item.lead_id)


def reply_again(desk: Desk, n: int, claude: ScriptedClaude) -> InboxItem:
    """The owner texts again; Claude reads it as scripted."""
    return reply_from(desk, mobile(n), "Sounds good, tell me more about the process", claude=claude)


def sent_automatically(n: int) -> list[Message]:
    """Replies to a lead that no person approved."""
    return [m for m in replies_to(mobile(n)) if m.approved_by_id is None]


def test_auto_send_is_off_by_default(crew, desk, daytime):
    assert ReplySettings().auto_send is False
    answered_once(desk, 1)
    item = reply_again(desk, 1, ScriptedClaude("POSITIVE", 99))
    assert item.state == "open"
    assert sent_automatically(1) == []


def test_auto_send_answers_a_safe_confident_later_reply(crew, desk, daytime):
    save_reply_settings(crew.team, auto_send=True)
    answered_once(desk, 1)

    item = reply_again(desk, 1, ScriptedClaude("POSITIVE", 95))

    assert (item.state, item.resolution) == ("done", "auto_sent")
    (reply,) = sent_automatically(1)
    assert (reply.kind, reply.status, reply.body) == ("reply", "approved", AI_DRAFT)
    assert reply.conversation_id == item.conversation_id
    (draft,) = db.session.scalars(
        select(Draft).where(Draft.item_id == item.id, Draft.state == "sent")
    ).all()
    assert (draft.source, draft.edited, draft.message_id) == ("ai", False, reply.id)
    assert "inbox.reply_auto" in audit_actions(crew.team.id)


def test_auto_send_never_answers_a_first_reply(crew, desk, daytime):
    save_reply_settings(crew.team, auto_send=True)
    texted_lead(desk, 1)
    item = reply_again(desk, 1, ScriptedClaude("POSITIVE", 99))
    assert item.state == "open"
    assert replies_to(mobile(1)) == []


@pytest.mark.parametrize(
    "label", ["PRICE_INQUIRY", "CALLBACK_REQUEST", "WRONG_NUMBER", "NOT_OWNER", "UNCLEAR"]
)
def test_auto_send_never_answers_these_labels(crew, desk, daytime, label):
    assert label in inbox.AUTO_SEND_NEVER
    save_reply_settings(crew.team, auto_send=True, auto_send_min_confidence=50)
    answered_once(desk, 1)
    item = reply_again(desk, 1, ScriptedClaude(label, 99))
    assert (item.state, item.label) == ("open", label)
    assert sent_automatically(1) == []


def test_auto_send_never_answers_an_opt_out(crew, desk, daytime):
    assert "STOP" in inbox.AUTO_SEND_NEVER
    save_reply_settings(crew.team, auto_send=True)
    answered_once(desk, 1)
    suspected = reply_again(desk, 1, ScriptedClaude("POSITIVE", 99, opt_out=True))
    assert (suspected.state, suspected.opt_out_suspected) == ("open", True)
    inbox.archive(db.session, suspected, crew.reviewer)
    db.session.commit()

    reception = receive_text(desk, mobile(1), "STOP")

    assert reception.handled == "suppressed" and not reception.needs_job
    stopped = fresh_item(reception.item_id)
    assert (stopped.state, stopped.resolution) == ("done", "opted_out")
    assert sent_automatically(1) == []


@pytest.mark.parametrize(("confidence", "sent"), [(89, 0), (90, 1)])
def test_auto_send_needs_the_teams_minimum_confidence(crew, desk, daytime, confidence, sent):
    save_reply_settings(crew.team, auto_send=True, auto_send_min_confidence=90)
    answered_once(desk, 1)
    reply_again(desk, 1, ScriptedClaude("POSITIVE", confidence))
    assert len(sent_automatically(1)) == sent


def test_auto_send_stops_at_the_limit_per_lead(crew, desk, daytime):
    save_reply_settings(crew.team, auto_send=True, auto_send_max_per_lead=1)
    answered_once(desk, 1)
    first = reply_again(desk, 1, ScriptedClaude("POSITIVE", 95))
    assert first.resolution == "auto_sent"

    second = reply_again(desk, 1, ScriptedClaude("POSITIVE", 95))

    assert second.id != first.id and second.state == "open"
    assert len(sent_automatically(1)) == 1


def test_auto_send_to_a_refused_number_leaves_the_item_for_a_person(crew, desk, daytime):
    save_reply_settings(crew.team, auto_send=True)
    answered_once(desk, 1)
    delivery.suppress_number(
        db.session, crew.team.id, mobile(1), reason="dnc", source="Settings: DNC list"
    )
    db.session.commit()

    item = reply_again(desk, 1, ScriptedClaude("POSITIVE", 95))

    assert item.state == "open"
    assert "Not sent automatically" in item.classify_note
    assert sent_automatically(1) == []


# -------------------------------------------------------------------------- dispatcher


def test_dispatcher_sends_a_reply_once_from_the_conversations_sender(client, crew, desk, daytime):
    round_rock = add_sender(desk, "+15125550188")
    texted_lead(desk, 1, sender=round_rock)
    item = reply_from(desk, mobile(1), YES, to=round_rock.address)
    body = draft_of(item).body
    login(client, crew.operator)
    assert client.post(f"/inbox/{item.id}/send", data={"body": body}).status_code == 200
    assert dispatch.teams_with_due_replies(db.session, daytime()) == [crew.team.id]
    transport = RecordingTransport()

    report = dispatch.run_replies(db.session, crew.team.id, dispatch_options(transport, daytime))
    again = dispatch.run_replies(db.session, crew.team.id, dispatch_options(transport, daytime))

    assert (report.sent, again.sent) == (1, 0)
    assert transport.sent == [
        {"to": mobile(1), "from": round_rock.address, "kind": "number", "body": body}
    ]
    (reply,) = replies_to(mobile(1))
    assert (reply.status, reply.provider_sid) == ("sent", "SM" + "0" * 31 + "1")
    assert (reply.from_address, reply.sent_at) == (round_rock.address, daytime())
    assert reply.provider_status == "queued"
    assert dispatch.teams_with_due_replies(db.session, daytime()) == []


@pytest.mark.parametrize(
    ("status", "outcome"),
    [("deal", "sent"), ("not_interested", "sent"), ("do_not_contact", "blocked")],
)
def test_reply_to_a_lead_that_moved_on(crew, desk, daytime, status, outcome):
    item = open_item(desk, 1, YES)
    inbox.send_reply(db.session, fresh_item(item.id), crew.operator, "Does Thursday work?")
    lead = db.session.get(Lead, item.lead_id)
    lead.status = status
    db.session.commit()
    transport = RecordingTransport()

    dispatch.run_replies(db.session, crew.team.id, dispatch_options(transport, daytime))

    (reply,) = replies_to(mobile(1))
    assert reply.status == outcome
    assert len(transport.sent) == (1 if outcome == "sent" else 0)
    if outcome == "blocked":
        assert "do not contact" in reply.blocked_reason


def test_a_held_reply_survives_the_owners_next_text(client, crew, desk, late_evening):
    item = open_item(desk, 1, YES)
    login(client, crew.reviewer)
    client.post(f"/inbox/{item.id}/send", data={"body": draft_of(item).body})

    receive_text(desk, mobile(1), "Also, who am I talking to?", now=late_evening.advance(minutes=5))

    (reply,) = replies_to(mobile(1))
    assert (reply.status, reply.blocked_reason) == ("approved", "")
    late_evening.set(reply.due_at + timedelta(minutes=1))
    transport = RecordingTransport()
    dispatch.run_replies(db.session, crew.team.id, dispatch_options(transport, late_evening))
    assert [t["body"] for t in transport.sent] == [reply.body]


def test_wrong_number_apology_goes_once_then_the_number_is_suppressed(client, crew, desk, daytime):
    item = open_item(desk, 1, WRONG)
    login(client, crew.reviewer)
    assert (
        client.post(f"/inbox/{item.id}/send", data={"body": draft_of(item).body}).status_code == 200
    )
    assert db.session.scalars(select(Suppression)).all() == []  # not before the apology goes
    transport = RecordingTransport()

    dispatch.run_replies(db.session, crew.team.id, dispatch_options(transport, daytime))
    dispatch.run_replies(db.session, crew.team.id, dispatch_options(transport, daytime))

    assert [t["to"] for t in transport.sent] == [mobile(1)]
    (suppression,) = db.session.scalars(select(Suppression)).all()
    assert suppression.reason == "wrong_number"


# ---------------------------------------------------------------------------- escaping

HOSTILE_BUSINESS = '<script>alert("biz")</script> & Sons'
HOSTILE_OWNER = "<b>Dana</b> Owner"
HOSTILE_TEXT = "Yes I'd sell <img src=x onerror=alert(1)>"
HOSTILE_REPLY = '<script>alert("reply")</script> Talk soon'
RAW = ('<script>alert("biz")', "<b>Dana</b>", "<img src=x", '<script>alert("reply")')


@pytest.fixture
def hostile(crew, desk, daytime) -> dict[str, int]:
    """An open item and a done one whose names, texts and reply carry HTML."""
    texted_lead(desk, 1, business=HOSTILE_BUSINESS, owner=HOSTILE_OWNER)
    done = reply_from(desk, mobile(1), HOSTILE_TEXT)
    # Four in the morning: the reply waits in the conversation, body and all.
    daytime.set(next_weekday(WED, 4, zone=CENTRAL))
    inbox.send_reply(db.session, done, crew.operator, HOSTILE_REPLY)
    texted_lead(desk, 2, business=HOSTILE_BUSINESS, owner=HOSTILE_OWNER)
    waiting = reply_from(desk, mobile(2), HOSTILE_TEXT)
    return {"done": done.id, "open": waiting.id}


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("get", "/inbox?view=all", {}),
        ("get", "/inbox?view=all", {"HX-Request": "true"}),
        ("get", "/inbox/{open}", {}),
        ("get", "/inbox/{done}", {"HX-Request": "true", "HX-Target": "inbox-detail"}),
        ("get", "/inbox/{open}", {"HX-Request": "true", "HX-Target": "inbox-detail"}),
        ("post", "/inbox/{open}/do/escalate", {"HX-Request": "true"}),
        ("post", "/inbox/{done}/assign", {"HX-Request": "true"}),
        ("post", "/inbox/bulk?view=all", {"HX-Request": "true"}),
    ],
)
def test_html_in_names_and_texts_is_escaped(client, crew, hostile, method, path, headers):
    login(client, crew.reviewer)
    data = {"action": "assign", "assignee": "", "ids": [str(hostile["open"])]}
    url = path.format(**hostile)
    page = getattr(client, method)(
        url, headers=headers, **({"data": data} if method == "post" else {})
    )
    assert page.status_code == 200
    for raw in RAW:
        assert raw not in page.text
    assert str(escape(HOSTILE_OWNER)) in page.text
    if "{done}" in path:
        assert str(escape(HOSTILE_REPLY)) in page.text
        assert str(escape(HOSTILE_TEXT)) in page.text


# ------------------------------------------------------------------- bounded reading


def test_a_simulated_reply_longer_than_an_sms_is_refused(client, crew, desk):
    texted_lead(desk, 1)
    login(client, crew.reviewer)
    body = "a" * (segments.MAX_BODY + 1)
    response = client.post("/inbox/simulate", data={"from": mobile(1), "body": body})
    assert response.status_code == 422  # shown in the form's problem line
    assert "at most 1,600 characters" in response.text
    assert db.session.scalar(select(func.count(InboxItem.id))) == 0
    fits = client.post("/inbox/simulate", data={"from": mobile(1), "body": body[1:]})
    assert fits.status_code == 200


def test_a_reading_that_keeps_failing_is_given_to_a_person_not_retried(
    app, client, crew, desk, monkeypatch
):
    from console.services.replies import reading
    from jobs import replies

    texted_lead(desk, 1)
    login(client, crew.reviewer)
    client.post("/inbox/simulate", data={"from": mobile(1), "body": CALL_ME})
    (item,) = db.session.scalars(select(InboxItem)).all()
    calls = []

    def broken_reader(*args, **kwargs):
        calls.append(args)
        raise TimeoutError("the reader took too long")

    monkeypatch.setattr(reading, "read_reply", broken_reader)
    later = utcnow() + timedelta(hours=1)
    for _ in range(inbox.MAX_READ_ATTEMPTS):
        assert replies.stale_items(db.session, now=later) == [item.id]
        with pytest.raises(TimeoutError):
            inbox.process_item(db.session, item.id, replies.models_for(app))
        db.session.rollback()

    assert inbox.process_item(db.session, item.id, replies.models_for(app)) == inbox.UNREADABLE
    assert len(calls) == inbox.MAX_READ_ATTEMPTS
    item = fresh_item(item.id)
    assert (item.state, item.label) == ("open", "UNCLEAR")
    assert "Could not be read automatically" in item.classify_note
    assert item.bucket == "urgent"
    assert replies.stale_items(db.session, now=later) == []


def test_an_email_given_in_a_reply_is_kept_on_the_lead_once(client, crew, desk):
    lead = texted_lead(desk, 1)
    item = reply_from(desk, mobile(1), "send me info at Bob.Smith@gmail.com")
    assert item.extracted["email"] == "bob.smith@gmail.com"
    first_text = item.inbound_id
    reply_from(desk, mobile(1), "did you get it? bob.smith@gmail.com")
    lead = fresh(lead)
    assert [(e.address, e.source) for e in lead.owner.emails] == [("bob.smith@gmail.com", "reply")]
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_id == lead.id, AuditEvent.action == "lead.email_from_reply"
        )
    ).all()
    assert len(events) == 1
    assert events[0].after["inbound_id"] == first_text
    login(client, crew.reviewer)
    page = client.get(f"/leads/{lead.id}").text
    assert 'bob.smith@gmail.com <span class="muted">· reply</span>' in page
    assert "Email bob.smith@gmail.com saved from the owner&#39;s reply" in page


def test_a_phone_given_in_a_reply_is_kept_on_the_lead_in_e164(client, crew, desk):
    lead = texted_lead(desk, 1)
    item = reply_from(desk, mobile(1), "Better to call my office line (512) 555-0188 after 3pm")
    lead = fresh(lead)
    given = [p for p in lead.owner.phones if p.source == "reply"]
    assert [(p.e164, p.kind) for p in given] == [("+15125550188", "other")]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "lead.phone_from_reply")
    ).one()
    assert event.entity_id == lead.id and event.after["inbound_id"] == item.inbound_id
    reply_from(desk, mobile(1), "again: 512-555-0188")
    assert len([p for p in fresh(lead).owner.phones if p.e164 == "+15125550188"]) == 1
    login(client, crew.reviewer)
    page = client.get(f"/leads/{lead.id}").text
    assert "(512) 555-0188" in page and "<td>reply</td>" in page


def test_an_opt_out_joining_a_read_item_keeps_the_bucket_its_priority_falls_in(client, crew, desk):
    texted_lead(desk, 1, score=40)
    item = reply_from(desk, mobile(1), YES)
    assert 100 <= item.priority < 150 and item.bucket == "high"
    stopped = reply_from(desk, mobile(1), "STOP")
    assert stopped.id == item.id and stopped.opt_out and stopped.priority == item.priority
    assert stopped.bucket == priority.bucket_for(stopped.priority)[0] == "high"
    login(client, crew.reviewer)
    page = client.get(f"/inbox/{item.id}").text
    assert f'{stopped.priority} <span class="bucket bucket-high">High</span>' in page


def _scored_for_a_skip_trace(lead_id: int) -> Lead:
    """The lead as scored before it was texted: no mobile known, so "skip trace"."""
    lead = db.session.get(Lead, lead_id)
    lead.quality_score, lead.recommended_action = 50, "skip_trace_required"
    db.session.commit()
    return lead


def test_a_stop_reply_makes_the_next_step_no_outreach(client, crew, desk):
    lead = _scored_for_a_skip_trace(texted_lead(desk, 1).id)
    reply_from(desk, mobile(1), "STOP")
    lead = fresh(lead)
    assert lead.status == "do_not_contact"
    assert lead.recommended_action == "no_outreach_do_not_contact"
    login(client, crew.reviewer)
    page = client.get(f"/leads/{lead.id}").text
    assert "<dt>Next step</dt><dd>No outreach: do not contact</dd>" in page
    assert "Skip trace" not in page[page.index("<dt>Next step</dt>") :][:80]


def test_a_deal_makes_the_next_step_work_the_deal(client, crew, desk):
    lead = _scored_for_a_skip_trace(texted_lead(desk, 1).id)
    item = reply_from(desk, mobile(1), YES)
    login(client, crew.operator)
    assert (
        client.post(
            f"/inbox/{item.id}/do/deal", data={"stage": stage_id(crew.team.id, "Discovery")}
        ).status_code
        == 200
    )
    lead = fresh(lead)
    assert (lead.status, lead.recommended_action) == ("deal", "work_the_deal")
    assert "<dt>Next step</dt><dd>Work the deal</dd>" in client.get(f"/leads/{lead.id}").text
    scoring.rescore_leads(db.session, lead.team_id, [lead.id])
    assert fresh(lead).recommended_action == "work_the_deal"  # a rescore keeps it


def test_reply_drafts_are_signed_by_the_sender_then_whoever_answers(crew, desk):
    item = open_item(desk, 1, "Who is this? How did you get my number?")
    lead = db.session.get(Lead, item.lead_id)

    def signed() -> str:
        answerer = drafting.answerer(db.session, item, lead)
        return drafting.prepare(db.session, item.conversation, lead, answerer).values["senderName"]

    # Nobody signs yet: blank, so the persona's fallback speaks ("a team that works ...").
    assert signed() == ""
    crew.manager.name = "Mia Chen"
    lead.assignee_id = crew.manager.id
    assert signed() == "Mia Chen"  # the lead's teammate
    crew.operator.name = "Sam Ortiz"
    item.assignee_id = crew.operator.id
    assert signed() == "Sam Ortiz"  # the item's assignee answers it
    desk.sender.sender_name = "Dana Reyes"
    assert signed() == "Dana Reyes"  # the number's own signing name comes first
    context = drafting.prepare(db.session, item.conversation, lead)
    assert context.sender_name == "Harbor Partners"  # the persona still knows the firm
