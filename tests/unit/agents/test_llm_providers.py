"""The providers drive the real SDKs against the fake servers and map their errors."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from app.agents.llm.anthropic_provider import AnthropicProvider
from app.agents.llm.base import (
    ChatRequest,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from app.agents.llm.openai_provider import OpenAIProvider
from tests.fakes.llm import FakeLLMServer, Fault, Raw, Reply, fake_llm

KEY = "sk-test-abcdefghijklmnop1234"
REQUEST = ChatRequest.single("be brief", "hello", max_tokens=64)


@pytest.fixture
def openai_server() -> Iterator[FakeLLMServer]:
    with fake_llm("openai") as server:
        yield server


@pytest.fixture
def anthropic_server() -> Iterator[FakeLLMServer]:
    with fake_llm("anthropic") as server:
        yield server


def _openai(server: FakeLLMServer, timeout_s: float = 5.0, name: str = "openai") -> OpenAIProvider:
    return OpenAIProvider(
        "gpt-4o", api_key=KEY, base_url=server.base_url, name=name, timeout_s=timeout_s
    )


def _anthropic(server: FakeLLMServer, timeout_s: float = 5.0) -> AnthropicProvider:
    return AnthropicProvider(
        "claude-sonnet-4-6", api_key=KEY, base_url=server.base_url, timeout_s=timeout_s
    )


def test_openai_answer_usage_and_cost(openai_server: FakeLLMServer) -> None:
    openai_server.push(Reply("hi there", input_tokens=1000, output_tokens=200))
    response = _openai(openai_server).complete(REQUEST)
    assert (response.text, response.provider, response.model) == ("hi there", "openai", "gpt-4o")
    assert (response.usage.input_tokens, response.usage.output_tokens) == (1000, 200)
    assert response.cost_usd == pytest.approx(1000 * 2.5e-6 + 200 * 10e-6)
    sent = openai_server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.body["messages"][0] == {"role": "system", "content": "be brief"}
    assert sent.body["max_completion_tokens"] == 64


def test_anthropic_answer_usage_and_cost(anthropic_server: FakeLLMServer) -> None:
    anthropic_server.push(Reply("bonjour", input_tokens=2000, output_tokens=100))
    response = _anthropic(anthropic_server).complete(REQUEST)
    assert (response.text, response.provider) == ("bonjour", "anthropic")
    assert response.usage.total == 2100
    assert response.cost_usd == pytest.approx(2000 * 3e-6 + 100 * 15e-6)
    sent = anthropic_server.requests[0]
    assert sent.path == "/v1/messages"
    assert sent.body["system"] == "be brief"
    assert sent.body["messages"] == [{"role": "user", "content": "hello"}]


def test_local_server_is_free(openai_server: FakeLLMServer) -> None:
    openai_server.push(Reply("ok", 5000, 5000))
    response = _openai(openai_server, name="local").complete(REQUEST)
    assert response.provider == "local"
    assert response.cost_usd == 0.0


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(429, retry_after=3), RateLimited),
        (Fault(500), ProviderUnavailable),
        (Fault(401), ProviderRejected),
        (Fault(404), ProviderRejected),
    ],
)
def test_http_faults_map_to_chain_errors(
    kind: str, fault: Fault, error: type[ProviderError]
) -> None:
    with fake_llm(kind) as server:  # type: ignore[arg-type]
        server.push(fault)
        provider = _openai(server) if kind == "openai" else _anthropic(server)
        with pytest.raises(error) as raised:
            provider.complete(REQUEST)
        assert len(server.requests) == 1  # the SDK's own retries are off: the chain owns them
    assert KEY not in str(raised.value)
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after == 3.0
    assert raised.value.retryable is (error is not ProviderRejected)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_slow_answer_times_out(kind: str) -> None:
    with fake_llm(kind) as server:  # type: ignore[arg-type]
        server.push(Reply("late", delay=5))
        provider = _openai(server, timeout_s=0.3) if kind == "openai" else _anthropic(server, 0.3)
        started = time.monotonic()
        with pytest.raises(ProviderTimeout):
            provider.complete(REQUEST)
        assert time.monotonic() - started < 3


def test_nothing_listening_is_unavailable() -> None:
    with fake_llm("openai") as server:
        url = server.base_url
    provider = OpenAIProvider("gpt-4o", api_key=KEY, base_url=url, timeout_s=2)
    with pytest.raises(ProviderUnavailable):
        provider.complete(REQUEST)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
@pytest.mark.parametrize("body", [b"not json", b'{"content": null, "choices": 3}'])
def test_malformed_answers_are_unavailable_not_crashes(kind: str, body: bytes) -> None:
    with fake_llm(kind) as server:  # type: ignore[arg-type]
        server.push(Raw(body))
        provider = _openai(server) if kind == "openai" else _anthropic(server)
        with pytest.raises(ProviderUnavailable, match="malformed response"):
            provider.complete(REQUEST)


def test_usage_is_estimated_when_a_local_server_omits_it(openai_server: FakeLLMServer) -> None:
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "x" * 70}}]}
    openai_server.push(Raw(json.dumps(answer).encode()))
    response = _openai(openai_server, name="local").complete(REQUEST)
    assert response.text == "x" * 70
    # 13 prompt characters ("be brief" + "hello") and 70 answer characters, at 3.5 per token
    assert (response.usage.input_tokens, response.usage.output_tokens) == (4, 20)


@pytest.mark.parametrize(
    ("name", "model", "expected"),
    [
        ("openai", "gpt-4o", {"max_completion_tokens": 64, "temperature": 0.0}),
        ("openai", "gpt-5.1", {"max_completion_tokens": 2064, "reasoning_effort": "low"}),
        ("openai", "o3-mini", {"max_completion_tokens": 2064, "reasoning_effort": "low"}),
        ("local", "gpt-5-local-finetune", {"max_tokens": 64, "temperature": 0.0}),
    ],
)
def test_sampling_parameters_fit_the_endpoint(
    openai_server: FakeLLMServer, name: str, model: str, expected: dict[str, object]
) -> None:
    openai_server.push(Reply("ok"))
    provider = OpenAIProvider(model, api_key=KEY, base_url=openai_server.base_url, name=name)
    provider.complete(REQUEST)
    body = openai_server.requests[0].body
    keys = ("max_tokens", "max_completion_tokens", "temperature", "reasoning_effort")
    sent = {k: body[k] for k in keys if k in body}
    assert sent == expected


def test_anthropic_without_system_prompt_omits_it(anthropic_server: FakeLLMServer) -> None:
    anthropic_server.push(Reply("ok"))
    _anthropic(anthropic_server).complete(ChatRequest.single("", "hello"))
    assert "system" not in anthropic_server.requests[0].body
