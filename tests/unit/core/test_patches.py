"""PatchBundle: canonical hashing, tamper detection, diff safety, applying at the base commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.errors import BundleMismatch, PatchError
from app.patches import PatchBundle, canonical_json, content_hash, validate_diff, verify_bundle
from app.repair.candidates import Candidate, FileEdit


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "init")
    return root, _git(root, "rev-parse", "HEAD")


def _bundle(base: str) -> PatchBundle:
    edit = FileEdit(
        "calc.py", "def add(a, b):\n    return a - b\n", "def add(a, b):\n    return a + b\n"
    )
    diff = Candidate((edit,), "template:operator", "`-` -> `+`").diff()
    return PatchBundle(
        base_commit=base,
        diff=diff,
        files=validate_diff(diff),
        evidence={"before": [{"test": "t::a", "outcome": "failed"}], "after": []},
        localization=[{"path": "calc.py", "line": 2, "score": 1.0, "why": "traceback"}],
        source="template:operator",
        timings={"reproduce": 0.5},
    )


def test_hash_is_sha256_of_canonical_json_without_hash_timings_and_search(
    repo: tuple[Path, str],
) -> None:
    bundle = _bundle(repo[1])
    data = bundle.to_json()
    body = {k: v for k, v in data.items() if k not in ("hash", "timings", "search")}
    assert data["hash"] == content_hash(body)
    assert data["hash"].startswith("sha256:") and len(data["hash"]) == 7 + 64
    assert canonical_json({"b": 1, "a": [1, 2]}) == b'{"a":[1,2],"b":1}'


def test_round_trip_keeps_the_hash(repo: tuple[Path, str]) -> None:
    bundle = _bundle(repo[1])
    again = PatchBundle.from_json(bundle.to_json())
    assert again == bundle and again.hash == bundle.hash


def test_one_changed_byte_in_the_diff_changes_the_hash_and_is_rejected(
    repo: tuple[Path, str],
) -> None:
    data = _bundle(repo[1]).to_json()
    tampered = dict(data, diff=data["diff"].replace("a + b", "a * b"))
    assert content_hash({k: v for k, v in tampered.items() if k != "hash"}) != data["hash"]
    with pytest.raises(BundleMismatch, match="hash mismatch"):
        PatchBundle.from_json(tampered)
    report = verify_bundle(tampered, repo[0])
    assert not report.ok
    assert any("hash differs" in p for p in report.problems)


def test_verify_checks_the_diff_applies_at_the_base_commit(repo: tuple[Path, str]) -> None:
    root, base = repo
    report = verify_bundle(_bundle(base).to_json(), root)
    assert report.ok, report.problems
    assert base[:12] in report.checked_against
    # the working tree moved on, but the diff is checked against the base commit
    (root / "calc.py").write_text("something else\n")
    assert verify_bundle(_bundle(base).to_json(), root).ok


def test_verify_reports_a_diff_that_does_not_apply(repo: tuple[Path, str]) -> None:
    root, _ = repo
    (root / "calc.py").write_text("def add(a, b):\n    return b\n")
    _git(root, "commit", "-qam", "change")
    other = _git(root, "rev-parse", "HEAD")
    data = _bundle(other).to_json()
    report = verify_bundle(data, root)
    assert not report.ok
    assert "does not apply" in report.problems[0]


@pytest.mark.parametrize(
    ("diff", "why"),
    [
        (
            "--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n",
            "leaves the repository",
        ),
        ("--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n", "leaves the repository"),
        (
            "--- a/.github/workflows/ci.yml\n+++ b/.github/workflows/ci.yml\n@@ -1 +1 @@\n-a\n+b\n",
            "refused",
        ),
        (
            "diff --git a/logo.png b/logo.png\nindex 1..2 100644\nBinary files a/logo.png and b/logo.png differ\n",
            "binary",
        ),
        ("", "empty"),
    ],
)
def test_unsafe_diffs_are_refused(diff: str, why: str) -> None:
    with pytest.raises(PatchError, match=why):
        validate_diff(diff)


def test_new_files_diff_as_creations() -> None:
    diff = FileEdit("tests/test_repro.py", "", "def test_x():\n    assert 1\n").diff()
    assert diff.startswith("--- /dev/null\n+++ b/tests/test_repro.py\n")
    assert validate_diff(diff) == ("tests/test_repro.py",)
