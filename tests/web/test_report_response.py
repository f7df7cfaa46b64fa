"""Reports > Response time: a known world of replies and answers, every figure checked on
the wall clock and in business hours (across a weekend and a night), the CSV export and
the `report` command, who may see it, and that another team's replies never count."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from console.extensions import db
from console.models import Conversation, InboundMessage, InboxItem, Message, Role
from console.models.base import set_clock_offset
from console.services.reports import pages, response
from console.services.reports.scope import ReportScope
from console.services.sending import policy
from tests import clock
from tests.clock import TEST_NOW
from tests.conftest import login

ZONE = "America/Chicago"  # UTC-6 in January
SCOPE_ARGS = {"since": "2026-01-01", "until": "2026-01-14"}
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
_numbers = itertools.count(100)


def at(day: int, hour: int, minute: int = 0, month: int = 1, year: int = 2026) -> datetime:
    """A UTC instant in January 2026 (Chicago is six hours behind)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def conversation(team_id: int) -> Conversation:
    """A conversation with a number of its own."""
    found = Conversation(team_id=team_id, e164=f"+1312555{next(_numbers):04d}")
    db.session.add(found)
    db.session.flush()
    return found


def reply(
    team_id: int,
    arrived: datetime,
    *,
    due: timedelta | None = HOUR,
    talk: Conversation | None = None,
    state: str = "open",
    resolution: str = "",
    resolved_by=None,
) -> InboxItem:
    """An owner's text and its inbox item, begun at `arrived`, due `due` later."""
    talk = talk or conversation(team_id)
    text = InboundMessage(
        team_id=team_id,
        conversation_id=talk.id,
        provider_sid=f"SM{next(_numbers):032d}",
        from_e164=talk.e164,
        body="Tell me more",
        received_at=arrived,
    )
    db.session.add(text)
    db.session.flush()
    item = InboxItem(
        team_id=team_id,
        conversation_id=talk.id,
        inbound_id=text.id,
        created_at=arrived,
        sla_due_at=arrived + due if due is not None else None,
        state=state,
        resolution=resolution,
        resolved_by_id=resolved_by.id if resolved_by else None,
        resolved_at=arrived + MIN if resolution else None,
    )
    db.session.add(item)
    db.session.flush()
    return item


def answer(item: InboxItem, when: datetime, person=None, kind: str = "reply") -> Message:
    """A text back to the item's number at `when`: a person's (approved by them) or, with
    no person, an automatic one (as inbox.send_reply writes them)."""
    sent = Message(
        team_id=item.team_id,
        kind=kind,
        conversation_id=item.conversation_id,
        to_e164=item.conversation.e164,
        body="Thanks, happy to talk",
        status="sent",
        approved_by_id=person.id if person else None,
        approved_at=when,
        sent_at=when,
    )
    db.session.add(sent)
    db.session.flush()
    return sent


def answered(team_id, arrived, later, person, *, due=HOUR, resolution="sent", resolver=None):
    """A reply answered `later` by `person`, closed by `resolver` (else the person)."""
    item = reply(
        team_id,
        arrived,
        due=due,
        state="done",
        resolution=resolution,
        resolved_by=resolver or person,
    )
    answer(item, arrived + later, person)
    return item


@pytest.fixture
def world(crew, outsider):
    """Harbor's replies of 1-14 January 2026, on Chicago's clock:

    A Mon 12th 9:00, answered 10 min later (due 15 min: met);
    B Mon 12th 10:00, answered 30 min later (due 1 h: met), after an answer on 31
      December to an earlier text in the same conversation (not B's);
    C Tue 13th 8:00, answered 2 h later by the manager from the deal page (due 1 h:
      missed), the item closed by the reviewer (converted);
    D Tue 13th 16:00, answered Wed 9:30 (due 4 h: missed): overnight;
    E Fri 9th 17:00, answered Mon 12th 9:30, an apology (due 24 h: missed): a weekend;
    F Wed 14th 12:00, still open; G Tue 13th 12:00, archived without an answer;
    left out: an opt-out, an automatic answer, a reply of 30 December, the outsider's.
    """
    team = crew.team
    team.settings = {**(team.settings or {}), "time_zone": ZONE}
    tid, reviewer, manager = team.id, crew.reviewer, crew.manager
    answered(tid, at(12, 15), 10 * MIN, reviewer, due=15 * MIN)  # A
    talk = conversation(tid)
    earlier = reply(
        tid, at(31, 15, month=12, year=2025), talk=talk, state="done", resolution="sent"
    )
    answer(earlier, at(31, 16, month=12, year=2025), reviewer)
    b = reply(tid, at(12, 16), talk=talk, state="done", resolution="sent", resolved_by=reviewer)
    answer(b, at(12, 16, 30), reviewer)
    answer(b, at(12, 17, 30), reviewer)  # a second answer changes nothing
    answered(tid, at(13, 14), 2 * HOUR, manager, resolution="converted", resolver=reviewer)  # C
    answered(tid, at(13, 22), timedelta(hours=17, minutes=30), reviewer, due=4 * HOUR)  # D
    e = reply(tid, at(9, 23), due=24 * HOUR, state="done", resolution="sent", resolved_by=reviewer)
    answer(e, at(12, 15, 30), reviewer, kind="farewell")
    reply(tid, at(14, 18))  # F
    reply(tid, at(13, 18), state="done", resolution="archived", resolved_by=reviewer)  # G
    reply(tid, at(13, 19), state="done", resolution="opted_out")
    auto = reply(tid, at(12, 19), state="done", resolution="auto_sent")
    answer(auto, at(12, 19, 1))
    old = reply(tid, at(30, 15, month=12, year=2025), state="done", resolution="sent")
    answer(old, at(30, 15, 5, month=12, year=2025), reviewer)
    answered(outsider.team.id, at(12, 15), 5 * MIN, outsider.reviewer)
    db.session.commit()
    return crew


def scope_of(crew) -> ReportScope:
    return ReportScope(crew.team.id, date(2026, 1, 1), date(2026, 1, 14), ZONE)


def built(crew):
    return pages.build(db.session, "response", scope_of(crew), TEST_NOW, {})


def business_hours(crew, on: bool) -> None:
    settings = policy.ReplySettings.of(crew.team)
    settings.response_business_hours = on
    settings.save(crew.team)
    db.session.commit()


def test_wall_clock_figures_agree_with_the_rows(world):
    report = built(world)
    assert report.table("summary").rows == [
        {
            "replies": 7,
            "answered": 5,
            "unanswered": 2,
            "median_seconds": 7200,
            "p90_seconds": 232200,
            "deadline_met": 2,
            "deadline_met_rate": 0.4,
        }
    ]
    histogram = report.table("histogram")
    assert [
        (r["bucket"], r["replies"], r["share"], r["deadline_met"], r["deadline_met_rate"])
        for r in histogram.rows
    ] == [
        ("0-15 min", 1, 0.2, 1, 1.0),
        ("15-60 min", 1, 0.2, 1, 1.0),
        ("1-4 h", 1, 0.2, 0, 0.0),
        ("4-24 h", 1, 0.2, 0, 0.0),
        ("24 h+", 1, 0.2, 0, 0.0),
    ]
    assert histogram.totals == {
        "bucket": "All answered",
        "replies": 5,
        "share": 1.0,
        "deadline_met": 2,
        "deadline_met_rate": 0.4,
    }
    assert report.charts[0].table == "histogram"
    assert report.charts[0].series == {"Replies": [1, 1, 1, 1, 1]}
    assert "every hour on the clock" in report.notes[0]


def test_reviewers_table_counts_what_each_person_did(world):
    reviewers = built(world).table("reviewers")
    assert reviewers.rows == [
        {
            "reviewer": "Manager of Harbor Partners",
            "handled": 0,
            "answered": 1,
            "median_seconds": 7200,
            "deadline_met_rate": 0.0,
        },
        {
            "reviewer": "Reviewer of Harbor Partners",
            "handled": 6,
            "answered": 4,
            "median_seconds": (1800 + 63000) / 2,
            "deadline_met_rate": 0.5,
        },
    ]
    assert reviewers.totals == {
        "reviewer": "Everyone",
        "handled": 6,
        "answered": 5,
        "median_seconds": 7200,
        "deadline_met_rate": 0.4,
    }


def test_business_hours_count_only_the_working_day(world):
    business_hours(world, True)
    report = built(world)
    summary = report.table("summary").rows[0]
    # A 600, B 1800, C 3600 (8:00 is before opening), D 5400 (16:00-17:00 and 9:00-9:30),
    # E 1800 (Friday 17:00 to Monday 9:30: the weekend counts nothing).
    assert (summary["median_seconds"], summary["p90_seconds"]) == (1800, 5400)
    assert summary["deadline_met"] == 2  # deadlines stay on the wall clock
    assert [
        (r["bucket"], r["replies"], r["deadline_met"]) for r in report.table("histogram").rows
    ] == [
        ("0-15 min", 1, 1),
        ("15-60 min", 2, 1),
        ("1-4 h", 2, 0),
        ("4-24 h", 0, 0),
        ("24 h+", 0, 0),
    ]
    assert "Monday to Friday, 9:00 am to 5:00 pm" in report.notes[0]


def test_business_seconds_across_a_weekend_and_a_night():
    friday_evening, monday = at(9, 22), at(12, 16)  # Fri 16:00, Mon 10:00 in Chicago
    assert response.business_seconds(friday_evening, monday, ZONE) == 2 * 3600
    assert response.business_seconds(at(13, 23), at(14, 14), ZONE) == 0  # 17:00 to 8:00
    assert response.business_seconds(at(12, 16), at(12, 15), ZONE) == 0


def test_bucket_edges_belong_to_the_bucket_they_start():
    assert [response.bucket_of(s) for s in (0, 899, 900, 3600, 14400, 86400)] == [
        "0-15 min",
        "0-15 min",
        "15-60 min",
        "1-4 h",
        "4-24 h",
        "24 h+",
    ]


def test_median_and_p90_of_even_counts():
    assert response.middle([1, 2, 3, 10]) == 2.5
    assert response.percentile([float(n) for n in range(1, 11)], 0.9) == 9
    assert response.percentile([], 0.9) is None


@pytest.fixture
def console_clock():
    set_clock_offset(clock.offset_seconds())
    yield
    set_clock_offset(0)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_read_the_page(client, world, console_clock, role):
    login(client, world.by_role(role))
    page = client.get("/reports/response", query_string=SCOPE_ARGS)
    assert page.status_code == 200
    assert "Response time" in page.text and "24 h+" in page.text
    assert "Reviewer of Harbor Partners" in page.text
    assert "Rival" not in page.text


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.REVIEWER])
def test_operators_and_reviewers_are_refused(client, world, role):
    login(client, world.by_role(role))
    assert client.get("/reports/response").status_code == 403
    assert client.get("/reports/response/histogram.csv").status_code == 403


def test_csv_exports_the_histogram(client, world, console_clock):
    login(client, world.manager)
    got = client.get("/reports/response/histogram.csv", query_string=SCOPE_ARGS)
    rows = list(csv.reader(io.StringIO(got.text)))
    assert rows[0] == ["bucket", "replies", "share", "deadline_met", "deadline_met_rate"]
    assert rows[1:] == [
        ["0-15 min", "1", "0.2000", "1", "1.0000"],
        ["15-60 min", "1", "0.2000", "1", "1.0000"],
        ["1-4 h", "1", "0.2000", "0", "0.0000"],
        ["4-24 h", "1", "0.2000", "0", "0.0000"],
        ["24 h+", "1", "0.2000", "0", "0.0000"],
    ]


def test_report_commands_write_reviewers_and_response_times(runner, world, console_clock):
    args = ["--team", world.team.name, "--since", "2026-01-01", "--until", "2026-01-14"]
    result = runner.invoke(args=["report", "reviewers", *args, "-o", "-"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [
        ["reviewer", "handled", "answered", "median_seconds", "deadline_met_rate"],
        ["Manager of Harbor Partners", "0", "1", "7200", "0.0000"],
        ["Reviewer of Harbor Partners", "6", "4", "32400", "0.5000"],
    ]
    result = runner.invoke(args=["report", "response-times", *args])
    assert result.exit_code == 0, result.output
    assert list(csv.reader(io.StringIO(result.stdout)))[5] == [
        "24 h+",
        "1",
        "0.2000",
        "0",
        "0.0000",
    ]


def test_another_teams_replies_never_count(world, outsider):
    theirs = ReportScope(outsider.team.id, date(2026, 1, 1), date(2026, 1, 14), ZONE)
    report = pages.build(db.session, "response", theirs, TEST_NOW, {})
    assert report.table("summary").rows[0]["replies"] == 1
    assert [r["reviewer"] for r in report.table("reviewers").rows] == ["Reviewer of Rival Capital"]


def test_the_setting_is_saved_by_admins_and_audited(client, crew):
    from console.models import AuditEvent

    login(client, crew.admin)
    form = client.get("/settings/replies")
    assert "Monday to Friday, 9:00 am to 5:00 pm" in form.text
    data = {
        "auto_send_min_confidence": "85",
        "auto_send_max_per_lead": "3",
        "ai_enabled": "y",
        "response_business_hours": "y",
    }
    for name, text in policy.REPLY_TEXT_DEFAULTS.items():
        data[name] = text
    saved = client.post("/settings/replies", data=data)
    assert saved.status_code == 302, saved.text
    db.session.expire_all()
    assert policy.ReplySettings.of(crew.team).response_business_hours is True
    event = db.session.query(AuditEvent).filter_by(action="replies.saved").one()
    assert event.before["response_business_hours"] is False
    assert event.after["response_business_hours"] is True
