"""The Actions REST API of the fake GitHub: workflows, dispatches, runs, jobs, logs, artifacts.

FixWurx dispatches its canary workflow and reads back runs, job logs and JUnit artifacts, so
these answer from the simulator's records (`fake.ci`). Logs and artifact archives are answered
as GitHub does, with a 302 to a short-lived download URL (served by the fake under
`DOWNLOAD_PREFIX`, no token needed, like GitHub's signed blob URLs).

`return_run_details`: @octokit/openapi 23.0.2 documents it (200 with `workflow_run_id`,
`run_url`, `html_url`; 204 without it). A repository switched with
`fake.ci.set_run_details(name, False)` answers 422 to a body that has the field, as a server
from before the field did, so the client must retry without it and find its run by the nonce in
the run name.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from tests.fakes.github.ci import UnexpectedInputs
from tests.fakes.github.cimodels import Artifact, Job, Workflow, WorkflowRun
from tests.fakes.github.events import pull_requests

if TYPE_CHECKING:
    from tests.fakes.github.server import FakeGitHub, FakeRepo

#: Where the fake serves log and archive downloads (outside the API prefix, like GitHub's).
DOWNLOAD_PREFIX = "/_downloads/"
#: Run `status` filter values that are conclusions rather than statuses (GitHub accepts both).
CONCLUSIONS = {
    "success",
    "failure",
    "neutral",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
    "stale",
}


def run_urls(fake: FakeGitHub, repo: FakeRepo, run: WorkflowRun) -> dict[str, str]:
    """The URL fields of a workflow run object (shared by REST and webhook payloads)."""
    api = f"{fake.api_url}/repos/{repo.full_name}"
    return {
        "url": f"{api}/actions/runs/{run.id}",
        "html_url": f"{fake.base_url}/{repo.full_name}/actions/runs/{run.id}",
        "jobs_url": f"{api}/actions/runs/{run.id}/jobs",
        "logs_url": f"{api}/actions/runs/{run.id}/logs",
        "check_suite_url": f"{api}/check-suites/{run.suite_id}",
        "artifacts_url": f"{api}/actions/runs/{run.id}/artifacts",
        "cancel_url": f"{api}/actions/runs/{run.id}/cancel",
        "rerun_url": f"{api}/actions/runs/{run.id}/rerun",
        "workflow_url": f"{api}/actions/workflows/{run.workflow.id}",
    }


class ActionsApi:
    """Handlers for `/repos/{o}/{r}/actions/...` and the download URLs they redirect to."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        #: token -> (content type, bytes) for `DOWNLOAD_PREFIX` URLs.
        self.downloads: dict[str, tuple[str, bytes]] = {}

    # --- workflows ---------------------------------------------------------------------------

    def list_workflows(self, request: Request, _b: Any, owner: str, name: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        found = self.fake.ci.workflows(repo.full_name)
        page = [self.workflow_json(repo, w) for w in self.fake.page(request, found)]
        return self.fake.json(200, {"total_count": len(found), "workflows": page})

    def get_workflow(self, request: Request, _b: Any, owner: str, name: str, wid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        return self.fake.json(200, self.workflow_json(repo, self._workflow(repo, wid)))

    def dispatch(self, request: Request, body: Any, owner: str, name: str, wid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        workflow = self._workflow(repo, wid)
        config = self.fake.ci.repos[repo.full_name]
        wants_details = "return_run_details" in body
        if wants_details and not config.run_details:
            self.fake.fail(422, 'Invalid request.\n\n"return_run_details" is not a permitted key.')
        if "workflow_dispatch" not in workflow.events:
            self.fake.fail(422, "Workflow does not have 'workflow_dispatch' trigger")
        branch = body["ref"].removeprefix("refs/heads/")
        # Inputs reach the job as text, as GitHub passes them (`true`, not `True`).
        given = (body.get("inputs") or {}).items()
        inputs = {k: v if isinstance(v, str) else json.dumps(v) for k, v in given}
        try:
            run = self.fake.ci.dispatch(repo.full_name, workflow, branch, inputs, self.fake.bot)
        except UnexpectedInputs as exc:
            self.fake.fail(422, str(exc))
        except KeyError:
            self.fake.fail(422, f"No ref found for: {body['ref']}")
        if not body.get("return_run_details"):
            return Response(status=204)
        urls = run_urls(self.fake, repo, run)
        return self.fake.json(
            200, {"workflow_run_id": run.id, "run_url": urls["url"], "html_url": urls["html_url"]}
        )

    # --- runs --------------------------------------------------------------------------------

    def list_runs(self, request: Request, _b: Any, owner: str, name: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        found = self._filtered(self.fake.ci.runs(repo.full_name), request.args)
        return self._runs_page(request, repo, found)

    def list_workflow_runs(
        self, request: Request, _b: Any, owner: str, name: str, wid: str
    ) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        workflow = self._workflow(repo, wid)
        runs = [r for r in self.fake.ci.runs(repo.full_name) if r.workflow.id == workflow.id]
        return self._runs_page(request, repo, self._filtered(runs, request.args))

    def get_run(self, request: Request, _b: Any, owner: str, name: str, rid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        return self.fake.json(200, self.run_json(repo, self._run(repo, rid)))

    def rerun(self, request: Request, _b: Any, owner: str, name: str, rid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        run = self._run(repo, rid)
        if run.status != "completed":
            self.fake.fail(403, "This workflow is already running")
        self.fake.ci.rerun(run)
        return self.fake.json(201, {})

    def rerun_failed(
        self, request: Request, body: Any, owner: str, name: str, rid: str
    ) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        run = self._run(repo, rid)
        if run.status != "completed" or run.conclusion == "success":
            self.fake.fail(403, "This workflow run has no failed jobs to re-run")
        self.fake.ci.rerun(run)
        return self.fake.json(201, {})

    def list_jobs(self, request: Request, _b: Any, owner: str, name: str, rid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        run = self._run(repo, rid)
        jobs = [self.fake.ci.state.jobs[i] for i in run.job_ids]
        if request.args.get("filter", "latest") == "latest":
            jobs = [j for j in jobs if j.run_attempt == run.run_attempt]
        page = [self.job_json(repo, run, j) for j in self.fake.page(request, jobs)]
        return self.fake.json(200, {"total_count": len(jobs), "jobs": page})

    def get_job(self, request: Request, _b: Any, owner: str, name: str, jid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        job = self._job(repo, jid)
        return self.fake.json(200, self.job_json(repo, self.fake.ci.state.runs[job.run_id], job))

    def get_artifact(self, request: Request, _b: Any, owner: str, name: str, aid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        artifact = self._artifact(repo, aid)
        run = self.fake.ci.state.runs[artifact.run_id]
        return self.fake.json(200, self.artifact_json(repo, run, artifact))

    def job_logs(self, request: Request, _b: Any, owner: str, name: str, jid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        job = self._job(repo, jid)
        if job.status != "completed":
            self.fake.fail(404, "Not Found")  # GitHub has no log to offer before the job ends
        return self._redirect("text/plain; charset=utf-8", job.log.encode())

    def list_artifacts(
        self, request: Request, _b: Any, owner: str, name: str, rid: str
    ) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        run = self._run(repo, rid)
        found = [self.fake.ci.state.artifacts[i] for i in reversed(run.artifact_ids)]
        if "name" in request.args:
            found = [a for a in found if a.name == request.args["name"]]
        page = [self.artifact_json(repo, run, a) for a in self.fake.page(request, found)]
        return self.fake.json(200, {"total_count": len(found), "artifacts": page})

    def artifact_zip(self, request: Request, _b: Any, owner: str, name: str, aid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        return self._redirect("application/zip", self._artifact(repo, aid).data)

    def download(self, token: str) -> Response:
        """GET on a `DOWNLOAD_PREFIX` URL: the file (no auth, like a signed blob URL)."""
        found = self.downloads.get(token)
        if found is None:
            return Response("BlobNotFound", status=404)
        content_type, data = found
        return Response(data, status=200, content_type=content_type)

    # --- rendering ---------------------------------------------------------------------------

    def workflow_json(self, repo: FakeRepo, workflow: Workflow) -> dict[str, Any]:
        api = f"{self.fake.api_url}/repos/{repo.full_name}"
        html = f"{self.fake.base_url}/{repo.full_name}"
        return {
            "id": workflow.id,
            "node_id": f"W_fake{workflow.id}",
            "name": workflow.name,
            "path": workflow.path,
            "state": "active",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "url": f"{api}/actions/workflows/{workflow.id}",
            "html_url": f"{html}/blob/{repo.default_branch}/{workflow.path}",
            "badge_url": f"{html}/workflows/{workflow.file}/badge.svg",
        }

    def run_json(self, repo: FakeRepo, run: WorkflowRun) -> dict[str, Any]:
        actor = self.fake.user_json(run.actor, 5000)
        return {
            "id": run.id,
            "name": run.workflow.name,
            "node_id": f"WFR_fake{run.id}",
            "check_suite_id": run.suite_id,
            "check_suite_node_id": f"CS_fake{run.suite_id}",
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "path": run.workflow.path,
            "display_title": run.display_title,
            "run_number": run.run_number,
            "run_attempt": run.run_attempt,
            "event": run.event,
            "status": run.status,
            "conclusion": run.conclusion,
            "workflow_id": run.workflow.id,
            "pull_requests": pull_requests(self.fake, repo, run.head_branch),
            "created_at": run.created_at,
            "updated_at": run.updated_at,
            "run_started_at": run.run_started_at or run.created_at,
            "actor": actor,
            "triggering_actor": actor,
            "head_commit": self.fake.commit_json(repo.full_name, run.head_sha),
            "repository": self.fake.repo_json(repo),
            "head_repository": self.fake.repo_json(repo),
            **run_urls(self.fake, repo, run),
        }

    def job_json(self, repo: FakeRepo, run: WorkflowRun, job: Job) -> dict[str, Any]:
        api = f"{self.fake.api_url}/repos/{repo.full_name}"
        return {
            "id": job.id,
            "run_id": run.id,
            "run_url": f"{api}/actions/runs/{run.id}",
            "run_attempt": job.run_attempt,
            "node_id": f"CR_fake{job.id}",
            "head_sha": job.head_sha,
            "head_branch": run.head_branch,
            "workflow_name": run.workflow.name,
            "url": f"{api}/actions/jobs/{job.id}",
            "html_url": f"{self.fake.base_url}/{repo.full_name}/actions/runs/{run.id}/job/{job.id}",
            "status": job.status,
            "conclusion": job.conclusion,
            "created_at": job.created_at,
            "started_at": job.started_at or job.created_at,
            "completed_at": job.completed_at,
            "name": job.name,
            "steps": job.steps,
            "check_run_url": f"{api}/check-runs/{job.check_run_id}",
            "labels": ["ubuntu-latest"],
            "runner_id": 1,
            "runner_name": "GitHub Actions 1",
            "runner_group_id": 0,
            "runner_group_name": "GitHub Actions",
        }

    def artifact_json(self, repo: FakeRepo, run: WorkflowRun, artifact: Artifact) -> dict[str, Any]:
        api = f"{self.fake.api_url}/repos/{repo.full_name}"
        return {
            "id": artifact.id,
            "node_id": f"MDg6QXJ0aWZhY3Q{artifact.id}",
            "name": artifact.name,
            "size_in_bytes": len(artifact.data),
            "url": f"{api}/actions/artifacts/{artifact.id}",
            "archive_download_url": f"{api}/actions/artifacts/{artifact.id}/zip",
            "expired": False,
            "created_at": artifact.created_at,
            "updated_at": artifact.created_at,
            "expires_at": "2099-01-01T00:00:00Z",
            "workflow_run": {
                "id": run.id,
                "repository_id": repo.id,
                "head_repository_id": repo.id,
                "head_branch": run.head_branch,
                "head_sha": run.head_sha,
            },
        }

    # --- helpers -----------------------------------------------------------------------------

    def _runs_page(self, request: Request, repo: FakeRepo, runs: list[WorkflowRun]) -> Response:
        runs = sorted(runs, key=lambda r: -r.id)  # newest first, as GitHub lists them
        page = [self.run_json(repo, r) for r in self.fake.page(request, runs)]
        return self.fake.json(200, {"total_count": len(runs), "workflow_runs": page})

    def _filtered(self, runs: list[WorkflowRun], args: Any) -> list[WorkflowRun]:
        if "branch" in args:
            runs = [r for r in runs if r.head_branch == args["branch"]]
        if "head_sha" in args:
            runs = [r for r in runs if r.head_sha == args["head_sha"]]
        if "event" in args:
            runs = [r for r in runs if r.event == args["event"]]
        if "actor" in args:
            runs = [r for r in runs if r.actor == args["actor"]]
        if "check_suite_id" in args:
            runs = [r for r in runs if r.suite_id == int(args["check_suite_id"])]
        if "status" in args:
            wanted = args["status"]
            field = "conclusion" if wanted in CONCLUSIONS else "status"
            runs = [r for r in runs if getattr(r, field) == wanted]
        return runs

    def _workflow(self, repo: FakeRepo, wid: str) -> Workflow:
        for workflow in self.fake.ci.workflows(repo.full_name):
            if wid in (str(workflow.id), workflow.file):
                return workflow
        self.fake.fail(404, "Not Found")
        raise AssertionError("unreachable")

    def _run(self, repo: FakeRepo, rid: str) -> WorkflowRun:
        run = self.fake.ci.state.runs.get(int(rid))
        if run is None or run.full_name != repo.full_name:
            self.fake.fail(404, "Not Found")
        assert run is not None
        return run

    def _job(self, repo: FakeRepo, jid: str) -> Job:
        job = self.fake.ci.state.jobs.get(int(jid))
        if job is None or self.fake.ci.state.runs[job.run_id].full_name != repo.full_name:
            self.fake.fail(404, "Not Found")
        assert job is not None
        return job

    def _artifact(self, repo: FakeRepo, aid: str) -> Artifact:
        artifact = self.fake.ci.state.artifacts.get(int(aid))
        if artifact is None or self.fake.ci.state.runs[artifact.run_id].full_name != repo.full_name:
            self.fake.fail(404, "Not Found")
        assert artifact is not None
        return artifact

    def _redirect(self, content_type: str, data: bytes) -> Response:
        token = secrets.token_urlsafe(16)
        self.downloads[token] = (content_type, data)
        location = f"{self.fake.base_url}{DOWNLOAD_PREFIX}{token}"
        return Response(status=302, headers={"Location": location})
