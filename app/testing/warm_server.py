"""The warm test process: runs INSIDE the sandbox, on the repository's own interpreter.

Starting an interpreter and importing pytest and its plugins costs most of a rejected
candidate's second; the candidate's own test takes milliseconds. This program pays for the
imports once, then forks one child per request. The child starts from a state in which no
module of the repository was ever imported (the server imports pytest and the installed
pytest plugins only, with no work copy on sys.path), changes into the candidate's copy, and
runs pytest in-process; its output goes to a file, never to the server's pipe.

Isolation between candidates, which run one after another in the same sandbox:
- the server is not dumpable, so a child (same uid) cannot ptrace it or open its descriptors;
- after each child the server kills every other process of the pid namespace (daemons a test
  left) and empties /tmp and /dev/shm, the private tmpfs mounts the next child would share;
- the caller replaces the work copy between requests, and treats any reply it cannot trust
  (the server died, hung or answered garbage) as "run it the ordinary way".

It is started with `python -c <this file's text>`, so nothing of FixWurx has to be mounted, and
it sticks to the standard library and to syntax every supported Python (3.7+) accepts.
Protocol: one JSON object per line. After start-up it writes {"ready": true}; each request
{"root", "args", "env", "timeout", "output_bytes"} gets {"returncode", "timed_out", "output",
"duration"}. End of input ends the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import stat
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

#: Where a child's stdout and stderr go (inside the private /tmp, wiped after each child).
OUT_PATH = "/tmp/.fixwurx-warm-output"
#: The directories the sandbox gives each run in RAM; emptied between children.
SCRATCH = ("/tmp", "/dev/shm")
PR_SET_DUMPABLE = 4
#: Test modules rewritten by this server (never by a child), by path and content digest.
_REWRITTEN: dict[tuple[str, str], tuple[bool, Any]] = {}
#: At most this many are kept, each of at most this many bytes.
MAX_REWRITTEN = 16
MAX_SOURCE_BYTES = 4 * 1024 * 1024


def main() -> None:
    """Warm up, announce readiness, then serve requests until stdin closes.

    The arguments name modules to import up front: the third-party and standard-library
    modules the repository imports (never one of its own, which is not on sys.path here).
    """
    sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
    base_path = list(sys.path)
    _set_dumpable(0)
    _warm_up()
    _quietly(lambda: _preload(sys.argv[1:]))
    _reply({"ready": True, "python": sys.version.split()[0]})
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError:
            _reply({"error": "bad request"})
            continue
        _reply(_serve(request, base_path))


def _warm_up() -> None:
    """Import pytest and every installed pytest plugin, the bulk of a run's start-up."""
    import pytest  # noqa: F401

    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        _dry_session()  # only the plugins named with -p load, in the child as in a cold run
        return
    try:
        from importlib import metadata
    except ImportError:  # Python 3.7
        return
    try:
        points = metadata.entry_points()
        plugins = (
            points.select(group="pytest11")
            if hasattr(points, "select")
            else points.get("pytest11", ())
        )
        for point in plugins:
            # A plugin that fails here fails in the child as it would in a cold run.
            with contextlib.suppress(Exception):
                __import__(point.value.split(":")[0])
    except Exception:  # no usable metadata: pytest itself is warm, which is most of it
        pass
    _dry_session()


def _dry_session() -> None:
    """Run pytest once on an empty directory, output discarded: plugins import most of what
    they need lazily, during a session (hypothesis at its terminal summary, through the
    assertion rewriter), and those imports are then paid here once rather than per child."""
    empty = "/tmp/.fixwurx-warmup"
    os.makedirs(empty, exist_ok=True)
    here = os.getcwd()

    def run() -> None:
        import pytest

        os.chdir(empty)
        pytest.main(["-q", "-p", "no:cacheprovider", empty])

    try:
        _quietly(run)
    finally:
        os.chdir(here)
        _empty_scratch()


def _preload(names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(BaseException):  # what fails here fails in the child as cold
            __import__(name)


def _quietly(work: Callable[[], None]) -> None:
    """Run `work` with stdout and stderr on /dev/null: fd 1 is the reply pipe."""
    saved = [os.dup(1), os.dup(2)]
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
        with contextlib.suppress(BaseException):
            work()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def _serve(request: dict[str, Any], base_path: list[str]) -> dict[str, Any]:
    _quietly(lambda: _prepare(request))
    started = time.monotonic()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(request, base_path)
    code, timed_out = _wait(pid, started + float(request.get("timeout", 60)))
    _clean_up()
    output = _read_output(int(request.get("output_bytes", 65536)))
    _empty_scratch()
    return {
        "returncode": code,
        "timed_out": timed_out,
        "output": output,
        "duration": time.monotonic() - started,
    }


def _child(request: dict[str, Any], base_path: list[str]) -> None:
    code = 1
    try:
        fd = os.open(OUT_PATH, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.setpgid(0, 0)
        _set_dumpable(1)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        root = request["root"]
        env = request.get("env") or {}
        os.chdir(root)
        os.environ.update(env)
        extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[:] = [root, *extra, *base_path]  # as `python -m pytest` in `root` would see it
        args = list(request["args"])
        sys.argv = ["pytest", *args]
        import pytest

        _quiet_rewrite_warning()
        _use_rewritten()
        code = int(pytest.main(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code & 0xFF)


def _prepare(request: dict[str, Any]) -> None:
    """Rewrite the requested test modules' asserts here, once per content: a child imports a
    500-test module in a fraction of the time when it finds the module's code ready.

    Collection is most of what a rejected candidate costs when its failing test sits in a big
    module: pytest parses the module, rewrites its asserts and compiles it again for every
    candidate, although candidates never change a test file. Only this server fills the cache,
    from bytes it read itself (a regular file, bounded), and it never executes them: a child
    cannot put code there for the next candidate, since its memory is its own after the fork.
    A child uses an entry only when the file it imports has the same path and digest.
    """
    try:
        from pathlib import Path

        from _pytest.assertion import rewrite
    except Exception:
        return
    original = getattr(rewrite, "_rewrite_test", None)
    if original is None or not _supported(original):
        return
    root = str(request["root"])
    for name in _target_files(request.get("args") or []):
        path = os.path.join(root, name)
        data = _read_regular(path)
        if data is None or len(_REWRITTEN) >= MAX_REWRITTEN:
            continue
        key = (path, hashlib.sha256(data).hexdigest())
        if key in _REWRITTEN:
            continue
        with contextlib.suppress(Exception):  # what fails here fails in the child, as cold
            first, code = original(Path(path), None)
            if hashlib.sha256(_read_regular(path) or b"").hexdigest() == key[1]:
                _REWRITTEN[key] = (isinstance(first, bytes), code)


def _supported(function: Any) -> bool:
    """`_rewrite_test(fn, config)` as pytest 6 and later define it; None for another shape."""
    code = getattr(function, "__code__", None)
    return code is not None and code.co_varnames[:2] == ("fn", "config")


def _target_files(args: list[str]) -> list[str]:
    """The test files named by `path::name` arguments, relative and without `..`."""
    files = []
    for arg in args:
        name = str(arg).split("::", 1)[0]
        if "::" not in str(arg) or not name.endswith(".py") or name.startswith("/"):
            continue
        if ".." in name.split("/") or name in files:
            continue
        files.append(name)
    return files[:MAX_REWRITTEN]


def _read_regular(path: str) -> bytes | None:
    """The bytes of a regular file at `path` (no link as its last part), if small enough."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SOURCE_BYTES:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(MAX_SOURCE_BYTES + 1)
        return data if len(data) <= MAX_SOURCE_BYTES else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _use_rewritten() -> None:
    """In a child: take a test module's rewritten code from the server's cache when the file
    is byte for byte the one the server rewrote (and no assertion-pass hook asks for other
    code); anything else is rewritten as pytest always does."""
    if not _REWRITTEN:
        return
    with contextlib.suppress(Exception):
        import importlib.util

        from _pytest.assertion import rewrite

        original = rewrite._rewrite_test

        def cached(fn: Any, config: Any) -> Any:
            path = str(fn)
            data = _read_regular(path)
            entry = _REWRITTEN.get((path, hashlib.sha256(data).hexdigest())) if data else None
            if entry is None or data is None or _wants_pass_hook(config):
                return original(fn, config)
            hashed, code = entry
            return (importlib.util.source_hash(data) if hashed else os.stat(path)), code

        rewrite._rewrite_test = cached


def _wants_pass_hook(config: Any) -> bool:
    try:
        return bool(config is not None and config.getini("enable_assertion_pass_hook"))
    except Exception:
        return True  # unsure: rewrite as pytest would


def _quiet_rewrite_warning() -> None:
    """The plugins were imported before pytest's assertion rewriter existed, which it would
    warn about (and a repository with `-W error` would turn into a failure a cold run never
    has). Their asserts go unrewritten; the repository's own modules are rewritten as usual."""
    with contextlib.suppress(Exception):
        from _pytest.assertion.rewrite import AssertionRewritingHook

        AssertionRewritingHook._warn_already_imported = lambda self, name: None  # type: ignore[method-assign]


def _wait(pid: int, deadline: float) -> tuple[int, bool]:
    """The child's exit status as a shell reports it (128+N for signal N); whether it timed out."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return _exit_code(status), False
        if time.monotonic() > deadline:
            _kill(-pid)
            _kill(pid)
            os.waitpid(pid, 0)
            return 137, True
        time.sleep(0.002)


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _clean_up() -> None:
    """Kill every process of the namespace but this server and its ancestors; reap them."""
    keep = _ancestors()
    for _ in range(50):
        others = [pid for pid in _pids() if pid not in keep]
        if not others:
            break
        for pid in others:
            _kill(pid)
        _reap()
        time.sleep(0.001)
    _reap()


def _ancestors() -> set[int]:
    keep: set[int] = set()
    pid = os.getpid()
    while pid > 0 and pid not in keep:
        keep.add(pid)
        pid = _parent(pid)
    return keep


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("PPid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _kill(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def _reap() -> None:
    while True:
        try:
            done, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not done:
            return


def _read_output(limit: int) -> str:
    try:
        with open(OUT_PATH, "rb") as out:
            size = os.fstat(out.fileno()).st_size
            if size > limit:
                out.seek(size - limit)
                data = out.read()
                dropped = f"[... {size - limit} bytes dropped ...]\n"
                return dropped + data.decode("utf-8", "replace")
            return out.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _empty_scratch() -> None:
    """Empty the private tmpfs mounts, never crossing into another mount: the work copy itself
    may be bound below /tmp (a host temporary directory keeps its path inside)."""
    for top in SCRATCH:
        with contextlib.suppress(OSError):
            _wipe(top, os.lstat(top).st_dev)


def _wipe(top: str, device: int) -> None:
    for name in os.listdir(top):
        path = os.path.join(top, name)
        with contextlib.suppress(OSError):
            info = os.lstat(path)
            if info.st_dev != device:
                continue  # a bind mount (the work copy): not ours to empty
            if stat.S_ISDIR(info.st_mode):
                _wipe(path, device)
                if not os.path.ismount(path):
                    with contextlib.suppress(OSError):
                        os.rmdir(path)  # still holds a mount point: stays
            else:
                os.unlink(path)


def _set_dumpable(flag: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, flag, 0, 0, 0)
    except Exception:
        pass


def _reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
