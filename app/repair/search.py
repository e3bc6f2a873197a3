"""Search: try candidates in rank order under a budget and pick a plausible one.

PLACEHOLDER (sequential, first plausible wins) until the parallel search lands.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from app import defaults
from app.agents.candidates import Candidate
from app.agents.stages.verify import Verification


@dataclass(frozen=True)
class SearchBudget:
    """How much the search may spend."""

    max_candidates: int = defaults.MAX_CANDIDATES
    seconds: float = defaults.SEARCH_BUDGET_S
    plausible_wanted: int = defaults.PLAUSIBLE_PATCHES
    workers: int = 2


@dataclass(frozen=True)
class Attempted:
    """One candidate and its verdict."""

    candidate: Candidate
    verification: Verification


@dataclass
class SearchResult:
    """What the search found; `chosen` is the pick among `plausible`."""

    chosen: Attempted | None = None
    plausible: list[Attempted] = field(default_factory=list)
    attempted: list[Attempted] = field(default_factory=list)
    elapsed: float = 0.0
    stopped_by: str = "exhausted"

    @property
    def tried(self) -> int:
        """How many candidates were verified."""
        return len(self.attempted)


ProgressCallback = Callable[[Attempted, int], None]


def search(
    candidates: Iterable[Candidate],
    check: Callable[[Candidate], Verification],
    budget: SearchBudget,
    on_progress: ProgressCallback | None = None,
) -> SearchResult:
    """Verify candidates in order until the budget runs out or enough are plausible."""
    result = SearchResult()
    started = time.monotonic()
    seen: set[str] = set()
    for candidate in candidates:
        if candidate.key in seen:
            continue
        seen.add(candidate.key)
        if result.tried >= budget.max_candidates:
            result.stopped_by = "candidate budget"
            break
        if time.monotonic() - started > budget.seconds:
            result.stopped_by = "time budget"
            break
        attempt = Attempted(candidate, check(candidate))
        result.attempted.append(attempt)
        if on_progress:
            on_progress(attempt, result.tried)
        if attempt.verification.plausible:
            result.plausible.append(attempt)
            if len(result.plausible) >= budget.plausible_wanted:
                result.stopped_by = "enough plausible patches"
                break
    result.chosen = min(result.plausible, key=lambda a: a.candidate.changed_lines, default=None)
    result.elapsed = time.monotonic() - started
    return result
