"""Baseline failures the sandbox causes (no network, no service) are not the bug to repair."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.chain.stages.context import StageContext
from app.chain.stages.reproduce import reproduce
from app.chain.state import RunState
from app.errors import BadInput
from app.testing.testcmd import parse

TESTS = """import socket


def test_the_bug():
    assert 1 + 1 == 3


def test_needs_a_service():
    socket.create_connection(("127.0.0.1", 9), timeout=2)  # the discard port: nobody listens
"""


def _run(tmp_path: Path, issue: str = "") -> RunState:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_it.py").write_text(TESTS)
    state = RunState(source=str(tmp_path), issue_text=issue)
    ctx = StageContext(root=tmp_path, command=parse("pytest -q"), suite_timeout=120)
    reproduce(state, ctx).apply(state)
    return state


def test_a_failure_for_want_of_a_service_is_pre_existing_not_a_target(tmp_path: Path) -> None:
    state = _run(tmp_path)
    assert state.reproducing == ["tests/test_it.py::test_the_bug"]
    assert state.pre_existing == ["tests/test_it.py::test_needs_a_service"]
    assert state.status == "running"


def test_a_named_test_is_the_target_even_if_it_needs_a_service(tmp_path: Path) -> None:
    state = _run(tmp_path, "fails: tests/test_it.py::test_needs_a_service")
    assert state.reproducing == ["tests/test_it.py::test_needs_a_service"]
    assert state.pre_existing == []


@pytest.mark.parametrize(
    "raised",
    [
        "RuntimeError('Could not determine home directory.')",  # Python 3.12 and later
        "KeyError('getpwuid(): uid not found: 1000')",  # older Pythons: pwd's own error
    ],
)
def test_a_failure_for_want_of_a_home_directory_is_pre_existing(
    tmp_path: Path, raised: str
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_home.py").write_text(
        "def test_the_bug():\n    assert 2 * 2 == 5\n\n\n"
        "def test_reads_home():  # what Path.home() raises for a uid with no passwd entry\n"
        f"    raise {raised}\n\n\n"
        "def test_reads_home_too():  # two of them: the larger group, were it not set aside\n"
        f"    raise {raised}\n"
    )
    state = RunState(source=str(tmp_path))
    ctx = StageContext(root=tmp_path, command=parse("pytest -q"), suite_timeout=120)
    reproduce(state, ctx).apply(state)
    assert state.reproducing == ["tests/test_home.py::test_the_bug"]
    assert state.pre_existing == [
        "tests/test_home.py::test_reads_home",
        "tests/test_home.py::test_reads_home_too",
    ]


def test_a_baseline_that_does_not_import_is_still_recorded_for_the_report(tmp_path: Path) -> None:
    """Bad input (the tests do not import), yet `--json` can count what the baseline collected."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_broken.py").write_text("import not_installed_anywhere\n")
    (tmp_path / "tests" / "test_fine.py").write_text("def test_ok():\n    assert True\n")
    state = RunState(source=str(tmp_path))
    ctx = StageContext(root=tmp_path, command=parse("pytest -q"), suite_timeout=120)
    with pytest.raises(BadInput, match="do not import"):
        reproduce(state, ctx)
    outcomes = {o["test_id"]: o["outcome"] for o in state.baseline}
    assert outcomes["tests/test_fine.py::test_ok"] == "passed"
    assert any(o == "error" for o in outcomes.values()), outcomes
