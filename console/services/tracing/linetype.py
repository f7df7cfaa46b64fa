"""Line-type checks of the numbers the team may text, each number checked once in 90 days.

A check is a paid Twilio Lookup when Twilio is configured, else the free offline plan;
either way the answer is kept per team and number (`phone_checks`) and copied onto
every phone row with that number. Landlines and toll-free numbers become not textable;
VoIP stays textable and is flagged on the page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import Phone, PhoneCheck
from console.models.base import utcnow
from console.providers.lookup import VOIP, LineType, LookupFailed, OfflineLookup, TwilioLookup
from console.providers.twilio_client import make_client
from console.services.tenancy import of_team

CACHE_DAYS = 90
RETRY_BACKOFF = (0.5, 1.5)


@dataclass
class CheckCounts:
    """What a round of checks did."""

    numbers: int = 0
    checked: int = 0
    cached: int = 0
    failed: int = 0
    mobile: int = 0
    not_textable: int = 0
    voip: int = 0
    cost: Decimal = Decimal(0)
    errors: list[str] = field(default_factory=list)


def make_checker(config: dict) -> TwilioLookup | OfflineLookup:
    """Twilio Lookup when the console has Twilio credentials, else the offline plan."""
    if config.get("TWILIO_SANDBOX", True):
        return OfflineLookup()
    client = make_client(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_AUTH_TOKEN"],
        config.get("TWILIO_API_BASE_URL", ""),
    )
    return TwilioLookup(client, Decimal(str(config.get("TWILIO_LOOKUP_PRICE", "0.008"))))


def _is_fresh(when: datetime | None, now: datetime) -> bool:
    return when is not None and now - when < timedelta(days=CACHE_DAYS)


def check_phones(
    session: Session,
    team_id: int,
    phones: Iterable[Phone],
    checker: TwilioLookup | OfflineLookup,
    *,
    now: datetime | None = None,
    concurrency: int = 8,
    sleep: Callable[[float], None] = time.sleep,
) -> CheckCounts:
    """Check the numbers of `phones` not checked in the last 90 days; flushes, no commit."""
    now = now or utcnow()
    due = [p for p in phones if not p.extension and not _is_fresh(p.validated_at, now)]
    counts = CheckCounts(numbers=len({p.e164 for p in due}))
    if not due:
        return counts
    numbers = sorted({p.e164 for p in due})
    stored = {
        check.e164: check
        for check in session.scalars(
            select(PhoneCheck).where(of_team(PhoneCheck, team_id), PhoneCheck.e164.in_(numbers))
        )
    }
    known = {n: c for n, c in stored.items() if _is_fresh(c.checked_at, now)}
    counts.cached = len(known)
    to_call = [n for n in numbers if n not in known]
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        answers = list(pool.map(lambda n: _check_one(checker, n, sleep), to_call))
    for number, answer in zip(to_call, answers, strict=True):
        if isinstance(answer, str):
            counts.failed += 1
            counts.errors.append(f"{number}: {answer}")
            continue
        counts.checked += 1
        counts.cost += answer.cost
        known[number] = _store(session, team_id, stored.get(number), answer, now)
    for phone in due:
        check = known.get(phone.e164)
        if check is not None:
            phone.line_type, phone.carrier = check.line_type, check.carrier
            phone.textable, phone.validated_at = check.textable, check.checked_at
    for check in known.values():
        counts.mobile += check.line_type == "mobile" and check.textable
        counts.not_textable += not check.textable
        counts.voip += check.line_type in VOIP
    session.flush()
    return counts


def _check_one(checker, number: str, sleep) -> LineType | str:
    """One number's check, with retries for a busy or failing service; the error otherwise."""
    for attempt in range(len(RETRY_BACKOFF) + 1):
        try:
            return checker.check(number)
        except LookupFailed as exc:
            if not exc.retryable or attempt == len(RETRY_BACKOFF):
                return str(exc)
            sleep(RETRY_BACKOFF[attempt])
    return "not checked"


def _store(
    session: Session, team_id: int, row: PhoneCheck | None, answer: LineType, now: datetime
) -> PhoneCheck:
    if row is None:
        row = PhoneCheck(team_id=team_id, e164=answer.e164)
        session.add(row)
    row.source, row.valid, row.line_type = answer.source, answer.valid, answer.line_type
    row.carrier, row.textable, row.cost = answer.carrier[:120], answer.textable, answer.cost
    row.response, row.checked_at = answer.response, now
    return row
