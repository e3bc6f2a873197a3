"""A recorded session replays exactly, without a network."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.agents.budget import Budget, Spend
from app.agents.llm.base import ChatRequest, ChatResponse, ProviderUnavailable, Usage
from app.agents.llm.chain import ProviderChain, RetryPolicy
from app.agents.llm.openai_provider import REASONING_ALLOWANCE_TOKENS, OpenAIProvider
from app.agents.llm.replay import RecordingProvider, ReplayProvider
from tests.fakes.llm import Reply, fake_llm

REQUEST = ChatRequest.single("s", "u")


def test_record_then_replay(tmp_path: Path) -> None:
    log = tmp_path / "session.jsonl"
    with fake_llm("openai") as server:
        server.push(Reply("first", 10, 2), Reply("second", 20, 4))
        real = OpenAIProvider("gpt-4o", api_key="k", base_url=server.base_url)
        recorder = RecordingProvider(real, log)
        live = [recorder.complete(REQUEST), recorder.complete(REQUEST)]
    replay = ReplayProvider.from_file(log)
    assert [replay.complete(REQUEST), replay.complete(REQUEST)] == live
    with pytest.raises(ProviderUnavailable, match="no recorded answer left"):
        replay.complete(REQUEST)


def test_recording_keeps_the_inner_reasoning_allowance(tmp_path: Path) -> None:
    # The chain budgets hidden reasoning from this attribute; a recorder that dropped it would
    # let a reasoning model's calls be checked as if they could not think.
    thinking = OpenAIProvider("gpt-5.1", api_key="k", base_url="http://127.0.0.1:9")
    recorder = RecordingProvider(thinking, tmp_path / "session.jsonl")
    assert recorder.extra_output_tokens == REASONING_ALLOWANCE_TOKENS


def test_replay_drives_a_chain_and_is_budgeted() -> None:
    # Non-zero usage, so an unrecorded call (which would leave the ledger at zero) shows.
    recorded = ChatResponse("answer", Usage(12, 3), "replay", "replay", cost_usd=0.25)
    provider = ReplayProvider([recorded])
    budget = Budget.unlimited()
    chain = ProviderChain([provider], budget, "explanation", RetryPolicy(attempts=1))
    assert chain.complete(REQUEST).text == "answer"
    assert provider.requests == [REQUEST]
    assert budget.local == Spend(tokens=15, usd=0.25)
