"""The patch stage when a source stops mid-round: what it drew is verified, then the stop counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from app.chain.stages.context import StageContext
from app.chain.stages.patch import PatchResult, patch
from app.chain.stages.reproduce import reproduce
from app.chain.state import RunState
from app.errors import BudgetExhausted, ProviderError
from app.repair.candidates import Candidate, FileEdit, RepairContext
from app.testing.testcmd import resolve

BROKEN = "def double(x):\n    return x + 2\n"


class StoppingSource:
    """Yields its candidates, then raises `error` (None: ends normally)."""

    def __init__(self, name: str, afters: list[str], error: Exception | None) -> None:
        self.name = name
        self.afters = afters
        self.error = error
        self.calls = 0

    def propose(self, context: RepairContext) -> Iterator[Candidate]:
        self.calls += 1
        for after in self.afters:
            yield Candidate((FileEdit("calc.py", BROKEN, after),), self.name, after.strip())
        if self.error is not None:
            raise self.error


def _run(tmp_path: Path, *sources: StoppingSource) -> tuple[PatchResult, list[str]]:
    (tmp_path / "tests").mkdir()
    (tmp_path / "calc.py").write_text(BROKEN)
    (tmp_path / "tests" / "test_calc.py").write_text(
        "from calc import double\n\n\ndef test_double():\n    assert double(3) == 6\n"
    )
    said: list[str] = []
    ctx = StageContext(
        tmp_path,
        resolve(tmp_path, None),
        60.0,
        sources=sources,
        progress=lambda stage, message: said.append(f"{stage}: {message}"),
    )
    state = RunState(source="local")
    reproduce(state, ctx).apply(state)
    return patch(state, ctx), said


def test_a_budget_stop_mid_round_verifies_what_was_drawn_and_ends_the_stage(
    tmp_path: Path,
) -> None:
    model = StoppingSource("llm", ["def double(x):\n    return x + 1\n"], BudgetExhausted("spent"))
    later = StoppingSource("other", ["def double(x):\n    return x * 2\n"], None)
    result, said = _run(tmp_path, model, later)
    assert [a.candidate.source for a in result.attempted] == ["llm"]
    assert result.chosen is None and result.budget_exhausted
    assert result.stopped_by == "budget exhausted: spent"
    assert later.calls == 0 and model.calls == 1  # no feedback round, no other source
    assert "patch: budget exhausted: spent" in said


def test_a_provider_stop_mid_round_moves_on_to_the_next_source(tmp_path: Path) -> None:
    model = StoppingSource("llm", ["def double(x):\n    return x + 1\n"], ProviderError("down"))
    later = StoppingSource("other", ["def double(x):\n    return x * 2\n"], None)
    result, said = _run(tmp_path, model, later)
    assert result.chosen is not None and result.chosen.candidate.source == "other"
    assert model.calls == 1  # its providers are down: no feedback round
    assert "patch: llm stopped: down" in said
