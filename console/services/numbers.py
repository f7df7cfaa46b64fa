"""Whole numbers read from links and forms, bounded to what the database can hold."""

from __future__ import annotations

import re

from console.models.base import INT_MAX

# ASCII digits only: str.isdigit() also passes "²" and "١", which int() refuses.
_DIGITS = re.compile(r"[0-9]{1,19}")


def whole_number(value: object, low: int = 0, high: int = INT_MAX) -> int | None:
    """`value` as a whole number from `low` to `high`, or None when it is anything else."""
    text = str(value if value is not None else "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None
