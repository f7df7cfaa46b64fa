"""Settings > Sending from the browser's side: who may read and change it, another
team's senders, the sender, rules and texting-hours forms, and what they store."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from console.extensions import db
from console.models import AuditEvent, Message, Role, Sender, Team
from console.models.base import utcnow
from console.services.sending import policy, quiethours, senders
from console.services.sending.delivery import FILTERED_CODE
from tests.conftest import login
from tests.fakeservers import TwilioServer

SERVICE_SID = "MG" + "0123456789abcdef" * 2


def add_sender(team: Team, label: str = "Main line", address: str = "+15125550142") -> Sender:
    """A committed phone-number sender of `team`."""
    sender = Sender(team_id=team.id, label=label, kind="number", address=address, mps=1.0)
    db.session.add(sender)
    db.session.commit()
    return sender


def sender_form(**changes: str) -> dict[str, str]:
    """A valid add-sender form, with `changes` over it."""
    return {
        "label": "Austin line",
        "kind": "number",
        "address": "(512) 555-0177",
        "mps": "1",
        "daily_cap": "2000",
        **changes,
    }


def rules_form(**changes) -> dict:
    """A valid sending-rules form, with `changes` over it."""
    return {
        "window_start": "10:00",
        "window_end": "18:30",
        "window_days": ["0", "2", "4"],
        "opt_out_wording": "Text STOP to unsubscribe",
        "manager_approval_over": "250",
        "auto_approve_followups": "y",
        "filtering_pause_percent": "2.5",
        "recipient_daily_cap": "2",
        "segment_price": "0.0095",
        **changes,
    }


def hours_form(**changes: str) -> dict[str, str]:
    """Texas's row as shipped, in the form's fields, with `changes` over it."""
    return {
        "start": "09:00",
        "end": "21:00",
        "saturday_start": "",
        "saturday_end": "",
        "sunday_start": "12:00",
        "sunday_end": "21:00",
        "per_24h_cap": "",
        "note": "texts count as calls (SB 140, 2025)",
        **changes,
    }


def sent_message(sender: Sender, *, error_code: int | None = None, ago=timedelta()) -> Message:
    """A text `sender` sent to a fictional number `ago` before now."""
    message = Message(
        team_id=sender.team_id,
        sender_id=sender.id,
        to_e164="+15125550123",
        body="Hello",
        status="failed" if error_code else "delivered",
        error_code=error_code,
        sent_at=utcnow() - ago,
    )
    db.session.add(message)
    return message


def saved_settings(team: Team) -> policy.SendingSettings:
    """The team's sending settings as stored now."""
    db.session.expire_all()
    return policy.SendingSettings.of(db.session.get(Team, team.id))


# ------------------------------------------------------------------------------ roles


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.ADMIN, 200), (Role.MANAGER, 200), (Role.OPERATOR, 403), (Role.REVIEWER, 403)],
)
def test_sending_page_is_for_managers_and_admins(client, crew, role, expected):
    login(client, crew.by_role(role))
    assert client.get("/settings/sending").status_code == expected


def test_sending_is_a_settings_tab_for_managers(client, crew):
    login(client, crew.manager)
    assert 'href="/settings/sending"' in client.get("/settings/").text


def test_manager_reads_but_sees_no_controls(client, crew):
    sender = add_sender(crew.team)
    login(client, crew.manager)
    page = client.get("/settings/sending").text
    assert "Main line" in page and "Texting hours by state" in page
    assert "Add sender" not in page
    assert f"/settings/senders/{sender.id}/pause" not in page
    assert "/settings/sending/hours/TX" not in page
    assert "Only admins change the sending rules." in page


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/settings/sending/rules", rules_form()),
        ("/settings/senders", sender_form()),
        ("/settings/senders/{sender}", sender_form()),
        ("/settings/senders/{sender}/pause", {}),
        ("/settings/senders/{sender}/resume", {}),
        ("/settings/senders/{sender}/delete", {}),
        ("/settings/sending/hours/TX", hours_form()),
        ("/settings/sending/hours/TX/reset", {}),
    ],
)
@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR])
def test_only_admins_change_sending(client, crew, role, path, data):
    sender = add_sender(crew.team)
    login(client, crew.by_role(role))
    response = client.post(path.format(sender=sender.id), data=data)
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Sender.id))) == 1
    assert db.session.get(Sender, sender.id).paused is False
    assert saved_settings(crew.team) == policy.SendingSettings()


@pytest.mark.parametrize("path", ["/settings/senders/{sender}", "/settings/sending/hours/TX"])
def test_edit_pages_are_for_admins(client, crew, path):
    sender = add_sender(crew.team)
    login(client, crew.manager)
    assert client.get(path.format(sender=sender.id)).status_code == 403


# -------------------------------------------------------------------------- isolation


def test_another_teams_sender_is_a_404_everywhere(client, crew, outsider):
    theirs = add_sender(outsider.team, "Rival secret line", "+15125550188")
    login(client, crew.admin)
    assert client.get(f"/settings/senders/{theirs.id}").status_code == 404
    for action in ("", "/pause", "/resume", "/delete"):
        response = client.post(f"/settings/senders/{theirs.id}{action}", data=sender_form())
        assert response.status_code == 404, action
    db.session.expire_all()
    kept = db.session.get(Sender, theirs.id)
    assert (kept.label, kept.paused) == ("Rival secret line", False)
    assert "Rival secret line" not in client.get("/settings/sending").text


# A number or service belongs to one team console-wide: replies are routed by it.


def refused_as_unavailable(response, address: str) -> bool:
    """The add or edit was refused with the neutral words that name no team."""
    neutral = str(escape(senders.NOT_AVAILABLE.format(address=address)))
    return response.status_code == 400 and neutral in response.text


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        ("number", "(512) 555-0177", "+15125550177"),
        ("messaging_service", "MG" + SERVICE_SID[2:].upper(), SERVICE_SID),
    ],
)
def test_an_address_another_team_has_is_refused_without_naming_the_team(
    client, crew, outsider, kind, typed, stored
):
    theirs = Sender(team_id=outsider.team.id, label="Rival secret line", kind=kind, address=stored)
    db.session.add(theirs)
    db.session.commit()
    login(client, crew.admin)
    response = client.post("/settings/senders", data=sender_form(kind=kind, address=typed))
    assert refused_as_unavailable(response, stored)
    assert "Rival" not in response.text
    assert policy.team_senders(db.session, crew.team.id) == []


def test_readdressing_a_sender_to_another_teams_number_is_refused(client, crew, outsider):
    add_sender(outsider.team, address="+15125550177")
    ours = add_sender(crew.team)
    login(client, crew.admin)
    response = client.post(f"/settings/senders/{ours.id}", data=sender_form())
    assert refused_as_unavailable(response, "+15125550177")
    db.session.expire_all()
    assert db.session.get(Sender, ours.id).address == "+15125550142"


def test_the_schema_keeps_one_team_per_address(app, crew, outsider):
    add_sender(outsider.team, address="+15125550177")
    db.session.add(Sender(team_id=crew.team.id, label="Copy", address="+15125550177"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_an_address_taken_between_the_check_and_the_save_is_refused(app, crew, outsider):
    mine = senders.add_sender(db.session, crew.team.id, **sender_values())
    db.session.commit()
    # Another request's check passed before this row was written: the index decides.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(senders, "_check_available", lambda *args: None)
        with pytest.raises(senders.SenderProblem, match="no other team uses"):
            senders.add_sender(db.session, outsider.team.id, **sender_values())
    db.session.rollback()
    assert [s.id for s in db.session.scalars(select(Sender))] == [mine.id]


def sender_values(**changes) -> dict:
    """The add-sender service's arguments for the number `sender_form` adds."""
    values = {"label": "Austin line", "kind": "number", "address": "+15125550177", "mps": 1.0}
    return {"daily_cap": 0, **values, **changes}


def test_each_sandbox_team_gets_a_fictional_number_of_its_own(app, crew, outsider):
    config = {"TWILIO_SANDBOX": True}
    first = policy.ensure_default_sender(db.session, crew.team, config)
    second = policy.ensure_default_sender(db.session, outsider.team, config)
    assert first.address == policy.SANDBOX_NUMBER
    assert second.address != first.address and second.sandbox
    assert second.address in set(itertools.islice(policy.sandbox_numbers(), 200))


@pytest.mark.parametrize("named", ["", "rival-capital", "Rival Capital"])
def test_the_environments_number_belongs_to_one_team_only(app, crew, outsider, named):
    config = {
        "TWILIO_SANDBOX": False,
        "TWILIO_FROM_NUMBER": "+15125550142",
        "TWILIO_DEFAULT_SENDER_TEAM": named,
    }
    owner, other = (outsider, crew) if named else (crew, outsider)
    assert policy.ensure_default_sender(db.session, other.team, config) is None
    sender = policy.ensure_default_sender(db.session, owner.team, config)
    assert (sender.team_id, sender.address) == (owner.team.id, "+15125550142")
    assert policy.ensure_default_sender(db.session, other.team, config) is None
    assert db.session.scalar(select(func.count(Sender.id))) == 1


def test_the_environments_service_belongs_to_the_first_team(app, crew, outsider):
    config = {"TWILIO_SANDBOX": False, "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID}
    sender = policy.ensure_default_sender(db.session, crew.team, config)
    assert (sender.kind, sender.address) == ("messaging_service", SERVICE_SID)
    assert policy.ensure_default_sender(db.session, outsider.team, config) is None


# With real Twilio the console's account must hold the number or service.

ACCOUNT_SID = "AC" + "3" * 32
AUTH_TOKEN = "sending-settings-token"
HELD_NUMBER = "+15125550177"
HELD_SERVICE = "MG" + "c" * 32


@pytest.fixture
def twilio(app) -> Iterator[TwilioServer]:
    """The console with Twilio credentials, its SDK pointed at a local Twilio whose
    account holds HELD_NUMBER and HELD_SERVICE."""
    server = TwilioServer(
        ACCOUNT_SID, AUTH_TOKEN, incoming_numbers=[HELD_NUMBER], services=[HELD_SERVICE]
    )
    with server:
        app.config.update(
            TWILIO_SANDBOX=False,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_API_BASE_URL=server.url,
        )
        yield server


@pytest.mark.parametrize(
    ("kind", "address"), [("number", "(512) 555-0177"), ("messaging_service", HELD_SERVICE)]
)
def test_with_twilio_an_address_the_account_holds_is_added(client, crew, twilio, kind, address):
    login(client, crew.admin)
    response = client.post("/settings/senders", data=sender_form(kind=kind, address=address))
    assert response.status_code == 302, response.text
    (sender,) = policy.team_senders(db.session, crew.team.id)
    assert sender.address in (HELD_NUMBER, HELD_SERVICE)
    assert twilio.requests == 1


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        ("number", "(512) 555-0178", "+15125550178"),
        ("messaging_service", "MG" + "d" * 32, "MG" + "d" * 32),
    ],
)
def test_with_twilio_an_address_outside_the_account_is_refused(
    client, crew, twilio, kind, typed, stored
):
    twilio.incoming_numbers.append("+15125550178999")  # contains it, is not it
    login(client, crew.admin)
    response = client.post("/settings/senders", data=sender_form(kind=kind, address=typed))
    assert refused_as_unavailable(response, stored)
    assert policy.team_senders(db.session, crew.team.id) == []


def test_with_twilio_unanswered_the_sender_is_not_added(client, crew, twilio):
    twilio.auth_token = "rotated"  # Twilio refuses the console's credentials
    login(client, crew.admin)
    response = client.post("/settings/senders", data=sender_form())
    assert response.status_code == 400
    assert "Twilio could not confirm +15125550177" in response.text
    assert policy.team_senders(db.session, crew.team.id) == []


def test_with_twilio_renaming_a_sender_asks_twilio_nothing(client, crew, twilio):
    sender = add_sender(crew.team, address=HELD_NUMBER)
    login(client, crew.admin)
    form = sender_form(label="Renamed", address=HELD_NUMBER)
    assert client.post(f"/settings/senders/{sender.id}", data=form).status_code == 302
    assert twilio.requests == 0


# ---------------------------------------------------------------------------- senders


def test_first_visit_gives_the_team_the_sandbox_sender(client, crew):
    login(client, crew.manager)
    page = client.get("/settings/sending").text
    (sender,) = policy.team_senders(db.session, crew.team.id)
    assert (sender.address, sender.sandbox) == (policy.SANDBOX_NUMBER, True)
    assert 'class="badge sandbox"' in page
    client.get("/settings/sending")
    assert len(policy.team_senders(db.session, crew.team.id)) == 1


def test_admin_adds_a_number_stored_as_e164(client, crew):
    login(client, crew.admin)
    response = client.post("/settings/senders", data=sender_form())
    assert response.status_code == 302
    sender = db.session.scalars(select(Sender).where(Sender.label == "Austin line")).one()
    assert (sender.team_id, sender.address, sender.mps, sender.daily_cap) == (
        crew.team.id,
        "+15125550177",
        1.0,
        2000,
    )
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "sender.added")).one()
    assert audit.actor_id == crew.admin.id


def test_admin_adds_a_messaging_service(client, crew):
    login(client, crew.admin)
    form = sender_form(kind="messaging_service", address="MG" + SERVICE_SID[2:].upper())
    assert client.post("/settings/senders", data=form).status_code == 302
    sender = db.session.scalars(select(Sender).where(Sender.team_id == crew.team.id)).one()
    assert (sender.kind, sender.address) == ("messaging_service", SERVICE_SID)
    assert SERVICE_SID in client.get("/settings/sending").text
    assert sender.sandbox is False


def test_readdressing_the_sandbox_sender_makes_it_a_real_one(client, crew):
    login(client, crew.admin)
    client.get("/settings/sending")
    (sender,) = policy.team_senders(db.session, crew.team.id)
    form = sender_form(label="Sandbox number", address=policy.SANDBOX_NUMBER)
    client.post(f"/settings/senders/{sender.id}", data=form)
    db.session.expire_all()
    assert db.session.get(Sender, sender.id).sandbox is True
    client.post(f"/settings/senders/{sender.id}", data=sender_form())
    db.session.expire_all()
    assert db.session.get(Sender, sender.id).sandbox is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"address": "555-12"}, "is not a valid phone number"),
        ({"address": "+1512555017"}, "is not a valid phone number"),
        ({"kind": "messaging_service", "address": "MG123"}, "MG followed by 32 hex digits"),
        ({"kind": "messaging_service", "address": "+15125550177"}, "MG followed by 32 hex"),
        ({"kind": "number", "address": SERVICE_SID}, "is not a valid phone number"),
        ({"mps": "0"}, "Number must be between 0.1 and 500"),
        ({"mps": "501"}, "Number must be between 0.1 and 500"),
        ({"daily_cap": "-1"}, "Number must be at least 0"),
        ({"label": ""}, "This field is required"),
        ({"address": "+15125550142"}, "The team already has a sender +15125550142"),
    ],
)
def test_sender_form_refuses_bad_values_next_to_the_field(client, crew, changes, message):
    add_sender(crew.team)
    login(client, crew.admin)
    response = client.post("/settings/senders", data=sender_form(**changes))
    assert response.status_code == 400
    assert str(escape(message)) in response.text
    assert 'aria-invalid="true"' in response.text
    assert len(policy.team_senders(db.session, crew.team.id)) == 1


def test_admin_edits_a_sender(client, crew):
    sender = add_sender(crew.team)
    login(client, crew.admin)
    page = client.get(f"/settings/senders/{sender.id}")
    assert page.status_code == 200 and 'value="+15125550142"' in page.text
    form = sender_form(label="Toll-free", address="+1 (888) 555-0150", mps="3", daily_cap="0")
    response = client.post(f"/settings/senders/{sender.id}", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Sender, sender.id)
    assert (saved.label, saved.address, saved.mps, saved.daily_cap) == (
        "Toll-free",
        "+18885550150",
        3.0,
        0,
    )


def test_admin_gives_a_sender_the_name_its_texts_are_signed_by(client, crew):
    sender = add_sender(crew.team)
    login(client, crew.admin)
    page = client.get(f"/settings/senders/{sender.id}").text
    assert 'name="sender_name"' in page and "Signing name" in page
    form = sender_form(sender_name="  Dana   <b>Reyes</b> ")
    assert client.post(f"/settings/senders/{sender.id}", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Sender, sender.id).sender_name == "Dana <b>Reyes</b>"
    page = client.get(f"/settings/senders/{sender.id}").text
    assert 'value="Dana &lt;b&gt;Reyes&lt;/b&gt;"' in page
    too_long = client.post(f"/settings/senders/{sender.id}", data=sender_form(sender_name="x" * 81))
    assert too_long.status_code == 400


def test_editing_keeps_a_senders_own_address(client, crew):
    sender = add_sender(crew.team)
    add_sender(crew.team, "Second", "+15125550143")
    login(client, crew.admin)
    same = sender_form(address="+15125550142")
    assert client.post(f"/settings/senders/{sender.id}", data=same).status_code == 302
    taken = sender_form(address="+15125550143")
    response = client.post(f"/settings/senders/{sender.id}", data=taken)
    assert response.status_code == 400
    assert "The team already has a sender +15125550143" in response.text


def test_pause_and_resume_a_sender(client, crew):
    sender = add_sender(crew.team)
    login(client, crew.admin)
    response = client.post(f"/settings/senders/{sender.id}/pause", data={"reason": "New wording"})
    assert response.status_code == 302
    db.session.expire_all()
    paused = db.session.get(Sender, sender.id)
    assert (paused.paused, paused.paused_reason) == (True, "New wording")
    assert paused.paused_at is not None
    page = client.get("/settings/sending").text
    assert "Paused" in page and "New wording" in page
    assert f"/settings/senders/{sender.id}/resume" in page
    assert client.post(f"/settings/senders/{sender.id}/resume").status_code == 302
    db.session.expire_all()
    resumed = db.session.get(Sender, sender.id)
    assert (resumed.paused, resumed.paused_reason, resumed.paused_at) == (False, "", None)


def test_pause_without_a_reason_names_who_paused(client, crew):
    sender = add_sender(crew.team)
    login(client, crew.admin)
    client.post(f"/settings/senders/{sender.id}/pause")
    db.session.expire_all()
    assert db.session.get(Sender, sender.id).paused_reason == f"Paused by {crew.admin.name}."


def test_unused_sender_is_removed(client, crew):
    sender = add_sender(crew.team)
    login(client, crew.admin)
    assert "Remove this sender" in client.get(f"/settings/senders/{sender.id}").text
    assert client.post(f"/settings/senders/{sender.id}/delete").status_code == 302
    assert policy.team_senders(db.session, crew.team.id) == []


def test_used_sender_stays_and_says_why(client, crew):
    sender = add_sender(crew.team)
    sent_message(sender)
    db.session.commit()
    login(client, crew.admin)
    page = client.get(f"/settings/senders/{sender.id}").text
    assert "Remove this sender" not in page
    assert "is used by 1 text, so it stays" in page
    response = client.post(f"/settings/senders/{sender.id}/delete", follow_redirects=True)
    assert "is used by 1 text, so it stays to keep their history; pause it instead." in (
        response.text
    )
    assert db.session.get(Sender, sender.id) is not None


def test_table_shows_sent_today_and_carrier_filtering(client, crew):
    sender = add_sender(crew.team)
    for _ in range(3):
        sent_message(sender)
    sent_message(sender, error_code=FILTERED_CODE)
    sent_message(sender, ago=timedelta(days=2))  # in the filtering window, not today
    sent_message(sender, ago=timedelta(days=9))  # in neither
    db.session.commit()
    login(client, crew.manager)
    page = client.get("/settings/sending").text
    assert "1/5 (20.0%)" in page
    assert '<td class="num">4</td>' in page


def test_sender_label_is_escaped(client, crew):
    add_sender(crew.team, label="<b>Bold</b> line")
    login(client, crew.admin)
    page = client.get("/settings/sending").text
    assert "<b>Bold</b>" not in page
    assert "&lt;b&gt;Bold&lt;/b&gt; line" in page


# ------------------------------------------------------------------------------ rules


def test_sending_rules_round_trip(client, crew):
    login(client, crew.admin)
    response = client.post("/settings/sending/rules", data=rules_form(), follow_redirects=True)
    assert "Sending rules saved." in response.text
    settings = saved_settings(crew.team)
    assert (settings.window_start, settings.window_end, settings.window_days) == (
        "10:00",
        "18:30",
        [0, 2, 4],
    )
    assert settings.opt_out_wording == "Text STOP to unsubscribe"
    assert settings.manager_approval_over == 250
    assert settings.auto_approve_followups is True
    assert settings.filtering_pause_rate == pytest.approx(0.025)
    assert settings.recipient_daily_cap == 2
    assert settings.segment_price == "0.0095"
    assert settings.describe_window() == "10:00 am-6:30 pm, Mon, Wed, Fri"
    page = client.get("/settings/sending").text
    assert 'value="10:00"' in page and 'value="0.0095"' in page and 'value="2.5"' in page


def test_rules_form_shows_the_defaults(client, crew):
    login(client, crew.admin)
    page = client.get("/settings/sending").text
    assert 'value="09:00"' in page and 'value="20:00"' in page
    assert 'value="0.0113"' in page and 'value="5"' in page
    assert "Warning: follow-up texts then go out with no person reading them first." in page


def test_saving_rules_keeps_the_texting_hour_changes(client, crew):
    settings = policy.SendingSettings(quiet_hours={"TX": {"start": "10:00"}})
    settings.save(crew.team)
    db.session.commit()
    login(client, crew.admin)
    client.post("/settings/sending/rules", data=rules_form(auto_approve_followups=""))
    saved = saved_settings(crew.team)
    assert saved.quiet_hours == {"TX": {"start": "10:00"}}
    assert saved.auto_approve_followups is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"window_end": "09:00"}, "The end comes after the start."),
        ({"window_days": []}, "Choose at least one day."),
        ({"filtering_pause_percent": "0.1"}, "A percentage from 0.5 to 50."),
        ({"filtering_pause_percent": "60"}, "A percentage from 0.5 to 50."),
        ({"segment_price": "1.5"}, "A price from $0 to $1."),
        ({"segment_price": "-0.01"}, "A price from $0 to $1."),
        ({"segment_price": "cheap"}, "Not a valid decimal value."),
        ({"window_start": ""}, "Give a start time."),
        ({"opt_out_wording": "Thanks!"}, "Say how to opt out"),
    ],
)
def test_rules_form_says_what_is_wrong(client, crew, changes, message):
    login(client, crew.admin)
    response = client.post("/settings/sending/rules", data=rules_form(**changes))
    assert response.status_code == 400
    assert str(escape(message)) in response.text
    assert saved_settings(crew.team) == policy.SendingSettings()


# ------------------------------------------------------------------------ texting hours


def test_hours_table_shows_the_states_and_federal_window(client, crew):
    login(client, crew.manager)
    page = client.get("/settings/sending").text
    assert "Federal: 8:00 am-9:00 pm everywhere" in page
    for state in quiethours.RULES:
        assert f'<th scope="row">{state}' in page
    assert "9:00 am-9:00 pm Mon-Sat, noon-9:00 pm Sun" in page  # TX
    assert "9:00 am-6:00 pm Mon-Fri, 10:00 am-5:00 pm Sat" in page  # RI
    assert "Pioneer Day (Jul 24)" in page  # UT's own holiday
    assert "Thanksgiving" in page


def test_admin_changes_a_states_hours(client, crew):
    login(client, crew.admin)
    page = client.get("/settings/sending/hours/tx")
    assert page.status_code == 200 and 'value="12:00"' in page.text
    form = hours_form(start="10:00", per_24h_cap="2", no_holidays="y")
    response = client.post("/settings/sending/hours/TX", data=form, follow_redirects=True)
    assert "Texting hours for TX saved." in response.text
    saved = saved_settings(crew.team)
    assert saved.quiet_hours == {"TX": {"start": "10:00", "no_holidays": True, "per_24h_cap": 2}}
    rule = saved.rules["TX"]
    assert (rule.start.hour, rule.per_24h_cap) == (10, 2)
    assert rule.sunday == quiethours.RULES["TX"].sunday
    assert "changed" in response.text


def test_saving_the_shipped_row_stores_no_change(client, crew):
    login(client, crew.admin)
    client.post("/settings/sending/hours/TX", data=hours_form())
    assert saved_settings(crew.team).quiet_hours == {}


def test_admin_resets_a_state_to_the_default(client, crew):
    policy.SendingSettings(quiet_hours={"TX": {"start": "10:00"}, "FL": {"end": "19:00"}}).save(
        crew.team
    )
    db.session.commit()
    login(client, crew.admin)
    response = client.post("/settings/sending/hours/TX/reset", follow_redirects=True)
    assert "Texting hours for TX back to the default." in response.text
    assert saved_settings(crew.team).quiet_hours == {"FL": {"end": "19:00"}}
    assert saved_settings(crew.team).rules["TX"] == quiethours.RULES["TX"]


def test_admin_adds_a_state_at_the_federal_window(client, crew):
    login(client, crew.admin)
    response = client.get("/settings/sending/hours?state=ny")
    assert response.headers["Location"].endswith("/settings/sending/hours/NY#hours")
    page = client.get("/settings/sending/hours/NY").text
    assert 'value="08:00"' in page and 'value="21:00"' in page
    form = hours_form(start="09:00", end="20:00", sunday_start="", sunday_end="", note="")
    client.post("/settings/sending/hours/NY", data={**form, "no_sundays": "y"})
    rule = saved_settings(crew.team).rules["NY"]
    assert (rule.start.hour, rule.end.hour, rule.no_sundays) == (9, 20, True)
    assert '<span class="badge">added</span>' in client.get("/settings/sending").text
    client.post("/settings/sending/hours/NY/reset")
    assert "NY" not in saved_settings(crew.team).rules


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start": "21:00", "end": "08:00"}, "TX: start 9:00 pm is not before end 8:00 am."),
        (
            {"sunday_start": "21:00", "sunday_end": "12:00"},
            "TX sunday: 9:00 pm is not before noon.",
        ),
        ({"saturday_start": "10:00"}, "Give both a start and an end for Saturday, or neither."),
        ({"per_24h_cap": "0"}, "Number must be between 1 and 100."),
        ({"start": "9 am"}, "Not a valid time value."),
    ],
)
def test_invalid_hours_are_refused_with_the_reason(client, crew, changes, message):
    login(client, crew.admin)
    response = client.post("/settings/sending/hours/TX", data=hours_form(**changes))
    assert response.status_code == 400
    assert str(escape(message)) in response.text
    assert saved_settings(crew.team).quiet_hours == {}


def test_unknown_state_is_a_404(client, crew):
    login(client, crew.admin)
    assert client.get("/settings/sending/hours/ZZ").status_code == 404
    assert client.post("/settings/sending/hours/ZZ/reset").status_code == 404


def test_htmx_edit_returns_only_the_hours_panel(client, crew):
    login(client, crew.admin)
    response = client.get("/settings/sending/hours/RI", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="hours"' in response.text and "Texting hours in RI" in response.text
    assert "<html" not in response.text and "Sending rules" not in response.text


# ----------------------------------------------------------------- sandbox open hours

SANDBOX_HOURS = "Sandbox: treat recipients' hours as open"
OPEN_BANNER = "Recipients' hours are treated as open."


def test_admin_opens_the_sandbox_hours_and_the_banner_says_so(client, crew):
    login(client, crew.admin)
    assert SANDBOX_HOURS in client.get("/settings/sending").text
    assert OPEN_BANNER not in client.get("/settings/sending").text

    response = client.post("/settings/sending/sandbox-hours", data={"open_hours": "on"})

    assert response.status_code == 302
    assert saved_settings(crew.team).sandbox_open_hours is True
    assert OPEN_BANNER in client.get("/").text
    client.post("/settings/sending/sandbox-hours", data={})
    assert saved_settings(crew.team).sandbox_open_hours is False


def test_sandbox_hours_cannot_open_once_twilio_is_configured(app, client, crew, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_SANDBOX", False)
    login(client, crew.admin)
    assert SANDBOX_HOURS not in client.get("/settings/sending").text

    crafted = client.post("/settings/sending/sandbox-hours", data={"open_hours": "on"})

    assert crafted.status_code == 403
    assert saved_settings(crew.team).sandbox_open_hours is False


def test_a_stored_flag_says_nothing_once_twilio_is_configured(app, client, crew, monkeypatch):
    settings = policy.SendingSettings.of(crew.team)
    settings.sandbox_open_hours = True  # set while the console was a sandbox
    settings.save(crew.team)
    db.session.commit()
    monkeypatch.setitem(app.config, "TWILIO_SANDBOX", False)
    login(client, crew.admin)
    assert OPEN_BANNER not in client.get("/settings/sending").text


@pytest.mark.parametrize("role", ["manager", "operator", "reviewer"])
def test_only_admins_open_the_sandbox_hours(client, crew, role):
    login(client, getattr(crew, role))
    response = client.post("/settings/sending/sandbox-hours", data={"open_hours": "on"})
    assert response.status_code in (302, 403)
    assert saved_settings(crew.team).sandbox_open_hours is False
