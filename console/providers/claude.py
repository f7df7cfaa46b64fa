"""Claude through the official Anthropic SDK, with short deadlines and failures in words.

Callers never wait minutes: each call has a deadline of a few seconds and no SDK
retries, because a reviewer is better served by the persona's template now than by
a perfect draft later. Any failure (timeout, rate limit, server error, unreachable)
becomes one `ModelFailure` whose text an operator can read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import anthropic


class ModelFailure(Exception):
    """Claude did not answer usefully; the message says why, in words."""


@dataclass(frozen=True)
class ModelAnswer:
    """Claude's text and what it cost."""

    text: str
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    latency_ms: int


class Claude:
    """A configured client: one per process, shared by threads (the SDK is thread-safe)."""

    def __init__(self, api_key: str, base_url: str = "", timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=0
        )

    def ask(
        self,
        *,
        model: str,
        system: list[dict] | str,
        messages: list[dict],
        max_tokens: int = 300,
        timeout: float | None = None,
    ) -> ModelAnswer:
        """One Messages API call; the text of its answer, or ModelFailure."""
        started = time.monotonic()
        try:
            reply = self.client.messages.create(
                model=model,
                system=system,
                messages=messages,
                max_tokens=max_tokens,
                timeout=timeout or self.timeout,
            )
        except anthropic.APITimeoutError as error:
            raise ModelFailure(f"Claude took longer than {timeout or self.timeout:g} s") from error
        except anthropic.APIConnectionError as error:
            raise ModelFailure("Claude could not be reached") from error
        except anthropic.RateLimitError as error:
            raise ModelFailure("Claude is rate limited right now (429)") from error
        except anthropic.APIStatusError as error:
            raise ModelFailure(f"Claude answered with an error ({error.status_code})") from error
        except (anthropic.AnthropicError, ValueError) as error:
            # A 200 whose body is not a Message (malformed JSON, a proxy's HTML page).
            raise ModelFailure("Claude's answer could not be read") from error
        if not isinstance(reply, anthropic.types.Message):
            # A 200 that is not JSON (a proxy's page): the SDK hands back the raw text.
            raise ModelFailure("Claude's answer could not be read")
        text = "".join(block.text for block in reply.content if block.type == "text").strip()
        usage = reply.usage
        return ModelAnswer(
            text=text,
            model=reply.model or model,
            input_tokens=usage.input_tokens or 0,
            output_tokens=usage.output_tokens or 0,
            cache_read_tokens=usage.cache_read_input_tokens or 0,
            cache_write_tokens=usage.cache_creation_input_tokens or 0,
            latency_ms=int((time.monotonic() - started) * 1000),
        )
