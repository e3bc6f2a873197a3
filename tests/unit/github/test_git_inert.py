"""Issue 22 item 6 through the App's clone path: git calls run nothing a test wrote into .git."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app import gitcmd
from app.errors import BadInput
from app.github import git as app_git
from tests.fakes.github import FakeGitHub
from tests.unit.core.test_git_inert import _arm

TOKEN = "ghs_" + "inert0" * 6


def test_the_app_clone_path_never_runs_what_a_test_wrote_into_git_config(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake_github.add_repo(
        "octo/app", {"app.py": "x = 1\n", ".gitattributes": "*.py filter=evil diff=evil\n"}
    )
    fake_github.tokens[TOKEN] = (424242, time.time() + 3600)
    remote = f"{fake_github.base_url}/octo/app.git"
    checkout = app_git.clone(remote, TOKEN, tmp_path / "clone")
    marker = tmp_path / "MARKER"
    _arm(checkout / ".git", marker)  # as a test in the clone's working tree could
    (checkout / "app.py").write_text("x = 2\n")
    try:
        base = app_git.head(checkout)
        app_git.checkout(checkout, base, "fixwurx/issue-1")
        assert "x = 2" in app_git.diff_against(checkout, base)
        app_git.commit_all(checkout, "change", "fixwurx[bot]", "1+fixwurx[bot]@users.noreply.x")
        gitcmd.run_git(checkout, "status", "--porcelain")
        gitcmd.run_git(checkout, "log", "-p", "-1")
    finally:  # the marker, not git's complaint about it, is the verdict
        assert not marker.exists()


@pytest.mark.parametrize("planted", ["commondir", "objects/info/alternates"])
def test_a_clone_whose_git_dir_a_test_redirected_is_refused_by_name(
    fake_github: FakeGitHub, tmp_path: Path, planted: str
) -> None:
    fake_github.add_repo("octo/app", {"app.py": "x = 1\n"})
    fake_github.tokens[TOKEN] = (424242, time.time() + 3600)
    checkout = app_git.clone(f"{fake_github.base_url}/octo/app.git", TOKEN, tmp_path / "clone")
    elsewhere = tmp_path / "elsewhere"
    (checkout / ".git" / planted).write_text(f"{elsewhere}\n")
    with pytest.raises(BadInput, match=rf"clone/\.git has {planted}"):
        app_git.diff_against(checkout, "HEAD")
