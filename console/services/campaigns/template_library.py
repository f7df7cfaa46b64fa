"""The seed library a new team's SMS templates are copied from.

Pure data: openers per vertical (GIANNA, first touch), follow-ups and nudges (CATHY),
booking and price questions (SABRINA), nurture (GIANNA) and support replies (NEVA).
Every first touch says who is writing ({senderName}) and ends with the opt-out line.
Texts are plain GSM-7 (straight quotes, hyphens, no emoji), carry no links and promise
no price or valuation, and each asks one question that is easy to answer. With typical
values (an 8-letter first name, a 20-letter company, a 25-letter team name) every text
fits one 160-character segment; the tests also render long values and empty fallbacks.

Token syntax is the renderer's (`console.services.campaigns.tokens`): `{firstName|there}` is the
lead's first name, or "there" when it is blank.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.services.campaigns.tokens import OPT_OUT_DEFAULT

OPT_OUT = OPT_OUT_DEFAULT  # every first touch ends with it


@dataclass(frozen=True)
class SeedTemplate:
    """One template of the seed library; `body` is variant A, `variants` are B, C..."""

    name: str
    persona: str  # "GIANNA" | "CATHY" | "SABRINA" | "NEVA"
    category: str  # a key of CATEGORIES
    vertical: str  # a key of VERTICALS
    touch: str  # "first" (must carry the opt-out line) or "follow_up"
    body: str
    variants: tuple[str, ...] = ()

    @property
    def texts(self) -> tuple[str, ...]:
        """Variant A followed by the others, in A/B order."""
        return (self.body, *self.variants)


PERSONAS: tuple[str, ...] = ("GIANNA", "CATHY", "SABRINA", "NEVA")
TOUCHES: tuple[str, ...] = ("first", "follow_up")

CATEGORIES: dict[str, str] = {
    "opener": "Opener (first touch)",
    "follow_up": "Follow-up (after a reply or a first silence)",
    "nudge": "Nudge (gone quiet)",
    "booking": "Booking (set the call)",
    "nurture": "Nurture (not now, stay in touch)",
}

VERTICALS: dict[str, str] = {
    "business_broker": "Business broker",
    "real_estate": "Real estate investor",
    "private_equity": "Private equity / roll-up",
    "ma_advisor": "M&A advisor",
    "general": "Any vertical",
}

SOURCE_NOTE = (
    "Learned from the seed repository NextierTech11105/OutreachGlobal- and rewritten in "
    "our own words: the GIANNA/CATHY/SABRINA hand-off and per-vertical openers of "
    "apps/front/src/config/sms-templates/nextier-openers.ts (business broker, real estate, "
    "M&A consultant, private equity, roll-up and exit-minded owner openers, CATHY nudges, "
    "SABRINA closers); the vertical cartridges, CATHY nudge ladder and SABRINA objection "
    "and booking packs of apps/front/src/lib/sms/template-cartridges.ts; the 160-character, "
    "one-question, tone-ladder and breakup rules of apps/front/src/lib/templates/"
    "nextier-defaults.ts; the permission-based cold and engaged-lead lanes and soft closes "
    "of apps/front/src/lib/sms/conversational/gianna-nextier-templates.ts; the owner-exit "
    "first touches of apps/front/src/lib/templates/sms_initial.json; the initial, "
    "follow-up, retarget and nudger libraries of apps/front/src/lib/ai-workers/"
    "message-templates.ts; the opt-out footers of apps/front/src/lib/sms/templates/"
    "initial-message-library.ts and data-themed-templates.ts; the day 1/3/7 cadence and "
    "NEVA retention stage of apps/front/src/lib/sms/campaign-templates.ts; and the opener "
    "library of apps/front/src/lib/gianna/knowledge-base/message-library.ts. The seed's "
    "free-valuation offers, price and multiple claims, results claims, emoji and "
    "pushy humor were left out."
)


def _first(name: str, vertical: str, body: str, *variants: str) -> SeedTemplate:
    return SeedTemplate(name, "GIANNA", "opener", vertical, "first", body, variants)


SEED_TEMPLATES: tuple[SeedTemplate, ...] = (
    # --- Business broker: the owner may sell the business one day -----------------------
    _first(
        "Broker opener: curious about selling",
        "business_broker",
        "Hi {firstName|there}, this is {senderName}. We help owners sell businesses like "
        "{companyName|yours}. Ever thought about selling? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. We help owners in {industry|your field} sell "
        "their business. Is a sale on your radar at all? Reply STOP to opt out",
    ),
    _first(
        "Broker opener: exit timeline",
        "business_broker",
        "Hi {firstName|there}, it's {senderName}. Do you see yourself running "
        "{companyName|the business} 5 more years, or less? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Many owners start planning an exit 2-3 years "
        "ahead. Is that on your mind yet? Reply STOP to opt out",
    ),
    _first(
        "Broker opener: buyers asking",
        "business_broker",
        "Hi {firstName|there}, this is {senderName}. Buyers ask us about businesses in "
        "{industry|your field} near {city|you}. Open to a private chat? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. We know buyers looking for businesses like "
        "{companyName|yours}. Would you hear one out? Reply STOP to opt out",
    ),
    _first(
        "Broker opener: still the owner",
        "business_broker",
        "Hi {firstName|there}, this is {senderName}. Are you still the owner of "
        "{companyName|the business}? One quick question if so. Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Am I reaching the owner of "
        "{companyName|the business}? Reply STOP to opt out",
    ),
    _first(
        "Broker opener: succession plan",
        "business_broker",
        "Hi {firstName|there}, it's {senderName}. Is someone lined up to take over "
        "{companyName|the business} one day, or is that still open? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Will family or staff take over "
        "{companyName|the business}, or is that undecided? Reply STOP to opt out",
    ),
    # --- Real estate investor: the owner holds property the investor may buy -------------
    _first(
        "Real estate opener: own the building",
        "real_estate",
        "Hi {firstName|there}, this is {senderName}. Do you own the building where "
        "{companyName|your business} operates? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Quick one: is the building "
        "{companyName|your business} uses owned or leased? Reply STOP to opt out",
    ),
    _first(
        "Real estate opener: open to an offer",
        "real_estate",
        "Hi {firstName|there}, it's {senderName}. We buy property in {city|your area} "
        "directly from owners. Would you ever consider selling yours? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. We're local buyers in {city|the area}. Is your "
        "property something you'd sell at the right time? Reply STOP to opt out",
    ),
    _first(
        "Real estate opener: sale-leaseback",
        "real_estate",
        "Hi {firstName|there}, this is {senderName}. Some owners sell their building and "
        "stay on as tenants. Have you ever looked at that? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Would freeing up the cash in your building "
        "while staying put interest you? Reply STOP to opt out",
    ),
    _first(
        "Real estate opener: plans for the property",
        "real_estate",
        "Hi {firstName|there}, it's {senderName}. Any plans for your {city|local} property "
        "in the next year or two: hold, sell or unsure? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Are you keeping your property long term, or "
        "open to selling at some point? Reply STOP to opt out",
    ),
    # --- Private equity / roll-up: partner, recapitalise or join a group -----------------
    _first(
        "PE opener: partner with the owner",
        "private_equity",
        "Hi {firstName|there}, this is {senderName}. We invest in {industry|businesses like "
        "yours} and the owners stay on. Worth a short chat? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. We back owners in {industry|your field} and "
        "keep the team in place. Curious how that works? Reply STOP to opt out",
    ),
    _first(
        "PE opener: join a group",
        "private_equity",
        "Hi {firstName|there}, it's {senderName}. We're bringing together companies in "
        "{industry|your field} across {state|the region}. Open to hearing more? "
        "Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. We're growing a group of companies in "
        "{industry|your field}. Would yours ever be a fit? Reply STOP to opt out",
    ),
    _first(
        "PE opener: sell part, keep going",
        "private_equity",
        "Hi {firstName|there}, this is {senderName}. Some owners sell part of the company to "
        "grow and take risk off. Is that of interest? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Would a partner who buys a share and helps you "
        "grow {companyName|the business} appeal to you? Reply STOP to opt out",
    ),
    _first(
        "PE opener: direct buyer",
        "private_equity",
        "Hi {firstName|there}, it's {senderName}. We buy businesses in {industry|your field} "
        "directly, no listing. Would you talk to a buyer? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. We buy companies like {companyName|yours} "
        "privately, owner to owner. Open to a quiet chat? Reply STOP to opt out",
    ),
    # --- M&A advisor: strategic options, offers, readiness ------------------------------
    _first(
        "M&A opener: scale, sell or pass on",
        "ma_advisor",
        "Hi {firstName|there}, this is {senderName}. Are you building {companyName|the "
        "business} to scale, to sell or to pass on? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Grow, sell or hand down: which one is the plan "
        "for {companyName|the business}? Reply STOP to opt out",
    ),
    _first(
        "M&A opener: unsolicited offers",
        "ma_advisor",
        "Hi {firstName|there}, it's {senderName}. Do buyers ever call you about "
        "{companyName|your company}? We help owners weigh them. Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Getting letters or calls from buyers lately? "
        "Want a second opinion on them? Reply STOP to opt out",
    ),
    _first(
        "M&A opener: ready for a buyer",
        "ma_advisor",
        "Hi {firstName|there}, this is {senderName}. If a buyer called tomorrow, would "
        "{companyName|the business} be ready? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Would {companyName|your company} hold up to a "
        "buyer's review today, or need some prep? Reply STOP to opt out",
    ),
    _first(
        "M&A opener: confidential advice",
        "ma_advisor",
        "Hi {firstName|there}, it's {senderName}. We advise owners on sales and mergers, "
        "in confidence. Is anything like that on your mind? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Thinking about a sale or merger, even loosely? "
        "We keep those talks private. Reply STOP to opt out",
    ),
    # --- Any vertical ---------------------------------------------------------------------
    _first(
        "General opener: one quick question",
        "general",
        "Hi {firstName|there}, this is {senderName}. May I ask you one quick question about "
        "{companyName|your business}? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Do you have 30 seconds for one question about "
        "{companyName|your business}? Reply STOP to opt out",
    ),
    _first(
        "General opener: what comes next",
        "general",
        "Hi {firstName|there}, it's {senderName}. After {companyName|the business}, what "
        "comes next for you: retire, start over or not sure? Reply STOP to opt out",
        "{firstName|Hi}, {senderName} here. Do you have a plan for the day you step back "
        "from {companyName|the business}? Reply STOP to opt out",
    ),
    # --- CATHY follow-ups: a first silence, or a short reply to move on from -------------
    SeedTemplate(
        "Follow-up: did this reach you",
        "CATHY",
        "follow_up",
        "general",
        "follow_up",
        "Hi {firstName|there}, following up on my text from {senderName}. Is this the "
        "right number for you? A quick yes or no is fine.",
        (
            "{firstName|Hi}, circling back on my last note. Is now a bad time, or just not "
            "something you think about?",
        ),
    ),
    SeedTemplate(
        "Follow-up: best way to continue",
        "CATHY",
        "follow_up",
        "general",
        "follow_up",
        "{firstName|Hi}, thanks for the reply. What works best from here: a short call, "
        "email, or keep texting?",
        ("{firstName|Hi}, good to hear from you. Would a call or an email suit you better?",),
    ),
    SeedTemplate(
        "Follow-up: check back later",
        "CATHY",
        "follow_up",
        "general",
        "follow_up",
        "{firstName|Hi}, no rush at all. Would it help if I checked back in a few months instead?",
        ("{firstName|Hi}, understood. Is there a better time of year for me to check in?",),
    ),
    # --- CATHY nudges: gone quiet, light and respectful ----------------------------------
    SeedTemplate(
        "Nudge: buried text",
        "CATHY",
        "nudge",
        "general",
        "follow_up",
        "{firstName|Hi}, just making sure my last text didn't get buried. Worth a short "
        "conversation, yes or no?",
        (
            "Hi {firstName|there}, texts get lost in a busy week. Still worth a quick chat "
            "about {companyName|the business}?",
        ),
    ),
    SeedTemplate(
        "Nudge: ten minutes",
        "CATHY",
        "nudge",
        "general",
        "follow_up",
        "Hi {firstName|there}, I know running {companyName|the business} keeps you busy. "
        "Would 10 minutes this month be worth it, or should I leave it?",
    ),
    SeedTemplate(
        "Nudge: last note",
        "CATHY",
        "nudge",
        "general",
        "follow_up",
        "{firstName|Hi}, this is my last note. If timing ever changes, just reply here and "
        "we'll pick it up. All the best. - {senderName}",
        (
            "{firstName|Hi}, last one from me. No hard feelings, timing is everything. If "
            "things change, you have our number. - {senderName}",
        ),
    ),
    # --- SABRINA booking: set the call, handle the price question -----------------------
    SeedTemplate(
        "Booking: two options",
        "SABRINA",
        "booking",
        "general",
        "follow_up",
        "Great, {firstName|thanks}. Would Tuesday or Thursday work for a 15-minute call? "
        "Morning or afternoon?",
        (
            "{firstName|Hi}, glad to set it up. Is tomorrow or Friday better for a short call?",
            "{firstName|Hi}, happy to set that up. What day and time this week suits you for "
            "a short call?",
        ),
    ),
    SeedTemplate(
        "Booking: confirm the call",
        "SABRINA",
        "booking",
        "general",
        "follow_up",
        "{firstName|Hi}, you're set for a call with {senderName}. If anything comes up, "
        "just reply here and we'll move it. Does that still work?",
    ),
    SeedTemplate(
        "Booking: price question",
        "SABRINA",
        "booking",
        "general",
        "follow_up",
        "{firstName|Hi}, fair question. Any number depends on details we'd go over on a "
        "short call, so I won't guess by text. Does this week work?",
        (
            "{firstName|Hi}, I'd rather not put a number in a text without knowing more. "
            "Could we cover it on a 15-minute call this week?",
        ),
    ),
    # --- GIANNA nurture: not now, stay in touch -----------------------------------------
    SeedTemplate(
        "Nurture: few months on",
        "GIANNA",
        "nurture",
        "general",
        "follow_up",
        "Hi {firstName|there}, it's {senderName}. It's been a few months, so checking in. "
        "Has anything changed with your plans for {companyName|the business}?",
        (
            "{firstName|Hi}, {senderName} here again. Checking in after a while. Are your "
            "plans for {companyName|the business} the same as before?",
        ),
    ),
    SeedTemplate(
        "Nurture: year-end planning",
        "GIANNA",
        "nurture",
        "general",
        "follow_up",
        "{firstName|Hi}, {senderName} here. As the year wraps up, many owners think about "
        "the next few years. Is a sale anywhere on your list?",
    ),
    # --- NEVA support: answers to "who is this?" and "wrong number" ----------------------
    SeedTemplate(
        "Support: who is this",
        "NEVA",
        "follow_up",
        "general",
        "follow_up",
        "This is {senderName}. We talk with owners about selling, buying and partnering. "
        "Happy to explain more, or reply STOP and we won't text again.",
    ),
    SeedTemplate(
        "Support: wrong person",
        "NEVA",
        "follow_up",
        "general",
        "follow_up",
        "Thanks for letting us know, and sorry for the mix-up. We'll update our records "
        "and won't text this number about it again.",
    ),
)


def by_vertical(vertical: str) -> tuple[SeedTemplate, ...]:
    """The templates of one vertical, in library order."""
    return tuple(t for t in SEED_TEMPLATES if t.vertical == vertical)
