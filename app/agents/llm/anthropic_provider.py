"""Anthropic messages through the `anthropic` SDK.

As with the OpenAI provider, the SDK's own retries are off: the chain retries with its own
backoff so every attempt is budget-checked and recorded.
"""

from __future__ import annotations

import time
from typing import cast

import anthropic
from anthropic.types import MessageParam

from app.agents.llm.base import (
    MALFORMED,
    ChatRequest,
    ChatResponse,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    Usage,
    malformed,
    retry_after_seconds,
    usage_or_estimate,
)
from app.agents.llm.constants import CALL_TIMEOUT_S
from app.agents.llm.pricing import cost_usd


class AnthropicProvider:
    """One Claude model."""

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str = "",
        timeout_s: float = CALL_TIMEOUT_S,
    ) -> None:
        self.name = "anthropic"
        self.model = model
        self.extra_output_tokens = 0  # no hidden reasoning is requested
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url or None, timeout=timeout_s, max_retries=0
        )

    def complete(self, request: ChatRequest) -> ChatResponse:
        """One message; SDK errors become the chain's error kinds."""
        started = time.monotonic()
        try:
            answer = self._client.messages.create(
                model=self.model,
                system=request.system or anthropic.omit,
                messages=_messages(request),
                # No `temperature`: this API version dropped it; its default sampling varies.
                max_tokens=request.max_tokens,
            )
            usage = Usage(answer.usage.input_tokens, answer.usage.output_tokens)
            text = "".join(getattr(block, "text", "") for block in answer.content)
        except anthropic.APIError as exc:
            raise _translate(self.model, exc) from None
        except MALFORMED as exc:
            raise malformed(self.name, self.model, exc) from None
        usage = usage_or_estimate(usage, request, text)
        return ChatResponse(
            text=text,
            usage=usage,
            provider=self.name,
            model=self.model,
            cost_usd=cost_usd(self.name, self.model, usage),
            latency_ms=int((time.monotonic() - started) * 1000),
        )


def _translate(model: str, exc: anthropic.APIError) -> ProviderError:
    # Only the class and status go into the message: an error body may echo part of the key.
    where = f"anthropic ({model})"
    if isinstance(exc, anthropic.RateLimitError):
        return RateLimited(
            f"{where}: rate limited (429)", retry_after_seconds(exc.response.headers)
        )
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderTimeout(f"{where}: timed out")
    if isinstance(exc, anthropic.APIConnectionError):
        return ProviderUnavailable(f"{where}: connection failed")
    if isinstance(exc, anthropic.APIStatusError):
        if exc.status_code >= 500 or exc.status_code == 529:
            return ProviderUnavailable(f"{where}: server error ({exc.status_code})")
        return ProviderRejected(f"{where}: request rejected ({exc.status_code})")
    return ProviderUnavailable(f"{where}: {type(exc).__name__}")


def _messages(request: ChatRequest) -> list[MessageParam]:
    return [cast(MessageParam, {"role": m.role, "content": m.content}) for m in request.messages]
