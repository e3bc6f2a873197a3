"""Providers in order of preference: retry each with backoff, then fall back to the next.

Every attempt is budget-checked first and recorded after (failures too), so the ledger shows
exactly what was tried. `BudgetExhausted` is never retried or fallen back from: it stops the
caller cleanly. A provider that rejects a request (a bad key, an unknown model) is not retried;
the chain moves straight to the next one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.agents.budget import Budget, CallRecord
from app.agents.llm import constants
from app.agents.llm.base import (
    ChatRequest,
    ChatResponse,
    Provider,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    Role,
    Usage,
    status_label,
)
from app.agents.llm.pricing import price_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the chain tries one provider before falling back."""

    attempts: int = constants.ATTEMPTS_PER_PROVIDER
    timeout_attempts: int = constants.TIMEOUT_ATTEMPTS_PER_PROVIDER
    backoff_base_s: float = constants.BACKOFF_BASE_S
    backoff_max_s: float = constants.BACKOFF_MAX_S

    def gives_up(self, attempt: int, timeouts: int, error: ProviderError) -> bool:
        """Whether to stop trying this provider after failed attempt number `attempt`."""
        if not error.retryable or attempt + 1 >= self.attempts:
            return True
        return isinstance(error, ProviderTimeout) and timeouts >= self.timeout_attempts

    def pause(self, attempt: int, error: ProviderError) -> float:
        """Seconds to wait after failed attempt number `attempt` (0-based)."""
        wait = self.backoff_base_s * 2**attempt
        if isinstance(error, RateLimited) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return min(wait, self.backoff_max_s)


class ProviderChain:
    """Answers a request with the first provider that succeeds."""

    def __init__(
        self,
        providers: Sequence[Provider],
        budget: Budget,
        role: Role,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not providers:
            raise ValueError("a ProviderChain needs at least one provider; configure a model key")
        self.providers = tuple(providers)
        self.budget = budget
        self.role = role
        self.policy = policy or RetryPolicy()
        self._sleep = sleep

    def complete(self, request: ChatRequest) -> ChatResponse:
        """The first successful answer; `ProviderError` naming every failure if none succeeds."""
        failures: list[str] = []
        for provider in self.providers:
            try:
                return self._with_retries(provider, request, failures)
            except ProviderError as exc:
                log.warning("falling back from %s/%s: %s", provider.name, provider.model, exc)
        raise ProviderError("every model provider failed: " + "; ".join(failures))

    def _with_retries(
        self, provider: Provider, request: ChatRequest, failures: list[str]
    ) -> ChatResponse:
        timeouts = 0
        for attempt in range(self.policy.attempts):
            try:
                return self._attempt(provider, request)
            except ProviderError as exc:
                failures.append(str(exc))
                timeouts += isinstance(exc, ProviderTimeout)
                if self.policy.gives_up(attempt, timeouts, exc):
                    raise
                self._sleep(self.policy.pause(attempt, exc))
        raise AssertionError("unreachable: attempts is at least 1")

    def _attempt(self, provider: Provider, request: ChatRequest) -> ChatResponse:
        self._check_budget(provider, request)
        started = time.monotonic()
        try:
            response = provider.complete(request)
        except ProviderError as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            self._record(provider, Usage(), 0.0, status_label(exc), elapsed)
            raise
        self._record(provider, response.usage, response.cost_usd, "ok", response.latency_ms)
        return response

    def _check_budget(self, provider: Provider, request: ChatRequest) -> None:
        estimate = Usage(
            request.estimated_prompt_tokens(), request.max_tokens + provider.extra_output_tokens
        )
        usd = price_of(provider.name, provider.model).cost(estimate)
        self.budget.check(estimate.total, usd)

    def _record(
        self, provider: Provider, usage: Usage, cost: float, status: str, latency_ms: int
    ) -> None:
        self.budget.record(
            CallRecord(
                provider=provider.name,
                model=provider.model,
                role=self.role,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost_usd=cost,
                status=status,
                latency_ms=latency_ms,
            )
        )
