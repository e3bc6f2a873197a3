"""The install steps of one environment, each a sandboxed call with network access.

No step runs on the host: a setup command, a setup.py built by an installer, and uv itself all
run in app/sandbox with the network kept (and the operator's index settings passed) but with no
secret and no FixWurx setting. The build directory is the call's work copy, so the venv is the
only thing a step can write besides its scope's uv download cache; the repository is copied,
with its `.git` (a version taken from git needs it), under `src/`, and removed afterwards (the
tests import the project from each candidate's own copy, through PYTHONPATH). Install lines run
in that copy, as a maintainer runs them (`-e .[test]` in a requirements file means the project),
and the project itself is installed (editable, without dependencies) so that its metadata, entry
points and pytest plugins exist; its code still comes from each candidate's copy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import uv

from app import defaults, sandbox, workfiles
from app.environments import cache
from app.environments.detect import Declared
from app.environments.indexes import operator_indexes
from app.environments.interpreters import Interpreter
from app.environments.model import EnvironmentBuildError
from app.sandbox import limit_settings

log = logging.getLogger(__name__)

#: The test tools FixWurx drives, by distribution name. pytest writes the JUnit report,
#: pytest-timeout gives per-test limits, coverage feeds localization.
TEST_TOOLS = ("pytest", "pytest-timeout", "coverage")
#: Not copied into `src/`: other environments and caches (the work copy's `.git`, already
#: rewritten without credentials, comes along).
COPY_IGNORE = frozenset({".venv", "venv", ".tox", "node_modules", "__pycache__"})
#: The repository copy inside the build folder; install steps run there (`uv --directory`).
SRC = "src"
#: Files that make a folder a project an installer can build.
PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
#: Coverage versions whose data file FixWurx's own coverage reads (SQLite schema 7).
COVERAGE_FALLBACK = "coverage>=6"
#: At most this many build-written files are kept, each at most this many bytes (a version file
#: is a few lines).
GENERATED_MAX_FILES = 4
GENERATED_MAX_BYTES = 64 * 1024
#: Compiled extension modules the project's editable install builds in place (markupsafe's
#: `_speedups`): at most this many are kept, each at most this many bytes, in `BUILT` of the
#: build folder; prepare.py places them into each work copy (tests import the copy).
EXTENSIONS_MAX_FILES = 32
EXTENSIONS_MAX_BYTES = 32 * 1024 * 1024
BUILT = "built"
#: `name.so`, `name.abi3.so`, `name.cpython-313-x86_64-linux-gnu.so`: CPython's suffixes.
EXTENSION_NAME = re.compile(
    r"^[A-Za-z_]\w{0,100}(?:\.(?:abi3|cpython-\d{2,3}\w{0,4}-[\w-]{1,60}))?\.so$"
)
#: Folders whose extension modules are not the project's package (build trees, other venvs).
NOT_PACKAGE = frozenset({"build", "dist", "venv", "site-packages"})
#: Install steps may unpack large wheels: at least this much memory (MiB), however low the test
#: runs' limit is set; a higher FIXWURX_SANDBOX_MEMORY_MB raises it for builds as well.
BUILD_MEMORY_MB = 4096
#: A test's fixed limits for install steps; None: `build_limits()` reads the settings per step.
BUILD_LIMITS: sandbox.Limits | None = None


def build_limits() -> sandbox.Limits:
    """Limits of one install step: the operator's settings (read when the step runs, so a bad
    value is an error naming the variable, never an import failure), with room for wheels."""
    if BUILD_LIMITS is not None:
        return BUILD_LIMITS
    memory = max(BUILD_MEMORY_MB, limit_settings.memory_mb())
    return sandbox.Limits(memory_mb=memory, file_size_mb=2048, processes=512)


@dataclass
class BuildLog:
    """What the build did, for the Environment and the report."""

    tools_added: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The project's build-written files (Declared.generated_files) as the build wrote them.
    generated: dict[str, str] = field(default_factory=dict)
    #: The extension modules the build compiled into the project's packages (paths relative
    #: to the project), saved under the build folder's BUILT.
    extensions: list[str] = field(default_factory=list)


class Builder:
    """Builds the venv of one key in `folder` with `interpreter`."""

    def __init__(
        self,
        folder: Path,
        interpreter: Interpreter,
        uv_cache: Path,
        timeout: float,
        uv_cache_max_mb: int = defaults.ENV_UV_CACHE_MAX_MB,
    ):
        self.folder = folder
        self.uv_cache_max_mb = uv_cache_max_mb
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
            self._project()
            self.log.generated = self._generated(declared.generated_files)
            self.log.extensions = self._extensions()
            self._tools(declared)
        finally:  # a step may have left a link as src/: removed, never followed
            with contextlib.suppress(OSError):
                workfiles.rmtree(self.folder / SRC)
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
        self._install("install uv.lock's packages", ["-r", "../locked.txt"])

    def _declared(self, declared: Declared) -> None:
        # Written into the steps' folder for the next step: a link planted there is replaced.
        text = "\n".join(declared.requirements) + "\n"
        workfiles.write_text(self.folder, "declared.txt", text, replace_link=True)
        args = ["-r", "../declared.txt"]
        for name in declared.requirement_files:
            args += ["-r", name]
        if not declared.requirements and not declared.requirement_files:
            return
        if self._install("install the declared dependencies", args, fatal=False):
            return
        # Old, unpinned declarations sometimes cannot all resolve together on a newer Python:
        # install what can be installed, one line at a time, and say what could not.
        for line in _each_requirement(self.folder, args):
            result = self._uv(f"install {line}", self._install_args([line]), fatal=False)
            if not result.ok:
                self.log.notes.append(f"could not install {line}: {_reason(result)}")

    def _tools(self, declared: Declared | None = None) -> None:
        pins = self._freeze()
        missing = [t for t in TEST_TOOLS if t not in pins]
        if declared is not None and declared.uses_pkg_resources and "setuptools" not in pins:
            missing.append("setuptools")  # `import pkg_resources` worked in `python -m venv`
        if not missing:
            return
        # Written into the steps' folder, where a step may have planted a link: replaced.
        text = "\n".join(f"{n}=={v}" for n, v in pins.items()) + "\n"
        workfiles.write_text(self.folder, "pins.txt", text, replace_link=True)
        # The repository's own pins stay (an old pytest runs its tests): the tools are resolved
        # against them. coverage matches FixWurx's own, whose reader parses the data file.
        wanted = [_tool_requirement(t) for t in missing]
        if not self._install("add the test tools", [*wanted, "-c", "../pins.txt"], fatal=False):
            for tool in missing:
                self._add_tool(tool)
        self.log.tools_added = missing

    def _add_tool(self, tool: str) -> None:
        """One tool; coverage falls back from FixWurx's own version to any 6.x or later (same
        data-file schema) when the interpreter is older than that version supports: a project
        that names Python 3.8 must get an environment on 3.8 (issue 25)."""
        pinned = [_tool_requirement(tool), "-c", "../pins.txt"]
        if tool != "coverage":
            self._install(f"add {tool}", pinned, fatal=True)
            return
        if not self._install(f"add {tool}", pinned, fatal=False):
            self._install(
                f"add {tool} (any 6.x or later)", [COVERAGE_FALLBACK, "-c", "../pins.txt"]
            )
            self.log.notes.append(
                f"coverage {_own_coverage()} does not install here: {COVERAGE_FALLBACK}"
            )

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

    def _project(self) -> None:
        """The project itself, editable and without dependencies: its metadata, entry points and
        pytest plugin then exist (`importlib.metadata.version()`, plugin registries)."""
        if not any(workfiles.is_file(self.folder, f"{SRC}/{name}") for name in PROJECT_FILES):
            return
        if not self._install("install the project itself", ["--no-deps", "-e", "."], fatal=False):
            self.log.notes.append(
                "the project itself could not be installed: its metadata and entry points are "
                "missing (tests that need them will fail)"
            )

    def _generated(self, names: tuple[str, ...]) -> dict[str, str]:
        """The declared version files the project's install wrote into the copy, read before
        the copy goes (bounded, through no link: a build step wrote them)."""
        kept: dict[str, str] = {}
        for name in names[:GENERATED_MAX_FILES]:
            try:
                kept[name] = workfiles.read_text(
                    self.folder, f"{SRC}/{name}", max_bytes=GENERATED_MAX_BYTES
                )
            except (OSError, ValueError, UnicodeDecodeError):
                self.log.notes.append(f"the build did not write {name}, which the project names")
        return kept

    def _extensions(self) -> list[str]:
        """Save the extension modules the project's install compiled into its package folders
        (found through no link, regular files, size-capped: a build step wrote them)."""
        kept: list[str] = []
        for rel in workfiles.walk_files(self.folder / SRC, ".so"):
            if len(kept) >= EXTENSIONS_MAX_FILES:
                break
            if not is_extension(rel) or not workfiles.is_file(
                self.folder, f"{SRC}/{rel.parent}/__init__.py"
            ):
                continue
            try:
                data = workfiles.read_bytes(
                    self.folder, f"{SRC}/{rel}", max_bytes=EXTENSIONS_MAX_BYTES
                )
                workfiles.write_bytes(self.folder, f"{BUILT}/{rel}", data, parents=True)
            except OSError as exc:
                self.log.notes.append(f"the build's {rel} was not kept: {exc}")
                continue
            kept.append(str(rel))
        return kept

    def _install(self, step: str, args: list[str], *, fatal: bool = True) -> bool:
        """`uv pip install args` run in the repository copy, so its relative paths resolve."""
        return self._uv(step, self._install_args(args), fatal=fatal).ok

    def _install_args(self, args: list[str]) -> list[str]:
        python = str(self.venv / "bin" / "python")
        return [
            "--directory",
            SRC,
            "pip",
            "install",
            "-q",
            "--python",
            python,
            *operator_indexes().uv_args,
            *args,
        ]

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
            limits=build_limits(),
            readonly_paths=[p for p in readonly if not str(p).startswith("/usr/")],
            mounts=sandbox.Mounts(
                network=network,
                host_python=False,
                writable_paths=(self.uv_cache,),
                egress=operator_indexes().egress,
            ),
        )
        self._cap_uv_cache(step)
        if not result.ok:
            log.info("environment: %s failed (exit %s)", step, result.returncode)
            if fatal:
                raise EnvironmentBuildError(_failure(step, result, self.timeout))
        return result

    def _cap_uv_cache(self, step: str) -> None:
        """Measure the uv cache after a step; over its cap it is emptied, and the build says so.

        A step may add at most its disk limit to the build folder and the cache together (the
        watchdog measures both); this bounds what stays behind across steps and builds.
        """
        size = cache.uv_cache_mb(self.uv_cache)
        if size <= self.uv_cache_max_mb:
            return
        cache.empty_uv_cache(self.uv_cache)
        note = (
            f"{step} left the uv cache at {size:.0f} MB, over its cap of {self.uv_cache_max_mb} "
            "MB (FIXWURX_UV_CACHE_MAX_MB): the cache was emptied"
        )
        log.warning("environment: %s", note)
        self.log.notes.append(note)


def is_extension(rel: PurePosixPath) -> bool:
    """Whether `rel` (in the build's copy of the project) is a compiled extension module of the
    project's own packages: a CPython extension name, in no build tree or other environment,
    every part a plain name."""
    parts = rel.parts
    return (
        bool(EXTENSION_NAME.match(rel.name))
        and len(parts) <= 12
        and not NOT_PACKAGE.intersection(parts)
        and all(re.fullmatch(r"[\w.-]{1,100}", p) and not p.startswith(".") for p in parts)
    )


def _ignored(rel: PurePosixPath) -> bool:
    return rel.name in COPY_IGNORE


def _failure(step: str, result: sandbox.SandboxResult, timeout: float) -> str:
    if result.timed_out:
        return f"environment: {step} did not finish within {timeout:.0f}s"
    tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-6:]
    shown = "\n".join(f"    {line}" for line in tail) or "    (no output)"
    refused = [w for w in result.warnings if w.startswith("egress proxy refused")][:5]
    if refused:  # install steps reach only the configured indexes: say what was not reached
        shown += "\n" + "\n".join(f"    {line}" for line in refused)
        shown += (
            "\n    (install steps reach only the configured package indexes; if that host serves "
            "packages, add it to FIXWURX_EGRESS_HOSTS or to the index settings)"
        )
    return f"environment: {step} failed (exit {result.returncode}):\n{shown}"


def _tool_requirement(tool: str) -> str:
    """coverage matches FixWurx's own (its reader parses the data file); setuptools keeps
    `pkg_resources`, which setuptools 81 drops."""
    if tool == "coverage":
        return f"coverage=={_own_coverage()}"
    return "setuptools<81" if tool == "setuptools" else tool


def _reason(result: sandbox.SandboxResult) -> str:
    """The installer's own last words (uv says why it found no solution), on one line."""
    lines = [line.strip() for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    return " ".join(lines[-3:])[:400] or f"exit {result.returncode}"


def _each_requirement(folder: Path, args: list[str]) -> list[str]:
    """The single requirement lines behind `-r` arguments (nested -r and options skipped)."""
    lines: list[str] = []
    for flag, name in zip(args[::2], args[1::2], strict=False):
        if flag != "-r":
            continue
        # Install steps run in SRC: `../declared.txt` is the folder's, `reqs.txt` the copy's.
        inside = name[3:] if name.startswith("../") else f"{SRC}/{name}"
        try:  # the steps' folder: links out read as absent
            text = workfiles.read_text(folder, inside, errors="replace", max_bytes=1 << 20)
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
