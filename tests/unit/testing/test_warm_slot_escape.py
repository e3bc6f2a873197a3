"""Issue 22 finding 1: a warm slot never hands the host a path a test could have swapped.

The attack, end to end, as a candidate's code runs it inside the warm session: rename the work
copy, put a link to a host directory in its place, kill the warm server. The verifier then
falls back to a cold run. The host directory must come out untouched (no `.fixwurx`, no mode
change, nothing run or written in it), and nothing outside the work copy may have been bound.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest

from app.repair.candidates import Candidate, FileEdit
from app.repair.verifier import Baseline, Verifier
from app.sandbox.backends import detect_bubblewrap
from app.testing import testcmd
from app.testing.testrun import run_tests
from app.testing.warm import WarmPool
from tests.unit.sandbox.conftest import require_bubblewrap

COMMAND = testcmd.TestCommand((sys.executable, "-m", "pytest", "-q"), True)
SOURCE = "def double(x):\n    return x + x\n"
BROKEN = "def double(x):\n    return x * 3\n"
TEST = "from calc import double\n\n\ndef test_double():\n    assert double(3) == 6\n"
TARGET = "tests/test_calc.py::test_double"


def _host_dir(tmp_path: Path) -> Path:
    host = tmp_path / "host-dir"
    host.mkdir(mode=0o700)
    (host / "keep.txt").write_text("HOST\n")
    host.chmod(0o700)
    return host


def _state(path: Path) -> tuple[int, list[str], str]:
    return (
        os.stat(path).st_mode,
        sorted(os.listdir(path)),
        (path / "keep.txt").read_text(),
    )


def test_a_swapped_slot_copy_and_a_killed_server_never_reach_a_host_directory(
    tmp_path: Path,
) -> None:
    require_bubblewrap(detect_bubblewrap())
    host = _host_dir(tmp_path)
    before = _state(host)
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "calc.py").write_text(BROKEN)
    (project / "tests" / "test_calc.py").write_text(TEST)
    measured = run_tests(project, COMMAND, timeout=60)
    assert [o.test_id for o in measured.failing] == [TARGET]
    slow = tuple(dataclasses.replace(o, duration=10.0) for o in measured.outcomes)
    baseline = dataclasses.replace(measured, outcomes=slow)
    attack = (
        "import contextlib, os, signal\n"
        "with contextlib.suppress(OSError):\n"
        "    here = os.getcwd()\n"
        "    os.rename(here, here + '-moved')\n"
        f"    os.symlink({str(host)!r}, here)\n"
        "with contextlib.suppress(OSError):\n"
        "    os.kill(os.getppid(), signal.SIGKILL)\n"
    ) + SOURCE
    with Verifier(Baseline(project, COMMAND, baseline, (TARGET,))) as verifier:
        verdict = verifier.check(Candidate((FileEdit("calc.py", BROKEN, attack),), "t", "atk"))
        assert _state(host) == before  # no .fixwurx, no chmod, nothing run or written there
        # Judged the ordinary way, in a fresh copy: the candidate's fix itself is right.
        assert verdict.plausible, verdict.reason
        again = verifier.check(Candidate((FileEdit("calc.py", BROKEN, SOURCE),), "t", "fix"))
        assert again.plausible, again.reason
    assert _state(host) == before


def test_a_warm_run_that_kills_its_server_cannot_launder_its_copy(tmp_path: Path) -> None:
    """The cold fallback judges the candidate as submitted, in a fresh copy: never the copy
    its failed warm run had in reach (here rewritten to the right answer before the kill)."""
    require_bubblewrap(detect_bubblewrap())
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "calc.py").write_text(BROKEN)
    (project / "tests" / "test_calc.py").write_text(TEST)
    measured = run_tests(project, COMMAND, timeout=60)
    slow = tuple(dataclasses.replace(o, duration=10.0) for o in measured.outcomes)
    baseline = dataclasses.replace(measured, outcomes=slow)
    launder = (
        "import contextlib, os, signal\n"
        "with contextlib.suppress(OSError):\n"
        f"    open('calc.py', 'w').write({SOURCE!r})\n"
        "with contextlib.suppress(OSError):\n"
        "    os.kill(os.getppid(), signal.SIGKILL)\n"
    ) + BROKEN
    with Verifier(Baseline(project, COMMAND, baseline, (TARGET,))) as verifier:
        verdict = verifier.check(Candidate((FileEdit("calc.py", BROKEN, launder),), "t", "l"))
    assert not verdict.plausible and "still fails" in verdict.reason


def test_a_warm_session_binds_only_the_work_copy(tmp_path: Path) -> None:
    """What a test writes next to its work copy stays in the sandbox's own tmpfs."""
    require_bubblewrap(detect_bubblewrap())
    pool = WarmPool(COMMAND)
    try:
        with pool.slot() as slot:
            (slot.root / "tests").mkdir()
            (slot.root / "calc.py").write_text(SOURCE)
            (slot.root / "tests" / "test_calc.py").write_text(
                "import os\n\n\ndef test_double():\n"
                "    parent = os.path.dirname(os.getcwd())\n"
                "    open(os.path.join(parent, 'escaped'), 'w').write('x')\n"
                "    os.rename(os.getcwd(), os.getcwd() + '-moved')\n"
            )
            run = slot.run_tests([TARGET], timeout=30)
            assert run is not None
            assert not (slot.dir / "escaped").exists()
            assert sorted(os.listdir(slot.dir)) == ["repo"]
            # The rename fails inside: the work copy is a mount point there.
            assert [o.outcome for o in run.outcomes] == ["failed"]
            assert "Device or resource busy" in run.outcomes[0].message + run.output
    finally:
        pool.close()


def test_a_failed_slot_is_thrown_away_and_never_reused(tmp_path: Path) -> None:
    require_bubblewrap(detect_bubblewrap())
    pool = WarmPool(COMMAND)
    try:
        with pool.slot() as first:
            (first.root / "calc.py").write_text(
                "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + SOURCE
            )
            (first.root / "tests").mkdir()
            (first.root / "tests" / "test_calc.py").write_text(TEST)
            assert first.run_tests([TARGET], timeout=30) is None
            assert first.broken
        assert not first.dir.exists()
        with pool.slot() as second:
            assert second is not first and not second.broken
    finally:
        pool.close()


@pytest.mark.parametrize("where", ["slot", "copy"])
def test_a_linked_work_copy_is_never_bound(tmp_path: Path, where: str) -> None:
    """The cold fallback's own check, directly: a slot/copy path that became a link."""
    from app import sandbox, workfiles
    from app.errors import SandboxError
    from app.sandbox.session import open_session

    require_bubblewrap(detect_bubblewrap())
    host = _host_dir(tmp_path)
    before = _state(host)
    link = tmp_path / where
    link.symlink_to(host)
    with pytest.raises(SandboxError, match=str(link)):
        sandbox.run(["sh", "-c", "echo x > planted"], link, 20)
    with pytest.raises((SandboxError, workfiles.UnsafeWorkPath), match=str(link)):
        run_tests(link, COMMAND, timeout=20)  # its report folder is refused first
    with pytest.raises(SandboxError, match=str(link)):
        open_session(["sh", "-c", "echo x > planted; cat"], link)
    assert _state(host) == before
