"""Template tokens: `{firstName}` and `{firstName|there}` in a message body, and their values.

Syntax, as the editor explains it:

- `{name}` is replaced by the lead's value; `{name|fallback}` uses `fallback` when the
  lead has none. An empty fallback (`{name|}`) says "leave it out" on purpose.
- Names are the keys of TOKENS. They match whatever the case and separators
  (`{FirstName}`, `{first_name}` and `{first name}` are all `firstName`), and any other
  name in braces is an unknown token: an error to fix before sending.
- Doubled braces are read as single ones: `{{firstName}}` (or a mismatched
  `{{firstName}`) is the token `firstName`, not the literal text `{firstName}`. People
  bring that habit from other tools, and sending the braces to two thousand owners
  would be worse than having no escape. So there is none: braces that wrap nothing
  (`{}`, `{ }`) or stand alone (`{`, `}`) stay literal text, and anything else in
  braces is a token.

Nothing here imports Flask: the editor preview, the batch drafter and tests share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from console.services.campaigns.industry_labels import industry_words
from console.services.lists.business_fields import business_display_name
from console.services.lists.names import person_name
from console.services.lists.normalize import clean_text, name_case

if TYPE_CHECKING:
    from console.models.leads import Lead

TOKENS: dict[str, str] = {
    "firstName": "Owner's first name",
    "lastName": "Owner's last name",
    "fullName": "Owner's full name",
    "companyName": "Business name",
    "industry": "Industry",
    "city": "Business city",
    "state": "Business state",
    "senderName": "Sender's name",
}
_TOKEN_KEYS = {name.lower(): name for name in TOKENS}
_NAME_SEPARATORS = re.compile(r"[\s_-]+")
# A token in single or doubled braces (even mismatched: `{{firstName}`).
_BRACES = re.compile(r"\{\{?([^{}\n]{1,80})\}\}?")

OPT_OUT_DEFAULT = "Reply STOP to opt out"
_QUOTE = "[\"'“”‘’]?"
_OPT_OUT_VERB = r"(?:opt\s*-?\s*out|unsubscribe|unsub|stop|end|cancel|quit|be\s+removed)"
_OPT_OUT_WORDING = re.compile(
    # "Reply STOP to opt out", "STOP to end", "Text “STOP” anytime to unsubscribe"
    rf"\bstop{_QUOTE}(?:\s+(?:at\s+)?any\s*time)?\s+to\s+{_OPT_OUT_VERB}\b"
    # "Reply END to opt out": Twilio's other opt-out words, only after "reply" or "text"
    rf"|\b(?:reply|text|txt|send|respond(?:\s+with)?)\s+{_QUOTE}"
    rf"(?:stopall|end|quit|cancel|unsubscribe|optout|revoke){_QUOTE}"
    rf"\s+to\s+{_OPT_OUT_VERB}\b"
    # "To opt out, reply STOP", "Unsubscribe: text STOP"
    rf"|\b(?:opt\s*-?\s*out|unsubscribe)[\s,:.-]*(?:reply|text|txt|send|respond)"
    rf"(?:\s+with)?\s+{_QUOTE}stop\b",
    re.IGNORECASE,
)
_CLOSES = ",.;:!?)"  # no space before these once a token left nothing
_SPACES = " \t"


@dataclass(frozen=True)
class Part:
    """A run of rendered text: literal, or the value (or fallback) of one token."""

    text: str
    token: str | None = None
    fallback_used: bool = False
    missing: bool = False


@dataclass(frozen=True)
class Rendered:
    """A body with its tokens filled in, and which tokens fell back or had no value."""

    text: str
    parts: tuple[Part, ...]
    fallbacks_used: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def spans(self) -> list[list]:
        """Where tokens sit in `text`: `[[start, end, token, fallback_used]]`, as messages keep."""
        spans, start = [], 0
        for part in self.parts:
            end = start + len(part.text)
            if part.token is not None:
                spans.append([start, end, part.token, part.fallback_used])
            start = end
        return spans


def _token_name(typed: str) -> str:
    """The TOKENS name for what was typed (`First_Name` → `firstName`), else it stripped."""
    typed = typed.strip()
    return _TOKEN_KEYS.get(_NAME_SEPARATORS.sub("", typed).lower(), typed)


@lru_cache(maxsize=512)
def _parsed(body: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """`parse` as a tuple, cached: a batch renders the same few bodies thousands of times."""
    pieces: list[tuple[str, str | None, str | None]] = []
    position = 0
    for match in _BRACES.finditer(body):
        inner = match.group(1)
        if not inner.strip():
            continue  # `{ }` wraps nothing: it stays in the literal text
        typed, bar, fallback = inner.partition("|")
        literal = body[position : match.start()]
        pieces.append((literal, _token_name(typed), fallback.strip() if bar else None))
        position = match.end()
    if position < len(body):
        pieces.append((body[position:], None, None))
    return tuple(pieces)


def parse(body: str) -> list[tuple[str, str | None, str | None]]:
    """Split a body into `(literal text, token name, fallback)`; a last literal has no token.

    Known names come back in their TOKENS spelling; the fallback is None without a `|`.
    `parse("Hi {first_name|there}!")` → `[("Hi ", "firstName", "there"), ("!", None, None)]`.
    """
    return list(_parsed(body))


def unknown_tokens(body: str) -> list[str]:
    """Names in braces that are not TOKENS, as typed, each once in order of appearance."""
    names = (name for _, name, _ in _parsed(body) if name is not None and name not in TOKENS)
    return list(dict.fromkeys(names))


def render(body: str, values: dict[str, str]) -> Rendered:
    """Fill the tokens of `body` from `values` (see `lead_values`).

    A blank value takes the token's fallback (`fallback_used`), else renders as nothing
    (`missing`); the space that leaves behind is tidied ("Hi {firstName}, ..." → "Hi, ...").
    """
    texts: list[str] = []
    tokens: list[tuple[str, bool, bool] | None] = []  # (token, fallback_used, missing)
    for literal, name, fallback in _parsed(body):
        texts.append(literal)
        tokens.append(None)
        if name is None:
            continue
        value = " ".join(str(values.get(name) or "").split())
        if value:
            texts.append(value)
            tokens.append((name, False, False))
        else:
            texts.append(fallback or "")
            tokens.append((name, fallback is not None, fallback is None))
    for i, text in enumerate(texts):
        if tokens[i] is not None and not text:
            _tidy_around(texts, i)
    parts = tuple(
        Part(text) if token is None else Part(text, *token)
        for text, token in zip(texts, tokens, strict=True)
        if text or token is not None
    )
    return Rendered(
        text="".join(texts),
        parts=parts,
        fallbacks_used=tuple(dict.fromkeys(p.token for p in parts if p.fallback_used)),
        missing=tuple(dict.fromkeys(p.token for p in parts if p.missing)),
    )


def _tidy_around(texts: list[str], i: int) -> None:
    """Drop the spaces an empty token at `texts[i]` leaves doubled, or left before punctuation."""
    before, after = "".join(texts[:i]), "".join(texts[i + 1 :])
    if before == "" or before.endswith("\n"):
        for j in range(i + 1, len(texts)):  # start of a line: no leading spaces
            texts[j] = texts[j].lstrip(_SPACES)
            if texts[j]:
                break
    elif before[-1] in _SPACES and (after == "" or after[0] in _SPACES + "\n" + _CLOSES):
        for j in range(i - 1, -1, -1):
            texts[j] = texts[j].rstrip(_SPACES)
            if texts[j]:
                break


# ------------------------------------------------------------------------ lead values

_DBA = re.compile(r"\s+(?:d\s*/\s*b\s*/\s*a|d\.?b\.?a\.?|doing business as)\s+", re.IGNORECASE)
# Legal forms dropped from the end of a business name in a text (dots ignored: L.L.C.).
_LEGAL_FORMS = frozenset(
    {"llc", "lc", "inc", "incorporated", "corp", "corporation", "co", "ltd", "limited",
     "llp", "lllp", "lp", "pc", "pllc"}
)  # fmt: skip
_INITIAL_ONLY = re.compile(r"[^\W\d_]\.?")


def lead_values(lead: Lead, sender_name: str = "") -> dict[str, str]:
    """Every token's value for one lead, tidied for a text to its owner.

    Names and cities typed ALL CAPS get Title Case (`JOHN` → `John`, mixed case such as
    `McDonald` is kept); the business name loses legal forms (`ACME HVAC SERVICES, LLC`
    → `Acme HVAC Services`); the industry is the plain words for the business's SIC or
    NAICS code (`dental practices`), never the list's description. A first name that is
    only an initial counts as none. `sender_name` is the person the text is signed by.
    """
    owner, business = lead.owner, lead.business
    first = last = full = ""
    if owner is not None:
        first = name_case(clean_text(owner.first_name))
        last = name_case(clean_text(owner.last_name))
        full = name_case(clean_text(owner.full_name))
        if full and not (first and last):  # the list gave only "JOHN SMITH"
            parsed = person_name(full)
            first, last = first or parsed.first, last or parsed.last
        full = full or " ".join(p for p in (first, last) if p)
        if _INITIAL_ONLY.fullmatch(first):
            first = ""
    return {
        "firstName": first,
        "lastName": last,
        "fullName": full,
        "companyName": company_name(business.name) if business else "",
        "industry": industry_words(business.sic_code, business.naics_code) if business else "",
        "city": name_case(clean_text(business.city)) if business else "",
        "state": clean_text(business.state) if business else "",
        "senderName": clean_text(sender_name),
    }


def company_name(name: str) -> str:
    """A business name as a text would say it: `ACME HVAC SERVICES, L.L.C.` → `Acme HVAC Services`.

    Shouty names get Title Case with short acronyms kept, the trade name after `dba`
    wins, and trailing legal forms go (but `& Co` stays: it is part of the name).
    """
    text = business_display_name(name or "")
    dba = _DBA.search(text)
    if dba:
        text = text[dba.end() :].strip() or text[: dba.start()]
    words = text.split()
    while len(words) > 1:
        key = words[-1].strip(".,").replace(".", "").lower()
        if key not in _LEGAL_FORMS or (key == "co" and words[-2].lower() in ("&", "and")):
            break
        words.pop()
    return " ".join(words).rstrip(" ,;-")


# ----------------------------------------------------------------------------- opt-out


def _squashed(text: str) -> str:
    """Lower case, single spaces, plain quotes: for comparing wording."""
    return " ".join(text.casefold().replace("’", "'").replace("“", '"').replace("”", '"').split())


def has_opt_out(body: str, team_wording: str = "") -> bool:
    """Whether `body` tells the owner how to opt out.

    True for the default wording, the team's own (`team_wording`) and common equivalents
    ("Text STOP to unsubscribe", "STOP to end", "To opt out, reply STOP"), in any case
    and spacing. A bare "Reply STOP" does not count: it says what to send, not why.
    """
    squashed = _squashed(body)
    for wording in (OPT_OUT_DEFAULT, team_wording):
        wanted = _squashed(wording).rstrip(".! ")
        if wanted and wanted in squashed:
            return True
    return _OPT_OUT_WORDING.search(body) is not None
