"""Bundle: turn the chosen candidate and its evidence into a hashed `PatchBundle`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from app.chain.stages.context import StageContext
from app.chain.state import RunState
from app.patches import PatchBundle, fault_location, validate_diff
from app.repair.candidates import FileEdit
from app.testing.groups import FailureGroup
from app.testing.results import Location


@dataclass(frozen=True)
class BundleResult:
    """The bundle, ready for a report or a pull request."""

    bundle: PatchBundle

    def apply(self, state: RunState) -> None:
        """Record the bundle and end the run as fixed."""
        state.bundle = self.bundle.to_json()
        tests = state.chosen["tests_run"] if state.chosen else 0
        state.finish("fixed", f"plausible ({tests} tests)")


def bundle(state: RunState, ctx: StageContext) -> BundleResult:
    """Assemble the diff (fix + any reproduction test the run added) and the evidence."""
    assert state.chosen is not None, "the planner runs `bundle` only after a pick"
    added = "".join(
        FileEdit(path, "", text).diff() for path, text in sorted(state.added_files.items())
    )
    diff = state.chosen["diff"] + added
    files = validate_diff(diff, allow_github_paths=ctx.allow_github_paths)
    result = PatchBundle(
        base_commit=state.base_commit,
        diff=diff,
        files=files,
        evidence=evidence(state),
        localization=state.locations[:10],
        source=state.chosen["source"],
        cost={"tokens": state.tokens, "usd": round(state.cost_usd, 6)},
        timings={k: round(v, 3) for k, v in state.timings.items()},
        search={
            "plausible_patches": state.chosen["plausible"],
            "candidates_tried": len(state.candidates),
        },
        summary=state.chosen["description"],
        root_cause=state.chosen.get("location"),
    )
    if ctx.models is not None:
        result = _with_model_notes(result, state, ctx)
    ctx.progress("bundle", f"bundle {result.hash}")
    return BundleResult(result)


def _with_model_notes(result: PatchBundle, state: RunState, ctx: StageContext) -> PatchBundle:
    """Add the cheap model's root-cause explanation, and remember the fix for later runs."""
    assert ctx.models is not None
    top = fault_location(result.root_cause, result.localization)
    location = Location.from_json(top) if top else None
    ctx.models.remember(state.failing_outcomes(), location, result.diff)
    explanation = ctx.models.explanation(result, state.issue_text)
    return dataclasses.replace(result, explanation=explanation) if explanation else result


def left_failing_lines(state: RunState) -> list[str]:
    """One line per group of baseline failures the fix did not target, with its reason."""
    groups = (FailureGroup.from_json(g) for g in state.left_failing)
    return [
        f"{', '.join(g.test_ids[:5])}{' ...' if len(g.test_ids) > 5 else ''} {g.reason}"
        for g in groups
    ]


def evidence(state: RunState) -> dict[str, Any]:
    """Before/after per reproducing test, and the regression run's totals."""
    assert state.chosen is not None
    before = [
        {"test": o["test_id"], "outcome": o["outcome"], "message": o.get("message", "")[:300]}
        for o in state.baseline
        if o["test_id"] in state.reproducing
    ]
    passing = [o["test_id"] for o in state.baseline if o["outcome"] == "passed"]
    recipe = state.environment.get("recipe") or state.environment.get("how")
    built = {"environment": recipe} if recipe else {}
    if state.left_failing:  # failing before and after, not this fix's target: said, not hidden
        built["left_failing"] = left_failing_lines(state)
    if state.chosen.get("agent"):  # the agent session that wrote the fix, in brief
        built["agent"] = state.chosen["agent"]
    return {
        **built,
        "before": before,
        # Durations vary between identical runs; the bundle id must not (timings keep them).
        "after": [
            {k: v for k, v in row.items() if k != "duration"} for row in state.chosen["after"]
        ],
        "regression": {
            "baseline_passing": len(passing),
            "tests_run": state.chosen["tests_run"],
            "newly_failing": [],
        },
        "flaky": list(state.flaky),
        "verdict": f"plausible ({state.chosen['tests_run']} tests)",
    }
