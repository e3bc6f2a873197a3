"""Disposable work copies never touch the user's tree and pin the content to a commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.errors import BadInput
from app.workspace import Workspace, git


def test_plain_folder_is_snapshotted(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "big").write_text("ignored")
    ws = Workspace.prepare(tmp_path)
    try:
        assert ws.snapshotted
        assert (ws.root / "src" / "a.py").read_text() == "x = 1\n"
        assert not (ws.root / ".venv").exists()
        assert git(ws.root, "rev-parse", "HEAD").stdout.strip() == ws.base_commit
        assert not (tmp_path / ".git").exists(), "the user's folder must stay untouched"
    finally:
        ws.cleanup()
    assert not ws.root.exists()


def test_clean_checkout_keeps_its_head(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "i"],
    ):
        subprocess.run(["git", *args], cwd=tmp_path, check=True)
    head = git(tmp_path, "rev-parse", "HEAD").stdout.strip()
    ws = Workspace.prepare(tmp_path)
    try:
        assert ws.base_commit == head and not ws.snapshotted
    finally:
        ws.cleanup()


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_bad_paths(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "nope"
    if kind == "file":
        target.write_text("")
    with pytest.raises(
        BadInput, match="does not exist" if kind == "missing" else "not a directory"
    ):
        Workspace.prepare(target)


def test_an_invalid_repo_config_is_bad_input_naming_the_file(tmp_path: Path) -> None:
    from app.testing.testcmd import resolve

    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "fixwurx.yml").write_text("test_command: pytest -q\nunknown_key: 1\n")
    with pytest.raises(BadInput, match=r"(?s)\.github/fixwurx\.yml.*unknown_key"):
        resolve(tmp_path, None)
    (tmp_path / ".github" / "fixwurx.yml").write_text("test_command: python -m unittest\n")
    command = resolve(tmp_path, None)  # runs through pytest: one outcome per test
    assert command.is_pytest and command.argv[1:3] == ("-m", "pytest")
