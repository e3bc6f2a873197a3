"""Search: verify candidates in rank order, in parallel, under a budget; pick a plausible one.

Checks run in sandboxed subprocesses, so threads are enough to keep every core busy. After the
first plausible patch the search lingers a little (a few more candidates or seconds) to collect
alternatives: a visible test often admits an overfitting patch, and a later, smaller and more
local edit is the better pick. Deletions are penalized because deleting code is the easiest
way to silence a test for the wrong reason; inverting a condition is the next easiest.

A pick is reported as "plausible (N tests)": the tests pass, which is not proof of correctness.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from app import defaults
from app.repair.candidates import UNCHANGED, Candidate, equivalence
from app.repair.patch_quality import orphans
from app.repair.verifier import Verification

#: A deletion counts as this many extra changed lines when picking among plausible patches.
DELETION_PENALTY = 3
#: An edit that leaves a computed local unused bypasses code rather than fixing it.
ORPHAN_PENALTY = 3
#: An edit that inverts or drops a condition counts as this many extra changed lines.
INVERSION_PENALTY = 1
#: Each file beyond the first counts as this many extra changed lines: prefer local edits.
EXTRA_FILE_PENALTY = 2
#: After the first plausible patch, verify at most this many more candidates...
LINGER_CANDIDATES = 16
#: ...for at most this many more seconds, looking for a stricter pick.
LINGER_S = 10.0
#: Both limits are multiplied by this while the best plausible patch is a penalized one.
LINGER_STRETCH = 2


@dataclass(frozen=True)
class SearchBudget:
    """How much the search may spend."""

    max_candidates: int = defaults.MAX_CANDIDATES
    seconds: float = defaults.SEARCH_BUDGET_S
    plausible_wanted: int = defaults.PLAUSIBLE_PATCHES
    workers: int = 2
    linger_candidates: int = LINGER_CANDIDATES
    linger_seconds: float = LINGER_S


@dataclass(frozen=True)
class Attempted:
    """One candidate and its verdict."""

    candidate: Candidate
    verification: Verification
    rank: int = 0
    finished_at: float = 0.0


@dataclass
class SearchResult:
    """What the search found; `chosen` is the pick among `plausible`."""

    chosen: Attempted | None = None
    plausible: list[Attempted] = field(default_factory=list)
    attempted: list[Attempted] = field(default_factory=list)
    elapsed: float = 0.0
    stopped_by: str = "exhausted"
    first_plausible_after: float | None = None
    #: The error that ended the candidate stream early (one of `search`'s `stops`), if any.
    source_error: Exception | None = None

    @property
    def tried(self) -> int:
        """How many candidates were verified."""
        return len(self.attempted)

    @property
    def summary(self) -> str:
        """One line for reports: never "correct", only what the tests say."""
        if self.chosen is None:
            return f"no plausible patch ({self.tried} candidates tried, {self.stopped_by})"
        return f"{self.chosen.verification.reason}: {self.chosen.candidate.description}"


ProgressCallback = Callable[[Attempted, int], None]
Check = Callable[[Candidate], Verification]


def search(
    candidates: Iterable[Candidate],
    check: Check,
    budget: SearchBudget,
    on_progress: ProgressCallback | None = None,
    stops: tuple[type[Exception], ...] = (),
) -> SearchResult:
    """Verify candidates in rank order on `budget.workers` threads; pick among the plausible.

    An error of a type in `stops` raised by the candidate stream (a model source whose budget
    or providers ran out mid-round) ends the stream, not the search: the candidates already
    drawn are still verified, and the error is kept in `source_error` for the caller.
    """
    run = _Run(budget, check, on_progress, stops)
    with ThreadPoolExecutor(max_workers=max(1, budget.workers)) as pool:
        run.drive(pool, _unique(candidates))
    run.result.chosen = run.best
    run.result.elapsed = time.monotonic() - run.started
    return run.result


def pick(plausible: list[Attempted]) -> Attempted | None:
    """The smaller, more local edit wins; deletions pay a penalty; then rank decides."""
    return min(plausible, key=_pick_key, default=None)


def _pick_key(attempt: Attempted) -> tuple[float, float, int]:
    candidate = attempt.candidate
    return (edit_cost(candidate), -candidate.score, attempt.rank)


def edit_cost(candidate: Candidate) -> int:
    """Changed lines, plus penalties for deletions and for touching several files."""
    cost = candidate.changed_lines + EXTRA_FILE_PENALTY * (len(candidate.edits) - 1)
    if is_deletion(candidate):
        cost += DELETION_PENALTY
    if candidate.metadata.get("inverts"):
        cost += INVERSION_PENALTY
    if orphans(candidate):
        cost += ORPHAN_PENALTY
    return cost


def is_deletion(candidate: Candidate) -> bool:
    """Marked as a deletion by its source, or an edit that only removes lines."""
    if candidate.metadata.get("deletion"):
        return True
    diff = candidate.diff().splitlines()
    added = [line for line in diff if line.startswith("+") and not line.startswith("+++")]
    removed = [line for line in diff if line.startswith("-") and not line.startswith("---")]
    return bool(removed) and not added


def _unique(candidates: Iterable[Candidate]) -> Iterator[Candidate]:
    """Each candidate once: not again with the same text, nor with the same syntax tree (a
    difference of layout or parentheses fails the same tests, at the price of a test run),
    and never one whose tree is the original's (it cannot turn a failing test green)."""
    seen: set[str] = set()
    for candidate in candidates:
        same = _equivalence(candidate)
        if candidate.key in seen or same in seen or same == "tree:" + UNCHANGED:
            continue
        seen.update((candidate.key, same))
        yield candidate


def _equivalence(candidate: Candidate) -> str:
    try:
        return "tree:" + equivalence(candidate)
    except Exception:  # an unusual edit is compared by its text alone
        return "text:" + candidate.key


class _Run:
    """The mutable state of one search: what is in flight and when to stop."""

    def __init__(
        self,
        budget: SearchBudget,
        check: Check,
        progress: ProgressCallback | None,
        stops: tuple[type[Exception], ...],
    ):
        self.budget = budget
        self.stops = stops
        self.check = check
        self.progress = progress
        self.result = SearchResult()
        self.started = time.monotonic()
        self.submitted = 0
        self.first_at: float | None = None
        self.submitted_at_first = 0
        #: The pick among the plausible so far, kept as they arrive: `edit_cost` parses every
        #: edit, so each plausible patch is priced once here, not on every submission.
        self.best: Attempted | None = None
        self.best_key: tuple[float, float, int] | None = None
        self.best_penalized = False

    def drive(self, pool: ThreadPoolExecutor, candidates: Iterator[Candidate]) -> None:
        in_flight: dict[Future[Verification], tuple[int, Candidate]] = {}
        exhausted = False
        while True:
            while not exhausted and len(in_flight) < self.budget.workers and not self._stop():
                candidate = self._next(candidates)
                if candidate is None:
                    exhausted = True
                    break
                in_flight[pool.submit(self._safe_check, candidate)] = (self.submitted, candidate)
                self.submitted += 1
            if not in_flight:
                break
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: in_flight[f][0]):
                rank, candidate = in_flight.pop(future)
                self._record(Attempted(candidate, future.result(), rank, self._now()))
        if exhausted and self.result.stopped_by == "exhausted":
            self.result.stopped_by = "no more candidates"

    def _next(self, candidates: Iterator[Candidate]) -> Candidate | None:
        """The stream's next candidate; None when it ends or stops with one of `stops`."""
        try:
            return next(candidates, None)
        except self.stops as exc:
            self.result.source_error = exc
            self.result.stopped_by = f"{type(exc).__name__}: {exc}"
            return None

    def _safe_check(self, candidate: Candidate) -> Verification:
        try:
            return self.check(candidate)
        except Exception as exc:  # one broken check must not sink the whole search
            return Verification(False, f"check failed: {type(exc).__name__}: {exc}")

    def _record(self, attempt: Attempted) -> None:
        self.result.attempted.append(attempt)
        if attempt.verification.plausible:
            self.result.plausible.append(attempt)
            self._consider(attempt)
            if self.first_at is None:
                self.first_at = attempt.finished_at
                self.result.first_plausible_after = round(attempt.finished_at, 3)
                self.submitted_at_first = self.submitted
        if self.progress:
            self.progress(attempt, self.result.tried)

    def _consider(self, attempt: Attempted) -> None:
        """Keep `attempt` as the best if it beats the best so far: the same choice as `pick`,
        which keeps the first of equal keys, as the strict comparison does here."""
        key = _pick_key(attempt)
        if self.best_key is None or key < self.best_key:
            self.best, self.best_key = attempt, key
            self.best_penalized = key[0] > attempt.candidate.changed_lines

    def _now(self) -> float:
        return time.monotonic() - self.started

    def _stop(self) -> bool:
        """Whether to stop submitting; sets `stopped_by` the first time it says yes."""
        reason = self._stop_reason()
        if reason and self.result.stopped_by == "exhausted":
            self.result.stopped_by = reason
        return bool(reason)

    def _stop_reason(self) -> str:
        budget = self.budget
        if len(self.result.plausible) >= budget.plausible_wanted:
            return "enough plausible patches"
        if self.submitted >= budget.max_candidates:
            return "candidate budget"
        if self._now() > budget.seconds:
            return "time budget"
        if self.first_at is not None:
            stretch = self._linger_stretch()
            if self.submitted - self.submitted_at_first >= budget.linger_candidates * stretch:
                return "lingered after the first plausible patch (candidates)"
            if self._now() - self.first_at > budget.linger_seconds * stretch:
                return "lingered after the first plausible patch (seconds)"
        return ""

    def _linger_stretch(self) -> int:
        """Linger twice as long while every plausible patch so far carries a penalty
        (deletion, inversion, orphaned local): a stricter pick may be a few ranks away."""
        return LINGER_STRETCH if self.best_penalized else 1
