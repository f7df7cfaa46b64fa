"""Template tokens: parsing, rendering with fallbacks, lead values, opt-out wording."""

from __future__ import annotations

import pytest

from console.models import Business, Lead, Owner
from console.services.campaigns.tokens import (
    OPT_OUT_DEFAULT,
    TOKENS,
    Part,
    company_name,
    has_opt_out,
    lead_values,
    parse,
    render,
    unknown_tokens,
)

VALUES = {
    "firstName": "John",
    "lastName": "Smith",
    "fullName": "John Smith",
    "companyName": "Acme HVAC Services",
    "industry": "plumbing",
    "city": "Austin",
    "state": "TX",
    "senderName": "Sam",
}
BLANK = dict.fromkeys(TOKENS, "")


def make_lead(owner: dict | None = None, business: dict | None = None) -> Lead:
    """A lead built in memory from the fields given: no database needed."""
    return Lead(
        owner=Owner(**owner) if owner is not None else None,
        business=Business(**business) if business is not None else None,
    )


def test_tokens_are_the_documented_names_with_labels():
    assert set(TOKENS) == {
        "firstName",
        "lastName",
        "fullName",
        "companyName",
        "industry",
        "city",
        "state",
        "senderName",
    }
    assert TOKENS["firstName"] == "Owner's first name"
    assert all(label for label in TOKENS.values())


# --------------------------------------------------------------------------- parse


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", []),
        ("No tokens here.", [("No tokens here.", None, None)]),
        ("Hi {firstName}!", [("Hi ", "firstName", None), ("!", None, None)]),
        ("Hi {firstName|there}!", [("Hi ", "firstName", "there"), ("!", None, None)]),
        ("{firstName}", [("", "firstName", None)]),
        ("{firstName}{lastName}", [("", "firstName", None), ("", "lastName", None)]),
        ("Hi {firstName|}", [("Hi ", "firstName", "")]),
        ("Hi { firstName | there friend }", [("Hi ", "firstName", "there friend")]),
        ("{city|your area}, {state}", [("", "city", "your area"), (", ", "state", None)]),
        ("{firstName|a|b}", [("", "firstName", "a|b")]),
    ],
)
def test_parse(body, expected):
    assert parse(body) == expected


@pytest.mark.parametrize(
    "typed",
    ["{firstName}", "{FirstName}", "{FIRSTNAME}", "{first_name}", "{first name}", "{first-name}"],
)
def test_token_names_match_whatever_the_case_and_separators(typed):
    assert parse(f"Hi {typed}") == [("Hi ", "firstName", None)]
    assert unknown_tokens(f"Hi {typed}") == []


@pytest.mark.parametrize(
    "body",
    ["Hi {{firstName}}!", "Hi {{firstName}!", "Hi {firstName}}!"],
)
def test_doubled_braces_are_read_as_the_token(body):
    assert [name for _, name, _ in parse(body)] == ["firstName", None]
    assert render(body, VALUES).text.startswith("Hi John")


@pytest.mark.parametrize(
    "body",
    [
        "A { alone",
        "A } alone",
        "Reversed }{",
        "Empty {} braces",
        "Blank { } braces",
        "{{ }}",
        "{\nfirstName}",
    ],
)
def test_braces_around_nothing_stay_literal(body):
    assert parse(body) == [(body, None, None)]
    assert render(body, VALUES).text == body


def test_parse_returns_a_fresh_list_each_time():
    first = parse("Hi {firstName}")
    first.append(("mutated", None, None))
    assert parse("Hi {firstName}") == [("Hi ", "firstName", None)]


@pytest.mark.parametrize(
    ("body", "unknown"),
    [
        ("Hi {firstName}", []),
        ("Hi {name}", ["name"]),
        ("Hi {Name|there} from {company}", ["Name", "company"]),
        ("{owner} {owner} {zip}", ["owner", "zip"]),
        ("{firstname} {FirstName} {first name}", []),
        ("{{company}}", ["company"]),
        ("{ Owner Name }", ["Owner Name"]),
        ("No tokens { }", []),
        ("Use { or } freely", ["or"]),  # anything in braces is meant as a token
    ],
)
def test_unknown_tokens(body, unknown):
    assert unknown_tokens(body) == unknown


# -------------------------------------------------------------------------- render


def test_render_fills_every_token():
    body = "Hi {firstName}, {senderName} here about {companyName} in {city}, {state}."
    rendered = render(body, VALUES)
    assert rendered.text == "Hi John, Sam here about Acme HVAC Services in Austin, TX."
    assert rendered.fallbacks_used == ()
    assert rendered.missing == ()


def test_render_parts_mark_tokens_fallbacks_and_missing_values():
    rendered = render("Hi {firstName|there}, {lastName}!", {"firstName": ""})
    assert rendered.parts == (
        Part("Hi "),
        Part("there", token="firstName", fallback_used=True),
        Part(","),
        Part("", token="lastName", missing=True),
        Part("!"),
    )
    assert "".join(p.text for p in rendered.parts) == rendered.text == "Hi there,!"


def test_render_spans_locate_tokens_in_the_text():
    rendered = render("Hi {firstName|there}, it's {senderName}", {"senderName": "Sam"})
    assert rendered.text == "Hi there, it's Sam"
    assert rendered.spans == [[3, 8, "firstName", True], [15, 18, "senderName", False]]


@pytest.mark.parametrize(
    ("values", "text", "fallbacks_used", "missing"),
    [
        ({"firstName": "John"}, "Hi John!", (), ()),
        ({"firstName": ""}, "Hi there!", ("firstName",), ()),
        ({"firstName": "   "}, "Hi there!", ("firstName",), ()),
        ({"firstName": None}, "Hi there!", ("firstName",), ()),
        ({}, "Hi there!", ("firstName",), ()),
    ],
)
def test_blank_values_take_the_fallback(values, text, fallbacks_used, missing):
    rendered = render("Hi {firstName|there}!", values)
    assert (rendered.text, rendered.fallbacks_used, rendered.missing) == (
        text,
        fallbacks_used,
        missing,
    )


def test_blank_values_without_fallback_are_missing():
    rendered = render("{firstName} {lastName} at {companyName}", BLANK)
    assert rendered.missing == ("firstName", "lastName", "companyName")
    assert rendered.fallbacks_used == ()


def test_each_missing_or_fallback_token_is_listed_once():
    rendered = render("{firstName|hi} {firstName|hey} {city} {city}", BLANK)
    assert rendered.fallbacks_used == ("firstName",)
    assert rendered.missing == ("city",)


def test_empty_fallback_leaves_the_token_out_on_purpose():
    rendered = render("Hi {firstName|}!", BLANK)
    assert rendered.text == "Hi!"
    assert (rendered.fallbacks_used, rendered.missing) == (("firstName",), ())


def test_values_have_their_whitespace_collapsed():
    assert render("Hi {firstName}!", {"firstName": "  Mary \n Ann  "}).text == "Hi Mary Ann!"


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("Hi {firstName}, how are you?", "Hi, how are you?"),
        ("Hi {firstName} there", "Hi there"),
        ("Hi {firstName}!", "Hi!"),
        ("Hi {firstName}.", "Hi."),
        ("Is that you {firstName}?", "Is that you?"),
        ("Hi {firstName} {lastName}, ok", "Hi, ok"),
        ("Hi {firstName}{lastName}, ok", "Hi, ok"),
        ("Thanks, {firstName}", "Thanks,"),
        ("{firstName} here is the offer", "here is the offer"),
        ("Line one\n{firstName} line two", "Line one\nline two"),
        ("Hi {firstName}\nNext line", "Hi\nNext line"),
        ("Hi {firstName} - quick question", "Hi - quick question"),
        ("(re: {companyName})", "(re:)"),
        ("Hi  {firstName}  there", "Hi  there"),  # the author's own double space stays
    ],
)
def test_missing_tokens_leave_tidy_spacing(body, text):
    assert render(body, BLANK).text == text


def test_present_values_keep_spacing_as_written():
    assert render("Hi {firstName} , ok", VALUES).text == "Hi John , ok"


def test_unknown_tokens_render_as_missing():
    rendered = render("Hi {nickname}!", VALUES)
    assert (rendered.text, rendered.missing) == ("Hi!", ("nickname",))


def test_render_uses_cached_parse_for_a_repeated_body():
    body = "Hi {firstName|there}, {senderName} here."
    texts = {render(body, {**VALUES, "firstName": name}).text for name in ("Ann", "Bo", "")}
    assert texts == {"Hi Ann, Sam here.", "Hi Bo, Sam here.", "Hi there, Sam here."}


# --------------------------------------------------------------------- lead values


def test_lead_values_tidy_a_shouty_list_row():
    lead = Lead(
        owner=Owner(first_name="JOHN"),
        business=Business(
            name="ACME HVAC SERVICES LLC",
            city="AUSTIN",
            state="TX",
            industry="PLUMBING, HEATING, AIR-CONDITIONING",
            sic_code="1711",
        ),
    )
    assert lead_values(lead, sender_name="Sam") == {
        "firstName": "John",
        "lastName": "",
        "fullName": "John",
        "companyName": "Acme HVAC Services",
        "industry": "plumbing and HVAC companies",
        "city": "Austin",
        "state": "TX",
        "senderName": "Sam",
    }


@pytest.mark.parametrize(
    ("first_name", "expected"),
    [
        ("JOHN", "John"),
        ("john", "John"),
        ("John", "John"),
        ("McDonald", "McDonald"),
        ("DeShawn", "DeShawn"),
        ("MCDONALD", "McDonald"),
        ("O'BRIEN", "O'Brien"),
        ("MARY-KATE", "Mary-Kate"),
        ("  Ann  ", "Ann"),
        ("J.", ""),  # an initial is no name to greet someone by
        ("J", ""),
        ("", ""),
    ],
)
def test_first_name_is_title_cased_only_when_the_list_shouted(first_name, expected):
    assert lead_values(make_lead({"first_name": first_name}))["firstName"] == expected


def test_names_come_from_the_full_name_when_the_parts_are_missing():
    values = lead_values(make_lead({"full_name": "JOHN A SMITH"}))
    assert (values["firstName"], values["lastName"]) == ("John", "Smith")
    assert values["fullName"] == "John A Smith"


def test_full_name_is_built_from_the_parts_when_missing():
    values = lead_values(make_lead({"first_name": "JANE", "last_name": "DOE"}))
    assert (values["firstName"], values["lastName"], values["fullName"]) == (
        "Jane",
        "Doe",
        "Jane Doe",
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ACME HVAC SERVICES LLC", "Acme HVAC Services"),
        ("ACME HVAC SERVICES, LLC", "Acme HVAC Services"),
        ("ACME HVAC SERVICES, L.L.C.", "Acme HVAC Services"),
        ("Acme, Inc.", "Acme"),
        ("Acme Inc", "Acme"),
        ("ACME CORP", "Acme"),
        ("Acme Co.", "Acme"),
        ("Acme Ltd", "Acme"),
        ("Smith & Jones LLP", "Smith & Jones"),
        ("Smith Dental PC", "Smith Dental"),
        ("Smith Law PLLC", "Smith Law"),
        ("Acme Holdings Inc. LLC", "Acme Holdings"),
        ("Smith & Co", "Smith & Co"),  # "& Co" is the name, not a legal form
        ("JTS ROOFING", "JTS Roofing"),
        ("ABC PLUMBING & HEATING", "ABC Plumbing & Heating"),
        ("BBQ KING", "BBQ King"),
        ("Acme Hvac Services", "Acme Hvac Services"),  # mixed case is kept as typed
        ("ACME LLC DBA ACME PLUMBING", "Acme Plumbing"),  # the trade name is what they use
        ("Acme LLC d/b/a Acme Plumbing", "Acme Plumbing"),
        ("LLC", "LLC"),  # never empties a name
        ("", ""),
    ],
)
def test_company_name_is_tidied_for_a_text(name, expected):
    assert company_name(name) == expected
    assert lead_values(make_lead(business={"name": name}))["companyName"] == expected


@pytest.mark.parametrize(
    ("business", "expected"),
    [
        # The list's descriptions are jargon: the code's plain words are said instead.
        (
            {"industry": "General Contractors-Single-Family Houses", "sic_code": "1521"},
            "home builders",
        ),
        (
            {"industry": "OFFICES OF HEALTH PRACTITIONERS, NEC", "sic_code": "8049"},
            "health practices",
        ),
        ({"industry": "Offices Of Dentists", "sic_code": "8021"}, "dental practices"),
        ({"sic_code": "80210000"}, "dental practices"),  # Data Axle's 8-digit codes
        ({"sic_code": "1711"}, "plumbing and HVAC companies"),
        ({"sic_code": "782"}, "lawn care and landscaping companies"),  # the lost leading zero
        ({"sic_code": "1799"}, "specialty contractors"),
        ({"sic_code": "1700"}, "specialty contractors"),  # the major group's words
        ({"naics_code": "238220"}, "plumbing and HVAC companies"),
        ({"naics_code": "621210"}, "dental practices"),
        ({"naics_code": "621111"}, "medical practices"),  # the longest known prefix, 6211
        ({"naics_code": "541110"}, "law firms"),
        ({"sic_code": "5812", "naics_code": "541110"}, "restaurants"),  # SIC first
        ({"sic_code": "9999", "naics_code": "811111"}, "auto repair shops"),
        ({"industry": "PLUMBING CONTRACTORS"}, ""),  # no code: the fallback, never jargon
        ({"industry": "Offices of Health Practitioners NEC", "sic_code": "9199"}, ""),
        ({}, ""),
    ],
)
def test_industry_is_plain_words_for_the_code(business, expected):
    assert lead_values(make_lead(business={"name": "Acme", **business}))["industry"] == expected


def test_industry_without_words_takes_the_template_fallback():
    lead = make_lead(business={"name": "Acme", "industry": "OFFICES OF HEALTH PRACTITIONERS NEC"})
    text = render("Owners of {industry|businesses like yours}", lead_values(lead)).text
    assert text == "Owners of businesses like yours"


@pytest.mark.parametrize(
    ("city", "expected"),
    [
        ("AUSTIN", "Austin"),
        ("san antonio", "San Antonio"),
        ("WINSTON-SALEM", "Winston-Salem"),
        ("McKinney", "McKinney"),
        ("", ""),
    ],
)
def test_city_is_title_cased(city, expected):
    assert lead_values(make_lead(business={"name": "Acme", "city": city}))["city"] == expected


@pytest.mark.parametrize("state", ["TX", "tx", ""])
def test_state_is_as_given(state):
    assert lead_values(make_lead(business={"name": "Acme", "state": state}))["state"] == state


def test_a_lead_without_owner_or_business_has_blank_values():
    assert lead_values(Lead()) == BLANK


def test_lead_values_feed_render_with_fallbacks_for_the_gaps():
    lead = make_lead({"first_name": ""}, {"name": "ACME PLUMBING, INC.", "city": "DALLAS"})
    body = "Hi {firstName|there}, {senderName} here. Is {companyName} in {city} for sale?"
    rendered = render(body, lead_values(lead, sender_name="Sam"))
    assert rendered.text == "Hi there, Sam here. Is Acme Plumbing in Dallas for sale?"
    assert rendered.fallbacks_used == ("firstName",)


# ------------------------------------------------------------------------- opt-out


@pytest.mark.parametrize(
    "body",
    [
        OPT_OUT_DEFAULT,
        "Hi John, quick question. Reply STOP to opt out",
        "reply stop to opt out.",
        "REPLY STOP TO OPT OUT",
        "Reply STOP to opt-out",
        "Reply  STOP\nto   opt out",
        "Reply\u00a0STOP to opt out",
        "Reply STOP to unsubscribe",
        "Text STOP to opt out",
        "Txt STOP to quit",
        "STOP to end",
        "Reply STOP to stop",
        "Reply STOP to cancel",
        "Reply STOP to be removed",
        "Reply “STOP” to opt out",
        'Reply "STOP" to opt out',
        "Reply STOP anytime to opt out",
        "Reply STOP at any time to unsubscribe",
        "To opt out, reply STOP",
        "Opt-out: text STOP",
        "Unsubscribe: reply STOP",
        "Reply END to opt out",
        "Text QUIT to stop",
    ],
)
def test_opt_out_wording_is_found(body):
    assert has_opt_out(f"Hi John, are you open to selling Acme? {body}")


@pytest.mark.parametrize(
    "body",
    [
        "",
        "Hi John, quick question about Acme HVAC Services.",
        "Reply STOP",  # says what to send, not why
        "Text STOP.",
        "Stop by our office any time.",
        "Don't stop now!",
        "We never stop to think about it.",
        "Nonstop to end of day",
        "Reply YES to learn more",
        "Unsubscribe",
        "Opt out",
        "It's a great time to end the year on a high note",
        "We have end to end encryption",
        "Reply CANCEL",
    ],
)
def test_text_without_opt_out_wording_is_not_mistaken_for_it(body):
    assert not has_opt_out(body)


@pytest.mark.parametrize(
    ("body", "team_wording"),
    [
        ("Hi! Text BYE and we won't write again.", "Text BYE and we won't write again"),
        ("Hi! text bye and  we won’t write again", "Text BYE and we won't write again."),
        ("Hi!\nNo more texts? Say NOPE", "No more texts? Say NOPE"),
    ],
)
def test_the_teams_own_wording_counts(body, team_wording):
    assert has_opt_out(body, team_wording)
    assert not has_opt_out(body)


def test_blank_team_wording_matches_nothing_extra():
    assert not has_opt_out("Hello there", "")
    assert not has_opt_out("Hello there", "   ")
