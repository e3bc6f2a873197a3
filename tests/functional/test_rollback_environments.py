"""End to end: a rollback probe at an older commit whose dependency files differ runs in that
commit's own environment, and a second rollback run takes both environments from the cache.

Real git, the real environment builder and the sandboxed test runs of
`app/flows/rollback/bisect.py`. The dependency is a wheel committed to the repository
(`helper` 1.0 at the older commit, 2.0 at the newer), installed offline from its path; each
commit's test asserts the version its own requirements name, so a probe run on the other
commit's environment fails.
"""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from app.environments import EnvironmentRequest
from app.flows.rollback.bisect import CommitTests

pytestmark = pytest.mark.slow


def wheel(version: str) -> bytes:
    """A minimal pure-Python wheel of `helper` whose module says its version."""
    info = f"helper-{version}.dist-info"
    files = {
        "helper.py": f'VERSION = "{version}"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: helper\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def git(root: Path, *args: str) -> str:
    who = ["-c", "user.email=t@example.com", "-c", "user.name=t"]
    done = subprocess.run(
        ["git", *who, *args], cwd=root, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit_helper(root: Path, version: str) -> str:
    """A commit whose requirements name the committed wheel `version` and whose test wants it."""
    name = f"helper-{version}-py3-none-any.whl"
    (root / "wheels").mkdir(exist_ok=True)
    (root / "wheels" / name).write_bytes(wheel(version))
    (root / "requirements.txt").write_text(f"./wheels/{name}\n")
    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / "test_helper.py").write_text(
        f'import helper\n\n\ndef test_version():\n    assert helper.VERSION == "{version}"\n'
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", f"helper {version}")
    return git(root, "rev-parse", "HEAD")


def test_an_older_commit_with_other_dependencies_is_probed_in_its_own_cached_environment(
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    old = commit_helper(root, "1.0")
    new = commit_helper(root, "2.0")
    request = EnvironmentRequest(scope="repo:helper", cache_dir=tmp_path / "environments")

    first = CommitTests(root, None, 300, request)
    try:
        red = first.run(new)  # a rollback probes the newest commit first
        older = first.run(old)
        again = first.run(new)
    finally:
        first.close()
    assert (red.ran, red.failed) == (1, ()), red
    assert (older.ran, older.failed) == (1, ()), older  # helper 1.0: not the newer environment
    assert again.failed == () and first.environments == 2
    built = first.prepared
    assert [e.reused for e in built] == [False, False]
    assert built[0].venv != built[1].venv

    second = CommitTests(root, None, 300, request)  # the next rollback run, another worker
    try:
        assert second.run(old).failed == () and second.run(new).failed == ()
    finally:
        second.close()
    assert [e.reused for e in second.prepared] == [True, True]
    assert [e.venv for e in second.prepared] == [built[1].venv, built[0].venv]
