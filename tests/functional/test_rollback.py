"""End to end: a merged FixWurx fix that breaks the default branch gets a rollback pull request.

Signed webhooks -> web app -> Redis -> RQ worker -> attribution in the sandbox -> the fake
GitHub, whose CI simulator really runs the tests on every push (the default branch included)
and queues the `check_suite` / `workflow_run` deliveries that `pump` sends. The fix pull
requests are opened through FixWurx's own client and recorded as FixWurx's (what the fix flow
does after the chain; tests/functional/test_github_flow.py covers that part), so each test
spends its time on the rollback decision itself.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import select

from app.config import Settings
from app.db import session_scope
from app.flows import records
from app.github.client import GitHubClient
from app.models import AuditLog, Installation, PullRequest, Repository, RollbackDecision, Run
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.github.ci import Workflow
from tests.fakes.github.deliver import command, pump, send
from tests.fakes.github.fixtures import fake_github
from tests.functional.test_github_flow import SECRET, runs_of, settings, web, work

__all__ = ["fake_github", "settings", "web"]

pytestmark = pytest.mark.slow

CODE = '''def is_adult(age):
    """People of 18 and over are adults."""
    return age >= 18


def fee(age):
    return 0 if age < 12 else 10
'''
#: Pull requests' CI runs these; the default branch's CI runs every test.
QUICK_TESTS = "from ages import is_adult\n\n\ndef test_adult():\n    assert is_adult(18)\n"
FULL_TESTS = "from ages import fee\n\n\ndef test_child_fee():\n    assert fee(11) == 0\n"
#: The fix: a change to `fee` that only the default branch's tests notice.
BREAKING = {"ages.py": CODE.replace("age < 12", "age < 10")}
HARMLESS = {"notes.txt": "harmless\n"}
CI = Workflow(
    name="CI",
    file="ci.yml",
    command="J='--junitxml=junit.xml -o junit_family=xunit1 -p no:cacheprovider'; "
    'if [ "$GITHUB_REF_NAME" = main ]; then python -m pytest -q $J; '
    "else python -m pytest -q $J tests/test_quick.py; fi",
    junit_path="junit.xml",
)


def make_repo(fake: FakeGitHub, config: str = "") -> FakeRepo:
    files = {"ages.py": CODE, "tests/test_quick.py": QUICK_TESTS, "tests/test_full.py": FULL_TESTS}
    if config:
        files[".github/fixwurx.yml"] = config
    repo = fake.add_repo("octo/ages", files, collaborators={"alice": "write"})
    fake.ci.configure("octo/ages", workflows=[CI])
    return repo


def open_fix(fake: FakeGitHub, settings: Settings, repo: FakeRepo, files: dict[str, str]) -> int:
    """Issue N and FixWurx's pull request from fixwurx/issue-N, recorded as FixWurx's."""
    issue = fake.add_issue("octo/ages", "a bug", "details", labels=("fixwurx",))
    branch = f"fixwurx/issue-{issue}"
    fake.commit_files("octo/ages", branch, files, f"Fix #{issue}")
    client = GitHubClient(fake.api_url, fake.mint_token(repo.installation_id)).repo("octo/ages")
    pull = client.create_pull(f"Fix #{issue}: a bug", f"Fixes #{issue}", branch, "main", False)
    with session_scope(settings.database_url) as session:
        if session.get(Installation, repo.installation_id) is None:
            session.add(Installation(id=repo.installation_id, account_login=repo.owner))
            session.flush()
            session.add(
                Repository(
                    id=repo.id, installation_id=repo.installation_id, full_name=repo.full_name
                )
            )
        run = Run(repository_id=repo.id, trigger="test", kind="issue", issue_number=issue)
        run.status = "fixed"
        session.add(run)
        session.flush()
        run_id = run.id
    view = records.load_run(settings.database_url, run_id)
    records.record_pull(settings.database_url, view, pull.number, branch, "main", "h", "fix")
    return pull.number


def settle(fake: FakeGitHub, web: Any, redis_conn: Redis, rounds: int = 6) -> None:
    """Send what CI and merges queued, and work the queues, until nothing new happens."""
    for _ in range(rounds):
        if not pump(fake, web, SECRET):
            return
        work(redis_conn)


def decisions(settings: Settings) -> list[tuple[str, str, str]]:
    with session_scope(settings.database_url) as session:
        rows = session.scalars(select(RollbackDecision).order_by(RollbackDecision.id)).all()
        return [(r.verdict, r.action, r.reason) for r in rows]


def rollback_audits(settings: Settings) -> list[dict[str, Any]]:
    with session_scope(settings.database_url) as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.action == "rollback")).all()
        return [dict(r.detail) for r in rows]


def decision_seconds(settings: Settings) -> list[float]:
    with session_scope(settings.database_url) as session:
        rows = session.scalars(select(RollbackDecision)).all()
        return [float(r.evidence.get("seconds", 0.0)) for r in rows]


def test_a_merged_fix_that_breaks_the_default_branch_is_rolled_back(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = make_repo(fake_github)
    number = open_fix(fake_github, settings, repo, BREAKING)
    settle(fake_github, web, redis_conn)  # the fix's own CI: green (it runs the quick tests)
    issue = int(number) - 1
    started = time.monotonic()
    merge = fake_github.merge_pull("octo/ages", number, by="alice")
    fake_github.ci.wait_idle(60)
    queued = fake_github.ci.take_deliveries()
    for event, payload in queued:  # check_suite and workflow_run both fail: one decision
        send(web, event, payload, SECRET)
    work(redis_conn)
    took = time.monotonic() - started
    for event, payload in queued:  # GitHub redelivers them (new delivery ids): still one
        send(web, event, payload, SECRET)
    settle(fake_github, web, redis_conn)

    with session_scope(settings.database_url) as session:
        merged = session.scalars(select(PullRequest).where(PullRequest.number == number)).one()
        assert merged.state == "merged" and merged.merge_sha == merge
    assert [d[:2] for d in decisions(settings)] == [("blamed", "revert_pr")], runs_of(settings)
    [revert] = fake_github.open_pulls("octo/ages")
    assert revert["title"] == f"Revert #{number}: Fix #{issue}: a bug"
    body = revert["body"]
    assert "`tests/test_full.py::test_child_fee`" in body and merge[:12] in body, body
    assert "Green at" in body and "Red at" in body and "rerun" in body
    # The check's JUnit artifact named the test, and the first probe ran only that one.
    assert "JUnit report: `tests/test_full.py::test_child_fee`" in body, body
    assert fake_github.show("octo/ages", revert["head"], "ages.py") == CODE
    assert fake_github.repos["octo/ages"].issues[issue]["state"] == "open"
    comments = [c["body"] for c in fake_github.issue_comments("octo/ages", issue)]
    assert any(f"#{revert['number']} reverts it" in c for c in comments), comments
    assert [a["fix"] for a in rollback_audits(settings)] == [number]
    print(f"\nrollback: decided in {decision_seconds(settings)} s; merge to revert PR {took:.1f} s")
    print("revert pull request body:\n" + body)


def merge_harmless_fix(fake: FakeGitHub, settings: Settings, web: Any, redis: Redis) -> int:
    number = open_fix(fake, settings, fake.repos["octo/ages"], HARMLESS)
    settle(fake, web, redis)
    fake.merge_pull("octo/ages", number, by="alice")
    settle(fake, web, redis)
    return number


def test_a_later_unrelated_commit_is_blamed_by_bisection_and_nothing_is_reverted(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    make_repo(fake_github)
    merge_harmless_fix(fake_github, settings, web, redis_conn)
    assert decisions(settings) == []  # the merge's own CI was green
    fake_github.commit_files("octo/ages", "main", {"other.txt": "1\n"}, "unrelated", pusher="bob")
    culprit = fake_github.commit_files("octo/ages", "main", BREAKING, "break fee", pusher="bob")
    fake_github.commit_files("octo/ages", "main", {"other.txt": "2\n"}, "after", pusher="bob")
    settle(fake_github, web, redis_conn)

    found = decisions(settings)
    assert found and all(d[:2] == ("not_blamed", "none") for d in found), found
    assert any(f"bisection blames {culprit[:12]}" in d[2] for d in found), found
    assert fake_github.open_pulls("octo/ages") == [] and rollback_audits(settings) == []
    print(f"\nbisection decision in {decision_seconds(settings)} s")


FLAKY = """import os


def test_flaky():
    # Fails on the first attempt of a CI run, passes anywhere else: a flake CI hit once.
    assert not (os.environ.get("GITHUB_ACTIONS") and os.environ.get("GITHUB_RUN_ATTEMPT") == "1")
"""


def test_a_flaky_failure_after_the_merge_is_not_reverted(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    make_repo(fake_github)
    fake_github.commit_files("octo/ages", "main", {"tests/test_flaky.py": FLAKY}, "flaky")
    fake_github.ci.take_deliveries()  # that push's red CI happened before any fix
    fake_github.ci.wait_idle(60)
    fake_github.ci.take_deliveries()
    merge_harmless_fix(fake_github, settings, web, redis_conn)

    found = decisions(settings)
    assert [d[:2] for d in found] == [("not_blamed", "none")], runs_of(settings)
    assert "does not reproduce" in found[0][2]
    assert fake_github.open_pulls("octo/ages") == []


def test_a_branch_red_before_the_merge_is_not_reverted(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    make_repo(fake_github)
    fake_github.commit_files("octo/ages", "main", BREAKING, "broken before", pusher="bob")
    settle(fake_github, web, redis_conn)  # red, but no fix merged yet: no decision
    assert decisions(settings) == []
    merge_harmless_fix(fake_github, settings, web, redis_conn)

    found = decisions(settings)
    assert [d[:2] for d in found] == [("not_blamed", "none")], runs_of(settings)
    assert "already red before the merge" in found[0][2]
    assert fake_github.open_pulls("octo/ages") == []


def blame_once(fake: FakeGitHub, settings: Settings, web: Any, redis: Redis) -> int:
    number = open_fix(fake, settings, fake.repos["octo/ages"], BREAKING)
    settle(fake, web, redis)
    fake.merge_pull("octo/ages", number, by="alice")
    settle(fake, web, redis)
    return number


def test_rollback_off_comments_the_evidence_on_the_merged_pull_request(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    make_repo(fake_github, config="rollback: 'off'\n")
    number = blame_once(fake_github, settings, web, redis_conn)
    assert [d[:2] for d in decisions(settings)] == [("blamed", "commented")]
    assert fake_github.open_pulls("octo/ages") == []
    [comment] = [c["body"] for c in fake_github.issue_comments("octo/ages", number)]
    assert "`rollback: off`" in comment and "test_child_fee" in comment


def test_the_opt_out_label_keeps_the_fix(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = make_repo(fake_github)
    number = open_fix(fake_github, settings, repo, BREAKING)
    repo.issues[number]["labels"] = [{"id": 9, "name": "fixwurx:no-rollback", "color": "ededed"}]
    settle(fake_github, web, redis_conn)
    fake_github.merge_pull("octo/ages", number, by="alice")
    settle(fake_github, web, redis_conn)
    found = decisions(settings)
    assert [d[:2] for d in found] == [("refused", "none")] and "no-rollback" in found[0][2]
    assert fake_github.open_pulls("octo/ages") == []


def test_the_daily_cap_stops_a_second_rollback(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = make_repo(fake_github, config="rollback_per_day: 1\n")
    earlier = open_fix(fake_github, settings, repo, HARMLESS)
    with session_scope(settings.database_url) as session:  # a rollback earlier today
        session.add(
            RollbackDecision(
                repository_id=repo.id,
                pr_number=earlier,
                merge_sha="e" * 40,
                failing_sha="f" * 40,
                verdict="blamed",
                action="revert_pr",
                reason="earlier",
                evidence={},
                revert_pr_number=99,
            )
        )
    fake_github.repos["octo/ages"].pulls[earlier]["state"] = "closed"
    blame_once(fake_github, settings, web, redis_conn)
    found = decisions(settings)
    assert [d[:2] for d in found] == [("blamed", "revert_pr"), ("blamed", "commented")]
    assert "`rollback_per_day`: 1" in found[1][2], found
    assert fake_github.open_pulls("octo/ages") == []


def test_fixwurx_revert_on_the_merged_pull_request_opens_the_revert(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = make_repo(fake_github)
    number = merge_harmless_fix(fake_github, settings, web, redis_conn)
    payload = command(fake_github, repo, number, "/fixwurx revert", sender="alice")
    payload["issue"]["pull_request"] = {"url": f"{fake_github.api_url}/repos/octo/ages/pulls/1"}
    status, _ = send(web, "issue_comment", payload, SECRET)
    assert status == 202
    settle(fake_github, web, redis_conn)
    work(redis_conn)

    [revert] = fake_github.open_pulls("octo/ages")
    assert revert["title"].startswith(f"Revert #{number}: ")
    assert "as @alice asked" in revert["body"]
    replies = [c["body"] for c in fake_github.issue_comments("octo/ages", number)]
    assert any(f"Opened #{revert['number']} to revert #{number}" in r for r in replies), replies
    assert [a["fix"] for a in rollback_audits(settings)] == [number]
