"""Human-readable reports for the terminal: the fix, its evidence, or why there is none."""

from __future__ import annotations

from typing import Any

from app.chain.planner import RepairOutcome
from app.chain.stages.bundle import left_failing_lines
from app.chain.state import RunState
from app.patches import PatchBundle, fault_location
from app.repair.partial import partial_line


def fixed_report(bundle: PatchBundle, state: RunState, saved_to: str) -> str:
    """The diff, the before/after evidence table, the localization and the bundle hash."""
    lines = [
        f"FixWurx: {bundle.evidence.get('verdict', 'plausible')} fix found by "
        f"{source_words(bundle.source)} ({bundle.source})",
        f"  {bundle.summary}",
    ]
    top = fault_location(bundle.root_cause, bundle.localization)
    if top:
        lines.append(f"  root cause: {top['path']}:{top['line']} ({top.get('why', '')})")
    lines += explanation_lines(bundle.explanation)
    lines += ["", bundle.diff.rstrip(), "", evidence_table(bundle), ""]
    lines.append(f"env     {environment_line(state)}")
    lines.append(f"bundle  {bundle.hash}")
    lines.append(f"saved   {saved_to}")
    lines.append(f"check   fixwurx bundle verify {saved_to} --repo {state.source}")
    return "\n".join(lines)


def source_words(source: str) -> str:
    """`template:operator_replacement` -> `the fix template "operator replacement"`."""
    kind, _, name = source.partition(":")
    if kind == "template":
        return f'the fix template "{name.replace("_", " ")}"'
    if kind == "llm":
        return f"a language model ({name})"
    return source


def explanation_lines(text: str) -> list[str]:
    """The cheap model's root-cause paragraph, indented under `why:` (none when not paid for)."""
    rows = [row.strip() for row in text.strip().splitlines() if row.strip()]
    if not rows:
        return []
    return [f"  why: {rows[0]}", *(f"       {row}" for row in rows[1:])]


def evidence_table(bundle: PatchBundle) -> str:
    """A before/after table over the reproducing tests, plus the regression totals."""
    after = {row["test"]: row["outcome"] for row in bundle.evidence.get("after", [])}
    rows = [
        (row["test"], row["outcome"], after.get(row["test"], "?"))
        for row in bundle.evidence.get("before", [])
    ]
    width = max([len("test")] + [len(r[0]) for r in rows])
    out = [f"{'test'.ljust(width)}  before  after", f"{'-' * width}  ------  ------"]
    out += [f"{test.ljust(width)}  {before:<6}  {now}" for test, before, now in rows]
    regression = bundle.evidence.get("regression", {})
    out.append(
        f"regression: {regression.get('baseline_passing', 0)} tests that passed before still pass"
        f" ({regression.get('tests_run', 0)} tests run)"
    )
    flaky = bundle.evidence.get("flaky") or []
    if flaky:
        out.append(f"flaky, not used as evidence: {', '.join(flaky)}")
    out += [f"left failing (not this fix's target): {line}" for line in _left(bundle.evidence)]
    return "\n".join(out)


def _left(evidence: dict[str, object]) -> list[str]:
    lines = evidence.get("left_failing")
    return [str(line) for line in lines] if isinstance(lines, list) else []


def environment_line(state: RunState) -> str:
    """How the test environment was built, in one line."""
    env = state.environment
    if not env:
        return "FixWurx's own interpreter (no environment built)"
    notes = "; ".join(env.get("notes", ()))
    return str(env.get("how", "")) + (f" ({notes})" if notes else "")


def partial_lines(state: RunState) -> list[str]:
    """The closest candidate when none fixed everything: its line and its diff, indented.
    Kept for the reader, never applied (`--apply` applies only a verified fix)."""
    if not state.partial:
        return []
    diff = str(state.partial.get("diff") or "").rstrip().splitlines()
    return [f"  partial: {partial_line(state.partial)}", *(f"    {row}" for row in diff)]


def not_fixed_report(outcome: RepairOutcome) -> str:
    """Why there is no fix, what was tried, and where to look."""
    state = outcome.state
    lines = [f"FixWurx: not fixed: {outcome.reason}"]
    if "environment" in state.done:
        lines.append(f"  environment: {environment_line(state)}")
    if state.reproducing:
        lines.append(f"  failing tests: {', '.join(state.reproducing[:5])}")
    lines += [f"  left failing, not a target: {line}" for line in left_failing_lines(state)]
    if state.candidates:
        lines.append(f"  candidates tried: {len(state.candidates)}")
    lines += partial_lines(state)
    if state.locations:
        lines.append("  most suspicious locations:")
        lines += [f"    {loc['path']}:{loc['line']}  {loc['why']}" for loc in state.locations[:5]]
    return "\n".join(lines)


def run_summary(state: RunState | None) -> dict[str, Any]:
    """`--json`'s account of the run beyond its verdict: how the environment was built and the
    baseline's counts (a survey of repositories reads these, never the text for people).

    Present even when the run ended in an error, as far as it got: an environment built
    before the tests failed to import is still reported.
    """
    if state is None:
        return {"environment": None, "baseline": None}
    environment = dict(state.environment) or None  # Environment.to_json: how, python_version
    return {"environment": environment, "baseline": baseline_counts(state)}


def baseline_counts(state: RunState) -> dict[str, Any] | None:
    """Collected, passed, failed, errors, skipped of the baseline run (None before it ran)."""
    if "reproduce" not in state.done and not state.baseline:
        return None
    counts = {"collected": len(state.baseline), "passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for outcome in state.baseline:
        kind = str(outcome.get("outcome", "failed"))
        counts[kind if kind in counts else "failed"] += 1
    return {
        **counts,
        "seconds": round(state.baseline_duration, 2),
        "peak_mb": state.baseline_peak_mb,
        "pre_existing": len(state.pre_existing),
    }
