"""`python -m unittest` and nose command lines, as the pytest command that runs the same tests.

A unittest or nose run reports one exit status: no per-test outcome, so no reproducing test to
target, no passing tests to guard, no coverage per test. pytest collects `unittest.TestCase`
classes and nose-style test functions, so the same tests run under pytest report each test on
its own (JUnit XML), and every narrowing and localization step works as for a pytest suite.

Only what has a faithful pytest equivalent is translated: test names (dotted modules, classes,
methods; nose's `file.py:Class.method`), `discover`'s start directory and pattern, failfast and
verbosity. A command with any other option is left opaque (None here) rather than guessed at.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

#: unittest's and nose's default file pattern (pytest's default is only `test_*.py`).
DEFAULT_PATTERN = "test*.py"
#: Without the tree, a dotted name ending in one of these is taken for a package of tests.
_TEST_PACKAGES = frozenset(("tests", "test", "testing"))
#: Options of both runners with a pytest equivalent (None: nothing to pass).
_FLAGS: dict[str, str | None] = {
    "-v": None,
    "--verbose": None,
    "-q": None,
    "--quiet": None,
    "-f": "-x",
    "--failfast": "-x",
    "-x": "-x",
    "--stop": "-x",
    "-b": None,
    "--buffer": None,
    "-s": "-s",  # nose: do not capture stdout (unittest's -s only follows `discover`)
    "--nocapture": "-s",
    "--with-doctest": "--doctest-modules",
}


def runner_args(argv: Sequence[str]) -> tuple[str, list[str]] | None:
    """("unittest" or "nose", the runner's own arguments) when `argv` runs one, else None."""
    argv = list(argv)
    if not argv:
        return None
    head = Path(argv[0]).name
    if head in ("nosetests", "nose2"):
        return "nose", argv[1:]
    if head.startswith("python") and len(argv) >= 3 and argv[1] == "-m":
        if argv[2] == "unittest":
            return "unittest", argv[3:]
        if argv[2] in ("nose", "nose2"):
            return "nose", argv[3:]
    return None


def as_pytest(argv: Sequence[str], root: Path | None = None) -> tuple[str, ...] | None:
    """The pytest argv (on FixWurx's interpreter, as `testcmd.parse` builds every command) that
    runs the tests `argv` names, or None when `argv` is no unittest/nose run or uses an option
    that has no faithful equivalent. `root`, when known, settles whether a dotted name's last
    parts are a module or a class."""
    found = runner_args(argv)
    if found is None:
        return None
    kind, args = found
    if kind == "unittest" and args[:1] == ["discover"]:
        return _discover(args[1:])
    out: list[str] = []
    names: list[str] = []
    for arg in args:
        if arg.startswith("-"):
            if arg not in _FLAGS:
                return None
            flag = _FLAGS[arg]
            if flag and flag not in out:
                out.append(flag)
        else:
            names.append(arg)
    targets = [_target(name, root) for name in names]
    if any(t is None for t in targets):
        return None
    return _pytest(out + [t for t in targets if t], DEFAULT_PATTERN)


def _discover(args: list[str]) -> tuple[str, ...] | None:
    """`discover [-s START] [-p PATTERN] [-t TOP]`, or the same positionally."""
    start, pattern, flags = ".", DEFAULT_PATTERN, []
    positional: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-s", "--start-directory", "-p", "--pattern", "-t", "--top-level-directory"):
            if index + 1 >= len(args):
                return None
            value = args[index + 1]
            if arg in ("-s", "--start-directory"):
                start = value
            elif arg in ("-p", "--pattern"):
                pattern = value
            index += 2
            continue
        if arg.startswith("-"):
            if arg not in _FLAGS or arg == "-s":
                return None
            flag = _FLAGS[arg]
            if flag:
                flags.append(flag)
        else:
            positional.append(arg)
        index += 1
    if positional:
        start = positional[0]
    if len(positional) > 1:
        pattern = positional[1]
    return _pytest([*flags, start], pattern)


def _pytest(args: list[str], pattern: str) -> tuple[str, ...]:
    # One token (`--override-ini=...`), so narrowing to test ids never mistakes it for a path.
    return (sys.executable, "-m", "pytest", "-q", f"--override-ini=python_files={pattern}", *args)


def _target(name: str, root: Path | None) -> str | None:
    """A pytest node id for a unittest/nose test name: `pkg.test_mod.Case.test_x` ->
    `pkg/test_mod.py::Case::test_x`; `tests/test_mod.py:Case.test_x` (nose) ->
    `tests/test_mod.py::Case::test_x`; a path stays a path."""
    if ":" in name and not name.startswith(":"):
        path, _, inner = name.partition(":")
        return "::".join([path, *inner.split(".")]) if inner else path
    if "/" in name or name.endswith(".py") or name in (".", ".."):
        return name
    parts = name.split(".")
    if not all(part.isidentifier() for part in parts):
        return None
    split = _module_length(parts, root)
    module = "/".join(parts[:split])
    path = f"{module}.py"
    if (root / module).is_dir() if root is not None else parts[split - 1] in _TEST_PACKAGES:
        path = module  # a package: pytest collects the directory
    return "::".join([path, *parts[split:]])


def _module_length(parts: list[str], root: Path | None) -> int:
    """How many leading parts of a dotted name are packages and the module."""
    if root is not None:
        for length in range(len(parts), 0, -1):
            module = root.joinpath(*parts[:length])
            if module.with_suffix(".py").is_file() or module.is_dir():
                return length
    # Without the tree: the first part spelled like a class (`TestX`) starts the test name.
    for index, part in enumerate(parts):
        if index and part[:1].isupper():
            return index
    return len(parts)
