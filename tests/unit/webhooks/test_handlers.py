"""Routing of real GitHub payloads (and the variants they lack) to run requests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import webhooks as fake
from webhooks.handlers import build_router
from webhooks.router import Context, Router, RouteResult

CTX = Context(app_slug="fixwurx")


def route(event: str, payload: dict[str, Any], ctx: Context = CTX) -> RouteResult | None:
    handler = build_router().handler_for(event, payload.get("action"))
    return None if handler is None else handler(payload, ctx)


def only_run(event: str, payload: dict[str, Any]) -> Any:
    outcome = route(event, payload)
    assert outcome is not None and outcome.ignored is None, outcome
    assert len(outcome.runs) == 1
    return outcome.runs[0]


def test_labeled_issue_becomes_an_issue_run() -> None:
    payload = fake.labeled_issue("FixWurx")
    run = only_run("issues", payload)
    assert (run.kind, run.trigger, run.issue_number) == ("issue", "issues.labeled", 1)
    assert run.repository_id == payload["repository"]["id"]
    assert run.installation_id == fake.INSTALLATION["id"]
    assert run.requested_by == payload["sender"]["login"]


def test_other_labels_are_ignored_once_the_configured_label_is_known() -> None:
    known = Context(app_slug="fixwurx", repo_label=lambda _repo: "fixwurx")
    outcome = route("issues", fake.labeled_issue("bug"), known)
    assert outcome is not None and "bug" in (outcome.ignored or "")


def test_a_configured_custom_label_triggers() -> None:
    custom = Context(app_slug="fixwurx", repo_label=lambda _repo: "autofix")
    outcome = route("issues", fake.labeled_issue("AutoFix"), custom)
    assert outcome is not None and outcome.ignored is None and len(outcome.runs) == 1
    assert route("issues", fake.labeled_issue("bug"), custom).ignored  # type: ignore[union-attr]


def test_another_label_adds_no_job_until_the_config_is_known() -> None:
    outcome = route("issues", fake.labeled_issue("autofix"))  # nothing stored yet
    assert outcome is not None and outcome.ignored == "label 'autofix' is not the trigger label"


def test_command_on_an_issue_and_on_a_pull_request() -> None:
    run = only_run("issue_comment", fake.command_comment("/fixwurx revise Keep the API"))
    assert (run.kind, run.command, run.command_args) == ("command", "revise", "Keep the API")
    assert run.issue_number == 1 and run.pr_number is None
    run = only_run("issue_comment", fake.command_comment("@fixwurx status", on_pull_request=True))
    assert (run.command, run.pr_number, run.issue_number) == ("status", 1, None)


def test_ordinary_comments_are_ignored() -> None:
    outcome = route("issue_comment", fake.example("issue_comment", "created"))
    assert outcome is not None and outcome.ignored == "comment is not a FixWurx command"


@pytest.mark.parametrize("conclusion", ["failure", "timed_out"])
def test_failing_check_suite_and_workflow_run_become_ci_runs(conclusion: str) -> None:
    suite_payload = fake.failing_check_suite(conclusion)
    run = only_run("check_suite", suite_payload)
    suite = suite_payload["check_suite"]
    assert (run.kind, run.head_sha, run.branch) == ("ci", suite["head_sha"], suite["head_branch"])
    workflow_payload = fake.failing_workflow_run(conclusion)
    run = only_run("workflow_run", workflow_payload)
    assert run.trigger == "workflow_run.completed"
    assert run.head_sha == workflow_payload["workflow_run"]["head_sha"]


@pytest.mark.parametrize(
    "conclusion", ["success", "cancelled", "neutral", "action_required", "stale"]
)
def test_non_failing_conclusions_are_ignored(conclusion: str) -> None:
    outcome = route("check_suite", fake.failing_check_suite(conclusion))
    assert outcome is not None and outcome.ignored


def test_merged_pull_request_is_routed_and_an_unmerged_one_is_not() -> None:
    payload = fake.merged_pull_request()
    run = only_run("pull_request", payload)
    assert (run.kind, run.pr_number) == ("merge", payload["pull_request"]["number"])
    assert run.head_sha == payload["pull_request"]["merge_commit_sha"]
    outcome = route("pull_request", fake.example("pull_request", "closed"))
    assert outcome is not None and "without merging" in (outcome.ignored or "")


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("issues", fake.labeled_issue(**fake.bot_sender("dependabot[bot]"))),
        ("issue_comment", fake.command_comment("/fixwurx fix", **fake.bot_sender())),
        (
            "check_suite",
            fake.failing_check_suite(
                check_suite={"head_branch": "feature"}, **fake.bot_sender("github-actions[bot]")
            ),
        ),
    ],
)
def test_bots_are_ignored_including_fixwurx_itself(event: str, payload: dict[str, Any]) -> None:
    outcome = route(event, payload)
    assert outcome is not None and "bot" in (outcome.ignored or "")


@pytest.mark.parametrize("event", ["check_suite", "workflow_run"])
def test_a_red_default_branch_counts_whichever_bot_sent_it_but_fixwurx(event: str) -> None:
    """Merge queues push as bots: their red default-branch suites reach the rollback watch."""
    make = fake.failing_check_suite if event == "check_suite" else fake.failing_workflow_run
    queued = make(**fake.bot_sender("github-merge-queue[bot]"))
    assert only_run(event, queued).kind == "ci"
    ours = route(event, make(**fake.bot_sender("fixwurx[bot]")))
    assert ours is not None and "FixWurx itself" in (ours.ignored or "")


@pytest.mark.parametrize("login", ["github-merge-queue[bot]", "some-automerge-app[bot]"])
def test_a_merge_done_by_a_bot_is_still_recorded(login: str) -> None:
    # Merge queues and auto-merge Apps merge as bots; the merge must still reach the job, or
    # the fix is never recorded as merged and a broken default branch gets no rollback.
    payload = fake.merged_pull_request(**fake.bot_sender(login))
    run = only_run("pull_request", payload)
    assert (run.kind, run.pr_number, run.requested_by) == (
        "merge",
        payload["pull_request"]["number"],
        login,
    )


def test_a_pull_request_closed_unmerged_by_a_bot_is_ignored() -> None:
    payload = fake.example("pull_request", "closed", **fake.bot_sender())
    outcome = route("pull_request", payload)
    assert outcome is not None and outcome.ignored


def test_fixwurx_is_recognised_by_its_slug_even_if_typed_as_a_user() -> None:
    payload = fake.labeled_issue(sender={"login": "acme-fixer[bot]", "type": "User"})
    outcome = route("issues", payload, Context(app_slug="acme-fixer"))
    assert outcome is not None and outcome.ignored


def test_payloads_without_an_installation_are_ignored() -> None:
    payload = fake.example("issues", "labeled", installed=False, label={"name": "fixwurx"})
    outcome = route("issues", payload)
    assert outcome is not None and outcome.ignored == "payload has no installation"


def test_installation_events_describe_the_change() -> None:
    created = fake.example("installation", "created")
    outcome = route("installation", created)
    assert outcome is not None and outcome.installation is not None
    assert outcome.installation.installation_id == created["installation"]["id"]
    assert [r.id for r in outcome.installation.added] == [r["id"] for r in created["repositories"]]
    removed = fake.example("installation_repositories", "removed")
    outcome = route("installation_repositories", removed)
    assert outcome is not None and outcome.installation is not None
    assert [r.full_name for r in outcome.installation.removed] == [
        r["full_name"] for r in removed["repositories_removed"]
    ]


def test_unhandled_events_and_actions_have_no_route() -> None:
    router = build_router()
    assert router.handler_for("issues", "opened") is None
    assert router.handler_for("pull_request", "opened") is None
    assert ("issues", "labeled") in router.routes()


def test_a_route_cannot_be_registered_twice() -> None:
    router = Router()
    router.register("issues", "labeled")(lambda p, c: RouteResult())
    with pytest.raises(ValueError, match=r"issues\.labeled"):
        router.register("issues", "labeled")(lambda p, c: RouteResult())


# --- CI on FixWurx's own branches (issue 13) ---------------------------------------------------

OWN = {"head_branch": "fixwurx/issue-7", "head_sha": "a" * 40}


@pytest.mark.parametrize("conclusion", ["success", "failure", "action_required"])
def test_any_finished_suite_on_a_fixwurx_branch_becomes_a_ci_result_run(conclusion: str) -> None:
    payload = fake.failing_check_suite(
        conclusion,
        check_suite={**OWN, "app": {"slug": "github-actions"}},
        **fake.bot_sender("fixwurx[bot]"),  # our push triggered the CI: still read back
    )
    run = only_run("check_suite", payload)
    assert (run.kind, run.trigger) == ("ci_result", "check_suite.completed")
    assert (run.head_sha, run.branch) == (OWN["head_sha"], OWN["head_branch"])
    workflow = fake.failing_workflow_run(conclusion, workflow_run=OWN)
    run = only_run("workflow_run", workflow)
    assert (run.kind, run.trigger, run.head_sha) == (
        "ci_result",
        "workflow_run.completed",
        OWN["head_sha"],
    )


def test_fixwurx_own_check_suite_is_not_ci() -> None:
    payload = fake.failing_check_suite("success", check_suite={**OWN, "app": {"slug": "fixwurx"}})
    outcome = route("check_suite", payload)
    assert outcome is not None and outcome.ignored == "FixWurx's own check suite"


def test_a_red_default_branch_is_still_routed_as_before() -> None:
    payload = fake.failing_check_suite(check_suite={"head_branch": "main"})
    assert only_run("check_suite", payload).kind == "ci"


def _rerequested(slug: str, name: str) -> dict[str, Any]:
    check = {
        "name": name,
        "head_sha": "b" * 40,
        "app": {"slug": slug},
        "check_suite": {"head_branch": "fixwurx/issue-7", "head_sha": "b" * 40},
    }
    return fake.example("check_run", "rerequested", check_run=check)


def test_rerequested_fixwurx_check_reads_the_ci_again() -> None:
    run = only_run("check_run", _rerequested("fixwurx", "FixWurx verification"))
    assert (run.kind, run.trigger, run.head_sha) == ("ci_result", "check_run.rerequested", "b" * 40)


@pytest.mark.parametrize(("slug", "name"), [("other-ci", "FixWurx verification"), ("fixwurx", "x")])
def test_rerequested_checks_of_others_are_ignored(slug: str, name: str) -> None:
    outcome = route("check_run", _rerequested(slug, name))
    assert outcome is not None and outcome.ignored == "not FixWurx's check run"
