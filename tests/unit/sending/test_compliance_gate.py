"""The compliance gate decides, in words, whether a text may go now and when it may:
state texting hours and holidays, opt-outs and the do-not-contact list, landlines,
closed leads, the per-recipient cap and the sender's daily cap."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from console import create_app
from console.config import TestConfig
from console.extensions import db
from console.models import Message, Phone, Sender, Suppression
from console.models.base import set_clock_offset
from console.services.sending.compliance import Gate, Recipient
from console.services.sending.policy import SendingSettings
from tests.conftest import make_team
from tests.sending_helpers import (
    CENTRAL,
    EASTERN,
    MOUNTAIN,
    WIDE_WINDOW,
    at_local,
    empty_tables,
    mobile,
)

# Weekdays of November 2026: the 14th is a Saturday, the 26th Thanksgiving.
SATURDAY, SUNDAY, MONDAY, TUESDAY = (date(2026, 11, d) for d in (14, 15, 16, 17))
THANKSGIVING = date(2026, 11, 26)


@pytest.fixture(scope="module")
def memory_console() -> Iterator[None]:
    """An in-memory SQLite console, its app context open for the module's tests."""
    app = create_app(TestConfig())
    with app.app_context():
        db.create_all()
        yield
        db.session.remove()


@pytest.fixture
def team(memory_console):
    """A team of its own on an otherwise empty console."""
    empty_tables()
    return make_team("Harbor Partners").team


def gate_for(team, **settings) -> Gate:
    """The team's gate with these sending settings (the wide window unless told)."""
    chosen = SendingSettings(**{**WIDE_WINDOW, **settings})
    return Gate(db.session, team.id, chosen)


def sender_of(team, daily_cap: int = 0) -> Sender:
    sender = Sender(
        team_id=team.id, label="Austin line", address="+15125550100", daily_cap=daily_cap
    )
    db.session.add(sender)
    db.session.commit()
    return sender


def sent_earlier(team, e164: str, *times: datetime, sender: Sender | None = None) -> None:
    """Texts that went to `e164` at these times."""
    for when in times:
        db.session.add(
            Message(
                team_id=team.id,
                to_e164=e164,
                body="Earlier text",
                status="sent",
                sent_at=when,
                sender_id=sender.id if sender else None,
            )
        )
    db.session.commit()


def in_words(reason: str) -> bool:
    """A sentence for an operator: capitalised, several words, no internal codes."""
    return (
        bool(reason) and reason[0].isupper() and " " in reason and not re.search(r"\w_\w", reason)
    )


# -- texting hours ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "local", "zone", "opens"),
    [
        # Texas: noon to 9 pm on Sundays.
        ("TX", (SUNDAY, 11, 59), CENTRAL, (SUNDAY, 12, 0)),
        # Rhode Island: 10 am-5 pm on Saturdays, nothing on Sundays.
        ("RI", (SATURDAY, 9, 30), EASTERN, (SATURDAY, 10, 0)),
        ("RI", (SATURDAY, 17, 30), EASTERN, (MONDAY, 9, 0)),
        # Utah: no Sundays.
        ("UT", (SUNDAY, 10, 0), MOUNTAIN, (MONDAY, 8, 0)),
        # Pennsylvania: no legal holidays.
        ("PA", (THANKSGIVING, 12, 0), EASTERN, (THANKSGIVING + timedelta(days=1), 8, 0)),
        # New York has no rule of its own: the federal 8 am.
        ("NY", (TUESDAY, 7, 59), EASTERN, (TUESDAY, 8, 0)),
        ("NY", (TUESDAY, 21, 0), EASTERN, (TUESDAY + timedelta(days=1), 8, 0)),
    ],
)
def test_text_outside_the_state_window_is_held_until_it_opens(team, state, local, zone, opens):
    when = at_local(*local, zone=zone)

    decision = gate_for(team).decide(Recipient(mobile(state, 111), state), None, when)

    assert not decision.allowed
    assert not decision.blocked
    assert decision.code == "quiet_hours"
    assert decision.next_allowed_at == at_local(*opens, zone=zone)
    assert in_words(decision.reason), decision.reason


@pytest.mark.parametrize(
    ("state", "local", "zone"),
    [
        ("TX", (SUNDAY, 12, 0), CENTRAL),
        ("RI", (SATURDAY, 10, 0), EASTERN),
        ("UT", (MONDAY, 8, 0), MOUNTAIN),
        ("PA", (THANKSGIVING + timedelta(days=1), 8, 0), EASTERN),
        ("NY", (TUESDAY, 8, 0), EASTERN),
        ("NY", (TUESDAY, 20, 59), EASTERN),
    ],
)
def test_text_at_the_minute_the_window_opens_is_allowed(team, state, local, zone):
    when = at_local(*local, zone=zone)

    decision = gate_for(team).decide(Recipient(mobile(state, 111), state), None, when)

    assert decision.allowed, decision.reason
    assert decision.reason == ""


def test_utah_sunday_waits_for_the_team_window_when_it_opens_later(team):
    gate = gate_for(team, window_start="09:00", window_end="20:00", window_days=[0, 1, 2, 3, 4, 5])

    decision = gate.decide(
        Recipient(mobile("UT", 111), "UT"), None, at_local(SUNDAY, 10, 0, MOUNTAIN)
    )

    assert decision.next_allowed_at == at_local(MONDAY, 9, 0, MOUNTAIN)


def test_reasons_name_the_rule_that_holds_the_text(team):
    gate = gate_for(team)

    def reason(state, local, zone):
        return gate.decide(
            Recipient(mobile(state, 111), state), None, at_local(*local, zone)
        ).reason

    assert "TX" in reason("TX", (SUNDAY, 11, 59), CENTRAL)
    assert "noon" in reason("TX", (SUNDAY, 11, 59), CENTRAL)
    assert "Sundays" in reason("UT", (SUNDAY, 10, 0), MOUNTAIN)
    assert "Thanksgiving" in reason("PA", (THANKSGIVING, 12, 0), EASTERN)
    assert "federal" in reason("NY", (TUESDAY, 7, 59), EASTERN)
    assert "7:59 am" in reason("NY", (TUESDAY, 7, 59), EASTERN)


def test_connecticut_area_code_without_a_state_follows_connecticut_hours(team):
    recipient = Recipient(mobile("CT", 111), state="")
    gate = gate_for(team)

    early = gate.decide(recipient, None, at_local(TUESDAY, 8, 30, EASTERN))
    open_ = gate.decide(recipient, None, at_local(TUESDAY, 9, 0, EASTERN))
    late = gate.decide(recipient, None, at_local(TUESDAY, 20, 0, EASTERN))

    assert early.next_allowed_at == at_local(TUESDAY, 9, 0, EASTERN)
    assert "CT" in early.reason and in_words(early.reason)
    assert open_.allowed
    assert not late.allowed and late.next_allowed_at == at_local(
        TUESDAY + timedelta(1), 9, 0, EASTERN
    )


# -- numbers and leads never to text ----------------------------------------------------


NOON = at_local(TUESDAY, 12, 0, CENTRAL)


def test_opted_out_number_is_blocked_for_good(team):
    number = mobile("TX", 111)
    db.session.add(Suppression(team_id=team.id, e164=number, reason="opt_out", source="STOP"))
    db.session.commit()

    decision = gate_for(team).decide(Recipient(number, "TX"), None, NOON)

    assert decision.blocked
    assert decision.next_allowed_at is None
    assert decision.code == "opted_out"
    assert "opted out" in decision.reason.lower()
    assert in_words(decision.reason)


def test_number_on_the_do_not_contact_list_is_blocked(team):
    number = mobile("TX", 112)
    db.session.add(Suppression(team_id=team.id, e164=number, reason="dnc", source="National DNC"))
    db.session.commit()

    decision = gate_for(team).decide(Recipient(number, "TX"), None, NOON)

    assert decision.blocked
    assert decision.code == "suppressed"
    assert "do-not-contact" in decision.reason
    assert in_words(decision.reason)


def test_suppression_of_another_team_does_not_block(team):
    other = make_team("Rival Capital").team
    number = mobile("TX", 113)
    db.session.add(Suppression(team_id=other.id, e164=number, reason="opt_out", source="STOP"))
    db.session.commit()

    assert gate_for(team).decide(Recipient(number, "TX"), None, NOON).allowed


def test_landline_is_blocked(team):
    number = mobile("TX", 114)
    db.session.add(Phone(team_id=team.id, e164=number, kind="office", line_type="landline"))
    db.session.commit()

    decision = gate_for(team).decide(Recipient(number, "TX"), None, NOON)

    assert decision.blocked
    assert decision.code == "not_textable"
    assert decision.reason.startswith("Landline")


def test_prefetched_gate_blocks_the_same_numbers(team):
    suppressed, landline, fine = (mobile("TX", n) for n in (115, 116, 117))
    db.session.add(Suppression(team_id=team.id, e164=suppressed, reason="opt_out", source="STOP"))
    db.session.add(Phone(team_id=team.id, e164=landline, kind="office", line_type="landline"))
    db.session.commit()
    gate = gate_for(team)
    gate.prefetch([suppressed, landline, fine])

    decided = {n: gate.decide(Recipient(n, "TX"), None, NOON) for n in (suppressed, landline, fine)}

    assert decided[suppressed].code == "opted_out"
    assert decided[landline].code == "not_textable"
    assert decided[fine].allowed


@pytest.mark.parametrize(
    ("status", "code"), [("do_not_contact", "opted_out"), ("not_interested", "lead_closed")]
)
def test_lead_marked_do_not_contact_or_closed_is_blocked(team, status, code):
    decision = gate_for(team).decide(Recipient(mobile("TX", 118), "TX", "", status), None, NOON)

    assert decision.blocked
    assert decision.code == code
    assert in_words(decision.reason)


# -- caps -------------------------------------------------------------------------------


def test_fourth_text_in_a_day_to_a_florida_number_waits_for_the_first_to_age_out(team):
    number = mobile("FL", 111)
    now = at_local(TUESDAY, 12, 0, EASTERN)
    first = now - timedelta(hours=20)
    sent_earlier(team, number, first, now - timedelta(hours=10), now - timedelta(hours=1))

    decision = gate_for(team).decide(Recipient(number, "FL"), None, now)

    assert not decision.allowed and not decision.blocked
    assert decision.code == "recipient_cap"
    assert decision.next_allowed_at == first + timedelta(hours=24)
    assert "3 texts in 24 hours" in decision.reason and "FL" in decision.reason


def test_third_text_to_a_florida_number_and_a_fourth_elsewhere_are_allowed(team):
    florida, texas = mobile("FL", 112), mobile("TX", 119)
    now = at_local(TUESDAY, 12, 0, EASTERN)
    sent_earlier(team, florida, now - timedelta(hours=5), now - timedelta(hours=1))
    sent_earlier(team, texas, *(now - timedelta(hours=h) for h in (1, 2, 3)))
    gate = gate_for(team)

    assert gate.decide(Recipient(florida, "FL"), None, now).allowed
    assert gate.decide(Recipient(texas, "TX"), None, now).allowed


def test_sender_past_its_daily_cap_is_held_until_midnight_utc(team):
    sender = sender_of(team, daily_cap=2)
    now = at_local(TUESDAY, 12, 0, CENTRAL)
    sent_earlier(team, mobile("TX", 120), now - timedelta(hours=2), sender=sender)
    sent_earlier(team, mobile("TX", 121), now - timedelta(hours=1), sender=sender)

    decision = gate_for(team).decide(Recipient(mobile("TX", 122), "TX"), sender, now)

    assert not decision.allowed and not decision.blocked
    assert decision.code == "sender_cap"
    assert decision.next_allowed_at == datetime(2026, 11, 18, tzinfo=UTC)
    assert decision.reason == "Austin line has sent its 2 texts for today."


def test_sender_cap_counts_texts_noted_by_the_same_gate(team):
    sender = sender_of(team, daily_cap=1)
    gate = gate_for(team)
    recipient = Recipient(mobile("TX", 123), "TX")

    assert gate.decide(recipient, sender, NOON).allowed
    gate.note_sent(sender)

    assert gate.decide(recipient, sender, NOON).code == "sender_cap"


@pytest.fixture
def test_clock() -> Iterator[Callable[[datetime], None]]:
    """Puts this process's clock at a chosen time, as a test's clock setting does."""

    def move_to(when: datetime) -> None:
        set_clock_offset((when - datetime.now(UTC)).total_seconds())

    yield move_to
    set_clock_offset(0)


def test_gate_reads_the_consoles_clock_when_no_time_is_given(team, test_clock):
    recipient = Recipient(mobile("NY", 111), "NY")

    test_clock(at_local(TUESDAY, 3, 0, zone=EASTERN))
    at_night = gate_for(team).decide(recipient, None)
    test_clock(at_local(TUESDAY, 12, 0, zone=EASTERN))
    at_noon = gate_for(team).decide(recipient, None)

    assert (at_night.allowed, at_night.code) == (False, "quiet_hours")
    assert at_night.next_allowed_at == at_local(TUESDAY, 8, 0, zone=EASTERN)
    assert at_noon.allowed, at_noon.reason


def test_prefetched_gate_counts_texts_of_the_last_day_on_the_consoles_clock(team, test_clock):
    number = mobile("FL", 113)
    now = at_local(TUESDAY, 12, 0, EASTERN)
    test_clock(now)
    sent_earlier(team, number, *(now - timedelta(hours=h) for h in (20, 10, 1)))
    gate = gate_for(team)
    gate.prefetch([number])

    decision = gate.decide(Recipient(number, "FL"), None, now)

    assert decision.code == "recipient_cap"
