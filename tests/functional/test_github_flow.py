"""End to end: signed webhook -> web app -> Redis -> RQ worker -> sandbox -> fake GitHub.

Everything is real except GitHub, which is the fake (a real HTTP server with real git
repositories, every request checked against GitHub's OpenAPI description): Redis, the database,
the RQ worker (forking, burst mode), git, and the repair chain running tests in the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import create_engine, func, select

from app.config import Settings
from app.db import session_scope
from app.flows.fixing import changed_lines
from app.flows.render import bundle_hash_in
from app.models import Attempt, Base, CandidateRecord, PatchBundleRecord, Run
from app.patches import content_hash, hashed_content
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.github.deliver import command, failed_check_suite, labeled, send
from tests.fakes.github.fixtures import fake_github
from workers import jobs, queues

__all__ = ["fake_github"]

pytestmark = pytest.mark.slow

SECRET = "whsec-e2e-secret"
BUGGY = '''def is_adult(age):
    """People of 18 and over are adults."""
    return age > 18
'''
FIXED = BUGGY.replace("age > 18", "age >= 18")
TESTS = """from ages import is_adult


def test_eighteen_is_adult():
    assert is_adult(18)


def test_seventeen_is_not():
    assert not is_adult(17)
"""
#: Runs inside the sandbox with the repository's tests: it fails if a credential reached them.
PROBE = """import os
import pathlib


def test_no_credentials_reach_repository_code():
    leaked = [
        k
        for k, v in os.environ.items()
        if k.endswith(("TOKEN", "_KEY", "SECRET"))
        or v.startswith(("ghs_", "-----BEGIN"))
        or "authorization" in v.lower()
    ]
    assert leaked == []
    config = pathlib.Path(".git/config")
    text = config.read_text().lower() if config.exists() else ""
    assert "ghs_" not in text and "extraheader" not in text and "authorization" not in text
"""


@pytest.fixture
def settings(
    tmp_path: Path, fake_github: FakeGitHub, redis_url: str, redis_conn: Redis
) -> Iterator[Settings]:
    url = f"sqlite:///{tmp_path / 'fixwurx.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    configured = Settings(
        app_id=str(fake_github.app_id),
        private_key=fake_github.private_key_pem,
        github_api_url=fake_github.api_url,
        app_slug=fake_github.slug,
        webhook_secret=SECRET,
        database_url=url,
        redis_url=redis_url,
    )
    jobs.configure(configured)
    yield configured
    jobs.configure(None)


@pytest.fixture
def web(settings: Settings) -> Any:
    from webhooks import create_app

    config = {
        "TESTING": True,
        "WEBHOOK_SECRET": SECRET,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "APP_SLUG": settings.app_slug,
    }
    return create_app(config).test_client()


def work(redis_conn: Redis) -> None:
    """Run a real RQ worker in burst mode until the queues are empty."""
    names = [
        Queue(name, connection=redis_conn, serializer=queues.SERIALIZER) for name in queues.QUEUES
    ]
    Worker(names, connection=redis_conn, serializer=queues.SERIALIZER).work(burst=True)


def make_repo(fake: FakeGitHub, config: str = "") -> FakeRepo:
    files = {"ages.py": BUGGY, "tests/test_ages.py": TESTS, "tests/test_probe.py": PROBE}
    if config:
        files[".github/fixwurx.yml"] = config
    return fake.add_repo("octo/ages", files, collaborators={"alice": "write", "mallory": "read"})


def runs_of(settings: Settings) -> list[tuple[str, str, str | None]]:
    with session_scope(settings.database_url) as session:
        return [(r.kind, r.status, r.reason) for r in session.scalars(select(Run).order_by(Run.id))]


def assert_pr_matches_its_bundle(
    fake: FakeGitHub, settings: Settings, pull: dict[str, Any]
) -> None:
    declared = bundle_hash_in(pull["body"])
    assert declared is not None, pull["body"]
    with session_scope(settings.database_url) as session:
        body = session.scalar(
            select(PatchBundleRecord.body).where(PatchBundleRecord.hash == declared)
        )
    assert body is not None, f"no stored bundle {declared}"
    assert content_hash(hashed_content(body)) == declared  # timings and search counts aside
    # Only the real bug failed before the fix: the credential probe passed in the sandbox.
    failing = [t["test"] for t in body["evidence"]["before"]]
    assert failing == ["tests/test_ages.py::test_eighteen_is_adult"], body["evidence"]
    diff = fake.pull_diff("octo/ages", pull["number"])
    changed = changed_lines(diff)
    assert changed == changed_lines(body["diff"]) and changed, (diff, body["diff"])


def test_labelled_issue_becomes_a_draft_pr_and_redelivery_adds_nothing(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = make_repo(fake_github)
    number = fake_github.add_issue(
        "octo/ages", "18-year-olds are not adults", "is_adult(18) is False", labels=("fixwurx",)
    )
    payload = labeled(fake_github, repo, number)
    status, _ = send(web, "issues", payload, SECRET, delivery_id="delivery-1")
    assert status == 202
    work(redis_conn)

    pulls = fake_github.open_pulls("octo/ages")
    assert len(pulls) == 1, runs_of(settings)
    pull = pulls[0]
    assert pull["title"] == f"Fix #{number}: 18-year-olds are not adults"
    assert pull["head"] == f"fixwurx/issue-{number}" and pull["base"] == "main"
    assert pull["draft"] is True
    assert f"Fixes #{number}" in pull["body"]
    assert fake_github.show("octo/ages", f"fixwurx/issue-{number}", "ages.py") == FIXED
    assert_pr_matches_its_bundle(fake_github, settings, pull)
    author = fake_github.repos["octo/ages"].bare
    from tests.fakes.github.server import git

    log = git(["log", "-1", "--format=%an <%ae>", f"fixwurx/issue-{number}"], author)
    assert (
        log.strip() == f"fixwurx[bot] <{fake_github.bot_id}+fixwurx[bot]@users.noreply.127.0.0.1>"
    )
    reactions = [r["content"] for r in repo.reactions if r["number"] == number]
    assert reactions == ["eyes"]
    comments = fake_github.issue_comments("octo/ages", number)
    assert len(comments) == 1 and comments[0]["edits"] >= 3  # one status comment, edited
    assert f"#{pull['number']}" in comments[0]["body"]
    for stage in ("clone", "reproduce", "localize", "patch", "bundle", "publish"):
        assert f"✅ {stage}" in comments[0]["body"], comments[0]["body"]
    assert runs_of(settings)[0][1] == "fixed"
    with session_scope(settings.database_url) as session:  # the run tree was recorded
        attempts = session.scalars(select(Attempt)).all()
        assert [a.status for a in attempts] == ["fixed"]
        assert session.scalar(select(func.count()).select_from(CandidateRecord)) >= 1

    # GitHub redelivers the same delivery: acknowledged, and nothing new happens.
    status, _ = send(web, "issues", payload, SECRET, delivery_id="delivery-1")
    assert status in (200, 202)
    work(redis_conn)
    assert len(fake_github.open_pulls("octo/ages")) == 1
    assert len(fake_github.issue_comments("octo/ages", number)) == 1

    # A new delivery of the same label (someone re-labels) opens no second PR either.
    send(web, "issues", payload, SECRET, delivery_id="delivery-2")
    work(redis_conn)
    assert len(fake_github.open_pulls("octo/ages")) == 1
    assert "already open" in fake_github.issue_comments("octo/ages", number)[-1]["body"]


def test_unauthorized_fix_command_gets_only_a_polite_reply(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = make_repo(fake_github)
    number = fake_github.add_issue("octo/ages", "bug", "is_adult(18) is False")
    payload = command(fake_github, repo, number, "/fixwurx fix", sender="mallory")
    status, _ = send(web, "issue_comment", payload, SECRET)
    assert status == 202
    work(redis_conn)

    comments = fake_github.issue_comments("octo/ages", number)
    assert len(comments) == 1
    assert "Sorry @mallory" in comments[0]["body"] and "**write**" in comments[0]["body"]
    assert repo.reactions == []
    assert fake_github.open_pulls("octo/ages") == []
    assert fake_github.count("POST", r"/repos/octo/ages/issues/\d+/reactions") == 0
    assert fake_github.branch_sha("octo/ages", f"fixwurx/issue-{number}") is None


def test_failed_check_suite_on_a_branch_gets_a_fix_pr_against_that_branch(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = make_repo(fake_github, config="auto_fix_ci: true\n")
    fake_github.commit_files("octo/ages", "main", {"ages.py": FIXED}, "correct on main")
    sha = fake_github.commit_files("octo/ages", "feature", {"ages.py": BUGGY}, "regress")
    payload = failed_check_suite(fake_github, repo, "feature", sha)
    status, _ = send(web, "check_suite", payload, SECRET)
    assert status == 202
    work(redis_conn)

    pulls = fake_github.open_pulls("octo/ages")
    assert len(pulls) == 1, runs_of(settings)
    pull = pulls[0]
    assert pull["base"] == "feature" and pull["head"] == f"fixwurx/ci-{sha[:12]}"
    assert fake_github.show("octo/ages", pull["head"], "ages.py") == FIXED
    assert_pr_matches_its_bundle(fake_github, settings, pull)

    # The same failure delivered again (a re-run check) is capped per commit.
    send(web, "check_suite", payload, SECRET)
    work(redis_conn)
    assert len(fake_github.open_pulls("octo/ages")) == 1
    assert runs_of(settings)[-1][1] == "done"


def test_a_repository_that_needs_a_pypi_package_gets_its_environment_and_a_pr(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    """The worker builds the repository's environment from requirements.txt (termcolor is not
    one of FixWurx's packages), and the pull request says how it was built."""
    needs_package = "import termcolor\n\nassert termcolor\n\n" + BUGGY
    repo = fake_github.add_repo(
        "octo/colors",
        {"ages.py": needs_package, "tests/test_ages.py": TESTS, "requirements.txt": "termcolor\n"},
        collaborators={"alice": "write"},
    )
    number = fake_github.add_issue(
        "octo/colors", "18 is adult", "is_adult(18)", labels=("fixwurx",)
    )
    status, _ = send(web, "issues", labeled(fake_github, repo, number), SECRET)
    assert status == 202
    work(redis_conn)

    pulls = fake_github.open_pulls("octo/colors")
    assert len(pulls) == 1, runs_of(settings)
    body = pulls[0]["body"]
    assert "- Test environment: Python 3." in body and "from requirements.txt" in body, body
    fixed = fake_github.show("octo/colors", f"fixwurx/issue-{number}", "ages.py")
    assert fixed == needs_package.replace("age > 18", "age >= 18")
