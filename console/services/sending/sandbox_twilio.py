"""The sandbox Twilio of the embedded mode: it records each text it is given, answers
with a SID, and later plays back delivery callbacks through the same function the
status webhook calls, with a realistic share of failures. Nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import SandboxMessage
from console.models.base import utcnow
from console.providers.messaging import SendResult
from console.services.campaigns import segments
from console.services.sending import delivery

# What happens to a sandbox text, decided by its number so a test can count on it:
# (share out of 1,000, final status, error code).
OUTCOMES: tuple[tuple[int, str, int | None], ...] = (
    (920, "delivered", None),
    (25, "undelivered", 30003),
    (20, "undelivered", 30007),
    (15, "undelivered", 30006),
    (10, "undelivered", 30005),
    (10, "failed", 30008),
)
# What the sandbox "charges" a segment once a text settles (Twilio's 2026 US list price).
PRICE_PER_SEGMENT = Decimal("0.0083")
SENT_AFTER = timedelta(seconds=1)
FINAL_AFTER = timedelta(seconds=4)


def outcome_for(e164: str) -> tuple[str, int | None]:
    """The final status the sandbox gives texts to a number."""
    point = int(hashlib.sha256(e164.encode()).hexdigest()[:8], 16) % 1000
    for share, status, code in OUTCOMES:
        if point < share:
            return status, code
        point -= share
    return "delivered", None


class SandboxTransport:
    """Plays Twilio: same interface as `TwilioTransport`, rows instead of HTTP (in the
    dispatcher's own session, so it is called from its thread only)."""

    parallel = False

    def __init__(self, session: Session, team_id: int, clock=utcnow) -> None:
        self.session = session
        self.team_id = team_id
        self.clock = clock

    def send(
        self, *, to: str, sender_kind: str, sender_address: str, body: str, status_callback: str
    ) -> SendResult:
        """Record the text and plan its callbacks: sent, then delivered or a failure."""
        now = self.clock()
        status, code = outcome_for(to)
        sid = "SM" + secrets.token_hex(16)
        self.session.add(
            SandboxMessage(
                team_id=self.team_id,
                sid=sid,
                to_e164=to,
                from_address=sender_address,
                body=body,
                segments=segments.measure(body).segments,
                pending=[
                    ["sent", None, (now + SENT_AFTER).isoformat()],
                    [status, code, (now + FINAL_AFTER).isoformat()],
                ],
                next_at=now + SENT_AFTER,
                created_at=now,
            )
        )
        self.session.flush()
        return SendResult(sid=sid, status="queued", from_address=sender_address)

    def find(
        self, *, to: str, sender_kind: str, sender_address: str, body: str, since: datetime
    ) -> SendResult | None:
        """The sandbox's record of a text to `to` with this body since `since`."""
        row = self.session.scalars(
            select(SandboxMessage)
            .where(
                SandboxMessage.team_id == self.team_id,
                SandboxMessage.to_e164 == to,
                SandboxMessage.body == body,
                SandboxMessage.created_at >= since - timedelta(minutes=2),
            )
            .order_by(SandboxMessage.id.desc())
        ).first()
        if row is None:
            return None
        return SendResult(sid=row.sid, status="queued", from_address=row.from_address)

    def fetch(self, sid: str) -> SendResult | None:
        """The sandbox's message with its price once its callbacks have played."""
        row = self.session.scalars(select(SandboxMessage).where(SandboxMessage.sid == sid)).first()
        if row is None:
            return None
        final = not row.pending
        return SendResult(
            sid=row.sid,
            status="delivered" if final else "sent",
            from_address=row.from_address,
            price=PRICE_PER_SEGMENT * row.segments if final else None,
            segments=row.segments,
        )


def play_back(session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """Deliver the callbacks that are due, as the status webhook would; commit."""
    now = now or utcnow()
    rows = session.scalars(
        select(SandboxMessage)
        .where(SandboxMessage.next_at.is_not(None), SandboxMessage.next_at <= now)
        .order_by(SandboxMessage.next_at)
        .limit(limit)
    ).all()
    played = 0
    for row in rows:
        pending = list(row.pending or [])
        while pending and datetime.fromisoformat(pending[0][2]) <= now:
            status, code, _at = pending.pop(0)
            params = {
                "MessageSid": row.sid,
                "SmsSid": row.sid,
                "MessageStatus": status,
                "SmsStatus": status,
                "To": row.to_e164,
                "From": row.from_address,
                "ApiVersion": "2010-04-01",
            }
            if code is not None:
                params["ErrorCode"] = str(code)
            delivery.apply_callback(session, params, source="sandbox")
            played += 1
        row.pending = pending
        row.next_at = datetime.fromisoformat(pending[0][2]) if pending else None
        session.commit()
    return played
