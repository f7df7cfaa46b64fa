"""The review queue from the browser's side: who may review and approve, another team's
batches and texts, paging and filters, inline edits, variants, skips, approval, pause,
resume and cancel, counters, the CSV, escaping, and flags that change after drafting."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from flask import url_for
from sqlalchemy import func, select

from console.extensions import db
from console.models import Batch, Enrollment, Message, Role, Suppression
from console.models.campaigns import DEFAULT_SENDER_MPS
from console.services.campaigns import batches, queue_flags
from console.services.sending import pace, policy
from console.settings.forms import SenderForm
from tests.conftest import login, make_lead
from tests.web.campaign_helpers import (
    VARIANT_B,
    add_campaign,
    approve_all,
    audience_counts,
    create_campaign,
    draft_batch,
    generate_batch,
    lead_of,
    make_leads,
    make_template,
    messages_of,
    mobile,
    row_html,
    set_manager_limit,
    team_sender,
)


@pytest.fixture
def kit(app, crew):
    """Our team's opener (variants A and B) and sender."""
    return make_template(crew.team), team_sender(app, crew.team)


@pytest.fixture
def drafted(app, client, crew, kit):
    """Draft a batch as our operator: `drafted(count)` leads, a campaign over all of
    them, and its first batch drafted by the job; the client stays signed in."""
    template, sender = kit

    def draft(count: int = 3, **changes) -> Batch:
        make_leads(crew.team, count)
        login(client, crew.operator)
        campaign = create_campaign(client, template, sender, **changes)
        return draft_batch(client, app, campaign)

    return draft


@pytest.fixture
def theirs(app, outsider):
    """Another team's batch of two drafted texts."""
    make_leads(outsider.team, 2, start=900, name="Rival {n} Bakery")
    template = make_template(outsider.team, name="Rival opener")
    campaign = add_campaign(outsider.team, template, team_sender(app, outsider.team))
    return generate_batch(campaign)


def act(batch: Batch, action: str) -> str:
    """Where the queue posts to pause, resume or cancel a batch."""
    return url_for("campaigns.batch_action", batch_id=batch.id, action=action, _external=False)


def statuses(batch: Batch) -> list[str]:
    """The status of each of the batch's texts, in queue order."""
    return [m.status for m in messages_of(batch)]


def rows_on(page: str) -> int:
    """How many texts a queue page lists."""
    return len(re.findall(r'<tr id="message-\d+"', page))


def figures(fragment: str) -> dict[str, int]:
    """The counters fragment's figures by label."""
    return audience_counts(fragment)


# ------------------------------------------------------------------------------ roles


def test_reviewer_cannot_see_or_touch_the_queue(client, crew, kit):
    template, sender = kit
    make_leads(crew.team, 2)
    batch = generate_batch(add_campaign(crew.team, template, sender))
    first = messages_of(batch)[0]
    login(client, crew.reviewer)
    for path in (
        f"/campaigns/batches/{batch.id}",
        f"/campaigns/batches/{batch.id}/counters",
        f"/campaigns/batches/{batch.id}/messages.csv",
        f"/campaigns/messages/{first.id}",
        f"/campaigns/messages/{first.id}?edit=1",
    ):
        assert client.get(path).status_code == 403, path
    posts = [
        (f"/campaigns/batches/{batch.id}/approve", {"scope": "all"}),
        (act(batch, "pause"), {}),
        (act(batch, "cancel"), {}),
        (f"/campaigns/messages/{first.id}", {"action": "edit", "body": "Reviewer was here"}),
        (f"/campaigns/messages/{first.id}", {"action": "variant", "variant": "B"}),
        (f"/campaigns/messages/{first.id}", {"action": "skip"}),
        ("/campaigns/messages/measure", {"body": "hello"}),
    ]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 403, path
    db.session.expire_all()
    assert batch.status == "in_review"
    assert statuses(batch) == ["draft", "draft"]
    assert "Reviewer was here" not in messages_of(batch)[0].body
    assert messages_of(batch)[0].variant == "A"


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.MANAGER, Role.ADMIN])
def test_operators_and_above_open_the_queue(client, crew, kit, role):
    template, sender = kit
    make_leads(crew.team, 1)
    batch = generate_batch(add_campaign(crew.team, template, sender))
    login(client, crew.by_role(role))
    assert client.get(f"/campaigns/batches/{batch.id}").status_code == 200
    assert client.get(f"/campaigns/batches/{batch.id}/counters").status_code == 200
    row = client.get(f"/campaigns/messages/{messages_of(batch)[0].id}")
    assert row.status_code == 200


def test_operator_cannot_approve_a_batch_over_the_managers_limit(client, crew, drafted):
    set_manager_limit(crew.team, 2)
    batch = drafted(3)
    page = client.get(f"/campaigns/batches/{batch.id}").text
    assert "a manager approves it" in page
    assert "Approve all" not in page

    refused = client.post(
        f"/campaigns/batches/{batch.id}/approve", data={"scope": "all"}, follow_redirects=True
    )
    assert "Batches over 2 texts need a manager" in refused.text
    first = messages_of(batch)[0]
    client.post(
        f"/campaigns/batches/{batch.id}/approve",
        data={"scope": "selected", "message_id": first.id},
    )
    db.session.expire_all()
    assert statuses(batch) == ["draft"] * 3
    assert (batch.status, batch.approved_at, batch.approved_by_id) == ("in_review", None, None)


def test_manager_approves_a_batch_over_the_limit_and_is_recorded(app, crew, drafted):
    set_manager_limit(crew.team, 2)
    batch = drafted(3)
    manager = app.test_client()
    login(manager, crew.manager)
    assert "Approve all 3" in manager.get(f"/campaigns/batches/{batch.id}").text
    done = approve_all(manager, batch, follow_redirects=True)
    assert "3 texts approved" in done.text
    db.session.expire_all()
    assert batch.status == "approved"
    assert batch.approved_by_id == crew.manager.id
    assert batch.approved_at is not None
    for message in messages_of(batch):
        assert message.status == "approved"
        assert message.approved_by_id == crew.manager.id
        assert message.approved_at == batch.approved_at
        assert message.due_at is not None
    assert crew.manager.name in manager.get(f"/campaigns/batches/{batch.id}").text


def test_operator_approves_a_batch_at_the_limit(client, crew, drafted):
    set_manager_limit(crew.team, 3)
    batch = drafted(3)
    approve_all(client, batch)
    db.session.expire_all()
    assert statuses(batch) == ["approved"] * 3
    assert batch.approved_by_id == crew.operator.id


# -------------------------------------------------------------------------- isolation


def test_another_teams_batch_is_a_404_everywhere(client, crew, kit, theirs):
    login(client, crew.operator)
    for path in (
        f"/campaigns/batches/{theirs.id}",
        f"/campaigns/batches/{theirs.id}/counters",
        f"/campaigns/batches/{theirs.id}/messages.csv",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Rival" not in response.text
    approve = client.post(f"/campaigns/batches/{theirs.id}/approve", data={"scope": "all"})
    assert approve.status_code == 404
    for action in ("pause", "resume", "cancel"):
        assert client.post(act(theirs, action)).status_code == 404, action
    db.session.expire_all()
    assert theirs.status == "in_review"
    assert statuses(theirs) == ["draft", "draft"]


def test_another_teams_texts_are_a_404_and_stay_as_they_were(client, crew, kit, theirs):
    message = messages_of(theirs)[0]
    body = message.body
    login(client, crew.operator)
    for path in (f"/campaigns/messages/{message.id}", f"/campaigns/messages/{message.id}?edit=1"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Rival" not in response.text
    for data in (
        {"action": "edit", "body": "Hijacked text"},
        {"action": "variant", "variant": "B"},
        {"action": "skip"},
        {"action": "restore"},
    ):
        assert client.post(f"/campaigns/messages/{message.id}", data=data).status_code == 404
    db.session.expire_all()
    assert (message.body, message.variant, message.status, message.edited) == (
        body,
        "A",
        "draft",
        False,
    )


def test_approving_selected_texts_ignores_another_teams_ids(client, crew, drafted, theirs):
    batch = drafted(2)
    ours = messages_of(batch)[0]
    foreign = messages_of(theirs)[0]
    client.post(
        f"/campaigns/batches/{batch.id}/approve",
        data={"scope": "selected", "message_id": [ours.id, foreign.id]},
    )
    db.session.expire_all()
    assert ours.status == "approved"
    assert foreign.status == "draft"
    assert foreign.approved_by_id is None


def test_our_queue_never_shows_another_teams_texts(client, drafted, theirs):
    batch = drafted(2)
    page = client.get(f"/campaigns/batches/{batch.id}").text
    assert rows_on(page) == 2
    assert "Rival" not in page


# ------------------------------------------------------------------------------ queue


def test_queue_shows_fifty_texts_a_page(client, drafted):
    batch = drafted(55)
    url = f"/campaigns/batches/{batch.id}"
    first = client.get(url)
    assert rows_on(first.text) == 50
    assert "Page 1 of 2 · 55 texts" in first.text
    second = client.get(f"{url}?page=2")
    assert rows_on(second.text) == 5
    assert "Page 2 of 2" in second.text
    ids = set(re.findall(r'<tr id="message-(\d+)"', first.text)) | set(
        re.findall(r'<tr id="message-(\d+)"', second.text)
    )
    assert len(ids) == 55
    assert "Page 2 of 2" in client.get(f"{url}?page=9").text
    assert "Page 1 of 2" in client.get(f"{url}?page=0").text


def test_queue_pages_come_as_a_fragment_to_htmx(client, drafted):
    batch = drafted(55)
    response = client.get(f"/campaigns/batches/{batch.id}?page=2", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="queue"')
    assert rows_on(response.text) == 5
    assert "HX-Request" in response.headers.get("Vary", "")


def test_queue_filters_flagged_edited_and_skipped(client, drafted):
    batch = drafted(4)
    edited, skipped, flagged, plain = messages_of(batch)
    for message in messages_of(batch):
        message.flags = []
    db.session.get(Message, flagged.id).flags = [["voip", "VoIP number", "note"]]
    db.session.commit()
    client.post(
        f"/campaigns/messages/{edited.id}",
        data={"action": "edit", "body": "New words. Reply STOP to opt out"},
    )
    client.post(f"/campaigns/messages/{skipped.id}", data={"action": "skip"})

    def listed(filter_name: str) -> set[int]:
        page = client.get(f"/campaigns/batches/{batch.id}?filter={filter_name}").text
        return {int(i) for i in re.findall(r'<tr id="message-(\d+)"', page)}

    assert listed("") == {edited.id, skipped.id, flagged.id, plain.id}
    assert listed("flagged") == {flagged.id}
    assert listed("edited") == {edited.id}
    assert listed("skipped") == {skipped.id}
    assert listed("nonsense") == {edited.id, skipped.id, flagged.id, plain.id}
    assert (
        "No texts match this filter."
        in client.get(f"/campaigns/batches/{batch.id}?filter=delivered").text
    )


def test_drafted_texts_name_the_lead_and_their_tokens(client, crew, drafted):
    crew.operator.name = "Sam Ortiz"
    db.session.commit()
    batch = drafted(1)
    message = messages_of(batch)[0]
    # {senderName} is a person: the sender has no signing name, so the operator who drafted.
    assert message.body.startswith("Hi Dana, Sam Ortiz here.")
    assert message.body == message.rendered_body
    assert message.status == "draft"
    row = row_html(client.get(f"/campaigns/batches/{batch.id}").text, message.id)
    assert '<mark class="token"' in row
    assert "Lake 0 Plumbing" in row
    assert "Line type not checked" in row


def test_drafted_texts_are_signed_by_the_senders_signing_name(client, crew, kit, drafted):
    _, sender = kit
    sender.sender_name = "Dana Reyes"
    db.session.commit()
    message = messages_of(drafted(1))[0]
    assert message.body.startswith("Hi Dana, Dana Reyes here.")
    assert "Harbor Partners" not in message.body


def test_texts_nobody_signs_take_the_templates_fallback(app, crew, kit):
    template, sender = kit
    template.body = "Hi, {senderName|a buyer's advisor} here. Reply STOP to opt out"
    make_leads(crew.team, 1)
    db.session.commit()
    message = messages_of(generate_batch(add_campaign(crew.team, template, sender)))[0]
    assert message.body == "Hi, a buyer's advisor here. Reply STOP to opt out"


def test_inline_edit_measures_again_marks_edited_and_keeps_the_rendered_text(client, crew, drafted):
    batch = drafted(2)
    message = messages_of(batch)[0]
    rendered = message.rendered_body
    form = client.get(f"/campaigns/messages/{message.id}?edit=1")
    assert form.status_code == 200
    assert "<textarea" in form.text and "<html" not in form.text

    smart = "Hi Dana \u201cquick\u201d question \u2014 selling? Reply STOP to opt out"
    response = client.post(
        f"/campaigns/messages/{message.id}", data={"action": "edit", "body": smart}
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="message-{message.id}"')
    assert '<span class="badge">edited</span>' in response.text
    assert "UCS-2" in response.text
    db.session.expire_all()
    assert message.body == smart
    assert message.rendered_body == rendered
    assert message.edited is True
    assert message.edited_by_id == crew.operator.id
    assert (message.encoding, message.segments) == ("UCS-2", 1)
    assert "ucs2" in [flag[0] for flag in message.flags]

    long_text = "Plain words only. " * 12 + "Reply STOP to opt out"
    client.post(f"/campaigns/messages/{message.id}", data={"action": "edit", "body": long_text})
    db.session.expire_all()
    assert (message.encoding, message.segments) == ("GSM-7", 2)
    assert "ucs2" not in [flag[0] for flag in message.flags]
    assert message.rendered_body == rendered


@pytest.mark.parametrize(
    ("body", "error"),
    [("   ", "The text can&#39;t be empty."), ("x" * 1601, "1,600 is the most")],
)
def test_an_edit_that_cannot_be_sent_is_refused(client, drafted, body, error):
    batch = drafted(1)
    message = messages_of(batch)[0]
    before = message.body
    response = client.post(
        f"/campaigns/messages/{message.id}", data={"action": "edit", "body": body}
    )
    assert response.status_code == 422
    assert error in response.text
    assert "<textarea" in response.text
    db.session.expire_all()
    assert (message.body, message.edited) == (before, False)


def test_a_refused_edit_keeps_what_was_typed(client, drafted):
    batch = drafted(1)
    message = messages_of(batch)[0]
    typed = "Hi Dana, a long thought. " + "More words here. " * 100
    response = client.post(
        f"/campaigns/messages/{message.id}", data={"action": "edit", "body": typed}
    )
    assert response.status_code == 422
    assert "1,600 is the most" in response.text
    assert typed.strip() in response.text


def test_an_approved_text_cannot_be_edited_swapped_or_skipped(client, drafted):
    batch = drafted(1)
    message = messages_of(batch)[0]
    before = message.body
    approve_all(client, batch)
    response = client.post(
        f"/campaigns/messages/{message.id}", data={"action": "edit", "body": "Too late"}
    )
    assert response.status_code == 422
    assert "Only a draft that has not been approved can be edited." in response.text
    for data in ({"action": "variant", "variant": "B"}, {"action": "skip"}):
        assert client.post(f"/campaigns/messages/{message.id}", data=data).status_code == 422
    row = client.get(f"/campaigns/messages/{message.id}?edit=1").text
    assert "<textarea" not in row
    db.session.expire_all()
    assert (message.body, message.variant, message.status) == (before, "A", "approved")


def test_swapping_the_variant_renders_the_text_again(client, drafted):
    batch = drafted(1)
    message = messages_of(batch)[0]
    client.post(
        f"/campaigns/messages/{message.id}",
        data={"action": "edit", "body": "Mine. Reply STOP to opt out"},
    )
    response = client.post(
        f"/campaigns/messages/{message.id}", data={"action": "variant", "variant": "B"}
    )
    assert response.status_code == 200
    shown = re.sub(r"<[^>]+>", "", response.text)
    assert "Hello Dana! Any interest in selling Lake 0 Plumbing" in shown
    db.session.expire_all()
    assert message.variant == "B"
    assert message.body == message.rendered_body
    assert message.body.startswith("Hello Dana!")
    assert message.edited is False
    assert message.token_spans

    unknown = client.post(
        f"/campaigns/messages/{message.id}", data={"action": "variant", "variant": "Z"}
    )
    assert unknown.status_code == 422
    assert "The template has no variant Z." in unknown.text
    assert (
        client.post(f"/campaigns/messages/{message.id}", data={"action": "zap"}).status_code == 400
    )


def test_variants_share_the_batch_as_the_split_says(client, drafted):
    batch = drafted(4, split_a=50, split_b=50)
    assert sorted(m.variant for m in messages_of(batch)) == ["A", "A", "B", "B"]
    b_text = VARIANT_B.split("!")[0].replace("{firstName|there}", "Dana")
    assert all(m.body.startswith(b_text) for m in messages_of(batch) if m.variant == "B")


def test_skip_and_restore(client, drafted):
    batch = drafted(2)
    message = messages_of(batch)[0]
    skipped = client.post(f"/campaigns/messages/{message.id}", data={"action": "skip"})
    assert skipped.status_code == 200
    assert "Restore" in skipped.text
    assert 'name="message_id"' not in skipped.text  # a skipped text can't be selected
    db.session.expire_all()
    assert message.status == "skipped"
    assert figures(client.get(f"/campaigns/batches/{batch.id}/counters").text)["Skipped"] == 1

    restored = client.post(f"/campaigns/messages/{message.id}", data={"action": "restore"})
    assert restored.status_code == 200
    assert "Skip" in restored.text
    db.session.expire_all()
    assert message.status == "draft"


def test_skipped_texts_stay_out_when_the_batch_is_approved(client, drafted):
    batch = drafted(3)
    skipped = messages_of(batch)[1]
    client.post(f"/campaigns/messages/{skipped.id}", data={"action": "skip"})
    approve_all(client, batch)
    db.session.expire_all()
    assert statuses(batch) == ["approved", "skipped", "approved"]
    assert batch.status == "approved"


def test_approve_selected_approves_only_those(client, crew, drafted):
    batch = drafted(4)
    chosen = [messages_of(batch)[0].id, messages_of(batch)[2].id]
    response = client.post(
        f"/campaigns/batches/{batch.id}/approve",
        data={"scope": "selected", "message_id": chosen},
        follow_redirects=True,
    )
    assert "2 texts approved" in response.text
    db.session.expire_all()
    assert statuses(batch) == ["approved", "draft", "approved", "draft"]
    assert batch.status == "in_review"
    assert batch.approved_by_id == crew.operator.id
    approved = [m for m in messages_of(batch) if m.status == "approved"]
    assert {m.approved_by_id for m in approved} == {crew.operator.id}

    none_chosen = client.post(
        f"/campaigns/batches/{batch.id}/approve",
        data={"scope": "selected"},
        follow_redirects=True,
    )
    assert "Select the texts to approve first." in none_chosen.text
    assert statuses(batch) == ["approved", "draft", "approved", "draft"]


def test_approve_all_asks_with_the_count_before_approving(client, drafted):
    batch = drafted(3)
    page = client.get(f"/campaigns/batches/{batch.id}").text
    assert 'data-confirm="Approve all 3 texts in this batch?"' in page
    assert 'data-confirm-count="3"' in page

    # Without the browser's dialog (no script), the post only asks, on a page.
    asked = client.post(f"/campaigns/batches/{batch.id}/approve", data={"scope": "all"})
    assert asked.status_code == 200
    assert "Approve all 3 texts in this batch?" in asked.text
    assert '<input type="hidden" name="confirm" value="3">' in asked.text
    assert statuses(batch) == ["draft"] * 3

    # An answer for another count (a text was skipped meanwhile) asks again, afresh.
    client.post(f"/campaigns/messages/{messages_of(batch)[0].id}", data={"action": "skip"})
    stale = client.post(
        f"/campaigns/batches/{batch.id}/approve", data={"scope": "all", "confirm": "3"}
    )
    assert "Approve all 2 texts in this batch?" in stale.text
    assert statuses(batch) == ["skipped", "draft", "draft"]

    done = client.post(
        f"/campaigns/batches/{batch.id}/approve",
        data={"scope": "all", "confirm": "2"},
        follow_redirects=True,
    )
    assert "2 texts approved" in done.text
    assert statuses(batch) == ["skipped", "approved", "approved"]


def test_operator_is_told_the_batch_waits_for_a_manager(client, crew, drafted):
    set_manager_limit(crew.team, 2)
    batch = drafted(3)
    page = client.get(f"/campaigns/batches/{batch.id}").text
    assert "Waits for a manager." in page
    assert "This batch of 3 texts is over the team’s size" in page
    # Not even the question: the operator may not approve it at all.
    refused = client.post(
        f"/campaigns/batches/{batch.id}/approve", data={"scope": "all"}, follow_redirects=True
    )
    assert "Approve all 3 texts in this batch?" not in refused.text
    assert "need a manager" in refused.text


def test_managers_see_the_batches_that_wait_for_them(app, client, crew, drafted, outsider):
    set_manager_limit(crew.team, 2)
    batch = drafted(3)
    operator_home = client.get("/").text
    assert "await your approval" not in operator_home
    assert 'class="nav-count"' not in operator_home

    manager = app.test_client()
    login(manager, crew.manager)
    home = manager.get("/").text
    assert "1 batch awaits your approval" in home
    assert f'href="/campaigns/batches/{batch.id}"' in home
    assert re.search(r"Campaigns\s*<span class=\"nav-count\"[^>]*>1<", home)

    # Another team's manager sees none of it.
    rival = app.test_client()
    login(rival, outsider.manager)
    assert "awaits your approval" not in rival.get("/").text

    # Approved, it waits no more.
    approve_all(manager, batch)
    home = manager.get("/").text
    assert "awaits your approval" not in home
    assert 'class="nav-count"' not in home


def test_approve_all_leaves_nothing_in_draft(client, crew, drafted):
    batch = drafted(5)
    client.post(
        f"/campaigns/batches/{batch.id}/approve",
        data={"scope": "selected", "message_id": messages_of(batch)[0].id},
    )
    approve_all(client, batch)
    db.session.expire_all()
    assert statuses(batch) == ["approved"] * 5
    assert batch.status == "approved"
    assert batch.approved_by_id == crew.operator.id
    page = client.get(f"/campaigns/batches/{batch.id}").text
    assert 'id="approve-form"' not in page
    assert 'name="message_id"' not in page
    assert (
        figures(client.get(f"/campaigns/batches/{batch.id}/counters").text)["Waiting for review"]
        == 0
    )


def test_cancel_cancels_only_what_has_not_gone(client, drafted):
    batch = drafted(3)
    approve_all(client, batch)
    gone = messages_of(batch)[0]
    gone.status, gone.provider_sid, gone.provider_status = "sent", "SM" + "1" * 32, "queued"
    db.session.commit()
    response = client.post(act(batch, "cancel"), follow_redirects=True)
    assert "2 texts that had not gone will not" in response.text
    db.session.expire_all()
    assert batch.status == "cancelled"
    assert batch.finished_at is not None
    assert statuses(batch) == ["sent", "cancelled", "cancelled"]
    assert {m.blocked_reason for m in messages_of(batch)[1:]} == {"Batch cancelled"}
    again = client.post(act(batch, "cancel"), follow_redirects=True)
    assert "This batch can&#39;t be cancelled now." in again.text


def test_leads_of_a_cancelled_batch_can_be_drafted_again(app, client, crew, drafted):
    batch = drafted(2)
    client.post(act(batch, "cancel"))
    db.session.expire_all()
    assert statuses(batch) == ["cancelled", "cancelled"]
    again = draft_batch(client, app, batch.campaign)
    assert again.size == 2
    assert {m.lead_id for m in messages_of(again)} == {m.lead_id for m in messages_of(batch)}


def test_pause_and_resume(client, drafted):
    batch = drafted(2)
    approve_all(client, batch)
    paused = client.post(act(batch, "pause"), follow_redirects=True)
    assert "Batch paused." in paused.text
    db.session.expire_all()
    assert batch.status == "paused"
    assert "Resume sending" in client.get(f"/campaigns/batches/{batch.id}").text

    resumed = client.post(act(batch, "resume"), follow_redirects=True)
    assert "Batch sending." in resumed.text
    db.session.expire_all()
    assert batch.status == "sending"
    assert [entry["action"] for entry in batch.history] == ["approved", "paused", "resumed"]

    again = client.post(act(batch, "resume"), follow_redirects=True)
    assert "The batch is not paused." in again.text
    assert client.post(act(batch, "explode")).status_code == 404
    db.session.expire_all()
    assert batch.status == "sending"


def test_counters_fragment_counts_the_batch(client, drafted):
    batch = drafted(5)
    first, second, third, *_ = messages_of(batch)
    client.post(f"/campaigns/messages/{first.id}", data={"action": "skip"})
    client.post(
        f"/campaigns/batches/{batch.id}/approve",
        data={"scope": "selected", "message_id": [second.id, third.id]},
    )
    response = client.get(f"/campaigns/batches/{batch.id}/counters")
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<section id="batch-counters"')
    counts = figures(response.text)
    assert counts["Waiting for review"] == 2
    assert counts["Approved, to send"] + counts["Held (hours, caps)"] == 2
    assert counts["Skipped"] == 1
    assert counts["Sent, awaiting receipt"] == counts["Delivered"] == 0
    assert counts["Failed"] == counts["Blocked"] == 0
    assert "every 2s" in response.text  # approved texts wait: it polls


def test_csv_export_has_every_column_and_follows_the_filter(client, drafted):
    batch = drafted(3)
    edited = messages_of(batch)[1]
    client.post(
        f"/campaigns/messages/{edited.id}",
        data={"action": "edit", "body": "My words. Reply STOP to opt out"},
    )
    response = client.get(f"/campaigns/batches/{batch.id}/messages.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == queue_flags.MESSAGE_COLUMNS
    assert [int(r["message_id"]) for r in rows] == [m.id for m in messages_of(batch)]
    assert rows[0]["business"] == "Lake 0 Plumbing LLC"
    assert rows[0]["template"] == "Opener"
    assert rows[0]["to"] == "'" + mobile(0)  # cells starting with + are kept from formulas
    assert rows[1]["body"] == "My words. Reply STOP to opt out"
    assert rows[1]["edited"] == "yes"
    assert {r["status"] for r in rows} == {"draft"}
    only_edited = client.get(f"/campaigns/batches/{batch.id}/messages.csv?filter=edited")
    assert [r["message_id"] for r in csv.DictReader(io.StringIO(only_edited.text))] == [
        str(edited.id)
    ]


def test_what_people_typed_is_escaped_in_the_queue(client, crew, kit):
    template, sender = kit
    make_lead(crew.team, "<script>alert(1)</script>", owner_name="Eve Hacker", mobile=mobile(1))
    login(client, crew.operator)
    batch = draft_batch(client, client.application, create_campaign(client, template, sender))
    message = messages_of(batch)[0]
    assert "<script>alert(1)</script>" in message.body.lower()  # the token put it in the text
    edited = client.post(
        f"/campaigns/messages/{message.id}",
        data={
            "action": "edit",
            "body": "<b>Big</b> offer for <script>alert(1)</script> Reply STOP to opt out",
        },
    )
    for html in (
        edited.text,
        client.get(f"/campaigns/messages/{message.id}").text,
        client.get(f"/campaigns/messages/{message.id}?edit=1").text,
        client.get(f"/campaigns/batches/{batch.id}").text,
    ):
        assert "<script>alert(1)" not in html.lower()
        assert "<b>Big</b>" not in html
        assert "&lt;b&gt;Big&lt;/b&gt;" in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_number_suppressed_after_drafting_shows_opted_out(client, crew, drafted):
    batch = drafted(2)
    stopped, other = messages_of(batch)
    assert not any(flag[0] == "opted_out" for flag in stopped.flags)
    db.session.add(
        Suppression(team_id=crew.team.id, e164=stopped.to_e164, reason="opt_out", source="STOP")
    )
    db.session.commit()
    page = client.get(f"/campaigns/batches/{batch.id}").text
    row = row_html(page, stopped.id)
    assert '<span class="flag flag-block">Opted out (STOP)' in row
    assert "blocked-row" in row
    assert "Opted out" not in row_html(page, other.id)
    assert "Opted out (STOP)" in client.get(f"/campaigns/messages/{stopped.id}").text


def test_a_lead_marked_do_not_contact_after_drafting_is_flagged(client, crew, drafted):
    batch = drafted(1)
    message = messages_of(batch)[0]
    lead_of(message).status = "do_not_contact"
    db.session.commit()
    row = row_html(client.get(f"/campaigns/batches/{batch.id}").text, message.id)
    assert "The lead is marked do not contact." in row


def test_measure_counts_as_the_operator_types(client, drafted):
    drafted(1)
    response = client.post("/campaigns/messages/measure", data={"body": "hello \U0001f600"})
    assert response.status_code == 200
    assert "UCS-2" in response.text
    assert "1 segment" in response.text


def test_drafting_enrolls_each_lead_once(client, drafted):
    batch = drafted(3)
    enrolled = db.session.scalars(
        select(Enrollment.lead_id).where(Enrollment.campaign_id == batch.campaign_id)
    ).all()
    assert sorted(enrolled) == sorted(m.lead_id for m in messages_of(batch))
    assert db.session.scalar(select(func.count(Message.id))) == 3


# ------------------------------------------------------------------ expected duration


def _drafted_at(crew, kit, when: datetime, mps: float, count: int = 12) -> Batch:
    """A batch of `count` Texas texts drafted by the service at `when`, from a sender
    called Austin line that sends `mps` texts a second."""
    template, sender = kit
    sender.label, sender.mps = "Austin line", mps
    make_leads(crew.team, count)
    campaign = add_campaign(crew.team, template, sender, name="Timed push")
    batch = batches.create_batch(db.session, campaign, None)
    db.session.commit()
    return batches.generate(db.session, batch.id, now=when)


def test_batch_page_says_how_long_sending_takes_at_the_senders_rate(client, crew, kit):
    batch = _drafted_at(crew, kit, datetime(2030, 3, 6, 17, 0, tzinfo=UTC), mps=0.1)
    login(client, crew.operator)
    page = client.get(f"/campaigns/batches/{batch.id}")
    assert "About 2 minutes at 0.1 texts a second from Austin line." in page.text
    counters = client.get(f"/campaigns/batches/{batch.id}/counters")
    assert "About 2 minutes at 0.1 texts a second from Austin line." in counters.text


def test_batch_page_counts_texts_quiet_hours_hold_apart(client, crew, kit):
    batch = _drafted_at(crew, kit, datetime(2030, 3, 6, 4, 0, tzinfo=UTC), mps=4)  # 10pm TX
    login(client, crew.operator)
    page = client.get(f"/campaigns/batches/{batch.id}")
    assert "All 12 wait for their recipients&#39; texting hours." in page.text


def test_estimate_words_minutes_rate_sender_and_held_texts():
    estimate = batches.SendingEstimate(
        texts=1880, held=120, seconds=470, mps=4, sender_label="Austin line"
    )
    assert estimate.describe() == (
        "About 8 minutes at 4 texts a second from Austin line; "
        "120 more wait for their recipients' texting hours."
    )


def test_a_new_sender_allows_a_10dlc_numbers_rate_not_one_a_second(app, crew):
    config = {"TWILIO_SANDBOX": False, "TWILIO_FROM_NUMBER": "+15125550142"}
    sender = policy.ensure_default_sender(db.session, crew.team, config)
    assert sender.mps == DEFAULT_SENDER_MPS == 4.0
    assert SenderForm(meta={"csrf": False}).mps.data == DEFAULT_SENDER_MPS


# ------------------------------------------------------------------ when held texts go


def _approved_at(crew, kit, when: datetime, mps: float, monkeypatch, count: int = 12) -> Batch:
    """`_drafted_at`, approved at `when`, with the batch page's clock standing at `when`."""
    batch = _drafted_at(crew, kit, when, mps=mps, count=count)
    batches.approve(db.session, batch, crew.manager, now=when)
    db.session.commit()
    monkeypatch.setattr(pace, "utcnow", lambda: when)
    return batch


def test_held_batch_says_when_its_first_texts_go_and_when_all_are_sent(
    client, crew, kit, monkeypatch
):
    # Wednesday 10 pm in Texas (11 pm in New York, the team's zone): quiet hours.
    batch = _approved_at(crew, kit, datetime(2030, 3, 6, 4, 0, tzinfo=UTC), 0.1, monkeypatch)
    login(client, crew.operator)
    eta = "First texts go tomorrow at 10:00 am EST; all 12 expected sent by 10:02 am EST tomorrow."
    assert eta in client.get(f"/campaigns/batches/{batch.id}").text
    counters = client.get(f"/campaigns/batches/{batch.id}/counters").text
    assert counters.count(eta) == 1
    assert "The first texts are on their way to Twilio" not in counters


def test_held_batch_eta_is_in_the_viewers_own_zone(client, crew, kit, monkeypatch):
    batch = _approved_at(crew, kit, datetime(2030, 3, 6, 4, 0, tzinfo=UTC), 0.1, monkeypatch)
    crew.operator.time_zone = "Asia/Tokyo"  # already Thursday 1 pm there
    db.session.commit()
    login(client, crew.operator)
    page = client.get(f"/campaigns/batches/{batch.id}/counters").text
    assert "First texts go tomorrow at midnight" in page
    assert "all 12 expected sent by 12:02 am" in page


def test_batch_sending_in_its_hours_shows_no_eta(client, crew, kit, monkeypatch):
    # Wednesday noon in Texas.
    batch = _approved_at(crew, kit, datetime(2030, 3, 6, 18, 0, tzinfo=UTC), 4, monkeypatch)
    login(client, crew.operator)
    page = client.get(f"/campaigns/batches/{batch.id}/counters").text
    assert "expected sent by" not in page
    assert "The first texts are on their way to Twilio" in page
