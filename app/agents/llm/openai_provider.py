"""OpenAI chat completions through the `openai` SDK; also local OpenAI-compatible servers.

Ollama, vLLM and llama.cpp's server speak the same chat-completions API, so a local model is
this provider with `name="local"`, a base URL and (usually) no key. The SDK's own retries are
off: the chain retries with its own backoff so that every attempt is budget-checked and
recorded.
"""

from __future__ import annotations

import time
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionMessageParam

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

#: OpenAI model families that reason before answering: they accept only the default temperature
#: and reject `max_tokens`, so neither is sent to them.
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5", "gpt-6")
#: Extra output tokens a reasoning model may spend thinking at `reasoning_effort="low"`; without
#: them a 400-token localization answer can come back empty.
REASONING_ALLOWANCE_TOKENS = 2000


class OpenAIProvider:
    """One model on an OpenAI-compatible endpoint."""

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str = "",
        name: str = "openai",
        timeout_s: float = CALL_TIMEOUT_S,
    ) -> None:
        self.name = name
        self.model = model
        #: Whether the model reasons before answering; decided once, here, from its name.
        self._reasons = name != "local" and model.startswith(REASONING_PREFIXES)
        #: Output tokens allowed beyond the request's, for hidden reasoning; the chain's budget
        #: check counts them too.
        self.extra_output_tokens = REASONING_ALLOWANCE_TOKENS if self._reasons else 0
        self._client = openai.OpenAI(
            api_key=api_key, base_url=base_url or None, timeout=timeout_s, max_retries=0
        )

    def _sampling(self, request: ChatRequest) -> dict[str, Any]:
        """Length and temperature parameters in the form this endpoint accepts."""
        # Local servers (Ollama, llama.cpp, older vLLM) know only `max_tokens`; OpenAI's
        # reasoning models refuse it and refuse any temperature but the default.
        if self.name == "local":
            return {"max_tokens": request.max_tokens, "temperature": request.temperature}
        if self._reasons:
            # Hidden reasoning counts against the limit: keep it short, and allow for it.
            return {
                "max_completion_tokens": request.max_tokens + self.extra_output_tokens,
                "reasoning_effort": "low",
            }
        return {"max_completion_tokens": request.max_tokens, "temperature": request.temperature}

    def complete(self, request: ChatRequest) -> ChatResponse:
        """One chat completion; SDK errors become the chain's error kinds."""
        started = time.monotonic()
        try:
            answer = self._client.chat.completions.create(
                model=self.model,
                messages=_messages(request),
                **self._sampling(request),
            )
            text = (answer.choices[0].message.content or "") if answer.choices else ""
            reported = answer.usage
            usage = Usage(
                reported.prompt_tokens if reported else 0,
                reported.completion_tokens if reported else 0,
            )
        except openai.APIError as exc:
            raise _translate(self.name, self.model, exc) from None
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


def _messages(request: ChatRequest) -> list[ChatCompletionMessageParam]:
    system = [{"role": "system", "content": request.system}] if request.system else []
    turns = [{"role": m.role, "content": m.content} for m in request.messages]
    return cast(list[ChatCompletionMessageParam], system + turns)


def _translate(name: str, model: str, exc: openai.APIError) -> ProviderError:
    # Only the class and status go into the message: an error body may echo part of the key.
    where = f"{name} ({model})"
    if isinstance(exc, openai.RateLimitError):
        return RateLimited(
            f"{where}: rate limited (429)", retry_after_seconds(exc.response.headers)
        )
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeout(f"{where}: timed out")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderUnavailable(f"{where}: connection failed")
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return ProviderUnavailable(f"{where}: server error ({exc.status_code})")
        return ProviderRejected(f"{where}: request rejected ({exc.status_code})")
    return ProviderUnavailable(f"{where}: {type(exc).__name__}")
