"""The Checks REST API of the fake GitHub: check runs and check suites.

The App writes its own check run (`FixWurx verification`) and reads everyone else's suites on a
commit to wait for CI, so both sides are served from the simulator's records (`fake.ci.state`):
the App's runs sit in the App's own suite, Actions' runs in one suite per workflow run.
Responses are completed and validated against the OpenAPI description by the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from tests.fakes.github.cimodels import ACTIONS_APP_ID, CheckRun, CheckSuite
from tests.fakes.github.events import app_object, pull_requests

if TYPE_CHECKING:
    from tests.fakes.github.server import FakeGitHub, FakeRepo


class ChecksApi:
    """Handlers for `/repos/{o}/{r}/check-runs...`, `/commits/{ref}/check-runs|check-suites`."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake

    def create_run(self, request: Request, body: Any, owner: str, name: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        if self.fake.commit_exists(repo.full_name, body["head_sha"]) is False:
            self.fake.fail(422, f"No commit found for SHA: {body['head_sha']}")
        check = self.fake.ci.app_checks.create(repo, body)
        return self.fake.json(201, self.run_json(repo, check))

    def update_run(self, request: Request, body: Any, owner: str, name: str, cid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        check = self._run_of(repo, cid)
        if check.owner != "app":
            self.fake.fail(
                403,
                f"Invalid app_id `{self.fake.app_id}` - check run can only be modified by "
                "the GitHub App that created it.",
            )
        self.fake.ci.app_checks.update(repo, check, body)
        return self.fake.json(200, self.run_json(repo, check))

    def get_run(self, request: Request, _b: Any, owner: str, name: str, cid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        return self.fake.json(200, self.run_json(repo, self._run_of(repo, cid)))

    def annotations(self, request: Request, _b: Any, owner: str, name: str, cid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        found = self._run_of(repo, cid).output.get("annotations", [])
        blob = f"{self.fake.base_url}/{repo.full_name}/blob"
        shaped = [
            {
                "path": a["path"],
                "start_line": a["start_line"],
                "end_line": a["end_line"],
                "start_column": a.get("start_column"),
                "end_column": a.get("end_column"),
                "annotation_level": a["annotation_level"],
                "title": a.get("title"),
                "message": a["message"],
                "raw_details": a.get("raw_details"),
                "blob_href": f"{blob}/{self._run_of(repo, cid).head_sha}/{a['path']}",
            }
            for a in self.fake.page(request, found)
        ]
        return self.fake.json(200, shaped)

    def rerequest_run(self, request: Request, _b: Any, owner: str, name: str, cid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        check = self._run_of(repo, cid)
        if check.status != "completed":
            self.fake.fail(422, "This check run is not rerequestable")
        self.fake.ci.rerequest(check, self.fake.bot)
        return self.fake.json(201, {})

    def runs_for_ref(self, request: Request, _b: Any, owner: str, name: str, ref: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        sha = self.fake.resolve_ref(repo.full_name, ref)
        found = [c for c in self.fake.ci.check_runs(repo.full_name, sha)]
        args = request.args
        if "check_name" in args:
            found = [c for c in found if c.name == args["check_name"]]
        if "status" in args:
            found = [c for c in found if c.status == args["status"]]
        if "app_id" in args:
            found = [c for c in found if self._app_id(c.owner) == int(args["app_id"])]
        if args.get("filter", "latest") == "latest":
            found = _latest(found)
        found.sort(key=lambda c: -c.id)
        page = self.fake.page(request, found)
        runs = [self.run_json(repo, c) for c in page]
        return self.fake.json(200, {"total_count": len(found), "check_runs": runs})

    def suites_for_ref(
        self, request: Request, _b: Any, owner: str, name: str, ref: str
    ) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        sha = self.fake.resolve_ref(repo.full_name, ref)
        state = self.fake.ci.state
        found = [
            s for s in state.suites.values() if s.full_name == repo.full_name and s.head_sha == sha
        ]
        if "app_id" in request.args:
            found = [s for s in found if self._app_id(s.owner) == int(request.args["app_id"])]
        if "check_name" in request.args:
            wanted = request.args["check_name"]
            found = [s for s in found if any(state.check_runs[i].name == wanted for i in s.run_ids)]
        page = self.fake.page(request, found)
        suites = [self.suite_json(repo, s) for s in page]
        return self.fake.json(200, {"total_count": len(found), "check_suites": suites})

    def get_suite(self, request: Request, _b: Any, owner: str, name: str, sid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        return self.fake.json(200, self.suite_json(repo, self._suite_of(repo, sid)))

    def suite_runs(self, request: Request, _b: Any, owner: str, name: str, sid: str) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        suite = self._suite_of(repo, sid)
        found = [self.fake.ci.state.check_runs[i] for i in suite.run_ids]
        if request.args.get("filter", "latest") == "latest":
            found = _latest(found)
        found.sort(key=lambda c: -c.id)
        runs = [self.run_json(repo, c) for c in self.fake.page(request, found)]
        return self.fake.json(200, {"total_count": len(found), "check_runs": runs})

    def rerequest_suite(
        self, request: Request, _b: Any, owner: str, name: str, sid: str
    ) -> Response:
        repo = self.fake.repo_for(request, owner, name)
        suite = self._suite_of(repo, sid)
        runs = [self.fake.ci.state.check_runs[i] for i in suite.run_ids]
        if runs:
            self.fake.ci.rerequest(runs[-1], self.fake.bot)
        return self.fake.json(201, {})

    # --- rendering ---------------------------------------------------------------------------

    def run_json(self, repo: FakeRepo, check: CheckRun) -> dict[str, Any]:
        fake = self.fake
        api = f"{fake.api_url}/repos/{repo.full_name}"
        suite = fake.ci.state.suites[check.suite_id]
        html = f"{fake.base_url}/{repo.full_name}/runs/{check.id}"
        return {
            "id": check.id,
            "node_id": f"CR_fake{check.id}",
            "head_sha": check.head_sha,
            "external_id": check.external_id,
            "url": f"{api}/check-runs/{check.id}",
            "html_url": html,
            "details_url": check.details_url or html,
            "status": check.status,
            "conclusion": check.conclusion,
            "started_at": check.started_at,
            "completed_at": check.completed_at,
            "name": check.name,
            "output": {
                "title": check.output.get("title"),
                "summary": check.output.get("summary"),
                "text": check.output.get("text"),
                "annotations_count": check.output.get("annotations_count", 0),
                "annotations_url": f"{api}/check-runs/{check.id}/annotations",
            },
            "check_suite": {"id": suite.id},
            "app": self._app_json(check.owner),
            "pull_requests": pull_requests(fake, repo, suite.head_branch),
        }

    def suite_json(self, repo: FakeRepo, suite: CheckSuite) -> dict[str, Any]:
        fake = self.fake
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
            "app": self._app_json(suite.owner),
            "repository": fake.repo_json(repo),
            "created_at": suite.created_at,
            "updated_at": suite.updated_at,
            "head_commit": fake.commit_json(repo.full_name, suite.head_sha),
            "latest_check_runs_count": len(
                _latest([fake.ci.state.check_runs[i] for i in suite.run_ids])
            ),
            "check_runs_url": f"{api}/check-suites/{suite.id}/check-runs",
            "rerequestable": True,
            "runs_rerequestable": True,
        }

    def _app_json(self, owner: str) -> dict[str, Any]:
        app = app_object(self.fake, "app" if owner == "app" else "actions")
        return {
            **app,
            "node_id": f"A_fake{app['id']}",
            "owner": self.fake.user_json("github" if owner == "actions" else "octo", 9919),
            "description": None,
            "external_url": self.fake.base_url,
            "html_url": f"{self.fake.base_url}/apps/{app['slug']}",
            "permissions": {"checks": "write"},
            "events": [],
        }

    def _app_id(self, owner: str) -> int:
        return self.fake.app_id if owner == "app" else ACTIONS_APP_ID

    def _suite_of(self, repo: FakeRepo, sid: str) -> CheckSuite:
        suite = self.fake.ci.state.suites.get(int(sid))
        if suite is None or suite.full_name != repo.full_name:
            self.fake.fail(404, "Not Found")
        assert suite is not None
        return suite

    def _run_of(self, repo: FakeRepo, cid: str) -> CheckRun:
        check = self.fake.ci.state.check_runs.get(int(cid))
        if check is None or check.full_name != repo.full_name:
            self.fake.fail(404, "Not Found")
        assert check is not None
        return check


def _latest(runs: list[CheckRun]) -> list[CheckRun]:
    """GitHub's `filter=latest`: the newest run of each name (per suite)."""
    newest: dict[tuple[int, str], CheckRun] = {}
    for check in runs:
        key = (check.suite_id, check.name)
        if key not in newest or newest[key].id < check.id:
            newest[key] = check
    return list(newest.values())
