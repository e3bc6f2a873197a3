"""Webhook payloads about the fake's CI records: `check_suite`, `check_run`, `workflow_run` and
the merged `pull_request.closed`.

Each starts from a real `@octokit/webhooks-examples` payload (`tests/fakes/webhooks.example`,
which validates the result against `@octokit/webhooks-schemas`) with the CI object, repository,
installation, pull requests and sender rewritten to the fake's state, so FixWurx's handlers see
the shape GitHub sends and the ids the fake's REST API answers to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakes import webhooks
from tests.fakes.github.cimodels import (
    ACTIONS_APP_ID,
    ACTIONS_APP_SLUG,
    CheckRun,
    CheckSuite,
    Owner,
    WorkflowRun,
)

if TYPE_CHECKING:
    from tests.fakes.github.server import FakeGitHub, FakeRepo

#: (event name, payload), as `CiSimulator.take_deliveries` hands them out.
Delivery = tuple[str, dict[str, Any]]


def app_object(fake: FakeGitHub, owner: Owner) -> dict[str, Any]:
    """The `app` of a check suite or run: FixWurx itself or GitHub Actions."""
    if owner == "app":
        return {"id": fake.app_id, "slug": fake.slug, "name": "FixWurx"}
    return {"id": ACTIONS_APP_ID, "slug": ACTIONS_APP_SLUG, "name": "GitHub Actions"}


def sender(fake: FakeGitHub, login: str) -> dict[str, Any]:
    """A `sender`: the App's bot user for FixWurx's own pushes and calls, else a person."""
    if login == f"{fake.slug}[bot]":
        return {"login": login, "id": fake.bot_id, "type": "Bot"}
    return {"login": login, "id": 5000 + len(login), "type": "User"}


def pull_requests(fake: FakeGitHub, repo: FakeRepo, branch: str | None) -> list[dict[str, Any]]:
    """The open pull requests whose head is `branch`, in the minimal shape CI objects carry."""
    api = f"{fake.api_url}/repos/{repo.full_name}"
    ref = {"id": repo.id, "url": api, "name": repo.name}
    found = []
    for pull in fake.open_pulls(repo.full_name):
        if branch is None or pull["head"] != branch:
            continue
        head_sha = fake.branch_sha(repo.full_name, pull["head"]) or pull["base_sha"]
        base_sha = fake.branch_sha(repo.full_name, pull["base"]) or pull["base_sha"]
        found.append(
            {
                "url": f"{api}/pulls/{pull['number']}",
                "id": 20_000 + pull["number"],
                "number": pull["number"],
                "head": {"ref": pull["head"], "sha": head_sha, "repo": ref},
                "base": {"ref": pull["base"], "sha": base_sha, "repo": ref},
            }
        )
    return found


def _common(fake: FakeGitHub, repo: FakeRepo, login: str) -> dict[str, Any]:
    from tests.fakes.github.deliver import repository

    return {
        "repository": repository(fake, repo),
        "installation": {"id": repo.installation_id},
        "sender": sender(fake, login),
    }


def _repo_lite(fake: FakeGitHub, repo: FakeRepo) -> dict[str, Any]:
    """The repository inside a workflow run object (the example's names another one)."""
    api = f"{fake.api_url}/repos/{repo.full_name}"
    return {
        "id": repo.id,
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": {"login": repo.owner},
        "url": api,
        "html_url": f"{fake.base_url}/{repo.full_name}",
    }


def _suite_object(fake: FakeGitHub, repo: FakeRepo, suite: CheckSuite) -> dict[str, Any]:
    api = f"{fake.api_url}/repos/{repo.full_name}"
    return {
        "id": suite.id,
        "node_id": f"CS_fake{suite.id}",
        "head_branch": suite.head_branch,
        "head_sha": suite.head_sha,
        "status": suite.status,
        "conclusion": suite.conclusion,
        "url": f"{api}/check-suites/{suite.id}",
        "before": suite.before,
        "after": suite.head_sha,
        "pull_requests": pull_requests(fake, repo, suite.head_branch),
        "app": app_object(fake, suite.owner),
        "created_at": suite.created_at,
        "updated_at": suite.updated_at,
        "latest_check_runs_count": len(suite.run_ids),
        "check_runs_url": f"{api}/check-suites/{suite.id}/check-runs",
        "head_commit": fake.commit_json(repo.full_name, suite.head_sha),
    }


def check_suite(
    fake: FakeGitHub, repo: FakeRepo, suite: CheckSuite, action: str, login: str
) -> Delivery:
    """check_suite.<action> (completed, requested, rerequested) for `suite`."""
    changes = {"check_suite": _suite_object(fake, repo, suite), **_common(fake, repo, login)}
    return "check_suite", webhooks.example("check_suite", action, **changes)


def check_run(
    fake: FakeGitHub,
    repo: FakeRepo,
    run: CheckRun,
    suite: CheckSuite,
    action: str,
    login: str,
) -> Delivery:
    """check_run.<action> (created, completed, rerequested) for `run`."""
    api = f"{fake.api_url}/repos/{repo.full_name}"
    suite_object = {
        k: v
        for k, v in _suite_object(fake, repo, suite).items()
        if k not in ("latest_check_runs_count", "check_runs_url", "head_commit")
    }
    changes = {
        "check_run": {
            "id": run.id,
            "node_id": f"CR_fake{run.id}",
            "head_sha": run.head_sha,
            "external_id": run.external_id or "",
            "url": f"{api}/check-runs/{run.id}",
            "html_url": f"{fake.base_url}/{repo.full_name}/runs/{run.id}",
            "details_url": run.details_url or f"{fake.base_url}/{repo.full_name}/runs/{run.id}",
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": run.started_at,
            "completed_at": run.completed_at,
            "output": {
                "title": run.output.get("title"),
                "summary": run.output.get("summary"),
                "text": run.output.get("text"),
                "annotations_count": run.output.get("annotations_count", 0),
                "annotations_url": f"{api}/check-runs/{run.id}/annotations",
            },
            "name": run.name,
            "check_suite": suite_object,
            "app": app_object(fake, run.owner),
            "pull_requests": pull_requests(fake, repo, suite.head_branch),
        },
        **_common(fake, repo, login),
    }
    return "check_run", webhooks.example("check_run", action, **changes)


def workflow_run(fake: FakeGitHub, repo: FakeRepo, run: WorkflowRun, action: str) -> Delivery:
    """workflow_run.<action> (requested, completed) for `run`; the sender is its actor."""
    from tests.fakes.github.actions import run_urls

    workflow = run.workflow
    api = f"{fake.api_url}/repos/{repo.full_name}"
    actor = sender(fake, run.actor)
    changes = {
        "workflow_run": {
            "id": run.id,
            "name": workflow.name,
            "node_id": f"WFR_fake{run.id}",
            "check_suite_id": run.suite_id,
            "check_suite_node_id": f"CS_fake{run.suite_id}",
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "path": workflow.path,
            "display_title": run.display_title,
            "run_number": run.run_number,
            "run_attempt": run.run_attempt,
            "event": run.event,
            "status": run.status,
            "conclusion": run.conclusion,
            "workflow_id": workflow.id,
            "pull_requests": pull_requests(fake, repo, run.head_branch),
            "created_at": run.created_at,
            "updated_at": run.updated_at,
            "run_started_at": run.run_started_at or run.created_at,
            "actor": actor,
            "triggering_actor": actor,
            "previous_attempt_url": None,
            "head_commit": fake.commit_json(repo.full_name, run.head_sha),
            "repository": _repo_lite(fake, repo),
            "head_repository": _repo_lite(fake, repo),
            **run_urls(fake, repo, run),
        },
        "workflow": {
            "id": workflow.id,
            "name": workflow.name,
            "path": workflow.path,
            "url": f"{api}/actions/workflows/{workflow.id}",
            "html_url": f"{fake.base_url}/{repo.full_name}/blob/{repo.default_branch}/"
            f"{workflow.path}",
        },
        **_common(fake, repo, run.actor),
    }
    # The example's organization is octo-org's; the fake's repositories belong to users.
    payload = webhooks.example("workflow_run", action, **changes)
    payload.pop("organization", None)
    webhooks.validate("workflow_run", payload)
    return "workflow_run", payload


def merged_pull(fake: FakeGitHub, repo: FakeRepo, number: int, by: str) -> Delivery:
    """pull_request.closed for pull `number`, merged by `by`."""
    pull = repo.pulls[number]
    api = f"{fake.api_url}/repos/{repo.full_name}"
    changes = {
        "number": number,
        "pull_request": {
            "number": number,
            "id": 20_000 + number,
            "node_id": pull["node_id"],
            "title": pull["title"],
            "body": pull["body"],
            "url": f"{api}/pulls/{number}",
            "html_url": f"{fake.base_url}/{repo.full_name}/pull/{number}",
            "draft": pull["draft"],
            "merge_commit_sha": pull["merge_sha"],
            "merged_by": sender(fake, by),
            "head": {"ref": pull["head"], "sha": pull["head_sha_at_merge"]},
            "base": {"ref": pull["base"], "sha": pull["base_sha"]},
            "user": sender(fake, f"{fake.slug}[bot]"),
        },
        **_common(fake, repo, by),
    }
    return "pull_request", webhooks.merged_pull_request(**changes)
