"""Settings > Replies from the browser's side: who may read and change it, what a save
stores, the checks on each field, the texts' previews, escaping, and another team."""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import select

from console.extensions import db
from console.models import AuditEvent, Role, Team
from console.services.replies import personas
from console.services.sending import policy
from tests.conftest import PASSWORD, login

CUSTOM_OPT_OUT = "Done: {senderName} won't text you again. Reply START to opt back in."
CUSTOM_HELP = "{senderName} texts owners about selling. Text STOP to unsubscribe."


def replies_form(**changes) -> dict:
    """A valid replies form with everything changed from the defaults, `changes` over it."""
    return {
        "twilio_advanced_opt_out": "y",
        "opt_out_confirmation": CUSTOM_OPT_OUT,
        "opt_in_confirmation": "",
        "help_text": CUSTOM_HELP,
        "ai_enabled": "",
        "allow_links": "y",
        "link": "https://harbor.example.com/call",
        "auto_send": "y",
        "auto_send_min_confidence": "92",
        "auto_send_max_per_lead": "2",
        **changes,
    }


def saved(team: Team) -> policy.ReplySettings:
    """The team's reply settings as stored now."""
    db.session.expire_all()
    return policy.ReplySettings.of(db.session.get(Team, team.id))


def save_custom(team: Team) -> policy.ReplySettings:
    """Give `team` reply settings of its own, committed."""
    settings = policy.ReplySettings(
        opt_out_confirmation=CUSTOM_OPT_OUT, auto_send=True, auto_send_min_confidence=90
    )
    settings.save(team)
    db.session.commit()
    return settings


# ------------------------------------------------------------------------------ roles


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.ADMIN, 200), (Role.MANAGER, 200), (Role.OPERATOR, 403), (Role.REVIEWER, 403)],
)
def test_replies_page_is_for_managers_and_admins(client, crew, role, expected):
    login(client, crew.by_role(role))
    assert client.get("/settings/replies").status_code == expected


def test_signed_out_visitor_is_sent_to_sign_in(client, crew):
    response = client.get("/settings/replies")
    assert response.status_code == 302 and "/login" in response.location


def test_replies_is_a_settings_tab_for_managers(client, crew):
    login(client, crew.manager)
    page = client.get("/settings/").text
    assert 'href="/settings/replies"' in page
    assert 'href="/settings/replies" aria-current="page"' in client.get("/settings/replies").text


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR, Role.REVIEWER])
@pytest.mark.parametrize("path", ["/settings/replies", "/settings/replies/preview"])
def test_only_admins_change_replies(client, crew, role, path):
    login(client, crew.by_role(role))
    response = client.post(path, data=replies_form(text="help_text"))
    assert response.status_code == 403
    assert saved(crew.team) == policy.ReplySettings()


def test_manager_reads_but_sees_no_controls(client, crew):
    login(client, crew.manager)
    page = client.get("/settings/replies").text
    assert "Opt-outs, opt-ins and help" in page and "Auto-send" in page
    assert '<fieldset class="reply-settings" disabled>' in page
    assert "Save reply settings" not in page
    assert "/settings/replies/preview" not in page
    assert "Only admins change the reply settings." in page


# --------------------------------------------------------------------------- defaults


def test_defaults_are_shown_when_nothing_is_saved(client, crew):
    login(client, crew.admin)
    page = client.get("/settings/replies").text
    for default in (
        personas.OPT_OUT_CONFIRMATION,
        personas.OPT_IN_CONFIRMATION,
        personas.HELP_TEXT,
    ):
        assert str(escape(default)) in page  # in its textarea, tokens unfilled
    opt_out = "You're opted out and won't get more texts from Harbor Partners."
    assert f'<p class="sms">{escape(opt_out)}' in page
    assert page.count("(the default)") == 3
    assert 'value="85"' in page and 'value="3"' in page
    assert "at least 85% sure, and at most 3 times per lead" in page
    form_part = page.split('id="auto-send"')[1]
    assert 'name="auto_send" type="checkbox" value="y">' in form_part  # not checked


def test_previews_show_the_team_display_name_and_segments(client, crew):
    crew.team.settings = {**(crew.team.settings or {}), "display_name": "Summit Advisors"}
    db.session.commit()
    login(client, crew.manager)
    page = client.get("/settings/replies").text
    assert "You&#39;re opted back in to texts from Summit Advisors." in page
    help_text = "Summit Advisors: texts about selling your business."
    assert help_text in page
    assert "GSM-7 · 1 segment" in page


def test_page_says_what_advanced_opt_out_and_auto_send_mean(client, crew):
    login(client, crew.manager)
    page = client.get("/settings/replies").text
    assert "Twilio answers STOP, START and HELP itself" in page
    assert "which Twilio does not see" in page
    assert "It never answers an owner's first reply, a price question or a callback" in page


def test_page_says_when_no_claude_key_is_configured(app, client, crew):
    login(client, crew.manager)
    app.config["ANTHROPIC_API_KEY"] = ""
    assert "No Anthropic key is configured" in client.get("/settings/replies").text
    app.config["ANTHROPIC_API_KEY"] = "sk-test-not-real"
    assert "No Anthropic key is configured" not in client.get("/settings/replies").text


# ------------------------------------------------------------------------------ saving


def test_admin_saves_and_values_persist(client, crew):
    login(client, crew.admin)
    response = client.post("/settings/replies", data=replies_form(), follow_redirects=True)
    assert response.status_code == 200
    assert "Reply settings saved." in response.text
    assert saved(crew.team) == policy.ReplySettings(
        twilio_advanced_opt_out=True,
        opt_out_confirmation=CUSTOM_OPT_OUT,
        opt_in_confirmation="",
        help_text=CUSTOM_HELP,
        allow_links=True,
        link="https://harbor.example.com/call",
        auto_send=True,
        auto_send_min_confidence=92,
        auto_send_max_per_lead=2,
        ai_enabled=False,
    )
    page = client.get("/settings/replies").text
    assert 'value="92"' in page and 'value="https://harbor.example.com/call"' in page
    assert "Done: Harbor Partners won&#39;t text you again." in page
    assert "at least 92% sure, and at most 2 times per lead" in page


def test_saving_is_audited_with_before_and_after(client, crew):
    login(client, crew.admin)
    client.post("/settings/replies", data=replies_form())
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "replies.saved")).one()
    assert event.actor_id == crew.admin.id and event.team_id == crew.team.id
    assert event.before["auto_send"] is False and event.after["auto_send"] is True


def test_a_text_equal_to_its_default_is_stored_blank(client, crew):
    login(client, crew.admin)
    client.post(
        "/settings/replies",
        data=replies_form(
            opt_out_confirmation=personas.OPT_OUT_CONFIRMATION + "  ",
            help_text=f"\r\n {personas.HELP_TEXT}\r\n",
        ),
    )
    settings = saved(crew.team)
    assert settings.opt_out_confirmation == "" and settings.help_text == ""


def test_blank_text_puts_the_default_back(client, crew):
    save_custom(crew.team)
    login(client, crew.admin)
    client.post("/settings/replies", data=replies_form(opt_out_confirmation="   "))
    assert saved(crew.team).opt_out_confirmation == ""
    page = client.get("/settings/replies").text
    assert str(escape(personas.OPT_OUT_CONFIRMATION)) in page


def test_unticked_boxes_turn_settings_off(client, crew):
    save_custom(crew.team)
    login(client, crew.admin)
    form = replies_form(auto_send="", allow_links="", link="", twilio_advanced_opt_out="")
    assert client.post("/settings/replies", data=form).status_code == 302
    settings = saved(crew.team)
    assert settings.auto_send is False and settings.allow_links is False
    assert settings.twilio_advanced_opt_out is False and settings.link == ""


def test_saving_replies_keeps_the_sending_settings(client, crew):
    policy.SendingSettings(manager_approval_over=42).save(crew.team)
    db.session.commit()
    login(client, crew.admin)
    client.post("/settings/replies", data=replies_form())
    db.session.expire_all()
    team = db.session.get(Team, crew.team.id)
    assert policy.SendingSettings.of(team).manager_approval_over == 42
    assert policy.ReplySettings.of(team).auto_send is True


# -------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"link": "harbor.example.com/call"}, "A web address starting with https:// or http://."),
        ({"link": "javascript:alert(1)"}, "A web address starting with https:// or http://."),
        ({"link": "https://localhost"}, "A web address starting with https:// or http://."),
        ({"link": ""}, "Give the link drafts may carry, or turn links off."),
        ({"auto_send_min_confidence": "49"}, "A percentage from 50 to 100."),
        ({"auto_send_min_confidence": "101"}, "A percentage from 50 to 100."),
        ({"auto_send_min_confidence": ""}, "Give a percentage."),
        ({"auto_send_max_per_lead": "11"}, "A number from 0 to 10."),
        ({"auto_send_max_per_lead": "-1"}, "A number from 0 to 10."),
        ({"help_text": "x" * 321}, "At most 320 characters."),
        ({"opt_out_confirmation": "{firstName}"}, "Empty once filled in"),
        ({"opt_out_confirmation": "Bye {ownerName}"}, "Unknown token {ownerName}"),
        ({"opt_out_confirmation": "Opted out. " * 29}, "At most 2 segments"),
        ({"opt_in_confirmation": "Welcome back!"}, "Say how to opt out"),
        ({"help_text": "{senderName}: call us at 512-555-0100."}, "Say how to opt out"),
    ],
)
def test_bad_values_give_400_and_keep_the_saved_settings(client, crew, changes, message):
    before = save_custom(crew.team)
    login(client, crew.admin)
    response = client.post("/settings/replies", data=replies_form(**changes))
    assert response.status_code == 400
    assert str(escape(message)) in response.text
    assert "Nothing was saved" in response.text
    assert saved(crew.team) == before


def test_a_long_opt_out_confirmation_is_refused_even_when_short_as_typed(client, crew):
    crew.team.settings = {**(crew.team.settings or {}), "display_name": "N" * 150}
    db.session.commit()
    login(client, crew.admin)
    text = "{senderName} won't text you again. Reply START to opt back in. " * 2
    response = client.post("/settings/replies", data=replies_form(opt_out_confirmation=text))
    assert response.status_code == 400 and "At most 2 segments" in response.text


def test_the_link_is_optional_when_links_are_off(client, crew):
    login(client, crew.admin)
    response = client.post("/settings/replies", data=replies_form(allow_links="", link=""))
    assert response.status_code == 302
    assert saved(crew.team).allow_links is False


def test_help_text_may_use_the_teams_own_opt_out_wording(client, crew):
    policy.SendingSettings(opt_out_wording="Send QUIT to leave this list").save(crew.team)
    db.session.commit()
    login(client, crew.admin)
    text = "{senderName} texts owners. Send QUIT to leave this list."
    assert client.post("/settings/replies", data=replies_form(help_text=text)).status_code == 302
    assert saved(crew.team).help_text == text


def test_a_400_keeps_what_was_typed_in_the_other_fields(client, crew):
    login(client, crew.admin)
    response = client.post("/settings/replies", data=replies_form(auto_send_max_per_lead="99"))
    page = response.text
    assert 'value="92"' in page and 'value="99"' in page
    assert "Done: {senderName} won&#39;t text you again." in page
    assert "Done: Harbor Partners won&#39;t text you again." in page  # previewed as typed


def test_smart_quotes_are_a_warning_not_an_error(client, crew):
    login(client, crew.admin)
    text = "You’re opted out of {senderName} texts. Reply START to opt back in."
    response = client.post("/settings/replies", data=replies_form(opt_out_confirmation=text))
    assert response.status_code == 302
    page = client.get("/settings/replies").text
    assert "UCS-2" in page and "is not plain GSM-7" in page


# ----------------------------------------------------------------------------- preview


def test_preview_fills_in_and_measures_a_text_as_typed(client, crew):
    login(client, crew.admin)
    response = client.post(
        "/settings/replies/preview",
        data={"text": "help_text", "help_text": "{senderName} here. Reply STOP to opt out."},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'id="preview-help_text"' in response.text
    assert "Harbor Partners here. Reply STOP to opt out." in response.text
    assert "1 segment" in response.text and "<html" not in response.text


def test_preview_lists_a_texts_problems(client, crew):
    login(client, crew.admin)
    response = client.post(
        "/settings/replies/preview",
        data={"text": "opt_in_confirmation", "opt_in_confirmation": "Welcome back {nickname}"},
    )
    assert "Unknown token {nickname}" in response.text
    assert "Say how to opt out" in response.text


def test_preview_of_a_blank_text_shows_the_default(client, crew):
    login(client, crew.admin)
    response = client.post(
        "/settings/replies/preview",
        data={"text": "opt_out_confirmation", "opt_out_confirmation": ""},
    )
    assert "(the default)" in response.text
    assert "won&#39;t get more texts from Harbor Partners" in response.text


def test_preview_of_an_unknown_text_is_refused(client, crew):
    login(client, crew.admin)
    response = client.post("/settings/replies/preview", data={"text": "auto_send"})
    assert response.status_code == 400


# ---------------------------------------------------------------------------- escaping


def test_script_typed_in_a_text_is_shown_escaped(client, crew):
    login(client, crew.admin)
    script = "<script>alert(1)</script>"
    text = f"{script} {{senderName}} texts owners. Reply STOP to opt out."
    response = client.post("/settings/replies", data=replies_form(help_text=text))
    assert response.status_code == 302
    assert saved(crew.team).help_text == text
    for page in (
        client.get("/settings/replies").text,
        client.post(
            "/settings/replies/preview", data={"text": "help_text", "help_text": text}
        ).text,
    ):
        assert script not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_link_with_markup_is_refused_and_shown_escaped(client, crew):
    login(client, crew.admin)
    link = 'https://x.example.com/"><script>alert(1)</script>'
    response = client.post("/settings/replies", data=replies_form(link=link))
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_form_carries_a_csrf_token(app, client, crew):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        login_page = client.get("/login").text
        token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post(
            "/login",
            data={"email": crew.admin.email, "password": PASSWORD, "csrf_token": token},
        )
        page = client.get("/settings/replies").text
        form = page.split('action="/settings/replies"')[1].split("</form>")[0]
        assert 'name="csrf_token" type="hidden" value="' in form
        refused = client.post("/settings/replies", data=replies_form())
        assert refused.status_code == 400 and "CSRF" in refused.text
        assert saved(crew.team) == policy.ReplySettings()
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# --------------------------------------------------------------------------- isolation


def test_another_teams_settings_are_untouched_and_unseen(client, crew, outsider):
    theirs = policy.ReplySettings(
        opt_out_confirmation="Rival Capital secret wording. Reply START to return.",
        auto_send=True,
        auto_send_min_confidence=70,
    )
    theirs.save(outsider.team)
    db.session.commit()
    login(client, crew.admin)
    page = client.get("/settings/replies").text
    assert "Rival Capital secret wording" not in page and 'value="70"' not in page
    client.post("/settings/replies", data=replies_form())
    assert saved(outsider.team) == theirs
    assert saved(crew.team).auto_send_min_confidence == 92
