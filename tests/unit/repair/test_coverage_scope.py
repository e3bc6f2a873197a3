"""Coverage on a large suite measures the target tests and the tests of the modules they touch."""

from __future__ import annotations

import sys
from pathlib import Path

from app.repair.coverage_run import run_with_coverage
from app.repair.coverage_scope import SMALL_SUITE_FILES, coverage_selection
from app.testing import testcmd

TARGET = "tests/test_target.py::test_it"


def _suite(root: Path, others: int) -> None:
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "shapes.py").write_text("def area(w, h):\n    return w + h\n")
    (root / "pkg" / "words.py").write_text("def shout(s):\n    return s.upper()\n")
    tests = root / "tests"
    tests.mkdir()
    (tests / "test_target.py").write_text(
        "from pkg.shapes import area\n\n\ndef test_it():\n    assert area(2, 3) == 6\n"
    )
    (tests / "test_shapes_more.py").write_text(
        "from pkg import shapes\n\n\ndef test_square():\n    assert shapes.area(0, 0) == 0\n"
    )
    (tests / "sub").mkdir()
    (tests / "sub" / "__init__.py").write_text("")
    (tests / "sub" / "test_relative.py").write_text(
        "import pkg.shapes\n\n\ndef test_rel():\n    assert pkg.shapes.area(1, 0) == 1\n"
    )
    for n in range(others):
        (tests / f"test_words_{n}.py").write_text(
            f"from pkg.words import shout\n\n\ndef test_{n}():\n    assert shout('a') == 'A'\n"
        )


def test_a_small_suite_runs_whole(tmp_path: Path) -> None:
    _suite(tmp_path, 3)
    assert coverage_selection(tmp_path, [TARGET]) == ()


def test_a_large_suite_runs_the_targets_and_the_tests_of_the_modules_they_touch(
    tmp_path: Path,
) -> None:
    _suite(tmp_path, SMALL_SUITE_FILES)
    assert coverage_selection(tmp_path, [TARGET]) == (
        "tests/sub/test_relative.py",
        "tests/test_shapes_more.py",
        "tests/test_target.py",
    )
    assert coverage_selection(tmp_path, []) == ()  # no target: the whole suite

    command = testcmd.TestCommand((sys.executable, "-m", "pytest", "-q"), True)
    covered = run_with_coverage(tmp_path, command, 120.0, targets=[TARGET])
    ran = {o.test_id for o in covered.run.outcomes}
    assert ran == {
        TARGET,
        "tests/test_shapes_more.py::test_square",
        "tests/sub/test_relative.py::test_rel",
    }
    assert any(path == "pkg/shapes.py" for path, _ in covered.lines_by_test[TARGET])
