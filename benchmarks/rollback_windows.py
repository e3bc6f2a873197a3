"""How long a rollback decision takes, and how many test runs it costs, by window size.

For windows of 1, 5 and 20 first-parent commits after a merged fix, two histories are built
with real git: the merge broke the tests (blamed: the merge is probed first, so no search),
and a later commit two thirds into the window broke them (not blamed: bisection names it).
Each decision runs `attribute()` with the real `CommitTests`, every probe in the sandbox, as
the rollback watch does (without GitHub and without building an environment).

    .venv/bin/python benchmarks/rollback_windows.py [--windows 1 5 20]
"""

from __future__ import annotations

import argparse
import math
import subprocess
import tempfile
from pathlib import Path

from app.flows.rollback.attribute import attribute
from app.flows.rollback.bisect import CommitTests

GOOD = "def double(x):\n    return 2 * x\n"
BROKEN = "def double(x):\n    return x + x + 1\n"
TESTS = "from calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n"
ENV = {
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@example.com",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@example.com",
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, env=ENV, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return done.stdout.strip()


def commit(root: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def history(root: Path, window: int, merge_breaks: bool) -> tuple[str, str, str | None]:
    """(merge, red tip, culprit after the merge or None) of a fresh repository."""
    git(root, "init", "-q", "--initial-branch=main")
    commit(root, {"calc.py": GOOD, "tests/test_calc.py": TESTS, "other.py": "A = 0\n"}, "start")
    git(root, "checkout", "-q", "-b", "fixwurx/issue-1")
    commit(root, {"calc.py": BROKEN} if merge_breaks else {"notes.txt": "x\n"}, "Fix #1")
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", "-m", "Merge pull request #2", "fixwurx/issue-1")
    merge = git(root, "rev-parse", "HEAD")
    breaking = max(1, math.ceil(window * 2 / 3))
    culprit = None
    tip = merge
    for n in range(1, window + 1):
        files = {"other.py": f"A = {n}\n"}
        if not merge_breaks and n == breaking:
            files["calc.py"] = BROKEN
        tip = commit(root, files, f"commit {n}")
        if not merge_breaks and n == breaking:
            culprit = tip
    return merge, tip, culprit


def measure(window: int, merge_breaks: bool) -> str:
    with tempfile.TemporaryDirectory(prefix="rollback-window-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        merge, red, culprit = history(root, window, merge_breaks)
        runner = CommitTests(root, None, timeout=120)
        try:
            found = attribute(runner, root, merge, red)
        finally:
            runner.close()
    expected = merge if merge_breaks else culprit
    right = "yes" if found.culprit == expected and found.blamed == merge_breaks else "NO"
    case = "merge broke it" if merge_breaks else "a later commit broke it"
    return (
        f"| {window} | {case} | {'blamed' if found.blamed else 'not blamed'} | {right} | "
        f"{found.test_runs} | {found.seconds:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, nargs="+", default=[1, 5, 20])
    args = parser.parse_args()
    print("| window | case | verdict | right culprit | test runs | seconds |")
    print("|---|---|---|---|---|---|")
    for window in args.windows:
        for merge_breaks in (True, False):
            print(measure(window, merge_breaks), flush=True)


if __name__ == "__main__":
    main()
