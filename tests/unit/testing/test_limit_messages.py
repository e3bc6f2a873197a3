"""A run stopped by a resource limit says which limit, and the setting that raises it (issue 25).

Real sandboxed suites on small synthetic repositories: one that holds more memory than its
limit, one that runs past the suite's time limit. The messages must reach the user through the
reproduce stage, never as a baseline that merely looks short.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.chain.stages.context import StageContext
from app.chain.stages.reproduce import reproduce
from app.chain.state import RunState
from app.errors import BadInput
from app.sandbox import cgroups
from app.testing.testcmd import parse
from app.testing.testrun import cut_short, run_tests

#: Holds 400 MiB in two memory files: each write is far under the per-process address-space
#: limit, so only the run-wide limit (the cgroup, or the watchdog) can stop it at 300 MiB.
GREEDY = """import os


def test_holds_a_lot_of_memory():
    files = [os.memfd_create("held") for _ in range(2)]
    for fd in files:
        for _ in range(200):
            os.write(fd, b"x" * (1024 * 1024))
    assert files
"""

#: Eight tests of 1.5 s each: every one within its per-test limit, the suite past 6 s.
SLOW = "import time\n" + "".join(
    f"\n\ndef test_{n}_takes_a_while():\n    time.sleep(1.5)\n" for n in range(8)
)


def _repo(root: Path, source: str) -> Path:
    (root / "tests").mkdir()
    (root / "tests" / "test_it.py").write_text(source)
    return root


def test_a_suite_over_the_memory_limit_names_the_limit_and_its_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIXWURX_SANDBOX_MEMORY_MB", "300")
    run = run_tests(_repo(tmp_path, GREEDY), parse("pytest -q"), timeout=120)
    assert "memory limit of 300 MiB" in run.stop_reason or "limit of 300 MiB" in run.stop_reason
    assert "raise it with FIXWURX_SANDBOX_MEMORY_MB" in run.stop_reason
    assert "FIXWURX_SANDBOX_MEMORY_MB" in cut_short(run, 120)


def test_the_reproduce_stage_says_the_memory_limit_stopped_the_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIXWURX_SANDBOX_MEMORY_MB", "300")
    root = _repo(tmp_path, GREEDY)
    ctx = StageContext(root=root, command=parse("pytest -q"), suite_timeout=120)
    with pytest.raises(BadInput) as caught:
        reproduce(RunState(source=str(root)), ctx)
    message = str(caught.value)
    assert "was stopped" in message and "300 MiB" in message
    assert "FIXWURX_SANDBOX_MEMORY_MB" in message


def test_a_raised_memory_setting_lets_the_same_suite_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIXWURX_SANDBOX_MEMORY_MB", "1200")
    run = run_tests(_repo(tmp_path, GREEDY), parse("pytest -q"), timeout=120)
    assert run.stop_reason == ""
    assert [o.outcome for o in run.outcomes] == ["passed"]
    if cgroups.support().version != "none":  # the kernel's count of the run: 400 MiB held
        assert 400 <= run.peak_mb < 1200, run.peak_mb
    assert cut_short(run, 120) == ""


def test_a_partial_baseline_names_the_suite_time_limit_and_its_setting(tmp_path: Path) -> None:
    root = _repo(tmp_path, SLOW)
    said: list[str] = []
    ctx = StageContext(
        root=root,
        command=parse("pytest -q"),
        suite_timeout=6,
        progress=lambda stage, message: said.append(message),
    )
    state = RunState(source=str(root))
    reproduce(state, ctx).apply(state)
    partial = [m for m in said if m.startswith("the suite hit its time limit of 6s")]
    assert partial, said
    assert "tests finished" in partial[0] and "--timeout" in partial[0]
    assert "timeout_seconds:" in partial[0]
    assert state.reason.startswith("no test that finished fails"), state.reason
    assert "time limit" in state.reason and "--timeout" in state.reason
