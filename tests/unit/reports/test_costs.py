"""AI calls priced by model: the longest matching name prefix, per million tokens."""

from decimal import Decimal

from console.config import DEFAULT_AI_PRICES
from console.services.reports.costs import ai_cost, model_prices


def test_tokens_are_priced_by_the_models_longest_prefix():
    prices = DEFAULT_AI_PRICES | {"claude-sonnet-5": {"input": "4", "output": "20"}}
    assert model_prices(prices, "claude-sonnet-5-5")["input"] == Decimal("4")
    assert model_prices(prices, "claude-sonnet-4-6")["input"] == Decimal("3")
    # 1,000 in at $1, 200 out at $5, 5,000 cache reads at $0.10 a million.
    assert ai_cost(DEFAULT_AI_PRICES, "claude-haiku-5-5", 1000, 200, 5000) == Decimal("0.0025")


def test_a_model_no_price_covers_costs_nothing():
    assert model_prices(DEFAULT_AI_PRICES, "gpt-9") is None
    assert ai_cost(DEFAULT_AI_PRICES, "", 1000, 1000) == Decimal("0")
