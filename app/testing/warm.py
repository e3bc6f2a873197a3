"""Warm test processes: a rejected candidate costs its tests, not an interpreter's start-up.

A cold run of one target test is an interpreter start, pytest's and its plugins' imports,
collection, then milliseconds of test. A `WarmPool` keeps, per concurrent check, one sandbox
session (`app.sandbox.session`) running `warm_server.py` on the command's interpreter: it has
imported pytest and the installed plugins once, and forks a child per request that imports the
candidate's code afresh (see warm_server.py for what keeps candidates apart).

Each session owns a slot: a host-only directory (0700, never bound) whose `repo/` is the one
fixed directory every candidate of that slot is copied into. The session's sandbox binds `repo/`
alone, by fd (app/sandbox/api.py `opened_cwd`): inside, it is a mount point, so a test can
neither rename it nor put a link in its place, and the slot directory around it is out of
reach. Between candidates the host empties `repo/` (never following a link, app/workfiles.py)
and copies the next candidate in, so the bound directory keeps its inode.

A slot serves one check at a time. Whatever goes wrong with a session (it cannot start, dies,
hangs, hits a limit, answers garbage) makes `WarmSlot.run_tests` return None and marks the slot
`broken`: the pool throws it away (session ended, directory removed without following a link)
and never hands it out again, and the caller runs the test the ordinary way in a fresh copy.
After `MAX_FAILURES` such failures the pool stops trying.

`FIXWURX_WARM_TESTS=0` turns warm runs off (for before/after measurements).
"""

from __future__ import annotations

import ast
import contextlib
import logging
import os
import queue
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from app import defaults, pysource, workfiles
from app.errors import SandboxError
from app.sandbox.session import Session, open_session
from app.testing.results import TestRun
from app.testing.testcmd import TestCommand
from app.testing.testrun import collect, new_report
from app.workfiles import NOT_REPOSITORY_CODE

log = logging.getLogger(__name__)

#: Set to 0 to run every test the ordinary way.
ENV_SWITCH = "FIXWURX_WARM_TESTS"
#: Seconds a session may take to import pytest and its plugins before it is given up.
READY_TIMEOUT_S = 60.0
#: Seconds a reply may take beyond the request's own limit (the server enforces that one).
REPLY_GRACE_S = 10.0
#: Session failures after which a pool stops starting sessions.
MAX_FAILURES = 3
#: Modules preloaded at most (the files read for them are bounded by pysource.ScanBudget).
PRELOAD_MAX = 300
#: Directories whose files are not the repository's code.
SKIPPED_DIRS = NOT_REPOSITORY_CODE
#: Output kept from one warm run (its tail), as the verifier's feedback.
OUTPUT_BYTES = 64 * 1024
_SERVER = Path(__file__).with_name("warm_server.py")


def enabled() -> bool:
    """Warm runs are on unless FIXWURX_WARM_TESTS says 0/false/no/off."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def suits(command: TestCommand) -> bool:
    """Only `python -m pytest ...` can be run in-process by the warm server."""
    return command.is_pytest and command.argv[1:3] == ("-m", "pytest")


class WarmSlot:
    """A fixed work-copy path and the session that runs tests in it."""

    def __init__(self, pool: WarmPool) -> None:
        self.pool = pool
        # Host-only (mkdtemp: 0700); the real path, since the sandbox refuses a linked one.
        self.dir = Path(os.path.realpath(tempfile.mkdtemp(prefix="fixwurx-warm-")))
        self.root = self.dir / "repo"
        workfiles.make_dirs(self.dir, "repo")
        self.session: Session | None = None
        #: Set on the first failure: the slot is then thrown away, never reused.
        self.broken = False
        #: Seconds the last `run_tests` spent starting the session (0 once it runs).
        self.start_seconds = 0.0

    def run_tests(
        self,
        test_ids: Sequence[str],
        *,
        timeout: float,
        stop_first: bool = False,
        per_test_timeout: float | None = defaults.TEST_TIMEOUT_S,
        env: Mapping[str, str] | None = None,
    ) -> TestRun | None:
        """Run `test_ids` in `root` (already filled) warm, with `env` set for the run; None
        when the session failed."""
        command = self.pool.command
        self.start_seconds = 0.0
        if self.broken or not self.pool.usable:
            return None
        began = time.monotonic()
        ready = self._started()
        self.start_seconds = time.monotonic() - began
        if not ready:
            return None
        report = new_report(self.root)
        argv = command.for_run(
            report, test_ids, stop_first=stop_first, per_test_timeout=per_test_timeout
        )
        request = {
            "root": str(self.root),
            "args": list(argv[3:]),  # after `python -m pytest`
            "env": {**self._env(), **(env or {})},
            "timeout": timeout,
            "output_bytes": OUTPUT_BYTES,
        }
        started = time.monotonic()
        try:
            assert self.session is not None
            reply = self.session.request(request, timeout + REPLY_GRACE_S)
            code, timed_out = int(reply["returncode"]), bool(reply["timed_out"])
            output = str(reply.get("output", ""))
        except (SandboxError, KeyError, TypeError, ValueError) as exc:
            self._failed(f"warm test run failed: {exc}")
            return None
        duration = time.monotonic() - started
        return collect(self.root, report, command, test_ids, code, duration, timed_out, output)

    def _env(self) -> dict[str, str]:
        environment = self.pool.command.environment
        return {"PYTHONPATH": environment.run_env(self.root)["PYTHONPATH"]} if environment else {}

    def _started(self) -> bool:
        if self.session is not None:
            if self.session.alive:
                return True
            self._failed("warm test process ended between requests")
            return False
        try:
            self.session = self.pool.start(self.root)
            ready = self.session.read(READY_TIMEOUT_S)
        except SandboxError as exc:
            self._failed(f"warm test process did not start: {exc}")
            return False
        if not ready.get("ready"):
            self._failed(f"warm test process did not start: {ready!r}")
            return False
        return True

    def _failed(self, why: str) -> None:
        log.info("%s; running the tests the ordinary way, in a fresh copy", why)
        self.broken = True
        self._stop_session()
        self.pool.failure()

    def _stop_session(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def close(self) -> None:
        """End the session and remove the slot, following no link (one a test planted)."""
        self._stop_session()
        with contextlib.suppress(OSError):
            workfiles.rmtree(self.dir)


def outside_imports(root: Path) -> tuple[str, ...]:
    """Top-level modules the repository at `root` imports that are not its own (read
    statically, links never followed): what a warm server may import before any candidate."""
    names: set[str] = set()
    budget = pysource.ScanBudget()
    for path in workfiles.walk_files(root, ".py"):
        if budget.spent:
            break
        if SKIPPED_DIRS & set(path.parts):
            continue
        tree = budget.parse_file(root, path)
        if tree is not None:
            names |= _absolute_imports(tree)
    own = _own_top_level(root)
    return tuple(sorted(n for n in names if n not in own and n.isidentifier()))[:PRELOAD_MAX]


def _absolute_imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def _own_top_level(root: Path) -> set[str]:
    """Every directory and module name in the repository: conservative, since a test may
    import a sibling module by its bare name, and a name the repository shadows (its own
    `types.py`, say) must come from the candidate's copy, never from a warm import."""
    own: set[str] = set()
    for path in workfiles.walk_files(root, ".py"):
        own.update(part.removesuffix(".py") for part in path.parts)
    return own


class WarmPool:
    """Slots for one test command, handed out one check at a time each."""

    def __init__(self, command: TestCommand, preload: Sequence[str] = ()) -> None:
        self.command = command
        self.preload = tuple(preload)
        self._idle: queue.SimpleQueue[WarmSlot] = queue.SimpleQueue()
        self._all: list[WarmSlot] = []
        self._lock = threading.Lock()
        self._failures = 0
        self._finalizer = weakref.finalize(self, _close_all, self._all)

    @property
    def usable(self) -> bool:
        """False once sessions failed `MAX_FAILURES` times."""
        return self._failures < MAX_FAILURES

    def failure(self) -> None:
        """Count a session failure; past the limit the pool gives up (logged once)."""
        with self._lock:
            self._failures += 1
            if self._failures == MAX_FAILURES:
                log.warning("warm test processes failed %d times; off for this run", MAX_FAILURES)

    @contextlib.contextmanager
    def slot(self) -> Iterator[WarmSlot]:
        """An idle slot (a new one when all are busy) with an empty `root`, returned to the
        pool afterwards unless it broke (then it is closed and forgotten)."""
        try:
            taken = self._idle.get_nowait()
        except queue.Empty:
            taken = WarmSlot(self)
            with self._lock:
                self._all.append(taken)
        try:
            workfiles.empty(taken.root)  # the previous candidate's copy
            yield taken
        finally:
            self._release(taken)

    def _release(self, taken: WarmSlot) -> None:
        if not taken.broken:
            with contextlib.suppress(OSError):
                workfiles.empty(taken.root)
                self._idle.put(taken)
                return
        taken.close()
        with self._lock:
            if taken in self._all:
                self._all.remove(taken)

    def start(self, work: Path) -> Session:
        """A session on the command's interpreter and environment, bound to `work` alone."""
        argv = [self.command.python, "-c", _SERVER.read_text(), *self.preload]
        environment = self.command.environment
        if environment is None:
            return open_session(argv, work, env=self.command.plugin_env())
        env = {k: v for k, v in environment.run_env(work).items() if k != "PYTHONPATH"}
        return open_session(
            argv,
            work,
            env=env,
            readonly_paths=environment.readonly_paths,
            mounts=environment.mounts,
        )

    def close(self) -> None:
        """End every session and remove every slot."""
        self._finalizer()


def _close_all(slots: list[WarmSlot]) -> None:
    for slot in slots:
        slot.close()


def pool_for(command: TestCommand, root: Path) -> WarmPool | None:
    """A pool for the repository at `root` when warm runs are on and suit `command`."""
    if not (enabled() and suits(command)):
        return None
    return WarmPool(command, outside_imports(root))
