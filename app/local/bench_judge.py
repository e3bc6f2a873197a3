"""Judge a verified patch on tests the repair never saw: correct, or merely plausible.

A patch that makes the visible failing tests pass may still be wrong (it special-cases the
test's input, say). The judge applies the patch to a fresh copy of the repository, adds the
held-out test files (or names tests already there), and runs them: the patch is correct only
if every one passes. `benchmarks/run_repair.py` and `fixwurx bench` both judge through here, so
the two cannot disagree about what "correct" means.

The fresh copy is a `Workspace` (links out of the checkout dropped, no credentials), the held-out
files go in through `app.workfiles` (a repository's `tests` may be a link), and the tests run in
the sandbox like every other run of repository code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from app import workfiles
from app.errors import PatchError
from app.patches import apply_diff
from app.testing.testcmd import TestCommand
from app.testing.testrun import run_tests
from app.workspace import Workspace

#: Held-out suites are small; anything slower than this is a hang the patch did not fix.
JUDGE_TIMEOUT_S = 60.0
#: What a folder of held-out tests contributes (pytest's default pattern).
HELD_OUT_PATTERN = "test_*.py"
#: The command that judges when the task names none: pytest on FixWurx's interpreter.
DEFAULT_COMMAND = TestCommand((sys.executable, "-m", "pytest", "-q"), True)


def held_out_files(source: Path) -> list[Path]:
    """The test files `source` holds: itself when a file, its test_*.py when a folder."""
    if source.is_file():
        return [source]
    return sorted(p for p in source.glob(HELD_OUT_PATTERN) if p.is_file())


def judge_patch(
    repo: Path,
    diff: str,
    *,
    held_out: Path | None = None,
    into: str = "tests",
    test_ids: Sequence[str] = (),
    command: TestCommand = DEFAULT_COMMAND,
    timeout: float = JUDGE_TIMEOUT_S,
) -> bool:
    """Does `diff`, applied to a fresh copy of `repo`, pass the judging tests?

    `held_out` (a file or folder of test files) is copied into `into`; `test_ids` narrows the
    run (none: the whole suite, visible and held-out tests alike). A diff that does not apply,
    a failing or hanging test, or a suite that exits non-zero all read "not correct".
    """
    workspace = Workspace.prepare(repo)
    try:
        root = workspace.root
        try:  # app.patches refuses link changes, as the App would
            apply_diff(diff, root)
        except PatchError:
            return False
        try:
            for held in held_out_files(held_out) if held_out is not None else []:
                data = held.read_bytes()
                target = f"{into}/{held.name}"
                workfiles.write_bytes(root, target, data, parents=True, replace_link=True)
        except OSError:  # the repository's folder is a link out, or not a folder
            return False
        run = run_tests(root, command, timeout=timeout, test_ids=test_ids)
        return run.returncode == 0 and not run.timed_out and not run.failing
    finally:
        workspace.cleanup()
