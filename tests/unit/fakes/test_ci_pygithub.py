"""The fake's CI as PyGithub (the App's client library) sees it, and the simulator's edges:
timeouts, a UI re-run of the App's check, and jobs killed when the fake stops."""

from __future__ import annotations

import time

import requests
from github import Auth, Github

from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.github.ci import Workflow


def _github(fake: FakeGitHub, repo: FakeRepo) -> Github:
    token = fake.mint_token(repo.installation_id)
    return Github(
        base_url=fake.api_url,
        auth=Auth.Token(token),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def test_pygithub_dispatches_reads_jobs_logs_and_check_runs(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    gh_repo = _github(fake_github, repo).get_repo(repo.full_name)
    workflow = gh_repo.get_workflow("fixwurx-canary.yml")
    assert workflow.create_dispatch("main", {"tests": "check.py", "nonce": "n-7"})
    fake_github.ci.wait_idle(30)

    (run,) = workflow.get_runs(event="workflow_dispatch")
    assert (run.display_title, run.conclusion) == ("FixWurx canary n-7", "success")
    (job,) = run.jobs()
    log = requests.get(job.logs_url(), timeout=10).text
    assert "tests=check.py ci=true" in log
    checks = gh_repo.get_commit(run.head_sha).get_check_runs()
    assert [c.name for c in checks] == ["test"]

    mine = gh_repo.create_check_run("FixWurx verification", run.head_sha, status="in_progress")
    mine.edit(conclusion="neutral", output={"title": "Waiting", "summary": "CI timed out"})
    assert gh_repo.get_check_run(mine.id).conclusion == "neutral"
    suites = gh_repo.get_commit(run.head_sha).get_check_suites(app_id=fake_github.app_id)
    assert [s.conclusion for s in suites] == ["neutral"]


def test_a_job_over_its_timeout_fails_with_githubs_timeout_line(
    fake_github: FakeGitHub,
) -> None:
    fake_github.add_repo("octo/slow", {"a.txt": "a\n"})
    slow = Workflow(name="CI", file="ci.yml", command="sleep 30", timeout_s=0.5)
    fake_github.ci.configure("octo/slow", [slow])
    fake_github.commit_files("octo/slow", "main", {"b.txt": "b\n"}, "Go")
    fake_github.ci.wait_idle(10)
    (run,) = fake_github.ci.runs("octo/slow")
    assert run.conclusion == "failure"
    (job,) = [fake_github.ci.state.jobs[i] for i in run.job_ids]
    assert "##[error]The action has timed out." in job.log


def test_rerunning_the_apps_check_from_the_ui_delivers_rerequested(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    gh_repo = _github(fake_github, repo).get_repo(repo.full_name)
    sha = fake_github.branch_sha(repo.full_name, "main")
    assert sha is not None
    mine = gh_repo.create_check_run("FixWurx verification", sha, conclusion="failure")
    fake_github.ci.take_deliveries()
    fake_github.ci.rerequest_from_ui(mine.id, by="alice")
    ((event, payload),) = fake_github.ci.take_deliveries()
    assert (event, payload["action"], payload["sender"]["login"]) == (
        "check_run",
        "rerequested",
        "alice",
    )
    assert payload["check_run"]["app"]["id"] == fake_github.app_id


def test_stopping_the_fake_kills_running_jobs(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/hang", {"a.txt": "a\n"})
    fake_github.ci.configure("octo/hang", [Workflow(name="CI", file="ci.yml", command="sleep 60")])
    fake_github.commit_files("octo/hang", "main", {"b.txt": "b\n"}, "Go")
    began = time.monotonic()
    fake_github.ci.shutdown(timeout=10)
    assert time.monotonic() - began < 5
    (run,) = fake_github.ci.runs("octo/hang")
    assert (run.running, run.conclusion) == (False, "failure")
