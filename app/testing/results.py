"""Typed test results and suspicious locations: the vocabulary the stages share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

TestStatus = Literal["passed", "failed", "error", "skipped"]

#: pytest-timeout's failure message says "Timeout (>Ns) from pytest-timeout".
HUNG_MARK = "Timeout"
#: What a test that never reported is marked with when the sandbox killed its run.
SANDBOX_KILL_MARK = "timed out (killed by the sandbox)"


@dataclass(frozen=True)
class Frame:
    """One traceback frame: a repository-relative path and a 1-based line."""

    path: str
    line: int


@dataclass(frozen=True)
class TestOutcome:
    """The outcome of one test, as parsed from JUnit XML."""

    __test__ = False  # a test module that imports it must not make pytest try to collect it

    test_id: str
    outcome: TestStatus
    duration: float = 0.0
    message: str = ""
    traceback: str = ""
    frames: tuple[Frame, ...] = ()

    @property
    def ok(self) -> bool:
        """Passed or skipped: not a failure."""
        return self.outcome in ("passed", "skipped")

    @property
    def hung(self) -> bool:
        """Killed for running too long (pytest-timeout's mark, or the sandbox's deadline)."""
        return HUNG_MARK in self.message or SANDBOX_KILL_MARK in self.message

    def to_json(self) -> dict[str, Any]:
        """Compact form for evidence tables (no traceback)."""
        return {"test": self.test_id, "outcome": self.outcome, "duration": round(self.duration, 3)}


@dataclass(frozen=True)
class TestRun:
    """One run of a test command: per-test outcomes plus how the process ended."""

    __test__ = False

    outcomes: tuple[TestOutcome, ...]
    returncode: int
    duration: float
    timed_out: bool = False
    output: str = ""
    #: The run's highest memory use in MiB, as the sandbox's cgroup counted it (0: not known).
    peak_mb: int = 0
    #: The sandbox stopped the run at a per-run limit: which, by how much, and the setting that
    #: raises it ("" when no limit was hit; the suite's deadline is `timed_out`).
    stop_reason: str = ""

    def by_id(self) -> dict[str, TestOutcome]:
        """Outcomes keyed by test id."""
        return {o.test_id: o for o in self.outcomes}

    @property
    def failing(self) -> tuple[TestOutcome, ...]:
        """The tests that failed or errored."""
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def passing_ids(self) -> frozenset[str]:
        """Ids of the tests that passed."""
        return frozenset(o.test_id for o in self.outcomes if o.outcome == "passed")


@dataclass(frozen=True)
class Location:
    """A suspicious source line with its score and the reason it is suspected."""

    path: str
    line: int
    score: float
    why: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        """Canonical form for bundles and reports."""
        return {
            "path": self.path,
            "line": self.line,
            "score": round(self.score, 4),
            "why": self.why,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Location:
        """Inverse of `to_json`."""
        return Location(data["path"], int(data["line"]), float(data["score"]), data.get("why", ""))


def outcome_to_json(outcome: TestOutcome) -> dict[str, Any]:
    """Full form, including message and frames, for persisted run state."""
    data = asdict(outcome)
    data["frames"] = [asdict(f) for f in outcome.frames]
    return data


def outcome_from_json(data: dict[str, Any]) -> TestOutcome:
    """Inverse of `outcome_to_json`."""
    frames = tuple(Frame(f["path"], int(f["line"])) for f in data.get("frames", ()))
    return TestOutcome(
        test_id=data["test_id"],
        outcome=data["outcome"],
        duration=float(data.get("duration", 0.0)),
        message=data.get("message", ""),
        traceback=data.get("traceback", ""),
        frames=frames,
    )
