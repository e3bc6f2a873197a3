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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tests.fakes.github import workflow_file
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


#: git's environment for reading the fake's bare repositories (no user or system config).
GIT_ENV = {"PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}

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
        # The test's interpreter stands in for actions/setup-python: a workflow's `pip
        # install` must never change it, so pip only says what it would do, offline.
        "PIP_NO_INDEX": "1",
        "PIP_DRY_RUN": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
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


# --- jobs of a workflow file ----------------------------------------------------------------


@dataclass(frozen=True)
class FileJobResult:
    """What one job of a workflow file did, with every artifact it uploaded (name, zip)."""

    conclusion: str
    steps: list[dict[str, Any]]
    log: str
    artifacts: tuple[tuple[str, bytes], ...]


def run_file_job(
    bare: Path,
    sha: str,
    job: workflow_file.JobSpec,
    base: workflow_file.Context,
    env: dict[str, str],
    scratch: Path,
    on_start: Started | None = None,
) -> FileJobResult:
    """Run `job`'s steps in order at `sha`, as GitHub's runner does (see workflow_file.py)."""
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="job-") as tmp:
        work = Path(tmp) / "checkout"
        _export(bare, sha, work)
        run = _FileJob(job, base, _job_env(env, Path(tmp)), work, on_start)
        run.all_steps()
        return FileJobResult(
            "failure" if run.failed else "success",
            run.steps,
            "\n".join(run.lines) + "\n",
            tuple(run.artifacts),
        )


@dataclass
class _FileJob:
    job: workflow_file.JobSpec
    base: workflow_file.Context
    env: dict[str, str]
    work: Path
    on_start: Started | None
    failed: bool = False
    deadline: float = 0.0

    def __post_init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self.artifacts: list[tuple[str, bytes]] = []
        self.deadline = time.monotonic() + self.job.timeout_s
        started = time.time()
        self.steps.append(_step(1, "Set up job", "success", started, started))
        self.lines += [_line(started, "##[group]Set up job"), _line(started, "##[endgroup]")]

    def context(self, env: dict[str, str]) -> workflow_file.Context:
        return replace(self.base, env=env, failed=self.failed)

    def all_steps(self) -> None:
        job_env = self._env({**self.base.env}, self.job.env)
        for step in self.job.steps:
            self.one(step, job_env)
        finished = time.time()
        self.steps.append(_step(len(self.steps) + 1, "Complete job", "success", finished, finished))
        self.lines.append(_line(finished, "Cleaning up orphan processes"))

    def _env(self, outer: dict[str, str], more: Mapping[str, str]) -> dict[str, str]:
        context = self.context(outer)
        return {**outer, **{k: workflow_file.substitute(v, context) for k, v in more.items()}}

    def one(self, step: workflow_file.Step, job_env: dict[str, str]) -> None:
        started = time.time()
        env = self._env(job_env, step.env)
        number = len(self.steps) + 1
        if not workflow_file.condition(step.if_, self.context(env)):
            self.steps.append(_step(number, step.name, "skipped", started, started))
            return
        self.lines.append(_line(started, f"##[group]{step.name}"))
        if step.uses is not None:
            conclusion = self._action(step, env, started)
        else:
            conclusion = self._script(step, env)
        finished = time.time()
        self.lines.append(_line(finished, "##[endgroup]"))
        self.steps.append(_step(number, step.name, conclusion, started, finished))
        if conclusion != "success":
            self.failed = True

    def _script(self, step: workflow_file.Step, env: dict[str, str]) -> str:
        assert step.run is not None
        script = workflow_file.substitute(step.run, self.context(env))
        where = step.working_directory or self.job.working_directory
        cwd = self.work / workflow_file.substitute(where, self.context(env)) if where else self.work
        shell = ["/bin/bash", "-e", "-c"] if step.shell == "bash" else ["/bin/sh", "-e", "-c"]
        left = self.deadline - time.monotonic()
        code, output = _execute_argv(
            [*shell, script], cwd, {**self.env, **env}, left, self.on_start
        )
        now = time.time()
        self.lines += [_line(now, text) for text in output.splitlines()]
        if code is None:
            self.lines.append(_line(now, TIMEOUT_ERROR))
            return "failure"
        if code != 0:
            self.lines.append(_line(now, EXIT_ERROR.format(code=code)))
            return "failure"
        return "success"

    def _action(self, step: workflow_file.Step, env: dict[str, str], started: float) -> str:
        assert step.uses is not None
        action = step.uses.split("@", 1)[0]
        if action != "actions/upload-artifact":
            self.lines.append(_line(started, f"The fake CI does not run {step.uses}; skipped"))
            return "success"
        context = self.context(env)
        name = workflow_file.substitute(step.with_.get("name", "artifact"), context)
        paths = workflow_file.substitute(step.with_.get("path", ""), context).split("\n")
        files = _collect(self.work, [p.strip() for p in paths if p.strip()])
        if not files:
            self.lines.append(_line(started, f"##[warning]No files were found at {paths}"))
            return "success"
        self.artifacts.append((name, _zip_many(files)))
        self.lines.append(_line(started, f"Uploaded {len(files)} file(s) as {name}"))
        return "success"


def _collect(work: Path, paths: list[str]) -> dict[str, bytes]:
    """Files of `paths` (files or directories), named as upload-artifact stores them."""
    found: dict[str, bytes] = {}
    for raw in paths:
        if any(c in raw for c in "*?[!"):
            raise workflow_file.Unsupported(f"upload-artifact path patterns ({raw!r})")
        target = work / raw
        if target.is_dir():
            for file in sorted(p for p in target.rglob("*") if p.is_file()):
                found[file.relative_to(target).as_posix()] = file.read_bytes()
        elif target.is_file():
            found[target.name] = target.read_bytes()
    return found


def _zip_many(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _execute_argv(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float, on_start: Started | None
) -> tuple[int | None, str]:
    """(exit status or None on timeout, combined output) of one step."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if on_start is not None:
        on_start(process)
    try:
        out, _ = process.communicate(timeout=max(timeout, 0.1))
        return process.returncode, out.decode(errors="replace")
    except subprocess.TimeoutExpired:
        kill(process)
        out, _ = process.communicate()
        return None, out.decode(errors="replace")
