"""Break each rollback rule on purpose and see which end-to-end test notices.

Rollback acts on a default branch people depend on, so its end-to-end tests
(tests/functional/test_rollback.py) must fail when a rule is gone, not only its unit tests.
For each mutation this copies the checkout to a temporary directory, applies the one edit,
runs the end-to-end file there (the copy's `app` comes first on the path) and prints the tests
that failed. A mutation no test catches is printed as SURVIVED and the script exits 1.

    .venv/bin/python benchmarks/rollback_mutations.py            # every mutation
    .venv/bin/python benchmarks/rollback_mutations.py --only flake --only window
    .venv/bin/python benchmarks/rollback_mutations.py -k bisection   # a subset of the tests

Needs what the functional tests need (PostgreSQL, redis-server, bubblewrap); one mutation
runs the whole file, several minutes on two cores.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = "tests/functional/test_rollback.py"
ATTRIBUTE = "app/flows/rollback/attribute.py"


@dataclass(frozen=True)
class Mutation:
    """One rule removed: `old` (found exactly once in `path`) becomes `new`."""

    key: str
    rule: str
    path: str
    old: str
    new: str


MUTATIONS = (
    Mutation(
        "bisect-red",
        "bisection always blames the red commit",
        ATTRIBUTE,
        '    """The first bad first-parent commit after `base`:',
        '    return red\n    """The first bad first-parent commit after `base`:',
    ),
    Mutation(
        "bisect-merge",
        "bisection always blames the merge",
        ATTRIBUTE,
        '    """The first bad first-parent commit after `base`:',
        '    return merge\n    """The first bad first-parent commit after `base`:',
    ),
    Mutation(
        "flake",
        "the flake rerun always confirms",
        ATTRIBUTE,
        "    if not again.bad:",
        "    if False:",
    ),
    Mutation(
        "red-at-base",
        "red at the fix's base is ignored",
        ATTRIBUTE,
        "    if at_base.bad:",
        "    if False:",
    ),
    Mutation(
        "window",
        "the watch window is ignored",
        "app/flows/rollback/guards.py",
        "    if commits_since > config.rollback_window_commits:",
        "    if False:",
    ),
    Mutation(
        "one-decision",
        "one decision per failing commit is ignored",
        "app/flows/rollback/watch.py",
        "    existing = decisions.for_commit(job.database_url, run.repository_id, run.head_sha)\n",
        "    existing = None\n",
    ),
)


def copy_checkout(target: Path) -> None:
    """The tracked and new files of this checkout (no .venv, no caches)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / "node_modules").symlink_to((ROOT / "node_modules").resolve())


def apply(root: Path, mutation: Mutation) -> None:
    path = root / mutation.path
    text = path.read_text()
    if text.count(mutation.old) != 1:
        raise SystemExit(f"{mutation.key}: the text to change is not once in {mutation.path}")
    path.write_text(text.replace(mutation.old, mutation.new))


def run_tests(root: Path, select: str | None) -> tuple[list[str], int, float]:
    """(failed test names, exit status, seconds) of the end-to-end file in `root`."""
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", TESTS]
    if select:
        argv += ["-k", select]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True)
    failed = re.findall(r"^FAILED \S+::(\S+)", done.stdout, re.MULTILINE)
    return failed, done.returncode, time.monotonic() - started


def check_imports(root: Path) -> None:
    """The copy's `app` is the one imported, not this checkout's (an editable install)."""
    where = subprocess.run(
        [sys.executable, "-c", "import app; print(app.__file__)"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not where.startswith(str(root)):
        raise SystemExit(f"the copy imports app from {where}, not from {root}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="mutation keys to run (default: all)")
    parser.add_argument("-k", dest="select", help="pytest -k expression for the test file")
    parser.add_argument("--baseline", action="store_true", help="first run the file unmutated")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.only or m.key in args.only]
    survived = 0
    if args.baseline:
        with tempfile.TemporaryDirectory(prefix="rollback-mutation-") as tmp:
            copy_checkout(Path(tmp))
            failed, code, seconds = run_tests(Path(tmp), args.select)
        print(f"baseline: exit {code}, failed {failed or 'none'} ({seconds:.0f} s)", flush=True)
    print("| mutation | caught by | seconds |\n|---|---|---|", flush=True)
    for mutation in chosen:
        with tempfile.TemporaryDirectory(prefix="rollback-mutation-") as tmp:
            root = Path(tmp)
            copy_checkout(root)
            check_imports(root)
            apply(root, mutation)
            failed, code, seconds = run_tests(root, args.select)
        if code == 0 or not failed:
            survived += 1
            caught = f"SURVIVED (exit {code})"
        else:
            caught = ", ".join(f"`{name}`" for name in failed)
        print(f"| {mutation.rule} | {caught} | {seconds:.0f} |", flush=True)
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
