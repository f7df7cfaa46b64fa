"""The inbox in a real browser: owners' replies arrive while the page is open, are read
and drafted, and a reviewer answers, archives, converts and schedules from the keyboard.

The module runs a console of its own (the session's demo team must stay as the sample
made it), on the test clock (`tests.clock`). Once, the demo admin opens the team's
sending window to every minute and texts three imported owners in a place whose legal
texting hours are open on that clock, whatever the hour, through a
campaign in the sandbox Twilio; each test then has owners' replies arrive through the
inbox's "Simulate a reply (sandbox)" form, which hands them to the same
`inbound.receive` as Twilio's webhook. The admin sends the replies from a browser of
their own, so the operator's page shows them only if its live polling does. No Anthropic
key is configured: replies are read by the rules and drafted from persona templates.
Screenshots for a person to look at: `tests/e2e/screenshots/inbox-*.png`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest

from console.models import Role
from console.services.campaigns import segments
from console.services.phones import display
from tests import clock
from tests.e2e.conftest import (
    CLIENT_ADDRESSES,
    SCREENSHOTS,
    VIEWPORT,
    assert_fits_width,
    assert_not_reloaded,
    expect,
    mark_page,
    running_console,
    sign_in,
    url_path,
)
from tests.e2e.test_campaigns import (
    OPEN_PLACE,
    OWNERS,
    SETTLE_TIMEOUT_MS,
    WEEKDAYS,
    approve_all,
    figure,
    import_leads,
    mobiles,
    set_team_window,
    tagged_campaign,
    write_leads,
)

pytestmark = pytest.mark.e2e

# A reply is read in the one embedded worker thread, which may be busy sending for a
# few seconds first; then the list's next 3 s poll shows it.
READ_TIMEOUT_MS = 30_000
# How long a bug test waits for what should show at once (they fail today: keep it short).
AT_ONCE_MS = 5_000
CALLBACK_REPLY = "Yes I might sell. Call me tomorrow after 3pm"
HOSTILE_REPLY = "<b>bold</b><script>window.__pwned=1</script>"


class Texted(NamedTuple):
    """The owners the campaign texted (number and name), and numbers nobody texted."""

    numbers: tuple[str, ...]
    owners: tuple[str, ...]
    strangers: tuple[str, ...]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    """A console of this module's own: its leads are texted and answered here."""
    with running_console(tmp_path_factory.mktemp("inbox-instance"), test_clock=True) as server:
        yield server


@pytest.fixture(scope="module")
def admin(browser, console_server):
    """The demo admin, signed in in a browser context of their own beside the tests'."""
    context = browser.new_context(
        viewport=VIEWPORT,
        base_url=console_server.url,
        extra_http_headers={"X-Forwarded-For": next(CLIENT_ADDRESSES)},
    )
    context.set_default_timeout(10_000)
    admin_page = context.new_page()
    sign_in(admin_page, Role.ADMIN)
    yield admin_page
    context.close()


@pytest.fixture(scope="module")
def texted(admin, tmp_path_factory) -> Texted:
    """Three imported owners texted by a campaign, every text delivered."""
    place = OPEN_PLACE
    numbers = mobiles(place, range(200, 240), delivered=3, failed=0)
    strangers = mobiles(place, range(240, 280), delivered=5, failed=0)
    set_team_window(admin, "00:00", "23:59", WEEKDAYS)
    tag = "e2e-inbox"
    folder = tmp_path_factory.mktemp("inbox-leads")
    import_leads(
        admin, write_leads(folder / f"{tag}.csv", place, "Fittings", numbers, strangers[-1])
    )
    tagged_campaign(admin, f"E2E inbox {place.state}", tag, 3)
    approve_all(admin, 3)
    counters = admin.locator("#batch-counters")
    expect(figure(counters, "Delivered")).to_have_text("3", timeout=SETTLE_TIMEOUT_MS)
    return Texted(tuple(numbers), OWNERS[:3], tuple(strangers[:4]))


# --------------------------------------------------------------------------- helpers


def snap(page, name: str) -> None:
    """A full-page screenshot at `tests/e2e/screenshots/inbox-<name>.png`."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"inbox-{name}.png", full_page=True)


def receive(admin, e164: str, body: str) -> None:
    """A reply from `e164` through the sandbox form on the admin's inbox."""
    admin.goto("/inbox")
    admin.get_by_text("Simulate a reply (sandbox)").click()
    form = admin.locator("details.simulate form")
    form.get_by_label("From").fill(e164)
    form.get_by_label("Text").fill(body)
    with admin.expect_response(url_path("/inbox/simulate$")) as answer:
        form.get_by_role("button", name="Receive").click()
    assert answer.value.status == 200


def open_inbox(page) -> None:
    """The operator's inbox, To do."""
    page.goto("/inbox")
    expect(page.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()


def row(page, text: str):
    """The list's row showing `text` (a name, a number or the reply's words); an E.164
    number is looked for as the list shows it, "(907) 555-0240"."""
    shown = display(text) if text.startswith("+") else text
    return page.locator("#inbox-list .inbox-row").filter(has_text=shown)


def detail(page):
    """The open item's panel."""
    return page.locator("#inbox-detail .inbox-item")


def fact(scope, label: str):
    """The value beside `label` in the panel's reading or lead card."""
    return (
        scope.locator("dl > div").filter(has=scope.page.locator("dt", has_text=label)).locator("dd")
    )


def read_row(page, text: str, label: re.Pattern | str, *, live: bool = True):
    """Wait for the row showing `text` to be read with `label`; the row. Live, the open
    page must show it by itself; otherwise the page is reloaded every 2 s, as a person
    would (for tests about something else than the live list)."""
    found = row(page, text)
    if not live:
        for _ in range(READ_TIMEOUT_MS // 2000):
            if found.locator(".label").filter(has_text=label).count():
                break
            page.wait_for_timeout(2000)
            page.reload()
    expect(found.locator(".label")).to_have_text(label, timeout=READ_TIMEOUT_MS)
    return found


def open_item(page, found) -> None:
    """Open a row's item by its link's address (a page of its own, the list beside it)."""
    item_id = found.get_attribute("data-item")
    page.goto(found.locator(".row-link").get_attribute("href"))
    expect(detail(page)).to_have_attribute("data-item", item_id)


def csrf_token(page) -> str:
    """The page's CSRF token, as htmx sends it."""
    return page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")


# ----------------------------------------------------------------------- the tests


def test_reply_arrives_live_is_read_and_answered_from_the_keyboard(page, admin, texted):
    owner, stranger = texted.owners[0], texted.strangers[0]
    sign_in(page, Role.OPERATOR)
    open_inbox(page)
    expect(row(page, owner)).to_have_count(0)
    mark_page(page)

    # The owner answers; the operator's open page shows it at its next poll, then read.
    receive(admin, texted.numbers[0], CALLBACK_REPLY)
    arrived = row(page, owner)
    expect(arrived).to_be_visible(timeout=READ_TIMEOUT_MS)
    expect(arrived.locator(".snippet")).to_have_text(CALLBACK_REPLY)
    read_row(page, owner, "Callback request")
    expect(arrived.locator(".bucket")).to_have_text(re.compile(r"^(urgent|high)$"))
    expect(arrived.locator(".due")).to_have_text(re.compile(r"^due in \d+ min$"))
    # A number nobody on file has: matched to no lead.
    receive(admin, stranger, "who is this?")
    unmatched = read_row(page, stranger, "Question")
    expect(unmatched.locator(".who")).to_contain_text("unmatched")
    assert_not_reloaded(page)
    snap(page, "01-live-list")

    # The reading, the deadline and the persona's template draft with its count.
    open_item(page, arrived)
    panel = detail(page)
    item_id = panel.get_attribute("data-item")
    expect(panel.get_by_role("heading", level=2)).to_have_text(owner)
    expect(fact(panel, "Reading")).to_contain_text("Callback request")
    expect(fact(panel, "Reading")).to_contain_text("by the rules")
    expect(fact(panel, "Priority")).to_contain_text(re.compile(r"(Urgent|High) → Callbacks"))
    expect(fact(panel, "Answer by")).to_have_text(
        re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}, (\d{1,2}:\d\d [ap]m|noon|midnight) E[SD]T$")
    )
    expect(fact(panel, "Callback time")).to_have_text("tomorrow after 3pm")
    editor = panel.get_by_role("textbox", name=re.compile(r"^Reply"))
    expect(editor).not_to_have_value("")
    draft = editor.input_value()
    measure = panel.locator(".measure")
    expect(measure).to_contain_text(segments.measure(draft).summary)
    expect(panel.locator("form.reply")).to_contain_text("the template")
    mark_page(page)
    assert_fits_width(page)
    snap(page, "02-read-and-drafted")

    # j walks down the list to the unmatched number, k walks back, one row a key.
    listed = page.locator("#inbox-list .inbox-row")
    ids = listed.evaluate_all("rows => rows.map(row => row.dataset.item)")
    start, end = ids.index(item_id), ids.index(unmatched.get_attribute("data-item"))
    assert start < end, "a callback request ranks above a question"
    page.locator("body").focus()
    for at in range(start + 1, end + 1):
        page.keyboard.press("j")
        expect(panel).to_have_attribute("data-item", ids[at])
        expect(listed.nth(at)).to_have_attribute("aria-selected", "true")
    expect(panel.get_by_role("heading", level=2)).to_have_text(display(stranger))
    expect(panel.get_by_role("complementary", name="Lead")).to_contain_text(
        "This number matches no lead (unmatched)."
    )
    snap(page, "03-unmatched")
    for at in range(end - 1, start - 1, -1):
        page.keyboard.press("k")
        expect(panel).to_have_attribute("data-item", ids[at])
        expect(listed.nth(at)).to_have_attribute("aria-selected", "true")
    expect(panel.get_by_role("heading", level=2)).to_have_text(owner)
    expect(listed.nth(end)).to_have_attribute("aria-selected", "false")
    assert_not_reloaded(page)

    # ? shows the keys; Escape closes them.
    page.locator("body").focus()
    page.keyboard.press("?")
    help_dialog = page.locator("dialog#inbox-help")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("approve and send the draft")
    snap(page, "04-keyboard-help")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    # e puts the cursor in the draft; the count follows the typing, an emoji is UCS-2.
    page.locator("body").focus()
    page.keyboard.press("e")
    expect(editor).to_be_focused()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Talk soon")
    expect(measure).to_contain_text(segments.measure(draft + " Talk soon").summary)
    page.keyboard.type(" \U0001f44d")
    edited = draft + " Talk soon \U0001f44d"
    assert segments.measure(edited).encoding == "UCS-2"
    expect(editor).to_have_value(edited)
    expect(measure).to_contain_text(segments.measure(edited).summary)
    expect(measure).to_contain_text("UCS-2 (because of")
    snap(page, "05-editing")

    # Ctrl+Enter sends: the item leaves To do and the panel moves on to the next reply.
    page.keyboard.press("Control+Enter")
    expect(row(page, owner)).to_have_count(0)
    expect(panel).not_to_have_attribute("data-item", item_id)
    expect(row(page, stranger)).to_be_visible()
    assert_not_reloaded(page)
    snap(page, "06-moved-on")

    # The item is done; its conversation has the reply, queued and then sent.
    page.goto(f"/inbox/{item_id}")
    expect(fact(panel, "State")).to_have_text("done: Reply sent")
    expect(panel.locator("form.reply")).to_have_count(0)
    expect(panel.locator(".turn-out").filter(has_text="Talk soon")).to_have_count(1)
    expect(panel.locator(".turn-in p")).to_have_text(CALLBACK_REPLY)
    sent = panel.locator(".turn-out:not(.queued)").filter(has_text="Talk soon")
    for _ in range(SETTLE_TIMEOUT_MS // 2000):
        if sent.count():
            break
        page.wait_for_timeout(2000)
        page.reload()
    expect(sent).to_have_count(1)
    snap(page, "07-sent")


def test_stop_opts_out_at_once_and_leaves_nothing_to_send(page, admin, texted):
    owner = texted.owners[1]
    receive(admin, texted.numbers[1], "STOP")

    sign_in(page, Role.OPERATOR)
    open_inbox(page)
    expect(row(page, owner)).to_have_count(0)
    page.goto("/inbox?view=done")
    done = row(page, owner)
    expect(done.locator(".badge")).to_contain_text("Opted out")
    item_id = done.get_attribute("data-item")
    open_item(page, done)
    panel = detail(page)
    expect(panel.get_by_role("heading", level=2)).to_have_text(owner)
    expect(fact(panel, "Reading")).to_contain_text("Opt-out")
    expect(fact(panel, "State")).to_have_text("done: Opted out")
    expect(panel.locator("form.reply")).to_have_count(0)
    expect(panel.get_by_role("button", name="Send reply")).to_have_count(0)
    # The confirmation went back as Twilio's answer and is in the conversation.
    expect(panel.locator(".turn-in p")).to_have_text("STOP")
    expect(panel.locator(".turn-out")).to_have_count(2)  # the opener, the confirmation
    snap(page, "08-opted-out")

    # Not even a hand-made request gets a text out.
    answer = page.request.post(
        f"/inbox/{item_id}/send",
        form={"body": "Sorry to see you go"},
        headers={"X-CSRFToken": csrf_token(page), "HX-Request": "true"},
    )
    assert answer.status == 422
    assert "already done" in answer.text()

    panel.get_by_role("complementary", name="Lead").get_by_role("link").first.click()
    expect(page).to_have_url(url_path(r"/leads/\d+$"))
    expect(page.locator(".status").first).to_have_text("do not contact")
    snap(page, "09-lead-do-not-contact")


def test_interested_owner_becomes_a_deal_and_gets_a_callback(page, admin, texted):
    number, owner = texted.numbers[2], texted.owners[2]
    receive(admin, number, "Yes, interested. What are the next steps?")

    sign_in(page, Role.OPERATOR)
    open_inbox(page)
    found = read_row(page, owner, "Interested", live=False)
    open_item(page, found)
    panel = detail(page)
    first_id = panel.get_attribute("data-item")
    lead_card = panel.get_by_role("complementary", name="Lead")
    expect(fact(lead_card, "Deal")).to_have_text("none")

    # c asks the deal's pipeline and stage (Discovery first) and value, then converts; the
    # panel moves on to the next reply.
    page.locator("body").focus()
    page.keyboard.press("c")
    question = page.get_by_role("dialog", name="Convert to a deal")
    expect(question.get_by_label("Pipeline and stage").locator("option:checked")).to_have_text(
        "Discovery"
    )
    question.get_by_role("button", name="Convert to deal").click()
    expect(row(page, owner)).to_have_count(0)
    expect(panel).not_to_have_attribute("data-item", first_id)
    page.goto(f"/inbox/{first_id}")
    expect(fact(panel, "State")).to_have_text("done: Converted to a deal")
    expect(fact(lead_card, "Deal")).to_have_text(re.compile(r"\(Discovery\)$"))
    snap(page, "10-deal")

    # They write again asking for a call: a new item, and the callback goes on the lead.
    receive(admin, number, "Call me Friday at 10am")
    open_inbox(page)
    again = read_row(page, owner, "Callback request", live=False)
    open_item(page, again)
    second_id = panel.get_attribute("data-item")
    assert second_id != first_id
    callback = panel.locator("form.callback")
    expect(callback.get_by_label("Note")).to_have_value("Friday at 10am")
    # Filled in from the owner's words on the owner's clock (Chicago), the reviewer's
    # (the team's, US Eastern) beside it.
    today = clock.now().astimezone(ZoneInfo("America/Chicago"))  # the owner's today
    friday = today + timedelta(days=(4 - today.weekday()) % 7 or 7)
    expect(callback.get_by_label("Callback on")).to_have_value(f"{friday:%Y-%m-%d}")
    expect(callback.get_by_label("Callback at")).to_have_value("10:00")
    expect(callback).to_contain_text("the owner's time, Chicago")
    expect(callback.locator("output.equivalent")).to_have_text("= 11:00 am EST for you")
    callback.get_by_role("button", name="Schedule").click()
    expect(row(page, owner)).to_have_count(0)
    expect(panel).not_to_have_attribute("data-item", second_id)
    page.goto(f"/inbox/{second_id}")
    booked = (
        f"{friday:%a %b} {friday.day}, 10:00 am CST for the owner, Chicago = 11:00 am EST for you"
    )
    expect(fact(panel, "State")).to_contain_text("done")
    expect(fact(lead_card, "Callback")).to_have_text(f"{booked} · Friday at 10am")
    expect(fact(lead_card, "Deal")).to_have_text(re.compile(r"\(Discovery\)$"))
    snap(page, "11-callback")

    lead_card.get_by_role("link").first.click()
    expect(page).to_have_url(url_path(r"/leads/\d+$"))
    replies = page.locator("section").filter(
        has=page.get_by_role("heading", name="Replies and deals")
    )
    expect(replies).to_contain_text("Discovery since")
    expect(page.locator("#lead-tasks")).to_contain_text(booked)
    expect(page.locator("#lead-tasks")).to_contain_text("Friday at 10am")
    snap(page, "12-lead-deal-and-callback")


def test_reply_with_markup_shows_as_text_and_ticked_items_archive_together(page, admin, texted):
    hostile, other = texted.strangers[1], texted.strangers[2]
    receive(admin, hostile, HOSTILE_REPLY)
    receive(admin, other, "Not sure what this is about")

    sign_in(page, Role.OPERATOR)
    open_inbox(page)
    marked = read_row(page, "window.__pwned", "Unclear", live=False)
    expect(marked.locator(".snippet")).to_have_text(HOSTILE_REPLY)
    open_item(page, marked)
    expect(detail(page).locator(".turn-in p")).to_have_text(HOSTILE_REPLY)
    expect(page.locator("#inbox b", has_text="bold")).to_have_count(0)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    snap(page, "13-markup-as-text")

    plain = read_row(page, "Not sure what this is about", re.compile(r"."), live=False)
    marked = row(page, "window.__pwned")
    marked.get_by_role("checkbox").check()
    plain.get_by_role("checkbox").check()
    mark_page(page)
    page.get_by_role("button", name="Archive ticked").click()
    expect(marked).to_have_count(0)
    expect(plain).to_have_count(0)
    assert_not_reloaded(page)
    snap(page, "14-archived-ticked")

    page.goto("/inbox?view=done")
    expect(row(page, "window.__pwned").locator(".meta")).to_contain_text("Archived")
    expect(row(page, "Not sure what this is about").locator(".meta")).to_contain_text("Archived")


def test_archiving_the_open_reply_by_its_tick_leaves_no_reply_form_for_it(page, admin, texted):
    stranger = texted.strangers[3]
    receive(admin, stranger, "Is this about the truck I listed?")
    sign_in(page, Role.OPERATOR)
    open_inbox(page)
    found = read_row(page, stranger, re.compile(r"."), live=False)
    open_item(page, found)
    item_id = detail(page).get_attribute("data-item")

    found.get_by_role("checkbox").check()
    page.get_by_role("button", name="Archive ticked").click()
    expect(row(page, stranger)).to_have_count(0)
    expect(page.locator(f"#item-{item_id}").get_by_role("button", name="Send reply")).to_have_count(
        0, timeout=AT_ONCE_MS
    )
