"""A fake GitHub: a real HTTP server on 127.0.0.1 with state, spec checks and git over HTTP.

It implements the REST endpoints FixWurx calls (installation tokens, repos, contents, issues,
comments, reactions, collaborator permissions, pulls, users, the App's webhook delivery log and
redelivery, the Checks API in `checks.py`, the Actions API in `actions.py`) plus smart-HTTP git
for real clones and pushes, all behind token checks, and a CI simulator (`fake.ci`, `ci.py`)
that runs a repository's configured workflows on pushes and dispatches. Every API
request is checked against GitHub's OpenAPI description (path and query parameter types
included), and so is every response a handler gives; a request outside the API prefix and a
documented endpoint the fake does not implement are violations too. Violations are collected and
the fixture fails the test if there are any.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import itertools
import json
import re
import secrets
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.github import events, git_http, gitops
from tests.fakes.github.actions import DOWNLOAD_PREFIX, ActionsApi
from tests.fakes.github.checks import ChecksApi
from tests.fakes.github.ci import CiSimulator
from tests.fakes.github.graphql_api import GRAPHQL_PATH, GraphQLApi
from tests.fakes.github.manifests import FakeManifests
from tests.fakes.github.oauth import FakeOAuth
from tests.fakes.github.spec import load_spec

API_PREFIX = "/api/v3"
#: The manifest flow's "Create GitHub App" page, for a user or an organization.
MANIFEST_PAGE = re.compile(r"(?:/organizations/([^/]+))?/settings/apps/new")
#: The status of a documented endpoint the fake has no handler for (GitHub never sends it, so
#: no client code can mistake it for a real answer); the request is also a violation.
NOT_IMPLEMENTED = 501
#: Lifetime of the installation tokens the fake mints (GitHub's is one hour).
TOKEN_LIFETIME_S = 3600
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "PATH": "/usr/bin:/bin",
    "HOME": "/nonexistent",
}


class HttpError(Exception):
    """Ends a request with a GitHub-shaped error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Injected:
    """A canned response served instead of the real one (rate limits, outages)."""

    method: str
    pattern: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: Any
    times: int


@dataclass
class FakeRepo:
    """One repository: metadata, a bare git repository, and its issues and pulls."""

    id: int
    owner: str
    name: str
    installation_id: int
    default_branch: str
    bare: Path
    collaborators: dict[str, str] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    reactions: list[dict[str, Any]] = field(default_factory=list)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def git(args: list[str], cwd: Path, stdin: bytes | None = None) -> str:
    """Run git for the fake's own bookkeeping (never with FixWurx's credentials)."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, input=stdin, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {args} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode(errors="replace")


class FakeGitHub:
    """The fake. Start with `start()`, stop with `stop()`; the `fake_github` fixture does both."""

    def __init__(self, root: Path, app_id: int = 31337, slug: str = "fixwurx") -> None:
        self.root = root
        self.app_id = app_id
        self.slug = slug
        self.bot_id = 900001
        key = _app_key()
        self.private_key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
        self._public_key = key.public_key()
        self.repos: dict[str, FakeRepo] = {}
        self.tokens: dict[str, tuple[int, float]] = {}
        self.minted: list[int] = []
        self.comments: dict[int, dict[str, Any]] = {}
        self.violations: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.injected: list[Injected] = []
        #: The App's webhook delivery log (one entry per attempt), filled by `add_delivery`.
        self.deliveries: list[dict[str, Any]] = []
        #: Log entry ids that `POST /app/hook/deliveries/{id}/attempts` asked to send again.
        self.redelivered: list[int] = []
        #: Entries per page at most, whatever `per_page` asks (GitHub's cap is 100); tests lower
        #: it to page through a short log.
        self.max_per_page = 100
        #: "Sign in with GitHub": the OAuth web flow and `GET /user` (tests/fakes/github/oauth.py).
        self.oauth = FakeOAuth()
        #: The App manifest flow (tests/fakes/github/manifests.py).
        self.manifests = FakeManifests(self.app_id, self.private_key_pem)
        self._ids = itertools.count(1000)
        self._lock = threading.RLock()
        #: The CI simulator (GitHub Actions and the Checks API's records); see ci.py.
        self.ci = CiSimulator(self)
        self.checks_api = ChecksApi(self)
        self.actions_api = ActionsApi(self)
        #: GraphQL at GitHub Enterprise's path (graphql_api.py); `.calls` lists what ran.
        self.graphql = GraphQLApi(self)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        """Serve on a free loopback port in a background thread."""
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.port = self._server.server_port
        self.oauth.api_url = self.api_url
        # A short poll interval: `stop()` waits up to one interval, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (and kill the CI jobs still running)."""
        self.ci.shutdown()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        """The web root (clone URLs live here), like https://github.example.com."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def graphql_url(self) -> str:
        """GraphQL, GitHub Enterprise style: `{base}/api/graphql`."""
        return f"{self.base_url}{GRAPHQL_PATH}"

    @property
    def api_url(self) -> str:
        """The REST root, GitHub Enterprise style (GITHUB_API_URL)."""
        return f"{self.base_url}{API_PREFIX}"

    # --- test setup and inspection -----------------------------------------------------------

    def add_repo(
        self,
        full_name: str,
        files: dict[str, str],
        *,
        installation_id: int = 424242,
        default_branch: str = "main",
        collaborators: dict[str, str] | None = None,
    ) -> FakeRepo:
        """A repository whose default branch holds `files` in one commit."""
        owner, name = full_name.split("/")
        bare = self.root / owner / f"{name}.git"
        bare.parent.mkdir(parents=True, exist_ok=True)
        git(
            ["init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(bare)],
            self.root,
        )
        repo = FakeRepo(
            id=next(self._ids),
            owner=owner,
            name=name,
            installation_id=installation_id,
            default_branch=default_branch,
            bare=bare,
            collaborators=dict(collaborators or {}),
        )
        self.repos[full_name] = repo
        self.commit_files(full_name, default_branch, files, "Initial commit")
        return repo

    def commit_files(
        self,
        full_name: str,
        branch: str,
        files: dict[str, str],
        message: str,
        *,
        pusher: str = "alice",
    ) -> str:
        """Commit `files` (path -> text) on top of `branch` (created from default if new), as a
        push by `pusher`: the CI simulator runs the branch's push workflows, if configured."""
        repo = self.repos[full_name]
        before = self.branch_sha(full_name, branch)
        work = self.root / "work" / f"{repo.name}-{next(self._ids)}"
        git(["clone", "--quiet", str(repo.bare), str(work)], self.root)
        if self.branch_sha(full_name, branch) is not None:
            git(["checkout", "--quiet", branch], work)
        elif self.branch_sha(full_name, repo.default_branch) is not None:
            git(["checkout", "--quiet", "-b", branch], work)
        else:
            git(["checkout", "--quiet", "--orphan", branch], work)
        for path, text in files.items():
            target = work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        git(["add", "--all"], work)
        git(["commit", "--quiet", "-m", message], work)
        git(["push", "--quiet", "origin", f"HEAD:refs/heads/{branch}"], work)
        sha = git(["rev-parse", "HEAD"], work).strip()
        self.ci.on_push(full_name, branch, sha, before, pusher)
        return sha

    def push_commits(
        self,
        full_name: str,
        branch: str,
        commits: list[tuple[dict[str, str], str]],
        *,
        pusher: str = "alice",
    ) -> list[str]:
        """Several commits (files, message) on top of an existing `branch`, sent in ONE push:
        GitHub runs the push workflows on the new tip only, so CI is red or green there and
        nowhere in between. Returns the new commits' shas, oldest first."""
        repo = self.repos[full_name]
        before = self.branch_sha(full_name, branch)
        if before is None:
            raise KeyError(f"{full_name} has no branch {branch!r}")
        work = self.root / "work" / f"{repo.name}-{next(self._ids)}"
        git(["clone", "--quiet", "--branch", branch, str(repo.bare), str(work)], self.root)
        made = []
        for files, message in commits:
            for path, text in files.items():
                target = work / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
            git(["add", "--all"], work)
            git(["commit", "--quiet", "--allow-empty", "-m", message], work)
            made.append(git(["rev-parse", "HEAD"], work).strip())
        git(["push", "--quiet", "origin", f"HEAD:refs/heads/{branch}"], work)
        self.ci.on_push(full_name, branch, made[-1], before, pusher)
        return made

    def merge_pull(self, full_name: str, number: int, *, by: str = "alice") -> str:
        """Merge pull `number` as `by` would with the merge button: a real merge commit on the
        base branch (first parent: the base branch's tip), the pull marked merged, a
        `pull_request.closed` delivery queued, and CI run on the base branch. Returns the
        merge commit's sha."""
        repo = self.repos[full_name]
        pull = repo.pulls[number]
        if pull["state"] != "open":
            raise ValueError(f"pull #{number} of {full_name} is {pull['state']}, not open")
        before = self.branch_sha(full_name, pull["base"])
        head_sha = self.branch_sha(full_name, pull["head"])
        message = (
            f"Merge pull request #{number} from {repo.owner}/{pull['head']}\n\n{pull['title']}"
        )
        work = self.root / "work" / f"{repo.name}-merge-{self.next_id()}"
        sha = gitops.merge(repo.bare, work, pull["base"], pull["head"], message, by)
        with self._lock:
            pull.update(state="closed", merged=True, merge_sha=sha, merged_by=by)
            pull["head_sha_at_merge"] = head_sha
            repo.issues[number]["state"] = "closed"
            self.ci.queue(events.merged_pull(self, repo, number, by))
        self.ci.on_push(full_name, pull["base"], sha, before, by)
        return sha

    def next_id(self) -> int:
        """A fresh id for any object the fake makes."""
        return next(self._ids)

    @property
    def bot(self) -> str:
        """The login of the App's bot user (the actor of everything the App does)."""
        return f"{self.slug}[bot]"

    def commit_subject(self, full_name: str, sha: str) -> str:
        """The first line of a commit's message."""
        return git(["log", "-1", "--format=%s", sha], self.repos[full_name].bare).strip()

    def branch_at(self, full_name: str, sha: str) -> str | None:
        """A branch whose tip is `sha` (the default branch first), or None."""
        repo = self.repos[full_name]
        names = git(
            ["for-each-ref", "--points-at", sha, "--format=%(refname:short)", "refs/heads"],
            repo.bare,
        ).split()
        if repo.default_branch in names:
            return repo.default_branch
        return names[0] if names else None

    def resolve_ref(self, full_name: str, ref: str) -> str:
        """The commit a sha, branch or tag names (404 when none)."""
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            cwd=self.repos[full_name].bare,
            env=GIT_ENV,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise HttpError(422, f"No commit found for SHA: {ref}")
        return done.stdout.strip()

    def commit_exists(self, full_name: str, sha: str) -> bool:
        """Whether `sha` is a commit of the repository."""
        try:
            return self.resolve_ref(full_name, sha) == sha
        except HttpError:
            return False

    def commit_json(self, full_name: str, sha: str) -> dict[str, Any]:
        """GitHub's `simple-commit` object for `sha` (a check suite's or run's `head_commit`)."""
        fields = git(
            ["log", "-1", "--format=%T%x00%B%x00%aI%x00%an%x00%ae%x00%cn%x00%ce", sha],
            self.repos[full_name].bare,
        ).split("\0")
        tree, message, when, author, author_email, committer, committer_email = fields[:7]
        return {
            "id": sha,
            "tree_id": tree,
            "message": message.strip(),
            "timestamp": when.strip(),
            "author": {"name": author, "email": author_email},
            "committer": {"name": committer, "email": committer_email.strip()},
        }

    def branch_sha(self, full_name: str, branch: str) -> str | None:
        """The commit a branch points at, or None when it does not exist."""
        repo = self.repos[full_name]
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
            cwd=repo.bare,
            env=GIT_ENV,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() or None

    def show(self, full_name: str, ref: str, path: str) -> str | None:
        """A file's text at `ref`, or None."""
        repo = self.repos[full_name]
        done = subprocess.run(
            ["git", "show", f"{ref}:{path}"], cwd=repo.bare, env=GIT_ENV, capture_output=True
        )
        return done.stdout.decode() if done.returncode == 0 else None

    def add_issue(
        self,
        full_name: str,
        title: str,
        body: str = "",
        *,
        user: str = "alice",
        state: str = "open",
        locked: bool = False,
        labels: tuple[str, ...] = (),
    ) -> int:
        """Open an issue; returns its number."""
        repo = self.repos[full_name]
        with self._lock:
            number = repo.next_number
            repo.next_number += 1
            repo.issues[number] = {
                "number": number,
                "title": title,
                "body": body,
                "user": user,
                "state": state,
                "locked": locked,
                "labels": _labels(list(labels)),
                "pull": False,
            }
        return number

    def issue_comments(self, full_name: str, number: int) -> list[dict[str, Any]]:
        """The comments on issue/PR `number`, oldest first."""
        return [
            c for c in self.comments.values() if c["repo"] == full_name and c["number"] == number
        ]

    def open_pulls(self, full_name: str) -> list[dict[str, Any]]:
        """The open pull requests of a repository."""
        return [p for p in self.repos[full_name].pulls.values() if p["state"] == "open"]

    def pull_diff(self, full_name: str, number: int) -> str:
        """`git diff base...head` of a pull request, as GitHub computes it."""
        repo = self.repos[full_name]
        pull = repo.pulls[number]
        return git(["diff", f"{pull['base_sha']}...refs/heads/{pull['head']}"], repo.bare)

    def inject(
        self,
        method: str,
        path_pattern: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        message: str = "",
        times: int = 1,
        body: Any = None,
    ) -> None:
        """Answer the next `times` matching API requests with `status` (e.g. a rate limit)."""
        if body is None:
            body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        self.injected.append(
            Injected(method, re.compile(path_pattern), status, headers or {}, body, times)
        )

    def add_delivery(
        self,
        guid: str,
        event: str,
        action: str | None,
        status_code: int,
        delivered_at: dt.datetime,
        redelivery: bool = False,
        *,
        status: str | None = None,
        installation_id: int | None = 424242,
    ) -> int:
        """Log one attempt at delivering `guid` (status code 0: no response); returns its id."""
        if status is None:
            status = _delivery_status(status_code)
        with self._lock:
            entry_id = next(self._ids)
            self.deliveries.append(
                {
                    "id": entry_id,
                    "guid": guid,
                    "delivered_at": _iso(delivered_at.timestamp()),
                    "redelivery": redelivery,
                    "duration": 0.05,
                    "status": status,
                    "status_code": status_code,
                    "event": event,
                    "action": action,
                    "installation_id": installation_id,
                    "repository_id": None,
                    "throttled_at": None,
                }
            )
        return entry_id

    def mint_token(self, installation_id: int) -> str:
        """A fresh installation token, as `POST /app/installations/{id}/access_tokens` gives
        (tests that talk to the fake as the App without the App's auth code use it)."""
        token = "ghs_" + secrets.token_hex(18)
        with self._lock:
            self.tokens[token] = (installation_id, time.time() + TOKEN_LIFETIME_S)
            self.minted.append(installation_id)
        return token

    def expire_tokens(self) -> None:
        """Make every minted installation token invalid (as after an hour)."""
        with self._lock:
            self.tokens = {t: (i, 0.0) for t, (i, _exp) in self.tokens.items()}

    def count(self, method: str, pattern: str) -> int:
        """How many API requests matched `method` and the path regex `pattern`."""
        regex = re.compile(pattern)
        return sum(1 for m, p in self.requests if m == method and regex.fullmatch(p))

    # --- WSGI --------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            if request.path.startswith(API_PREFIX + "/"):
                response = self._api(request)
            elif request.path == GRAPHQL_PATH:
                response = self.graphql.handle(request)
            elif request.path.startswith(DOWNLOAD_PREFIX):
                response = self.actions_api.download(request.path[len(DOWNLOAD_PREFIX) :])
            elif request.path.startswith("/login/oauth/"):
                response = self.oauth.handle(request)
            elif (found := MANIFEST_PAGE.fullmatch(request.path)) is not None:
                response = self.manifests.create_page(request, found.group(1))
            elif ".git/" in request.path:
                response = self._git(request)
            else:
                # Not a silent 404: a request off the API prefix is a bug in the caller.
                message = f"{request.method} {request.path} is outside {API_PREFIX} and not git"
                self.violations.append(message)
                raise HttpError(404, message)
        except HttpError as exc:
            response = _json(exc.status, {"message": exc.message})
        except Exception as exc:  # a bug in the fake must fail the test, not hang it
            self.violations.append(
                f"fake GitHub crashed on {request.method} {request.path}: {exc!r}"
            )
            response = _json(500, {"message": f"fake crashed: {exc!r}"})
        return response(environ, start_response)

    def _api(self, request: Request) -> Response:
        path = _api_path(request)
        query = {k: v for k, v in request.args.items()}
        raw = request.get_data()
        body = json.loads(raw) if raw else None
        problems = load_spec().violations(request.method, path, query, body)
        with self._lock:
            self.requests.append((request.method, path))
            self.violations.extend(problems)
            canned = self._injected(request.method, path)
        if problems:
            # Real GitHub answers 422 (or 404) too; the fixture fails the test on top of that.
            raise HttpError(422, "Validation Failed: " + "; ".join(problems))
        if canned is not None:
            return canned
        for method, pattern, handler in self._routes():
            found = re.fullmatch(pattern, path)
            if method == request.method and found:
                with self._lock:
                    args = [urllib.parse.unquote(g) for g in found.groups()]
                    response = handler(request, body, *args)
                return self._checked(request.method, path, response)
        # GitHub documents the endpoint but the fake has no handler: answering 404 would look
        # like "no such issue" or "not a collaborator" to the client, so the test fails instead.
        message = f"the fake does not implement {request.method} {path}"
        with self._lock:
            self.violations.append(message)
        raise HttpError(NOT_IMPLEMENTED, message)

    def _checked(self, method: str, path: str, response: Response) -> Response:
        """A handler's JSON answer completed to the documented shape (`Spec.complete`), with
        anything that still breaks the schema GitHub documents for it recorded."""
        if response.mimetype != "application/json" or not response.get_data():
            return response
        spec = load_spec()
        data = spec.complete(method, path, response.status_code, json.loads(response.get_data()))
        problems = spec.response_violations(method, path, response.status_code, data)
        with self._lock:
            self.violations.extend(f"the fake's response broke the spec: {p}" for p in problems)
        response.set_data(json.dumps(data))
        return response

    def _injected(self, method: str, path: str) -> Response | None:
        for item in self.injected:
            if item.times > 0 and item.method == method and item.pattern.fullmatch(path):
                item.times -= 1
                return _json(item.status, item.body, item.headers)
        return None

    def _routes(self) -> list[tuple[str, str, Callable[..., Response]]]:
        repo = r"/repos/([^/]+)/([^/]+)"
        checks, actions = self.checks_api, self.actions_api
        return [
            ("POST", r"/app/installations/(\d+)/access_tokens", self._access_token),
            ("GET", r"/app", self._app),
            ("POST", r"/app-manifests/([^/]+)/conversions", self._convert_manifest),
            ("GET", r"/app/hook/deliveries", self._list_deliveries),
            ("POST", r"/app/hook/deliveries/(\d+)/attempts", self._redeliver),
            ("GET", r"/users/([^/]+)", self._user),
            ("GET", r"/user", self.oauth.user),
            ("GET", repo, self._repo),
            ("GET", repo + r"/contents/(.+)", self._contents),
            ("GET", repo + r"/issues/comments/(\d+)", self._get_comment),
            ("PATCH", repo + r"/issues/comments/(\d+)", self._edit_comment),
            ("GET", repo + r"/issues/(\d+)", self._issue),
            ("PATCH", repo + r"/issues/(\d+)", self._edit_issue),
            ("GET", repo + r"/issues/(\d+)/comments", self._list_comments),
            ("POST", repo + r"/issues/(\d+)/comments", self._create_comment),
            ("POST", repo + r"/issues/(\d+)/reactions", self._react),
            ("GET", repo + r"/collaborators/([^/]+)/permission", self._permission),
            ("GET", repo + r"/pulls", self._list_pulls),
            ("POST", repo + r"/pulls", self._create_pull),
            ("GET", repo + r"/pulls/(\d+)", self._pull),
            ("PATCH", repo + r"/pulls/(\d+)", self._edit_pull),
            ("GET", repo + r"/commits/([^/]+)", self._commit),
            ("POST", repo + r"/check-runs", checks.create_run),
            ("GET", repo + r"/check-runs/(\d+)", checks.get_run),
            ("PATCH", repo + r"/check-runs/(\d+)", checks.update_run),
            ("POST", repo + r"/check-runs/(\d+)/rerequest", checks.rerequest_run),
            ("GET", repo + r"/check-runs/(\d+)/annotations", checks.annotations),
            ("GET", repo + r"/commits/([^/]+)/check-runs", checks.runs_for_ref),
            ("GET", repo + r"/commits/([^/]+)/check-suites", checks.suites_for_ref),
            ("GET", repo + r"/check-suites/(\d+)", checks.get_suite),
            ("GET", repo + r"/check-suites/(\d+)/check-runs", checks.suite_runs),
            ("POST", repo + r"/check-suites/(\d+)/rerequest", checks.rerequest_suite),
            ("GET", repo + r"/actions/workflows", actions.list_workflows),
            ("GET", repo + r"/actions/workflows/([^/]+)", actions.get_workflow),
            ("POST", repo + r"/actions/workflows/([^/]+)/dispatches", actions.dispatch),
            ("GET", repo + r"/actions/workflows/([^/]+)/runs", actions.list_workflow_runs),
            ("GET", repo + r"/actions/runs", actions.list_runs),
            ("GET", repo + r"/actions/runs/(\d+)", actions.get_run),
            ("POST", repo + r"/actions/runs/(\d+)/rerun", actions.rerun),
            ("POST", repo + r"/actions/runs/(\d+)/rerun-failed-jobs", actions.rerun_failed),
            ("GET", repo + r"/actions/runs/(\d+)/jobs", actions.list_jobs),
            ("GET", repo + r"/actions/jobs/(\d+)", actions.get_job),
            ("GET", repo + r"/actions/jobs/(\d+)/logs", actions.job_logs),
            ("GET", repo + r"/actions/artifacts/(\d+)", actions.get_artifact),
            ("GET", repo + r"/actions/runs/(\d+)/artifacts", actions.list_artifacts),
            ("GET", repo + r"/actions/artifacts/(\d+)/zip", actions.artifact_zip),
        ]

    # --- authentication ----------------------------------------------------------------------

    def _bearer(self, request: Request) -> str:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in ("bearer", "token") or not value:
            raise HttpError(401, "Requires authentication")
        return value

    def _check_jwt(self, request: Request) -> None:
        try:
            claims = jwt.decode(
                self._bearer(request),
                self._public_key,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise HttpError(401, f"A JSON web token could not be decoded: {exc}") from None
        if str(claims["iss"]) != str(self.app_id):
            raise HttpError(401, f"'iss' {claims['iss']!r} is not this App")
        if claims["exp"] - claims["iat"] > 600 or claims["iat"] > time.time():
            raise HttpError(401, "'exp' is too far in the future or 'iat' is not in the past")

    def _installation_of(self, request: Request) -> int:
        token = self._bearer(request)
        installation, expires = self.tokens.get(token, (0, 0.0))
        if not installation or expires < time.time():
            raise HttpError(401, "Bad credentials")
        return installation

    def fail(self, status: int, message: str) -> None:
        """End the request with a GitHub-shaped error (raises)."""
        raise HttpError(status, message)

    def json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
        """A JSON response (the server completes and checks it against the spec)."""
        return _json(status, data, headers)

    def page(self, request: Request, items: list[Any]) -> list[Any]:
        """The `page`/`per_page` slice of `items` (GitHub's defaults: page 1, 30 per page)."""
        per_page = min(int(request.args.get("per_page", "30")), self.max_per_page)
        start = (int(request.args.get("page", "1")) - 1) * per_page
        return items[start : start + per_page]

    def installation_of(self, request: Request) -> int:
        """The installation whose valid token authenticates `request` (else 401)."""
        return self._installation_of(request)

    def repo_for(self, request: Request, owner: str, name: str) -> FakeRepo:
        """The repository a request names, if its installation token may see it (else 404)."""
        return self._repo_for(request, owner, name)

    def repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        return self._repo_json(repo)

    def user_json(self, login: str, user_id: int, kind: str = "User") -> dict[str, Any]:
        return self._user_json(login, user_id, kind)

    def _repo_for(self, request: Request, owner: str, name: str) -> FakeRepo:
        installation = self._installation_of(request)
        repo = self.repos.get(f"{owner}/{name}")
        if repo is None or repo.installation_id != installation:
            raise HttpError(404, "Not Found")
        return repo

    # --- handlers ----------------------------------------------------------------------------

    def _access_token(self, request: Request, _body: Any, installation: str) -> Response:
        self._check_jwt(request)
        token = self.mint_token(int(installation))
        expires = self.tokens[token][1]
        return _json(
            201,
            {
                "token": token,
                "expires_at": _iso(expires),
                "permissions": {
                    "contents": "write",
                    "issues": "write",
                    "pull_requests": "write",
                    "checks": "write",
                    "actions": "write",
                },
                "repository_selection": "all",
            },
        )

    def _convert_manifest(self, request: Request, body: Any, code: str) -> Response:
        status, data = self.manifests.convert(request, body, code)
        return _json(status, data)

    def _app(self, request: Request, _body: Any) -> Response:
        self._check_jwt(request)
        return _json(200, {"id": self.app_id, "slug": self.slug, "name": "FixWurx"})

    def _list_deliveries(self, request: Request, _body: Any) -> Response:
        """Newest first; `cursor` names the entry a page starts at, as the `Link` header says."""
        self._check_jwt(request)
        per_page = int(request.args.get("per_page", "30"))
        if not 1 <= per_page <= 100:
            raise HttpError(422, f"per_page={per_page} is not between 1 and 100")
        log = sorted(self.deliveries, key=lambda d: (d["delivered_at"], d["id"]), reverse=True)
        start = 0
        cursor = request.args.get("cursor")
        if cursor is not None:
            starts = [i for i, d in enumerate(log) if f"v1_{d['id']}" == cursor]
            if not starts:
                raise HttpError(422, f"cursor {cursor!r} is not valid")
            start = starts[0]
        end = start + min(per_page, self.max_per_page)
        headers = {}
        if end < len(log):
            query = f"per_page={per_page}&cursor=v1_{log[end]['id']}"
            headers["Link"] = f'<{self.api_url}/app/hook/deliveries?{query}>; rel="next"'
        return _json(200, log[start:end], headers)

    def _redeliver(self, request: Request, _body: Any, entry_id: str) -> Response:
        self._check_jwt(request)
        if not any(d["id"] == int(entry_id) for d in self.deliveries):
            raise HttpError(404, "Not Found")
        self.redelivered.append(int(entry_id))
        return _json(202, {})

    def _user(self, request: Request, _body: Any, login: str) -> Response:
        self._installation_of(request)
        # What any installation token sees of another account: the public view.
        if login == f"{self.slug}[bot]":
            user = self._user_json(login, self.bot_id, "Bot")
        else:
            user = self._user_json(login, 5000 + len(login), "User")
        return _json(200, {**user, "user_view_type": "public"})

    def _user_json(self, login: str, user_id: int, kind: str = "User") -> dict[str, Any]:
        return {
            "login": login,
            "id": user_id,
            "type": kind,
            "url": f"{self.api_url}/users/{login}",
            "html_url": f"{self.base_url}/{login}",
        }

    def _repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        return {
            "id": repo.id,
            "name": repo.name,
            "full_name": repo.full_name,
            "private": False,
            "fork": False,
            "owner": self._user_json(repo.owner, 7000),
            "default_branch": repo.default_branch,
            "url": f"{self.api_url}/repos/{repo.full_name}",
            "html_url": f"{self.base_url}/{repo.full_name}",
            "clone_url": f"{self.base_url}/{repo.full_name}.git",
        }

    def _repo(self, request: Request, _body: Any, owner: str, name: str) -> Response:
        return _json(200, self._repo_json(self._repo_for(request, owner, name)))

    def _contents(self, request: Request, _body: Any, owner: str, name: str, path: str) -> Response:
        repo = self._repo_for(request, owner, name)
        ref = request.args.get("ref", repo.default_branch)
        text = self.show(repo.full_name, ref, path)
        if text is None:
            raise HttpError(404, "Not Found")
        sha = git(["rev-parse", f"{ref}:{path}"], repo.bare).strip()
        url = f"{self.api_url}/repos/{repo.full_name}/contents/{path}?ref={ref}"
        return _json(
            200,
            {
                "type": "file",
                "encoding": "base64",
                "size": len(text.encode()),
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "content": base64.b64encode(text.encode()).decode(),
                "sha": sha,
                "url": url,
            },
        )

    def _issue_json(self, repo: FakeRepo, issue: dict[str, Any]) -> dict[str, Any]:
        api = f"{self.api_url}/repos/{repo.full_name}"
        number = issue["number"]
        found = {
            "id": 10_000 + number,
            "number": number,
            "title": issue["title"],
            "body": issue["body"],
            "state": issue["state"],
            "locked": issue["locked"],
            "user": self._user_json(issue["user"], 5000),
            "labels": issue["labels"],
            "url": f"{api}/issues/{number}",
            "html_url": f"{self.base_url}/{repo.full_name}/issues/{number}",
            "comments_url": f"{api}/issues/{number}/comments",
        }
        if issue["pull"]:  # GitHub leaves the key out for a plain issue (it is not nullable)
            found["pull_request"] = {
                "url": f"{api}/pulls/{number}",
                "html_url": f"{self.base_url}/{repo.full_name}/pull/{number}",
            }
        return found

    def _issue(self, request: Request, _body: Any, owner: str, name: str, n: str) -> Response:
        repo = self._repo_for(request, owner, name)
        issue = repo.issues.get(int(n))
        if issue is None:
            raise HttpError(404, "Not Found")
        return _json(200, self._issue_json(repo, issue))

    def _edit_issue(self, request: Request, body: Any, owner: str, name: str, n: str) -> Response:
        """PATCH an issue or a pull request's issue: title, body, state (reopen), labels."""
        repo = self._repo_for(request, owner, name)
        issue = repo.issues.get(int(n))
        if issue is None:
            raise HttpError(404, "Not Found")
        for key in ("title", "body", "state"):
            if key in body:
                issue[key] = body[key]
        if "labels" in body:
            names = [x if isinstance(x, str) else x["name"] for x in body["labels"]]
            issue["labels"] = _labels(names)
        return _json(200, self._issue_json(repo, issue))

    def add_label(self, full_name: str, number: int, label: str) -> None:
        """A person adds `label` to issue or pull request `number`."""
        issue = self.repos[full_name].issues[number]
        names = [x["name"] for x in issue["labels"] if x["name"] != label]
        issue["labels"] = _labels([*names, label])

    def _comment_json(self, comment: dict[str, Any]) -> dict[str, Any]:
        api = f"{self.api_url}/repos/{comment['repo']}"
        return {
            "id": comment["id"],
            "body": comment["body"],
            "user": self._user_json(comment["user"], self.bot_id, "Bot"),
            "url": f"{api}/issues/comments/{comment['id']}",
            "html_url": f"{self.base_url}/{comment['repo']}/issues/{comment['number']}",
            "issue_url": f"{api}/issues/{comment['number']}",
            "created_at": comment["created_at"],
            "updated_at": comment["updated_at"],
        }

    def _create_comment(
        self, request: Request, body: Any, owner: str, name: str, n: str
    ) -> Response:
        repo = self._repo_for(request, owner, name)
        if int(n) not in repo.issues:
            raise HttpError(404, "Not Found")
        if repo.issues[int(n)]["locked"]:
            raise HttpError(403, "Unable to create comment because issue is locked.")
        now = _iso(time.time())
        comment = {
            "id": next(self._ids),
            "repo": repo.full_name,
            "number": int(n),
            "body": body["body"],
            "user": f"{self.slug}[bot]",
            "created_at": now,
            "updated_at": now,
            "edits": 0,
        }
        self.comments[comment["id"]] = comment
        return _json(201, self._comment_json(comment))

    def _comment_of(self, repo: FakeRepo, comment_id: str) -> dict[str, Any]:
        comment = self.comments.get(int(comment_id))
        if comment is None or comment["repo"] != repo.full_name:
            raise HttpError(404, "Not Found")
        return comment

    def _get_comment(self, request: Request, _b: Any, owner: str, name: str, cid: str) -> Response:
        comment = self._comment_of(self._repo_for(request, owner, name), cid)
        return _json(200, self._comment_json(comment))

    def _edit_comment(
        self, request: Request, body: Any, owner: str, name: str, cid: str
    ) -> Response:
        comment = self._comment_of(self._repo_for(request, owner, name), cid)
        comment["body"] = body["body"]
        comment["edits"] += 1
        comment["updated_at"] = _iso(time.time())
        return _json(200, self._comment_json(comment))

    def _list_comments(self, request: Request, _b: Any, owner: str, name: str, n: str) -> Response:
        repo = self._repo_for(request, owner, name)
        found = self.issue_comments(repo.full_name, int(n))
        return _json(200, [self._comment_json(c) for c in found])

    def _react(self, request: Request, body: Any, owner: str, name: str, n: str) -> Response:
        repo = self._repo_for(request, owner, name)
        if int(n) not in repo.issues:
            raise HttpError(404, "Not Found")
        reaction = {"id": next(self._ids), "number": int(n), "content": body["content"]}
        for existing in repo.reactions:
            if existing["number"] == int(n) and existing["content"] == body["content"]:
                return _json(200, {**existing, "user": self._user_json(self.slug, self.bot_id)})
        repo.reactions.append(reaction)
        return _json(201, {**reaction, "user": self._user_json(self.slug, self.bot_id)})

    def _permission(self, request: Request, _b: Any, owner: str, name: str, login: str) -> Response:
        repo = self._repo_for(request, owner, name)
        role = repo.collaborators.get(login, "read")  # anyone can read a public repository
        permission = {"maintain": "write", "triage": "read"}.get(role, role)
        return _json(
            200,
            {"permission": permission, "role_name": role, "user": self._user_json(login, 5000)},
        )

    def _pull_json(self, repo: FakeRepo, pull: dict[str, Any]) -> dict[str, Any]:
        api = f"{self.api_url}/repos/{repo.full_name}"
        number = pull["number"]
        head_sha = self.branch_sha(repo.full_name, pull["head"]) or pull["base_sha"]
        return {
            "id": 20_000 + number,
            "node_id": pull["node_id"],
            "number": number,
            "state": pull["state"],
            "title": pull["title"],
            "body": pull["body"],
            "draft": pull["draft"],
            "merged": pull["merged"],
            "merge_commit_sha": pull["merge_sha"],
            "labels": repo.issues[number]["labels"],
            "url": f"{api}/pulls/{number}",
            "html_url": f"{self.base_url}/{repo.full_name}/pull/{number}",
            "user": self._user_json(f"{self.slug}[bot]", self.bot_id, "Bot"),
            "head": {
                "ref": pull["head"],
                "sha": head_sha,
                "label": f"{repo.owner}:{pull['head']}",
                "repo": self._repo_json(repo),
            },
            "base": {
                "ref": pull["base"],
                "sha": pull["base_sha"],
                "label": f"{repo.owner}:{pull['base']}",
                "repo": self._repo_json(repo),
            },
        }

    def _list_pulls(self, request: Request, _b: Any, owner: str, name: str) -> Response:
        repo = self._repo_for(request, owner, name)
        state = request.args.get("state", "open")
        head = request.args.get("head")
        found = [
            p
            for p in repo.pulls.values()
            if state in ("all", p["state"]) and (head is None or head == f"{owner}:{p['head']}")
        ]
        return _json(200, [self._pull_json(repo, p) for p in found])

    def _create_pull(self, request: Request, body: Any, owner: str, name: str) -> Response:
        repo = self._repo_for(request, owner, name)
        head = body["head"].split(":")[-1]
        pull = self.open_pull(
            repo, body["title"], body.get("body", ""), head, body["base"], body.get("draft", False)
        )
        self.ci.on_pull_opened(repo.full_name, pull["number"], self.bot)
        return _json(201, self._pull_json(repo, pull))

    def open_pull(
        self, repo: FakeRepo, title: str, body: str, head: str, base: str, draft: bool
    ) -> dict[str, Any]:
        """Open a pull request from `head` into `base` (the REST and GraphQL paths share it)."""
        base_sha = self.branch_sha(repo.full_name, base)
        if self.branch_sha(repo.full_name, head) is None or base_sha is None:
            raise HttpError(422, f"Validation Failed: head {head!r} or base {base!r} not found")
        for pull in self.open_pulls(repo.full_name):
            if pull["head"] == head and pull["base"] == base:
                raise HttpError(422, f"A pull request already exists for {repo.owner}:{head}.")
        number = self.add_issue(repo.full_name, title, body, user=self.slug)
        repo.issues[number]["pull"] = True
        repo.pulls[number] = {
            "number": number,
            "node_id": pull_node_id(repo, number),
            "title": title,
            "body": body,
            "head": head,
            "base": base,
            "base_sha": base_sha,
            "draft": bool(draft),
            "state": "open",
            "merged": False,
            "merge_sha": None,
        }
        return repo.pulls[number]

    def _commit(self, request: Request, _b: Any, owner: str, name: str, ref: str) -> Response:
        repo = self._repo_for(request, owner, name)
        sha = self.resolve_ref(repo.full_name, ref)
        simple = self.commit_json(repo.full_name, sha)
        parents = git(["rev-list", "--parents", "-n", "1", sha], repo.bare).split()[1:]
        api = f"{self.api_url}/repos/{repo.full_name}"
        return _json(
            200,
            {
                "sha": sha,
                "node_id": f"C_fake{sha[:12]}",
                "url": f"{api}/commits/{sha}",
                "html_url": f"{self.base_url}/{repo.full_name}/commit/{sha}",
                "comments_url": f"{api}/commits/{sha}/comments",
                "commit": {
                    "url": f"{api}/git/commits/{sha}",
                    "message": simple["message"],
                    "author": {**simple["author"], "date": simple["timestamp"]},
                    "committer": {**simple["committer"], "date": simple["timestamp"]},
                    "comment_count": 0,
                    "tree": {
                        "sha": simple["tree_id"],
                        "url": f"{api}/git/trees/{simple['tree_id']}",
                    },
                },
                # GitHub's user objects, or {} for an author with no account (the fake's case)
                "author": {},
                "committer": {},
                "parents": [
                    {
                        "sha": p,
                        "url": f"{api}/commits/{p}",
                        "html_url": f"{self.base_url}/{repo.full_name}/commit/{p}",
                    }
                    for p in parents
                ],
            },
        )

    def _pull(self, request: Request, _b: Any, owner: str, name: str, n: str) -> Response:
        repo = self._repo_for(request, owner, name)
        if int(n) not in repo.pulls:
            raise HttpError(404, "Not Found")
        return _json(200, self._pull_json(repo, repo.pulls[int(n)]))

    def _edit_pull(self, request: Request, body: Any, owner: str, name: str, n: str) -> Response:
        repo = self._repo_for(request, owner, name)
        pull = repo.pulls.get(int(n))
        if pull is None:
            raise HttpError(404, "Not Found")
        for key in ("title", "body", "state"):
            if key in body:
                pull[key] = body[key]
        return _json(200, self._pull_json(repo, pull))

    # --- git over HTTP -----------------------------------------------------------------------

    def _git(self, request: Request) -> Response:
        full_name = request.path.split(".git/")[0].strip("/")
        repo = self.repos.get(full_name)
        if repo is None:
            raise HttpError(404, "Repository not found")
        if not self._git_authorized(request, repo):
            return Response(
                "Invalid username or token.",
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="GitHub"'},
            )
        body = request.get_data()
        updates: list[tuple[str, str, str]] = []
        if request.path.endswith("/git-receive-pack"):
            updates = git_http.ref_updates(body, request.headers.get("Content-Encoding", ""))
            refused = {ref for _old, _new, ref in updates} & {
                f"refs/heads/{b}" for b in repo.protected
            }
            if refused:
                return Response(f"protected branch: {sorted(refused)}", status=403)
        path_info = "/" + request.path.strip("/")
        status, headers, payload = git_http.run_backend(
            self.root,
            path_info,
            request.method,
            request.query_string.decode(),
            dict(request.headers),
            body,
        )
        if status == 200:
            self._pushed(repo, updates)
        return Response(payload, status=status, headers=headers)

    def _pushed(self, repo: FakeRepo, updates: list[tuple[str, str, str]]) -> None:
        """Run CI for each branch a push moved (to the sha it really points at now). Pushes
        over HTTP come from FixWurx, so the pusher is the App's bot user."""
        for old, _new, ref in updates:
            if not ref.startswith("refs/heads/"):
                continue
            branch = ref.removeprefix("refs/heads/")
            sha = self.branch_sha(repo.full_name, branch)
            if sha is not None:
                before = None if old == git_http.ZERO_SHA else old
                self.ci.on_push(repo.full_name, branch, sha, before, self.bot)

    def _git_authorized(self, request: Request, repo: FakeRepo) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, token = base64.b64decode(header[6:]).decode().partition(":")
        installation, expires = self.tokens.get(token, (0, 0.0))
        return (
            user == "x-access-token"
            and installation == repo.installation_id
            and expires > time.time()
        )


def _labels(names: list[str]) -> list[dict[str, Any]]:
    return [{"id": 1 + i, "name": name, "color": "ededed"} for i, name in enumerate(names)]


def _api_path(request: Request) -> str:
    """The path after the API prefix, each segment decoded but an encoded slash kept as `%2F`
    (GitHub takes a ref like `fixwurx/fix-1` as one segment `fixwurx%2Ffix-1`); handlers get the
    segments decoded."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        return request.path[len(API_PREFIX) :]
    segments = raw.split("?", 1)[0].split("/")
    path = "/".join(urllib.parse.unquote(seg).replace("/", "%2F") for seg in segments)
    return path[len(API_PREFIX) :]


def pull_node_id(repo: FakeRepo, number: int) -> str:
    """A pull request's GraphQL node id (opaque to clients; `graphql_api.py` resolves it)."""
    return f"PR_fake{repo.id}n{number}"


@functools.cache
def _app_key() -> rsa.RSAPrivateKey:
    # Generating a 2048-bit key takes a noticeable fraction of a second; one per process is enough.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data), status=status, headers=headers or {}, content_type="application/json"
    )


def _delivery_status(status_code: int) -> str:
    """The `status` text GitHub's delivery log shows next to a status code."""
    if status_code == 0:
        return "failed to connect"
    return "OK" if 200 <= status_code < 300 else f"Invalid HTTP Response: {status_code}"


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
