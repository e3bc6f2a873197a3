"""The rules that blame a merged fix for a red default branch, with the evidence for each.

A failure is blamed on the merge only when all hold:

1. the failing tests fail at the red commit when FixWurx runs them itself (a failure that does
   not reproduce is a flake, or not a test failure at all);
2. they pass at the fix's base, the merge's first parent (else the branch was red before);
3. the merge is the first bad commit: probed first (the red commit itself when it is the
   merge); when the tests pass there, bisection over the first-parent commits after the merge
   names the commit that broke them (else the merge is the culprit without a search);
4. not flaky: they fail again on a rerun at the merge and pass again at its parent. The rerun
   at the merge runs in the work copy of FixWurx's first run there, as a rerun on the same
   machine does: a test that fails once and passes when run again (timing, or state its
   first run leaves behind) is flaky, and a flaky failure is never reverted.

Anything else is not blamed, and `reason` says which rule said no. The runner is the only I/O,
so the rules read like the list above.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from app.flows.rollback import history
from app.flows.rollback.bisect import Probe, first_bad


class Runner(Protocol):
    """Runs the named tests (all when empty) at a commit; `keep` keeps the work copy for a
    `rerun` at the same commit."""

    def run(self, sha: str, tests: Sequence[str] = (), keep: bool = False) -> Probe: ...

    def rerun(self, sha: str, tests: Sequence[str] = ()) -> Probe: ...


@dataclass
class Attribution:
    """The verdict and its evidence (stored with the decision and shown in the revert PR)."""

    blamed: bool
    reason: str
    merge_sha: str
    red_sha: str
    green_sha: str | None = None
    failing_tests: tuple[str, ...] = ()
    #: The failing tests the check's JUnit report named (a hint for the first probe).
    named: tuple[str, ...] = ()
    culprit: str | None = None
    probes: list[dict[str, Any]] = field(default_factory=list)
    bisection: list[dict[str, Any]] = field(default_factory=list)
    reruns: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def test_runs(self) -> int:
        """How many times tests ran for this decision (probes, bisection steps, reruns)."""
        searched = [p for p in self.bisection if "known" not in p]
        return len(self.probes) + len(searched) + len(self.reruns)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for `RollbackDecision.evidence`."""
        return {
            "blamed": self.blamed,
            "reason": self.reason,
            "merge_sha": self.merge_sha,
            "red_sha": self.red_sha,
            "green_sha": self.green_sha,
            "failing_tests": list(self.failing_tests),
            "named_by_check": list(self.named),
            "culprit": self.culprit,
            "probes": self.probes,
            "bisection": self.bisection,
            "reruns": self.reruns,
            "test_runs": self.test_runs,
            "seconds": round(self.seconds, 2),
        }


def attribute(
    runner: Runner, checkout: Path, merge_sha: str, red_sha: str, named: Sequence[str] = ()
) -> Attribution:
    """Decide whether merge `merge_sha` broke the tests that are red at `red_sha`.

    `named`: the failing tests the check named, when it named any; otherwise every test runs
    at the red commit and the ones that fail there are the failing tests."""
    started = time.monotonic()
    found = Attribution(False, "", merge_sha, red_sha)
    try:
        _decide(found, runner, checkout, named)
    finally:
        found.seconds = time.monotonic() - started
    return found


def _decide(found: Attribution, runner: Runner, checkout: Path, named: Sequence[str]) -> None:
    merge, red = found.merge_sha, found.red_sha
    base = history.first_parent(checkout, merge)
    if base is None:
        found.reason = f"the merge {merge[:12]} has no parent to compare with"
        return
    found.green_sha = base
    found.named = tuple(named)
    at_red = _probe(
        found, runner, red, named, "red commit (the tests CI named)" if named else "red commit"
    )
    if named and not at_red.bad:  # a hint only: the names may not be node ids FixWurx can run
        at_red = _probe(found, runner, red, (), "red commit")
    if not at_red.bad:
        found.reason = (
            f"the failure does not reproduce at {red[:12]}: the tests pass when FixWurx runs "
            "them (a flaky test, or not a test failure)"
        )
        return
    found.failing_tests = at_red.failed
    at_base = _probe(found, runner, base, at_red.failed, "fix's base")
    if at_base.bad:
        found.reason = (
            f"already red before the merge: {_names(at_base.failed)} fail at the fix's base "
            f"{base[:12]} too"
        )
        return
    culprit = _culprit(found, runner, checkout, base, merge, red, at_red)
    found.culprit = culprit
    if culprit != merge:
        found.reason = (
            f"bisection blames {culprit[:12]}, a commit after the merge: the tests pass at "
            "the merge"
        )
        return
    _rule_out_flake(found, runner, merge, base)


def _culprit(
    found: Attribution,
    runner: Runner,
    checkout: Path,
    base: str,
    merge: str,
    red: str,
    at_red: Probe,
) -> str:
    """The first bad first-parent commit after `base`: the merge is probed first (it is
    the red commit itself, or the tests fail there); when they pass at the merge, bisection
    over the commits after it finds the one that broke them."""
    at_merge = at_red if merge == red else _probe(found, runner, merge, at_red.failed, "merge")
    if at_merge.bad:
        return merge
    after = history.chain(checkout, merge, red)
    bisection = first_bad(after, lambda sha: runner.run(sha, at_red.failed))
    found.bisection = [
        {"sha": merge, "bad": False, "known": "green at the merge"},
        *({**p.to_json(), "bad": p.bad} for p in bisection.probes),
        {"sha": red, "bad": True, "known": "red where the check failed"},
    ]
    return bisection.culprit


def _rule_out_flake(found: Attribution, runner: Runner, merge: str, base: str) -> None:
    tests = found.failing_tests
    again = runner.rerun(merge, tests)
    parent = runner.run(base, tests)
    found.reruns = [
        {**again.to_json(), "role": "merge (rerun)"},
        {**parent.to_json(), "role": "fix's base (rerun)"},
    ]
    if not again.bad:
        found.reason = f"flaky: {_names(tests)} passed on a rerun at the merge {merge[:12]}"
    elif parent.bad:
        found.reason = f"flaky: {_names(parent.failed)} failed on a rerun at the base {base[:12]}"
    else:
        found.blamed = True
        found.reason = (
            f"{_names(tests)} pass at the fix's base {base[:12]}, fail at the merge "
            f"{merge[:12]}, and did so again on a rerun of each"
        )


def _probe(found: Attribution, runner: Runner, sha: str, tests: Sequence[str], role: str) -> Probe:
    # A probe at the merge (the red commit may be the merge) keeps its work copy: the flake
    # rule reruns there.
    result = runner.run(sha, tests, keep=sha == found.merge_sha)
    found.probes.append({**result.to_json(), "role": role})
    return result


def _names(tests: Sequence[str]) -> str:
    shown = ", ".join(f"`{t}`" for t in tests[:5])
    return shown + (f" and {len(tests) - 5} more" if len(tests) > 5 else "")
