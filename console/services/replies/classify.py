"""What an owner's reply says: its labels and the rules classifier.

`by_rules(text)` labels a reply with keyword and pattern rules, quickly and without a
network; the AI step (added elsewhere) may refine it, never the opt-out. Each label has
a table of named rules with a confidence; a reply gets every label whose rules match.

How one label is chosen when several match:

1. An opt-out (`console.services.replies.optout.read`) is STOP, always, whatever else the reply
   says; nothing else sets `opt_out`.
2. Strong rules (confidence 80 and up) beat weak ones: "My son is taking over next year
   so no" is a no, though "next year" alone would read as LATER.
3. Among labels of the same strength, the first in `PRECEDENCE` wins:
   WRONG_NUMBER > EMAIL_CAPTURE > NOT_OWNER > CALLBACK_REQUEST > PRICE_INQUIRY > LATER >
   NEGATIVE > POSITIVE > QUESTION. The reasoning, most useful lead first:
   - a wrong number makes everything else moot;
   - an email address is the best contact we can get, even from a "not right now"
     or from a manager passing on the owner's email;
   - a manager or former owner handing us someone else's phone is NOT_OWNER, not a
     callback: the number is a referral (it is still extracted);
   - a callback or a price question needs a person soon, whatever the mood;
   - LATER beats NEGATIVE ("not interested right now, maybe next year" leaves a door
     open) but a "never" or "not ever" in the same reply cancels LATER;
   - an interested reply that also asks something ("Maybe. Who are you with?") is
     POSITIVE; a bare question is QUESTION.
   Conditional interest that hinges on money ("for the right price", "depends on the
   number") is PRICE_INQUIRY: the next message is about the figure.
4. Nothing matched: UNCLEAR with low confidence (emoji, "ok", "k", a phone's reaction).

When another strong label also matched, the winner's confidence drops by 10 and `note`
names the other, so a reviewer or the AI step knows the rules were torn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from console.services.replies import optout
from console.services.replies.extraction import extract

__all__ = [
    "LABELS",
    "LABEL_NAMES",
    "POSITIVE_LABELS",
    "PRECEDENCE",
    "RULES",
    "Classification",
    "Rule",
    "by_rules",
]

LABELS: tuple[str, ...] = (
    "STOP",
    "POSITIVE",
    "NEGATIVE",
    "QUESTION",
    "EMAIL_CAPTURE",
    "CALLBACK_REQUEST",
    "PRICE_INQUIRY",
    "WRONG_NUMBER",
    "NOT_OWNER",
    "LATER",
    "UNCLEAR",
)
LABEL_NAMES: dict[str, str] = {
    "STOP": "Opt-out",
    "POSITIVE": "Interested",
    "NEGATIVE": "Not interested",
    "QUESTION": "Question",
    "EMAIL_CAPTURE": "Email captured",
    "CALLBACK_REQUEST": "Callback request",
    "PRICE_INQUIRY": "Price question",
    "WRONG_NUMBER": "Wrong number",
    "NOT_OWNER": "Not the owner",
    "LATER": "Later",
    "UNCLEAR": "Unclear",
}
# Readings that mean the owner is open to talking: the reports' "positive" replies.
POSITIVE_LABELS: tuple[str, ...] = (
    "POSITIVE",
    "CALLBACK_REQUEST",
    "PRICE_INQUIRY",
    "EMAIL_CAPTURE",
)
PRECEDENCE: tuple[str, ...] = (
    "STOP",
    "WRONG_NUMBER",
    "EMAIL_CAPTURE",
    "NOT_OWNER",
    "CALLBACK_REQUEST",
    "PRICE_INQUIRY",
    "LATER",
    "NEGATIVE",
    "POSITIVE",
    "QUESTION",
    "UNCLEAR",
)
STRONG = 80  # a rule at or above this confidence outranks every weaker one
TORN_PENALTY = 10


@dataclass
class Classification:
    """A reply's label, how sure we are, whether it opts out, and the fields found in it."""

    label: str
    confidence: int  # 0-100
    opt_out: bool
    extracted: dict[str, str] = field(default_factory=dict)
    source: str = "rules"
    note: str = ""

    def as_json(self) -> dict:
        """The classification as a JSON-ready dict."""
        return {
            "label": self.label,
            "confidence": self.confidence,
            "opt_out": self.opt_out,
            "extracted": dict(self.extracted),
            "source": self.source,
            "note": self.note,
        }


class Rule(NamedTuple):
    """One way a label shows in a reply: the label, how sure it makes us, and the pattern."""

    label: str
    confidence: int
    name: str
    pattern: str
    cased: bool = False  # read the reply as written (names are capitalised) not folded


# ----------------------------------------------------------------------------- rules
# Patterns read folded text (`optout.fold`: lower case, no accents, straight quotes)
# unless `cased`, where they read the reply as written.

_YES = r"(?:y|ya|yes+|yeah|yea|yep|yup|sure|absolutely|definitely|of\s+course|si|certainly)"
_MAYBE = r"(?:maybe|possibly|perhaps|probably|potentially)"
_INTERJECTION = r"(?:hmm+|hm+|well|honestly|actually|ok|okay|oh|so|i\s+mean|lol|haha)"
_LATER_TAIL = (
    r"(?:next|in|down|someday|some\s+day|later|one\s+day|eventually|after|when|once|around"
    r"|this\s+(?:fall|spring|summer|winter))"
)

RULES: tuple[Rule, ...] = (
    # ------------------------------------------------------------------ WRONG_NUMBER
    Rule(
        "WRONG_NUMBER",
        92,
        "wrong number",
        r"\bwrong\s+(?:numb\w*|num\b|#|no\.|person|guy|gal|girl|lady|dude|contact|cell|phone"
        r"|people|individual|one\b)",
    ),
    Rule(
        "WRONG_NUMBER",
        90,
        "you have the wrong person",
        r"\b(?:have|got|texting|texted|reached|messaging|messaged|dialed)\s+(?:the\s+)?wrong\b",
    ),
    Rule(
        "WRONG_NUMBER",
        88,
        "no one by that name",
        r"\bby\s+that\s+name\b|\bno\s+(?:one|body|\w+)\s+(?:at\s+this\s+number|named\s+\w+)",
    ),
    Rule(
        "WRONG_NUMBER",
        85,
        "no Dave here",
        r"\b[Nn]o\s+(?:one|body|[A-Z][a-z]+)\s+(?:here|lives\s+here|works\s+here)\b",
        cased=True,
    ),
    Rule(
        "WRONG_NUMBER",
        85,
        "this isn't Dana",
        r"\b(?:[Tt]his|[Ii]t)\s+(?:isn['’]?t|is\s+not|ain['’]?t)\s+(?!The\b|A\b|An\b)[A-Z][a-z]+\b",
        cased=True,
    ),
    Rule(
        "WRONG_NUMBER",
        85,
        "don't know any Dana",
        r"\b(?:[Dd]on['’]?t|[Dd]o\s+not|[Nn]ever)\s+(?:know|heard\s+of)\s+(?:any|a|anyone\s+named"
        r"|anybody\s+named|no)\s+[A-Z][a-z]+",
        cased=True,
    ),
    Rule(
        "WRONG_NUMBER",
        85,
        "I'm not Mike",
        r"\b[Ii]['’]?m\s+not\s+(?!The\b|A\b|An\b|Interested\b|Selling\b|Sure\b|Ready\b|Going\b"
        r"|Looking\b|In\b|Really\b|Even\b)[A-Z][a-z]+\b",
        cased=True,
    ),
    Rule(
        "WRONG_NUMBER",
        88,
        "never owned a business",
        r"\bnever\s+(?:heard\s+of|owned\s+(?:a|an|any|the)\b|had\s+a\s+business)",
    ),
    Rule(
        "WRONG_NUMBER",
        88,
        "I don't own a company",
        r"\b(?:i|we)\s+(?:don'?t|do\s+not|dont)\s+own\s+(?:a|an|any)\b",
    ),
    Rule(
        "WRONG_NUMBER",
        85,
        "a personal number",
        r"\b(?:personal|private)\s+(?:cell|number|phone|line)\b"
        r"|\bnot\s+a\s+business\s+(?:number|line|phone)\b",
    ),
    Rule(
        "WRONG_NUMBER",
        85,
        "this isn't a business",
        r"\b(?:this|it)\s+(?:isn'?t|is\s+not|ain'?t)\s+an?\s+(?:\w+\s+){0,2}?(?:company|business"
        r"|shop|store)\b|\bthere'?s\s+no\s+business\b",
    ),
    Rule(
        "WRONG_NUMBER",
        85,
        "not the person you're looking for",
        r"\bnot\s+(?:the\s+)?(?:person|guy|one|lady|man|woman|owner)\s+(?:you'?re|you\s+are)\s+"
        r"(?:looking|trying|after)\b",
    ),
    Rule("WRONG_NUMBER", 90, "numero equivocado", r"\bequivocad[oa]\b|\bnumero\s+incorrecto\b"),
    Rule(
        "WRONG_NUMBER",
        82,
        "a new number",
        r"\bnew\s+number\b|\bjust\s+got\s+this\s+number\b|\bhad\s+this\s+number\b",
    ),
    # ------------------------------------------------------------------ NOT_OWNER
    Rule(
        "NOT_OWNER",
        88,
        "I'm just the manager",
        r"\b(?:i'?m|i\s+am)\s+(?:just\s+|only\s+|actually\s+)?(?:the|an?|his|her|their)\s+"
        r"(?:[\w']+\s+)?(?:manager|employee|assistant|bookkeeper|receptionist|secretary|worker"
        r"|tech|technician|gm|accountant|admin|staff|minority\s+owner|partner|son|daughter|wife"
        r"|husband|nephew|niece)\b",
    ),
    Rule(
        "NOT_OWNER",
        88,
        "I just work here",
        r"\b(?:just|only)\s+work\s+(?:here|there)\b|\bi\s+work\s+for\s+(?:the\s+owner|him|her|them)\b"
        r"|\b(?:just|only)\s+manage\s+(?:it|the\s+\w+|this\s+\w+|here)\b",
    ),
    Rule(
        "NOT_OWNER",
        90,
        "not the owner",
        r"\bnot\s+(?:the|an?)\s+owner\b|\b(?:i'?m|i\s+am)\s+not\s+(?:the\s+)?owner\b",
    ),
    Rule(
        "NOT_OWNER",
        85,
        "the owner is someone else",
        r"\bowner(?:'?s)?\s+(?:is|here\s+is|name\s+is|would\s+be)\s+(?!me\b|myself\b)"
        r"|\bowner'?s\s+(?:out|away|not\s+here|on\s+vacation)\b",
    ),
    Rule(
        "NOT_OWNER",
        85,
        "talk to the owner",
        r"\b(?:talk|speak)\s+(?:to|with)\s+(?:the\s+)?(?:owner|boss|corporate)\b",
    ),
    Rule(
        "NOT_OWNER",
        88,
        "I sold it",
        r"\b(?:i|we)\s+sold\s+(?:it|the\s+\w+|my\s+\w+|our\s+\w+|out|to)\b"
        r"|\bsold\s+(?:it|the\s+(?:business|company|shop|place|store))\s+"
        r"(?:in|last|a|back|two|years|months|\d)",
    ),
    Rule(
        "NOT_OWNER",
        88,
        "I don't own it anymore",
        r"\b(?:don'?t|do\s+not|no\s+longer)\s+own\s+(?:it|this|that|the\s+\w+)\b"
        r"|\bnot\s+mine\s+anymore\b",
    ),
    Rule(
        "NOT_OWNER",
        85,
        "the business closed",
        r"\b(?:closed|shut\s+down)\s+(?:in|down|for\s+good|last|years|back|\d)"
        r"|\bout\s+of\s+business\b",
    ),
    Rule(
        "NOT_OWNER",
        85,
        "my brother's company",
        r"\b(?:my|his|her)\s+(?:brother|sister|dad|father|mom|mother|son|daughter|wife|husband"
        r"|partner|boss|uncle|aunt|cousin)'?s\s+(?:company|business|shop|store|place)\b"
        r"|\b(?:my|his|her)\s+(?:husband|wife|dad|father|mom|mother|brother|sister|son|daughter"
        r"|partner|boss|uncle)\s+(?:owns|runs)\b",
    ),
    Rule(
        "NOT_OWNER",
        82,
        "my partner handles that",
        r"\b(?:partner|wife|husband|boss|dad|father|brother|sister)\s+(?:handles|deals\s+with)\b",
    ),
    Rule("NOT_OWNER", 85, "the owner passed away", r"\bpassed\s+away\b"),
    Rule(
        "NOT_OWNER",
        85,
        "someone else owns it now",
        r"\b(?:runs|owns)\s+(?:it|the\s+\w+)\s+now\b|\bnew\s+owners?\b",
    ),
    Rule(
        "NOT_OWNER",
        85,
        "corporate owns it",
        r"\bcorporate\s+owns\b|\bwe'?re\s+a\s+franchise\b",
    ),
    Rule(
        "NOT_OWNER",
        85,
        "it belongs to someone else",
        r"\bbelongs\s+to\s+(?:someone|somebody)\s+else\b"
        r"|\bi\s+(?:only\s+)?(?:lease|rent)\s+the\s+(?:building|space)\b",
    ),
    Rule(
        "NOT_OWNER",
        80,
        "I'll pass it along",
        r"\b(?:pass|forward)\s+(?:it|this|that|your\s+\w+)\s+(?:along|on|to\s+(?:him|her|them))\b",
    ),
    # ------------------------------------------------------------------ CALLBACK_REQUEST
    Rule("CALLBACK_REQUEST", 90, "call me", r"\b(?:call|ring|phone)\s+(?:me|us)\b"),
    Rule(
        "CALLBACK_REQUEST",
        90,
        "give me a call",
        r"\bgive\s+(?:me|us)\s+a\s+(?:call|ring|buzz|shout)\b",
    ),
    Rule(
        "CALLBACK_REQUEST",
        90,
        "can you call",
        r"\b(?:can|could|would|will|pls|please)\s+(?:you\s+|u\s+|someone\s+|somebody\s+)?"
        r"(?:please\s+)?(?:call|ring|phone)\b",
    ),
    Rule(
        "CALLBACK_REQUEST",
        90,
        "call my cell",
        r"\bcall\s+(?:my|the\s+(?:shop|office|store))\b|\bcall\s+(?:me\s+)?back\b",
    ),
    Rule(
        "CALLBACK_REQUEST",
        88,
        "talk on the phone",
        r"\b(?:talk|speak|chat|discuss)\w*\s+(?:\w+\s+)?(?:on|by|over)\s+(?:the\s+)?phone\b"
        r"|\bphone\s+call\b|\bby\s+phone\b"
        r"|\b(?:rather|prefer\s+to)\s+(?:talk|speak|chat)\b"
        r"|\b(?:set\s+up|schedule|book|hop\s+on|jump\s+on|have|do|for)\s+a\s+(?:quick\s+)?call\b",
    ),
    Rule(
        "CALLBACK_REQUEST",
        85,
        "a number to call you at",
        r"\bnumber\s+(?:to\s+call|i\s+can\s+call|to\s+reach)\b|\bcall\s+you\s+(?:at|back|tomorrow|later)\b"
        r"|\bi'?ll\s+(?:give\s+(?:you|u)\s+a\s+)?call\s*(?:you|u)?\b"
        r"|\bbest\s+(?:time|way|number)\s+to\s+(?:call|reach)\b",
    ),
    # ------------------------------------------------------------------ PRICE_INQUIRY
    Rule(
        "PRICE_INQUIRY",
        90,
        "what would you pay",
        r"\bwhat\s+(?:would|will|could|do|can|did|might)\s+(?:you|u|ya|y'?all|you\s+guys)\s+"
        r"(?:\w+\s+)?(?:pay|offer|give)\b|\bwhat\s+(?:would|will|could)\s+(?:that|it|this)\s+get\s+me\b",
    ),
    Rule("PRICE_INQUIRY", 90, "how much", r"\bhow\s+much\b|\bcuanto\b"),
    Rule(
        "PRICE_INQUIRY",
        90,
        "what's it worth",
        r"\bwhat'?s?\s+(?:\w+\s+){0,3}worth\b|\bvaluation\b|\bvalue\s+(?:a|my|the|it|this|our)\b"
        r"|\bmultiple\b|\bballpark\b|\basking\s+price\b|\bprecio\b"
        r"|\b(?:figure|determine|calculate|work\s+out|come\s+up\s+with)\s+(?:the\s+)?(?:value|price)\b"
        r"|\bhow\s+(?:do|would)\s+(?:you|u)\s+(?:guys\s+)?(?:value|price)\b",
    ),
    Rule(
        "PRICE_INQUIRY",
        90,
        "make me an offer",
        r"\b(?:make|send|give|shoot|throw)\s+(?:me|us)\s+(?:an?|your)\s+(?:offer|number|price|figure"
        r"|ballpark|quote)\b",
    ),
    Rule(
        "PRICE_INQUIRY",
        85,
        "your offer",
        r"\b(?:your|ur|best|cash)\s+offer\b|\bwhat'?s\s+the\s+offer\b|\boffering\b|\boffers\b"
        r"|\bofrece\w*|\boferta\b",
    ),
    Rule(
        "PRICE_INQUIRY",
        85,
        "for the right price",
        r"\bright\s+(?:price|number|offer)\b|\bdepends\s+on\s+(?:the\s+)?(?:number|price|offer|money)"
        r"|\bfor\s+a\s+price\b",
    ),
    Rule(
        "PRICE_INQUIRY",
        85,
        "what are they going for",
        r"\b(?:go|going|sell|selling|sold)\s+for\b(?!\s+(?:it|that|the\s+right))",
    ),
    Rule("PRICE_INQUIRY", 70, "price", r"\bprice\b|\bpay\b"),
    # ------------------------------------------------------------------ LATER
    Rule(
        "LATER",
        88,
        "not right now",
        r"\bnot\s+(?:right\s+)?now\b|\bnot\s+(?:yet|at\s+(?:this|the)\s+(?:time|moment)|this\s+year"
        r"|ready(?:\s+yet)?|for\s+(?:at\s+least\s+)?(?:a\s+(?:few|couple)|another|now|a\s*while|\d+"
        r"|two|three|four|five|ten|several))\b",
    ),
    Rule("LATER", 88, "maybe next year", rf"\b{_MAYBE}\s+{_LATER_TAIL}\b"),
    Rule(
        "LATER",
        85,
        "check back later",
        r"\b(?:check|circle|touch|follow)\s+(?:back|base)\b"
        r"|\bcheck\s+in\s+(?:with\s+me\s+)?(?:in|after|next|around)\b"
        r"|\b(?:ask|try|hit)\s+me\s+(?:again|up\s+in|up\s+after|in|after|next)\b"
        r"|\breach\s+out\s+(?:then|again|in|after|next)\b|\bget\s+back\s+to\s+you\b"
        r"|\btalk\s+(?:in|after|next)\b",
    ),
    Rule(
        "LATER",
        85,
        "someday, down the road",
        r"\b(?:someday|some\s+day|down\s+the\s+road|eventually|one\s+day|too\s+soon|too\s+early"
        r"|in\s+the\s+future)\b",
    ),
    Rule(
        "LATER",
        85,
        "give me a few months",
        r"\bgive\s+me\s+(?:a\s+(?:few|couple)(?:\s+of)?|some|\d+)\s+(?:more\s+)?"
        r"(?:months|weeks|years|time)\b",
    ),
    Rule(
        "LATER",
        85,
        "selling, some years from now",
        r"\b(?:consider|sell|selling|retire|retiring|look|looking|think|open)\b[^.!?]{0,30}?"
        r"\b(?:in\s+(?:a|an|one|two|three|a\s+few|a\s+couple(?:\s+of)?|several|\d+)\s+"
        r"(?:years?|months?)|next\s+year|in\s+20\d\d)\b",
    ),
    Rule("LATER", 75, "let me think about it", r"\blet\s+me\s+think\b|\bthink\s+about\s+it\b"),
    # ------------------------------------------------------------------ NEGATIVE
    Rule(
        "NEGATIVE",
        90,
        "not interested",
        r"\bnot\s+(?:\w+\s+)?interest(?:ed)?\b|\bno\s+interest\b|\bno\s+me\s+interesa\b",
    ),
    Rule(
        "NEGATIVE",
        90,
        "no thanks",
        r"\bno\s*(?:thanks|thank\s+you|thx|ty|gracias|way|sir|ma'?am)\b|\bthanks\s+but\s+no\b"
        r"|\bno\s+intention\b|\bno\s+chance\b",
    ),
    Rule(
        "NEGATIVE",
        90,
        "not for sale",
        r"\bnot\s+(?:for\s+sale|selling|looking\s+to\s+sell|gonna\s+sell|going\s+to\s+sell"
        r"|planning\s+(?:on|to)\s+sell\w*|a\s+seller)\b|\bnever\s+(?:selling|sell|gonna\s+sell"
        r"|going\s+to\s+sell)\b|\bwon'?t\s+(?:ever\s+)?sell\b|\bnot\s+ever\b",
    ),
    Rule(
        "NEGATIVE",
        90,
        "hard pass",
        r"\b(?:hard|gonna|going\s+to|i'?ll|i\s+will)\s+pass\b(?!\s+(?:it|this|that|your|along|on))",
    ),
    Rule(
        "NEGATIVE",
        90,
        "no, on its own",
        r"\A\W*(?:no+|nope|nah+|naw|negative|lol\s+no|no\s+lol|hell\s+no|heck\s+no|fuck\s+no"
        r"|absolutely\s+not|not\s+a\s+chance|definitely\s+not|never)\W*\Z",
    ),
    Rule(
        "NEGATIVE",
        85,
        "no, then a reason",
        r"\A\W*(?:no|nope|nah)\b(?!\s+(?:problem|worries|rush|pressure|idea|one|body))",
    ),
    Rule("NEGATIVE", 80, "I'm good", r"\b(?:i'?m|im|we'?re)\s+good\b"),
    Rule(
        "NEGATIVE",
        85,
        "keeping it in the family",
        r"\bsuccession\s+plan\b|\btaking\s+over\b|\bkeeping\s+it\b|\bnot\s+going\s+anywhere\b"
        r"|\bfamily\s+business\b|\bmy\s+baby\b|\bno\s+time\s+(?:to|for)\b"
        r"|\b(?:until|till|til)\s+i\s+(?:die|drop)\b|\bfeet\s+first\b",
    ),
    # ------------------------------------------------------------------ POSITIVE
    Rule(
        "POSITIVE",
        90,
        "yes, on its own",
        rf"\A\W*(?:{_YES}|interested|i'?m\s+interested"
        r"|ok(?:ay)?\s+sure|sounds\s+good|why\s+not)[^\w?]*\Z",
    ),
    Rule(
        "POSITIVE",
        85,
        "yes, then more",
        rf"\A\W*(?:{_INTERJECTION}\W+)?{_YES}\b(?![^\w]*\?\W*\Z)",
    ),
    Rule(
        "POSITIVE",
        85,
        "I'd consider it",
        r"\b(?:i'?d|i\s+would|would|might|could|will)\s+(?:\w+\s+)?consider\b"
        r"|\bconsider(?:ing)?\s+(?:it|selling|that)\b",
    ),
    Rule(
        "POSITIVE",
        85,
        "tell me more",
        r"\b(?:tell|send|show)\s+me\s+more\b|\bopen\s+to\s+(?:it|hearing|that|selling|the\s+idea"
        r"|a\s+(?:conversation|chat|talk)|talking|offers|an\s+offer)\b"
        r"|\b(?:i'?m|i\s+am|we'?re|we\s+are)\s+(?:definitely\s+|very\s+|really\s+|somewhat\s+"
        r"|kinda\s+|kind\s+of\s+|a\s+little\s+)?(?:open|listening|all\s+ears|interested|curious)\b"
        r"|\b(?:love|like|happy)\s+to\s+hear\s+more\b|\bhear\s+more\b"
        r"|\bme\s+interesa\b|\bhappy\s+to\s+(?:chat|talk|hear|listen|discuss)\b"
        r"|\bsend\s+(?:me\s+)?(?:the\s+)?(?:details|info|information)\b",
    ),
    Rule(
        "POSITIVE",
        85,
        "what are the next steps",
        r"\bnext\s+steps?\b|\bwhat\s+did\s+you\s+have\s+in\s+mind\b|\bwhat\s+do\s+you\s+need\s+from\s+me\b",
    ),
    Rule(
        "POSITIVE",
        85,
        "been thinking about selling",
        r"\b(?:thinking|talking|thought)\s+about\s+(?:it|selling|retiring|retirement|getting\s+out)\b"
        r"|\bburn(?:ed|t)\s+out\b|\bwant(?:ing)?\s+out\b|\bready\s+to\s+(?:retire|sell|get\s+out"
        r"|move\s+on)\b|\bfunny\s+you\s+ask\b|\b(?:tired|sick)\s+of\s+(?:it|running|this)\b"
        r"|\bgetting\s+tired\b|\bwaiting\s+for\s+(?:someone|somebody)\b|\bcrossed\s+my\s+mind\b"
        r"|\bhang\s+it\s+up\b|\bcall\s+it\s+quits\b|\blet'?s\s+(?:talk|chat)\b"
        r"|\bhear\s+(?:you|u)\s+out\b",
    ),
    Rule(
        "POSITIVE",
        80,
        "maybe, as the answer",
        rf"\A\W*(?:{_INTERJECTION}\W+)?(?:{_MAYBE}|could\s+be|might\s+be|i\s+might(?:\s+be)?"
        r"|it'?s\s+possible)\b",
    ),
    Rule("POSITIVE", 65, "maybe, somewhere", rf"\b{_MAYBE}\b"),
    # ------------------------------------------------------------------ QUESTION
    Rule(
        "QUESTION",
        85,
        "who is this",
        r"\bwho\s*(?:is|'?s|r|are)\s*(?:this|dis|it|u|you|asking)\b|\bwho\s+dis\b"
        r"|\bwho\s+(?:are|r)\s+(?:you|u|y'?all)\b|\bquien\b",
    ),
    Rule(
        "QUESTION",
        85,
        "how did you get my number",
        r"\bhow(?:'?d|\s+did|\s+do|\s+does|\s+would)\s+(?:you|u|ya)\s+(?:get|know|find|have|hear)\b"
        r"|\bwho\s+gave\b|\bwhere\s+did\s+(?:you|u)\s+get\b",
    ),
    Rule(
        "QUESTION",
        85,
        "what company",
        r"\bwhat\s+(?:company|firm|business|kind|type|sort|is\s+this|do\s+you\s+mean"
        r"|is\s+your\s+name)\b|\bwhat'?s\s+(?:your\s+name|this)\b|\bwhich\s+(?:business|company"
        r"|one|location)\b",
    ),
    Rule(
        "QUESTION",
        85,
        "are you a broker",
        r"\bare\s+(?:you|u)\s+(?:a|an|with|from|real|legit|human|bot|the|local|buying)\b"
        r"|\bis\s+this\s+(?:a|an|real|legit|about|spam|for\s+real|legal)\b"
        r"|\bwhere\s+are\s+(?:you|u|y'?all)\b|\bdo\s+(?:you|u)\s+(?:buy|guys|work|only|also|represent)\b",
    ),
)

# ----------------------------------------------------------------------------- classifier

_COMPILED = tuple((rule, re.compile(rule.pattern)) for rule in RULES)
_NEVER_RE = re.compile(r"\bnever\b|\bnot\s+ever\b|\bno\s+way\b")
_WORD_RE = re.compile(r"\w+")


def _candidates(text: str, folded: str, extracted: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Every label the reply shows, with its best rule's confidence and name."""
    found: dict[str, tuple[int, str]] = {}

    def offer(label: str, confidence: int, name: str) -> None:
        """Keep the label at the best confidence seen so far."""
        if confidence > found.get(label, (0, ""))[0]:
            found[label] = (confidence, name)

    for rule, pattern in _COMPILED:
        if pattern.search(text if rule.cased else folded):
            offer(rule.label, rule.confidence, rule.name)
    if "email" in extracted:
        offer("EMAIL_CAPTURE", 95, "an email address")
    if "phone" in extracted:
        offer("CALLBACK_REQUEST", 75, "a phone number")
    if "asking_price" in extracted:
        offer("PRICE_INQUIRY", 85, "a price named")
    if "timeline" in extracted:
        offer("LATER", 70, "a time named")
    if "?" in folded and len(_WORD_RE.findall(folded)) >= 2:
        offer("QUESTION", 60, "a question mark")
    if "LATER" in found and _NEVER_RE.search(folded):
        del found["LATER"]
    return found


def _choose(found: dict[str, tuple[int, str]]) -> tuple[str, int, str]:
    """The label that wins (strong before weak, then `PRECEDENCE`), its confidence and note."""
    strong = [label for label in PRECEDENCE if found.get(label, (0, ""))[0] >= STRONG]
    pool = strong or [label for label in PRECEDENCE if label in found]
    label = pool[0]
    confidence, name = found[label]
    note = f"rule: {name}" if strong else f"weak rule only: {name}"
    others = pool[1:] if strong else []
    if others:
        confidence -= TORN_PENALTY
        note += "; also reads as " + ", ".join(LABEL_NAMES[other] for other in others)
    return label, confidence, note


def by_rules(text: str) -> Classification:
    """Label one reply with the rules: STOP first, then the strongest, highest-ranked label."""
    text = (text or "")[: optout.READ_LIMIT]
    extracted = extract(text)
    intent = optout.read(text)
    if intent.kind == optout.OPT_OUT:
        confidence = 100 if intent.exact else 95
        return Classification(
            "STOP", confidence, True, extracted, note=f"opt-out: {intent.matched}"
        )
    if optout.is_reaction(text):
        return Classification("UNCLEAR", 25, False, {}, note="a reaction to our text, not a reply")
    folded = optout.fold(text)
    found = _candidates(text, folded, extracted)
    if not found:
        words = _WORD_RE.findall(folded)
        note = "no words" if not words else "no rule matched"
        return Classification("UNCLEAR", 20 if not words else 35, False, extracted, note=note)
    label, confidence, note = _choose(found)
    return Classification(label, confidence, False, extracted, note=note)
