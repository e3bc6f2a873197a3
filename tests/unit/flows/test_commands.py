"""Comment commands on pull request threads, through the job (`flow.execute_run`).

`explain` must answer with the bundle of the conversation it was asked in; `fix`, `retry` and
`revise` on a pull request must start from the right branch and answer in the right place.
"""

from __future__ import annotations

from typing import Any

from app.config import Settings
from app.db import session_scope
from app.models import PatchBundleRecord, PullRequest
from app.patches import PatchBundle
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.unit.flows.helpers import bodies, execute_run, make_run, run_row


def open_pull(fake: FakeGitHub, head: str, body: str = "", base: str = "main") -> int:
    """A pull request in the fake from `head` (which must exist) into `base`."""
    pull = fake.open_pull(fake.repos["octo/app"], f"Changes from {head}", body, head, base, False)
    return int(pull["number"])


def made_bundle(value: str, explanation: str = "") -> PatchBundle:
    return PatchBundle(
        base_commit="b" * 40,
        diff=f"--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = {value}\n",
        files=("a.py",),
        evidence={"before": [{"test": f"t::x{value}", "outcome": "failed"}], "after": []},
        localization=[{"path": "a.py", "line": 1, "score": 1.0, "why": "x"}],
        source="templates",
        summary=f"x = {value}",
        explanation=explanation,
    )


def store_bundle(settings: Settings, run_id: int, made: PatchBundle) -> None:
    with session_scope(settings.database_url) as session:
        session.add(PatchBundleRecord(run_id=run_id, hash=made.hash, body=made.to_json()))


def command_on(settings: Settings, repo: FakeRepo, number: int, name: str, **extra: Any) -> int:
    return make_run(
        settings,
        repo,
        kind="command",
        command=name,
        pr_number=number,
        requested_by="alice",
        **extra,
    )


# --- explain -----------------------------------------------------------------------------------


def test_explain_on_a_pull_request_shows_that_pull_requests_bundle(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.commit_files("octo/app", "feature-a", {"b.py": "a\n"}, "a")
    fake_github.commit_files("octo/app", "feature-b", {"b.py": "b\n"}, "b")
    first = open_pull(fake_github, "feature-a")
    second = open_pull(fake_github, "feature-b")
    mine, other = made_bundle("2"), made_bundle("3")
    for number, made in ((first, mine), (second, other)):
        ci = make_run(settings, repo, kind="ci", pr_number=number, status="fixed")
        store_bundle(settings, ci, made)
    run_id = command_on(settings, repo, first, "explain")
    execute_run(settings, run_id)
    [reply] = bodies(fake_github, first)
    assert mine.hash in reply and other.hash not in reply
    assert bodies(fake_github, second) == []


def test_explain_on_fixwurx_own_pull_request_shows_the_bundle_it_carries(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    issues = [fake_github.add_issue("octo/app", f"bug {i}") for i in (1, 2)]
    pulls = []
    for issue, value in zip(issues, ("2", "3"), strict=True):
        made = made_bundle(value)
        fixed = make_run(settings, repo, kind="issue", issue_number=issue, status="fixed")
        store_bundle(settings, fixed, made)
        branch = f"fixwurx/issue-{issue}"
        fake_github.commit_files("octo/app", branch, {"a.py": f"x = {value}\n"}, "fix")
        number = open_pull(fake_github, branch, body=f"<!-- fixwurx:bundle {made.hash} -->")
        with session_scope(settings.database_url) as session:
            session.add(
                PullRequest(
                    repository_id=repo.id,
                    number=number,
                    run_id=fixed,
                    issue_number=issue,
                    branch=branch,
                    base_branch="main",
                    bundle_hash=made.hash,
                )
            )
        pulls.append((number, made))
    (first, mine), (_, other) = pulls
    run_id = command_on(settings, repo, first, "explain")
    execute_run(settings, run_id)
    [reply] = bodies(fake_github, first)
    assert mine.hash in reply and other.hash not in reply
    assert run_row(settings, run_id).status == "done"


def test_explain_shows_the_models_root_cause_explanation(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    number = fake_github.add_issue("octo/app", "bug")
    fixed = make_run(settings, repo, kind="issue", issue_number=number, status="fixed")
    store_bundle(settings, fixed, made_bundle("2", "x started at 1 where callers expect 2."))
    run_id = make_run(
        settings, repo, kind="command", command="explain", issue_number=number, requested_by="alice"
    )
    execute_run(settings, run_id)
    [reply] = bodies(fake_github, number)
    assert "x started at 1 where callers expect 2." in reply


# --- fix, retry and revise on a pull request thread ---------------------------------------------
# The fixture's repository has no tests, so the chain stops right after the clone with a failure
# comment: enough to see where each command started and where it answered, in seconds.


def own_pull(settings: Settings, fake: FakeGitHub, repo: FakeRepo) -> tuple[int, int, str]:
    """An issue, a finished run that fixed it, and FixWurx's open PR: (issue, PR, PR head)."""
    issue = fake.add_issue("octo/app", "x should be 2", labels=("fixwurx",))
    fixed = make_run(settings, repo, kind="issue", issue_number=issue, status="running")
    from app import runs
    from app.runs import verdict

    runs.record_verdict(settings.database_url, fixed, verdict.fixed("pull request"))  # just now
    branch = f"fixwurx/issue-{issue}"
    head = fake.commit_files("octo/app", branch, {"a.py": "x = 2\n"}, f"Fix #{issue}")
    made = made_bundle("2")
    store_bundle(settings, fixed, made)
    number = open_pull(fake, branch, body=f"<!-- fixwurx:bundle {made.hash} -->")
    with session_scope(settings.database_url) as session:
        session.add(
            PullRequest(
                repository_id=repo.id,
                number=number,
                run_id=fixed,
                issue_number=issue,
                branch=branch,
                base_branch="main",
                bundle_hash=made.hash,
            )
        )
    return issue, number, head


def status_of(fake: FakeGitHub, number: int) -> str:
    found = [b for b in bodies(fake, number) if "<!-- fixwurx:status" in b]
    assert len(found) == 1, bodies(fake, number)
    return found[0]


def test_revise_on_fixwurx_pull_request_starts_from_its_patch_despite_the_cooldown(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    issue, number, head = own_pull(settings, fake_github, repo)
    run_id = command_on(settings, repo, number, "revise", command_args="also accept x = 3")
    execute_run(settings, run_id)
    status = status_of(fake_github, issue)
    assert f"✅ clone — at {head[:12]}" in status, status
    row = run_row(settings, run_id)
    assert row.status == "failed" and "cooling down" not in (row.reason or "")
    assert not any("did not start" in b for b in bodies(fake_github, issue))


def test_revise_on_the_issue_starts_from_its_open_pull_request(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    issue, _, head = own_pull(settings, fake_github, repo)
    run_id = make_run(
        settings,
        repo,
        kind="command",
        command="revise",
        command_args="keep x an int",
        issue_number=issue,
        requested_by="alice",
    )
    execute_run(settings, run_id)
    assert f"✅ clone — at {head[:12]}" in status_of(fake_github, issue)
    assert run_row(settings, run_id).status == "failed"


def test_retry_on_fixwurx_pull_request_redoes_the_issue_from_the_default_branch(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.commit_files(
        "octo/app", "main", {".github/fixwurx.yml": "cooldown_minutes: 0\n"}, "c"
    )
    issue, number, _ = own_pull(settings, fake_github, repo)
    main = fake_github.branch_sha("octo/app", "main") or ""
    run_id = command_on(settings, repo, number, "retry")
    execute_run(settings, run_id)
    assert f"✅ clone — at {main[:12]}" in status_of(fake_github, issue)
    assert bodies(fake_github, number) == []  # the issue's conversation answers
    assert run_row(settings, run_id).status == "failed"


def test_retry_right_after_a_run_is_refused_by_the_cooldown(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    issue, number, _ = own_pull(settings, fake_github, repo)
    run_id = command_on(settings, repo, number, "retry")
    execute_run(settings, run_id)
    assert "cooling down" in (run_row(settings, run_id).reason or "")
    [refusal] = [b for b in bodies(fake_github, issue) if "did not start" in b]
    assert "cooling down after the last attempt" in refusal
    assert fake_github.branch_sha("octo/app", f"fixwurx/issue-{issue}") is not None


def test_fix_on_another_pull_request_repairs_that_branch_and_answers_there(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    head = fake_github.commit_files("octo/app", "feature", {"a.py": "x = 5\n"}, "feature work")
    number = open_pull(fake_github, "feature")
    run_id = command_on(settings, repo, number, "fix")
    execute_run(settings, run_id)
    assert f"✅ clone — at {head[:12]}" in status_of(fake_github, number)
    assert run_row(settings, run_id).status == "failed"
    assert [r["content"] for r in repo.reactions] == ["eyes"]


def test_fix_on_fixwurx_pull_request_redoes_its_issue_despite_the_open_pull_request(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.commit_files(
        "octo/app", "main", {".github/fixwurx.yml": "cooldown_minutes: 0\n"}, "c"
    )
    issue, number, _ = own_pull(settings, fake_github, repo)
    main = fake_github.branch_sha("octo/app", "main") or ""
    run_id = command_on(settings, repo, number, "fix")
    execute_run(settings, run_id)
    assert f"✅ clone — at {main[:12]}" in status_of(fake_github, issue)
    assert not any("already open" in b for b in bodies(fake_github, issue))
    assert bodies(fake_github, number) == []


def test_retry_on_another_pull_request_repairs_that_branch(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    head = fake_github.commit_files("octo/app", "feature", {"a.py": "x = 5\n"}, "feature work")
    number = open_pull(fake_github, "feature")
    run_id = command_on(settings, repo, number, "retry")
    execute_run(settings, run_id)
    assert f"✅ clone — at {head[:12]}" in status_of(fake_github, number)
    assert run_row(settings, run_id).status == "failed"


def test_explain_on_the_issue_shows_the_bundle_a_revision_pushed_to_its_pull_request(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    from app.flows import records

    issue, number, _ = own_pull(settings, fake_github, repo)
    # A revise asked on the PR: its run row names the PR, not the issue.
    revised = command_on(settings, repo, number, "revise", status="fixed")
    newer = made_bundle("4")
    store_bundle(settings, revised, newer)
    view = records.load_run(settings.database_url, revised)
    records.record_pull(settings.database_url, view, number, "b", "main", newer.hash, "fix")
    run_id = make_run(
        settings, repo, kind="command", command="explain", issue_number=issue, requested_by="alice"
    )
    execute_run(settings, run_id)
    [reply] = [b for b in bodies(fake_github, issue) if "How FixWurx found" in b]
    assert newer.hash in reply
