"""End to end, issue 13: a fix's check run, its canary and smoke CI, read back and acted on.

Signed webhooks -> web app -> Redis -> a real RQ worker (burst) -> the sandbox -> the fake
GitHub, whose CI simulator really runs each workflow's command at the pushed commit and queues
the `check_suite` / `check_run` / `workflow_run` deliveries that `pump` signs and sends back.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import select

from app.commands.workflow import workflow_text
from app.config import Settings
from app.db import session_scope
from app.models import CiResult, CiWatch, PatchBundleRecord
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.github.deliver import labeled, pump, send
from tests.fakes.github.fixtures import fake_github
from tests.functional.test_github_flow import (
    BUGGY,
    SECRET,
    TESTS,
    runs_of,
    settings,
    web,
    work,
)

__all__ = ["fake_github", "settings", "web"]

pytestmark = pytest.mark.slow

REPO = "octo/ages"
CHECK = "FixWurx verification"


def ci_workflow(name: str, command: str, file: str = "ci.yml") -> dict[str, str]:
    """A push workflow file: `command`, then its JUnit folder uploaded whatever happened."""
    text = f"""name: {name}
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Run tests
        run: |
          mkdir -p junit
          {command}
      - uses: actions/upload-artifact@v4
        if: ${{{{ always() }}}}
        with:
          name: junit
          path: junit/
"""
    return {f".github/workflows/{file}": text}


#: The repository's CI: the whole suite, as a push workflow (pytest's default JUnit, xunit2).
SMOKE = ci_workflow("CI", "python -m pytest -q -p no:cacheprovider --junitxml=junit/junit.xml")
#: The canary the maintainer committed: the template FixWurx ships, as it is.
CANARY = {".github/workflows/fixwurx-canary.yml": workflow_text()}


def make_repo(
    fake: FakeGitHub,
    config: str = "",
    extra: dict[str, str] | None = None,
    workflows: tuple[dict[str, str], ...] = (SMOKE, CANARY),
) -> FakeRepo:
    files = {"ages.py": BUGGY, "tests/test_ages.py": TESTS, **(extra or {})}
    for workflow in workflows:
        files.update(workflow)
    if config:
        files[".github/fixwurx.yml"] = config
    return fake.add_repo(REPO, files, collaborators={"alice": "write"})


def ci(fake: FakeGitHub, mode: str = "run") -> None:
    """The repository's CI runs its committed workflow files."""
    fake.ci.configure(REPO, env={"CI": "true"}, mode=mode)  # type: ignore[arg-type]


def fix_issue(
    fake: FakeGitHub, repo: FakeRepo, web: Any, redis_conn: Redis, settings: Settings
) -> dict[str, Any]:
    number = fake.add_issue(
        REPO, "18-year-olds are not adults", "is_adult(18)", labels=("fixwurx",)
    )
    status, _ = send(web, "issues", labeled(fake, repo, number), SECRET)
    assert status == 202
    work(redis_conn)
    pulls = fake.open_pulls(REPO)
    assert len(pulls) == 1, runs_of(settings)
    return pulls[0]


def read_back(fake: FakeGitHub, web: Any, redis_conn: Redis) -> float:
    """Let the CI finish, deliver what it said, run the jobs; returns the seconds it took."""
    started = time.monotonic()
    pump(fake, web, SECRET, wait=120)
    work(redis_conn)
    return time.monotonic() - started


def our_check(fake: FakeGitHub, sha: str) -> Any:
    found = [c for c in fake.ci.check_runs(REPO, sha) if c.name == CHECK]
    assert len(found) == 1, [c.name for c in fake.ci.check_runs(REPO, sha)]
    return found[0]


def watches(settings: Settings) -> list[tuple[str, str, int]]:
    with session_scope(settings.database_url) as session:
        rows = session.scalars(select(CiWatch).order_by(CiWatch.id))
        return [(w.head_sha, w.state, w.revision) for w in rows]


def save(name: str, text: str) -> None:
    """Keep a rendered text for the report (what a maintainer sees)."""
    from pathlib import Path

    Path("/tmp/ci-app").mkdir(exist_ok=True)
    Path(f"/tmp/ci-app/{name}.md").write_text(text)


def test_green_canary_and_smoke_pass_the_check_and_fill_the_body(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = make_repo(fake_github, "ready_when_green: true\n")
    ci(fake_github)
    pull = fix_issue(fake_github, repo, web, redis_conn, settings)
    assert pull["draft"] is True
    head = fake_github.branch_sha(REPO, pull["head"])
    assert head is not None
    check = our_check(fake_github, head)
    assert check.status == "in_progress"  # while the repository's CI runs
    canary = [r for r in fake_github.ci.runs(REPO) if r.workflow.file == "fixwurx-canary.yml"]
    assert len(canary) == 1
    assert json.loads(canary[0].inputs["tests_json"]) == [
        "tests/test_ages.py::test_eighteen_is_adult"
    ]

    waited = read_back(fake_github, web, redis_conn)
    check = our_check(fake_github, head)
    assert (check.status, check.conclusion) == ("completed", "success"), runs_of(settings)
    summary = check.output["summary"]
    assert "| canary | [FixWurx canary]" in summary and "| smoke | [CI]" in summary
    body = fake_github.open_pulls(REPO)[0]["body"]
    assert "## CI evidence" in body and "| canary |" in body
    assert fake_github.open_pulls(REPO)[0]["draft"] is False  # ready_when_green: true
    assert watches(settings) == [(head, "success", 0)]
    with session_scope(settings.database_url) as session:
        results = list(session.scalars(select(CiResult)))
        bundle = session.scalar(select(PatchBundleRecord.hash))
    assert {(r.kind, r.conclusion, r.bundle_hash) for r in results} == {
        ("canary", "success", bundle),
        ("smoke", "success", bundle),
    }
    save("green-check-summary", summary)
    save("green-pr-body", body)
    print(f"green: CI read back in {waited:.1f}s")


def test_a_run_that_died_while_acting_finishes_when_run_again_and_no_other_run_acts(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    """The claim (waiting -> acting) names its run: when that run is run again (the sweeper
    resumes a dead worker's run under the same id) it finishes the act, once; a delivery of
    another suite still finds the commit decided."""
    from app.flows.flow import execute_run
    from app.models import Run

    repo = make_repo(fake_github, workflows=(SMOKE,))
    ci(fake_github)
    pull = fix_issue(fake_github, repo, web, redis_conn, settings)
    head = fake_github.branch_sha(REPO, pull["head"])
    read_back(fake_github, web, redis_conn)
    assert watches(settings) == [(head, "success", 0)]
    with session_scope(settings.database_url) as session:
        watch = session.scalars(select(CiWatch)).one()
        owner = watch.acting_run_id
        other = session.scalar(
            select(Run.id).where(Run.kind == "ci_result", Run.id != owner).limit(1)
        )
        # As if the owner died right after its claim: nothing recorded, nothing finished.
        watch.state = "acting"
        for result in session.scalars(select(CiResult)):
            session.delete(result)
    assert owner is not None and other is not None
    assert "already decided (acting)" in execute_run(settings, other).reason
    assert watches(settings) == [(head, "acting", 0)]
    execute_run(settings, owner)
    assert watches(settings) == [(head, "success", 0)]
    with session_scope(settings.database_url) as session:
        recorded = [(r.kind, r.conclusion) for r in session.scalars(select(CiResult))]
    assert recorded == [("smoke", "success")]
    execute_run(settings, owner)  # once finished, running it again does nothing
    with session_scope(settings.database_url) as session:
        assert len(list(session.scalars(select(CiResult)))) == 1


def test_workflows_awaiting_approval_end_neutral_with_one_comment(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = make_repo(fake_github, workflows=(SMOKE,))
    ci(fake_github, mode="action_required")
    pull = fix_issue(fake_github, repo, web, redis_conn, settings)
    head = fake_github.branch_sha(REPO, pull["head"])
    read_back(fake_github, web, redis_conn)
    check = our_check(fake_github, head)
    assert (check.status, check.conclusion) == ("completed", "neutral")
    comments = [c["body"] for c in fake_github.issue_comments(REPO, pull["number"])]
    approval = [c for c in comments if "approval" in c]
    assert len(approval) == 1, comments
    assert "Approve them" in approval[0] and "CI" in approval[0]
    assert fake_github.open_pulls(REPO)[0]["draft"] is True
    save("approval-comment", approval[0])
    save("approval-check-summary", check.output["summary"])

    # A maintainer approves the runs (they run now), then re-runs the FixWurx check.
    fake_github.ci.set_mode(REPO, "run")
    with fake_github._lock:
        for waiting in fake_github.ci.runs(REPO):
            if waiting.conclusion == "action_required":
                fake_github.ci.rerun(waiting)
    read_back(fake_github, web, redis_conn)
    assert (
        our_check(fake_github, head).conclusion == "neutral"
    )  # decided; runs alone change nothing
    fake_github.ci.rerequest_from_ui(check.id, by="alice")
    read_back(fake_github, web, redis_conn)
    check = our_check(fake_github, head)
    assert (check.status, check.conclusion) == ("completed", "success"), runs_of(settings)
    assert watches(settings) == [(head, "success", 0)]


def test_a_ci_that_never_answers_times_out_neutral_through_the_sweeper(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = make_repo(fake_github, workflows=(SMOKE,))
    ci(fake_github, mode="silent")
    pull = fix_issue(fake_github, repo, web, redis_conn, settings)
    head = fake_github.branch_sha(REPO, pull["head"])
    assert read_back(fake_github, web, redis_conn) < 60  # nothing was delivered
    assert our_check(fake_github, head).status == "in_progress"
    # The deadline passes (ci_timeout_minutes); a worker's sweeper notices.
    import datetime as dt

    from sqlalchemy import update

    with session_scope(settings.database_url) as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        session.execute(update(CiWatch).values(deadline=past))
    from workers import sweeper

    report = sweeper.sweep(settings, redis_conn)
    assert len(report.ci_timeouts) == 1
    work(redis_conn)
    check = our_check(fake_github, head)
    assert (check.status, check.conclusion) == ("completed", "neutral")
    assert "no CI result within 60 minutes" in check.output["summary"]
    assert watches(settings) == [(head, "neutral", 0)]
    assert sweeper.sweep(settings, redis_conn).ci_timeouts == []
    save("timeout-check-summary", check.output["summary"])


#: A lint that is red on the base commit already (and on the fix: the fix does not touch it).
LINT = ci_workflow("Lint", "exit 1", "lint.yml")


def test_red_already_on_the_base_commit_is_not_blamed_on_the_fix(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = make_repo(fake_github, workflows=(SMOKE, LINT))
    ci(fake_github)
    # A push to main runs the CI on what becomes the fix's base commit: Lint is red there.
    fake_github.commit_files(REPO, "main", {"README.md": "ages\n"}, "Add a readme")
    fake_github.ci.wait_idle(120)
    fake_github.ci.take_deliveries()  # the default branch's CI is another engineer's flow
    pull = fix_issue(fake_github, repo, web, redis_conn, settings)
    head = fake_github.branch_sha(REPO, pull["head"])
    read_back(fake_github, web, redis_conn)
    check = our_check(fake_github, head)
    assert (check.status, check.conclusion) == ("completed", "success"), runs_of(settings)
    assert "| smoke | [Lint]" in check.output["summary"]
    assert "already red on the base commit; not blamed on the fix" in check.output["summary"]
    with session_scope(settings.database_url) as session:
        lint = session.scalars(select(CiResult).where(CiResult.name == "Lint")).one()
    assert (lint.conclusion, lint.blamed) == ("failure", False)
    save("base-red-check-summary", check.output["summary"])


#: The repository's CI runs a module the sandbox's configured test command leaves out.
SMOKE_ALL = ci_workflow(
    "CI", "python -m pytest -q -p no:cacheprovider --junitxml=junit/junit.xml tests integration"
)
ROUNDING = """from ages import is_adult


def test_seventeen_and_a_half_counts_as_adult():
    assert is_adult(17.5)
"""


def test_a_fix_red_in_ci_gets_one_revision_whose_second_commit_is_green(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    config = "test_command: python -m pytest -q tests\n"
    repo = make_repo(
        fake_github, config, {"integration/test_rounding.py": ROUNDING}, (SMOKE_ALL, CANARY)
    )
    ci(fake_github)
    pull = fix_issue(fake_github, repo, web, redis_conn, settings)
    first = fake_github.branch_sha(REPO, pull["head"])
    assert "age >= 18" in (fake_github.show(REPO, pull["head"], "ages.py") or "")

    waited = read_back(fake_github, web, redis_conn)  # CI red -> the revision round runs
    second = fake_github.branch_sha(REPO, pull["head"])
    assert second != first, runs_of(settings)
    assert "age > 17" in (fake_github.show(REPO, pull["head"], "ages.py") or "")
    old = our_check(fake_github, first)
    assert (old.conclusion, old.output["title"]) == (
        "failure",
        "New CI failures; FixWurx is revising the fix",
    )
    assert (
        "integration/test_rounding.py::test_seventeen_and_a_half_counts_as_adult"
        in (old.output["summary"])
    )
    waited += read_back(fake_github, web, redis_conn)  # the second commit's CI
    new = our_check(fake_github, second)
    assert (new.status, new.conclusion) == ("completed", "success"), runs_of(settings)
    assert [(s, r) for _h, s, r in watches(settings)] == [("superseded", 0), ("success", 1)]
    with session_scope(settings.database_url) as session:
        bundles = list(
            session.scalars(select(PatchBundleRecord.hash).order_by(PatchBundleRecord.id))
        )
    assert len(bundles) == 2
    body = fake_github.open_pulls(REPO)[0]["body"]
    assert "## Lineage" in body and all(h in body for h in bundles)
    assert f"| 1 | `{second[:12]}` | `{bundles[1]}` | success |" in body
    assert len(fake_github.open_pulls(REPO)) == 1
    save("revision-old-check-summary", old.output["summary"])
    save("revision-new-check-summary", new.output["summary"])
    save("revision-pr-body", body)
    print(f"revision: CI read back in {waited:.1f}s")


#: A test only CI can fail: it reads an environment variable only CI sets.
CI_ONLY = """import os

from ages import is_adult


def test_half_years_count_in_ci():
    if os.environ.get("CI") == "true":
        assert is_adult(17.5)
"""


def test_a_revision_that_cannot_pass_ci_stops_at_the_cap(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = make_repo(fake_github, extra={"tests/test_ci_env.py": CI_ONLY}, workflows=(SMOKE,))
    ci(fake_github)
    pull = fix_issue(fake_github, repo, web, redis_conn, settings)
    first = fake_github.branch_sha(REPO, pull["head"])
    read_back(fake_github, web, redis_conn)
    check = our_check(fake_github, first)
    assert check.conclusion == "failure", runs_of(settings)
    comments = [c["body"] for c in fake_github.issue_comments(REPO, pull["number"])]
    capped = [c for c in comments if "still fails" in c]
    assert len(capped) == 1, comments
    # CI's JUnit is xunit2 (`tests.test_ci_env::...`): the listed id is the pytest node id.
    # (The log excerpt below it names the node id too, so the list line itself is checked.)
    assert "  - `tests/test_ci_env.py::test_half_years_count_in_ci`" in capped[0], capped[0]
    with session_scope(settings.database_url) as session:
        failing = [r.failing for r in session.scalars(select(CiResult)) if r.failing]
    assert failing and all(
        t == "tests/test_ci_env.py::test_half_years_count_in_ci" for f in failing for t in f
    ), failing
    assert "Log excerpt" in capped[0] and "after 1 automatic revision round" in capped[0]
    assert fake_github.branch_sha(REPO, pull["head"]) == first  # nothing new was pushed
    assert fake_github.open_pulls(REPO)[0]["draft"] is True
    save("cap-comment", capped[0])
    save("cap-check-summary", check.output["summary"])


#: Conclusions GitHub gives that say nothing about the code (None: completed, no conclusion).
NO_VERDICT = ("cancelled", "skipped", "stale", "neutral", None)


@pytest.mark.parametrize("conclusion", NO_VERDICT, ids=lambda c: str(c))
def test_ci_without_a_verdict_ends_neutral_with_a_comment_and_the_draft_stays(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis, conclusion: Any
) -> None:
    """A cancelled (skipped, stale, neutral, conclusion-less) canary and CI are no pass:
    with `ready_when_green` on, the draft stays a draft and the check says why."""
    repo = make_repo(fake_github, "ready_when_green: true\n")
    ci(fake_github)
    fake_github.ci.set_mode(REPO, "conclude", conclusion=conclusion)
    pull = fix_issue(fake_github, repo, web, redis_conn, settings)
    head = fake_github.branch_sha(REPO, pull["head"])
    read_back(fake_github, web, redis_conn)
    check = our_check(fake_github, head)
    assert (check.status, check.conclusion) == ("completed", "neutral"), runs_of(settings)
    assert check.output["title"] == "The repository's CI gave no verdict"
    shown = conclusion or "no conclusion"
    assert "| smoke | [CI]" in check.output["summary"] and f"| {shown} |" in check.output["summary"]
    comments = [c["body"] for c in fake_github.issue_comments(REPO, pull["number"])]
    said = [c for c in comments if "gave no verdict" in c]
    assert len(said) == 1, comments
    assert f"CI]({fake_github.base_url}" in said[0] and f": {shown}" in said[0]
    assert fake_github.open_pulls(REPO)[0]["draft"] is True
    assert watches(settings) == [(head, "neutral", 0)]
    assert "CI evidence" not in fake_github.open_pulls(REPO)[0]["body"]


@pytest.mark.parametrize("conclusion", ("failure", "timed_out", "startup_failure"))
def test_every_red_conclusion_fails_the_check_and_keeps_the_draft(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis, conclusion: str
) -> None:
    repo = make_repo(fake_github, "ready_when_green: true\nci_revisions: 0\n")
    ci(fake_github)
    fake_github.ci.set_mode(REPO, "conclude", conclusion=conclusion)
    pull = fix_issue(fake_github, repo, web, redis_conn, settings)
    head = fake_github.branch_sha(REPO, pull["head"])
    read_back(fake_github, web, redis_conn)
    check = our_check(fake_github, head)
    assert (check.status, check.conclusion) == ("completed", "failure"), runs_of(settings)
    comments = [c["body"] for c in fake_github.issue_comments(REPO, pull["number"])]
    capped = [c for c in comments if "still fails" in c]
    assert len(capped) == 1 and f"**CI**: {conclusion}" in capped[0], comments
    assert fake_github.open_pulls(REPO)[0]["draft"] is True
    assert watches(settings) == [(head, "failure", 0)]


#: 200 parametrised tests that reproduce the bug, every id with spaces and brackets.
MANY = """import pytest

from ages import is_adult


@pytest.mark.parametrize("who", [f"adult number {i} (18 years)" for i in range(200)])
def test_eighteen_is_adult_for(who):
    assert is_adult(18), who
"""


def test_a_canary_with_200_parametrised_ids_with_spaces_goes_green(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    """The ids reach the shipped template whole (a JSON input), run first, and pass."""
    repo = make_repo(fake_github, extra={"tests/test_many.py": MANY})
    ci(fake_github)
    pull = fix_issue(fake_github, repo, web, redis_conn, settings)
    head = fake_github.branch_sha(REPO, pull["head"])
    [canary] = [r for r in fake_github.ci.runs(REPO) if r.workflow.file == "fixwurx-canary.yml"]
    sent = json.loads(canary.inputs["tests_json"])
    many = [t for t in sent if "test_eighteen_is_adult_for[" in t]
    assert (
        len(many) == 200
        and "tests/test_many.py::test_eighteen_is_adult_for[adult number 199 (18 years)]" in many
    )
    read_back(fake_github, web, redis_conn)
    check = our_check(fake_github, head)
    assert (check.status, check.conclusion) == ("completed", "success"), runs_of(settings)
    with fake_github._lock:
        [job] = [fake_github.ci.state.jobs[j] for j in canary.job_ids]
        [artifact] = [fake_github.ci.state.artifacts[a] for a in canary.artifact_ids]
    steps = {s["name"]: s["conclusion"] for s in job.steps}
    assert steps["Reproducing tests first"] == "success" and steps["Whole suite"] == "success"
    import io
    import zipfile

    from app.testing.junit import parse_junit

    archive = zipfile.ZipFile(io.BytesIO(artifact.data))
    assert sorted(archive.namelist()) == ["canary.xml", "suite.xml"]
    first = parse_junit(archive.read("canary.xml").decode())
    assert len(first) == len(sent) and all(o.ok for o in first)  # every id ran, none cut


#: A canary committed from the first template: a space-separated `tests` input.
OLD_CANARY_STEP = """      - name: Reproducing tests first
        if: ${{ inputs.tests != '' }}
        env:
          TESTS: ${{ inputs.tests }}
        run: |
          set -f
          mkdir -p junit
          python -m pytest -x -p no:cacheprovider --junitxml=junit/canary.xml $TESTS
"""


def old_canary() -> dict[str, str]:
    text = workflow_text()
    text = text.replace("      tests_json:\n", "      tests:\n").replace(
        'default: "[]"', 'default: ""'
    )
    start = text.index("      - name: Reproducing tests first")
    end = text.index("      - name: Whole suite")
    return {".github/workflows/fixwurx-canary.yml": text[:start] + OLD_CANARY_STEP + text[end:]}


def test_a_canary_from_the_first_template_still_gets_its_tests(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    """GitHub refuses the unknown `tests_json` input; FixWurx dispatches the old way."""
    repo = make_repo(fake_github, workflows=(SMOKE, old_canary()))
    ci(fake_github)
    pull = fix_issue(fake_github, repo, web, redis_conn, settings)
    head = fake_github.branch_sha(REPO, pull["head"])
    [canary] = [r for r in fake_github.ci.runs(REPO) if r.workflow.file == "fixwurx-canary.yml"]
    assert canary.inputs["tests"] == "tests/test_ages.py::test_eighteen_is_adult"
    read_back(fake_github, web, redis_conn)
    check = our_check(fake_github, head)
    assert (check.status, check.conclusion) == ("completed", "success"), runs_of(settings)
