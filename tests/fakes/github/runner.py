"""The fake's Actions runner: one job, really run, in a throwaway checkout of one commit.

The simulator's verdicts must be real outcomes of the repository's code at that commit, or a
test of FixWurx's CI read-back would only test the fake. So the commit is exported from the bare
repository, the workflow's command runs there in a subprocess (the test's own interpreter first
on PATH, as `actions/setup-python` would arrange) with a wall-clock limit that kills its whole
process group, and what it printed becomes a GitHub-style job log with numbered steps.

This is a test double of GitHub's runner, not FixWurx code: FixWurx itself still runs
repository code only through `app/sandbox`.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.github.cimodels import Workflow

#: What GitHub's runner prints when a step's command exits non-zero (the log line FixWurx and
#: people look for).
EXIT_ERROR = "##[error]Process completed with exit code {code}."
TIMEOUT_ERROR = "##[error]The action has timed out."


@dataclass(frozen=True)
class JobResult:
    """What one job did: conclusion, steps (GitHub's `steps` objects), the log, the JUnit file."""

    conclusion: str
    steps: list[dict[str, Any]]
    log: str
    junit: bytes | None
    junit_name: str | None


#: Told of each job's process as it starts, so the fake can kill it when a test ends.
Started = Callable[["subprocess.Popen[bytes]"], None]


def run_job(
    bare: Path,
    sha: str,
    workflow: Workflow,
    env: dict[str, str],
    scratch: Path,
    on_start: Started | None = None,
) -> JobResult:
    """Run `workflow`'s command at `sha` of the bare repository `bare`."""
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="job-") as tmp:
        work = Path(tmp) / "checkout"
        _export(bare, sha, work)
        started = time.time()
        code, output = _execute(workflow, work, _job_env(env, Path(tmp)), on_start)
        finished = time.time()
        junit = None
        if workflow.junit_path and (work / workflow.junit_path).is_file():
            junit = (work / workflow.junit_path).read_bytes()
    return _result(workflow, code, output, started, finished, junit)


def zip_file(name: str, data: bytes) -> bytes:
    """A zip archive holding one file, as `actions/upload-artifact` stores it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def _export(bare: Path, sha: str, target: Path) -> None:
    # `git archive` gives the tree without a .git directory, as a fresh checkout's files.
    tar = subprocess.run(
        ["git", "archive", "--format=tar", sha],
        cwd=bare,
        capture_output=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"},
    ).stdout
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(target, filter="data")


def _job_env(env: dict[str, str], home: Path) -> dict[str, str]:
    # Nothing of the test process leaks in (no tokens, no service URLs): only what a runner sets.
    bin_dir = str(Path(sys.executable).parent)
    base = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "RUNNER_TEMP": str(home),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
    }
    return {**base, **env}


def _execute(
    workflow: Workflow, cwd: Path, env: dict[str, str], on_start: Started | None
) -> tuple[int | None, str]:
    """(exit status or None on timeout, combined output)."""
    process = subprocess.Popen(
        ["/bin/sh", "-c", workflow.command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if on_start is not None:
        on_start(process)
    try:
        out, _ = process.communicate(timeout=workflow.timeout_s)
        return process.returncode, out.decode(errors="replace")
    except subprocess.TimeoutExpired:
        kill(process)
        out, _ = process.communicate()
        return None, out.decode(errors="replace")


def kill(process: subprocess.Popen[bytes]) -> None:
    """Kill a job's whole process group (the command and whatever it started)."""
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)


def _result(
    workflow: Workflow,
    code: int | None,
    output: str,
    started: float,
    finished: float,
    junit: bytes | None,
) -> JobResult:
    conclusion = "success" if code == 0 else "failure"
    setup = _step(1, "Set up job", "success", started, started)
    checkout = _step(2, "Run actions/checkout@v4", "success", started, started)
    test = _step(3, workflow.step_name, conclusion, started, finished)
    complete = _step(4, "Complete job", "success", finished, finished)
    lines = [
        _line(started, "##[group]Set up job"),
        _line(started, "##[endgroup]"),
        _line(started, "##[group]Run actions/checkout@v4"),
        _line(started, "##[endgroup]"),
        _line(started, f"##[group]Run {workflow.command}"),
        _line(started, "##[endgroup]"),
        *(_line(finished, text) for text in output.splitlines()),
    ]
    if code is None:
        lines.append(_line(finished, TIMEOUT_ERROR))
    elif code != 0:
        lines.append(_line(finished, EXIT_ERROR.format(code=code)))
    lines.append(_line(finished, "Cleaning up orphan processes"))
    name = Path(workflow.junit_path).name if junit is not None and workflow.junit_path else None
    return JobResult(
        conclusion, [setup, checkout, test, complete], "\n".join(lines) + "\n", junit, name
    )


def _step(
    number: int, name: str, conclusion: str, started: float, finished: float
) -> dict[str, Any]:
    return {
        "name": name,
        "status": "completed",
        "conclusion": conclusion,
        "number": number,
        "started_at": _iso(started),
        "completed_at": _iso(finished),
    }


def _line(epoch: float, text: str) -> str:
    """One log line with the runner's timestamp prefix (7 fractional digits, UTC)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))
    return f"{stamp}.{int(epoch % 1 * 10**7):07d}Z {text}"


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
