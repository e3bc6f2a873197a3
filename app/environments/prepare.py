"""The ladder: detect, then for each allowed interpreter (newest first) reuse or build, probe.

A repository from 2019 declares `psutil` and imports `imp`: on the newest Python the install
or the collection fails, on an older one it works. So an interpreter is kept only when its
environment builds and the probe (the test command with `--collect-only`) exits cleanly; the
first one that does wins and the choice is remembered, so the next run reuses it at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from app import defaults, sandbox, workfiles
from app.environments import cache, ci_recipe
from app.environments.build import BUILT, Builder
from app.environments.detect import Declared, detect
from app.environments.interpreters import Interpreter, candidates, describe_installed
from app.environments.model import (
    Environment,
    EnvironmentBuildError,
    EnvironmentRequest,
    saved_names,
    saved_texts,
)
from app.environments.scopes import path_scope
from app.environments.support import depends_on_interpreter

log = logging.getLogger(__name__)

#: pytest's exit statuses that mean "the tests could be collected": 0 ok, 5 nothing collected.
PROBE_OK = (0, 5)
#: Seconds the collection probe may take.
PROBE_TIMEOUT_S = 120.0
#: The note of an environment whose tests did not collect on any interpreter.
NOT_COLLECTED = "the tests did not collect; using the first interpreter that built"

Progress = Callable[[str], None]


def prepare(
    root: Path, request: EnvironmentRequest, progress: Progress | None = None
) -> Environment:
    """The environment for work copy `root`; EnvironmentBuildError naming the step that failed."""
    say = progress or (lambda _message: None)
    started = time.monotonic()
    declared = detect(root, request.setup)
    request.cache_dir.mkdir(parents=True, exist_ok=True)
    if not request.scope:  # no scope named: this directory alone, never a shared one
        request = replace(request, scope=path_scope(root))
    try:
        env = _ladder(root, request, declared, say, started)
    except EnvironmentBuildError as exc:
        if declared.setup:
            raise
        return _from_ci(root, request, say, started, exc)
    if declared.setup or NOT_COLLECTED not in env.notes:
        return env
    return _from_ci(root, request, say, started, env)


def _from_ci(
    root: Path,
    request: EnvironmentRequest,
    say: Progress,
    started: float,
    declared: Environment | EnvironmentBuildError,
) -> Environment:
    """The declared files gave no working environment (`declared`: the one whose tests do not
    collect, or why it did not build): try the install commands of the repository's CI as
    setup steps. Its environment is used when it builds; the report names the recipe."""
    recipe = ci_recipe.read(root)
    if recipe is None:
        if isinstance(declared, EnvironmentBuildError):
            raise declared
        return declared
    say(f"the declared files give no working environment; {recipe.report}")
    # The recipe's commands are its setup steps: they are part of the fingerprint, so the
    # environment they build is cached apart from the declared one.
    learned = replace(detect(root, recipe.setup), sources=(recipe.report,))
    try:
        env = _ladder(root, request, learned, say, started)
    except EnvironmentBuildError as exc:
        if isinstance(declared, EnvironmentBuildError):
            raise EnvironmentBuildError(f"{declared}\nthen {recipe.report}\n{exc}") from exc
        note = f"{recipe.report}: {str(exc).splitlines()[0]}"
        say(note)
        return _with_note(declared, note)
    if NOT_COLLECTED in env.notes:
        return _with_note(env, f"{recipe.report}: the tests still do not collect")
    return env


def _ladder(
    root: Path,
    request: EnvironmentRequest,
    declared: Declared,
    say: Progress,
    started: float,
) -> Environment:
    """The first interpreter whose environment builds and collects the tests; else the first
    that built, noted NOT_COLLECTED; else EnvironmentBuildError with every failure."""
    pool = candidates(request.python, declared.requires_python, declared.named_pythons)
    if not pool:
        wanted = request.python or declared.requires_python or "any"
        raise EnvironmentBuildError(
            f"environment: no installed Python matches {wanted!r} "
            f"(installed: {describe_installed()}); install one or set `python:`"
        )
    cache_dir = request.cache_dir
    choice = cache.key_for(
        request.scope, declared.fingerprint, request.python or "", *request.probe
    )
    remembered = cache.recall_choice(cache_dir, choice)
    if remembered is not None:
        env = _environment(cache_dir, remembered, declared, reused=True, started=started)
        say(f"reusing the environment: {env.how}")
        write_generated(root, env, say)
        return env
    failures: list[str] = []
    fallback: Environment | None = None
    for interpreter in pool[: defaults.ENV_MAX_INTERPRETERS]:
        key = cache.key_for(
            request.scope, declared.fingerprint, interpreter.executable, interpreter.version_text
        )
        try:
            env = _built(root, cache_dir, key, declared, interpreter, request, say, started)
        except EnvironmentBuildError as exc:
            # The user said how, or no other Python would change it (a package that does not
            # exist): stop here with the installer's own reason, not three builds later.
            if declared.setup or request.python or not depends_on_interpreter(str(exc)):
                raise
            failures.append(str(exc))
            say(f"Python {interpreter.version_text}: {str(exc).splitlines()[0]}")
            continue
        write_generated(root, env, say)
        problem = _probe(root, env, request)
        if problem is None:
            cache.remember_choice(cache_dir, choice, key)
            cache.evict(cache_dir, key, request.max_entries, request.max_mb, request.scope)
            say(_why_interpreter(env, declared))
            return env
        failures.append(f"Python {interpreter.version_text}: {problem}")
        say(f"Python {interpreter.version_text}: the tests do not collect ({problem})")
        fallback = fallback or env
        if not depends_on_interpreter(problem):
            _raise_if_uninstallable(env, problem)
            break  # another Python would not change it: reproduce reports what does not import
    if fallback is not None:  # reproduce will show the collection errors as they are
        say(NOT_COLLECTED)
        return _with_note(fallback, NOT_COLLECTED)
    raise EnvironmentBuildError(
        "environment: no interpreter could build it:\n" + "\n".join(f"  {f}" for f in failures)
    )


def write_generated(root: Path, env: Environment, say: Progress) -> None:
    """Write the build's version files into work copy `root` where it lacks them, as a
    maintainer's editable install leaves them in the checkout: the tests import the project from
    the copy (`from ._version import __version__`). Never over a file the copy has; never into
    a fix (a bundle's diff holds only its edits and the issue's test). The extension modules the
    install compiled in place go the same way, or the tests of a C speedup skip."""
    for path, text in env.generated:
        if workfiles.exists(root, path):
            continue
        try:
            workfiles.write_text(root, path, text, parents=True)
        except OSError as exc:  # a link in the way: the tests will say what does not import
            say(f"could not write the build's {path}: {exc}")
            continue
        say(f"wrote {path}, which the project's build generates")
    for path in env.extensions:
        if workfiles.exists(root, path):
            continue
        try:
            data = workfiles.read_bytes(env.venv.parent, f"{BUILT}/{path}")
            workfiles.write_bytes(root, path, data)
        except OSError as exc:  # its package folder is gone or a link: the tests skip or say
            say(f"could not place the build's {path}: {exc}")
            continue
        say(f"placed {path}, the extension module the project's install compiled")


def _why_interpreter(env: Environment, declared: Declared) -> str:
    """The environment in one line, and why this Python (the report records it)."""
    minor = ".".join(env.python_version.split(".")[:2])
    if minor in declared.named_pythons:
        return f"{env.how} (Python {minor}: the newest the project names that is installed)"
    return env.how


def _raise_if_uninstallable(env: Environment, problem: str) -> None:
    """Collection fails on a package the build could not install: that is the cause, in the
    installer's words (exit 2), not a bug to repair."""
    failed = [n for n in env.notes if n.startswith("could not install")]
    if failed:
        raise EnvironmentBuildError(
            "environment: the declared dependencies cannot be installed, so the tests do not "
            f"import ({problem}):\n" + "\n".join(f"  {n}" for n in failed[:5])
        )


def _with_note(env: Environment, note: str) -> Environment:
    return replace(env, notes=(*env.notes, note))


def _built(
    root: Path,
    cache_dir: Path,
    key: str,
    declared: Declared,
    interpreter: Interpreter,
    request: EnvironmentRequest,
    say: Progress,
    started: float,
) -> Environment:
    with cache.locked(cache_dir, key):
        if cache.ready(cache_dir, key) is not None:
            return _environment(cache_dir, key, declared, reused=True, started=started)
        cache.discard(cache_dir, key)  # a partial build left by a crash
        say(
            f"building a Python {interpreter.version_text} environment from "
            f"{', '.join(declared.sources) or 'no dependency files'}"
        )
        folder = cache.env_dir(cache_dir, key)
        try:
            uv_cache = cache.uv_cache(cache_dir, request.scope)
            cache.touch_uv_cache(cache_dir, request.scope)
            builder = Builder(
                folder, interpreter, uv_cache, request.build_timeout, request.uv_cache_max_mb
            )
            built = builder.build(root, declared)
        except BaseException:
            cache.discard(cache_dir, key)
            raise
        cache.mark_ready(
            cache_dir,
            key,
            {
                "python_version": interpreter.version_text,
                "interpreter_prefix": interpreter.prefix,
                "sources": list(declared.sources),
                "tools_added": built.tools_added,
                "notes": built.notes,
                "generated": built.generated,
                "extensions": built.extensions,
                "scope": cache.scope_id(request.scope),
            },
        )
    return _environment(cache_dir, key, declared, reused=False, started=started)


def _environment(
    cache_dir: Path, key: str, declared: Declared, *, reused: bool, started: float
) -> Environment:
    record = cache.ready(cache_dir, key)
    if record is None:
        raise EnvironmentBuildError(
            f"environment: the cached environment {key} vanished; run again"
        )
    cache.touch(cache_dir, key)
    return Environment(
        venv=cache.env_dir(cache_dir, key) / "venv",
        python_version=str(record["python_version"]),
        interpreter_prefix=Path(record["interpreter_prefix"]),
        sources=tuple(record.get("sources", declared.sources)),
        tools_added=tuple(record.get("tools_added", ())),
        reused=reused,
        seconds=round(time.monotonic() - started, 2),
        key=key,
        notes=tuple(record.get("notes", ())),
        generated=tuple(saved_texts(record.get("generated")).items()),
        extensions=saved_names(record.get("extensions")),
    )


def _probe(root: Path, env: Environment, request: EnvironmentRequest) -> str | None:
    """None when the probe passes in `root`, else a one-line reason."""
    if not request.probe:
        return None
    result = sandbox.run(
        [env.python, *request.probe],
        cwd=root,
        timeout=PROBE_TIMEOUT_S,
        env=env.run_env(root),
        readonly_paths=env.readonly_paths,
        mounts=env.mounts,
    )
    if result.returncode in PROBE_OK and not result.timed_out:
        return None
    if result.timed_out:
        return f"collection did not finish within {PROBE_TIMEOUT_S:.0f}s"
    output = (result.stdout + result.stderr).strip().splitlines()
    errors = [line for line in output if "Error" in line]
    return (errors or output or [f"exit {result.returncode}"])[-1].strip()[:200]
