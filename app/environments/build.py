"""The install steps of one environment, each a sandboxed call with network access.

No step runs on the host: a setup command, a setup.py built by an installer, and uv itself all
run in app/sandbox with the network kept (and the operator's index settings passed) but with no
secret and no FixWurx setting. The build directory is the call's work copy, so the venv is the
only thing a step can write besides its scope's uv download cache; the repository is copied
under `src/` for the steps that need its files, and removed afterwards (the tests import the
project from each candidate's own copy, through PYTHONPATH).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import uv

from app import sandbox, workfiles
from app.environments.detect import Declared
from app.environments.indexes import operator_indexes
from app.environments.interpreters import Interpreter
from app.environments.model import EnvironmentBuildError

log = logging.getLogger(__name__)

#: The test tools FixWurx drives, by distribution name. pytest writes the JUnit report,
#: pytest-timeout gives per-test limits, coverage feeds localization.
TEST_TOOLS = ("pytest", "pytest-timeout", "coverage")
#: Not copied into `src/`: history and other environments.
COPY_IGNORE = frozenset({".git", ".venv", "venv", ".tox", "node_modules", "__pycache__"})
#: Install steps may unpack large wheels; test runs keep the stricter default.
BUILD_LIMITS = sandbox.Limits(memory_mb=4096, file_size_mb=2048, processes=512)


@dataclass
class BuildLog:
    """What the build did, for the Environment and the report."""

    tools_added: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Builder:
    """Builds the venv of one key in `folder` with `interpreter`."""

    def __init__(self, folder: Path, interpreter: Interpreter, uv_cache: Path, timeout: float):
        self.folder = folder
        self.interpreter = interpreter
        self.timeout = timeout
        self.uv_cache = uv_cache
        self.uv_cache.mkdir(parents=True, exist_ok=True)
        self.uv = os.path.realpath(uv.find_uv_bin())
        self.venv = folder / "venv"
        self.log = BuildLog()

    def build(self, root: Path, declared: Declared) -> BuildLog:
        """Every step, in order; EnvironmentBuildError naming the step that failed."""
        self.folder.mkdir(parents=True, exist_ok=True)  # new: discard() ran before
        workfiles.copy_tree(Path(os.path.realpath(root)), self.folder / "src", ignore=_ignored)
        try:
            seed = ["--seed"] if declared.setup else []  # setup commands may call pip
            self._uv(
                "create the virtualenv",
                ["venv", "-q", *seed, "--python", self.interpreter.executable, str(self.venv)],
            )
            if declared.setup:
                self._setup(declared.setup)
            elif declared.uv_lock:
                self._locked()
            else:
                self._declared(declared)
            self._tools()
        finally:  # a step may have left a link as src/: removed, never followed
            with contextlib.suppress(OSError):
                workfiles.rmtree(self.folder / "src")
        return self.log

    def _setup(self, commands: tuple[str, ...]) -> None:
        for number, command in enumerate(commands, 1):
            step = f"setup step {number} `{command}`"
            self._run(step, ["/bin/sh", "-c", f"cd src && {command}"], fatal=True)

    def _locked(self) -> None:
        self._uv(
            "export uv.lock",
            [
                "export",
                "--frozen",
                "--no-hashes",
                "--all-extras",
                "--all-groups",
                "--no-emit-project",
                "--no-header",
                "--project",
                "src",
                "-o",
                "locked.txt",
            ],
        )
        self._install("install uv.lock's packages", ["-r", "locked.txt"])

    def _declared(self, declared: Declared) -> None:
        # Written into the steps' folder for the next step: a link planted there is replaced.
        text = "\n".join(declared.requirements) + "\n"
        workfiles.write_text(self.folder, "declared.txt", text, replace_link=True)
        args = ["-r", "declared.txt"]
        for name in declared.requirement_files:
            args += ["-r", f"src/{name}"]
        if not declared.requirements and not declared.requirement_files:
            return
        if self._install("install the declared dependencies", args, fatal=False):
            return
        # Old, unpinned declarations sometimes cannot all resolve together on a newer Python:
        # install what can be installed, one line at a time, and say what could not.
        for line in _each_requirement(self.folder, args):
            if not self._install(f"install {line}", [line], fatal=False):
                self.log.notes.append(f"could not install {line}")

    def _tools(self) -> None:
        pins = self._freeze()
        missing = [t for t in TEST_TOOLS if t not in pins]
        if not missing:
            return
        # Written into the steps' folder, where a step may have planted a link: replaced.
        text = "\n".join(f"{n}=={v}" for n, v in pins.items()) + "\n"
        workfiles.write_text(self.folder, "pins.txt", text, replace_link=True)
        # The repository's own pins stay (an old pytest runs its tests): the tools are resolved
        # against them. coverage matches FixWurx's own, whose reader parses the data file.
        wanted = [f"coverage=={_own_coverage()}" if t == "coverage" else t for t in missing]
        if not self._install("add the test tools", [*wanted, "-c", "pins.txt"], fatal=False):
            for tool in missing:
                self._install(f"add {tool}", [tool, "-c", "pins.txt"], fatal=True)
        self.log.tools_added = missing

    def _freeze(self) -> dict[str, str]:
        result = self._uv(
            "list the installed packages",
            ["pip", "freeze", "--python", str(self.venv / "bin" / "python")],
            network=False,
        )
        pins: dict[str, str] = {}
        for line in result.stdout.splitlines():
            name, sep, version = line.partition("==")
            if sep:
                pins[name.strip().lower().replace("_", "-")] = version.strip()
        return pins

    def _install(self, step: str, args: list[str], *, fatal: bool = True) -> bool:
        python = str(self.venv / "bin" / "python")
        argv = ["pip", "install", "-q", "--python", python, *operator_indexes().uv_args, *args]
        return self._uv(step, argv, fatal=fatal).ok

    def _uv(
        self, step: str, args: list[str], *, fatal: bool = True, network: bool = True
    ) -> sandbox.SandboxResult:
        return self._run(step, [self.uv, *args], fatal=fatal, network=network)

    def _run(
        self, step: str, argv: list[str], *, fatal: bool, network: bool = True
    ) -> sandbox.SandboxResult:
        env = {
            "PATH": f"{self.venv}/bin:{os.path.dirname(self.uv)}:/usr/local/bin:/usr/bin:/bin",
            "VIRTUAL_ENV": str(self.venv),
            "UV_CACHE_DIR": str(self.uv_cache),
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_LINK_MODE": "copy",  # the cache and the venv are different mounts
            "UV_NO_PROGRESS": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            **operator_indexes().env,
        }
        readonly = [
            Path(self.uv),
            Path(self.interpreter.prefix),
            *operator_indexes().readonly_paths,
        ]
        result = sandbox.run(
            argv,
            cwd=self.folder,
            timeout=self.timeout,
            env=env,
            limits=BUILD_LIMITS,
            readonly_paths=[p for p in readonly if not str(p).startswith("/usr/")],
            mounts=sandbox.Mounts(
                network=network, host_python=False, writable_paths=(self.uv_cache,)
            ),
        )
        if not result.ok:
            log.info("environment: %s failed (exit %s)", step, result.returncode)
            if fatal:
                raise EnvironmentBuildError(_failure(step, result, self.timeout))
        return result


def _ignored(rel: PurePosixPath) -> bool:
    return rel.name in COPY_IGNORE


def _failure(step: str, result: sandbox.SandboxResult, timeout: float) -> str:
    if result.timed_out:
        return f"environment: {step} did not finish within {timeout:.0f}s"
    tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-6:]
    shown = "\n".join(f"    {line}" for line in tail) or "    (no output)"
    return f"environment: {step} failed (exit {result.returncode}):\n{shown}"


def _each_requirement(folder: Path, args: list[str]) -> list[str]:
    """The single requirement lines behind `-r` arguments (nested -r and options skipped)."""
    lines: list[str] = []
    for flag, name in zip(args[::2], args[1::2], strict=False):
        if flag != "-r":
            continue
        try:  # the steps' folder: links out read as absent
            text = workfiles.read_text(folder, name, errors="replace", max_bytes=1 << 20)
        except (OSError, ValueError):
            continue
        for raw in text.splitlines():
            line = raw.split(" #")[0].strip()
            if line and not line.startswith(("#", "-")):
                lines.append(line)
    return list(dict.fromkeys(lines))


def _own_coverage() -> str:
    from importlib.metadata import version

    return version("coverage")


def shown(argv: list[str]) -> str:
    """A step's command line for logs."""
    return shlex.join(argv)
