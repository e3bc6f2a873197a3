"""Attribution and bisection on real small git repositories, with the real sandbox.

Each repository's history is built here commit by commit (a merge of a fix branch, later
commits on top), and every probe runs the repository's tests through `app.sandbox`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from app.flows.rollback import history
from app.flows.rollback.attribute import attribute
from app.flows.rollback.bisect import CommitTests, Probe, first_bad

GOOD = "def double(x):\n    return 2 * x\n"
BROKEN = "def double(x):\n    return x + x + 1\n"
TESTS = "from calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n"
ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, env=ENV, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def commit(root: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def merge_fix(root: Path, files: dict[str, str]) -> str:
    """A fix branch with `files`, merged into main with a merge commit (as GitHub does)."""
    git(root, "checkout", "-q", "-b", "fixwurx/issue-1")
    commit(root, files, "Fix #1")
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", "-m", "Merge pull request #2", "fixwurx/issue-1")
    return git(root, "rev-parse", "HEAD")


def repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "--initial-branch=main")
    commit(root, {"calc.py": GOOD, "tests/test_calc.py": TESTS, "other.py": "A = 1\n"}, "start")
    return root


def runner(root: Path) -> CommitTests:
    return CommitTests(root, None, timeout=120)


def test_a_merge_that_breaks_a_test_is_blamed_with_its_evidence(tmp_path: Path) -> None:
    root = repository(tmp_path)
    base = git(root, "rev-parse", "HEAD")
    merge = merge_fix(root, {"calc.py": BROKEN})
    found = attribute(runner(root), root, merge, merge)
    assert found.blamed, found.reason
    assert found.failing_tests == ("tests/test_calc.py::test_double",)
    assert found.green_sha == base and found.culprit == merge
    assert [r["role"] for r in found.reruns] == ["merge (rerun)", "fix's base (rerun)"]
    assert found.reruns[0]["failed"] and not found.reruns[1]["failed"]


def test_the_merge_is_probed_first_and_blamed_without_a_search(tmp_path: Path) -> None:
    root = repository(tmp_path)
    merge = merge_fix(root, {"calc.py": BROKEN})
    for n in range(4):
        red = commit(root, {"other.py": f"A = {n + 2}\n"}, f"later {n}")
    found = attribute(runner(root), root, merge, red)
    assert found.blamed and found.culprit == merge, found.reason
    # The merge is probed first: bad there, so no search over the later commits.
    assert [p["role"] for p in found.probes] == ["red commit", "fix's base", "merge"]
    assert found.bisection == [] and found.test_runs == 5


def test_a_later_commit_that_breaks_the_branch_is_blamed_not_the_merge(tmp_path: Path) -> None:
    root = repository(tmp_path)
    merge = merge_fix(root, {"other.py": "A = 2\n"})
    commit(root, {"other.py": "A = 3\n"}, "unrelated")
    culprit = commit(root, {"calc.py": BROKEN}, "the real regression")
    red = commit(root, {"other.py": "A = 4\n"}, "after it")
    found = attribute(runner(root), root, merge, red)
    assert not found.blamed
    assert found.culprit == culprit and "bisection blames" in found.reason


def test_a_branch_red_before_the_merge_is_not_blamed_on_it(tmp_path: Path) -> None:
    root = repository(tmp_path)
    commit(root, {"calc.py": BROKEN}, "broken before the fix")
    merge = merge_fix(root, {"other.py": "A = 2\n"})
    found = attribute(runner(root), root, merge, merge)
    assert not found.blamed and "already red before the merge" in found.reason
    assert found.culprit is None


def test_a_failure_that_does_not_reproduce_is_not_blamed(tmp_path: Path) -> None:
    """CI said red (a flake), but the tests pass when FixWurx runs them at the red commit."""
    root = repository(tmp_path)
    merge = merge_fix(root, {"other.py": "A = 2\n"})
    found = attribute(runner(root), root, merge, merge)
    assert not found.blamed and "does not reproduce" in found.reason
    assert len(found.probes) == 1


class Flaky:
    """A runner over real probes whose tests fail only at their first run at one commit."""

    def __init__(self, real: CommitTests, sha: str) -> None:
        self.real, self.sha, self.seen = real, sha, 0

    def run(self, sha: str, tests: tuple[str, ...] = (), keep: bool = False) -> Probe:
        found = self.real.run(sha, tests, keep)
        if sha == self.sha:
            self.seen += 1
            if self.seen == 1:
                return Probe(sha, ("tests/test_calc.py::test_double",), found.seconds, found.ran)
        return found

    def rerun(self, sha: str, tests: tuple[str, ...] = ()) -> Probe:
        return self.run(sha, tests)


def test_a_test_that_passes_on_the_rerun_at_the_merge_is_flaky(tmp_path: Path) -> None:
    root = repository(tmp_path)
    merge = merge_fix(root, {"other.py": "A = 2\n"})
    found = attribute(Flaky(runner(root), merge), root, merge, merge)
    assert not found.blamed and found.reason.startswith("flaky:"), found.reason


def test_first_bad_probes_logarithmically() -> None:
    commits = [f"{n:040d}" for n in range(16)]
    seen: list[str] = []

    def probe(sha: str) -> Probe:
        seen.append(sha)
        return Probe(sha, ("t",) if int(sha) >= 5 else (), 0.0)

    found = first_bad(commits, probe)
    assert found.culprit == commits[5] and len(seen) <= 4


def test_the_window_counts_first_parent_commits_after_the_merge(tmp_path: Path) -> None:
    root = repository(tmp_path)
    before = git(root, "rev-parse", "HEAD")
    merge = merge_fix(root, {"other.py": "A = 2\n"})
    assert history.commits_since(root, merge, merge) == 0
    tip = commit(root, {"other.py": "A = 3\n"}, "one")
    tip = commit(root, {"other.py": "A = 4\n"}, "two")
    assert history.commits_since(root, merge, tip) == 2
    assert history.commits_since(root, merge, before) is None  # before the merge: not watched


def test_names_from_the_check_are_a_hint_not_the_verdict(tmp_path: Path) -> None:
    """A name the check reported that FixWurx cannot run (another id format) does not hide the
    failure: the red commit is probed with every test instead."""
    root = repository(tmp_path)
    merge = merge_fix(root, {"calc.py": BROKEN})
    found = attribute(runner(root), root, merge, merge, named=("tests.test_calc::test_double",))
    assert found.blamed, found.reason
    assert found.failing_tests == ("tests/test_calc.py::test_double",)
    assert [p["role"] for p in found.probes][:2] == [
        "red commit (the tests CI named)",
        "red commit",
    ]


def test_an_older_commit_with_other_dependency_files_gets_its_own_environment_key(
    tmp_path: Path,
) -> None:
    from app.environments import EnvironmentRequest
    from app.workspace import Workspace

    root = repository(tmp_path)
    old = commit(root, {"requirements.txt": "attrs==23.1\n"}, "pin attrs")
    new = commit(root, {"requirements.txt": "attrs==24.2\n"}, "bump attrs")
    same = commit(root, {"other.py": "A = 9\n"}, "no dependency change")
    tests = CommitTests(root, None, 120, EnvironmentRequest(cache_dir=tmp_path / "envs"))
    keys = {}
    for sha in (old, new, same):
        git(root, "checkout", "-q", sha)
        work = Workspace.prepare(root)
        try:
            keys[sha] = tests.dependencies(work.root)
        finally:
            work.cleanup()
    assert keys[old] != keys[new] and keys[new] == keys[same]
