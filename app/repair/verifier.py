"""The verifier: a candidate is plausible when the canary and the smoke check both pass.

- canary: every reproducing test now passes (run first, stopping at the first failure);
- smoke: no test that passed at baseline fails.

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

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from app import defaults, workfiles
from app.repair.candidates import Candidate
from app.testing.results import TestOutcome, TestRun
from app.testing.testcmd import TestCommand
from app.testing.testrun import limit_from_durations, run_tests
from app.testing.warm import WarmSlot, pool_for

#: Not copied into a candidate's work copy: history and caches play no part in a test run.
COPY_IGNORE = shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", ".fixwurx", "*.pyc")


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
        """A kill limit calibrated to the baseline: a patch that hangs costs little."""
        outcomes = self.run.outcomes
        if test_ids is not None:
            wanted = set(test_ids)
            outcomes = tuple(o for o in outcomes if o.test_id in wanted)
        spent = sum(o.duration for o in outcomes) if test_ids is not None else self.run.duration
        return defaults.CANDIDATE_TIMEOUT_FACTOR * spent + defaults.CANDIDATE_TIMEOUT_SLACK_S


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


class Verifier:
    """Checks candidates against a `Baseline`."""

    def __init__(self, baseline: Baseline, *, warm: bool = True) -> None:
        self.baseline = baseline
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
        """Compile-check, then canary, then smoke; the first failure decides."""
        started = time.monotonic()
        broken = _compile_errors(candidate)
        if broken:
            return Verification(False, f"does not compile: {broken}")
        with self._work_copy() as (root, slot):
            shutil.copytree(self.baseline.root, root, ignore=COPY_IGNORE, symlinks=True)
            workfiles.drop_links_out(root)  # e.g. planted by a test during the baseline run
            try:
                candidate.apply_to(root)
            except workfiles.UnsafeWorkPath as exc:  # an edit through a link: never applied
                return _with_duration(Verification(False, str(exc)), time.monotonic() - started)
            verdict = self._canary(root, slot) or self._smoke(root)
        return _with_duration(verdict, time.monotonic() - started)

    @contextlib.contextmanager
    def _work_copy(self) -> Iterator[tuple[Path, WarmSlot | None]]:
        """Where the candidate's copy goes: a warm slot's fixed path, or a new temporary one."""
        if self._warm is None:
            with tempfile.TemporaryDirectory(prefix="fixwurx-candidate-") as tmp:
                yield Path(tmp) / "repo", None
            return
        with self._warm.slot() as slot:
            shutil.rmtree(slot.root, ignore_errors=True)  # the previous candidate's copy
            try:
                yield slot.root, slot
            finally:
                shutil.rmtree(slot.root, ignore_errors=True)

    def _canary(self, root: Path, slot: WarmSlot | None = None) -> Verification | None:
        ids = self.baseline.reproducing
        timeout = self.baseline.timeout_for(ids)
        per_test = self.baseline.per_test_timeout()
        run = None
        if slot is not None:
            run = slot.run_tests(ids, timeout=timeout, stop_first=True, per_test_timeout=per_test)
        if run is None:
            run = run_tests(
                root,
                self.baseline.command,
                timeout=timeout,
                test_ids=ids,
                stop_first=True,
                per_test_timeout=per_test,
            )
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

    def _smoke(self, root: Path) -> Verification:
        run = run_tests(
            root,
            self.baseline.command,
            timeout=self.baseline.timeout_for(),
            per_test_timeout=self.baseline.per_test_timeout(),
        )
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


def _compile_errors(candidate: Candidate) -> str:
    for edit in candidate.edits:
        if not edit.path.endswith(".py"):
            continue
        try:
            compile(edit.after, edit.path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            return f"{edit.path}:{exc.lineno}: {exc.msg}"
    return ""


def _with_duration(verdict: Verification, seconds: float) -> Verification:
    return Verification(
        verdict.plausible,
        verdict.reason,
        verdict.after,
        verdict.regressions,
        verdict.tests_run,
        round(seconds, 3),
        verdict.output,
    )
