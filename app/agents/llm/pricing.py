"""What a call costs, in US dollars, from the tokens the provider reported.

Prices are per million tokens (input, output), as the providers published them when this table
was written; the longest matching model-name prefix wins, so dated snapshots
(`claude-sonnet-4-5-20250929`) and minor versions (`gpt-5.1`) price like their family. A remote
model missing from the table is priced at `UNKNOWN_PRICE`, deliberately the most expensive tier:
an unknown model must make budgets run out early, never late; likewise a newer member of a
family (`gpt-5.1-mini` matches `gpt-5`) may be priced above its real price, never below it
unless the provider cut prices. Local servers cost nothing. Check the table against the
providers' price pages when adding models.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.agents.llm.base import Usage


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens."""

    input_per_m: float
    output_per_m: float

    def cost(self, usage: Usage) -> float:
        """Dollars for `usage`."""
        return (
            usage.input_tokens * self.input_per_m + usage.output_tokens * self.output_per_m
        ) / 1_000_000


#: Known families, by model-name prefix.
PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5": Price(1.25, 10.00),
    "o4-mini": Price(1.10, 4.40),
    "o3": Price(2.00, 8.00),
    "claude-haiku-4-5": Price(1.00, 5.00),
    "claude-3-5-haiku": Price(0.80, 4.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-3-7-sonnet": Price(3.00, 15.00),
    "claude-opus-4-5": Price(5.00, 25.00),
    "claude-opus-4": Price(15.00, 75.00),
}

#: Price of a remote model not in `PRICES`: the dearest tier, so budgets err on the safe side.
UNKNOWN_PRICE = Price(15.00, 75.00)
#: Local OpenAI-compatible servers (Ollama, vLLM, llama.cpp) run on the operator's hardware;
#: a replayed answer was paid for when it was recorded.
FREE = Price(0.0, 0.0)
FREE_PROVIDERS = frozenset({"local", "replay"})


def price_of(provider: str, model: str) -> Price:
    """The price of `model` served by `provider` ("openai", "anthropic", "local", "replay")."""
    if provider in FREE_PROVIDERS:
        return FREE
    matches = [prefix for prefix in PRICES if model.startswith(prefix)]
    return PRICES[max(matches, key=len)] if matches else UNKNOWN_PRICE


def cost_usd(provider: str, model: str, usage: Usage) -> float:
    """Dollars for one call."""
    return price_of(provider, model).cost(usage)
