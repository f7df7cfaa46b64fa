"""Reading a reply: the rules first, then Claude when a key is set.

The rules always run and always stand when Claude cannot help (no key, timeout, error,
an answer that is not the JSON asked for); the item then says so. An opt-out the rules
found is final and Claude is not asked. Claude may suspect an opt-out the rules
missed: that is flagged for a person to confirm, never acted on by itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from console.providers.claude import Claude, ModelAnswer, ModelFailure
from console.services import phones
from console.services.replies import classify, optout
from console.services.replies.classify import LABELS, Classification

# Ends the note of a reading where Claude was asked and failed, so the rules' stood.
FELL_BACK = "the rules' reading stands"
EXTRACTED_FIELDS = ("email", "phone", "callback_time", "asking_price", "timeline")
_EMAIL = re.compile(r"^[\w.+'-]+@[\w-]+(\.[\w-]+)+$")

SYSTEM = f"""You read SMS replies that owners of small businesses send to a team that \
asked whether they would consider selling their business. Answer with one JSON object \
and nothing else:
{{"label": "...", "confidence": 0-100, "opt_out": true|false, "extracted": {{...}}}}

label is exactly one of: {", ".join(LABELS)}.
- STOP: any wish not to be texted or contacted again, in any words or language.
- POSITIVE: open to talking or selling. NEGATIVE: a clear no.
- QUESTION: asks who we are, how we got the number, what this is.
- EMAIL_CAPTURE: gives an email address. CALLBACK_REQUEST: asks for a call.
- PRICE_INQUIRY: asks what we would pay or names a price.
- WRONG_NUMBER: not the person we meant. NOT_OWNER: reached someone who is not the owner.
- LATER: not now, maybe later. UNCLEAR: none of these can be told.
opt_out is true whenever the reply, read by a reasonable person, revokes consent to be \
texted, even politely or mixed with other words.
extracted holds only what the reply states: email, phone, callback_time (as written), \
asking_price (as written), timeline (as written). Leave out anything not stated."""


@dataclass
class Reading:
    """A reply's classification and how it was reached."""

    classification: Classification
    opt_out_suspected: bool = False
    answer: ModelAnswer | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def note(self) -> str:
        """The notes in one line, for the item."""
        return " ".join(self.notes)[:255]


def read_reply(text: str, *, claude: Claude | None, model: str, our_last_text: str = "") -> Reading:
    """Classify one reply: rules, then Claude if configured (see the module's rules)."""
    text = (text or "")[: optout.READ_LIMIT]
    rules = classify.by_rules(text)
    if rules.opt_out:
        return Reading(rules, notes=["Opt-out words found by the rules."])
    if claude is None:
        return Reading(rules, notes=["Read by the rules (no Anthropic key configured)."])
    prompt = (
        f"Our last text to them:\n{our_last_text or '(none on record)'}\n\nTheir reply:\n{text}"
    )
    try:
        answer = claude.ask(
            model=model,
            system=[{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
            messages=[{"role": "user", "content": prompt}],
            max_tokens=200,
        )
    except ModelFailure as failure:
        return Reading(rules, notes=[f"{failure}; {FELL_BACK}."])
    parsed = parse_answer(answer.text)
    if parsed is None:
        return Reading(
            rules,
            answer=answer,
            notes=[f"Claude's answer was not valid JSON; {FELL_BACK}."],
        )
    suspected = parsed["opt_out"] or parsed["label"] == "STOP"
    label = parsed["label"] if parsed["label"] != "STOP" else rules.label
    extracted = {**parsed["extracted"], **rules.extracted}
    result = Classification(
        label=label,
        confidence=parsed["confidence"],
        opt_out=False,
        extracted=extracted,
        source="ai",
    )
    notes = [f"Read by {answer.model}."]
    if suspected:
        notes.append("Claude reads this as a possible opt-out: confirm or dismiss.")
    return Reading(result, opt_out_suspected=suspected, answer=answer, notes=notes)


def parse_answer(text: str) -> dict | None:
    """Claude's JSON, validated: a known label, a 0-100 confidence, clean fields; or None."""
    text = text or ""
    # From the first "{" to the last "}": found with two scans, not a pattern that
    # scans to the end again from every "{".
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end < start:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("label") not in LABELS:
        return None
    try:
        confidence = int(data.get("confidence", 50))
    except (TypeError, ValueError):
        return None
    opt_out = data.get("opt_out", False)
    if not isinstance(opt_out, bool):
        return None
    raw = data.get("extracted") or {}
    if not isinstance(raw, dict):
        return None
    return {
        "label": data["label"],
        "confidence": max(0, min(100, confidence)),
        "opt_out": opt_out,
        "extracted": _clean_fields(raw),
    }


def _clean_fields(raw: dict) -> dict[str, str]:
    """Only the known fields, as short strings; an email or phone only when valid."""
    cleaned: dict[str, str] = {}
    for name in EXTRACTED_FIELDS:
        value = raw.get(name)
        if value in (None, "") or isinstance(value, (dict, list)):
            continue
        value = str(value).strip()[:80]
        if name == "email" and not _EMAIL.match(value):
            continue
        if name == "phone":
            value = phones.to_e164(value) or ""
        if value:
            cleaned[name] = value
    return cleaned
