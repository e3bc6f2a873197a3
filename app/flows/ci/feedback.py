"""What the repository's CI said about a fix commit, and what FixWurx does about it (pure).

Given the CI suites on the fix commit and the ones on its base commit, `decide` says: keep
waiting, success, a revision round, stop at the cap, neutral because workflows wait for a
maintainer's approval, or neutral because a suite ended without a verdict.

Conclusions are read as GitHub defines them: only `success` is green; `failure`, `timed_out`
and `startup_failure` are red; `cancelled`, `skipped`, `stale`, `neutral`, `action_required`
and a finished suite with no conclusion say nothing about the code. A cancelled canary (a
maintainer, or a `concurrency: cancel-in-progress` group) must never read as a pass.

A failure that was already there on the base commit is not the fix's
fault: it is compared by suite name, and by failing test id where both sides report tests.
No I/O here, so every rule is unit-tested without GitHub.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

#: The one conclusion that means the suite passed.
GREEN = "success"
#: Conclusions that mean the suite found a problem.
RED = frozenset({"failure", "timed_out", "startup_failure"})
#: GitHub's conclusion for a workflow waiting for a maintainer's approval (bot pull requests).
AWAITING_APPROVAL = "action_required"


@dataclass(frozen=True)
class SuiteResult:
    """One CI suite on a commit: a workflow run or another App's check suite."""

    kind: str  # canary | smoke
    name: str
    status: str  # queued | in_progress | completed | ...
    conclusion: str | None
    url: str | None = None
    failing_tests: tuple[str, ...] = ()
    job: str = ""
    step: str = ""
    excerpt: str = ""

    @property
    def done(self) -> bool:
        """Finished, or stopped until a maintainer approves it (it will not move on its own)."""
        return self.status == "completed" or self.conclusion == AWAITING_APPROVAL

    @property
    def red(self) -> bool:
        """Whether it failed."""
        return self.conclusion in RED

    @property
    def green(self) -> bool:
        """Whether it passed: `success` and nothing else."""
        return self.conclusion == GREEN

    @property
    def silent(self) -> bool:
        """Finished without a verdict on the code: cancelled, skipped, stale, neutral, none."""
        return self.done and not self.red and not self.green and not self.awaiting

    @property
    def awaiting(self) -> bool:
        """Stopped until a maintainer approves it."""
        return self.conclusion == AWAITING_APPROVAL


def conclusion_text(suite: SuiteResult) -> str:
    """The conclusion as shown to people: a finished suite without one says so."""
    if suite.conclusion:
        return suite.conclusion
    return "no conclusion" if suite.status == "completed" else suite.status


@dataclass(frozen=True)
class CiDecision:
    """What to do: `action` is pending, success, revise, cap, action_required or no_verdict."""

    action: str
    reason: str
    blamed: tuple[SuiteResult, ...] = ()
    old_red: tuple[SuiteResult, ...] = ()
    awaiting: tuple[SuiteResult, ...] = ()
    silent: tuple[SuiteResult, ...] = ()
    results: tuple[SuiteResult, ...] = field(default_factory=tuple)


def is_blamed(suite: SuiteResult, base: Sequence[SuiteResult]) -> bool:
    """Whether a red suite on the fix commit is the fix's fault, given the base commit's suites.

    Not blamed when the same suite was red on the base too, unless both name failing tests and
    the fix commit fails a test the base did not.
    """
    if not suite.red:
        return False
    same = [b for b in base if b.name == suite.name and b.red]
    if not same:
        return True
    base_tests = {t for b in same for t in b.failing_tests}
    if suite.failing_tests and base_tests:
        return bool(set(suite.failing_tests) - base_tests)
    return False


def decide(
    head: Sequence[SuiteResult],
    base: Sequence[SuiteResult],
    *,
    canary_expected: bool,
    revision: int,
    max_revisions: int,
) -> CiDecision:
    """The next step for a fix commit, from its CI suites and its base commit's."""
    results = tuple(head)
    if not results:
        return CiDecision("pending", "no CI suite has reported on this commit yet")
    if canary_expected and not any(s.kind == "canary" for s in results):
        return CiDecision("pending", "the canary has not started yet", results=results)
    running = [s.name for s in results if not s.done]
    if running:
        return CiDecision("pending", f"waiting for {', '.join(running)}", results=results)
    blamed = tuple(s for s in results if is_blamed(s, base))
    old_red = tuple(s for s in results if s.red and s not in blamed)
    awaiting = tuple(s for s in results if s.awaiting)
    silent = tuple(s for s in results if s.silent)
    found = {
        "blamed": blamed,
        "old_red": old_red,
        "awaiting": awaiting,
        "silent": silent,
        "results": results,
    }
    if blamed:
        names = ", ".join(s.name for s in blamed)
        if revision < max_revisions:
            why = f"new CI failures in {names}; revision round {revision + 1} of {max_revisions}"
            return CiDecision("revise", why, **found)
        why = f"new CI failures in {names} after {revision} revision round(s)"
        return CiDecision("cap", why, **found)
    if awaiting:
        names = ", ".join(s.name for s in awaiting)
        return CiDecision(
            "action_required", f"waiting for a maintainer to approve {names}", **found
        )
    if silent:
        said = ", ".join(f"{s.name} ({conclusion_text(s)})" for s in silent)
        why = f"no CI verdict: {said} ended without passing or failing"
        return CiDecision("no_verdict", why, **found)
    if not any(s.green for s in results):
        return CiDecision("no_verdict", "no CI suite passed or failed", **found)
    if old_red:
        names = ", ".join(s.name for s in old_red)
        return CiDecision("success", f"CI green except {names}, already red on the base", **found)
    return CiDecision("success", "canary and smoke CI passed", **found)


def feedback(previous_bundle: str, blamed: Sequence[SuiteResult]) -> str:
    """The revision round's instructions for the chain: what failed in CI, and the log.

    The failing test ids are written out so the chain's reproduce stage focuses on them
    (app/chain/issue_text.py reads pytest node ids from the text).
    """
    lines = [
        f"The previous fix (bundle {previous_bundle}) passed in FixWurx's sandbox but failed "
        "the repository's own CI. Find a fix that also passes these:",
    ]
    for suite in blamed:
        where = " / ".join(p for p in (suite.name, suite.job, suite.step) if p)
        lines.append(f"- {suite.kind} `{where}`: {suite.conclusion}")
        lines += [f"  - {test}" for test in suite.failing_tests[:20]]
    excerpts = [s.excerpt for s in blamed if s.excerpt]
    if excerpts:
        lines += ["", "Log excerpt of the failing step:", "```text", excerpts[0], "```"]
    return "\n".join(lines)
