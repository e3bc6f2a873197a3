"""execute_run's guards and commands against the fake GitHub (no repair chain runs here)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.config import Settings
from app.db import session_scope
from app.models import PullRequest, Repository, Run
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.unit.flows.helpers import bodies, execute_run, make_run, run_row


def test_invalid_config_gets_exactly_one_comment_and_no_action(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.commit_files(
        "octo/app", "main", {".github/fixwurx.yml": "max_attempts: lots\n"}, "cfg"
    )
    number = fake_github.add_issue("octo/app", "bug", labels=("fixwurx",))
    for _ in range(2):
        run_id = make_run(settings, repo, kind="issue", issue_number=number)
        execute_run(settings, run_id)
        assert run_row(settings, run_id).status == "done"
    comments = bodies(fake_github, number)
    assert len(comments) == 1
    assert "`.github/fixwurx.yml` is invalid" in comments[0] and "`max_attempts`" in comments[0]
    assert repo.reactions == [] and fake_github.open_pulls("octo/app") == []


def test_a_rejected_config_is_stored_on_the_repository_until_a_good_one_is_read(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.commit_files(
        "octo/app", "main", {".github/fixwurx.yml": "max_attempts: lots\n"}, "cfg"
    )
    number = fake_github.add_issue("octo/app", "bug", labels=("fixwurx",))
    execute_run(settings, make_run(settings, repo, kind="issue", issue_number=number))
    stored = repository_row(settings, repo.id)
    assert "max_attempts" in (stored.config_error or "") and stored.config_error_at is not None
    fake_github.commit_files("octo/app", "main", {".github/fixwurx.yml": "max_attempts: 2\n"}, "ok")
    execute_run(
        settings,
        make_run(
            settings,
            repo,
            kind="command",
            command="help",
            issue_number=number,
            requested_by="alice",
        ),
    )
    stored = repository_row(settings, repo.id)
    assert (stored.config_error, stored.config_error_at) == (None, None)


def repository_row(settings: Settings, repository_id: int) -> Repository:
    with session_scope(settings.database_url) as session:
        found = session.get(Repository, repository_id)
        assert found is not None
        return found


def test_closed_issue_is_refused_with_a_reason(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    number = fake_github.add_issue("octo/app", "bug", state="closed", labels=("fixwurx",))
    run_id = make_run(settings, repo, kind="issue", issue_number=number)
    execute_run(settings, run_id)
    assert run_row(settings, run_id).reason == "the issue is closed"
    assert bodies(fake_github, number) == [
        f"<!-- fixwurx:reply run={run_id} -->\n**FixWurx did not start:** the issue is closed"
    ]
    assert repo.reactions == []


def test_locked_issue_is_skipped_silently(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    number = fake_github.add_issue("octo/app", "bug", locked=True, labels=("fixwurx",))
    run_id = make_run(settings, repo, kind="issue", issue_number=number)
    execute_run(settings, run_id)
    assert run_row(settings, run_id).reason == "the issue is locked"
    assert bodies(fake_github, number) == []


def test_configured_label_is_rechecked(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.commit_files(
        "octo/app", "main", {".github/fixwurx.yml": "trigger_label: bot\n"}, "c"
    )
    number = fake_github.add_issue("octo/app", "bug", labels=("fixwurx",))
    run_id = make_run(settings, repo, kind="issue", issue_number=number)
    execute_run(settings, run_id)
    assert "configured label 'bot'" in (run_row(settings, run_id).reason or "")
    assert bodies(fake_github, number) == [] and repo.reactions == []


def test_used_up_attempts_are_refused(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.commit_files("octo/app", "main", {".github/fixwurx.yml": "max_attempts: 2\n"}, "c")
    number = fake_github.add_issue("octo/app", "bug", labels=("fixwurx",))
    for _ in range(2):
        make_run(settings, repo, kind="issue", issue_number=number, status="not_fixed")
    run_id = make_run(settings, repo, kind="issue", issue_number=number)
    execute_run(settings, run_id)
    assert "all 2 attempts" in bodies(fake_github, number)[0]
    assert repo.reactions == []


def test_help_is_answered_once_even_when_the_job_reruns(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    number = fake_github.add_issue("octo/app", "question")
    run_id = make_run(
        settings, repo, kind="command", command="help", issue_number=number, requested_by="alice"
    )
    execute_run(settings, run_id)
    with session_scope(settings.database_url) as session:
        session.get(Run, run_id).status = "running"  # type: ignore[union-attr]
    execute_run(settings, run_id)
    comments = bodies(fake_github, number)
    assert len(comments) == 1 and "**FixWurx commands**" in comments[0]


def test_unauthorized_command_gets_one_reply_and_nothing_else(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    number = fake_github.add_issue("octo/app", "bug")
    run_id = make_run(
        settings, repo, kind="command", command="stop", issue_number=number, requested_by="eve"
    )
    target = make_run(settings, repo, kind="issue", issue_number=number, status="queued")
    execute_run(settings, run_id)
    assert run_row(settings, target).status == "queued"
    comments = bodies(fake_github, number)
    assert len(comments) == 1 and "Sorry @eve" in comments[0]
    # The conversation is read once to look for an earlier refusal, not once per marker.
    assert fake_github.count("GET", rf"/repos/octo/app/issues/{number}/comments") == 1
    # Repeating the command (or another one) earns no second refusal.
    again = make_run(
        settings, repo, kind="command", command="fix", issue_number=number, requested_by="eve"
    )
    execute_run(settings, again)
    assert len(bodies(fake_github, number)) == 1
    assert repo.reactions == []


def test_stop_and_status(settings: Settings, fake_github: FakeGitHub, repo: FakeRepo) -> None:
    number = fake_github.add_issue("octo/app", "bug")
    target = make_run(settings, repo, kind="issue", issue_number=number, status="running")
    stop = make_run(
        settings, repo, kind="command", command="stop", issue_number=number, requested_by="alice"
    )
    execute_run(settings, stop)
    assert run_row(settings, target).status == "stopped"
    assert f"Stopped FixWurx run(s) #{target}." in bodies(fake_github, number)[0]
    status = make_run(
        settings, repo, kind="command", command="status", issue_number=number, requested_by="alice"
    )
    execute_run(settings, status)
    assert f"#{target} is **stopped**" in bodies(fake_github, number)[1]


@pytest.mark.parametrize(
    ("config", "branch", "reason"),
    [
        ("", "feature", "auto-fix of CI failures is off"),
        ("auto_fix_ci: true\n", "fixwurx/issue-3", "FixWurx's own branch"),
    ],
)
def test_ci_failures_that_are_not_ours_to_fix(
    settings: Settings,
    fake_github: FakeGitHub,
    repo: FakeRepo,
    config: str,
    branch: str,
    reason: str,
) -> None:
    if config:
        fake_github.commit_files("octo/app", "main", {".github/fixwurx.yml": config}, "c")
    run_id = make_run(settings, repo, kind="ci", branch=branch, head_sha="f" * 40)
    execute_run(settings, run_id)
    assert reason in (run_row(settings, run_id).reason or "")
    assert fake_github.count("POST", r"/repos/.*") == 0  # not a comment, not a reaction


def test_ci_attempts_are_capped_per_commit(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.commit_files(
        "octo/app", "main", {".github/fixwurx.yml": "auto_fix_ci: true\n"}, "c"
    )
    make_run(settings, repo, kind="ci", branch="feature", head_sha="e" * 40, status="not_fixed")
    run_id = make_run(settings, repo, kind="ci", branch="feature", head_sha="e" * 40)
    execute_run(settings, run_id)
    assert "already had 1 attempt" in (run_row(settings, run_id).reason or "")


def test_merge_of_our_pr_is_recorded(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    first = make_run(settings, repo, kind="issue", issue_number=1, status="fixed")
    with session_scope(settings.database_url) as session:
        session.add(
            PullRequest(
                repository_id=repo.id,
                number=2,
                run_id=first,
                branch="fixwurx/issue-1",
                base_branch="main",
                issue_number=1,
            )
        )
    run_id = make_run(settings, repo, kind="merge", pr_number=2, head_sha="c" * 40)
    execute_run(settings, run_id)
    with session_scope(settings.database_url) as session:
        pull = session.scalar(select(PullRequest).where(PullRequest.number == 2))
        assert pull is not None and (pull.state, pull.merge_sha) == ("merged", "c" * 40)


def test_ci_failure_of_a_commit_not_in_the_repository_is_ignored(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    # A fork's pull request from its own `main`: same branch name, a commit we do not have.
    fake_github.commit_files(
        "octo/app", "main", {".github/fixwurx.yml": "auto_fix_ci: true\n"}, "c"
    )
    run_id = make_run(settings, repo, kind="ci", branch="main", head_sha="d" * 40)
    execute_run(settings, run_id)
    assert "is not on main in this repository" in (run_row(settings, run_id).reason or "")
    assert fake_github.open_pulls("octo/app") == []


def test_a_repository_without_tests_gets_a_failure_comment_not_a_retry(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    number = fake_github.add_issue("octo/app", "bug", labels=("fixwurx",))
    run_id = make_run(settings, repo, kind="issue", issue_number=number)
    execute_run(settings, run_id)
    row = run_row(settings, run_id)
    assert row.status == "failed" and row.reason
    status, failure = bodies(fake_github, number)
    assert "could not run the repair" in status and "✅ clone" in status
    assert "FixWurx could not find a verified fix" in failure and row.reason[:40] in failure
    assert [r["content"] for r in repo.reactions] == ["eyes"]


def test_two_check_suites_for_one_commit_start_one_repair(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    # Two deliveries (two check suites of one commit), each recording a run; the first run's
    # worker is still repairing when the second run's worker reaches the per-commit cap.
    from app import runs
    from app.flows import records
    from tests.fakes import webhooks as fake
    from webhooks import create_app

    fake_github.commit_files(
        "octo/app", "main", {".github/fixwurx.yml": "auto_fix_ci: true\n"}, "c"
    )
    web = create_app(
        {
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url,
            "WEBHOOK_SECRET": "s",
            "SENTRY_DSN": "",
        }
    ).test_client()
    payload = fake.failing_check_suite(
        repository={"id": repo.id, "full_name": repo.full_name, "default_branch": "main"},
        installation={"id": repo.installation_id},
        check_suite={"head_sha": "e" * 40, "head_branch": "feature", "pull_requests": []},
    )
    run_ids = []
    for _ in range(2):
        sent = fake.delivery("check_suite", payload, "s")
        answer = web.post("/webhooks/github", data=sent.body, headers=sent.headers)
        assert answer.status_code == 202, answer.data
        run_ids += [int(j.removeprefix("run-")) for j in answer.get_json()["jobs"]]
    first, second = run_ids
    assert runs.claim(settings.database_url, first) and runs.claim(settings.database_url, second)
    execute_run(settings, second)
    assert "already had 1 attempt" in (run_row(settings, second).reason or "")
    # The first run does not count the second (now refused) against itself.
    assert (
        records.ci_attempts(settings.database_url, records.load_run(settings.database_url, first))
        == 0
    )
