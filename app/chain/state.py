"""Run state: everything the planner needs to decide what runs next, as plain JSON.

The state is persisted after every stage (the worker's `RunRecorder` hands it to
`app.runs.save_state`; the CLI keeps it in memory), so a run can be shown, audited and resumed:
the planner reads `done` and picks the next stage, and a resumed run starts from
`RunState.from_json` of what was saved (see app/chain/planner.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from app.testing.results import TestOutcome, outcome_from_json

Status = Literal["running", "fixed", "not_fixed", "error"]

#: The chain, in order. `environment` builds the repository's own test environment;
#: `bundle` turns the chosen candidate into a PatchBundle.
STAGES = ("environment", "reproduce", "localize", "patch", "bundle")


@dataclass
class CandidateSummary:
    """A tried candidate, for the run tree and the failure report."""

    id: str
    source: str
    description: str
    plausible: bool
    reason: str
    parent: str | None = None
    changed_lines: int = 0
    seconds: float = 0.0
    tokens: int = 0
    cost_usd: float = 0.0
    #: Seconds per verification phase (app/repair/verifier.py `PHASES`): where time went.
    phases: dict[str, float] = field(default_factory=dict)


@dataclass
class RunState:
    """The persisted state of one repair run."""

    source: str
    test_command: str = ""
    issue_text: str = ""
    base_commit: str = ""
    #: How the test environment was built (`Environment.to_json`); empty: FixWurx's interpreter.
    environment: dict[str, Any] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    baseline: list[dict[str, Any]] = field(default_factory=list)
    baseline_duration: float = 0.0
    #: The baseline run's peak memory in MiB as the sandbox's cgroup counted it (0: not known):
    #: what the memory default must fit (benchmarks/real_repos.py reports it).
    baseline_peak_mb: int = 0
    reproducing: list[str] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)
    #: Failing at baseline for want of a network or a service: neither targets nor regressions.
    pre_existing: list[str] = field(default_factory=list)
    #: Baseline failures that are not the target (`FailureGroup.to_json`): reported, not fixed.
    left_failing: list[dict[str, Any]] = field(default_factory=list)
    added_files: dict[str, str] = field(default_factory=dict)
    #: Model-written reproduction tests that were not kept (`Attempt.to_json`): each file and
    #: why it was rejected, for the "could not reproduce" report.
    reproduction_attempts: list[dict[str, str]] = field(default_factory=list)
    locations: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[CandidateSummary] = field(default_factory=list)
    chosen: dict[str, Any] | None = None
    #: No full fix: the closest candidate (app/repair/partial.py), kept for the report only.
    partial: dict[str, Any] | None = None
    bundle: dict[str, Any] | None = None
    status: Status = "running"
    reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    tokens: int = 0
    cost_usd: float = 0.0
    #: Agent sessions (app/agents/agent), each bounded: how it ended, its steps, what it cost.
    trajectories: list[dict[str, Any]] = field(default_factory=list)

    def next_stage(self) -> str | None:
        """The first stage not yet done, or None when the run has ended."""
        if self.status != "running":
            return None
        return next((s for s in STAGES if s not in self.done), None)

    def failing_outcomes(self) -> tuple[TestOutcome, ...]:
        """The baseline outcomes of the reproducing tests: the failures the stages work from."""
        return tuple(
            outcome_from_json(o) for o in self.baseline if o["test_id"] in self.reproducing
        )

    def finish(self, status: Status, reason: str) -> None:
        """End the run with a status and a human-readable reason."""
        self.status = status
        self.reason = reason

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the database or a file."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        """Inverse of `to_json`."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["candidates"] = [CandidateSummary(**c) for c in data.get("candidates", [])]
        return cls(**values)
