"""Opt-out, opt-in and help language: the one home for what a reply means for consent.

`read(text)` tells whether an inbound reply revokes consent, gives it back, or asks for
help. The webhook calls it inside the request, before it answers, so it is pure, quick
and compiled once at import.

Two levels, because the webhook needs to know both what the owner meant and what Twilio
already did:

- **Exact keywords** (`exact=True`): the whole reply, trimmed of whitespace, of quotes
  around it and of trailing `.`, `!` or `?`, is one of Twilio's keywords, in any case.
  Twilio acts only on a reply that is a single keyword (it blocks the number and, with
  Advanced Opt-Out, sends its own confirmation), so these mirror its list word for word.
  `STOP ALL`, `OPT OUT`, `OPT-OUT` and `UN-SUBSCRIBE` are opt-outs too, but Twilio does
  not act on them, so they come from the phrase table with `exact=False` and the
  console must confirm them itself. The trimming is our best reading of Twilio: it
  documents single words, case-insensitive, and says nothing of `STOP.`; when it does
  not act on one of those, our own suppression still holds and only the confirmation
  text is skipped, which is the safer side of "one confirmation, never two".
- **Revocation in other words** (FCC 24-18: "any reasonable means"): `REVOCATION_PHRASES`,
  a table of named patterns, one idea each, read after the look-alikes in `LOOK_ALIKES`
  ("stop by anytime", "don't stop", "bus stop", "the end") are blanked out. A look-alike
  only hides its own words, never a revocation elsewhere in the same reply.

Choices a reader might question, made on purpose:

- "don't text me" revokes consent to texts even when the same reply asks for a call
  ("give me a call, don't text"): we only text, and a reasonable person would read it so.
  The reverse ("don't call, just text") is a look-alike and not a revocation.
- "don't call me" on its own is a revocation: under the TCPA a text is a call.
- Spanish "para" is left out (it is also the word for "for"); "alto" and "basta" count
  only as a reply or sentence of their own.
- A message that both revokes and opts in ("stop... ok start again") is an opt-out:
  the safer reading wins. An opt-out beats any other content in the same reply.
- Help is exact only (HELP, INFO): "help me understand the valuation" is a question for
  the classifier, not a request for the program's help text.
- A reaction ("Liked “Hi Dana, ... Reply STOP to opt out”") quotes our own text back;
  it says nothing about consent (`is_reaction`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "HELP",
    "HELP_KEYWORDS",
    "LOOK_ALIKES",
    "OPT_IN",
    "OPT_IN_KEYWORDS",
    "OPT_IN_PHRASES",
    "OPT_OUT",
    "OPT_OUT_KEYWORDS",
    "REVOCATION_PHRASES",
    "Intent",
    "Phrase",
    "fold",
    "is_reaction",
    "read",
    "unmask",
]

OPT_OUT_KEYWORDS: tuple[str, ...] = (
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
)
OPT_IN_KEYWORDS: tuple[str, ...] = ("START", "UNSTOP", "YES")
HELP_KEYWORDS: tuple[str, ...] = ("HELP", "INFO")

# Replies are read this far at most: two whole SMS bodies (Twilio caps one at 1,600
# characters), never so much that one text can hold the webhook or a worker.
READ_LIMIT = 3200
OPT_OUT = "opt_out"
OPT_IN = "opt_in"
HELP = "help"


@dataclass(frozen=True)
class Intent:
    """What a reply means for consent: kind, whether Twilio saw a keyword, what matched."""

    kind: str  # "opt_out" | "opt_in" | "help" | "" (nothing)
    exact: bool  # the whole reply is one of Twilio's keywords; Twilio itself acted on it
    matched: str  # the keyword, or the name of the phrase-table entry, for the audit trail


NOTHING = Intent("", False, "")


class Phrase(NamedTuple):
    """One entry of a phrase table: one idea, in words, and the pattern that finds it."""

    name: str  # the idea in words; `Intent.matched` carries it to the audit trail
    needles: tuple[str, ...]  # bits of folded text the pattern cannot match without
    pattern: str  # a regular expression over folded text, without capturing groups


# ----------------------------------------------------------------------------- pieces
# Patterns read folded text (`fold`): lower case, no accents, straight apostrophes.
# Needles are single words or parts of words, never spaces: a cheap gate that keeps
# a reply from being scanned by patterns that cannot match it.

_STOP = r"sto+p+"
_PLEASE = r"(?:ple+a*s+e*|pl[sz]e?|plez)"
_DONT = r"(?:don'?t|do\s+not)"
# A stop word that revokes per se when it stands alone (FCC 24-18 names most of them).
_STOP_WORD = (
    rf"(?:{_STOP}(?:\s*all)?|unsubscribe|un-subscribe|unsub|cancel|quit|end|remove"
    r"|revoke|opt[\s-]?out)"
)
_STOP_WORD_NEEDLES = ("sto", "unsub", "un-sub", "cancel", "quit", "end", "remove", "revoke", "opt")
# Words that may stand around a stop word without changing what it means.
_FILLER = (
    rf"(?:{_PLEASE}|just|ok|okay|now|so|god|omg|seriously|man|dude|bro|sir|already|again"
    r"|asap|immediately|lol|it|all|thanks|thank\s+you|thx|ty|for\s+real|i\s+said)"
)
# Ways to reach someone that a reply may forbid ("don't text", "quit messaging").
_CONTACT = (
    r"(?:text|txt|messag|msg|contact|sms|spam|harass|hmu)\w*"
    r"|(?:call|phone|email|e-mail|bother|bug|pester|hound|writ|hit)\w*\s+(?:me|us|this|again)"
    r"|reach(?:ing)?\s+out(?:\s+to)?(?:\s+(?:me|us|this|again)|\W*\Z)"
)
_SPANISH_VERB_NEEDLES = ("envi", "mand", "escrib", "contact", "llam", "molest", "text")
_SENTENCE_START = r"(?:\A|[.!?;:,\n(]|\s-+\s)\s*"
_SENTENCE_END = r"\s*(?=\Z|[.!?;:,\n)]|\s-+\s)"

# ----------------------------------------------------------------------------- tables

LOOK_ALIKES: tuple[Phrase, ...] = (
    Phrase(
        "don't stop (asked to keep going)",
        ("stop", "unsub", "remove", "opt", "take", "cancel", "quit", "end"),
        rf"\b(?:{_DONT}|didn'?t|doesn'?t|not|no\s+need\s+to)\s+(?:ever\s+|really\s+|even\s+)?"
        r"(?:(?:want|need|ask|asking|asked|expect|mean|like|wish|tell|told)\s+"
        r"(?:you\s+|u\s+|them\s+|anyone\s+)?to\s+)?"
        r"(?:stop|unsubscribe|remove|opt\s+me\s+out|take\s+me\s+off|cancel|quit|end)\b",
    ),
    Phrase(
        "can't stop, never stop (about themselves)",
        ("stop", "quit", "end"),
        r"(?<!you\s)(?<!\bu\s)(?<!they\s)(?<!guys\s)(?<!people\s)"
        r"\b(?:can'?t|cannot|won'?t|never|wouldn'?t)\s+(?:ever\s+)?(?:stop|quit|end)\b"
        r"(?!\s+(?:texting|txting|messaging|msging|calling|contacting|spamming|sending"
        r"|bothering|harassing|hitting))",
    ),
    Phrase(
        "stop by, stop in (a visit)",
        ("sto",),
        rf"\b{_STOP}\s+(?:by|in|over|past|into|off|on\s+by)\b",
    ),
    Phrase(
        "bus stop, one-stop, non-stop (a stop as a thing)",
        ("stop",),
        r"\b(?:bus|train|truck|pit|rest|next|last|first|final|one|non|full|the|my|your|our"
        r"|each|every|quick|short|brief|another)[\s-]*stop(?:s|ped|ping)?\b",
    ),
    Phrase(
        "stop sign, stop payment (a stop as a kind of thing)",
        ("stop",),
        r"\bstop[\s-]*(?:sign|light|watch|gap|loss|motion|order|work|payment|smoking)s?\b",
    ),
    Phrase(
        "the end, end of the month, end up",
        ("end",),
        r"\bthe\s+end\b|\bend\s+(?:of|up|date|result|game|user|goal|cap|table|unit)s?\b"
        r"|\b(?:year|month|week|quarter|q[1-4]|fiscal\s+year)[\s-]*end\b",
    ),
    Phrase(
        "don't call, just text (asks for texts)",
        ("call", "email", "e-mail"),
        r"\b(?:don'?t|do\s+not|no)\s+(?:phone\s+)?(?:call|email|e-mail)\w*(?:\s+me)?\W+"
        r"(?:\w+\W+){0,3}?(?:(?:just|only|but|you\s+can|can)\s+(?:text|txt)"
        r"|(?:text|txt)\w*\s+(?:only|me\s+instead|is\s+(?:fine|better|ok|okay|good)))",
    ),
    Phrase(
        "text only, don't call (asks for texts)",
        ("call", "email"),
        r"(?:\b(?:text|txt)\w*\s+(?:only|is\s+(?:fine|better|ok|okay|good))|\b(?:only|just)\s+text)"
        r"\W+(?:\w+\W+){0,3}?(?:don'?t|do\s+not|no)\s+(?:phone\s+)?(?:call|email)\w*(?:\s+me)?",
    ),
    Phrase(
        "why don't you text me (an invitation)",
        ("why",),
        r"\bwhy\s+(?:don'?t|not)\s+(?:you\s+|u\s+)?(?:just\s+)?(?:text|call|email|message)",
    ),
    Phrase(
        "I don't text (about themselves)",
        ("text", "txt", "messag", "msg", "email", "sms"),
        r"\b(?:i|we)\s+(?:don'?t|do\s+not|dont|never|rarely)\s+(?:really\s+|usually\s+)?"
        r"(?:do\s+|check\s+|read\s+|answer\s+|reply\s+to\s+|respond\s+to\s+)?"
        r"(?:text|txt|messag|msg|email|sms)\w*",
    ),
    Phrase("take me off the hook", ("hook",), r"\btake\s+(?:me|us)\s+off\s+(?:the\s+)?hook\b"),
)

REVOCATION_PHRASES: tuple[Phrase, ...] = (
    Phrase(
        "a stop word on its own",
        _STOP_WORD_NEEDLES,
        rf"\A\W*(?:{_FILLER}\W+)*{_STOP_WORD}(?:\W+(?:{_FILLER}|{_STOP}))*\W*\Z",
    ),
    Phrase(
        "a stop word as a sentence of its own",
        _STOP_WORD_NEEDLES,
        rf"{_SENTENCE_START}(?:(?:{_PLEASE}|just|so|now|ok|okay|i\s+said|seriously)\s+)*"
        rf"{_STOP_WORD}(?:\s+(?:it|now|{_PLEASE}|already|asap|immediately|all|again))*"
        rf"{_SENTENCE_END}",
    ),
    Phrase(
        "stop at the end of the reply",
        ("sto", "unsub", "opt"),
        rf"\b(?:{_STOP}|stopall|unsubscribe|unsub|optout|opt[\s-]?out)\W*\Z",
    ),
    Phrase(
        "stop first, then the reason",
        ("sto", "unsub"),
        rf"\A\W*(?:{_PLEASE}\s+)?(?:{_STOP}|unsubscribe)\s+"
        r"(?:i|im|i'm|we|we're|not|no|wrong|this|who|you|u|ur|your|you're|youre|dude|man|bro"
        r"|sir|lady|already|with)\b",
    ),
    # Compliance first: a reply that opens with the keyword ("STOP maybe", "Stop. lol") is
    # read as the keyword; known look-alikes ("stop by", "stop sign") were blanked before.
    Phrase(
        "stop as the first word",
        ("sto",),
        rf"\A\W*{_STOP}\b(?!\s*(?:by|in|over|sign|light|watch|gap|loss)\b)",
    ),
    Phrase(
        "stop texting me",
        ("sto",),
        rf"\b{_STOP}(?:ping)?\s+(?:(?:the|these|your|all|with|sending|bothering|harassing|me)\s+)*"
        rf"(?:{_CONTACT}|sending|bothering|bugging|pestering|hounding|harassing|it\b)",
    ),
    Phrase(
        "please stop, I said stop",
        ("sto",),
        rf"\b(?:{_PLEASE}|just|kindly|can\s+you|could\s+you|will\s+you|would\s+you|why\s+don'?t\s+you"
        r"|(?:need|want|asked|ask|told)\s+(?:you|u|y'?all)\s+to|(?:you|u)\s+(?:can|should|need\s+to"
        rf"|must|have\s+to|gotta|better)|i\s+said|make\s+(?:it|this|them)|now)\s+{_STOP}\b",
    ),
    Phrase("unsubscribe", ("subscrib", "unsub"), r"\bun-?\s?subscrib\w*|\bunsub\b"),
    Phrase(
        "opt me out",
        ("opt",),
        r"\bopt(?:ing|ed)?[\s-]*(?:me\s+|us\s+|this\s+number\s+)?out\b|\boptout\b",
    ),
    Phrase(
        "remove me",
        ("remove",),
        r"\bremove\s+(?:me|us|my\s+(?:\w+\s+)?(?:number|name|info|information|contact|cell|phone"
        r"|#|details)|this\s+(?:number|#|phone|cell))\b",
    ),
    Phrase(
        "take me off your list",
        ("take",),
        r"\btake\s+(?:me|us|my\s+(?:\w+\s+)?(?:number|name|info)|this\s+(?:number|#))\s+"
        r"(?:off|out\s+of|outta)\b",
    ),
    Phrase(
        "off your list",
        ("off", "out"),
        r"\b(?:off|out\s+of|outta)\s+(?:of\s+)?(?:your|the|ur|this|ya|that)\s+(?:\w+\s+)?"
        r"(?:list|database|system|contacts)\b",
    ),
    Phrase(
        "delete my number, lose this number",
        ("delete", "lose", "erase", "forget", "remove", "purge", "trash", "toss"),
        r"\b(?:delete|lose|erase|forget|remove|purge|trash|toss)\s+(?:my|this|the|our)\s+"
        r"(?:\w+\s+)?(?:number|#|contact|info|information|details)\b",
    ),
    Phrase(
        "don't text me",
        ("don", "not", "never", "quit", "longer"),
        rf"\b(?:{_DONT}|dont|never|quit|no\s+longer)\s+(?:ever\s+|even\s+|again\s+|start\s+|keep\s+)?"
        rf"(?:{_CONTACT})",
    ),
    Phrase(
        "I don't want your texts",
        ("text", "txt", "messag", "msg", "sms", "call", "solicit", "spam"),
        rf"\b(?:{_DONT}|no)\s+(?:want|need|wish)\s+(?:to\s+(?:get|receive)\s+)?"
        r"(?:any\s+|your\s+|these\s+|more\s+|the\s+|ur\s+|ya\s+|anymore\s+)*"
        r"(?:text|txt|messag|msg|sms|calls?\b|solicit|spam)\w*",
    ),
    Phrase(
        "I don't want to hear from you",
        ("hear",),
        rf"\b(?:{_DONT}|never)\s+want\s+to\s+hear\s+from\s+(?:you|u|ya|anyone|y'?all)\b",
    ),
    Phrase(
        "no more texts",
        ("more",),
        r"\bno\s+more\s+(?:text|txt|messag|msg|sms|contact|calls?\b|spam)\w*"
        r"|\bno\s+more\s+of\s+(?:these|this|your|them|that)\b",
    ),
    Phrase(
        "I asked to be removed",
        ("remove", "taken", "unsub", "delete", "opted"),
        r"\b(?:be|been|get|getting|got)\s+(?:removed|taken\s+off|unsubscribed|deleted|opted\s+out)\b",
    ),
    Phrase(
        "why am I still getting these",
        ("still",),
        r"\bstill\s+(?:getting|receiving|get|being\s+sent)\s+(?:these|this|your|them|texts|messages)\b",
    ),
    Phrase("no more, on its own", ("more",), r"\A\W*no\s+more\W*\Z"),
    Phrase("leave me alone", ("alone",), r"\bleave\s+(?:me|us)\s+(?:the\s+\w+\s+)?alone\b"),
    Phrase(
        "do not call list",
        ("dnc", "not"),
        r"\bdnc\b|\bdo[\s-]+not[\s-]+(?:contact|call|text|disturb)\b",
    ),
    Phrase("cease and desist", ("cease",), r"\bcease\b"),
    Phrase("put an end to this", ("put",), r"\bput\s+an?\s+(?:end|stop)\s+to\b"),
    Phrase(
        "I never consented",
        ("revok", "consent", "never"),
        r"\brevok\w*|\bwithdraw\w*\s+(?:my\s+)?consent\b|\b(?:do\s+not|don'?t)\s+consent\b"
        r"|\bnever\s+(?:gave|given|give|agreed|consented|signed\s+up|opted\s+in)\b",
    ),
    Phrase(
        "cancel these texts",
        ("cancel",),
        r"\bcancel\s+(?:me|us|these(?:\s+\w+)?|the\s+(?:texts|messages)|texts|messages"
        r"|my\s+subscription|subscription|it\s+all|all\s+(?:texts|messages))\b",
    ),
    Phrase(
        "discontinue these messages",
        ("discontinu",),
        r"\bdiscontinu\w*\s+(?:\w+\s+){0,2}?(?:text|txt|messag|msg|sms|contact|communication)\w*"
        r"|\bdiscontinu\w*\s+(?:me|this|it)\b",
    ),
    Phrase(
        "enough already",
        ("enough",),
        r"\A\W*enough(?:\s+already)?\W*\Z|\benough\s+with\s+the\s+\w+",
    ),
    Phrase(
        "go away, get lost (a hostile dismissal)",
        ("away", "lost", "off", "get", "hell", "dead", "gtfo", "rocks", "sand", "hike", "out"),
        r"\b(?:go\s+away|get\s+lost|piss\s+off|bugger\s+off|buzz\s+off|bug\s+off|back\s+off"
        r"|shove\s+off|sod\s+off|screw\s+off|get\s+bent|go\s+to\s+hell|drop\s+dead|gtfo"
        r"|kick\s+rocks|pound\s+sand|take\s+a\s+hike|get\s+the\s+\w+\s+out|knock\s+it\s+off"
        r"|cut\s+it\s+out)\b",
    ),
    Phrase(
        "f off (a hostile dismissal)",
        ("f", "screw"),
        r"\b(?:fuck|fck|fuk|fk|f\*+\w*|f|eff|frick|frig|screw)\s*(?:off|you|u|ya|yourself|urself)\b"
        r"|\bgo\s+(?:fuck|f\*+\w*|screw)\s+(?:yourself|urself|off)\b",
    ),
    Phrase(
        "reported as spam",
        ("report", "spam", "harass"),
        r"\breport(?:ed|ing)?\s+(?:you|u|ya|this|it|your|ur|the\s+number|as\s+spam)\b"
        r"|\b(?:mark|flag)(?:ed|ing)?\s+(?:this\s+|you\s+|it\s+)?as\s+spam\b|\bthis\s+is\s+spam\b"
        r"|\bspamm(?:er|ing)\b|\bharass\w*"
        rf"|{_SENTENCE_START}spam{_SENTENCE_END}",
    ),
    Phrase(
        "I'm blocking you",
        ("block",),
        r"\bblock(?:ed|ing)?\s+(?:you|u|ya|your\s+number|this\s+number|the\s+number|ur\s+number)\b"
        rf"|{_SENTENCE_START}block(?:ed|ing)?{_SENTENCE_END}",
    ),
    Phrase("no mas (Spanish)", ("mas",), r"\bno\s+mas\b"),
    Phrase(
        "no me escribas (Spanish: don't write me)",
        _SPANISH_VERB_NEEDLES,
        r"\bno\s+(?:me|nos)\s+(?:\w+\s+){0,2}?(?:envi|mand|escrib|contact|llam|molest|text)\w*",
    ),
    Phrase(
        "deja de escribir (Spanish: stop writing)",
        _SPANISH_VERB_NEEDLES,
        r"\b(?:deja|dejen|deje|para|paren|pare)\s+de\s+(?:envi|mand|escrib|text|llam|molest|contact)\w*",
    ),
    Phrase("dejame en paz (Spanish: leave me alone)", ("paz",), r"\bdej\w*\s+en\s+paz\b"),
    Phrase(
        "quitame de la lista (Spanish: take me off the list)",
        ("lista", "base", "numero"),
        r"\b(?:quit|sac|borr|elimin)(?:a|e|en|ar)(?:me|nos)?\s+"
        r"(?:de\s+(?:la|tu|su|sus)\s+(?:lista|base)|mi\s+numero)\b",
    ),
    Phrase(
        "basta, alto (Spanish, on their own)",
        ("basta", "alto"),
        rf"{_SENTENCE_START}(?:ya\s+)?(?:basta|alto)(?:\s+ya)?{_SENTENCE_END}",
    ),
)

OPT_IN_PHRASES: tuple[Phrase, ...] = (
    Phrase(
        "start texting me again",
        ("start", "resume"),
        r"(?<!don't\s)(?<!dont\s)(?<!not\s)(?<!never\s)"
        r"\b(?:start|resume)\s+(?:texting|messaging|sending|contacting|txting)\b",
    ),
    Phrase(
        "you can text me again",
        ("again",),
        r"\b(?:you|u|y'?all)\s+(?:can|may)\s+(?:\w+\s+)?(?:text|message|contact|msg|txt)\w*\s+"
        r"(?:me\s+|us\s+)?again\b|\b(?:ok|okay|fine)\s+to\s+(?:text|message|contact)\w*\s+"
        r"(?:me\s+|us\s+)?again\b",
    ),
    Phrase("opt me back in", ("opt",), r"\bopt(?:ing)?\s+(?:me\s+|us\s+)?(?:back\s+)?in\b(?!\w)"),
    Phrase(
        "resubscribe",
        ("subscrib", "unstop", "back"),
        r"\bre-?subscrib\w*|\bunstop\b|\bput\s+(?:me|us)\s+back\s+on\b",
    ),
)

# ----------------------------------------------------------------------------- compiled

_Compiled = tuple[tuple[str, frozenset[str], re.Pattern[str]], ...]


def _compile(table: tuple[Phrase, ...]) -> _Compiled:
    """Each entry's name, needles as a set, and pattern compiled."""
    return tuple((p.name, frozenset(p.needles), re.compile(p.pattern)) for p in table)


_LOOK_ALIKES = _compile(LOOK_ALIKES)
_REVOCATIONS = _compile(REVOCATION_PHRASES)
_OPT_INS = _compile(OPT_IN_PHRASES)
# Looking each distinct needle up once is cheaper than asking every entry in turn.
_NEEDLES = tuple(
    sorted(
        {n for t in (LOOK_ALIKES, REVOCATION_PHRASES, OPT_IN_PHRASES) for p in t for n in p.needles}
    )
)
_REACTION_RE = re.compile(
    r"\A\s*(?:liked|loved|disliked|laughed\s+at|emphasi[sz]ed|questioned|reacted\s+\S+\s+to"
    r'|removed\s+an?\s+\w+\s+from)\s+"[^"]*"\s*\Z'
)

_EXACT = (
    {word: Intent(OPT_OUT, True, word) for word in OPT_OUT_KEYWORDS}
    | {word: Intent(OPT_IN, True, word) for word in OPT_IN_KEYWORDS}
    | {word: Intent(HELP, True, word) for word in HELP_KEYWORDS}
)
_SPACE_AND_QUOTES = " \t\r\n\"'\u201c\u201d\u2018\u2019`"
_QUOTE_MAP = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u00b4": "'"}
)


def fold(text: str) -> str:
    """Text as the tables read it: lower case, accents dropped, straight quotes."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
        text = text.translate(_QUOTE_MAP)
    return text.lower()


def is_reaction(text: str) -> bool:
    """Whether the reply is a phone's reaction to our text (`Liked “...”`), not words of its own."""
    return _REACTION_RE.match(fold(text[:READ_LIMIT])) is not None


def _exact_keyword(text: str) -> str:
    """The reply trimmed the way keyword matching reads it, in upper case."""
    trimmed = text.strip(_SPACE_AND_QUOTES).rstrip(".!?" + _SPACE_AND_QUOTES)
    return trimmed.upper()


def _needles_in(folded: str) -> frozenset[str]:
    """The needles that occur in `folded`."""
    return frozenset(needle for needle in _NEEDLES if needle in folded)


def _first(table: _Compiled, folded: str, present: frozenset[str]) -> str:
    """The name of the first entry of `table` found in `folded`, or ""."""
    for name, needles, pattern in table:
        if not needles.isdisjoint(present) and pattern.search(folded):
            return name
    return ""


def unmask(folded: str, present: frozenset[str] | None = None) -> str:
    """Folded text with every look-alike ("stop by", "don't stop") blanked out."""
    if present is None:
        present = _needles_in(folded)
    for _, needles, pattern in _LOOK_ALIKES:
        if not needles.isdisjoint(present):
            folded = pattern.sub(" ~ ", folded)
    return folded


def read(text: str) -> Intent:
    """What `text` means for consent: opt-out, opt-in, help, or nothing (`Intent.kind == ""`)."""
    text = text[:READ_LIMIT]
    exact = _EXACT.get(_exact_keyword(text))
    if exact is not None:
        return exact
    folded = fold(text)
    if _REACTION_RE.match(folded):
        return NOTHING
    # Blanking only removes words, so needles found before it are a superset of those after.
    present = _needles_in(folded)
    unmasked = unmask(folded, present)
    name = _first(_REVOCATIONS, unmasked, present)
    if name:
        return Intent(OPT_OUT, False, name)
    name = _first(_OPT_INS, unmasked, present)
    if name:
        return Intent(OPT_IN, False, name)
    return NOTHING
