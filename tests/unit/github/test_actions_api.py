"""Canary dispatch, run lookup, job logs and the JUnit artifact against the fake GitHub's CI."""

from __future__ import annotations

import time

import pytest

from app.github import actions
from app.github.client import GitHubClient
from tests.fakes.github import FakeGitHub
from tests.fakes.github.ci import Workflow

CANARY = Workflow(
    name="FixWurx canary",
    file="fixwurx-canary.yml",
    events=("workflow_dispatch",),
    command="python -c 'import sys; print(\"boom\"); sys.exit(1)'",
)


@pytest.fixture
def client(fake_github: FakeGitHub) -> GitHubClient:
    fake_github.add_repo("octo/app", {"README.md": "hi\n"})
    fake_github.ci.configure("octo/app", [CANARY])
    token = "ghs_" + "t" * 36
    fake_github.tokens[token] = (424242, time.time() + 3600)
    return GitHubClient(fake_github.api_url, token)


@pytest.mark.parametrize("details", [True, False])
def test_dispatch_returns_the_run_with_or_without_run_details(
    fake_github: FakeGitHub, client: GitHubClient, details: bool
) -> None:
    fake_github.ci.set_run_details("octo/app", details)  # False: 422 for the field, as old GHES
    repo = client.repo("octo/app")
    assert actions.workflow_exists(repo, CANARY.file)
    assert not actions.workflow_exists(repo, "missing.yml")
    nonce = actions.new_nonce()
    dispatched = actions.dispatch(repo, CANARY.file, "main", {"tests": "", "bundle": "b"}, nonce)
    (run,) = fake_github.ci.runs("octo/app")
    assert dispatched == actions.Dispatched(nonce, run.id)
    assert run.inputs["nonce"] == nonce


def test_a_red_run_yields_its_failing_step_and_log_excerpt(
    fake_github: FakeGitHub, client: GitHubClient
) -> None:
    repo = client.repo("octo/app")
    dispatched = actions.dispatch(repo, CANARY.file, "main", {}, actions.new_nonce())
    fake_github.ci.wait_idle(60)
    (run,) = [r for r in actions.runs_for_commit(repo, fake_github.ci.runs("octo/app")[0].head_sha)]
    assert (run.id, run.conclusion) == (dispatched.run_id, "failure")
    assert run.is_canary(CANARY.file)
    detail = actions.failure_detail(client, repo, run)
    assert (detail.job, detail.step) == ("test", "Run tests")
    assert "boom" in detail.excerpt and detail.excerpt.rstrip().endswith("exit code 1.")
    assert detail.failing_tests == []  # no JUnit artifact was uploaded
