"""Patch: ask each candidate source in turn, cheapest first, and verify what it proposes.

Sources are tried in order (fix templates, then language models). A source that fails
verification may get `feedback_rounds` more tries with the verifier's output; every candidate,
whatever its source, passes the same verifier.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from app.chain.stages.context import StageContext
from app.chain.state import CandidateSummary, RunState
from app.errors import BudgetExhausted, ProviderError
from app.repair.candidates import Candidate, CandidateSource, RepairContext
from app.repair.partial import closest_partial
from app.repair.search import Attempted, ProgressCallback, SearchResult, search
from app.repair.verifier import Verification, Verifier
from app.testing.results import Location


@dataclass
class PatchResult:
    """The pick (if any) and everything tried on the way."""

    chosen: Attempted | None
    attempted: list[Attempted] = field(default_factory=list)
    plausible_count: int = 0
    stopped_by: str = ""
    budget_exhausted: bool = False
    #: The agent sessions' bounded records (commands, observations, cost), in order.
    trajectories: list[dict[str, Any]] = field(default_factory=list)

    def apply(self, state: RunState) -> None:
        """Record the tried candidates and the pick; no pick ends the run as not fixed."""
        state.trajectories.extend(self.trajectories)
        for record in self.trajectories:  # agent turns after the last submission
            state.tokens += int(record.get("unattributed", {}).get("tokens", 0))
            state.cost_usd += float(record.get("unattributed", {}).get("usd", 0.0))
        first_number = len(state.candidates) + 1  # the run numbers candidates from 1
        for attempt in self.attempted:
            state.candidates.append(_summary(attempt))
            state.tokens += attempt.candidate.tokens
            state.cost_usd += attempt.candidate.cost_usd
        if self.chosen is None:
            state.partial = closest_partial(self.attempted, first_number)
            state.finish("not_fixed", _why_not(self))
            return
        state.chosen = {
            "id": self.chosen.candidate.key,
            "location": _location(self.chosen.candidate),
            "source": self.chosen.candidate.source,
            "description": self.chosen.candidate.description,
            "diff": self.chosen.candidate.diff(),
            "files": [e.path for e in self.chosen.candidate.edits],
            "after": [o.to_json() for o in self.chosen.verification.after],
            "tests_run": self.chosen.verification.tests_run,
            "plausible": self.plausible_count,
        }
        if "agent" in self.chosen.candidate.metadata:  # the agent session, for the PR body
            state.chosen["agent"] = self.chosen.candidate.metadata["agent"]


def patch(state: RunState, ctx: StageContext) -> PatchResult:
    """Run the sources in order until one yields a plausible patch."""
    with Verifier(ctx.baseline(state)) as verifier:  # ends its warm test processes
        try:
            result = _patch(state, ctx, verifier)
        finally:
            for source in ctx.sources:  # an agent's work copy outlives its generator
                getattr(source, "close", lambda: None)()
    result.trajectories = [t for s in ctx.sources for t in getattr(s, "trajectories", ())]
    return result


def _patch(state: RunState, ctx: StageContext, verifier: Verifier) -> PatchResult:
    total = PatchResult(None)
    for source in ctx.sources:
        if hasattr(source, "progress"):  # the agent says what each turn ran
            source.progress = lambda message: ctx.progress("agent", message)
        rejected: list[Attempted] = []
        for round_number in range(1 + _rounds(source, ctx)):
            context = _context(state, ctx, rejected)
            ctx.progress("patch", _announce(source, round_number))
            numbered = len(state.candidates) + len(total.attempted)
            found = search(
                source.propose(context),
                verifier.check,
                ctx.budget,
                _reporter(ctx, numbered, total.plausible_count),
                SOURCE_STOPS,
            )
            _merge(total, found)
            if found.chosen is not None:
                return total
            error = found.source_error
            if isinstance(error, BudgetExhausted):  # nothing more may be spent on any source
                total.budget_exhausted = True
                total.stopped_by = f"budget exhausted: {error}"
                ctx.progress("patch", total.stopped_by)
                return total
            if error is not None:  # this source's providers failed: try the next source
                verb = "stopped" if found.tried else "unavailable"
                total.stopped_by = f"{source.name} {verb}: {error}"
                ctx.progress("patch", total.stopped_by)
                break
            rejected = _rejected(found)
            if not rejected:
                break
    return total


#: Errors a source may raise mid-round; the search still verifies what it drew before them.
SOURCE_STOPS: tuple[type[Exception], ...] = (BudgetExhausted, ProviderError)


def _rounds(source: CandidateSource, ctx: StageContext) -> int:
    """Deterministic sources gain nothing from feedback; models do."""
    return ctx.feedback_rounds if getattr(source, "accepts_feedback", False) else 0


def _context(state: RunState, ctx: StageContext, rejected: list[Attempted]) -> RepairContext:
    return RepairContext(
        root=ctx.root,
        failing=state.failing_outcomes(),
        locations=tuple(Location.from_json(loc) for loc in state.locations),
        test_command=ctx.command.argv,
        issue_text=state.issue_text,
        feedback=_feedback(rejected),
        ignore_paths=ctx.ignore_paths,
        rejected=tuple(a.candidate for a in rejected),
        allow_github_paths=ctx.allow_github_paths,
        command=ctx.command,
    )


def _announce(source: CandidateSource, round_number: int) -> str:
    return f"trying {source.name}" + (f" (feedback round {round_number})" if round_number else "")


#: The patch stage sums up after this many rejected candidates, or this many seconds: a line
#: per candidate was up to 300 lines of noise.
SUMMARY_EVERY, SUMMARY_SECONDS = 10, 10.0


def _reporter(ctx: StageContext, numbered: int, plausible: int) -> ProgressCallback:
    """Each plausible candidate on a line of its own (numbered as the run numbers candidates,
    which `fixwurx show` repeats), and every so often `N tried, K plausible, S of B s`."""
    started = last = time.monotonic()
    found = plausible

    def report(attempt: Attempted, tried: int) -> None:
        nonlocal last, found
        verdict, now = attempt.verification, time.monotonic()
        if verdict.plausible:
            found += 1
            ctx.progress(
                "verify", f"#{numbered + tried} {attempt.candidate.description}: plausible"
            )
        elif tried % SUMMARY_EVERY and now - last < SUMMARY_SECONDS:
            return
        last = now
        ctx.progress(
            "verify",
            f"{numbered + tried} tried, {found} plausible, "
            f"{now - started:.0f} of {ctx.budget.seconds:.0f} s",
        )

    return report


def _merge(total: PatchResult, found: SearchResult) -> None:
    total.attempted.extend(found.attempted)
    total.plausible_count += len(found.plausible)
    total.chosen = found.chosen
    total.stopped_by = found.stopped_by


def _rejected(found: SearchResult) -> list[Attempted]:
    """The best failed candidates of a round: what the next model round is told about."""
    return [a for a in found.attempted if not a.verification.plausible][:3]


def _feedback(rejected: list[Attempted]) -> str:
    """The verifier's words on `rejected`, for the next model round."""
    parts = [
        f"Candidate `{a.candidate.description}` was rejected: {a.verification.reason}\n"
        f"{_tail(a.verification)}"
        for a in rejected
    ]
    return "\n\n".join(parts)


def _tail(verification: Verification) -> str:
    return "\n".join(verification.output.strip().splitlines()[-30:])


def _location(candidate: Candidate) -> dict[str, object] | None:
    return candidate.location.to_json() if candidate.location is not None else None


def _summary(attempt: Attempted) -> CandidateSummary:
    candidate: Candidate = attempt.candidate
    return CandidateSummary(
        id=candidate.key,
        source=candidate.source,
        description=candidate.description,
        plausible=attempt.verification.plausible,
        reason=attempt.verification.reason,
        parent=candidate.parent,
        changed_lines=candidate.changed_lines,
        seconds=attempt.verification.duration,
        phases=dict(attempt.verification.phases),
        tokens=candidate.tokens,
        cost_usd=candidate.cost_usd,
    )


def _why_not(result: PatchResult) -> str:
    if result.budget_exhausted:
        return result.stopped_by
    if not result.attempted:
        return "no candidate patch could be generated for the suspicious locations"
    tried = len(result.attempted)
    return f"none of {tried} candidate patches passed verification ({result.stopped_by})"
