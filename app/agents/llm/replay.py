"""Replay and recording providers: deterministic model answers without a network.

SWE-agent keeps a replay model so agent runs can be reproduced exactly; this is the same idea.
`ReplayProvider` answers from recorded responses in order, `RecordingProvider` wraps a real
provider and appends each answer to a JSON-lines file that `ReplayProvider.from_file` reads
back. Planner tests use a replay chain to drive `LlmSource` in-process; a recorded real session
replays for debugging. Neither is reachable from a repository's config: replay files are local
paths, and a repository must never make the server read one.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from app.agents.llm.base import ChatRequest, ChatResponse, Provider, ProviderUnavailable, Usage


class ReplayProvider:
    """Answers with the given responses, one per call, then fails as unavailable."""

    def __init__(self, answers: Iterable[str | ChatResponse], model: str = "replay") -> None:
        self.name = "replay"
        self.model = model
        self.extra_output_tokens = 0  # recorded answers cost what they recorded
        self._answers = deque(answers)
        self.requests: list[ChatRequest] = []

    @classmethod
    def from_file(cls, path: Path) -> ReplayProvider:
        """Responses recorded by `RecordingProvider`."""
        lines = path.read_text(encoding="utf-8").splitlines()
        return cls(_response(json.loads(line)) for line in lines if line.strip())

    def complete(self, request: ChatRequest) -> ChatResponse:
        """The next recorded answer."""
        self.requests.append(request)
        if not self._answers:
            raise ProviderUnavailable("replay: no recorded answer left")
        answer = self._answers.popleft()
        if isinstance(answer, ChatResponse):
            return answer
        return ChatResponse(answer, Usage(), self.name, self.model)


class RecordingProvider:
    """Passes calls to `inner` and appends every answer to `path` (JSON lines)."""

    def __init__(self, inner: Provider, path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.extra_output_tokens = inner.extra_output_tokens
        self.path = path

    def complete(self, request: ChatRequest) -> ChatResponse:
        """The inner provider's answer, recorded."""
        response = self.inner.complete(request)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(response), sort_keys=True) + "\n")
        return response


def _response(data: dict[str, object]) -> ChatResponse:
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    return ChatResponse(
        text=str(data["text"]),
        usage=Usage(int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))),
        provider=str(data.get("provider", "replay")),
        model=str(data.get("model", "replay")),
        cost_usd=float(str(data.get("cost_usd", 0.0))),
        latency_ms=int(str(data.get("latency_ms", 0))),
    )
