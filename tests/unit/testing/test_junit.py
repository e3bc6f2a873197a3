"""JUnit XML parsing: node ids, outcomes and traceback frames."""

from __future__ import annotations

from pathlib import Path

from app.testing.junit import frames_from_traceback, parse_junit

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="4">
<testcase classname="tests.test_calc" file="tests/test_calc.py" line="3" name="test_ok" time="0.010"/>
<testcase classname="tests.test_calc.TestAdd" file="tests/test_calc.py" line="9" name="test_add[1-2]" time="0.020">
<failure message="assert -1 == 3">def test_add():
&gt;       assert add(1, 2) == 3

tests/test_calc.py:11:
_ _ _ _ _

    def add(a, b):
&gt;       return a - b
E       assert -1 == 3

calc/core.py:2: AssertionError</failure></testcase>
<testcase classname="tests.test_calc" file="tests/test_calc.py" line="20" name="test_skip" time="0"><skipped message="later"/></testcase>
<testcase classname="tests.test_calc" file="tests/test_calc.py" line="25" name="test_err" time="0"><error message="fixture failed">boom</error></testcase>
</testsuite></testsuites>"""


def test_outcomes_and_node_ids() -> None:
    outcomes = {o.test_id: o for o in parse_junit(REPORT)}
    assert outcomes["tests/test_calc.py::test_ok"].outcome == "passed"
    failing = outcomes["tests/test_calc.py::TestAdd::test_add[1-2]"]
    assert failing.outcome == "failed"
    assert failing.message == "assert -1 == 3"
    assert failing.duration == 0.02
    assert outcomes["tests/test_calc.py::test_skip"].outcome == "skipped"
    assert outcomes["tests/test_calc.py::test_err"].outcome == "error"


def test_frames_innermost_last() -> None:
    failing = next(o for o in parse_junit(REPORT) if o.outcome == "failed")
    assert [(f.path, f.line) for f in failing.frames] == [
        ("tests/test_calc.py", 11),
        ("calc/core.py", 2),
    ]


def test_native_frames_outside_the_repo_are_dropped(tmp_path: Path) -> None:
    text = (
        f'  File "{tmp_path}/pkg/mod.py", line 7, in f\n'
        '  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads\n'
    )
    frames = frames_from_traceback(text, tmp_path)
    assert [(f.path, f.line) for f in frames] == [("pkg/mod.py", 7)]


def test_malformed_xml_gives_no_outcomes() -> None:
    assert parse_junit("<testsuite><testcase") == []


def test_hung_tests_are_recognised_by_either_killer() -> None:
    from app.testing.results import SANDBOX_KILL_MARK, TestOutcome

    assert TestOutcome("t", "failed", message="Failed: Timeout (>2.0s) from pytest-timeout.").hung
    assert TestOutcome("t", "failed", message=SANDBOX_KILL_MARK).hung
    assert not TestOutcome("t", "failed", message="assert 1 == 2").hung
