"""git over smart HTTP with the token in a header: it works, and the token goes nowhere else."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.errors import GitHubError
from app.github import git
from tests.fakes.github import FakeGitHub

TOKEN = "ghs_" + "s3cr3t" * 6


@pytest.fixture
def remote(fake_github: FakeGitHub) -> str:
    fake_github.add_repo("octo/app", {"app.py": "x = 1\n"})
    fake_github.tokens[TOKEN] = (424242, time.time() + 3600)
    return f"{fake_github.base_url}/octo/app.git"


def _all_text(root: Path) -> str:
    return "".join(p.read_bytes().decode("latin-1") for p in root.rglob("*") if p.is_file())


def test_clone_commit_push_with_header_auth(
    remote: str, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    checkout = git.clone(remote, TOKEN, tmp_path / "repo")
    (checkout / "app.py").write_text("x = 2\n")
    git.checkout(checkout, git.head(checkout), "fixwurx/issue-1")
    sha = git.commit_all(checkout, "change", "fixwurx[bot]", "1+fixwurx[bot]@users.noreply.x")
    git.push(checkout, remote, TOKEN, "fixwurx/issue-1")
    assert fake_github.branch_sha("octo/app", "fixwurx/issue-1") == sha
    assert fake_github.show("octo/app", "fixwurx/issue-1", "app.py") == "x = 2\n"
    # Neither the token nor its Basic encoding is stored anywhere in the clone.
    stored = _all_text(checkout / ".git")
    assert TOKEN not in stored
    assert git.auth_env(remote, TOKEN)["GIT_CONFIG_VALUE_0"].split()[-1] not in stored
    assert "extraHeader" not in (checkout / ".git" / "config").read_text()


def test_auth_header_is_scoped_to_the_remote_origin(remote: str) -> None:
    env = git.auth_env(remote, TOKEN)
    assert env["GIT_CONFIG_KEY_0"] == f"http.{remote.rsplit('/octo', 1)[0]}/.extraHeader"
    assert TOKEN not in env["GIT_CONFIG_KEY_0"]


def test_a_bad_token_fails_without_printing_it(remote: str, tmp_path: Path) -> None:
    bad = "ghs_" + "b" * 36
    with pytest.raises(GitHubError) as caught:
        git.clone(remote, bad, tmp_path / "repo")
    assert bad not in str(caught.value)
    assert "clone failed" in str(caught.value)


def test_an_expired_token_is_refused_by_the_server(
    remote: str, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake_github.expire_tokens()
    with pytest.raises(GitHubError):
        git.clone(remote, TOKEN, tmp_path / "repo")


def test_protected_branch_push_is_refused(
    remote: str, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake_github.repos["octo/app"].protected.add("main")
    checkout = git.clone(remote, TOKEN, tmp_path / "repo")
    (checkout / "app.py").write_text("x = 3\n")
    git.commit_all(checkout, "change", "a", "a@example.com")
    with pytest.raises(GitHubError, match="push failed"):
        git.push(checkout, remote, TOKEN, "main")


def test_force_push_only_to_fixwurx_branches(remote: str, tmp_path: Path) -> None:
    checkout = git.clone(remote, TOKEN, tmp_path / "repo")
    with pytest.raises(GitHubError, match="refusing to force-push 'main'"):
        git.push(checkout, remote, TOKEN, "main", force=True)
