"""Retry with backoff, fallback across providers, and a ledger row for every attempt."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.agents.budget import Budget, BudgetLimits
from app.agents.llm.anthropic_provider import AnthropicProvider
from app.agents.llm.base import ChatRequest
from app.agents.llm.chain import ProviderChain, RetryPolicy
from app.agents.llm.openai_provider import OpenAIProvider
from app.db import session_scope
from app.errors import BudgetExhausted, ProviderError
from app.models import LlmCall
from tests.fakes.llm import FakeLLMServer, Fault, Reply, fake_llm

REQUEST = ChatRequest.single("system", "fix it", max_tokens=100)
FAST = RetryPolicy(attempts=3, backoff_base_s=0.5, backoff_max_s=4.0)


class Sleeps(list[float]):
    """Records backoff pauses instead of sleeping, so the tests stay fast."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _providers(
    primary: FakeLLMServer, backup: FakeLLMServer, timeout_s: float = 5.0
) -> list[OpenAIProvider | AnthropicProvider]:
    return [
        OpenAIProvider("gpt-4o", api_key="k1", base_url=primary.base_url, timeout_s=timeout_s),
        AnthropicProvider("claude-haiku-4-5", api_key="k2", base_url=backup.base_url),
    ]


def _calls(url: str) -> list[tuple[str, str, str, int, int]]:
    with session_scope(url) as session:
        rows = session.scalars(select(LlmCall).order_by(LlmCall.id)).all()
        return [(r.provider, r.status, r.role, r.input_tokens, r.output_tokens) for r in rows]


def test_retries_rate_limits_then_succeeds_on_the_same_provider(database_url: str) -> None:
    sleeps = Sleeps()
    budget = Budget(Budget.unlimited().limits, database_url, run_id=7)
    with fake_llm("openai") as primary, fake_llm("anthropic") as backup:
        primary.push(Fault(429, retry_after=2), Fault(429), Reply("done", 120, 30))
        chain = ProviderChain(_providers(primary, backup), budget, "analysis", FAST, sleeps)
        response = chain.complete(REQUEST)
        assert backup.requests == []
    assert (response.text, response.provider) == ("done", "openai")
    assert sleeps == [2.0, 1.0]  # Retry-After honoured, then base * 2**1
    assert _calls(database_url) == [
        ("openai", "rate_limited", "analysis", 0, 0),
        ("openai", "rate_limited", "analysis", 0, 0),
        ("openai", "ok", "analysis", 120, 30),
    ]
    with session_scope(database_url) as session:
        costs = session.scalars(select(LlmCall.cost_usd).order_by(LlmCall.id)).all()
        run_ids = set(session.scalars(select(LlmCall.run_id)))
    assert costs == [0.0, 0.0, pytest.approx(120 * 2.5e-6 + 30 * 10e-6)]  # gpt-4o's price
    assert run_ids == {7}


def test_falls_back_after_server_errors(database_url: str) -> None:
    budget = Budget(Budget.unlimited().limits, database_url, run_id=1)
    with fake_llm("openai") as primary, fake_llm("anthropic") as backup:
        primary.push(Fault(500), Fault(500), Fault(503))
        backup.push(Reply("from claude", 40, 10))
        chain = ProviderChain(_providers(primary, backup), budget, "analysis", FAST, Sleeps())
        response = chain.complete(REQUEST)
    assert (response.text, response.provider, response.model) == (
        "from claude",
        "anthropic",
        "claude-haiku-4-5",
    )
    statuses = [(p, s) for p, s, *_ in _calls(database_url)]
    assert statuses == [("openai", "unavailable")] * 3 + [("anthropic", "ok")]


def test_falls_back_after_timeouts() -> None:
    budget = Budget.unlimited()
    policy = RetryPolicy(attempts=5, timeout_attempts=2, backoff_base_s=0.01)
    with fake_llm("openai") as primary, fake_llm("anthropic") as backup:
        primary.push(Reply("late", delay=3), Reply("late", delay=3), Reply("never asked"))
        backup.push(Reply("on time", 10, 10))
        chain = ProviderChain(
            _providers(primary, backup, timeout_s=0.25), budget, "analysis", policy
        )
        assert chain.complete(REQUEST).text == "on time"
        assert len(primary.requests) == 2  # two timeouts, then straight to the next provider


def test_rejected_request_is_not_retried() -> None:
    sleeps = Sleeps()
    with fake_llm("openai") as primary, fake_llm("anthropic") as backup:
        primary.push(Fault(401))
        backup.push(Reply("ok"))
        chain = ProviderChain(
            _providers(primary, backup), Budget.unlimited(), "analysis", FAST, sleeps
        )
        assert chain.complete(REQUEST).provider == "anthropic"
        assert len(primary.requests) == 1
    assert sleeps == []


def test_every_provider_failing_names_each_failure() -> None:
    with fake_llm("openai") as primary, fake_llm("anthropic") as backup:
        primary.push(Fault(429), Fault(500), Fault(500))
        backup.push(Fault(500), Fault(400))
        chain = ProviderChain(
            _providers(primary, backup), Budget.unlimited(), "analysis", FAST, Sleeps()
        )
        with pytest.raises(ProviderError) as raised:
            chain.complete(REQUEST)
    message = str(raised.value)
    assert message.startswith("every model provider failed: ")
    assert "openai (gpt-4o): rate limited (429)" in message
    assert "anthropic (claude-haiku-4-5): request rejected (400)" in message
    assert message.count(";") == 4  # five attempts, each named


def test_budget_is_checked_before_the_call(database_url: str) -> None:
    limits = BudgetLimits(1_000, 100.0, 10**9, 1e9, 10**9, 1e9)
    budget = Budget(limits, database_url, run_id=3)
    with fake_llm("openai") as primary, fake_llm("anthropic") as backup:
        primary.push(Reply("one", 500, 100))
        chain = ProviderChain(_providers(primary, backup), budget, "analysis", FAST, Sleeps())
        chain.complete(ChatRequest.single("s", "x" * 100, max_tokens=200))
        with pytest.raises(BudgetExhausted) as raised:
            chain.complete(ChatRequest.single("s", "x" * 100, max_tokens=600))
        assert len(primary.requests) == 1  # the second call was never sent
        assert backup.requests == []  # and not "fallen back" to either
    assert "per-run tokens budget is 1,000 tokens, 600 tokens already spent" in str(raised.value)
    assert _calls(database_url) == [("openai", "ok", "analysis", 500, 100)]


def test_an_empty_chain_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="at least one provider"):
        ProviderChain([], Budget.unlimited(), "analysis")


def test_budget_estimate_counts_a_reasoning_models_hidden_tokens() -> None:
    limits = BudgetLimits(2_500, 100.0, 10**9, 1e9, 10**9, 1e9)
    request = ChatRequest.single("s", "u" * 1400, max_tokens=100)  # ~400 prompt tokens
    with fake_llm("openai") as server:
        server.push(Reply("ok"))
        plain = OpenAIProvider("gpt-4o", api_key="k", base_url=server.base_url)
        thinking = OpenAIProvider("gpt-5.1", api_key="k", base_url=server.base_url)
        budget = Budget(limits)
        ProviderChain([plain], budget, "analysis").complete(request)  # needs ~500: fine
        with pytest.raises(
            BudgetExhausted, match="150 tokens already spent and the next call may need up to 2,500"
        ):
            ProviderChain([thinking], budget, "analysis").complete(request)
        assert len(server.requests) == 1
