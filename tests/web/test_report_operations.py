"""The Operations report: each alert's figure and its green, amber or red state from a
known world, the 30007 table by sender, the webhook table from failures the webhook
itself writes down, the links to the rows behind each alert, the CSV and the command,
who may see it, and that another team's rows never count."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta

import pytest
from twilio.request_validator import RequestValidator

from console.extensions import db
from console.models import (
    Campaign,
    Conversation,
    InboundMessage,
    InboxItem,
    Message,
    MessageEvent,
    Role,
    Sender,
    Team,
)
from console.models.base import utcnow
from console.services import webhook_log
from console.services.replies.reading import FELL_BACK
from console.services.reports import operations, pages
from console.services.reports.scope import ReportScope
from tests.clock import TEST_NOW
from tests.conftest import login, make_team

TOKEN = "tok"
BASE_URL = "https://console.example.com"
_n = itertools.count(1)
# Twilio's final status for a text's console status, once its callback came.
FINAL = {"delivered": "delivered", "failed": "undelivered"}


@pytest.fixture
def app_settings() -> dict:
    """Twilio's token and the public URL, so the webhooks can be called signed or not."""
    return {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE_URL}


# -- the world ------------------------------------------------------------------------


def scope_of(team: Team, now=TEST_NOW, **filters) -> ReportScope:
    """The last 30 days to `now`, in UTC."""
    return ReportScope(
        team_id=team.id,
        first_day=(now - timedelta(days=29)).date(),
        last_day=now.date(),
        zone="UTC",
        **filters,
    )


def sender_of(team: Team, label: str = "Austin line") -> Sender:
    sender = Sender(team_id=team.id, label=label, address=f"+1512555{next(_n):04d}")
    db.session.add(sender)
    db.session.commit()
    return sender


def campaign_of(team: Team, name: str = "Spring owners") -> Campaign:
    campaign = Campaign(team_id=team.id, name=name)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def texts(
    sender: Sender,
    count: int,
    *,
    at,
    status: str = "delivered",
    error_code: int | None = None,
    campaign: Campaign | None = None,
    callbacks: bool = False,
    went_out: bool = True,
    **values,
) -> list[Message]:
    """`count` texts from `sender` sent at `at` (or refused by Twilio then, `went_out`
    False); with `callbacks`, each has its delivery callback from the webhook."""
    rows = []
    for _ in range(count):
        n = next(_n)
        rows.append(
            Message(
                team_id=sender.team_id,
                sender_id=sender.id,
                campaign_id=campaign.id if campaign else None,
                to_e164=f"+1312555{n:04d}",
                body="Thinking of selling?",
                status=status,
                error_code=error_code,
                provider_sid=f"SM{n:032x}" if went_out else None,
                provider_status=(FINAL.get(status, status) if callbacks else "queued")
                if went_out
                else "",
                sent_at=at if went_out else None,
                status_at=at,
                **values,
            )
        )
    db.session.add_all(rows)
    db.session.flush()
    if callbacks:
        db.session.add_all(
            MessageEvent(message_id=m.id, provider_sid=m.provider_sid, status=m.status, at=at)
            for m in rows
        )
    db.session.commit()
    return rows


def inbound_texts(team: Team, count: int, *, at) -> None:
    """`count` owners' texts received at `at` (webhooks that went through)."""
    for _ in range(count):
        n = next(_n)
        db.session.add(
            InboundMessage(
                team_id=team.id,
                provider_sid=f"SM{n:032x}",
                from_e164=f"+1214555{n:04d}",
                received_at=at,
            )
        )
    db.session.commit()


def items(
    team: Team,
    count: int,
    *,
    created,
    state: str = "open",
    classified_by: str = "rules",
    note: str = "Read by the rules (no Anthropic key configured).",
    campaign: Campaign | None = None,
) -> list[InboxItem]:
    """`count` inbox items, each its own owner's first text at `created`, read then."""
    rows = []
    for _ in range(count):
        n = next(_n)
        e164 = f"+1469555{n:04d}"
        conversation = Conversation(team_id=team.id, e164=e164)
        text = InboundMessage(
            team_id=team.id, provider_sid=f"SM{n:032x}", from_e164=e164, received_at=created
        )
        db.session.add_all([conversation, text])
        db.session.flush()
        rows.append(
            InboxItem(
                team_id=team.id,
                conversation_id=conversation.id,
                inbound_id=text.id,
                campaign_id=campaign.id if campaign else None,
                state=state,
                label="POSITIVE",
                classified_by=classified_by,
                classify_note=note,
                created_at=created,
                ready_at=created if state != "processing" else None,
            )
        )
    db.session.add_all(rows)
    db.session.commit()
    return rows


def failures(team: Team, kind: str, reason: str, count: int, *, at) -> None:
    """Failed webhook requests as `webhook_log` writes them."""
    from console.models import AuditEvent

    for _ in range(count):
        db.session.add(
            AuditEvent(
                team_id=team.id,
                action=webhook_log.ACTION_PREFIX + reason,
                entity_type=webhook_log.ENTITY_PREFIX + kind,
                at=at,
            )
        )
    db.session.commit()


def build(team: Team, now=TEST_NOW, **filters):
    return operations.page(db.session, scope_of(team, now, **filters), now, {})


def alert(report, name: str) -> dict:
    return next(row for row in report.table("status").rows if row["alert"] == name)


# -- each alert at green, amber and red ------------------------------------------------

LEVELS = ("green", "amber", "red")
EARLIER = TEST_NOW - timedelta(days=2)


@pytest.mark.parametrize(("level", "failed"), list(zip(LEVELS, (2, 3, 6), strict=True)))
def test_webhook_failures_turn_amber_past_2_5_and_red_past_5_percent(crew, level, failed):
    sender = sender_of(crew.team)
    texts(sender, 60 - failed, at=EARLIER, callbacks=True)
    inbound_texts(crew.team, 40, at=EARLIER)
    failures(crew.team, "status", "signature", failed, at=EARLIER)
    row = alert(build(crew.team), "Webhook failures")
    assert (row["count"], row["of"]) == (failed, 100)
    assert row["rate"] == pytest.approx(failed / 100)
    assert row["state"] == level
    assert row["figure"] == f"{failed / 100:.1%} of 100 requests"
    assert (row["amber_over"], row["red_over"]) == ("2.5%", "5.0%")
    assert row["link"] == "#table-webhooks"


@pytest.mark.parametrize(("level", "failed"), list(zip(LEVELS, (1, 2, 3), strict=True)))
def test_classification_failures_turn_amber_past_5_and_red_past_10_percent(crew, level, failed):
    items(crew.team, 20 - failed, created=EARLIER)
    items(crew.team, failed - 1, created=EARLIER, note=f"Claude timed out; {FELL_BACK}.")
    items(crew.team, 1, created=EARLIER, classified_by="none", note="Could not be read")
    # Not read yet, or read before the range: not counted.
    items(crew.team, 2, created=EARLIER, state="processing")
    items(crew.team, 3, created=TEST_NOW - timedelta(days=40), classified_by="none")
    row = alert(build(crew.team), "Classification failures")
    assert (row["count"], row["of"], row["state"]) == (failed, 20, level)
    assert row["rate"] == pytest.approx(failed / 20)
    assert row["link"] == "/inbox?view=all&unread=1"


@pytest.mark.parametrize(("level", "failed"), list(zip(LEVELS, (2, 4, 5), strict=True)))
def test_send_failures_turn_amber_past_1_and_red_past_2_percent(crew, level, failed):
    sender = sender_of(crew.team)
    texts(sender, 200 - failed, at=EARLIER)
    texts(sender, failed - 1, at=EARLIER, status="failed", error_code=30003)
    texts(sender, 1, at=EARLIER, status="failed", error_code=21211, went_out=False)
    texts(sender, 7, at=TEST_NOW - timedelta(days=45), status="failed")  # before the range
    row = alert(build(crew.team), "Send failures")
    assert (row["count"], row["of"], row["state"]) == (failed, 200, level)
    assert row["rate"] == pytest.approx(failed / 200)


@pytest.mark.parametrize(("level", "due"), list(zip(LEVELS, (500, 501, 1001), strict=True)))
def test_queue_backlog_turns_amber_past_500_and_red_past_1000(crew, level, due):
    sender = sender_of(crew.team)
    texts(sender, due, at=None, status="approved", went_out=False, due_at=EARLIER)
    texts(
        sender, 9, at=None, status="approved", went_out=False, due_at=TEST_NOW + timedelta(hours=1)
    )
    texts(sender, 4, at=None, status="draft", went_out=False, due_at=EARLIER)
    row = alert(build(crew.team), "Queue backlog")
    assert (row["count"], row["state"]) == (due, level)
    assert row["figure"] == f"{due:,} texts due, not sent; the oldest due 2 days ago"


@pytest.mark.parametrize(("level", "hours"), list(zip(LEVELS, (1.5, 3, 5), strict=True)))
def test_human_response_turns_amber_past_2_hours_and_red_past_4(crew, level, hours):
    items(crew.team, 1, created=TEST_NOW - timedelta(hours=hours))
    items(crew.team, 2, created=TEST_NOW - timedelta(minutes=10), state="escalated")
    items(crew.team, 1, created=TEST_NOW - timedelta(hours=30), state="done")
    row = alert(build(crew.team), "Human response over 4 h")
    late = 1 if hours > 4 else 0
    assert (row["count"], row["of"], row["state"]) == (late, 3, level)
    assert row["link"] == "/inbox?waiting=4"


# -- every figure of a known world ----------------------------------------------------


def test_every_figure_agrees_with_the_rows_and_another_teams_never_count(crew, outsider):
    austin, round_rock = sender_of(crew.team), sender_of(crew.team, "Round Rock line")
    spring = campaign_of(crew.team)
    texts(austin, 90, at=EARLIER, campaign=spring, callbacks=True)
    texts(austin, 6, at=EARLIER, status="failed", error_code=30007, campaign=spring)
    texts(austin, 4, at=EARLIER, status="failed", error_code=30003, callbacks=True)
    texts(round_rock, 20, at=EARLIER)
    texts(round_rock, 2, at=EARLIER, status="failed", error_code=30007)
    texts(austin, 3, at=None, status="approved", went_out=False, due_at=EARLIER, campaign=spring)
    inbound_texts(crew.team, 6, at=EARLIER)
    failures(crew.team, "status", "signature", 2, at=EARLIER)
    failures(crew.team, "inbound", "refused", 1, at=EARLIER)
    failures(crew.team, "inbound", "error", 1, at=EARLIER)
    items(crew.team, 8, created=TEST_NOW - timedelta(hours=6), campaign=spring)
    items(crew.team, 2, created=TEST_NOW - timedelta(hours=1), classified_by="none")
    # The other team: a busy, failing world that must change nothing above.
    theirs = sender_of(outsider.team, "Rival line")
    texts(theirs, 50, at=EARLIER, status="failed", error_code=30007, callbacks=True)
    texts(theirs, 2000, at=None, status="approved", went_out=False, due_at=EARLIER)
    inbound_texts(outsider.team, 30, at=EARLIER)
    failures(outsider.team, "status", "error", 40, at=EARLIER)
    items(outsider.team, 5, created=TEST_NOW - timedelta(hours=9), classified_by="none")

    report = build(crew.team)
    status = {row["alert"]: row for row in report.table("status").rows}
    # 94 callbacks and 16 texts received (6, and the 10 the inbox items are about)
    # handled, 4 failed: 4 of 114.
    assert [status["Webhook failures"][k] for k in ("count", "of", "state")] == [4, 114, "amber"]
    assert [status["Classification failures"][k] for k in ("count", "of", "state")] == [
        2,
        10,
        "red",
    ]
    # 122 texts, 12 failed (9.8%).
    assert [status["Send failures"][k] for k in ("count", "of", "state")] == [12, 122, "red"]
    assert [status["Queue backlog"][k] for k in ("count", "state")] == [3, "green"]
    assert [status["Human response over 4 h"][k] for k in ("count", "of", "state")] == [
        8,
        10,
        "red",
    ]
    assert status["Human response over 4 h"]["figure"] == (
        "8 of 10 owners waiting over 4 h; the longest has waited 6 h"
    )
    assert report.table("status").totals == {"alert": "1 green, 1 amber, 3 red"}

    senders = report.table("senders_30007")
    assert [
        (r["sender"], r["sent"], r["failed"], r["filtered"], r["state"]) for r in senders.rows
    ] == [("Austin line", 100, 10, 6, "red"), ("Round Rock line", 22, 2, 2, "")]
    assert senders.rows[0]["filtered_rate"] == pytest.approx(0.06)
    assert senders.rows[1]["filtered_rate"] == pytest.approx(2 / 22)
    assert senders.totals["sent"] == 122
    assert (senders.totals["failed"], senders.totals["filtered"]) == (12, 8)
    assert senders.totals["filtered_rate"] == pytest.approx(8 / 122)
    assert senders.totals["state"] == "red"

    webhooks = report.table("webhooks")
    assert [
        (r["kind"], r["received"], r["handled"], r["signature"], r["refused"], r["error"])
        for r in webhooks.rows
    ] == [("Delivery callbacks", 96, 94, 2, 0, 0), ("Inbound texts", 18, 16, 0, 1, 1)]
    assert webhooks.totals["received"] == 114
    assert webhooks.totals["failed"] == 4
    assert webhooks.totals["failure_rate"] == pytest.approx(4 / 114)

    # The campaign filter keeps to the campaign's texts and items (webhooks stay team-wide).
    spring_only = build(crew.team, campaign_id=spring.id)
    only = {row["alert"]: row for row in spring_only.table("status").rows}
    assert [only["Send failures"][k] for k in ("count", "of")] == [6, 96]
    assert [only["Human response over 4 h"][k] for k in ("count", "of")] == [8, 8]
    assert only["Queue backlog"]["count"] == 3
    assert only["Webhook failures"]["of"] == 114


def test_send_failures_link_the_batch_with_most_failed_texts(crew):
    from console.models import Batch

    sender, spring = sender_of(crew.team), campaign_of(crew.team)
    first, second = (Batch(team_id=crew.team.id, campaign_id=spring.id) for _ in range(2))
    db.session.add_all([first, second])
    db.session.commit()
    texts(sender, 1, at=EARLIER, status="failed", batch_id=first.id)
    texts(sender, 2, at=EARLIER, status="failed", batch_id=second.id)
    texts(sender, 5, at=EARLIER, batch_id=first.id)
    row = alert(build(crew.team), "Send failures")
    assert row["link"] == f"/campaigns/batches/{second.id}?filter=failed"
    assert alert(build(crew.team, campaign_id=spring.id + 1), "Send failures")["link"] == (
        "/campaigns/"
    )


def test_a_sender_with_too_few_texts_is_not_rated(crew):
    sender = sender_of(crew.team)
    texts(sender, 3, at=EARLIER)
    texts(sender, 1, at=EARLIER, status="failed", error_code=30007)
    (row,) = build(crew.team).table("senders_30007").rows
    assert (row["sent"], row["filtered"], row["state"]) == (4, 1, "")


# -- failed webhooks are written down by the webhook itself -----------------------------


def signed(path: str, form: dict) -> dict:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(BASE_URL + path, form)}


def test_refused_webhooks_are_counted_for_the_team_they_name(client, crew, outsider):
    sender = sender_of(crew.team)
    (text,) = texts(sender, 1, at=utcnow() - timedelta(minutes=5), status="sent")
    status_form = {"MessageSid": text.provider_sid, "MessageStatus": "delivered"}
    assert client.post("/webhooks/twilio/status", data=status_form).status_code == 403
    bad = {**status_form, "MessageStatus": "x" * 40}
    path = "/webhooks/twilio/status"
    assert client.post(path, data=bad, headers=signed(path, bad)).status_code == 400
    assert client.post(path, data=status_form, headers=signed(path, status_form)).status_code == 204
    sms = {"MessageSid": "SM" + "f" * 32, "From": "+13125550111", "To": sender.address}
    assert client.post("/webhooks/twilio/sms", data=sms).status_code == 403
    # Naming no team's number or text: nobody's failure.
    stranger = {**sms, "To": "+19995550000"}
    assert client.post("/webhooks/twilio/sms", data=stranger).status_code == 403

    now = utcnow()
    webhooks = operations.page(db.session, scope_of(crew.team, now), now, {}).table("webhooks")
    assert [(r["kind"], r["handled"], r["signature"], r["refused"]) for r in webhooks.rows] == [
        ("Delivery callbacks", 1, 1, 1),
        ("Inbound texts", 0, 1, 0),
    ]
    theirs = operations.page(db.session, scope_of(outsider.team, now), now, {})
    assert theirs.table("webhooks").totals["received"] == 0


# -- the page, its links, the CSV and the command -------------------------------------


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.REVIEWER])
def test_operators_and_reviewers_are_refused(client, crew, role):
    login(client, crew.by_role(role))
    assert client.get("/reports/operations").status_code == 403
    assert client.get("/reports/operations/status.csv").status_code == 403


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_read_the_page(client, crew, outsider, role):
    sender = sender_of(crew.team)
    now = utcnow()
    texts(sender, 50, at=now - timedelta(hours=1))
    texts(sender, 2, at=now - timedelta(hours=1), status="failed", error_code=30007)
    texts(sender_of(outsider.team), 70, at=now - timedelta(hours=1), status="failed")
    login(client, crew.by_role(role))
    page = client.get("/reports/operations")
    assert page.status_code == 200
    assert "3.8% of 52 texts" in page.text
    assert "Carrier filtering (30007) by sender" in page.text
    assert 'href="/settings/sending"' in page.text


def test_the_csv_and_the_command_write_the_status_table(client, runner, crew):
    sender = sender_of(crew.team)
    texts(sender, 99, at=utcnow() - timedelta(hours=1))
    texts(sender, 1, at=utcnow() - timedelta(hours=1), status="failed")
    login(client, crew.manager)
    exported = client.get("/reports/operations/status.csv")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["alert", "state", "figure", "count", "of", "rate", "amber_over", "red_over"]
    assert rows[3] == [
        "Send failures",
        "green",
        "1.0% of 100 texts",
        "1",
        "100",
        "0.0100",
        "1.0%",
        "2.0%",
    ]
    result = runner.invoke(args=["report", "operations", "--team", crew.team.name, "-o", "-"])
    assert result.exit_code == 0, result.output
    assert "Send failures,green,1.0% of 100 texts,1,100,0.0100,1.0%,2.0%" in result.output
    assert pages.COMMANDS["operations"] == ("operations", "status")


def test_the_links_open_exactly_the_rows_behind_the_alerts(client, crew, outsider):
    now = utcnow()
    late = items(crew.team, 2, created=now - timedelta(hours=5))
    items(crew.team, 1, created=now - timedelta(hours=1))
    failed = items(crew.team, 1, created=now - timedelta(hours=1), classified_by="none")
    items(outsider.team, 3, created=now - timedelta(hours=7), classified_by="none")
    login(client, crew.manager)
    report = operations.page(db.session, scope_of(crew.team, now), now, {})
    waiting = client.get(alert(report, "Human response over 4 h")["link"])
    unread = client.get(alert(report, "Classification failures")["link"])
    assert waiting.status_code == unread.status_code == 200
    shown = {int(i) for i in _item_ids(waiting.text)}
    assert shown == {item.id for item in late}
    assert {int(i) for i in _item_ids(unread.text)} == {failed[0].id}
    assert "Waiting over 4 h" in waiting.text and "Reading failed" in unread.text


def _item_ids(page: str) -> list[str]:
    import re

    return re.findall(r'data-item="(\d+)"', page)


def test_other_teams_rows_never_count(crew, outsider):
    now = utcnow()
    items(outsider.team, 4, created=now - timedelta(hours=8))
    texts(sender_of(outsider.team), 30, at=now - timedelta(hours=1), status="failed")
    report = operations.page(db.session, scope_of(crew.team, now), now, {})
    assert [row["state"] for row in report.table("status").rows] == ["green"] * 5
    assert [row["count"] for row in report.table("status").rows] == [0, 0, 0, 0, 0]
    other = make_team("Third Capital")
    assert (
        operations.page(db.session, scope_of(other.team, now), now, {}).table("senders_30007").rows
        == []
    )


# -- the benchmark's seeding cannot rot -------------------------------------------------


def test_the_benchmark_seeds_a_tiny_world_every_report_page_reads(client):
    from tests.bench import reports as bench
    from tests.conftest import FAST_HASH

    sizes = bench.Sizes(texts=200, leads=60, replies=20, deals=10)
    world = bench.seed_world(db.session, sizes, FAST_HASH)
    assert world.counts["messages"] == 200
    assert world.counts["inbox_items"] == world.counts["inbound_messages"] == 20
    assert world.counts["lead_sources"] == 60
    login_form = {"email": world.manager_email, "password": bench.seed.PASSWORD}
    assert client.post("/login", data=login_form).status_code == 302
    for _label, path in bench.report_paths(world.campaign_ids[0]):
        assert client.get(path).status_code == 200, path
    now = utcnow()
    report = operations.page(db.session, scope_of_id(world.team_id, now), now, {})
    sent = report.table("senders_30007").totals["sent"]
    assert 0 < sent <= 200


def scope_of_id(team_id: int, now) -> ReportScope:
    return ReportScope(
        team_id=team_id,
        first_day=(now - timedelta(days=29)).date(),
        last_day=now.date(),
        zone="UTC",
    )
