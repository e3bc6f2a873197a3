"""The engine end to end on a real project: localize, propose, search with the real verifier."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from app.repair.candidates import RepairContext
from app.repair.localization import localize
from app.repair.search import SearchBudget, search
from app.repair.templates import TemplateSource
from app.repair.verifier import Baseline, Verifier
from app.testing import testcmd
from app.testing.testrun import run_tests

SOURCE = """\
def chunks(items, size):
    # consecutive lists of `size`; the last one may be shorter
    out = []
    for start in range(0, len(items), size):
        out.append(list(items[start : start + size - 1]))
    return out
"""
TESTS = """\
from batching import chunks


def test_pairs():
    assert chunks([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]


def test_empty():
    assert chunks([], 3) == []
"""


def test_an_off_by_one_is_fixed_with_a_minimal_plausible_patch(tmp_path: Path) -> None:
    (tmp_path / "batching.py").write_text(SOURCE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_batching.py").write_text(textwrap.dedent(TESTS))
    command = testcmd.TestCommand((sys.executable, "-m", "pytest", "-q"), True)
    run = run_tests(tmp_path, command, timeout=60)
    failing = run.failing
    assert [o.test_id for o in failing] == ["tests/test_batching.py::test_pairs"]

    locations = localize(tmp_path, command, failing, run.passing_ids, timeout=60)
    context = RepairContext(tmp_path, failing, tuple(locations), command.argv)
    verifier = Verifier(Baseline(tmp_path, command, run, ("tests/test_batching.py::test_pairs",)))
    budget = SearchBudget(max_candidates=40, seconds=90, linger_candidates=4)
    result = search(TemplateSource().propose(context), verifier.check, budget)

    assert result.chosen is not None, result.summary
    chosen = result.chosen.candidate
    assert chosen.changed_lines == 2
    assert "start : start + size]" in chosen.edits[0].after
    assert "# consecutive lists" in chosen.edits[0].after  # comments untouched
    assert result.summary.startswith("plausible (2 tests)")
    assert (tmp_path / "batching.py").read_text() == SOURCE  # the pristine tree is untouched
