"""Baseline failures grouped by cause, and the one group a repair targets."""

from __future__ import annotations

from app.testing import groups
from app.testing.groups import (
    FailureGroup,
    choose_target,
    exception_type,
    failed_import,
    group_failures,
    root_location,
)
from app.testing.results import Frame, TestOutcome


def _never(_: TestOutcome) -> bool:
    return False


def _assert_fail(test_id: str, line: int) -> TestOutcome:
    path = test_id.split("::")[0]
    return TestOutcome(
        test_id,
        "failed",
        message="assert 3 == 4",
        frames=(Frame(path, line),),
        traceback=f"E       assert 3 == 4\n\n{path}:{line}: AssertionError",
    )


def test_three_assertions_on_one_module_are_one_group_and_a_hang_is_never_the_target() -> None:
    failing = [
        _assert_fail("tests/test_calc.py::test_a", 3),
        _assert_fail("tests/test_calc.py::test_b", 7),
        _assert_fail("tests/test_calc.py::test_c", 11),
        TestOutcome("tests/test_slow.py::test_forever", "failed", message="Failed: Timeout >5.0s"),
    ]
    groups = group_failures(failing, _never)
    assert [g.kind for g in groups] == ["failure", "hang"]
    target, left = choose_target(groups)
    assert target is not None and len(target.test_ids) == 3
    assert [g.test_ids for g in left] == [("tests/test_slow.py::test_forever",)]
    assert "hangs" in left[0].reason


def test_the_largest_ordinary_group_wins_even_when_a_hang_group_is_larger() -> None:
    hangs = [
        TestOutcome(f"tests/test_h.py::test_{i}", "failed", message="Timeout (>1.0s)")
        for i in range(5)
    ]
    raised = TestOutcome(
        "tests/test_x.py::test_div",
        "failed",
        message="ZeroDivisionError: division by zero",
        frames=(Frame("tests/test_x.py", 4), Frame("calc/ops.py", 12)),
        traceback="calc/ops.py:12: in div\nE   ZeroDivisionError: division by zero",
    )
    target, left = choose_target(group_failures([*hangs, raised], _never))
    assert target is not None
    assert target.test_ids == ("tests/test_x.py::test_div",)
    assert target.cause == "ZeroDivisionError at calc/ops.py:12"
    assert sum(len(g.test_ids) for g in left) == 5


def test_only_hangs_collection_errors_or_sandbox_failures_give_no_target() -> None:
    broken = TestOutcome(
        "tests/test_b.py::tests.test_b",
        "error",
        message="collection failure",
        traceback="tests/test_b.py:1: in <module>\n    import nosuch\n"
        "E   ModuleNotFoundError: No module named 'nosuch'",
    )
    hang = TestOutcome("tests/test_h.py::test_h", "failed", message="Timeout")
    network = TestOutcome("tests/test_n.py::test_n", "failed", message="ConnectionRefusedError")
    groups = group_failures([broken, hang, network], lambda o: "Connection" in o.message)
    assert [g.kind for g in groups] == ["collection", "hang", "environment"]
    assert groups[0].cause == "ModuleNotFoundError: No module named 'nosuch'"
    assert failed_import(broken) == "ModuleNotFoundError: No module named 'nosuch'"
    assert choose_target(groups) == (None, groups)


def test_exception_type_and_root_location_read_the_traceback_end() -> None:
    outcome = TestOutcome(
        "tests/test_x.py::test_y",
        "failed",
        message="",
        traceback="x = f()\nsrc/pkg/mod.py:9: in f\nE   pkg.errors.BadThing: nope",
        frames=(Frame("tests/test_x.py", 2), Frame("src/pkg/mod.py", 9)),
    )
    assert exception_type(outcome) == "BadThing"
    assert root_location(outcome) == "src/pkg/mod.py:9"


def test_groups_round_trip_through_json() -> None:
    group = FailureGroup("hang", "tests/test_h.py", ("tests/test_h.py::test_h",))
    assert FailureGroup.from_json(group.to_json()) == group


def test_a_hostile_traceback_is_read_only_at_its_tail_in_cut_lines() -> None:
    """A test's output is the repository's: whatever its size, the patterns see at most
    TAIL_LINES lines of at most LINE_LIMIT characters (no wall-clock assertion: the bound is
    what makes the time linear, so the bound is what is checked)."""
    flood = "E     " + "A" * 2_000_000 + "\n" * 1_000_000 + "x" * 3_000_000
    lines = groups._lines(flood)
    assert len(lines) <= groups.TAIL_LINES
    assert all(len(line) <= groups.LINE_LIMIT for line in lines)
    outcome = TestOutcome("tests/test_x.py::test_y", "failed", message=flood, traceback=flood)
    assert exception_type(outcome) == "failure"
