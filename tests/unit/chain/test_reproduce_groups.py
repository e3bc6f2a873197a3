"""The reproduce stage targets one group of failures: an unrelated hang, a module that does not
import or a snippet the suite does not collect never sinks or fakes a repair (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.chain.stages.context import StageContext
from app.chain.stages.reproduce import reproduce
from app.chain.state import RunState
from app.errors import BadInput
from app.testing.testcmd import parse

BUGGY = "def add(a, b):\n    return a - b\n"
TESTS = """from calc import add


def test_small():
    assert add(1, 2) == 3


def test_zero():
    assert add(0, 5) == 5


def test_negative():
    assert add(-1, -1) == -2
"""
HANG = "def test_waits_forever():\n    while True:\n        pass\n"


def _project(root: Path, extra: dict[str, str]) -> Path:
    (root / "tests").mkdir()
    (root / "calc.py").write_text(BUGGY)
    (root / "tests" / "test_calc.py").write_text(TESTS)
    for name, text in extra.items():
        (root / name).write_text(text)
    return root


def _reproduce(root: Path, issue: str = "") -> RunState:
    state = RunState(source=str(root), issue_text=issue)
    ctx = StageContext(root=root, command=parse("pytest -q"), suite_timeout=120, test_timeout=3.0)
    reproduce(state, ctx).apply(state)
    return state


def test_an_unrelated_hang_is_left_failing_and_the_real_failures_are_the_target(
    tmp_path: Path,
) -> None:
    state = _reproduce(_project(tmp_path, {"tests/test_slow.py": HANG}))
    assert sorted(state.reproducing) == [
        "tests/test_calc.py::test_negative",
        "tests/test_calc.py::test_small",
        "tests/test_calc.py::test_zero",
    ]
    assert state.status == "running"
    (hang,) = state.left_failing
    assert hang["kind"] == "hang"
    assert hang["tests"] == ["tests/test_slow.py::test_waits_forever"]


def test_a_named_hang_is_the_target(tmp_path: Path) -> None:
    root = _project(tmp_path, {"tests/test_slow.py": HANG})
    state = _reproduce(root, "hangs: tests/test_slow.py::test_waits_forever")
    assert state.reproducing == ["tests/test_slow.py::test_waits_forever"]
    assert {g["kind"] for g in state.left_failing} == {"failure"}


def test_only_hangs_failing_is_not_fixed_with_a_hint_to_name_the_test(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_slow.py").write_text(HANG)
    (tmp_path / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    state = _reproduce(tmp_path)
    assert state.status == "not_fixed"
    assert "tests/test_slow.py::test_waits_forever" in state.reason
    assert "--issue" in state.reason


def test_a_module_that_does_not_import_is_left_failing_and_the_rest_still_runs(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path, {"tests/test_broken.py": "import nosuchmodule_xyz\n"})
    state = _reproduce(root)
    assert len(state.reproducing) == 3  # without --continue-on-collection-errors: none ran
    (broken,) = state.left_failing
    assert broken["kind"] == "collection"
    assert "nosuchmodule_xyz" in broken["cause"]


def test_tests_that_only_fail_to_import_are_an_environment_error(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_broken.py").write_text("import nosuchmodule_xyz\n")
    (tmp_path / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    with pytest.raises(BadInput, match="No module named 'nosuchmodule_xyz'") as raised:
        _reproduce(tmp_path)
    assert "--setup" in str(raised.value)


SNIPPET_ISSUE = "add is wrong:\n\n```python\nfrom calc import add\nassert add(2, 2) == 4\n```\n"


@pytest.mark.parametrize(
    ("config_name", "config", "expected"),
    [
        ("pytest.ini", "[pytest]\ntestpaths = tests\n", "tests/test_fixwurx_issue_repro.py"),
        (
            "pyproject.toml",
            '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npython_files = ["check_*.py"]\n',
            "tests/check_fixwurx_issue_repro.py",
        ),
        ("setup.cfg", "[tool:pytest]\ntestpaths = tests\n", "tests/test_fixwurx_issue_repro.py"),
    ],
)
def test_the_snippet_goes_where_the_suite_collects_it(
    tmp_path: Path, config_name: str, config: str, expected: str
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "calc.py").write_text(BUGGY)
    (tmp_path / "tests" / "check_ok.py").write_text("def test_ok():\n    assert True\n")
    (tmp_path / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    (tmp_path / config_name).write_text(config)
    state = _reproduce(tmp_path, SNIPPET_ISSUE)
    assert state.reproducing == [f"{expected}::test_issue_reproduction"]
    assert list(state.added_files) == [expected]


def test_a_snippet_the_suite_skips_is_still_run_by_id(tmp_path: Path) -> None:
    """`testpaths` names a folder that is missing: the root file is run by its id."""
    (tmp_path / "calc.py").write_text(BUGGY)
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = test_ok.py\n")
    state = _reproduce(tmp_path, SNIPPET_ISSUE)
    assert state.reproducing == ["test_fixwurx_issue_repro.py::test_issue_reproduction"]
