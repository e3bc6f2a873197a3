"""Warm test processes: the same verdicts as a cold run, candidates kept apart, safe fallback.

One warm slot is shared by the tests of this module (starting one costs a pytest import);
each test fills the slot's fixed path with its own project, as the verifier does.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import workfiles
from app.repair.candidates import Candidate, FileEdit
from app.repair.verifier import Baseline, Verifier
from app.sandbox.backends import detect_bubblewrap
from app.testing import testcmd
from app.testing.testrun import run_tests
from app.testing.warm import WarmPool, WarmSlot, outside_imports
from tests.unit.sandbox.conftest import require_bubblewrap

COMMAND = testcmd.TestCommand((sys.executable, "-m", "pytest", "-q"), True)
SOURCE = "def double(x):\n    return x + x\n"
BROKEN = "def double(x):\n    return x * 3\n"
TEST = "from calc import double\n\n\ndef test_double():\n    assert double(3) == 6\n"
TARGET = "tests/test_calc.py::test_double"


@pytest.fixture(scope="module")
def slot() -> Iterator[WarmSlot]:
    """One warm slot for the module (bubblewrap only, as sessions are)."""
    require_bubblewrap(detect_bubblewrap())
    pool = WarmPool(COMMAND)
    with pool.slot() as taken:
        yield taken
    pool.close()


def _fill(slot: WarmSlot, files: dict[str, str]) -> None:
    workfiles.empty(slot.root)  # the bound directory stays; what is in it goes
    for name, text in files.items():
        workfiles.write_text(slot.root, name, text, parents=True)


def _project(source: str, test: str = TEST) -> dict[str, str]:
    return {"calc.py": source, "tests/test_calc.py": test}


def test_a_warm_run_reports_what_a_cold_run_reports(slot: WarmSlot) -> None:
    _fill(slot, _project(BROKEN))
    warm = slot.run_tests([TARGET], timeout=30, stop_first=True)
    cold = run_tests(slot.root, COMMAND, timeout=60, test_ids=[TARGET], stop_first=True)
    assert warm is not None
    assert [(o.test_id, o.outcome) for o in warm.outcomes] == [(TARGET, "failed")]
    assert warm.outcomes[0].message == cold.outcomes[0].message
    assert warm.returncode == cold.returncode == 1

    # The next candidate's edit is imported afresh: nothing of the last one was kept.
    _fill(slot, _project(SOURCE))
    fixed = slot.run_tests([TARGET], timeout=30, stop_first=True)
    assert fixed is not None and [o.outcome for o in fixed.outcomes] == ["passed"]


def test_what_one_candidate_leaves_behind_is_gone_for_the_next(slot: WarmSlot) -> None:
    leaves = (
        "import os, subprocess\n\n\ndef test_double():\n"
        "    open('/tmp/left-behind', 'w').write('x')\n"
        "    subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
    )
    _fill(slot, _project(SOURCE, leaves))
    first = slot.run_tests([TARGET], timeout=30)
    assert first is not None and first.returncode == 0
    looks = (
        "import os\n\n\ndef test_double():\n"
        "    assert not os.path.exists('/tmp/left-behind')\n"
        "    names = [open(f'/proc/{p}/comm').read().strip()"
        " for p in os.listdir('/proc') if p.isdigit()]\n"
        "    assert 'sleep' not in names, names\n"
    )
    _fill(slot, _project(SOURCE, looks))
    second = slot.run_tests([TARGET], timeout=30)
    assert second is not None and second.returncode == 0, second.output[-2000:]


def test_a_hanging_candidate_times_out_and_the_process_serves_the_next(slot: WarmSlot) -> None:
    _fill(slot, _project("def double(x):\n    while True:\n        pass\n"))
    started = time.monotonic()
    hung = slot.run_tests([TARGET], timeout=2, per_test_timeout=None)
    assert hung is not None and hung.timed_out
    assert time.monotonic() - started < 10
    assert [o.outcome for o in hung.outcomes] == ["failed"]
    _fill(slot, _project(SOURCE))
    after = slot.run_tests([TARGET], timeout=30)
    assert after is not None and after.returncode == 0


def test_a_candidate_that_kills_the_server_is_judged_the_ordinary_way(tmp_path: Path) -> None:
    require_bubblewrap(detect_bubblewrap())
    (tmp_path / "tests").mkdir()
    (tmp_path / "calc.py").write_text(BROKEN)
    (tmp_path / "tests" / "test_calc.py").write_text(TEST)
    measured = run_tests(tmp_path, COMMAND, timeout=60)
    assert [o.test_id for o in measured.failing] == [TARGET]
    # Kill limits are calibrated to the baseline; give a loaded machine room for cold runs.
    slow = tuple(dataclasses.replace(o, duration=10.0) for o in measured.outcomes)
    baseline = dataclasses.replace(measured, outcomes=slow)
    # A cold run's parent is bubblewrap's init, which it may not signal; a warm run's parent
    # is the warm server.
    killer = (
        "import contextlib, os, signal\n"
        "with contextlib.suppress(OSError):\n    os.kill(os.getppid(), signal.SIGKILL)\n"
    ) + SOURCE
    with Verifier(Baseline(tmp_path, COMMAND, baseline, (TARGET,))) as verifier:
        wrong = verifier.check(Candidate((FileEdit("calc.py", BROKEN, BROKEN + "\n"),), "t", "x"))
        assert not wrong.plausible and "still fails" in wrong.reason
        # Its warm run dies with the server; the ordinary run then finds the fix plausible.
        verdict = verifier.check(Candidate((FileEdit("calc.py", BROKEN, killer),), "t", "kill"))
        assert verdict.plausible, verdict.reason
        again = verifier.check(Candidate((FileEdit("calc.py", BROKEN, SOURCE),), "t", "fix"))
        assert again.plausible, again.reason


def test_the_preload_is_what_the_repository_imports_from_outside(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from . import types\nimport json, pkg.core\n")
    (tmp_path / "pkg" / "types.py").write_text("import collections.abc\nfrom six import moves\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "helpers.py").write_text("X = 1\n")
    (tmp_path / "tests" / "test_x.py").write_text("import helpers, pytest\nimport types\n")
    # `types` is the repository's own name here: it must come from the candidate's copy.
    assert outside_imports(tmp_path) == ("collections", "json", "pytest", "six")
