"""The template library service: checks in words, seeding, saving, previews and A/B stats."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from console.extensions import db
from console.models import AuditEvent, Message, MessageTemplate, Sender
from console.models.base import utcnow
from console.services.campaigns import templates
from console.services.campaigns.segments import MAX_BODY
from console.services.campaigns.template_library import SEED_TEMPLATES
from console.services.campaigns.templates import OPT_OUT_PROBLEM, SAMPLE_VALUES, check
from console.services.sending.policy import SendingSettings
from tests.conftest import make_lead

OPENER = "Hi {firstName|there}, this is {senderName}. Thinking of selling? Reply STOP to opt out"
NUDGE = "{firstName|Hi}, just checking this reached you. Any thoughts?"


def values(**changes) -> dict:
    """A valid first-touch template's values, with `changes` over them."""
    return {
        "name": "Opener",
        "persona": "GIANNA",
        "category": "opener",
        "vertical": "general",
        "touch": "first",
        "body": OPENER,
        "variants": [],
        **changes,
    }


# ------------------------------------------------------------------------------ check


def test_a_plain_first_touch_with_opt_out_has_no_problems():
    result = check(OPENER, "first")
    assert result.ok and result.problems == ()
    assert result.usable_first_touch
    assert result.measure.encoding == "GSM-7"


def test_unknown_token_is_named_with_the_tokens_to_use():
    result = check("Hi {frstName}, {foo|bar} here. Reply STOP to opt out", "first")
    assert result.problems[0].startswith("Unknown token {frstName}: use one of {firstName}, ")
    assert "{senderName}" in result.problems[0]
    assert result.problems[1].startswith("Unknown token {foo}:")
    assert not result.usable_first_touch


def test_token_spellings_the_renderer_reads_are_not_unknown():
    assert check("Hi {first_name|there}, {Company Name}. Reply STOP to opt out", "first").ok


@pytest.mark.parametrize("body", ["", "   ", "\r\n\n"])
def test_an_empty_body_is_the_one_problem(body):
    result = check(body, "first")
    assert result.problems == (templates.EMPTY_PROBLEM,)
    assert not result.usable_first_touch


def test_first_touch_without_opt_out_wording_may_not_open():
    result = check(NUDGE, "first")
    assert result.problems == (OPT_OUT_PROBLEM,)
    assert "may not be used for a first touch" in OPT_OUT_PROBLEM
    assert not result.usable_first_touch


def test_follow_up_needs_no_opt_out_but_is_not_a_first_touch():
    result = check(NUDGE, "follow_up")
    assert result.ok
    assert not result.usable_first_touch
    assert check(OPENER, "follow_up").usable_first_touch


def test_the_teams_own_opt_out_wording_counts():
    body = "Hi {firstName|there}, quick question. Text QUIT and we will never write again"
    assert OPT_OUT_PROBLEM in check(body, "first").problems
    assert check(body, "first", team_wording="Text QUIT and we will never write again").ok


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("Hi {firstName, Reply STOP to opt out", "a '{' has no closing '}'"),
        ("Hi firstName}, Reply STOP to opt out", "a '}' has no opening '{'"),
        ("Hi {first\nName}, Reply STOP to opt out", "a '{' and a '}' do not make a token"),
    ],
)
def test_unbalanced_braces_are_a_problem(body, fragment):
    problems = check(body, "first").problems
    assert len(problems) == 1 and problems[0].startswith("Unbalanced braces")
    assert fragment in problems[0]


@pytest.mark.parametrize("body", ["Hi {{firstName}}, a {} b { } c", "Hi {{firstName}, ok"])
def test_doubled_and_empty_braces_are_not_unbalanced(body):
    assert check(body, "follow_up").ok


def test_body_over_1600_characters_is_a_problem():
    result = check("a" * (MAX_BODY + 1), "follow_up")
    assert result.measure.too_long
    assert result.problems == (
        "Over the 1,600-character limit: 1,601 characters with long names filled in.",
    )


def test_long_values_count_toward_the_limit():
    body = "a" * (MAX_BODY - 20) + " {companyName}"
    assert len(body) < MAX_BODY
    assert not check(body, "follow_up").ok


def test_segments_are_counted_with_long_values_filled_in():
    result = check("{firstName} {companyName}", "follow_up")
    expected = f"{SAMPLE_VALUES['firstName']} {SAMPLE_VALUES['companyName']}"
    assert result.measure.characters == len(expected)
    assert check("{senderName}", "follow_up", sender="Acme").measure.characters == 4


def test_a_typical_opener_over_one_segment_with_long_values_says_two():
    # 150 characters as typed; with long names it no longer fits 160.
    body = OPENER + " Or is " + "{companyName|it} " + "x" * 40
    assert check(body, "first").measure.segments == 2


def test_a_curly_quote_makes_ucs2_and_is_replaceable():
    result = check("It’s time — reply STOP to opt out", "first")
    assert result.measure.encoding == "UCS-2"
    assert result.measure.offending == ("’", "—")
    assert result.replaceable == ("’", "—")


def test_marked_runs_group_the_characters_that_force_ucs2():
    assert templates.marked("a’—b😀") == [("a", False), ("’—", True), ("b", False), ("😀", True)]
    assert templates.marked("{ok} €") == [("{ok} €", False)]


def test_clean_body_makes_browser_line_endings_plain():
    assert templates.clean_body("  Hi\r\nthere\r  ") == "Hi\nthere"


# ------------------------------------------------------------------------------ library


def test_seed_library_is_idempotent_by_name(crew):
    assert templates.seed_library(db.session, crew.team) == len(SEED_TEMPLATES)
    assert templates.seed_library(db.session, crew.team) == 0
    first = db.session.scalars(
        select(MessageTemplate).where(MessageTemplate.team_id == crew.team.id)
    ).first()
    db.session.delete(first)
    db.session.flush()
    assert templates.seed_library(db.session, crew.team) == 1
    assert len(templates.team_templates(db.session, crew.team.id)) == len(SEED_TEMPLATES)


def test_seed_if_empty_seeds_only_a_team_without_templates(crew, outsider):
    templates.save_template(db.session, outsider.team, values(), outsider.operator)
    assert templates.seed_if_empty(db.session, outsider.team) == 0
    assert templates.seed_if_empty(db.session, crew.team) == len(SEED_TEMPLATES)
    assert templates.seed_if_empty(db.session, crew.team) == 0


def test_seeded_templates_pass_their_checks(crew):
    templates.seed_library(db.session, crew.team)
    summaries = templates.summarize(crew.team, templates.team_templates(db.session, crew.team.id))
    assert all(s.problems == 0 for s in summaries)
    openers = [s for s in summaries if s.template.touch == "first"]
    assert openers and all(s.usable_first_touch for s in openers)


def test_team_templates_filter_search_and_stay_in_the_team(crew, outsider):
    team = crew.team
    templates.save_template(db.session, team, values(), crew.operator)
    nudge = values(
        name="Nudge",
        persona="CATHY",
        category="nudge",
        touch="follow_up",
        body=NUDGE,
        variants=["Still there? Café owners say yes"],
    )
    templates.archive(db.session, templates.save_template(db.session, team, nudge, None), None)
    templates.save_template(db.session, outsider.team, values(name="Theirs"), None)

    def names(**filters):
        return [t.name for t in templates.team_templates(db.session, team.id, **filters)]

    assert names() == ["Opener"]
    assert names(include_archived=True) == ["Opener", "Nudge"]  # GIANNA before CATHY
    assert names(persona="CATHY", include_archived=True) == ["Nudge"]
    assert names(category="opener", include_archived=True) == ["Opener"]
    assert names(q="CAFÉ", include_archived=True) == ["Nudge"]  # in variant B, any case
    assert names(q="theirs", include_archived=True) == []


def test_grouped_keeps_persona_then_category_order(crew):
    templates.seed_library(db.session, crew.team)
    summaries = templates.summarize(crew.team, templates.team_templates(db.session, crew.team.id))
    groups = templates.grouped(summaries)
    assert [persona for persona, _ in groups] == ["GIANNA", "CATHY", "SABRINA", "NEVA"]
    assert [category for category, _ in groups[0][1]] == ["opener", "nurture"]
    assert sum(len(items) for _, cats in groups for _, items in cats) == len(SEED_TEMPLATES)


# ------------------------------------------------------------------------------ saving


def test_save_creates_with_variants_closed_up_and_audits(crew):
    saved = templates.save_template(
        db.session,
        crew.team,
        values(name="  Opener   one ", variants=["", OPENER + " B", " \r\n", OPENER + " D\r\n"]),
        crew.operator,
    )
    assert saved.name == "Opener one"
    assert saved.bodies == {"A": OPENER, "B": OPENER + " B", "C": OPENER + " D"}
    assert saved.created_by_id == crew.operator.id
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "message_templates")
    ).one()
    assert event.action == "template.created" and event.after["name"] == "Opener one"


def test_save_refuses_what_is_wrong_with_each_field_and_variant(crew):
    templates.save_template(db.session, crew.team, values(), None)
    with pytest.raises(templates.TemplateInvalid) as caught:
        templates.save_template(
            db.session,
            crew.team,
            values(
                name="OPENER",
                persona="LUCI",
                category="spam",
                touch="sometimes",
                variants=["Hi {foo}. Reply STOP to opt out", ""],
            ),
            None,
        )
    errors = caught.value.errors
    assert errors["name"] == ["Another template is already called 'OPENER'."]
    assert set(errors) == {"name", "persona", "category", "touch", "B"}
    assert errors["B"][0].startswith("Unknown token {foo}")


def test_save_checks_every_variant_for_a_first_touch(crew):
    with pytest.raises(templates.TemplateInvalid) as caught:
        templates.save_template(db.session, crew.team, values(variants=[OPENER, NUDGE]), None)
    assert caught.value.errors == {"C": [OPT_OUT_PROBLEM]}


def test_save_allows_four_variants_at_most(crew):
    with pytest.raises(templates.TemplateInvalid) as caught:
        templates.save_template(db.session, crew.team, values(variants=[OPENER] * 4), None)
    assert caught.value.errors == {"variants": ["At most 4 variants (A to D)."]}


def test_update_keeps_its_own_name_and_audits_before_and_after(crew):
    template = templates.save_template(db.session, crew.team, values(), crew.operator)
    templates.save_template(
        db.session, crew.team, values(touch="follow_up", body=NUDGE), crew.manager, template
    )
    assert template.body == NUDGE and template.touch == "follow_up"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "template.updated")
    ).one()
    assert event.before["body"] == OPENER and event.after["body"] == NUDGE
    assert event.actor_id == crew.manager.id


def test_the_same_name_in_another_team_is_fine(crew, outsider):
    templates.save_template(db.session, outsider.team, values(), None)
    assert templates.save_template(db.session, crew.team, values(), None).name == "Opener"


def test_duplicate_names_the_copy_and_archive_and_restore(crew):
    template = templates.save_template(db.session, crew.team, values(variants=[OPENER]), None)
    first = templates.duplicate(db.session, template, crew.operator)
    second = templates.duplicate(db.session, template, crew.operator)
    assert (first.name, second.name) == ("Opener (copy)", "Opener (copy 2)")
    assert second.bodies == template.bodies and second.team_id == crew.team.id
    templates.archive(db.session, template, crew.operator)
    assert template.archived
    templates.restore(db.session, template, crew.operator)
    assert not template.archived
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["template.archived", "template.restored"]


def test_a_long_name_still_fits_when_copied(crew):
    long_name = "N" * templates.NAME_LENGTH
    template = templates.save_template(db.session, crew.team, values(name=long_name), None)
    copy = templates.duplicate(db.session, template, None)
    assert len(copy.name) == templates.NAME_LENGTH and copy.name.endswith(" (copy)")


# ------------------------------------------------------------------------------ preview


def test_preview_defaults_to_the_highest_priority_lead_with_an_owner(crew, outsider):
    low = make_lead(crew.team, "LOW PLUMBING LLC", "Ann Low")
    high = make_lead(crew.team, "HIGH HVAC INC", "Bob High")
    ownerless = make_lead(crew.team, "Nobody Co")
    theirs = make_lead(outsider.team, "Rival Roofing", "Zed Rival")
    low.priority, high.priority, ownerless.priority, theirs.priority = 10, 80, 99, 100
    db.session.commit()

    rendered, measure = templates.preview(db.session, crew.team, "Hi {firstName} of {companyName}")
    assert rendered.text == "Hi Bob of High HVAC"
    assert measure.characters == len(rendered.text)
    assert (
        templates.preview(db.session, crew.team, "{firstName}", low.code.lower())[0].text == "Ann"
    )
    assert templates.preview(db.session, crew.team, "{firstName}", low)[0].text == "Ann"
    lead, note = templates.preview_lead(db.session, crew.team.id, "lead-1999-000009")
    assert lead == high and note == f"No lead LEAD-1999-000009 in your team; showing {high.code}."
    assert templates.preview_lead(db.session, outsider.team.id, high.code) == (
        theirs,
        f"No lead {high.code} in your team; showing {theirs.code}.",
    )
    with pytest.raises(ValueError):
        templates.preview(db.session, crew.team, "{firstName}", theirs)


def test_preview_without_leads_uses_fallbacks_and_the_previewers_name(crew):
    crew.team.settings = {"display_name": "Harbor Advisors"}
    crew.operator.name = "Sam Ortiz"
    body = "Hi {firstName|there}, {senderName|your advisor}"
    rendered, _ = templates.preview(db.session, crew.team, body, user=crew.operator)
    assert rendered.text == "Hi there, Sam Ortiz"
    assert rendered.fallbacks_used == ("firstName",)
    # Nobody to sign it: the fallback, never the firm's name.
    assert templates.preview(db.session, crew.team, body)[0].text == "Hi there, your advisor"


def test_signing_name_is_the_senders_then_the_users(crew):
    sender = Sender(team_id=crew.team.id, label="Austin line", sender_name="  Dana   Reyes ")
    crew.operator.name = "Sam Ortiz"
    assert templates.signing_name(sender, crew.operator) == "Dana Reyes"
    assert templates.signing_name(Sender(sender_name=""), crew.operator) == "Sam Ortiz"
    assert templates.signing_name(None, crew.operator) == "Sam Ortiz"
    crew.operator.name = ""
    assert templates.signing_name(None, crew.operator) == ""
    assert templates.signing_name() == ""


def test_editor_report_shows_the_leads_industry_words(crew):
    lead = make_lead(crew.team, "Bright Smile Dental", "Ann Lee")
    lead.business.industry = "OFFICES AND CLINICS OF DENTISTS"
    lead.business.sic_code = "8021"
    db.session.commit()
    body = "Owners of {industry|businesses like yours}. Reply STOP to opt out"
    report = templates.editor_report(db.session, crew.team, body, "first", lead)
    assert report.industry == "dental practices"
    assert report.rendered.text.startswith("Owners of dental practices.")
    lead.business.sic_code = "9199"
    report = templates.editor_report(db.session, crew.team, body, "first", lead)
    assert report.industry == "" and report.rendered.text.startswith("Owners of businesses like")
    assert (
        templates.editor_report(
            db.session, crew.team, "Hi. Reply STOP to opt out", "first", lead
        ).industry
        is None
    )


def test_editor_report_uses_the_teams_opt_out_wording(crew):
    settings = SendingSettings.of(crew.team)
    settings.opt_out_wording = "Say NO MORE to stop hearing from us"
    settings.save(crew.team)
    report = templates.editor_report(
        db.session, crew.team, "Hi there. Say NO MORE to stop hearing from us", "first"
    )
    assert report.check.ok and report.check.usable_first_touch
    assert report.rendered.text == report.text


# ------------------------------------------------------------------------------ stats


def add_message(template, variant, status, error_code=None, sent=True, team_id=None) -> None:
    db.session.add(
        Message(
            team_id=team_id or template.team_id,
            template_id=template.id,
            variant=variant,
            status=status,
            error_code=error_code,
            to_e164="+15125550100",
            body="x",
            sent_at=utcnow() if sent else None,
        )
    )


def test_template_stats_count_each_variant_and_the_total(crew, outsider):
    template = templates.save_template(db.session, crew.team, values(variants=[OPENER]), None)
    other = templates.save_template(db.session, crew.team, values(name="Other"), None)
    for status in ("delivered", "delivered", "delivered", "sent"):
        add_message(template, "A", status)
    add_message(template, "A", "failed", 30007)
    add_message(template, "B", "delivered")
    add_message(template, "B", "failed", 30007)
    add_message(template, "B", "failed", 21610, sent=False)  # refused before sending
    add_message(template, "B", "draft", sent=False)
    add_message(template, "C", "delivered")  # a variant since removed
    add_message(other, "A", "delivered")
    add_message(template, "A", "delivered", team_id=outsider.team.id)  # never counted
    db.session.flush()

    stats = templates.template_stats(db.session, template)
    by_letter = {v.variant: v for v in stats.variants}
    assert list(by_letter) == ["A", "B", "C"]
    a, b, c = by_letter["A"], by_letter["B"], by_letter["C"]
    assert (a.sent, a.delivered, a.failed, a.filtered) == (5, 3, 1, 1)
    assert (b.sent, b.delivered, b.failed, b.filtered) == (2, 1, 2, 1)
    assert a.body == OPENER and c.body == ""
    assert a.delivery_rate == pytest.approx(0.6) and b.filtered_rate == pytest.approx(0.5)
    total = stats.total
    assert (total.sent, total.delivered, total.failed, total.filtered) == (8, 5, 3, 2)
    assert templates.stats_row(a)[:4] == ["A", 5, 3, "0.6000"]


def test_template_stats_before_any_text_is_sent(crew):
    template = templates.save_template(db.session, crew.team, values(variants=[OPENER]), None)
    stats = templates.template_stats(db.session, template)
    assert [v.variant for v in stats.variants] == ["A", "B"]
    assert not stats.any_sent and stats.total.delivery_rate is None
