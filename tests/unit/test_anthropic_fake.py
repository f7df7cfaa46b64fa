"""The Anthropic Messages fake answers the official SDK the way the API does.

Every test talks to the fake through `anthropic.Anthropic`, so each one also pins what
SDK 2.x does with the answer: which exception a failure becomes, and how long it waits
before a retry (the `retry-after-ms` header first, then `retry-after` in seconds, both
only when positive; otherwise its own backoff of 0.5 s doubling per retry, minus up
to a quarter of jitter, capped at 8 s).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import anthropic
import pytest
from anthropic.types import Message

from tests.fakeservers import (
    BROKEN_JSON_TEXT,
    DEFAULT_CLASSIFICATION,
    DEFAULT_SMS_REPLY,
    GATEWAY_PAGE,
    AnthropicServer,
    last_user_text,
)

KEY = "sk-ant-fake-0123456789"
MODEL = "claude-haiku-5-5"
PERSONA = (
    "You are Dana Whitfield, an acquisitions associate who texts business owners about "
    "selling their company. Write like a person: short, warm, no sales language. "
) * 8
PERSONA_TOKENS = -(-len(PERSONA) // 4)


@pytest.fixture
def claude() -> Iterator[AnthropicServer]:
    """A Messages endpoint that asks for a 10 ms wait before any retry."""
    with AnthropicServer(api_key=KEY) as server:
        yield server


def sdk(
    server: AnthropicServer, timeout: float = 5.0, max_retries: int = 0, **kwargs: object
) -> anthropic.Anthropic:
    """The official client pointed at the fake."""
    return anthropic.Anthropic(
        api_key=kwargs.pop("api_key", KEY),
        base_url=server.url,
        timeout=timeout,
        max_retries=max_retries,
        # The SDK's own HTTP client, minus the ~50 ms CA bundle load: the fake is plain HTTP.
        http_client=anthropic.DefaultHttpxClient(verify=False),
        **kwargs,
    )


def ask(client: anthropic.Anthropic, text: str = "Sure, what is this about?", **kwargs) -> Message:
    """One Messages call with a single user turn."""
    kwargs.setdefault("max_tokens", 300)
    return client.messages.create(
        model=MODEL, messages=[{"role": "user", "content": text}], **kwargs
    )


def persona_system(lead: str, ttl: str | None = None) -> list[dict]:
    """The cached persona block followed by an uncached block about one lead."""
    control = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    return [
        {"type": "text", "text": PERSONA, "cache_control": control},
        {"type": "text", "text": f"The lead is {lead}."},
    ]


def gaps(server: AnthropicServer) -> list[float]:
    """Seconds between consecutive requests the fake received."""
    times = [record["received_at"] for record in server.requests]
    return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


# -- answers ---------------------------------------------------------------------------


def test_reply_parses_into_a_message(claude: AnthropicServer) -> None:
    message = ask(sdk(claude))

    assert isinstance(message, Message)
    assert message.id.startswith("msg_01")
    assert (message.type, message.role, message.model) == ("message", "assistant", MODEL)
    assert message.content[0].type == "text"
    assert message.content[0].text == DEFAULT_SMS_REPLY
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.usage.input_tokens == -(-len("Sure, what is this about?") // 4)
    assert message.usage.output_tokens == -(-len(DEFAULT_SMS_REPLY) // 4)
    assert message.usage.cache_creation_input_tokens == 0
    assert message.usage.cache_read_input_tokens == 0


def test_request_is_recorded_with_path_headers_and_body(claude: AnthropicServer) -> None:
    # SDK 2.x's messages.create() has no `temperature` argument; extra_body still sends it.
    ask(sdk(claude), extra_body={"temperature": 0.2})

    (record,) = claude.requests
    assert (record["path"], record["method"], record["status"]) == ("/v1/messages", "POST", 200)
    # SDK 2.x sends the key as a Bearer token, not as x-api-key.
    assert record["headers"]["authorization"] == f"Bearer {KEY}"
    assert record["headers"]["anthropic-version"]
    assert record["json"]["model"] == MODEL
    assert record["json"]["temperature"] == 0.2
    assert record["usage"]["output_tokens"] > 0
    assert claude.calls == 1
    assert claude.output_tokens == record["usage"]["output_tokens"]


def test_key_in_x_api_key_header_is_accepted(claude: AnthropicServer) -> None:
    client = sdk(claude, api_key="unused", default_headers={"x-api-key": KEY})
    client = client.with_options(default_headers={"Authorization": anthropic.Omit()})

    assert ask(client).content[0].text == DEFAULT_SMS_REPLY
    assert "authorization" not in claude.requests[0]["headers"]


@pytest.mark.parametrize(
    "where", ["system", "user"], ids=["classify-in-system", "classify-in-user-turn"]
)
def test_classification_request_gets_a_json_label(claude: AnthropicServer, where: str) -> None:
    client = sdk(claude)
    if where == "system":
        message = ask(client, "Not interested.", system="Classify the owner's reply.")
    else:
        message = ask(client, "Please classify this reply: Not interested.")

    assert json.loads(message.content[0].text) == DEFAULT_CLASSIFICATION


def test_structured_output_request_gets_json(claude: AnthropicServer) -> None:
    schema = {"type": "object", "properties": {"label": {"type": "string"}}}
    output_config = {"format": {"type": "json_schema", "schema": schema}}

    message = ask(sdk(claude), "Not interested.", output_config=output_config)

    assert json.loads(message.content[0].text) == DEFAULT_CLASSIFICATION


def test_responder_sees_the_request_and_can_change_while_running(
    claude: AnthropicServer,
) -> None:
    client = sdk(claude)
    claude.responder = lambda request: f"echo: {last_user_text(request)}"
    assert ask(client, "hello there").content[0].text == "echo: hello there"

    claude.responder = lambda request: request["model"]
    assert ask(client).content[0].text == MODEL


def test_responder_error_is_answered_as_api_error(claude: AnthropicServer) -> None:
    claude.responder = lambda request: request["no such key"]

    with pytest.raises(anthropic.InternalServerError) as caught:
        ask(sdk(claude))

    assert caught.value.type == "api_error"
    assert "KeyError" in (caught.value.api_message or "")


def test_max_tokens_cuts_the_answer(claude: AnthropicServer) -> None:
    message = ask(sdk(claude), max_tokens=3)

    assert message.stop_reason == "max_tokens"
    assert message.content[0].text == DEFAULT_SMS_REPLY[:12]
    assert message.usage.output_tokens == 3


def test_stop_sequence_ends_the_answer(claude: AnthropicServer) -> None:
    message = ask(sdk(claude), stop_sequences=[" call"])

    assert message.content[0].text == DEFAULT_SMS_REPLY.split(" call")[0]
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", " call")


# -- prompt caching --------------------------------------------------------------------


def test_cached_persona_is_written_once_then_read(claude: AnthropicServer) -> None:
    client = sdk(claude)

    first = ask(client, "Who is this?", system=persona_system("Avery Okafor"))
    second = ask(client, "Not now, thanks.", system=persona_system("Jordan Lindqvist"))

    assert first.usage.cache_creation_input_tokens == PERSONA_TOKENS
    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == PERSONA_TOKENS
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.cache_read_input_tokens == PERSONA_TOKENS
    # Only what follows the cached block is billed as plain input.
    lead_tokens = -(-len("The lead is Jordan Lindqvist.") // 4)
    assert second.usage.input_tokens == lead_tokens + -(-len("Not now, thanks.") // 4)
    assert (claude.cache_creations, claude.cache_reads) == (1, 1)
    assert claude.cache_creation_tokens == claude.cache_read_tokens == PERSONA_TOKENS


def test_cache_key_covers_the_prefix_and_the_model(claude: AnthropicServer) -> None:
    client = sdk(claude)
    ask(client, system=persona_system("Avery Okafor"))

    reworded = [{**persona_system("Avery Okafor")[0], "text": PERSONA + " Sign as Dana."}]
    assert ask(client, system=reworded).usage.cache_read_input_tokens == 0
    other_model = client.messages.create(
        model="claude-sonnet-5-5",
        max_tokens=100,
        system=persona_system("Avery Okafor"),
        messages=[{"role": "user", "content": "Hi"}],
    )
    assert other_model.usage.cache_read_input_tokens == 0
    assert other_model.usage.cache_creation_input_tokens == PERSONA_TOKENS
    assert claude.cache_reads == 0


def test_top_level_cache_control_caches_the_conversation_turn_by_turn(
    claude: AnthropicServer,
) -> None:
    client = sdk(claude)
    opening = {"role": "user", "content": "Who is this?"}
    first = client.messages.create(
        model=MODEL,
        max_tokens=100,
        system=PERSONA,
        messages=[opening],
        cache_control={"type": "ephemeral"},
    )
    history = PERSONA_TOKENS + -(-len("Who is this?") // 4)
    assert first.usage.cache_creation_input_tokens == history

    second = client.messages.create(
        model=MODEL,
        max_tokens=100,
        system=PERSONA,
        messages=[
            opening,
            {"role": "assistant", "content": first.content[0].text},
            {"role": "user", "content": "Maybe later."},
        ],
        cache_control={"type": "ephemeral"},
    )
    assert second.usage.cache_read_input_tokens == history
    assert second.usage.input_tokens == 0
    assert second.usage.cache_creation_input_tokens == -(-len(DEFAULT_SMS_REPLY) // 4) + -(
        -len("Maybe later.") // 4
    )


def test_system_without_cache_control_is_never_cached(claude: AnthropicServer) -> None:
    client = sdk(claude)
    for _ in range(2):
        usage = ask(client, system=PERSONA).usage
        assert usage.cache_creation_input_tokens == usage.cache_read_input_tokens == 0
        assert usage.input_tokens > PERSONA_TOKENS


def test_prefix_below_minimum_length_is_not_cached() -> None:
    with AnthropicServer(api_key=KEY, min_cache_tokens=PERSONA_TOKENS + 1) as server:
        client = sdk(server)
        for _ in range(2):
            usage = ask(client, system=persona_system("Avery Okafor")).usage
            assert usage.cache_creation_input_tokens == usage.cache_read_input_tokens == 0
        assert server.cache_creations == 0


def test_one_hour_ttl_is_reported_in_its_own_bucket(claude: AnthropicServer) -> None:
    usage = ask(sdk(claude), system=persona_system("Avery Okafor", ttl="1h")).usage

    assert usage.cache_creation.ephemeral_1h_input_tokens == PERSONA_TOKENS
    assert usage.cache_creation.ephemeral_5m_input_tokens == 0


def test_clearing_the_cache_makes_the_next_call_write_again(claude: AnthropicServer) -> None:
    client = sdk(claude)
    ask(client, system=persona_system("Avery Okafor"))
    claude.clear_cache()

    usage = ask(client, system=persona_system("Avery Okafor")).usage
    assert usage.cache_creation_input_tokens == PERSONA_TOKENS
    assert claude.cache_creations == 2


# -- refusals --------------------------------------------------------------------------


def test_wrong_key_raises_authentication_error_without_retry(claude: AnthropicServer) -> None:
    with pytest.raises(anthropic.AuthenticationError) as caught:
        ask(sdk(claude, api_key="sk-ant-wrong", max_retries=2))

    assert caught.value.status_code == 401
    assert caught.value.type == "authentication_error"
    assert caught.value.request_id.startswith("req_")
    assert caught.value.body["request_id"] == caught.value.request_id
    assert claude.calls == 1


def test_missing_version_header_is_an_invalid_request(claude: AnthropicServer) -> None:
    with pytest.raises(anthropic.BadRequestError, match="anthropic-version"):
        ask(sdk(claude), extra_headers={"anthropic-version": anthropic.Omit()})


def test_out_of_range_temperature_is_an_invalid_request(claude: AnthropicServer) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        ask(sdk(claude), extra_body={"temperature": 1.5})

    assert caught.value.type == "invalid_request_error"
    assert caught.value.api_message.startswith("temperature")


def test_unknown_model_is_not_found_when_models_are_listed() -> None:
    with AnthropicServer(api_key=KEY, models={MODEL}) as server:
        client = sdk(server)
        assert ask(client).model == MODEL
        with pytest.raises(anthropic.NotFoundError, match="claude-opus-0"):
            client.messages.create(
                model="claude-opus-0", max_tokens=10, messages=[{"role": "user", "content": "x"}]
            )


# -- planned failures and retries ------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
        (400, anthropic.BadRequestError, "invalid_request_error"),
    ],
)
def test_planned_failure_raises_its_sdk_error(
    claude: AnthropicServer, status: int, error: type[anthropic.APIStatusError], kind: str
) -> None:
    claude.fail_next(status)

    with pytest.raises(error) as caught:
        ask(sdk(claude, max_retries=0))

    assert caught.value.status_code == status
    assert caught.value.type == kind
    assert caught.value.request_id.startswith("req_")
    assert claude.calls == 1
    assert ask(sdk(claude)).content[0].text == DEFAULT_SMS_REPLY


def test_overloaded_error_is_an_internal_server_error(claude: AnthropicServer) -> None:
    claude.fail_next(529)

    with pytest.raises(anthropic.InternalServerError):
        ask(sdk(claude))


def test_rate_limit_carries_retry_after_headers(claude: AnthropicServer) -> None:
    claude.fail_next(429)

    with pytest.raises(anthropic.RateLimitError) as caught:
        ask(sdk(claude))

    headers = caught.value.response.headers
    assert (headers["retry-after-ms"], headers["retry-after"]) == ("10", "1")


def test_one_500_then_success_is_retried_once(claude: AnthropicServer) -> None:
    claude.fail_next(500)

    message = ask(sdk(claude, max_retries=1))

    assert message.content[0].text == DEFAULT_SMS_REPLY
    assert [record["status"] for record in claude.requests] == [500, 200]
    retries = [record["headers"]["x-stainless-retry-count"] for record in claude.requests]
    assert retries == ["0", "1"]
    # retry-after-ms: 10 is what the SDK waited, not its half-second backoff.
    assert gaps(claude)[0] < 0.3


def test_retry_after_ms_sets_the_sdk_wait(claude: AnthropicServer) -> None:
    claude.retry_after = 0.2
    claude.fail_next(429)

    ask(sdk(claude, max_retries=1))

    assert 0.2 <= gaps(claude)[0] < 0.4


def test_without_retry_hints_the_sdk_backs_off_about_half_a_second(
    claude: AnthropicServer,
) -> None:
    claude.retry_after = None
    claude.fail_next(529)

    ask(sdk(claude, max_retries=1))

    # First retry: 0.5 s times a jitter factor between 0.75 and 1.
    assert 0.36 <= gaps(claude)[0] < 0.7


def test_exhausted_retries_raise_the_last_error(claude: AnthropicServer) -> None:
    claude.fail_next(429, count=3)

    with pytest.raises(anthropic.RateLimitError):
        ask(sdk(claude, max_retries=2))

    assert claude.calls == 3


def test_bad_request_is_not_retried(claude: AnthropicServer) -> None:
    claude.fail_next(400, message="messages: too long")

    with pytest.raises(anthropic.BadRequestError, match="messages: too long"):
        ask(sdk(claude, max_retries=2))

    assert claude.calls == 1


def test_x_should_retry_overrides_the_status_rules(claude: AnthropicServer) -> None:
    client = sdk(claude, max_retries=2)
    claude.fail_next(500, should_retry=False)
    with pytest.raises(anthropic.InternalServerError):
        ask(client)
    assert claude.calls == 1

    claude.fail_next(400, should_retry=True)
    assert ask(client).content[0].text == DEFAULT_SMS_REPLY
    assert claude.calls == 3


def test_unknown_planned_behaviours_are_refused(claude: AnthropicServer) -> None:
    with pytest.raises(ValueError, match="418"):
        claude.fail_next(418)
    with pytest.raises(ValueError, match="malformed"):
        claude.garbage_next(malformed="xml")


# -- slowness and concurrency ----------------------------------------------------------


def test_delay_past_the_timeout_raises_api_timeout_error(claude: AnthropicServer) -> None:
    claude.delay = 1.0
    started = time.monotonic()

    with pytest.raises(anthropic.APITimeoutError) as caught:
        ask(sdk(claude, timeout=0.3, max_retries=0))

    assert isinstance(caught.value, anthropic.APIConnectionError)
    assert time.monotonic() - started < 0.8


def test_delay_within_the_timeout_is_answered() -> None:
    with AnthropicServer(api_key=KEY, delay=0.2) as server:
        started = time.monotonic()
        message = ask(sdk(server, timeout=2.0))

    assert message.content[0].text == DEFAULT_SMS_REPLY
    assert time.monotonic() - started >= 0.2


def test_delay_does_not_hold_up_other_requests(claude: AnthropicServer) -> None:
    claude.delay = 0.3
    client = sdk(claude)
    texts: list[str] = []
    threads = [
        threading.Thread(target=lambda: texts.append(ask(client).content[0].text)) for _ in range(8)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)

    assert texts == [DEFAULT_SMS_REPLY] * 8
    # One after another would take 2.4 s.
    assert time.monotonic() - started < 1.2
    assert claude.peak == 8
    assert claude.wait_idle(timeout=1)


def test_wait_idle_waits_for_a_slow_answer(claude: AnthropicServer) -> None:
    claude.delay = 0.5
    with pytest.raises(anthropic.APITimeoutError):
        ask(sdk(claude, timeout=0.1))

    assert not claude.wait_idle(timeout=0.05)
    assert claude.wait_idle(timeout=2)
    assert claude.requests[0]["status"] == 200


# -- malformed answers -----------------------------------------------------------------


def test_truncated_json_body_raises_json_decode_error_unretried(claude: AnthropicServer) -> None:
    # The SDK parses a 200 application/json body with json.loads and lets the
    # JSONDecodeError (a ValueError, not an anthropic.APIError) through, unretried.
    claude.garbage_next(1, malformed="http")

    with pytest.raises(json.JSONDecodeError) as caught:
        ask(sdk(claude, max_retries=2))

    assert not isinstance(caught.value, anthropic.AnthropicError)
    assert claude.calls == 1
    assert ask(sdk(claude)).content[0].text == DEFAULT_SMS_REPLY


def test_html_page_comes_back_as_a_plain_string(claude: AnthropicServer) -> None:
    # A 200 that is not JSON by Content-Type is returned as its text, not a Message,
    # unless the client was built with _strict_response_validation=True.
    claude.garbage_next(1, malformed="html")

    answer = ask(sdk(claude))

    assert answer == GATEWAY_PAGE.decode()
    assert not isinstance(answer, Message)


def test_broken_json_text_arrives_in_a_valid_message(claude: AnthropicServer) -> None:
    claude.garbage_next(1, malformed="text")

    message = ask(sdk(claude), system="Classify the owner's reply.")

    assert isinstance(message, Message)
    assert message.content[0].text == BROKEN_JSON_TEXT
    with pytest.raises(json.JSONDecodeError):
        json.loads(message.content[0].text)


def test_failures_and_garbage_are_served_in_the_order_planned(claude: AnthropicServer) -> None:
    claude.fail_next(500)
    claude.garbage_next(1, malformed="text")

    message = ask(sdk(claude, max_retries=1))

    assert message.content[0].text == BROKEN_JSON_TEXT
    assert [record["status"] for record in claude.requests] == [500, 200]


def test_reset_forgets_requests_counters_plans_and_cache(claude: AnthropicServer) -> None:
    client = sdk(claude)
    ask(client, system=persona_system("Avery Okafor"))
    claude.fail_next(500)
    claude.reset()

    usage = ask(client, system=persona_system("Avery Okafor")).usage

    assert usage.cache_creation_input_tokens == PERSONA_TOKENS
    assert claude.calls == 1
    assert (claude.cache_creations, claude.cache_reads) == (1, 0)
