"""What every stage gets besides the run state: the live work copy and the run's options."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app import defaults
from app.agents.llm_services import ModelServices
from app.chain.state import RunState
from app.environments import EnvironmentRequest
from app.repair.candidates import CandidateSource
from app.repair.search import SearchBudget
from app.repair.verifier import Baseline
from app.testing.results import TestRun, outcome_from_json
from app.testing.testcmd import TestCommand

Progress = Callable[[str, str], None]


def quiet(_stage: str, _message: str) -> None:
    """The default progress sink: say nothing."""


@dataclass
class StageContext:
    """Live objects for one run: the pristine work copy, the test command, the sources."""

    root: Path
    command: TestCommand
    suite_timeout: float
    test_timeout: float = defaults.TEST_TIMEOUT_S
    sources: Sequence[CandidateSource] = ()
    budget: SearchBudget = field(default_factory=SearchBudget)
    ignore_paths: tuple[str, ...] = ()
    feedback_rounds: int = 2
    progress: Progress = quiet
    models: ModelServices | None = None
    #: How to build the repository's environment; None runs the tests on FixWurx's interpreter.
    environment_request: EnvironmentRequest | None = None
    #: A maintainer's command allowed edits under `.github/` and to `.gitmodules`.
    allow_github_paths: bool = False

    @property
    def per_test_timeout(self) -> float:
        """One test may take the default per-test limit, but never more than the whole suite."""
        return min(self.test_timeout, self.suite_timeout / 3)

    def baseline(self, state: RunState) -> Baseline:
        """The baseline, rebuilt from the persisted state (so a resumed run needs no rerun)."""
        outcomes = tuple(outcome_from_json(o) for o in state.baseline)
        run = TestRun(outcomes, 1, state.baseline_duration)
        return Baseline(self.root, self.command, run, tuple(state.reproducing), tuple(state.flaky))
