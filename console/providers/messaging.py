"""Sending texts: the small interface the dispatcher uses, and Twilio behind it.

`send` either returns Twilio's answer or raises `SendError`, which says whether the
text certainly did not go (`refused`, `retry`) or might have (`ambiguous`: a timeout or
a 5xx after the request left), in which case the caller must look before sending again.
`find` is that look: Twilio's message list for the number since a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Protocol

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

# Twilio errors that say the request was refused before anything was sent.
RETRY_CODES = frozenset({20429})


@dataclass(frozen=True)
class SendResult:
    """What Twilio said about a message it took."""

    sid: str
    status: str
    from_address: str = ""
    price: Decimal | None = None
    segments: int | None = None
    error_code: int | None = None


class SendError(Exception):
    """A send that did not return a message.

    kind: "refused" (Twilio said no: error code tells why; never retried), "retry"
    (rate limited or could not connect: nothing was sent, try later), "ambiguous" (the
    request may have reached Twilio: look it up with `find` before retrying).
    """

    def __init__(self, kind: str, message: str, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.status = status


class Transport(Protocol):
    """Where texts go: Twilio, or the sandbox that plays Twilio's part."""

    def send(
        self, *, to: str, sender_kind: str, sender_address: str, body: str, status_callback: str
    ) -> SendResult: ...

    def find(
        self, *, to: str, sender_kind: str, sender_address: str, body: str, since: datetime
    ) -> SendResult | None: ...

    def fetch(self, sid: str) -> SendResult | None: ...


def parse_price(value) -> Decimal | None:
    """Twilio's price ("-0.00830", negative as a charge) as a positive amount."""
    if value in (None, ""):
        return None
    try:
        return abs(Decimal(str(value)))
    except InvalidOperation:
        return None


class TwilioTransport:
    """Messages through the official SDK (`client.messages.create` and `.list`).

    Safe to call from many threads at once when made with a client factory: each
    thread gets its own client (the SDK's HTTP client keeps the last response on
    itself, so threads sharing one could read each other's answers).
    """

    def __init__(self, client: Client | Callable[[], Client]) -> None:
        self._factory = client if not isinstance(client, Client) else None
        self._shared = client if isinstance(client, Client) else None
        self._local = threading.local()

    @property
    def parallel(self) -> bool:
        """Whether threads may send through it at once (one client each)."""
        return self._factory is not None

    @property
    def client(self) -> Client:
        """This thread's client."""
        if self._factory is None:
            return self._shared
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._factory()
        return client

    def send(
        self, *, to: str, sender_kind: str, sender_address: str, body: str, status_callback: str
    ) -> SendResult:
        """Create the message; raise SendError saying whether it may have gone."""
        kwargs = {"to": to, "body": body}
        if status_callback:
            kwargs["status_callback"] = status_callback
        if sender_kind == "messaging_service":
            kwargs["messaging_service_sid"] = sender_address
        else:
            kwargs["from_"] = sender_address
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            raise _classify(exc) from exc
        except requests.exceptions.RequestException as exc:
            if _never_connected(exc):
                raise SendError("retry", f"Could not connect to Twilio: {exc}") from exc
            raise SendError("ambiguous", f"No answer from Twilio: {type(exc).__name__}") from exc
        return _result(message)

    def find(
        self, *, to: str, sender_kind: str, sender_address: str, body: str, since: datetime
    ) -> SendResult | None:
        """The message Twilio has to `to` with this body since `since`, if any."""
        # No DateSent filter: Twilio leaves date_sent empty until the text leaves its
        # queue, and a text still queued must be found too. Newest first, by creation.
        kwargs = {"to": to, "limit": 100, "page_size": 100}
        if sender_kind != "messaging_service":
            kwargs["from_"] = sender_address
        try:
            messages = self.client.messages.list(**kwargs)
        except TwilioRestException as exc:
            raise _classify(exc) from exc
        except requests.exceptions.RequestException as exc:
            raise SendError("retry", f"Could not list Twilio's messages: {exc}") from exc
        slack = timedelta(minutes=2)
        for message in messages:  # newest first
            if message.body != body:
                continue
            if sender_kind == "messaging_service" and message.messaging_service_sid not in (
                None,
                sender_address,
            ):
                continue
            created = message.date_created
            if created is not None and created < since - slack:
                continue
            return _result(message)
        return None

    def fetch(self, sid: str) -> SendResult | None:
        """One message as Twilio has it now (for its final price); None if unknown."""
        try:
            return _result(self.client.messages(sid).fetch())
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise _classify(exc) from exc
        except requests.exceptions.RequestException as exc:
            raise SendError("retry", f"Could not fetch the message: {exc}") from exc


def _never_connected(exc: requests.exceptions.RequestException) -> bool:
    """Whether the request certainly never reached Twilio (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        cause = getattr(reason, "reason", reason)
        return isinstance(cause, NewConnectionError)
    return False


def _result(message) -> SendResult:
    segments = None
    try:
        segments = int(message.num_segments) if message.num_segments is not None else None
    except (TypeError, ValueError):
        segments = None
    return SendResult(
        sid=message.sid,
        status=message.status or "queued",
        from_address=message.from_ or "",
        price=parse_price(message.price),
        segments=segments,
        error_code=message.error_code,
    )


def _classify(exc: TwilioRestException) -> SendError:
    code = exc.code if isinstance(exc.code, int) else None
    status = exc.status
    message = exc.msg or str(exc)
    if code in RETRY_CODES or status == 429:
        return SendError("retry", message, code or 20429, status)
    if status is not None and status >= 500:
        return SendError("ambiguous", message, code, status)
    return SendError("refused", message, code, status)


class AccountCheckError(Exception):
    """Twilio could not say whether the account holds an address (down, refused, offline)."""


class TwilioAccount:
    """What the console's Twilio account holds: its phone numbers and Messaging Services."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def holds(self, kind: str, address: str) -> bool:
        """Whether the number (E.164) or Messaging Service (MG...) is the account's."""
        try:
            if kind == "messaging_service":
                return self.client.messaging.v1.services(address).fetch().sid == address
            # PhoneNumber also matches partial numbers, so only an exact one counts.
            numbers = self.client.incoming_phone_numbers.list(phone_number=address, limit=20)
            return any(number.phone_number == address for number in numbers)
        except TwilioRestException as exc:
            if exc.status == 404:
                return False
            raise AccountCheckError(exc.msg or str(exc)) from exc
        except TwilioException as exc:  # a list page Twilio refused (401, 5xx...)
            raise AccountCheckError(str(exc.args[0]) if exc.args else "Twilio refused") from exc
        except requests.exceptions.RequestException as exc:
            raise AccountCheckError(f"Could not reach Twilio: {type(exc).__name__}") from exc
