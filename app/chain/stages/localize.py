"""Localize: rank the source lines most likely to hold the fault."""

from __future__ import annotations

from dataclasses import dataclass

from app.chain.stages.context import StageContext
from app.chain.state import RunState
from app.repair.localization import localize as rank_locations
from app.testing.results import Location


@dataclass(frozen=True)
class LocalizeResult:
    """Suspicious locations, most suspicious first."""

    locations: tuple[Location, ...]

    def apply(self, state: RunState) -> None:
        """Record the ranking in the run state."""
        state.locations = [loc.to_json() for loc in self.locations]


def localize(state: RunState, ctx: StageContext) -> LocalizeResult:
    """Combine the failing tests' tracebacks with coverage spectra (see app.repair.localization)."""
    failing = state.failing_outcomes()
    passing = {o["test_id"] for o in state.baseline if o["outcome"] == "passed"}
    ranked = rank_locations(
        ctx.root,
        ctx.command,
        failing,
        passing,
        timeout=ctx.suite_timeout,
        ignore=ctx.ignore_paths,
        issue_text=state.issue_text,
    )
    top = ", ".join(f"{loc.path}:{loc.line}" for loc in ranked[:3]) or "nothing found"
    ctx.progress("localize", f"most suspicious: {top}")
    return LocalizeResult(tuple(ranked))
