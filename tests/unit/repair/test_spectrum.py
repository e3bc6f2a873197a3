"""Ochiai scores and the mapping from coverage contexts to pytest node ids."""

import math

import pytest

from app.repair.spectrum import build_spectrum, context_matches


def test_ochiai_prefers_lines_run_only_by_failing_tests() -> None:
    lines = {
        "t_fail": [("a.py", 1), ("a.py", 2)],
        "t_pass1": [("a.py", 1)],
        "t_pass2": [("a.py", 1), ("a.py", 3)],
    }
    spectrum = build_spectrum(lines, failing={"t_fail"}, passing={"t_pass1", "t_pass2"})
    assert spectrum.ochiai(("a.py", 2)) == 1.0
    assert spectrum.ochiai(("a.py", 1)) == pytest.approx(1 / math.sqrt(3))
    assert spectrum.ochiai(("a.py", 3)) == 0.0
    assert spectrum.lines() == {("a.py", 1), ("a.py", 2)}


def test_tests_with_unknown_outcome_are_ignored() -> None:
    spectrum = build_spectrum({"t1": [("a.py", 1)], "other": [("a.py", 1)]}, {"t1"}, set())
    assert spectrum.ochiai(("a.py", 1)) == 1.0


def test_two_failing_tests_split_suspicion() -> None:
    lines = {"f1": [("a.py", 1)], "f2": [("a.py", 2)]}
    spectrum = build_spectrum(lines, {"f1", "f2"}, set())
    assert spectrum.ochiai(("a.py", 1)) == pytest.approx(1 / math.sqrt(2))


@pytest.mark.parametrize(
    ("context", "test_id"),
    [
        ("test_calc.test_add", "tests/test_calc.py::test_add"),
        ("tests.test_calc.test_add", "tests/test_calc.py::test_add"),
        ("tests.test_calc.TestAdd.test_big", "tests/test_calc.py::TestAdd::test_big"),
        ("test_calc.test_param", "tests/test_calc.py::test_param[3-4]"),
        ("pkg.tests.test_calc.test_add", "tests/test_calc.py::test_add"),
    ],
)
def test_context_names_match_node_ids(context: str, test_id: str) -> None:
    assert context_matches(context, test_id)


@pytest.mark.parametrize(
    ("context", "test_id"),
    [
        ("test_calc.test_add_more", "tests/test_calc.py::test_add"),
        ("test_other.test_add", "tests/test_calc.py::test_add"),
        ("test_add", "tests/test_calc.py::test_add"),
        ("test_calc.test_add", "<test command>"),
    ],
)
def test_other_contexts_do_not_match(context: str, test_id: str) -> None:
    assert not context_matches(context, test_id)
