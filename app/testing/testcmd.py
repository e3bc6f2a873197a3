"""Which command runs a repository's tests, and how to narrow it to some tests.

Resolution order: the `--test` option, then the repo config's `test_command`, then pytest.
A pytest command gets JUnit XML and can be narrowed to node ids. A `python -m unittest` or nose
command runs as the equivalent pytest command (`unittest_args.py`), so its tests report one by
one; any other command is treated as one opaque test whose outcome is its exit status.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from app import workfiles
from app.environments import Environment
from app.errors import BadInput, ConfigError
from app.testing.unittest_args import as_pytest

#: Directory names that mark tests when no command is configured.
TEST_DIR_NAMES = ("tests", "test", "testing")
#: The opaque test id used for commands that are not pytest.
WHOLE_COMMAND_ID = "<test command>"
#: On FixWurx's own interpreter (no environment was built) pytest loads only these plugins, the
#: test tools FixWurx ships, not whatever else its virtualenv holds: hypothesis, there for
#: FixWurx's own tests, imported itself through pytest's assertion rewriter in every run (the
#: venv is read-only in the sandbox, so the rewrite is never cached) and more than doubled the
#: cost of each test run of the repair benchmark.
HOST_PLUGINS = ("pytest_timeout",)
#: What tells pytest not to load every installed plugin.
NO_AUTOLOAD = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


@dataclass(frozen=True)
class TestCommand:
    """A test command as argv, and whether it is pytest (which we can narrow and parse).

    `environment`, once the chain has built one, is the repository's own virtualenv: its
    interpreter replaces FixWurx's in the argv, and test runs see it instead of FixWurx's.
    """

    argv: tuple[str, ...]
    is_pytest: bool
    environment: Environment | None = None

    def display(self) -> str:
        """The command as a shell would show it, with the interpreter abbreviated."""
        ours = {sys.executable, self.environment.python if self.environment else sys.executable}
        shown = ["python" if a in ours else a for a in self.argv]
        return shlex.join(shown)

    @property
    def python(self) -> str:
        """The interpreter that runs the tests (the environment's, once there is one)."""
        return self.environment.python if self.environment else sys.executable

    def in_environment(self, environment: Environment) -> TestCommand:
        """This command on `environment`'s interpreter (a `python` command runs there too)."""
        argv = list(self.argv)
        if argv and (argv[0] == sys.executable or argv[0] in ("python", "python3")):
            argv[0] = environment.python
        return replace(self, argv=tuple(argv), environment=environment)

    @property
    def on_host_python(self) -> bool:
        """A pytest command on FixWurx's own interpreter (no environment of the repository's)."""
        return self.is_pytest and self.environment is None and self.argv[0] == sys.executable

    def plugin_env(self) -> dict[str, str]:
        """Variables a run needs: on FixWurx's interpreter, no plugin autoloading."""
        return dict(NO_AUTOLOAD) if self.on_host_python else {}

    def probe(self) -> tuple[str, ...]:
        """Arguments for the environment's python that collect this command's tests."""
        if not self.is_pytest or self.argv[0] != sys.executable:
            return ()
        return (*self.argv[1:], "--collect-only", "-q", "-p", "no:cacheprovider")

    def for_run(
        self,
        junit_path: Path,
        test_ids: Sequence[str] = (),
        *,
        stop_first: bool = False,
        per_test_timeout: float | None = None,
    ) -> tuple[str, ...]:
        """The argv to run (optionally only `test_ids`) writing JUnit XML to `junit_path`.

        `stop_first` stops at the first failure (pytest `-x`): a candidate that fails one
        reproducing test is rejected without paying for the rest. `per_test_timeout` (through
        pytest-timeout) turns a hanging test into one failure instead of a killed suite, so the
        other tests still report.
        """
        if not self.is_pytest:
            return self.argv
        args = [
            *self.argv,
            f"--junitxml={junit_path}",
            "-o",
            "junit_family=xunit1",
            "-p",
            "no:cacheprovider",
            # One module that fails to import must not wipe out the whole baseline: its tests
            # become one collection error (app/testing/groups.py), the rest still run.
            "--continue-on-collection-errors",
        ]
        if self.on_host_python:
            for plugin in HOST_PLUGINS:
                args += ["-p", plugin]
        # One line per finished test ("path::name PASSED"): a run killed at its deadline writes
        # no JUnit report, and these lines are what it still tells (testrun.finished_outcomes).
        args += ["-v"] * max(0, 1 - _verbosity(self.argv))
        if stop_first:
            args.append("-x")
        if per_test_timeout is not None:
            args.append(f"--timeout={per_test_timeout:.1f}")
        if test_ids:
            head = self.argv.index("pytest") + 1  # `python -m pytest`: keep the interpreter part
            args = args[:head] + [a for a in args[head:] if not _is_path_arg(a)] + list(test_ids)
        return tuple(args)


def _verbosity(argv: Sequence[str]) -> int:
    """pytest's verbosity from the command's own -q/-v flags (`-qq` counts twice)."""
    level = 0
    for arg in argv:
        if arg in ("--quiet", "--verbose"):
            level += 1 if arg == "--verbose" else -1
        elif re.fullmatch(r"-[qv]+", arg):
            level += arg.count("v") - arg.count("q")
    return level


def _is_path_arg(arg: str) -> bool:
    return not arg.startswith("-") and (arg.endswith(".py") or "/" in arg or arg in TEST_DIR_NAMES)


def resolve(root: Path, option: str | None, repo_config_command: str | None = None) -> TestCommand:
    """The command to use for `root`: explicit option, then repo config, then pytest."""
    chosen = option or repo_config_command or _local_config_command(root)
    if chosen:
        return parse(chosen, root)
    if not _has_python_tests(root):
        raise BadInput(
            f"no tests found in {root}: add test_*.py files or pass --test 'your test command'"
        )
    return TestCommand((sys.executable, "-m", "pytest", "-q"), True)


def parse(command: str, root: Path | None = None) -> TestCommand:
    """Turn a shell-style command into a TestCommand, running pytest with our interpreter.

    unittest and nose commands become pytest commands: per-test outcomes instead of one exit
    status. `root` (the checkout, when known) resolves their dotted test names to files."""
    argv = shlex.split(command)
    if not argv:
        raise BadInput("the test command is empty")
    if argv[0] in ("pytest", "py.test"):
        return TestCommand((sys.executable, "-m", "pytest", *argv[1:]), True)
    if argv[0].startswith("python") and argv[1:3] == ["-m", "pytest"]:
        return TestCommand((sys.executable, *argv[1:]), True)
    translated = as_pytest(argv, root)
    if translated is not None:
        return TestCommand(translated, True)
    return TestCommand(tuple(argv), False)


def _local_config_command(root: Path) -> str | None:
    from app.repo_config import CONFIG_PATH, parse_repo_config

    config = CONFIG_PATH
    if not workfiles.is_file(root, config):  # a link out of the checkout reads as absent
        return None
    try:
        return parse_repo_config(workfiles.read_text(root, config)).test_command
    except ConfigError as exc:
        raise BadInput(str(exc)) from exc  # the message names the file and the bad key


def _has_python_tests(root: Path) -> bool:
    """Any test file: pytest's default names, or a module in a tests folder (a project may name
    its own pattern, tqdm's `python_files = tests_*.py`; pytest then reads it, not this gate)."""
    patterns = ("test_*.py", "*_test.py")
    skip = workfiles.NOT_REPOSITORY_CODE
    for path in workfiles.walk_files(root, ".py"):  # never descends through a link
        named = any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns)
        in_tests = bool(set(TEST_DIR_NAMES).intersection(path.parts[:-1])) and path.name not in (
            "__init__.py",
            "conftest.py",
        )
        if (named or in_tests) and not skip.intersection(path.parts):
            return True
    return False
