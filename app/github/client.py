"""The GitHub REST client: PyGithub behind a small surface, with rate-limit-aware retries.

Only the calls FixWurx makes are exposed, so the fake GitHub in tests has a short list of
endpoints to implement, and every PyGithub error becomes a `GitHubError` that says whether a
retry could help. GitHub Enterprise works by pointing GITHUB_API_URL at `https://HOST/api/v3`.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.Repository import Repository
from requests.adapters import HTTPAdapter

from app.errors import GitHubError
from app.github import constants

log = logging.getLogger(__name__)

#: Statuses retried besides the rate-limit 403s GithubRetry recognises itself.
RETRY_STATUSES = [429, 500, 502, 503, 504]
#: The one status that means "it does not exist" where a missing thing is a normal answer (no
#: such file, not a collaborator). Decided on the status PyGithub saw, never on message text:
#: the message names the path, which the repository chooses. Anything else, including the fake
#: GitHub's 501 for an endpoint it does not implement, is an error.
NOT_FOUND = 404


def make_retry() -> GithubRetry:
    """Retries honouring Retry-After (urllib3), X-RateLimit-Reset and secondary limits."""
    return GithubRetry(
        total=constants.HTTP_RETRIES,
        backoff_factor=constants.HTTP_BACKOFF_S,
        status_forcelist=RETRY_STATUSES,
        secondary_rate_wait=constants.SECONDARY_RATE_WAIT_S,
        max_rate_limit_wait=constants.MAX_RATE_LIMIT_WAIT_S,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def parse_time(value: str) -> dt.datetime:
    """A GitHub timestamp (`2026-11-26T03:16:55Z`) as an aware datetime; naive ones are UTC."""
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def http_session() -> requests.Session:
    """A requests session with the same retry policy, for the calls PyGithub does not make."""
    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=make_retry()))
    session.mount("http://", HTTPAdapter(max_retries=make_retry()))
    session.headers["Accept"] = "application/vnd.github+json"
    session.headers["X-GitHub-Api-Version"] = "2022-11-28"
    return session


def _retryable(exc: GithubException) -> bool:
    return exc.status in RETRY_STATUSES or (exc.status == 403 and "rate limit" in str(exc).lower())


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn PyGithub errors into `GitHubError` naming the call, the status and GitHub's message."""
    try:
        yield
    except GithubException as exc:
        message = exc.data.get("message", "") if isinstance(exc.data, dict) else str(exc.data)
        raise GitHubError(
            f"{what} failed with HTTP {exc.status}: {message}",
            retryable=_retryable(exc),
            status=exc.status,
        ) from None
    except requests.RequestException as exc:
        raise GitHubError(f"{what} failed: {type(exc).__name__}", retryable=True) from None


@dataclass(frozen=True)
class IssueInfo:
    """What the flow needs to know about an issue or a pull request's conversation."""

    number: int
    title: str
    body: str
    state: str
    locked: bool
    is_pull_request: bool
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class PullInfo:
    """A pull request FixWurx looked up or opened."""

    number: int
    html_url: str
    head: str
    base: str
    state: str
    merged: bool
    merge_sha: str | None
    body: str
    head_repo: str = ""
    head_sha: str = ""
    #: GraphQL's id of the pull request (what `revertPullRequest` and auto-merge take).
    node_id: str = ""
    title: str = ""


@dataclass(frozen=True)
class Comment:
    """An issue comment: its id, author and text."""

    id: int
    author: str
    body: str


class RepoClient:
    """The calls FixWurx makes on one repository."""

    def __init__(self, gh: Github, full_name: str) -> None:
        self._gh = gh
        self.full_name = full_name
        with translated(f"GET /repos/{full_name}"):
            self._repo: Repository = gh.get_repo(full_name)

    @property
    def default_branch(self) -> str:
        """The branch the repo config is read from and fixes of issues are based on."""
        return str(self._repo.default_branch)

    @property
    def clone_url(self) -> str:
        """The HTTPS clone URL (with no credentials in it)."""
        return str(self._repo.clone_url)

    @property
    def html_url(self) -> str:
        """The repository's web page (links to commits and checks in comments start here)."""
        return str(self._repo.html_url)

    @property
    def id(self) -> int:
        """GitHub's numeric repository id."""
        return int(self._repo.id)

    def issue(self, number: int) -> IssueInfo:
        """An issue (or a pull request's conversation) by number."""
        with translated(f"GET issue #{number} of {self.full_name}"):
            issue = self._repo.get_issue(number)
            return IssueInfo(
                number=number,
                title=issue.title or "",
                body=issue.body or "",
                state=issue.state,
                locked=bool(issue.locked),
                is_pull_request=issue.pull_request is not None,
                labels=tuple(label.name for label in issue.labels),
            )

    def comment(self, number: int, body: str) -> int:
        """Post a comment on issue/PR `number`; returns the comment id."""
        path = f"/repos/{self.full_name}/issues/{number}/comments"
        return int(self._call("POST", path, {"body": body})["id"])

    def edit_comment(self, comment_id: int, body: str) -> None:
        """Replace the text of comment `comment_id` (the status comment is edited in place)."""
        self._call("PATCH", f"/repos/{self.full_name}/issues/comments/{comment_id}", {"body": body})

    def comments(self, number: int) -> list[Comment]:
        """Every comment on issue/PR `number`, oldest first."""
        with translated(f"GET comments of #{number} in {self.full_name}"):
            return [
                Comment(c.id, c.user.login if c.user else "", c.body or "")
                for c in self._repo.get_issue(number).get_comments()
            ]

    def react(self, number: int, content: str) -> None:
        """Add a reaction (e.g. "eyes") to issue/PR `number`."""
        path = f"/repos/{self.full_name}/issues/{number}/reactions"
        self._call("POST", path, {"content": content})

    def permission(self, login: str) -> str:
        """`login`'s role on the repo: admin, maintain, write, triage, read or none."""
        path = f"/repos/{self.full_name}/collaborators/{login}/permission"
        with translated(f"GET {path}"):
            try:
                _headers, data = self._gh.requester.requestJsonAndCheck("GET", path)
            except GithubException as exc:
                if exc.status != NOT_FOUND:
                    raise
                return "none"  # not a collaborator at all
        if not isinstance(data, dict):
            return "none"
        return str(data.get("role_name") or data.get("permission") or "none")

    def file_text(self, path: str, ref: str) -> tuple[str, str] | None:
        """(text, blob sha) of a file at `ref`, or None when it does not exist."""
        with translated(f"GET {path}@{ref} in {self.full_name}"):
            try:
                content = self._repo.get_contents(path, ref=ref)
            except GithubException as exc:
                if exc.status != NOT_FOUND:
                    raise
                return None
        if isinstance(content, list):
            return None  # a directory, not a file
        return base64.b64decode(content.content or "").decode("utf-8", "replace"), content.sha

    def open_pulls(self, head_branch: str | None) -> list[PullInfo]:
        """Open pull requests whose head is `head_branch` in this repository (None: all)."""
        owner = self.full_name.split("/")[0]
        with translated(f"GET open pulls for {head_branch or 'any branch'} in {self.full_name}"):
            if head_branch is None:
                return [_pull_info(p) for p in self._repo.get_pulls(state="open")]
            pulls = self._repo.get_pulls(state="open", head=f"{owner}:{head_branch}")
            return [_pull_info(p) for p in pulls]

    def reopen_issue(self, number: int) -> None:
        """Reopen issue `number` (a rolled-back fix's issue is not fixed any more)."""
        self._call("PATCH", f"/repos/{self.full_name}/issues/{number}", {"state": "open"})

    def pull(self, number: int) -> PullInfo:
        """A pull request by number."""
        with translated(f"GET pull #{number} of {self.full_name}"):
            return _pull_info(self._repo.get_pull(number))

    def create_pull(self, title: str, body: str, head: str, base: str, draft: bool) -> PullInfo:
        """Open a pull request from `head` into `base`."""
        with translated(f"POST pull {head} -> {base} in {self.full_name}"):
            pull = self._repo.create_pull(base=base, head=head, title=title, body=body, draft=draft)
            return _pull_info(pull)

    def edit_pull(self, number: int, title: str | None, body: str) -> None:
        """Replace a pull request's body, and its title unless None (a new bundle, CI rows)."""
        path = f"/repos/{self.full_name}/pulls/{number}"
        self._call("PATCH", path, {"body": body} | ({"title": title} if title else {}))

    def _call(self, verb: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        with translated(f"{verb} {path}"):
            _headers, data = self._gh.requester.requestJsonAndCheck(verb, path, input=body)
        return data if isinstance(data, dict) else {}

    def api(
        self,
        verb: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """A REST call under this repository (`path` starts after `/repos/{owner}/{repo}`).

        For the Checks and Actions endpoints PyGithub models poorly (dispatch with run
        details, check runs with annotations); same retries and error translation as the rest.
        """
        full = f"/repos/{self.full_name}{path}"
        with translated(f"{verb} {full}"):
            _headers, data = self._gh.requester.requestJsonAndCheck(
                verb, full, parameters=params, input=body
            )
        return data

    def pull_node_id(self, number: int) -> str:
        """The GraphQL node id of pull request `number` (mutations name PRs by node id)."""
        with translated(f"GET pull #{number} of {self.full_name}"):
            return str(self._repo.get_pull(number).node_id)


def _pull_info(pull: Any) -> PullInfo:
    return PullInfo(
        number=pull.number,
        html_url=pull.html_url,
        head=pull.head.ref,
        base=pull.base.ref,
        state=pull.state,
        merged=bool(pull.merged),
        merge_sha=pull.merge_commit_sha,
        body=pull.body or "",
        head_repo=pull.head.repo.full_name if pull.head.repo else "",
        head_sha=pull.head.sha or "",
        node_id=pull.node_id or "",
        title=pull.title or "",
    )


class InstallationAuth(Auth.Auth):
    """Asks for the token on every request, so a long job never sends an expired one.

    The provider is `InstallationTokens`, which holds a token with at least ten minutes left
    (asking the shared Redis cache only when it is not) and mints a new one when needed.
    """

    def __init__(self, provider: Callable[[], str]) -> None:
        self._provider = provider

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return self._provider()

    @property
    def _masked_token(self) -> str:
        return "token (removed)"


#: The status GitHub answers a revoked or expired token with.
UNAUTHORIZED = 401
#: Largest download FixWurx reads (a job log, a JUnit artifact's zip), in bytes: both come from
#: the repository's CI, so their size is the repository's choice, not ours.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


def retry_once_on_unauthorized(requester: Any, on_unauthorized: Callable[[], None]) -> None:
    """Make `requester` answer a 401 by calling `on_unauthorized` and sending the request once
    more. Why: a token GitHub revoked (the installation's permissions changed, an admin
    revoked it) stays in the shared cache until it expires, so without this every job of that
    installation fails for up to an hour. `on_unauthorized` drops the cached token
    (`InstallationTokens.forget`); the retry asks the auth provider again and so sends a freshly
    minted one. A second 401 is GitHub's answer and is raised as usual.

    Every JSON call PyGithub makes (lazy lists and our raw calls included) goes through the
    requester's public `requestJson`, so wrapping it there covers them all.
    """
    send = requester.requestJson

    def request_json(verb: str, url: str, *args: Any, **kwargs: Any) -> Any:
        answer = send(verb, url, *args, **kwargs)
        if answer[0] != UNAUTHORIZED:
            return answer
        log.warning(
            "GitHub refused the installation token on %s %s (HTTP 401): dropping the cached "
            "token and retrying once with a fresh one",
            verb,
            url.split("?", 1)[0],
        )
        on_unauthorized()
        return send(verb, url, *args, **kwargs)

    requester.requestJson = request_json


class GitHubClient:
    """PyGithub authenticated as one installation, with the retry policy above.

    `on_unauthorized` (optional) is called when GitHub refuses the token, before the one retry
    (`retry_once_on_unauthorized`).
    """

    def __init__(
        self,
        api_url: str,
        token: str | Callable[[], str],
        on_unauthorized: Callable[[], None] | None = None,
    ) -> None:
        provider = token if callable(token) else (lambda: token)
        self._provider = provider
        self.api_url = api_url.rstrip("/")
        self._gh = Github(
            base_url=api_url.rstrip("/"),
            auth=InstallationAuth(provider),
            retry=make_retry(),
            timeout=constants.HTTP_TIMEOUT_S,
            per_page=100,
            seconds_between_requests=constants.SECONDS_BETWEEN_REQUESTS,
            seconds_between_writes=constants.SECONDS_BETWEEN_WRITES,
        )
        if on_unauthorized is not None:
            retry_once_on_unauthorized(self._gh.requester, on_unauthorized)

    def repo(self, full_name: str) -> RepoClient:
        """The calls on one repository (fetches it once)."""
        return RepoClient(self._gh, full_name)

    def download(self, path: str, limit: int = MAX_DOWNLOAD_BYTES) -> bytes:
        """GET an API path that redirects to a file (job logs, artifact zips), at most `limit`.

        requests drops the Authorization header when a redirect leaves the API's host, so the
        token never reaches the storage host GitHub redirects to.
        """
        session = http_session()
        headers = {"Authorization": f"token {self._provider()}"}
        url = f"{self.api_url}{path}"
        with (
            translated(f"GET {path}"),
            session.get(url, headers=headers, timeout=constants.HTTP_TIMEOUT_S, stream=True) as r,
        ):
            if r.status_code >= 400:
                raise GitHubError(
                    f"GET {path} failed with HTTP {r.status_code}",
                    retryable=r.status_code in RETRY_STATUSES,
                )
            data = bytearray()
            for chunk in r.iter_content(64 * 1024):
                data += chunk
                if len(data) > limit:
                    raise GitHubError(f"GET {path}: the file is larger than {limit} bytes")
            return bytes(data)

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The `data` of a GraphQL query or mutation (app/github/graphql.py holds the texts);
        a GraphQL error becomes a `GitHubError` like a REST one."""
        with translated("POST /graphql"):
            _headers, answer = self._gh.requester.graphql_query(query, variables)
        data = answer.get("data") if isinstance(answer, dict) else None
        return data if isinstance(data, dict) else {}

    def user_id(self, login: str) -> int:
        """A user's numeric id (the bot's id makes its noreply commit e-mail)."""
        with translated(f"GET /users/{login}"):
            return int(self._gh.get_user(login).id)
