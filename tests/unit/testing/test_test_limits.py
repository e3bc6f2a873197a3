"""The one rule for per-test limits derived from observed test durations."""

from app import defaults
from app.testing.testrun import limit_from_durations


def test_the_limit_is_a_few_times_the_slowest_observed_test() -> None:
    limit = limit_from_durations([0.5, 4.0, 1.0], floor=2.0)
    assert limit == defaults.CANDIDATE_TIMEOUT_FACTOR * 4.0 + 1.0


def test_fast_tests_get_the_floor_and_slow_ones_the_cap() -> None:
    assert limit_from_durations([0.01], floor=2.0) == 2.0
    assert limit_from_durations([100.0], floor=2.0, cap=30.0) == 30.0


def test_without_finished_tests_one_second_is_assumed() -> None:
    assert limit_from_durations([], floor=0.0) == defaults.CANDIDATE_TIMEOUT_FACTOR * 1.0 + 1.0
