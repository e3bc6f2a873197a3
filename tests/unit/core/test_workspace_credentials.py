"""A local checkout's git credentials never reach the tests that run in its work copy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.gitcredentials import render_config
from app.sandbox import run
from app.workspace import Workspace, git

TOKEN = "ghs_16holeTwoExtraheaderToken0123456789"

#: A test from the repository under repair that goes looking for credentials.
SNOOP_TEST = """
import pathlib, subprocess

def test_no_credentials_in_git():
    found = subprocess.run(["git", "config", "--list", "--show-origin"],
                           capture_output=True, text=True).stdout
    for name in ("config", "FETCH_HEAD", "logs/HEAD", "logs/refs/heads/main"):
        path = pathlib.Path(".git", name)
        if path.is_file():
            found += path.read_text(errors="replace")
    print(found)
    assert "{token}" not in found
    assert "extraheader" not in found.lower()
    assert "credential" not in found.lower()
"""


def _checkout(path: Path) -> None:
    (path / "test_snoop.py").write_text(SNOOP_TEST.replace("{token}", TOKEN))
    commands = [
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "i"],
        # What actions/checkout leaves behind, and the other usual places for a token.
        ["config", "http.https://github.com/.extraheader", f"AUTHORIZATION: basic {TOKEN}"],
        ["config", "credential.helper", f"!echo password={TOKEN}"],
        ["config", "remote.origin.url", f"https://x-access-token:{TOKEN}@github.com/o/r.git"],
        ["config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"],
        ["config", f"url.https://{TOKEN}@github.com/.insteadOf", "https://github.com/"],
        ["config", "includeIf.gitdir:/.path", "/root/.gitconfig-secret"],
        ["config", "include.path", "../secret.inc"],
    ]
    for args in commands:
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)
    (path / ".git" / "FETCH_HEAD").write_text(
        f"abc\t\tbranch 'main' of https://x-access-token:{TOKEN}@github.com/o/r\n"
    )


def test_the_tests_see_no_extraheader_helper_or_token(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    _checkout(checkout)
    ws = Workspace.prepare(checkout)
    try:
        config = (ws.root / ".git" / "config").read_text()
        assert TOKEN not in config and "extraheader" not in config
        assert "https://github.com/o/r.git" in config  # the remote stays, without its user
        assert "+refs/heads/*:refs/remotes/origin/*" in config
        assert not (ws.root / ".git" / "FETCH_HEAD").exists()
        result = run([sys.executable, "-m", "pytest", "-q", "-s", "test_snoop.py"], ws.root, 60)
        assert result.ok, result.stdout + result.stderr
        assert TOKEN not in result.stdout
        assert git(ws.root, "rev-parse", "HEAD").returncode == 0  # still a working repository
        assert not ws.snapshotted
    finally:
        ws.cleanup()
    assert TOKEN in (checkout / ".git" / "config").read_text(), "the user's checkout is untouched"


def test_a_git_file_pointing_elsewhere_is_not_used(tmp_path: Path) -> None:
    """A linked worktree's `.git` file names a git directory outside the copy."""
    elsewhere = tmp_path / "elsewhere.git"
    subprocess.run(["git", "init", "-q", "--bare", str(elsewhere)], check=True)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "a.py").write_text("x = 1\n")
    (checkout / ".git").write_text(f"gitdir: {elsewhere}\n")
    ws = Workspace.prepare(checkout)
    try:
        assert ws.snapshotted and (ws.root / ".git").is_dir()
        top = git(ws.root, "rev-parse", "--absolute-git-dir").stdout.strip()
        assert Path(top) == ws.root / ".git"
    finally:
        ws.cleanup()


def test_rendered_config_round_trips_through_git(tmp_path: Path) -> None:
    entries = [
        ("core.bare", "false"),
        ('remote.we"ird.x.url', 'https://h/a "b" \\c'),
        ("branch.main.merge", "refs/heads/main"),
    ]
    path = tmp_path / "config"
    path.write_text(render_config(entries))
    listed = subprocess.run(
        ["git", "config", "--file", str(path), "--null", "--list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    back = [tuple(item.split("\n", 1)) for item in listed.split("\0") if item]
    assert back == entries
