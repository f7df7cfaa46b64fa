"""The official Twilio SDK client, pointed at Twilio or at a Twilio-compatible endpoint.

`TWILIO_API_BASE_URL` (simulators, the test suite) swaps the scheme and host of every
request the SDK makes, whichever Twilio domain it was meant for (api, lookups...), so
the SDK's own request building and response parsing are what run.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client


class RedirectingHttpClient(TwilioHttpClient):
    """A TwilioHttpClient that sends every request to one base URL instead."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base = urlsplit(base_url.rstrip("/"))

    def request(self, method: str, url: str, *args, **kwargs):
        """Re-address the request, then send it as the SDK would."""
        parts = urlsplit(url)
        url = urlunsplit(
            (self.base.scheme, self.base.netloc, self.base.path + parts.path, parts.query, "")
        )
        return super().request(method, url, *args, **kwargs)


def make_client(
    account_sid: str, auth_token: str, base_url: str = "", timeout: float = 10.0
) -> Client:
    """A Twilio client; with `base_url`, one that talks to that endpoint instead."""
    http_client = (
        RedirectingHttpClient(base_url, timeout=timeout)
        if base_url
        else TwilioHttpClient(timeout=timeout)
    )
    return Client(account_sid, auth_token, http_client=http_client)
