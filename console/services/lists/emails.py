"""Email addresses in purchased lists: one valid, lower-cased address per cell
(`normalize_email`), with a fast path for the common shapes.
"""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from console.services.lists.normalize import clean_text

_EMAIL_SIMPLE = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63})"
)
# Top-level names email_validator refuses; the fast path leaves them to it.
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_ANGLE_ADDRESS = re.compile(r"<([^<>]*)>")
_EMAIL_SEPARATORS = re.compile(r"[;,\s]+")


def _email_is_simple(text: str) -> bool:
    """Whether a plain ASCII address is certainly valid, without asking email_validator."""
    match = _EMAIL_SIMPLE.fullmatch(text)
    return bool(
        match
        and len(text) <= 254
        and text.index("@") <= 64
        and "--" not in text[text.index("@") :]
        and match.group(1) not in _SPECIAL_USE_TLDS
    )


@lru_cache(maxsize=8192)
def _validated_email(text: str) -> str | None:
    """The address as email_validator normalizes it (syntax only), or None."""
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def normalize_email(raw: str) -> str | None:
    """A lower-cased, syntax-checked email address, or None when it is not one.

    Strips `mailto:`, labels and angle brackets (`Email: Jo <jo@x.com>`) and keeps the
    first of several addresses.
    """
    text = clean_text(raw).lower()
    match = _ANGLE_ADDRESS.search(text)
    if match:
        text = match.group(1)
    candidates = [t for t in _EMAIL_SEPARATORS.split(text) if "@" in t]
    if not candidates:
        return None
    text = candidates[0].strip("'\"()").removeprefix("mailto:").rstrip(".")
    if _email_is_simple(text):
        return text
    return _validated_email(text)
