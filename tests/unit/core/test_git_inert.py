"""Issue 22 item 6 and finding 8: FixWurx's own git calls run nothing a checkout configured.

A checkout's `.git` is the repository's to shape, and in a work copy its tests can rewrite it.
With real git: a worktree-style `.git` whose `commondir` points at a folder of the checkout
(whose config sets `core.fsmonitor`, past the credential scrub), and a clone whose config a
test rewrote with fsmonitor, filter and diff drivers. The marker those commands would write
must never appear: through `fixwurx fix` and `Workspace.prepare` here, and through the App's
clone, commit and diff calls (tests/unit/github/test_git_inert.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import gitcmd
from app.errors import BadInput
from app.workspace import Workspace


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _arm(config_dir: Path, marker: Path) -> None:
    """Set every command-running knob of `config_dir`'s config to write `marker`."""
    command = f"touch {marker}; cat"
    for key, value in (
        ("core.fsmonitor", f"touch {marker}; true"),
        ("filter.evil.clean", command),
        ("filter.evil.smudge", command),
        ("filter.evil.process", f"touch {marker}"),
        ("diff.evil.textconv", command),
        ("diff.external", f"touch {marker}; true"),
        ("core.pager", f"touch {marker}; cat"),
    ):
        _git(config_dir, "config", "--file", str(config_dir / "config"), key, value)


@pytest.fixture
def worktree_style(tmp_path: Path) -> tuple[Path, Path]:
    """A checkout whose `.git` directory has `commondir` -> `../evil-git` (inside it)."""
    marker = tmp_path / "MARKER"
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    _git(checkout, "init", "-q")
    (checkout / "calc.py").write_text("x = 1\n")
    (checkout / ".gitattributes").write_text("*.py filter=evil diff=evil\n")
    _git(checkout, "add", "-A")
    _git(checkout, "commit", "-qm", "base")
    (checkout / ".git").rename(checkout / "evil-git")
    dot_git = checkout / ".git"
    dot_git.mkdir()
    (dot_git / "commondir").write_text("../evil-git\n")
    (dot_git / "HEAD").write_text((checkout / "evil-git" / "HEAD").read_text())
    (dot_git / "index").write_bytes((checkout / "evil-git" / "index").read_bytes())
    _arm(checkout / "evil-git", marker)
    (checkout / "calc.py").write_text("x = 2\n")  # dirty: `fixwurx fix` would run git status
    # Plain git really would run the marker's commands here: the fixture is armed.
    subprocess.run(["git", "status"], cwd=checkout, capture_output=True, check=False)
    assert marker.exists()
    marker.unlink()
    return checkout, marker


def test_a_worktree_style_git_dir_is_refused_by_name(worktree_style: tuple[Path, Path]) -> None:
    checkout, marker = worktree_style
    with pytest.raises(BadInput, match=r"checkout/\.git has commondir") as caught:
        Workspace.prepare(checkout)
    assert "main worktree or a plain clone" in str(caught.value)
    assert not marker.exists()


def test_fixwurx_fix_never_runs_the_checkouts_fsmonitor(
    worktree_style: tuple[Path, Path], tmp_path: Path
) -> None:
    checkout, marker = worktree_style
    done = subprocess.run(
        [sys.executable, "-m", "app", "fix", str(checkout), "--test", "pytest -q"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
        check=False,
    )
    assert not marker.exists(), done.stderr[-2000:]
    assert done.returncode != 0 and "commondir" in done.stderr


def test_every_call_reads_no_system_or_global_config(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[alias]\n\tzz = status\n[user]\n\tname = leaked\n")
    env = {**os.environ, "HOME": str(home)}
    listed = gitcmd.run_git(None, "config", "--list", env=env)
    assert "leaked" not in listed.stdout and "zz" not in listed.stdout
