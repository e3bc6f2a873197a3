"""The one interface every language-model provider implements, and the types it speaks.

The chain, the analyst and the explainer only see `Provider.complete(ChatRequest)`; which SDK
answers is a detail of the provider module. Provider failures are mapped onto three kinds the
chain understands: worth retrying on the same provider (`RateLimited`, `ProviderTimeout`,
`ProviderUnavailable`) or not (`ProviderRejected`, e.g. a bad key or an unknown model), where
the chain moves straight to the next provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from app.agents.llm.constants import CHARS_PER_TOKEN
from app.errors import ProviderError

Role = Literal["analysis", "fallback", "explanation"]
ROLES: tuple[Role, ...] = ("analysis", "fallback", "explanation")


@dataclass(frozen=True)
class Message:
    """One chat turn."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """A provider-neutral chat request; `system` is kept apart because Anthropic wants it so."""

    system: str
    messages: tuple[Message, ...]
    max_tokens: int = 2048
    temperature: float = 0.0

    @staticmethod
    def single(
        system: str, user: str, max_tokens: int = 2048, temperature: float = 0.0
    ) -> ChatRequest:
        """The common case: one system prompt and one user turn."""
        return ChatRequest(system, (Message("user", user),), max_tokens, temperature)

    def prompt_chars(self) -> int:
        """Characters sent, the base of the pre-call token estimate."""
        return len(self.system) + sum(len(m.content) for m in self.messages)

    def estimated_prompt_tokens(self) -> int:
        """Input tokens guessed from `prompt_chars`, before any provider has counted them.

        The one place the estimate is made, so the chain's pre-call budget check and the
        fallback for servers that report no usage cannot drift apart.
        """
        return int(self.prompt_chars() / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class Usage:
    """Tokens as the provider reported them."""

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass(frozen=True)
class ChatResponse:
    """What came back, who answered, and what it cost."""

    text: str
    usage: Usage
    provider: str
    model: str
    cost_usd: float = 0.0
    latency_ms: int = 0


class Provider(Protocol):
    """A model endpoint bound to one model name."""

    name: str
    model: str
    #: Output tokens the model may spend beyond `max_tokens` (hidden reasoning); the chain's
    #: budget check adds them to its estimate. 0 for models that do not reason.
    extra_output_tokens: int

    def complete(self, request: ChatRequest) -> ChatResponse:
        """Answer `request` once (no retries: the chain owns retry policy) or raise."""
        ...


class RateLimited(ProviderError):
    """HTTP 429: retry later on the same provider; `retry_after` is the server's hint."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderTimeout(ProviderError):
    """The request took longer than the configured timeout."""


class ProviderUnavailable(ProviderError):
    """A 5xx answer or a connection failure: the provider may recover."""


class ProviderRejected(ProviderError):
    """A 4xx answer other than 429 (bad key, unknown model): retrying the same call cannot help."""

    retryable = False


def status_label(error: ProviderError) -> str:
    """The `llm_calls.status` value recorded for a failed call."""
    return {
        RateLimited: "rate_limited",
        ProviderTimeout: "timeout",
        ProviderUnavailable: "unavailable",
        ProviderRejected: "rejected",
    }.get(type(error), "error")


#: What a broken answer raises inside an SDK or while reading it (bad JSON, missing fields).
MALFORMED = (ValueError, TypeError, AttributeError, IndexError, KeyError)


def malformed(name: str, model: str, exc: Exception) -> ProviderUnavailable:
    """A provider answered, but not in the API's shape: treat it like a server error."""
    return ProviderUnavailable(f"{name} ({model}): malformed response ({type(exc).__name__})")


def usage_or_estimate(usage: Usage, request: ChatRequest, text: str) -> Usage:
    """The reported usage, or an estimate when the server reported none.

    Some local servers omit usage; counting such calls as free would let them bypass the
    token budgets.
    """
    if usage.total > 0:
        return usage
    return Usage(request.estimated_prompt_tokens() + 1, int(len(text) / CHARS_PER_TOKEN))


def retry_after_seconds(headers: object) -> float | None:
    """The Retry-After hint in seconds, if the server sent a numeric one."""
    value = getattr(headers, "get", lambda _k: None)("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
