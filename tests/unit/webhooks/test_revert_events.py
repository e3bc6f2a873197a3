"""The webhooks behind the rollback figure, on real `@octokit/webhooks-examples` payloads:
FixWurx's own pull request closed unmerged, and a default-branch push that reverts commits."""

from __future__ import annotations

from typing import Any

from tests.fakes import webhooks as fake
from tests.unit.webhooks.test_config_reads import pushed, route
from webhooks.handlers import push
from webhooks.handlers.pull_requests import CLOSED_UNMERGED

MERGE = "4f" * 20
PARENT = "0a" * 20


def closed_unmerged(author: str, author_type: str = "Bot") -> dict[str, Any]:
    return fake.example(
        "pull_request",
        "closed",
        pull_request={"user": {"login": author, "type": author_type}, "merged": False},
    )


def test_fixwurx_own_pull_request_closed_unmerged_is_recorded() -> None:
    payload = closed_unmerged("fixwurx[bot]")
    [run] = route("pull_request", payload).runs
    assert (run.kind, run.trigger, run.pr_number) == (
        CLOSED_UNMERGED,
        "pull_request.closed",
        payload["pull_request"]["number"],
    )
    assert run.head_sha is None  # nothing was merged


def test_anyone_elses_pull_request_closed_unmerged_is_ignored() -> None:
    for author in ("Codertocat", "other-app[bot]", "fixwurx"):
        outcome = route("pull_request", closed_unmerged(author, "User"))
        assert outcome.runs == () and "without merging" in (outcome.ignored or ""), author


def revert_message(sha: str) -> str:
    # What `git revert -m 1` writes for a merge commit.
    return f'Revert "Fix #7"\n\nThis reverts commit {sha}, reversing\nchanges made to {PARENT}.\n'


def with_messages(*messages: str, ref: str = "refs/heads/master") -> dict[str, Any]:
    payload = pushed({"modified": ["ages.py"]}, ref=ref)
    template = payload["commits"][0]
    commits = [
        {**template, "id": f"{n + 1:02x}" * 20, "message": message}
        for n, message in enumerate(messages)
    ]
    payload["commits"] = commits
    payload["head_commit"] = commits[-1]
    fake.validate("push", payload)
    return payload


def test_a_default_branch_push_that_reverts_a_commit_names_it_and_the_reverting_commit() -> None:
    payload = with_messages("Unrelated", revert_message(MERGE))
    [run] = route("push", payload).runs
    assert (run.kind, run.trigger, run.branch) == (push.REVERTED, "push", "master")
    assert run.command_args == f"{MERGE}:{'02' * 20}"
    assert run.head_sha == payload["after"]
    assert run.repository_id == payload["repository"]["id"]


def test_only_gits_own_revert_line_counts() -> None:
    quoted = f"Docs\n\nWe could say: This reverts commit {MERGE}." + "\n"
    short = f"Revert\n\nThis reverts commit {MERGE[:12]}.\n"
    loud = f"Revert\n\nThis reverts commit {MERGE.upper()}.\n"
    outcome = route("push", with_messages(quoted, short, loud))
    assert outcome.runs == () and "reverts no commit" in (outcome.ignored or "")


def test_a_revert_on_another_branch_is_ignored() -> None:
    outcome = route("push", with_messages(revert_message(MERGE), ref="refs/heads/feature"))
    assert outcome.runs == () and "not the default branch" in (outcome.ignored or "")


def test_a_push_that_changes_the_config_and_reverts_gets_both_runs() -> None:
    payload = with_messages(revert_message(MERGE))
    payload["commits"][0]["modified"] = [push.CONFIG_PATH]
    payload["head_commit"] = payload["commits"][0]
    assert [r.kind for r in route("push", payload).runs] == ["config", push.REVERTED]


def test_a_hostile_push_cannot_make_the_run_unbounded() -> None:
    many = [revert_message(f"{n:040x}") for n in range(push.MAX_REVERTS + 30)]
    [run] = route("push", with_messages(*many)).runs
    assert run.command_args is not None
    assert len(run.command_args.split()) == push.MAX_REVERTS
