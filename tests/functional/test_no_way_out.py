"""Issue 16, hole 1: FixWurx's own process never follows a link out of a work copy.

The three ways the review showed it, and a link planted by a test during the baseline run, each
driven through the real code (sandboxed test runs, coverage, the reproduce stage, candidates,
the verifier, the model context, edits, bundles). Every victim is a host file outside the work
copy that must keep its content and never appear in what FixWurx reads.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.agents.edits import EditError, SearchReplace, apply_blocks
from app.agents.llm import context
from app.chain.issue_text import REPRO_FILE
from app.chain.stages.context import StageContext
from app.chain.stages.reproduce import reproduce
from app.chain.state import RunState
from app.errors import BadInput, PatchError
from app.patches import apply_diff, validate_diff, verify_bundle
from app.repair.candidates import Candidate, FileEdit
from app.repair.coverage_run import RCFILE
from app.repair.localization import localize
from app.repair.templates.engine import _parsed
from app.repair.verifier import Baseline, Verifier
from app.testing.testcmd import resolve
from app.testing.testrun import run_tests
from app.workfiles import UnsafeWorkPath
from app.workspace import Workspace

SECRET = "HOST-SECRET-16-do-not-read"
BROKEN = "def double(x):\n    return x + 2\n"
TEST_CALC = "from calc import double\n\n\ndef test_double():\n    assert double(3) == 6\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "host" / "victim.py"
    path.parent.mkdir()
    path.write_text(f"# {SECRET}\ndef double(x):\n    return x + 2\n")
    return path


def _unharmed(victim: Path) -> bool:
    return victim.read_text() == f"# {SECRET}\ndef double(x):\n    return x + 2\n"


def _project(root: Path, *, extra_test: str = "") -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text(BROKEN)
    (root / "tests" / "test_calc.py").write_text(TEST_CALC + extra_test)
    return root


def _commit(root: Path) -> None:
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "i"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


# Shape 1, and a link planted during the baseline run: a test plants a link where FixWurx
# later writes (the coverage config) and replaces a source file by a link to a host file.
PLANTER = """

def test_plants_links():
    import os
    os.makedirs(".fixwurx", exist_ok=True)
    if os.path.lexists("{rc}"):
        os.remove("{rc}")
    os.symlink("{victim}", "{rc}")
    os.remove("calc.py")
    os.symlink("{victim}", "calc.py")
"""


def test_links_planted_by_a_test_during_the_baseline_are_never_followed(
    tmp_path: Path, victim: Path
) -> None:
    root = _project(tmp_path / "work", extra_test=PLANTER.format(rc=RCFILE, victim=victim))
    command = resolve(root, None)
    baseline = run_tests(root, command, timeout=60)
    assert (root / "calc.py").is_symlink() and (root / RCFILE).is_symlink()  # planted

    # Localization runs coverage: FixWurx writes its coverage config, and the planted link there
    # is replaced, the host file left alone; no source is read through the planted calc.py.
    failing = [o for o in baseline.outcomes if not o.ok]
    located = localize(root, command, failing, baseline.passing_ids, timeout=60)
    assert _unharmed(victim)
    assert not (root / RCFILE).is_symlink() and "[run]" in (root / RCFILE).read_text()
    assert all(loc.path != "calc.py" for loc in located)
    assert _parsed({}, root, "calc.py") is None

    # A candidate for calc.py is never written through the link.
    fixed = "def double(x):\n    return x * 2\n"
    candidate = Candidate((FileEdit("calc.py", BROKEN, fixed),), "test", "double")
    with pytest.raises(UnsafeWorkPath):
        candidate.apply_to(root)
    assert _unharmed(victim)

    # The verifier's per-candidate copy carries no link out: the candidate lands in the copy.
    verifier = Verifier(Baseline(root, command, baseline, ("tests/test_calc.py::test_double",)))
    verifier.check(candidate)
    assert _unharmed(victim)

    # An edit through a link that stays inside the copy is refused as a verdict, not a crash.
    (root / "pkg").mkdir()
    (root / "pkg" / "mod.py").write_text(BROKEN)
    (root / "alias").symlink_to("pkg")
    through = Candidate((FileEdit("alias/mod.py", BROKEN, fixed),), "test", "via a link")
    verdict = verifier.check(through)
    assert not verdict.plausible and "link" in verdict.reason


def test_a_committed_link_at_the_reproduction_test_path_is_not_written_through(
    tmp_path: Path, victim: Path
) -> None:
    """Shape 2: the issue author's text must not land in a host file."""
    root = _project(tmp_path / "work")
    (root / REPRO_FILE).symlink_to(victim)
    _commit(root)

    # The work copy drops the link before anything else sees it...
    ws = Workspace.prepare(root)
    try:
        assert not (ws.root / REPRO_FILE).is_symlink()
    finally:
        ws.cleanup()

    # ...and the stage itself replaces a link where it writes its test (here: no copy at all).
    issue = "double is wrong:\n\n```python\nfrom calc import double\nassert double(3) == 6\n```\n"
    state = RunState(source="local", issue_text=issue)
    ctx = StageContext(root, resolve(root, None), 60.0)
    result = reproduce(state, ctx)
    assert _unharmed(victim)
    assert not (root / REPRO_FILE).is_symlink()
    assert "assert double(3) == 6" in (root / REPRO_FILE).read_text()
    assert result.reproducing  # the snippet's test ran and failed, as the issue says


def test_a_committed_source_link_to_a_host_file_is_never_read_or_written(
    tmp_path: Path, victim: Path
) -> None:
    """Shape 3: not into the bundle, not into a model prompt, not written by a candidate."""
    root = _project(tmp_path / "work")
    (root / "calc.py").unlink()
    (root / "calc.py").symlink_to(victim)
    (root / "hostpkg").symlink_to(victim.parent)

    assert "calc.py" not in context.list_files(root)
    assert context.read_lines(root, "calc.py") == []
    assert context.read_lines(root, "hostpkg/victim.py") == []
    with pytest.raises(EditError, match="link"):
        apply_blocks(root, [SearchReplace("calc.py", "    return x + 2\n", "    return x * 2\n")])
    with pytest.raises(EditError, match="link"):
        apply_blocks(root, [SearchReplace("hostpkg/victim.py", "", "x = 1\n")])
    fixed = "def double(x):\n    return x * 2\n"
    for path in ("calc.py", "hostpkg/victim.py"):
        with pytest.raises(UnsafeWorkPath):
            Candidate((FileEdit(path, BROKEN, fixed),), "test", "d").apply_to(root)
    assert _unharmed(victim)
    assert not any(SECRET in line for line in context.read_lines(root, "calc.py"))

    # Work copies do not carry the link at all.
    _commit(root)
    ws = Workspace.prepare(root)
    try:
        assert not (ws.root / "calc.py").exists() and not (ws.root / "hostpkg").exists()
    finally:
        ws.cleanup()


LINK_DIFF = """diff --git a/calc.py b/calc.py
new file mode 120000
index 0000000..1234567
--- /dev/null
+++ b/calc.py
@@ -0,0 +1 @@
+/etc/shadow
\\ No newline at end of file
"""
RETARGET_DIFF = """diff --git a/link b/link
index 1234567..89abcde 120000
--- a/link
+++ b/link
@@ -1 +1 @@
-a
\\ No newline at end of file
+/etc/shadow
\\ No newline at end of file
"""


@pytest.mark.parametrize("diff", [LINK_DIFF, RETARGET_DIFF], ids=["adds", "changes"])
def test_a_patch_that_adds_or_changes_a_link_is_refused(diff: str) -> None:
    with pytest.raises(PatchError, match="symbolic link"):
        validate_diff(diff)
    report = verify_bundle({"diff": diff, "files": ["calc.py"], "hash": "x"})
    assert any("symbolic link" in p for p in report.problems)


def test_a_patch_that_follows_a_link_is_refused(tmp_path: Path, victim: Path) -> None:
    root = tmp_path / "work"
    root.mkdir()
    (root / "hostpkg").symlink_to(victim.parent)
    (root / "calc.py").symlink_to(victim)
    for path in ("hostpkg/victim.py", "calc.py"):
        diff = (
            f"--- a/{path}\n+++ b/{path}\n@@ -1,3 +1,3 @@\n # {SECRET}\n def double(x):\n"
            "-    return x + 2\n+    return x * 2\n"
        )
        with pytest.raises(PatchError, match="symbolic link"):
            apply_diff(diff, root)
    assert _unharmed(victim)


def test_a_config_file_that_links_out_is_not_read(tmp_path: Path, victim: Path) -> None:
    """.github/fixwurx.yml as a link to a host file: absent, and its content never shown."""
    root = _project(tmp_path / "work")
    (root / ".github").mkdir()
    (root / ".github" / "fixwurx.yml").symlink_to(victim)
    command = resolve(root, None)  # the default command, no error quoting the host file
    assert command.is_pytest
    (root / "tests").rename(root / "hostlinked")
    (root / "tests").symlink_to(victim.parent)  # the only "tests" are outside the copy
    (root / "hostlinked" / "test_calc.py").unlink()
    with pytest.raises(BadInput):
        resolve(root, None)
