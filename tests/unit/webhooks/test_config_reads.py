"""Reading a repository's config where its trigger label can change: install, push, unknown."""

from __future__ import annotations

from typing import Any

from app.repo_config import CONFIG_PATH
from tests.fakes import webhooks as fake
from webhooks.handlers import build_router, push
from webhooks.router import Context, RouteResult

CTX = Context(app_slug="fixwurx")


def route(event: str, payload: dict[str, Any], ctx: Context = CTX) -> RouteResult:
    handler = build_router().handler_for(event, payload.get("action"))
    assert handler is not None, f"{event}.{payload.get('action')} has no route"
    return handler(payload, ctx)


def pushed(files: dict[str, list[str]], ref: str = "refs/heads/master", **extra: Any) -> Any:
    """The example push, to `ref`, with one commit that changed `files` (kind -> paths)."""
    base = fake.example("push")
    commit = {
        "id": "1" * 40,
        "tree_id": "2" * 40,
        "distinct": True,
        "message": "Edit",
        "timestamp": "2026-12-01T13:00:00Z",
        "url": "https://github.com/Codertocat/Hello-World/commit/" + "1" * 40,
        "author": {"name": "C", "email": "c@example.com", "username": "Codertocat"},
        "committer": {"name": "C", "email": "c@example.com", "username": "Codertocat"},
        "added": files.get("added", []),
        "removed": files.get("removed", []),
        "modified": files.get("modified", []),
    }
    payload = fake.merge(base, {"ref": ref, "deleted": False, "created": False, **extra})
    payload["commits"] = [commit]
    payload["head_commit"] = commit
    fake.validate("push", payload)
    return payload


def test_installing_reads_each_repositorys_config() -> None:
    created = fake.example("installation", "created")
    outcome = route("installation", created)
    assert outcome.installation is not None
    assert [(r.kind, r.trigger, r.repository_id, r.repository_full_name) for r in outcome.runs] == [
        ("config", "installation.created", r["id"], r["full_name"]) for r in created["repositories"]
    ]
    assert {r.installation_id for r in outcome.runs} == {created["installation"]["id"]}
    added = fake.example("installation_repositories", "added")
    outcome = route("installation_repositories", added)
    assert [r.repository_id for r in outcome.runs] == [r["id"] for r in added["repositories_added"]]
    assert {r.trigger for r in outcome.runs} == {"installation_repositories.added"}


def test_removing_or_suspending_reads_nothing() -> None:
    assert (
        route(
            "installation_repositories", fake.example("installation_repositories", "removed")
        ).runs
        == ()
    )
    assert route("installation", fake.example("installation", "suspend")).runs == ()
    assert route("installation", fake.example("installation", "deleted")).runs == ()


def test_a_push_that_changes_the_config_on_the_default_branch_reads_it() -> None:
    for kind in ("added", "modified", "removed"):
        payload = pushed({kind: [CONFIG_PATH]})
        [run] = route("push", payload).runs
        assert (run.kind, run.trigger, run.repository_id) == (
            "config",
            "push",
            payload["repository"]["id"],
        )


def test_other_pushes_read_nothing() -> None:
    assert "does not change" in (route("push", pushed({"modified": ["a.py"]})).ignored or "")
    other = pushed({"modified": [CONFIG_PATH]}, ref="refs/heads/feature")
    assert "not the default branch" in (route("push", other).ignored or "")
    tag = pushed({"modified": [CONFIG_PATH]}, ref="refs/tags/v1")
    assert route("push", tag).ignored
    gone = pushed({"modified": [CONFIG_PATH]}, deleted=True)
    assert route("push", gone).ignored == "the push deleted the branch"


def test_a_bots_push_of_the_config_is_read_too() -> None:
    payload = pushed({"modified": [CONFIG_PATH]})
    payload["sender"] = {**payload["sender"], "login": "github-merge-queue[bot]", "type": "Bot"}
    assert len(route("push", payload).runs) == 1


def test_the_push_handler_names_the_same_config_path() -> None:
    assert push.CONFIG_PATH == CONFIG_PATH


def test_until_the_config_is_known_only_the_default_label_triggers() -> None:
    assert (
        route("issues", fake.labeled_issue("bug")).ignored == "label 'bug' is not the trigger label"
    )
    assert len(route("issues", fake.labeled_issue("fixwurx")).runs) == 1
