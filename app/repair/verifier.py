"""The verifier: a candidate is plausible when the canary and the smoke check both pass.

- canary: every reproducing test now passes (run first, stopping at the first failure);
- smoke: no test that passed at baseline fails.

A candidate that fails the canary but turns some of the reproducing tests green is counted:
when the whole suite then shows K of N target tests passing and nothing that passed at baseline
failing, it is *partial* (`Verification.partial`): not plausible, never proposed, but reported
as the closest the run came (issue 25). The count costs one full run, paid only when the canary
saw at least one target test pass, so most rejections stay as cheap as before.

Each check runs in a fresh copy of the pristine tree, so `Verifier.check` is safe to call from
several threads at once: that is how the search validates candidates in parallel.

The canary runs in a warm test process when it can (app/testing/warm.py): most candidates fail
it, and a warm run costs the failing test rather than an interpreter's start-up and imports.
Its failure rejects the candidate; a candidate that passes it is judged by the smoke check, an
ordinary full run in a fresh sandbox. Anything unusual about a warm run (the process could not
start, died or hung) falls back to the ordinary canary. `close()` (or `with`) ends the warm
processes.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from types import TracebackType

from app import defaults, workfiles
from app.repair.candidates import Candidate
from app.testing.results import TestOutcome, TestRun
from app.testing.testcmd import TestCommand
from app.testing.testrun import limit_from_durations, run_tests
from app.testing.warm import WarmSlot, pool_for

#: The canary's extra pytest options. A rejected candidate's failure report is all the canary
#: pays for once the test has run, and pytest's default report re-parses the whole source file
#: of every frame to show statement ranges: seconds per rejection when the fault sits in a
#: 5,000-line module. The standard library's traceback is what the verdict and the feedback
#: need (the JUnit message, the exception and its lines), at a fraction of the cost.
CANARY_ENV = {"PYTEST_ADDOPTS": "--tb=native"}
#: Not copied into a candidate's work copy: history and caches play no part in a test run.
COPY_IGNORE_NAMES = frozenset({".git", "__pycache__", ".pytest_cache", ".fixwurx"})
COPY_IGNORE_SUFFIXES = (".pyc",)
#: At most this many partial counts (a full run each) per verifier: when many candidates each
#: pass the first target test, counting them all would eat the search's time budget.
PARTIAL_COUNTS = 12


@dataclass(frozen=True)
class Baseline:
    """What the tree looked like before any patch: the reference for every check."""

    root: Path
    command: TestCommand
    run: TestRun
    reproducing: tuple[str, ...]
    flaky: tuple[str, ...] = ()

    def per_test_timeout(self) -> float:
        """Per-test limit for candidates: a few times the slowest test that finished at baseline."""
        return limit_from_durations((o.duration for o in self.run.outcomes if not o.hung), 2.0)

    def timeout_for(self, test_ids: tuple[str, ...] | None = None) -> float:
        """A kill limit calibrated to the baseline: a patch that hangs costs little.

        Running a few tests still pays for pytest's start-up and for collecting their modules,
        which is most of the time when they sit among hundreds: the baseline's wall time less
        its tests' own durations is that overhead (an upper bound, since the whole suite was
        collected), and it counts here like the tests. Without it a loaded machine times out
        the canary of a 500-test module before the target test starts, which rejects the right
        patch and makes every rejection cost the whole limit.
        """
        outcomes = self.run.outcomes
        if test_ids is None:
            spent = self.run.duration
        else:
            wanted = set(test_ids)
            spent = sum(o.duration for o in outcomes if o.test_id in wanted) + self.overhead()
        return defaults.CANDIDATE_TIMEOUT_FACTOR * spent + defaults.CANDIDATE_TIMEOUT_SLACK_S

    def overhead(self) -> float:
        """Seconds of the baseline run that no test accounts for: start-up and collection."""
        tests = sum(o.duration for o in self.run.outcomes)
        return max(0.0, self.run.duration - tests)


@dataclass(frozen=True)
class Verification:
    """The verdict on one candidate, with the evidence behind it."""

    plausible: bool
    reason: str
    after: tuple[TestOutcome, ...] = ()
    regressions: tuple[str, ...] = ()
    tests_run: int = 0
    duration: float = 0.0
    output: str = field(default="", repr=False)
    #: Some but not all reproducing tests pass, and nothing that passed at baseline fails.
    partial: bool = False
    #: Seconds per phase of the check (see `PHASES`): where a rejection's time went.
    phases: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    @property
    def green(self) -> tuple[str, ...]:
        """The reproducing tests this candidate turns green."""
        return tuple(o.test_id for o in self.after if o.outcome == "passed")

    @property
    def still_failing(self) -> tuple[str, ...]:
        """The reproducing tests that still fail with this candidate."""
        return tuple(o.test_id for o in self.after if o.outcome != "passed")


#: The phases a check's seconds are split into: compile-check, copy the tree and apply the
#: edit, start a (warm) sandbox session, pytest's start-up and collection, the failing tests
#: themselves, then the rest of the suite (the smoke run).
PHASES = ("compile", "apply", "sandbox_start", "collection", "failing_tests", "rest_of_suite")


class _Clock:
    """Laps of one check, summed per phase: the benchmark's breakdown of a rejection."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, phase: str) -> float:
        """Charge the seconds since the last lap to `phase`; returns them."""
        now = time.monotonic()
        spent, self._last = now - self._last, now
        self.add(phase, spent)
        return spent

    def skip(self, seconds: float) -> None:
        """Leave `seconds` out of the next lap (they were charged to a phase already)."""
        self._last += seconds

    def add(self, phase: str, seconds: float) -> None:
        self.phases[phase] = round(self.phases.get(phase, 0.0) + max(0.0, seconds), 4)

    def split_run(self, run: TestRun, tests_phase: str, startup_phase: str) -> None:
        """Charge a finished test run: its tests' own durations to `tests_phase`, the rest of
        its wall time (interpreter, imports, collection, reports) to `startup_phase`."""
        spent = self.lap(startup_phase)
        tests = min(spent, sum(o.duration for o in run.outcomes))
        self.phases[startup_phase] = round(self.phases[startup_phase] - tests, 4)
        self.add(tests_phase, tests)


class Verifier:
    """Checks candidates against a `Baseline`."""

    def __init__(self, baseline: Baseline, *, warm: bool = True) -> None:
        self.baseline = baseline
        self._counts_left = PARTIAL_COUNTS
        self._counts_lock = threading.Lock()
        self._warm = (
            pool_for(baseline.command, baseline.root) if warm and baseline.reproducing else None
        )

    def __enter__(self) -> Verifier:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """End the warm test processes, if any were started."""
        if self._warm is not None:
            self._warm.close()

    def check(self, candidate: Candidate) -> Verification:
        """Compile-check, then canary, then smoke; the first failure decides.

        A warm slot runs the canary when there is one; if its session fails in any way the slot
        is thrown away (app/testing/warm.py) and the candidate is judged again, cold, in a fresh
        copy: never in the copy the failed run had in reach.
        """
        started = time.monotonic()
        clock = _Clock()
        broken = _compile_errors(candidate)
        clock.lap("compile")
        if broken:
            return _with_duration(
                Verification(False, f"does not compile: {broken}"), 0.0, clock.phases
            )
        verdict: Verification | None = None
        if self._warm is not None and self._warm.usable:
            with self._warm.slot() as slot:
                verdict = self._fill(slot.root, candidate)
                clock.lap("apply")
                if verdict is None and (run := self._warm_canary(slot, clock)) is not None:
                    verdict = self._after_canary(slot.root, self._judge_canary(run), clock)
        if verdict is None:
            with tempfile.TemporaryDirectory(prefix="fixwurx-candidate-") as tmp:
                root = Path(os.path.realpath(tmp)) / "repo"
                verdict = self._fill(root, candidate) or self._after_canary(
                    root, self._canary(root, clock), clock
                )
        return _with_duration(verdict, time.monotonic() - started, clock.phases)

    def _fill(self, root: Path, candidate: Candidate) -> Verification | None:
        """Copy the pristine tree into `root` (no link out) and apply the candidate; a refusal
        when an edit would go through a link."""
        workfiles.copy_tree(self.baseline.root, root, ignore=_copy_ignored)
        try:
            candidate.apply_to(root)
        except workfiles.UnsafeWorkPath as exc:  # an edit through a link: never applied
            return Verification(False, str(exc))
        return None

    def _warm_canary(self, slot: WarmSlot, clock: _Clock) -> TestRun | None:
        ids = self.baseline.reproducing
        run = slot.run_tests(
            ids,
            timeout=self.baseline.timeout_for(ids),
            stop_first=True,
            per_test_timeout=self.baseline.per_test_timeout(),
            env=CANARY_ENV,
        )
        clock.add("sandbox_start", slot.start_seconds)
        clock.skip(slot.start_seconds)  # charged to sandbox_start, not to collection
        if run is not None:
            clock.split_run(run, "failing_tests", "collection")
        else:
            clock.lap("collection")
        return run

    def _canary(self, root: Path, clock: _Clock) -> Verification | None:
        clock.lap("apply")
        ids = self.baseline.reproducing
        run = run_tests(
            root,
            self.baseline.command,
            timeout=self.baseline.timeout_for(ids),
            test_ids=ids,
            env=CANARY_ENV,
            stop_first=True,
            per_test_timeout=self.baseline.per_test_timeout(),
        )
        clock.split_run(run, "failing_tests", "collection")
        return self._judge_canary(run)

    def _judge_canary(self, run: TestRun) -> Verification | None:
        ids = self.baseline.reproducing
        by_id = run.by_id()
        after = tuple(by_id.get(t) or TestOutcome(t, "failed", 0.0, "did not run") for t in ids)
        still_failing = [o for o in after if o.outcome != "passed"]
        if run.timed_out or still_failing:
            first = still_failing[0] if still_failing else after[0]
            why = (
                "the failing tests did not finish in time"
                if run.timed_out
                else f"{first.test_id} still fails: {first.message}"
            )
            return Verification(
                False, f"{why} (canary check)", after, (), len(run.outcomes), 0.0, run.output
            )
        return None

    def _after_canary(
        self, root: Path, rejected: Verification | None, clock: _Clock
    ) -> Verification:
        """The smoke check after a passed canary; after a failed one, the partial count when
        the canary saw a target test pass (`worth_counting`), else the canary's rejection."""
        if rejected is None:
            return self._smoke(root, clock)
        if not worth_counting(rejected) or not self._take_count():
            return rejected
        return classify_partial(rejected, self._smoke(root, clock))

    def _take_count(self) -> bool:
        """One of the verifier's `PARTIAL_COUNTS` full runs for a partial count, if any is left
        (checks run on several threads)."""
        with self._counts_lock:
            if self._counts_left <= 0:
                return False
            self._counts_left -= 1
            return True

    def _smoke(self, root: Path, clock: _Clock) -> Verification:
        clock.lap("apply")
        run = run_tests(
            root,
            self.baseline.command,
            timeout=self.baseline.timeout_for(),
            per_test_timeout=self.baseline.per_test_timeout(),
        )
        clock.lap("rest_of_suite")
        now = run.by_id()
        before_passing = self.baseline.run.passing_ids - set(self.baseline.flaky)
        regressions = tuple(
            sorted(t for t in before_passing if t in now and now[t].outcome != "passed")
        )
        missing = tuple(sorted(t for t in before_passing if t not in now))
        after = tuple(
            now.get(t) or TestOutcome(t, "failed", 0.0, "did not run")
            for t in self.baseline.reproducing
        )
        if run.timed_out:
            return Verification(
                False,
                "the whole suite did not finish in time (smoke check)",
                after,
                regressions,
                len(now),
                0.0,
                run.output,
            )
        if regressions or missing:
            names = ", ".join((regressions + missing)[:3])
            return Verification(
                False,
                f"breaks tests that passed before: {names} (smoke check)",
                after,
                regressions + missing,
                len(now),
                0.0,
                run.output,
            )
        if any(o.outcome != "passed" for o in after):
            return Verification(
                False,
                "a failing test passes alone but fails in the whole suite (smoke check)",
                after,
                (),
                len(now),
                0.0,
                run.output,
            )
        return Verification(True, f"plausible ({len(now)} tests)", after, (), len(now), 0.0, "")


def worth_counting(rejected: Verification) -> bool:
    """Whether a canary rejection may hide a partial fix: the canary finished and at least one
    reproducing test passed before it stopped. The cheap gate before a full count."""
    return not rejected.reason.startswith("the failing tests did not finish") and bool(
        rejected.green
    )


def classify_partial(rejected: Verification, full: Verification) -> Verification:
    """The verdict on a candidate the canary rejected, given its full-suite run `full`.

    Partial when the whole suite shows some but not all reproducing tests passing and breaks
    nothing that passed at baseline. A full run that regresses, times out or turns nothing
    green keeps its own rejection; one that passes everything is still not plausible (the
    canary saw a target fail: an order-dependent pass is no evidence), and keeps the canary's.
    """
    green, total = len(full.green), len(full.after)
    regressed = bool(full.regressions) or "did not finish" in full.reason
    if full.plausible or not full.after:
        return rejected
    if regressed or not 0 < green < total:
        return full
    still = ", ".join(full.still_failing[:3])
    return replace(
        full,
        reason=f"partial: turns {green} of {total} failing tests green; still failing: {still}",
        partial=True,
    )


def _compile_errors(candidate: Candidate) -> str:
    for edit in candidate.edits:
        if not edit.path.endswith(".py"):
            continue
        try:
            compile(edit.after, edit.path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            return f"{edit.path}:{exc.lineno}: {exc.msg}"
    return ""


def _copy_ignored(rel: PurePosixPath) -> bool:
    return rel.name in COPY_IGNORE_NAMES or rel.name.endswith(COPY_IGNORE_SUFFIXES)


def _with_duration(verdict: Verification, seconds: float, phases: dict[str, float]) -> Verification:
    return replace(
        verdict, duration=round(seconds, 3), phases={k: v for k, v in phases.items() if v > 0}
    )
