"""Repository files are parsed on the host only within a size and count budget (issue 22,
finding 11): a huge or hostile file is skipped, never parsed, and never crashes the worker."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from app import pysource
from app.environments import detect
from app.repair import coverage_run
from app.repair.coverage_scope import imported_sources
from app.testing import testcmd
from app.testing.warm import outside_imports

#: Source that makes ast.parse raise MemoryError or RecursionError, not SyntaxError.
NESTED = "x = " + "-" * 100_000 + "1\n"
CHAINED = "x = " + "1+" * 100_000 + "1\n"


def _huge_module(imported: str) -> str:
    """A valid module over the size limit that imports `imported`."""
    filler = "# " + "x" * 1000 + "\n"
    return f"import {imported}\n" + filler * (pysource.MAX_SOURCE_BYTES // len(filler) + 1)


def test_hostile_nesting_is_no_tree_not_a_crash() -> None:
    assert pysource.parse_text(NESTED) is None
    assert pysource.parse_text(CHAINED) is None
    assert pysource.parse_text("import os\n") is not None


def test_a_setup_py_that_overflows_the_parser_does_not_stop_detection(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text(NESTED)
    assert detect.detect(tmp_path) is not None


def test_the_warm_scan_skips_huge_and_hostile_files(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text(_huge_module("hidden_in_a_huge_file"))
    (tmp_path / "deep.py").write_text(CHAINED)
    (tmp_path / "ok.py").write_text("import json\n")
    started = time.perf_counter()
    assert outside_imports(tmp_path) == ("json",)
    assert time.perf_counter() - started < 5.0


def test_a_scan_stops_when_its_budget_is_spent(tmp_path: Path) -> None:
    for n in range(5):
        (tmp_path / f"m{n}.py").write_text(f"import mod{n}\n")
    budget = pysource.ScanBudget(files=3)
    trees = [budget.parse_file(tmp_path, f"m{n}.py") for n in range(5)]
    assert [t is not None for t in trees] == [True, True, True, False, False]
    assert budget.spent


def test_the_coverage_scope_skips_a_huge_test_file(tmp_path: Path) -> None:
    (tmp_path / "pkg.py").write_text("")
    (tmp_path / "test_big.py").write_text(_huge_module("pkg"))
    (tmp_path / "test_small.py").write_text("import pkg\n")
    assert imported_sources(tmp_path, "test_small.py") == {"pkg.py"}
    assert imported_sources(tmp_path, "test_big.py") == set()


def test_a_coverage_data_file_over_the_limit_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "test_a.py").write_text("def test_a():\n    assert True\n")
    command = testcmd.TestCommand((sys.executable, "-m", "pytest", "-q"), True)
    monkeypatch.setattr(coverage_run, "MAX_DATA_BYTES", 1024, raising=False)
    covered = coverage_run.run_with_coverage(tmp_path, command, 120.0)
    assert "coverage data over 1024 bytes" in covered.error
    assert covered.lines_by_test == {}
    monkeypatch.undo()
    assert coverage_run.run_with_coverage(tmp_path, command, 120.0).lines_by_test
