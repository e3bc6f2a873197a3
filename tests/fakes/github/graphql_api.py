"""GraphQL for the fake GitHub (`fake.graphql`, URL `fake.graphql_url`), at GitHub Enterprise's path (`{base}/api/graphql`).

Some things FixWurx must do exist only in GraphQL (marking a draft ready for review, GitHub's
revert button, auto-merge), so the fake answers them, strictly: every document is parsed and
validated with graphql-core against GitHub's published schema (`@octokit/graphql-schema`); a
document that does not parse or validate is a violation (the test fails) and gets GitHub-shaped
`errors`. Execution resolves only the fields listed in `RESOLVERS`; asking for any other field
is a violation too, never a silent null.

Implemented: `repository(owner:, name:) { id name nameWithOwner pullRequest(number:) }`,
`node(id:)` for pull requests, the PullRequest fields in `RESOLVERS`, and the mutations
`markPullRequestReadyForReview`, `revertPullRequest` (a real `git revert -m 1` of the merge
commit on a new branch `revert-<N>-<head>`, a pull request titled `Revert "<title>"` with body
`Reverts owner/repo#N` unless the input says otherwise, `draft` honoured, CI run on the new
branch) and `enablePullRequestAutoMerge` (recorded on the pull as `auto_merge`; nothing merges).
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import graphql
from werkzeug.wrappers import Request, Response

from tests.fakes.github import gitops

if TYPE_CHECKING:
    from tests.fakes.github.server import FakeGitHub, FakeRepo

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_PATH = ROOT / "node_modules" / "@octokit" / "graphql-schema" / "schema.json"
#: Where GitHub Enterprise Server serves GraphQL, next to the REST root `/api/v3`.
GRAPHQL_PATH = "/api/graphql"
PULL_ID = re.compile(r"PR_fake(\d+)n(\d+)")


class Unprocessable(Exception):
    """A request GitHub would refuse (not merged, not found): an `errors` entry, no violation."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class RepoNode:
    repo: FakeRepo


@dataclass(frozen=True)
class PullNode:
    repo: FakeRepo
    number: int


@functools.cache
def load_schema() -> graphql.GraphQLSchema:
    """GitHub's schema, built once per process (its SDL file repeats two fields; the
    introspection JSON of the same release does not)."""
    if not SCHEMA_PATH.exists():
        raise FileNotFoundError(f"{SCHEMA_PATH} is missing; run `npm install` (see package.json)")
    data = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return graphql.build_client_schema(data.get("data", data))


class GraphQLApi:
    """POST /api/graphql."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        #: Every executed document's operation (type and top-level field names), for tests.
        self.calls: list[tuple[str, list[str]]] = []

    def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return self._answer(404, {"message": "Not Found"})
        installation = self.fake.installation_of(request)
        body = json.loads(request.get_data() or b"{}")
        source = body.get("query")
        if not isinstance(source, str):
            return self._invalid("the request body has no `query` string", [])
        try:
            document = graphql.parse(source)
        except graphql.GraphQLError as exc:
            return self._invalid(f"does not parse: {exc.message}", [exc])
        errors = graphql.validate(load_schema(), document)
        if errors:
            return self._invalid("does not validate against GitHub's schema", errors)
        with self.fake._lock:
            result = graphql.execute_sync(
                load_schema(),
                document,
                root_value=installation,
                variable_values=body.get("variables"),
                operation_name=body.get("operationName"),
                field_resolver=self._resolve,
                type_resolver=_type_of,
            )
            self._record(document, body.get("operationName"))
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [_error(e) for e in result.errors]
        return self._answer(200, answer)

    def _invalid(self, why: str, errors: list[graphql.GraphQLError]) -> Response:
        self.fake.violations.append(
            f"GraphQL document {why}: " + "; ".join(e.message for e in errors)
        )
        shaped = [_error(e) for e in errors] or [{"message": why}]
        return self._answer(200, {"errors": shaped})

    def _resolve(self, source: Any, info: graphql.GraphQLResolveInfo, **args: Any) -> Any:
        key = (info.parent_type.name, info.field_name)
        if isinstance(source, dict):
            if info.field_name in source:
                return source[info.field_name]
        elif key in RESOLVERS:
            try:
                return RESOLVERS[key](self, source, args)
            except Unprocessable as exc:
                raise graphql.GraphQLError(str(exc), extensions={"type": exc.kind}) from None
        message = f"the fake's GraphQL does not implement {key[0]}.{key[1]}"
        self.fake.violations.append(message)
        raise graphql.GraphQLError(message)

    def _record(self, document: graphql.DocumentNode, name: str | None) -> None:
        for definition in document.definitions:
            if not isinstance(definition, graphql.OperationDefinitionNode):
                continue
            if name is None or (definition.name and definition.name.value == name):
                fields = [
                    s.name.value
                    for s in definition.selection_set.selections
                    if isinstance(s, graphql.FieldNode)
                ]
                self.calls.append((definition.operation.value, fields))

    def _answer(self, status: int, data: Any) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")

    # --- lookups -----------------------------------------------------------------------------

    def repository(self, installation: int, owner: str, name: str) -> RepoNode:
        repo = self.fake.repos.get(f"{owner}/{name}")
        if repo is None or repo.installation_id != installation:
            raise Unprocessable(
                "NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'."
            )
        return RepoNode(repo)

    def pull_by_id(self, installation: int, node_id: str) -> PullNode:
        found = PULL_ID.fullmatch(node_id)
        repo = next((r for r in self.fake.repos.values() if found and r.id == int(found[1])), None)
        if found is None or repo is None or repo.installation_id != installation:
            raise Unprocessable(
                "NOT_FOUND", f"Could not resolve to a node with the global id of '{node_id}'"
            )
        if int(found[2]) not in repo.pulls:
            raise Unprocessable(
                "NOT_FOUND", f"Could not resolve to a node with the global id of '{node_id}'"
            )
        return PullNode(repo, int(found[2]))

    # --- mutations ---------------------------------------------------------------------------

    def ready_for_review(self, installation: int, data: dict[str, Any]) -> dict[str, Any]:
        node = self.pull_by_id(installation, data["pullRequestId"])
        pull = node.repo.pulls[node.number]
        if pull["state"] != "open":
            raise Unprocessable("UNPROCESSABLE", "Pull request is closed")
        pull["draft"] = False
        return {"clientMutationId": data.get("clientMutationId"), "pullRequest": node}

    def revert(self, installation: int, data: dict[str, Any]) -> dict[str, Any]:
        node = self.pull_by_id(installation, data["pullRequestId"])
        repo, pull = node.repo, node.repo.pulls[node.number]
        if not pull["merged"]:
            raise Unprocessable("UNPROCESSABLE", "Pull request must be merged to be reverted")
        branch = self._free_branch(repo, f"revert-{node.number}-{pull['head']}")
        work = self.fake.root / "work" / f"{repo.name}-revert-{self.fake.next_id()}"
        sha = gitops.revert(repo.bare, work, pull["base"], pull["merge_sha"], branch, self.fake.bot)
        title = data.get("title") or f'Revert "{pull["title"]}"'
        body = data.get("body") or f"Reverts {repo.full_name}#{node.number}"
        made = self.fake.open_pull(repo, title, body, branch, pull["base"], bool(data.get("draft")))
        self.fake.ci.on_push(repo.full_name, branch, sha, None, self.fake.bot)
        self.fake.ci.on_pull_opened(repo.full_name, made["number"], self.fake.bot)
        return {
            "clientMutationId": data.get("clientMutationId"),
            "pullRequest": node,
            "revertPullRequest": PullNode(repo, made["number"]),
        }

    def auto_merge(self, installation: int, data: dict[str, Any]) -> dict[str, Any]:
        node = self.pull_by_id(installation, data["pullRequestId"])
        pull = node.repo.pulls[node.number]
        if pull["state"] != "open":
            raise Unprocessable("UNPROCESSABLE", "Pull request is not open")
        pull["auto_merge"] = {
            "enabledAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "mergeMethod": data.get("mergeMethod") or "MERGE",
            "commitHeadline": data.get("commitHeadline"),
            "commitBody": data.get("commitBody"),
            "authorEmail": data.get("authorEmail"),
        }
        return {"clientMutationId": data.get("clientMutationId"), "pullRequest": node}

    def _free_branch(self, repo: FakeRepo, wanted: str) -> str:
        name, n = wanted, 1
        while self.fake.branch_sha(repo.full_name, name) is not None:
            n += 1
            name = f"{wanted}-{n}"
        return name


def _pull(api: GraphQLApi, node: PullNode) -> dict[str, Any]:
    return node.repo.pulls[node.number]


def _state(api: GraphQLApi, node: PullNode) -> str:
    pull = _pull(api, node)
    return "MERGED" if pull["merged"] else pull["state"].upper()


def _merge_commit(api: GraphQLApi, node: PullNode) -> dict[str, Any] | None:
    sha = _pull(api, node)["merge_sha"]
    return {"oid": sha, "abbreviatedOid": sha[:7]} if sha else None


Resolver = Callable[[GraphQLApi, Any, dict[str, Any]], Any]
#: (GraphQL type, field) -> how the fake answers it; anything else is a violation.
RESOLVERS: dict[tuple[str, str], Resolver] = {
    ("Query", "repository"): lambda api, inst, a: api.repository(inst, a["owner"], a["name"]),
    ("Query", "node"): lambda api, inst, a: api.pull_by_id(inst, a["id"]),
    ("Repository", "id"): lambda api, r, a: f"R_fake{r.repo.id}",
    ("Repository", "name"): lambda api, r, a: r.repo.name,
    ("Repository", "nameWithOwner"): lambda api, r, a: r.repo.full_name,
    ("Repository", "pullRequest"): lambda api, r, a: (
        PullNode(r.repo, a["number"]) if a["number"] in r.repo.pulls else None
    ),
    ("PullRequest", "id"): lambda api, p, a: _pull(api, p)["node_id"],
    ("PullRequest", "number"): lambda api, p, a: p.number,
    ("PullRequest", "title"): lambda api, p, a: _pull(api, p)["title"],
    ("PullRequest", "body"): lambda api, p, a: _pull(api, p)["body"],
    ("PullRequest", "url"): lambda api, p, a: (
        f"{api.fake.base_url}/{p.repo.full_name}/pull/{p.number}"
    ),
    ("PullRequest", "isDraft"): lambda api, p, a: _pull(api, p)["draft"],
    ("PullRequest", "merged"): lambda api, p, a: _pull(api, p)["merged"],
    ("PullRequest", "state"): lambda api, p, a: _state(api, p),
    ("PullRequest", "headRefName"): lambda api, p, a: _pull(api, p)["head"],
    ("PullRequest", "baseRefName"): lambda api, p, a: _pull(api, p)["base"],
    ("PullRequest", "headRefOid"): lambda api, p, a: (
        api.fake.branch_sha(p.repo.full_name, _pull(api, p)["head"])
        or _pull(api, p).get("head_sha_at_merge")
    ),
    ("PullRequest", "mergeCommit"): lambda api, p, a: _merge_commit(api, p),
    ("PullRequest", "autoMergeRequest"): lambda api, p, a: _pull(api, p).get("auto_merge"),
    ("PullRequest", "repository"): lambda api, p, a: RepoNode(p.repo),
    ("Mutation", "markPullRequestReadyForReview"): lambda api, inst, a: api.ready_for_review(
        inst, a["input"]
    ),
    ("Mutation", "revertPullRequest"): lambda api, inst, a: api.revert(inst, a["input"]),
    ("Mutation", "enablePullRequestAutoMerge"): lambda api, inst, a: api.auto_merge(
        inst, a["input"]
    ),
}


def _type_of(value: Any, _info: graphql.GraphQLResolveInfo, _abstract: Any) -> str | None:
    if isinstance(value, PullNode):
        return "PullRequest"
    if isinstance(value, RepoNode):
        return "Repository"
    return None


def _error(error: graphql.GraphQLError) -> dict[str, Any]:
    """An `errors` entry as GitHub shapes it (`type` for execution errors it refuses)."""
    shaped: dict[str, Any] = {"message": error.message}
    if error.locations:
        shaped["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        shaped["path"] = list(error.path)
    if error.extensions and "type" in error.extensions:
        shaped["type"] = error.extensions["type"]
    return shaped
