"""LlmSource: localization file -> function -> lines, samples, dedup, scope, feedback, budget."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.agents import memory
from app.agents.analyst import AnalystConfig, LlmSource
from app.agents.budget import Budget, BudgetLimits
from app.agents.llm.chain import ProviderChain, RetryPolicy
from app.agents.llm.openai_provider import OpenAIProvider
from app.chain.stages import patch as patch_stage
from app.chain.stages.context import StageContext
from app.chain.state import RunState
from app.errors import BudgetExhausted, ProviderError
from app.repair.candidates import Candidate, RepairContext
from app.repair.search import Attempted
from app.repair.verifier import Verification
from app.testing.results import Frame, Location
from app.testing.results import TestOutcome as Outcome
from app.testing.testcmd import TestCommand as Command
from tests.fakes.llm import FakeLLMServer, Fault, Reply, Step, fake_llm

CODE = '''import math


def area(radius):
    """Area of a circle."""
    return math.pi * radius * 2


def circumference(radius):
    return 2 * math.pi * radius
'''
HELPER = "def unused():\n    return 0\n"


def patch(new: str, prose: str = "Area squares the radius.") -> str:
    return f"{prose}\ngeo/shapes.py\n<<<<<<< SEARCH\n    return math.pi * radius * 2\n=======\n{new}\n>>>>>>> REPLACE\n"


class Script:
    """Answers localization steps from the prompt; patch prompts from a queue."""

    def __init__(
        self, *patches: str, files: str = "geo/shapes.py", usage: tuple[int, int] = (500, 50)
    ) -> None:
        self.patches = list(patches)
        self.files = files
        self.usage = usage

    def __call__(self, body: dict[str, Any]) -> Step:
        prompt = body["messages"][-1]["content"]
        if "Step 1 of localization" in prompt:
            return Reply(self.files, 100, 5)
        if "Step 2 of localization" in prompt:
            return Reply("geo/shapes.py::area", 100, 5)
        if "Step 3 of localization" in prompt:
            return Reply("geo/shapes.py:6-6", 100, 5)
        return Reply(self.patches.pop(0), *self.usage)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "shapes.py").write_text(CODE)
    (tmp_path / "geo" / "helper.py").write_text(HELPER)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_shapes.py").write_text(
        "from geo.shapes import area\n\n\ndef test_area():\n    assert area(2) == 4 * 3.141592653589793\n"
    )
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def _context(
    root: Path,
    feedback: str = "",
    locations: tuple[Location, ...] = (),
    rejected: tuple[Candidate, ...] = (),
) -> RepairContext:
    failing = Outcome(
        "tests/test_shapes.py::test_area",
        "failed",
        message="assert 12.566 == 12.566",
        traceback="tests/test_shapes.py:5: AssertionError",
        frames=(Frame("tests/test_shapes.py", 5), Frame("geo/shapes.py", 6)),
    )
    return RepairContext(
        root, (failing,), locations, ("pytest",), "area() is wrong", feedback, rejected=rejected
    )


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with fake_llm("openai") as fake:
        yield fake


def _source(server: FakeLLMServer, budget: Budget | None = None, **config: Any) -> LlmSource:
    provider = OpenAIProvider("gpt-4o", api_key="k", base_url=server.base_url, timeout_s=5)
    chain = ProviderChain(
        [provider], budget or Budget.unlimited(), "analysis", RetryPolicy(attempts=1)
    )
    return LlmSource(chain, AnalystConfig(**config))


def _prompts(server: FakeLLMServer) -> list[str]:
    return [r.body["messages"][-1]["content"] for r in server.requests]


def test_localizes_file_then_function_then_lines(server: FakeLLMServer, repo: Path) -> None:
    server.responder = Script(patch("    return math.pi * radius ** 2"))
    candidates = list(_source(server, samples=1).propose(_context(repo)))
    files, functions, lines, patch_prompt = _prompts(server)
    assert "geo/helper.py\ngeo/shapes.py\ntests/test_shapes.py" in files
    assert ".github" not in files
    assert "area (lines 4-6): def area(radius):" in functions
    assert "circumference (lines 9-10)" in functions
    assert "    6|     return math.pi * radius * 2" in lines
    assert "--- geo/shapes.py (lines 4-6)" in patch_prompt
    assert "def circumference" not in patch_prompt  # compressed: only the relevant window
    (candidate,) = candidates
    assert candidate.edits[0].after == CODE.replace("radius * 2", "radius ** 2")
    assert candidate.location == Location("geo/shapes.py", 4, 1.0, "area")
    windows = candidate.metadata["windows"]
    assert isinstance(windows, list) and windows[0] == "geo/shapes.py:4-6"


def test_samples_are_deduplicated_and_unsafe_ones_dropped(
    server: FakeLLMServer, repo: Path
) -> None:
    outside = (
        "geo/helper.py\n<<<<<<< SEARCH\n    return 0\n=======\n    return 1\n>>>>>>> REPLACE\n"
    )
    workflow = (
        ".github/workflows/ci.yml\n<<<<<<< SEARCH\non: push\n=======\non: [push]\n>>>>>>> REPLACE\n"
    )
    server.responder = Script(
        patch("    return math.pi * radius ** 2"),
        patch("    return math.pi * radius ** 2   "),  # same code, other whitespace: duplicate
        outside,
        workflow,
        patch("    return math.pi * radius * radius"),
        "I am not sure.",
    )
    source = _source(server, samples=6)
    candidates = list(source.propose(_context(repo)))
    assert [c.edits[0].after.splitlines()[5] for c in candidates] == [
        "    return math.pi * radius ** 2",
        "    return math.pi * radius * radius",
    ]
    assert [c.score for c in candidates] == [1.0, 1 / 5]
    assert any(
        "refused edit to geo/helper.py: outside the files in scope" in e for e in source.errors
    )
    assert any("refused edit to .github/workflows/ci.yml: CI" in e for e in source.errors)
    assert any("no SEARCH/REPLACE block" in e for e in source.errors)
    temperatures = [r.body["temperature"] for r in server.requests[3:]]
    assert temperatures == [0.0] + [0.8] * 5
    # candidates carry localization and the dropped samples before them; the source, all
    assert sum(c.tokens for c in candidates) == 3 * 105 + 5 * 550
    assert source.spent.tokens == 3 * 105 + 6 * 550


def test_feedback_round_refines_the_previous_candidate(server: FakeLLMServer, repo: Path) -> None:
    server.responder = Script(
        patch("    return math.pi * radius ** 2 + 1"),
        patch("    return math.pi * radius ** 2", prose="Drop the stray + 1."),
    )
    source = _source(server, samples=1)
    (first,) = source.propose(_context(repo))
    assert first.parent is None
    feedback = "FAILED tests/test_shapes.py::test_area - assert 13.566 == 12.566"
    (second,) = source.propose(_context(repo, feedback=feedback))
    assert second.parent == first.key
    assert len(server.requests) == 5  # localization was not repeated
    last = _prompts(server)[-1]
    assert "did not pass verification" in last
    assert '<data name="verifier-output"' in last and feedback in last
    assert "+    return math.pi * radius ** 2 + 1" in last  # the failed diff is shown
    assert second.edits[0].after == CODE.replace("radius * 2", "radius ** 2")


def test_budget_exhaustion_mid_round_raises_after_the_earlier_candidates(
    server: FakeLLMServer, repo: Path
) -> None:
    server.responder = Script(
        patch("    return math.pi * radius ** 2"),
        patch("    return math.pi * radius * radius"),
        usage=(1500, 100),
    )
    limits = BudgetLimits(2_000, 100.0, 10**9, 1e9, 10**9, 1e9)
    source = _source(server, Budget(limits), samples=3, patch_max_tokens=200, localize=False)
    stream = source.propose(_context(repo))
    first = next(stream)  # yielded before the budget ran out: the search still verifies it
    assert first.edits[0].path == "geo/shapes.py"
    with pytest.raises(BudgetExhausted, match="per-run tokens budget is 2,000 tokens"):
        next(stream)
    assert len(server.requests) == 1  # the second sample was refused before sending
    assert source.last_round == [first]


def test_provider_outage_before_any_candidate_raises(server: FakeLLMServer, repo: Path) -> None:
    server.push(Fault(503))
    source = _source(server, samples=2, localize=False)
    with pytest.raises(ProviderError, match="every model provider failed"):
        list(source.propose(_context(repo)))


def test_provider_outage_after_a_candidate_raises_after_it(
    server: FakeLLMServer, repo: Path
) -> None:
    server.push(Reply(patch("    return math.pi * radius ** 2")), Fault(500))
    source = _source(server, samples=3, localize=False)
    stream = source.propose(_context(repo))
    assert next(stream).edits[0].path == "geo/shapes.py"
    with pytest.raises(ProviderError, match="server error \\(500\\)"):
        next(stream)
    assert len(server.requests) == 2


def test_without_model_localization_the_suspicious_lines_are_used(
    server: FakeLLMServer, repo: Path
) -> None:
    server.responder = Script(patch("    return math.pi * radius ** 2"))
    context = _context(repo, locations=(Location("geo/shapes.py", 10, 0.7, "ochiai"),))
    (candidate,) = _source(server, samples=1, localize=False).propose(context)
    (prompt,) = _prompts(server)
    assert "--- geo/shapes.py (lines 9-10)" in prompt  # the suspicious line's function
    assert "--- geo/shapes.py (lines 4-6)" in prompt  # the traceback frame's function
    assert "--- tests/test_shapes.py (lines 4-5)" in prompt
    assert candidate.edits[0].path == "geo/shapes.py"


def test_unusable_localization_answers_fall_back_to_the_evidence(
    server: FakeLLMServer, repo: Path
) -> None:
    server.responder = Script(patch("    return math.pi * radius ** 2"), files="no idea, sorry")
    (candidate,) = _source(server, samples=1).propose(_context(repo))
    assert candidate.edits[0].path == "geo/shapes.py"


def test_past_fixes_are_shown_as_examples(
    server: FakeLLMServer, repo: Path, tmp_path: Path
) -> None:
    from sqlalchemy import create_engine

    from app.models import Base

    url = f"sqlite:///{tmp_path / 'mem.sqlite3'}"
    Base.metadata.create_all(create_engine(url))
    memory.remember(
        url,
        error_signature="AssertionError area radius",
        location="geo/shapes.py:6",
        diff="-    return r * 2\n+    return r ** 2\n",
    )
    server.responder = Script(patch("    return math.pi * radius ** 2"))
    source = _source(server, samples=1, localize=False)
    source.memory_url = url
    list(source.propose(_context(repo)))
    (prompt,) = _prompts(server)
    assert '<data name="past-fixes"' in prompt and "+    return r ** 2" in prompt


def test_feedback_round_refines_the_candidates_the_context_names(
    server: FakeLLMServer, repo: Path
) -> None:
    server.responder = Script(
        patch("    return math.pi * radius ** 3", prose="Cube it."),
        patch("    return math.pi * radius ** 2 + 1", prose="Square it, plus one."),
        patch("    return math.pi * radius ** 2", prose="Square it."),
        patch("    return math.pi * radius * radius", prose="Multiply."),
    )
    source = _source(server, samples=2, localize=False)
    _cube, plus_one = source.propose(_context(repo))
    feedback = "Candidate `Square it, plus one.` was rejected: 1 test still fails"
    refined = list(source.propose(_context(repo, feedback=feedback, rejected=(plus_one,))))
    assert [c.parent for c in refined] == [plus_one.key, plus_one.key]
    last = _prompts(server)[-1]
    assert "+    return math.pi * radius ** 2 + 1" in last
    assert "radius ** 3" not in last
    assert source.last_round == refined
    # without names, the previous round's first candidate is refined
    server.responder = Script(patch("    return math.pi * radius ** 2.0"))
    source.config = AnalystConfig(samples=1, localize=False)
    (fallback,) = source.propose(_context(repo, feedback="still failing"))
    assert fallback.parent == refined[0].key


def test_the_patch_stage_names_the_rejected_candidates_it_reports(tmp_path: Path) -> None:
    ctx = StageContext(tmp_path, Command(("pytest",), True), 60.0)
    state = RunState(source="local", issue_text="area() is wrong")
    rejected = [
        Attempted(
            Candidate((), "template", "Square it."),
            Verification(False, "1 test still fails", output="assert 13.5 == 12.5"),
        )
    ]
    context = patch_stage._context(state, ctx, rejected)
    assert context.rejected == (rejected[0].candidate,)
    assert "Candidate `Square it.` was rejected: 1 test still fails" in context.feedback
    assert "assert 13.5 == 12.5" in context.feedback
    assert patch_stage._context(state, ctx, []).feedback == ""


def test_the_patch_stage_gives_the_source_feedback_rounds(
    server: FakeLLMServer, tmp_path: Path
) -> None:
    ctx = StageContext(tmp_path, Command(("pytest",), True), 60.0, feedback_rounds=3)
    source = _source(server)
    assert patch_stage._rounds(source, ctx) == 3
    assert patch_stage._announce(source, 1) == "trying llm (feedback round 1)"
    source.accepts_feedback = False  # the flag, not the source's type, earns the rounds
    assert patch_stage._rounds(source, ctx) == 0


def test_module_level_bug_shows_the_picked_file(server: FakeLLMServer, repo: Path) -> None:
    (repo / "geo" / "config.py").write_text("UNITS = 'cm'\nSCALE = 10\n")
    server.push(Reply("geo/config.py"), Reply("nothing to pick"))
    server.push(
        Reply("geo/config.py\n<<<<<<< SEARCH\nSCALE = 10\n=======\nSCALE = 100\n>>>>>>> REPLACE\n")
    )
    context = RepairContext(repo, (), (), ("pytest",), "SCALE should be 100")
    (candidate,) = _source(server, samples=1).propose(context)
    assert "--- geo/config.py (lines 1-2)\nUNITS = 'cm'\nSCALE = 10" in _prompts(server)[-1]
    assert candidate.edits[0].after == "UNITS = 'cm'\nSCALE = 100\n"


def test_secret_files_are_never_shown_and_mentions_are_defused(
    server: FakeLLMServer, repo: Path
) -> None:
    (repo / "geo" / "secrets.py").write_text("API_TOKEN = 'tok-123456'\n")
    server.responder = Script(patch("    return math.pi * radius ** 2", prose="Thanks @octocat!"))
    context = _context(repo, locations=(Location("geo/secrets.py", 1, 0.99, "ochiai"),))
    (candidate,) = _source(server, samples=1).propose(context)
    for prompt in _prompts(server):
        assert "secrets.py" not in prompt and "tok-123456" not in prompt
    assert candidate.description == "Thanks @\u200boctocat!"


def test_an_unreachable_memory_only_loses_the_examples(
    server: FakeLLMServer, repo: Path, tmp_path: Path
) -> None:
    server.responder = Script(patch("    return math.pi * radius ** 2"))
    source = _source(server, samples=1, localize=False)
    source.memory_url = f"sqlite:///{tmp_path / 'no-tables.sqlite3'}"
    (candidate,) = source.propose(_context(repo))
    assert candidate.edits[0].path == "geo/shapes.py"
    assert "past-fixes" not in _prompts(server)[0]
