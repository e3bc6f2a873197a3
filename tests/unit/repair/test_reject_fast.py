"""A rejected candidate costs its failing test, not the module around it.

- the canary's kill limit counts the baseline's start-up and collection, so a loaded machine
  does not time out (and wrongly reject) a candidate whose test sits in a big module;
- the canary asks pytest for the standard library's traceback, not one that re-parses every
  frame's source file;
- the warm server rewrites a requested test module's asserts once, from bytes it read itself,
  and a child uses that code only for the same file, byte for byte.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest
from _pytest.assertion import rewrite

from app import defaults
from app.repair.candidates import Candidate, FileEdit
from app.repair.verifier import Baseline, Verifier
from app.sandbox.backends import detect_bubblewrap
from app.testing import testcmd
from app.testing import warm_server as server
from app.testing.results import TestOutcome, TestRun
from app.testing.testrun import run_tests
from tests.unit.sandbox.conftest import require_bubblewrap

COMMAND = testcmd.TestCommand((sys.executable, "-m", "pytest", "-q"), True)
SOURCE = "def double(x):\n    return x + x\n"
BROKEN = "def double(x):\n    return x * 3\n"
TEST = "from calc import double\n\n\ndef test_double():\n    assert double(3) == 6\n"
TARGET = "tests/test_calc.py::test_double"


def _project(root: Path, test: str = TEST) -> Baseline:
    (root / "tests").mkdir()
    (root / "calc.py").write_text(BROKEN)
    (root / "tests" / "test_calc.py").write_text(test)
    measured = run_tests(root, COMMAND, timeout=60)
    assert [o.test_id for o in measured.failing] == [TARGET]
    slow = tuple(dataclasses.replace(o, duration=10.0) for o in measured.outcomes)  # loaded box
    return Baseline(root, COMMAND, dataclasses.replace(measured, outcomes=slow), (TARGET,))


def test_the_canary_limit_counts_start_up_and_collection() -> None:
    outcomes = (TestOutcome(TARGET, "failed", 0.01), TestOutcome("t::other", "passed", 0.09))
    baseline = Baseline(Path("/nowhere"), COMMAND, TestRun(outcomes, 1, 20.0), (TARGET,))
    assert baseline.overhead() == pytest.approx(19.9)
    limit = baseline.timeout_for((TARGET,))
    assert limit >= defaults.CANDIDATE_TIMEOUT_FACTOR * 19.9  # not 3 x 0.01 s + slack
    assert baseline.timeout_for() == pytest.approx(
        defaults.CANDIDATE_TIMEOUT_FACTOR * 20.0 + defaults.CANDIDATE_TIMEOUT_SLACK_S
    )


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_a_rejected_candidate_costs_a_plain_traceback(tmp_path: Path, warm: bool) -> None:
    require_bubblewrap(detect_bubblewrap())
    baseline = _project(tmp_path)
    wrong = Candidate((FileEdit("calc.py", BROKEN, BROKEN.replace("3", "4")),), "t", "x * 4")
    with Verifier(baseline, warm=warm) as verifier:
        verdict = verifier.check(wrong)
    assert not verdict.plausible and "(canary check)" in verdict.reason
    assert "assert 12 == 6" in verdict.reason  # the verdict still says why
    assert "Traceback (most recent call last)" in verdict.output
    assert set(verdict.phases) >= {"apply", "collection"}


def test_a_warm_child_imports_the_servers_rewrite_of_the_test_module(tmp_path: Path) -> None:
    require_bubblewrap(detect_bubblewrap())
    probe = (
        "from calc import double\n\n\ndef test_double():\n"
        "    from _pytest.assertion import rewrite\n"
        "    assert rewrite._rewrite_test.__name__ == 'cached'\n"
        "    assert double(3) == 6\n"
    )
    baseline = _project(tmp_path, probe)
    fixed = Candidate((FileEdit("calc.py", BROKEN, SOURCE),), "t", "x + x")
    with Verifier(baseline, warm=True) as verifier:
        first = verifier.check(fixed)
        again = verifier.check(fixed)
    # The probe passes in the warm canary only where the child found the module rewritten by
    # the server; the smoke run is cold, so there it fails: that is how far each check got.
    for verdict in (first, again):
        assert "cached" not in verdict.reason, verdict.reason
        assert verdict.reason.endswith("(smoke check)"), verdict.reason


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], object]:
    """A fresh cache, and pytest's rewrite function restored afterwards."""
    cache: dict[tuple[str, str], object] = {}
    monkeypatch.setattr(server, "_REWRITTEN", cache)
    monkeypatch.setattr(rewrite, "_rewrite_test", rewrite._rewrite_test)
    return cache


def test_the_server_rewrites_a_requested_module_once_and_only_for_its_bytes(
    tmp_path: Path, patched: dict[tuple[str, str], object]
) -> None:
    (tmp_path / "tests").mkdir()
    module = tmp_path / "tests" / "test_calc.py"
    module.write_text(TEST)
    request = {"root": str(tmp_path), "args": ["-x", f"{TARGET}", "tests/other.py"]}
    server._prepare(request)
    assert [key[0] for key in patched] == [str(module)]
    server._use_rewritten()
    _, ready = patched[next(iter(patched))]  # type: ignore[misc]
    assert rewrite._rewrite_test(module, None)[1] is ready
    module.write_text(TEST.replace("== 6", "== 7"))  # another file now: rewritten afresh
    assert rewrite._rewrite_test(module, None)[1] is not ready


def test_the_server_reads_no_link_and_no_path_out_of_the_copy(
    tmp_path: Path, patched: dict[tuple[str, str], object]
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "elsewhere.py").write_text(TEST)
    os.symlink(tmp_path / "elsewhere.py", tmp_path / "tests" / "test_calc.py")
    args = [TARGET, "../elsewhere.py::test_double", "/etc/x.py::t"]
    server._prepare({"root": str(tmp_path / "tests"), "args": args})
    server._prepare({"root": str(tmp_path), "args": args})
    assert patched == {}
