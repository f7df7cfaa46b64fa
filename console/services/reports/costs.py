"""What the console's work cost, one home for each price the reports add up.

- A list: the price entered on its import (`ImportJob.list_price`).
- Skip tracing: each call's cost (`SkipTraceResult.cost`); line checks: each check's
  (`PhoneCheck.cost`).
- A text: Twilio's price when it gave one (`Message.price`), else the estimate made when
  it was drafted from the rate per segment (`Message.cost_estimate`); only texts that
  went out (sent_at set) cost anything.
- AI: a draft's or reading's tokens times its model's prices per million tokens
  (config AI_PRICES, matched by the longest model-name prefix).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func

from console.models import Message

MILLION = Decimal(1_000_000)
ZERO = Decimal("0")


def message_cost():
    """SQL: what one text cost (Twilio's price, else the estimate)."""
    return func.coalesce(Message.price, Message.cost_estimate)


def model_prices(prices: dict[str, dict[str, str]], model: str) -> dict[str, Decimal] | None:
    """The prices of `model` (the entry whose name is its longest prefix); None when no
    entry covers it (the call is then counted at nothing, and the page says so)."""
    matches = [name for name in prices if model and model.startswith(name)]
    if not matches:
        return None
    chosen = prices[max(matches, key=len)]
    return {key: Decimal(str(chosen.get(key, "0"))) for key in ("input", "output", "cache_read")}


def ai_cost(
    prices: dict[str, dict[str, str]],
    model: str,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
) -> Decimal:
    """Dollars for tokens of `model` at `prices` (per million tokens)."""
    found = model_prices(prices, model)
    if found is None:
        return ZERO
    return (
        Decimal(input_tokens or 0) * found["input"]
        + Decimal(output_tokens or 0) * found["output"]
        + Decimal(cache_read_tokens or 0) * found["cache_read"]
    ) / MILLION
