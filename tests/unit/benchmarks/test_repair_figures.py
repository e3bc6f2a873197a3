"""The repair benchmark reads the verifier's own words: a rejection by a test run counts, a
compile error does not (the reasons changed wording once and the figure went silently empty)."""

from __future__ import annotations

from benchmarks.run_repair import rejected_seconds


def test_only_candidates_a_test_run_rejected_count() -> None:
    candidates = [
        {
            "plausible": False,
            "reason": "tests/t.py::test_a still fails: x (canary check)",
            "seconds": 2.0,
        },
        {
            "plausible": False,
            "reason": "breaks tests that passed before: t (smoke check)",
            "seconds": 3.0,
        },
        {"plausible": False, "reason": "m.py:3: invalid syntax", "seconds": 0.01},
        {"plausible": True, "reason": "plausible (9 tests)", "seconds": 1.0},
    ]
    assert rejected_seconds(candidates) == [2.0, 3.0]
