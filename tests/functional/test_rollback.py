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
#: The repository's CI, a committed workflow file: every test on the default branch, the quick
#: ones on pull requests; pytest's default JUnit (xunit2) is uploaded whatever happened.
CI = """name: CI
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Every test
        if: ${{ github.ref_name == 'main' }}
        run: |
          mkdir -p junit
          python -m pytest -q -p no:cacheprovider --junitxml=junit/junit.xml
      - name: Quick tests
        if: ${{ github.ref_name != 'main' }}
        run: |
          mkdir -p junit
          python -m pytest -q -p no:cacheprovider --junitxml=junit/junit.xml tests/test_quick.py
      - uses: actions/upload-artifact@v4
        if: ${{ always() }}
        with:
          name: junit
          path: junit/
"""


def make_repo(fake: FakeGitHub, config: str = "") -> FakeRepo:
    files = {
        "ages.py": CODE,
        "tests/test_quick.py": QUICK_TESTS,
        "tests/test_full.py": FULL_TESTS,
        ".github/workflows/ci.yml": CI,
    }
    if config:
        files[".github/fixwurx.yml"] = config
    repo = fake.add_repo("octo/ages", files, collaborators={"alice": "write"})
    fake.ci.configure("octo/ages")
    return repo


def open_fix(
    fake: FakeGitHub,
    settings: Settings,
    repo: FakeRepo,
    files: dict[str, str],
    base: str = "main",
) -> int:
    """Issue N and FixWurx's pull request from fixwurx/issue-N, recorded as FixWurx's."""
    issue = fake.add_issue("octo/ages", "a bug", "details", labels=("fixwurx",))
    branch = f"fixwurx/issue-{issue}"
    fake.commit_files("octo/ages", branch, files, f"Fix #{issue}")
    client = GitHubClient(fake.api_url, fake.mint_token(repo.installation_id)).repo("octo/ages")
    pull = client.create_pull(f"Fix #{issue}: a bug", f"Fixes #{issue}", branch, base, False)
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
    records.record_pull(settings.database_url, view, pull.number, branch, base, "h", "fix")
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
    # One attribution for the failing commit: the redelivered and second suites found it.
    with session_scope(settings.database_url) as session:
        attributed = session.scalars(
            select(Run.id).where(Run.kind == "ci", Run.stage == "rollback")
        ).all()
    assert len(attributed) == 1, runs_of(settings)
    print(f"\nrollback: decided in {decision_seconds(settings)} s; merge to revert PR {took:.1f} s")
    print("revert pull request body:\n" + body)


def merge_harmless_fix(fake: FakeGitHub, settings: Settings, web: Any, redis: Redis) -> int:
    number = open_fix(fake, settings, fake.repos["octo/ages"], HARMLESS)
    settle(fake, web, redis)
    fake.merge_pull("octo/ages", number, by="alice")
    settle(fake, web, redis)
    return number


def evidence(settings: Settings) -> list[dict[str, Any]]:
    with session_scope(settings.database_url) as session:
        rows = session.scalars(select(RollbackDecision).order_by(RollbackDecision.id)).all()
        return [dict(r.evidence) for r in rows]


def test_bisection_blames_the_fourth_of_six_commits_and_the_merge_stays(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    """Six first-parent commits land after the merge in one push; the 4th breaks `fee`. CI is
    red at the 6th. The merge passes when probed, bisection names the 4th, nothing reverts."""
    make_repo(fake_github)
    number = merge_harmless_fix(fake_github, settings, web, redis_conn)
    merge = fake_github.branch_sha("octo/ages", "main")
    assert decisions(settings) == []  # the merge's own CI was green
    series = [({"other.txt": f"{n}\n"}, f"commit {n}") for n in range(1, 7)]
    series[3] = (BREAKING, "commit 4 breaks fee")
    shas = fake_github.push_commits("octo/ages", "main", series, pusher="bob")
    settle(fake_github, web, redis_conn)

    [found] = decisions(settings)
    assert found[:2] == ("not_blamed", "none"), runs_of(settings)
    [proof] = evidence(settings)
    assert proof["culprit"] == shas[3], (proof["culprit"], shas)
    assert proof["culprit"] not in (merge, shas[-1])
    assert f"bisection blames {shas[3][:12]}" in found[2]
    # red (the test CI named), the fix's base, the merge; then 2 bisection steps over 6 commits.
    assert [p["role"] for p in proof["probes"]] == [
        "red commit (the tests CI named)",
        "fix's base",
        "merge",
    ]
    searched = [p["sha"] for p in proof["bisection"] if "known" not in p]
    assert searched == [shas[2], shas[3]] and proof["test_runs"] == 5
    assert fake_github.open_pulls("octo/ages") == [] and rollback_audits(settings) == []
    assert fake_github.repos["octo/ages"].pulls[number]["state"] == "closed"  # merged, kept
    print(f"\nbisection decision in {decision_seconds(settings)} s")


#: A test with a stateful flake: its first run in a fresh tree finds no cache file and fails;
#: run again in the same tree it finds the file its first run left and passes.
FLAKY = """from pathlib import Path


def test_warm_cache():
    marker = Path(__file__).with_name("warm.txt")
    warm = marker.exists()
    marker.write_text("warm")
    assert warm, "cold cache"
"""


def test_a_failure_that_passes_on_the_rerun_at_the_merge_is_flaky_and_not_reverted(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    """CI is red at the merge, FixWurx's first run there fails too, its rerun passes."""
    repo = make_repo(fake_github)
    number = open_fix(fake_github, settings, repo, {"tests/test_flaky.py": FLAKY})
    settle(fake_github, web, redis_conn)  # the pull request's CI runs the quick tests: green
    merge = fake_github.merge_pull("octo/ages", number, by="alice")
    settle(fake_github, web, redis_conn)

    [found] = decisions(settings)
    assert found[:2] == ("not_blamed", "none"), runs_of(settings)
    assert (
        found[2].startswith("flaky:") and f"passed on a rerun at the merge {merge[:12]}" in found[2]
    )
    [proof] = evidence(settings)
    flaky = "tests/test_flaky.py::test_warm_cache"
    assert proof["probes"][0]["sha"] == merge and proof["probes"][0]["failed"] == [flaky]
    assert proof["reruns"][0]["role"] == "merge (rerun)" and proof["reruns"][0]["failed"] == []
    assert fake_github.open_pulls("octo/ages") == []


FAILS_ONLY_IN_CI = """import os


def test_flaky():
    # Fails on the first attempt of a CI run, passes anywhere else: a flake CI hit once.
    assert not (os.environ.get("GITHUB_ACTIONS") and os.environ.get("GITHUB_RUN_ATTEMPT") == "1")
"""


def test_a_failure_that_does_not_reproduce_in_the_sandbox_is_not_reverted(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    make_repo(fake_github)
    fake_github.commit_files(
        "octo/ages", "main", {"tests/test_flaky.py": FAILS_ONLY_IN_CI}, "flaky"
    )
    fake_github.ci.take_deliveries()  # that push's red CI happened before any fix
    fake_github.ci.wait_idle(60)
    fake_github.ci.take_deliveries()
    merge_harmless_fix(fake_github, settings, web, redis_conn)

    found = decisions(settings)
    assert [d[:2] for d in found] == [("not_blamed", "none")], runs_of(settings)
    assert "does not reproduce" in found[0][2]
    assert fake_github.open_pulls("octo/ages") == []


def test_a_failure_past_the_commit_window_is_refused(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    """The breaking merge's own CI never ran; the branch turns red 3 commits later, past
    `rollback_window_commits: 2`: the fix is not judged, nothing reverts."""
    repo = make_repo(fake_github, config="rollback_window_commits: 2\n")
    number = open_fix(fake_github, settings, repo, BREAKING)
    settle(fake_github, web, redis_conn)
    fake_github.ci.set_mode("octo/ages", "silent")
    fake_github.merge_pull("octo/ages", number, by="alice")
    settle(fake_github, web, redis_conn)
    fake_github.ci.set_mode("octo/ages", "run")
    later = [({"other.txt": f"{n}\n"}, f"later {n}") for n in range(3)]
    fake_github.push_commits("octo/ages", "main", later, pusher="bob")
    settle(fake_github, web, redis_conn)

    found = decisions(settings)
    assert [d[:2] for d in found] == [("refused", "none")], runs_of(settings)
    assert "more than `rollback_window_commits` (2)" in found[0][2]
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


def test_rollback_shadow_records_the_blame_and_acts_on_nothing(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    make_repo(fake_github, config="rollback: shadow\n")
    number = blame_once(fake_github, settings, web, redis_conn)
    [found] = decisions(settings)
    assert found[:2] == ("blamed", "shadow") and "`rollback: shadow`" in found[2]
    assert fake_github.open_pulls("octo/ages") == []
    assert fake_github.issue_comments("octo/ages", number) == []
    assert rollback_audits(settings) == []


def test_a_fix_merged_off_the_first_parent_line_gets_a_decision_and_a_comment(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    """The fix merged into `release`; `release` merged into main later and main went red:
    no window to bisect, so FixWurx says it cannot judge the fix instead of saying nothing."""
    repo = make_repo(fake_github)
    fake_github.commit_files("octo/ages", "release", {"release.txt": "1\n"}, "release branch")
    settle(fake_github, web, redis_conn)
    number = open_fix(fake_github, settings, repo, BREAKING, base="release")
    settle(fake_github, web, redis_conn)
    fake_github.merge_pull("octo/ages", number, by="alice")  # into release: quick tests, green
    settle(fake_github, web, redis_conn)
    assert decisions(settings) == []
    pull = fake_github.open_pull(repo, "Release", "", "release", "main", False)
    fake_github.merge_pull("octo/ages", pull["number"], by="alice")
    settle(fake_github, web, redis_conn)

    found = decisions(settings)
    assert [d[:2] for d in found] == [("unjudged", "commented")], runs_of(settings)
    assert "not on the default branch's first-parent line" in found[0][2]
    comments = [c["body"] for c in fake_github.issue_comments("octo/ages", number)]
    assert any("FixWurx cannot judge this fix" in c for c in comments), comments
    assert fake_github.open_pulls("octo/ages") == []


def test_a_run_of_red_commits_reuses_one_attribution_until_a_new_test_fails(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    make_repo(fake_github, config="rollback: 'off'\n")
    blame_once(fake_github, settings, web, redis_conn)
    for n in range(2):  # the branch stays red: two more pushes, the same failing test
        fake_github.commit_files("octo/ages", "main", {"other.txt": f"{n}\n"}, f"more {n}")
        settle(fake_github, web, redis_conn)
    broken = CODE.replace("age < 12", "age < 10").replace("age >= 18", "age > 18")
    fake_github.commit_files("octo/ages", "main", {"ages.py": broken}, "breaks is_adult too")
    settle(fake_github, web, redis_conn)

    found = decisions(settings)
    assert [d[:2] for d in found[:3]] == [
        ("blamed", "commented"),
        ("blamed", "reused"),
        ("blamed", "reused"),
    ], runs_of(settings)
    runs = [e.get("test_runs") for e in evidence(settings)]
    assert runs[0] > 0 and runs[1:3] == [0, 0]
    assert len(found) == 4 and found[3][1] != "reused" and runs[3] > 0  # a new test fails
