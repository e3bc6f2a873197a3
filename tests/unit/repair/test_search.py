"""The search: rank order, parallel checks, budgets, lingering, and the pick."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from app.repair import search as search_module
from app.repair.candidates import Candidate, FileEdit
from app.repair.search import SearchBudget, edit_cost, is_deletion, pick, search
from app.repair.verifier import Verification

BEFORE = "a = 1\nb = 2\nc = 3\n"


def candidate(after: str, score: float = 1.0, **metadata: object) -> Candidate:
    return Candidate(
        (FileEdit("m.py", BEFORE, after),), "template:test", after[:20], score, metadata=metadata
    )


class FakeVerifier:
    """Plausible when the edited text contains a marker; optionally slow; counts overlap."""

    def __init__(self, marker: str = "FIX", delay: float = 0.0) -> None:
        self.marker = marker
        self.delay = delay
        self.running = 0
        self.most_at_once = 0
        self.checked: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, cand: Candidate) -> Verification:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.checked.append(cand.edits[0].after)
        time.sleep(self.delay)
        with self._lock:
            self.running -= 1
        ok = self.marker in cand.edits[0].after
        return Verification(ok, "plausible (3 tests)" if ok else "canary: still fails")


def numbered(count: int, plausible_at: tuple[int, ...] = ()) -> list[Candidate]:
    texts = [
        f"a = {i + 10}{'; FIX = 1' if i in plausible_at else ''}\nb = 2\nc = 3\n"
        for i in range(count)
    ]
    return [candidate(t, 1.0 - i / 1000) for i, t in enumerate(texts)]


def test_checks_run_in_parallel_in_rank_order() -> None:
    check = FakeVerifier(delay=0.05)
    result = search(numbered(6), check, SearchBudget(workers=2))
    assert check.most_at_once == 2
    assert result.tried == 6 and result.chosen is None
    assert result.stopped_by == "no more candidates"
    assert check.checked[:2] == [c.edits[0].after for c in numbered(2)]


def test_stops_when_enough_plausible_patches_are_found() -> None:
    result = search(
        numbered(50, (3, 4, 5, 6)), FakeVerifier(), SearchBudget(workers=1, plausible_wanted=2)
    )
    assert len(result.plausible) == 2
    assert result.stopped_by == "enough plausible patches"
    assert result.tried == 5
    assert result.summary.startswith("plausible (3 tests)")
    assert "correct" not in result.summary


def test_candidate_and_time_budgets() -> None:
    by_count = search(numbered(50), FakeVerifier(), SearchBudget(max_candidates=7, workers=1))
    assert by_count.tried == 7 and by_count.stopped_by == "candidate budget"
    by_time = search(numbered(50), FakeVerifier(delay=0.05), SearchBudget(seconds=0.2, workers=1))
    assert 2 <= by_time.tried < 10 and by_time.stopped_by == "time budget"


def test_lingers_a_bounded_while_after_the_first_plausible_patch() -> None:
    budget = SearchBudget(workers=1, plausible_wanted=5, linger_candidates=3)
    result = search(numbered(50, (2,)), FakeVerifier(), budget)
    assert result.tried == 6  # 3 up to and including the first plausible one, then 3 more
    assert result.first_plausible_after is not None
    assert "lingered" in result.stopped_by


def test_duplicates_are_verified_once() -> None:
    same = numbered(3)
    check = FakeVerifier()
    result = search([*same, *same], check, SearchBudget(workers=1))
    assert result.tried == 3


def test_a_crashing_check_rejects_the_candidate_and_the_search_goes_on() -> None:
    def flaky(cand: Candidate) -> Verification:
        if "a = 10" in cand.edits[0].after:
            raise RuntimeError("sandbox fell over")
        return FakeVerifier()(cand)

    result = search(numbered(3, (1,)), flaky, SearchBudget(workers=1, linger_candidates=0))
    assert (
        "check failed: RuntimeError: sandbox fell over" in result.attempted[0].verification.reason
    )
    assert result.chosen is not None


def test_progress_is_reported_for_every_attempt() -> None:
    seen: list[int] = []
    on_progress: Callable[..., None] = lambda attempt, tried: seen.append(tried)  # noqa: E731
    search(numbered(4), FakeVerifier(), SearchBudget(workers=2), on_progress)
    assert seen == [1, 2, 3, 4]


def test_pick_prefers_the_smaller_edit_and_penalizes_deletions() -> None:
    one_line = candidate("a = 1; FIX = 1\nb = 2\nc = 3\n", score=0.2)
    deletion = candidate("a = 1\nc = 3\n", score=0.9)
    two_lines = candidate("a = 5\nb = 6\nc = 3\n", score=0.9)
    assert is_deletion(deletion) and not is_deletion(one_line)
    assert edit_cost(deletion) > edit_cost(one_line)
    result = search(
        [deletion, two_lines, one_line], lambda c: Verification(True, "ok"), SearchBudget(workers=1)
    )
    assert result.chosen is not None and result.chosen.candidate is one_line
    assert pick([]) is None


def test_ties_go_to_the_better_ranked_candidate() -> None:
    first = candidate("a = 7\nb = 2\nc = 3\n", score=0.9)
    second = candidate("a = 8\nb = 2\nc = 3\n", score=0.5)
    result = search([second, first], lambda c: Verification(True, "ok"), SearchBudget(workers=1))
    assert result.chosen is not None and result.chosen.candidate is first


def test_a_marked_deletion_counts_even_when_it_adds_a_pass() -> None:
    marked = candidate("a = 1\npass\nc = 3\n", deletion=True)
    assert is_deletion(marked)


def test_lingers_longer_while_the_only_plausible_patch_is_penalized() -> None:
    deletion = candidate("a = 1\nc = 3\n")  # plausible, but deletes a line
    fillers = numbered(5)
    clean = candidate("a = 1; FIX = 1\nb = 2\nc = 3\n")
    stream = [deletion, *fillers, clean]
    check = lambda c: Verification("FIX" in c.edits[0].after or c is deletion, "ok")  # noqa: E731
    budget = SearchBudget(workers=1, plausible_wanted=5, linger_candidates=3)
    result = search(stream, check, budget)
    assert result.chosen is not None and result.chosen.candidate is clean


def test_each_plausible_patch_is_priced_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pricing parses the edit; lingering must not redo it for every later submission."""
    priced: list[Candidate] = []
    real = search_module.orphans

    def counting(cand: Candidate) -> set[tuple[str, str]]:
        priced.append(cand)
        return real(cand)

    monkeypatch.setattr(search_module, "orphans", counting)
    deletion = candidate("a = 1\nc = 3\n")
    stream = [deletion, *numbered(8)]
    check = lambda c: Verification(c is deletion, "ok")  # noqa: E731
    result = search(stream, check, SearchBudget(workers=1, linger_candidates=6))
    assert result.tried == 9 and result.chosen is not None
    assert priced == [deletion]


class SourceOutage(Exception):
    """Stands in for a model source's budget or provider error."""


def stream_then(error: Exception, drawn: list[Candidate]) -> Iterator[Candidate]:
    yield from drawn
    raise error


def test_a_stop_error_from_the_stream_ends_it_but_what_was_drawn_is_verified() -> None:
    check = FakeVerifier()
    drawn = numbered(3, plausible_at=(2,))
    result = search(
        stream_then(SourceOutage("budget gone"), drawn),
        check,
        SearchBudget(),
        stops=(SourceOutage,),
    )
    assert result.tried == 3 and result.chosen is not None
    assert isinstance(result.source_error, SourceOutage)
    assert result.stopped_by == "SourceOutage: budget gone"


def test_a_stop_error_before_any_candidate_is_reported_not_raised() -> None:
    result = search(
        stream_then(SourceOutage("down"), []), FakeVerifier(), SearchBudget(), stops=(SourceOutage,)
    )
    assert result.tried == 0 and result.chosen is None
    assert str(result.source_error) == "down"


def test_other_errors_from_the_stream_propagate() -> None:
    with pytest.raises(RuntimeError, match="bug"):
        search(
            stream_then(RuntimeError("bug"), numbered(1)),
            FakeVerifier(),
            SearchBudget(),
            stops=(SourceOutage,),
        )
