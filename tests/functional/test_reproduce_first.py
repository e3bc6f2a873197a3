"""Reproduce before repairing: an issue in words gets a model-written test before any fix.

The real chain and sandbox run against scripted models served through the real OpenAI and
Anthropic SDKs (tests/fakes/llm.py). The repository's `ratio()` divides by zero when there is no
work although its docstring promises "0%"; its own tests pass, so only a reproduction test can
show the bug. A test is kept only if it fails for the issue's reason, the kept one ships with
the fix and must turn green, and when no test reproduces the run ends without guessing a fix.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, select

from app.chain.planner import RepairOptions, RepairOutcome, repair
from app.config import Settings
from app.db import session_scope
from app.models import Base, Run
from app.repair.search import SearchBudget
from tests.fakes.github import FakeGitHub
from tests.fakes.github.deliver import labeled, send
from tests.fakes.github.fixtures import fake_github
from tests.fakes.llm import FakeLLMServer, Kind, Reply, fake_llm
from tests.functional.test_github_flow import work
from workers import jobs

__all__ = ["fake_github"]

pytestmark = pytest.mark.slow

STATS = '''"""Progress figures."""


def ratio(done, total):
    """Share of the work done, as a percentage: ratio(1, 4) == "25%"; no work at all is "0%"."""
    return format(done / total, ".0%")
'''

TESTS = """from progress import ratio


def test_a_quarter():
    assert ratio(1, 4) == "25%"
"""

ISSUE = (
    "ratio(0, 0) crashes with ZeroDivisionError, although its docstring says that no work at "
    "all is 0%."
)

REPRO = "tests/test_fixwurx_repro.py"
GOOD_ID = f"{REPRO}::test_no_work_is_zero_percent"


def _test_file(body: str) -> str:
    return f"{REPRO}\n<<<<<<< SEARCH\n=======\n{body}>>>>>>> REPLACE\n"


#: Fails with the issue's exception: kept.
GOOD_TEST = _test_file(
    "from progress import ratio\n\n\ndef test_no_work_is_zero_percent():\n"
    '    assert ratio(0, 0) == "0%"\n'
)
#: Fails because the module it imports does not exist: a broken test, not the bug.
IMPORT_ERROR_TEST = _test_file(
    "from progress_helpers import ratio\n\n\ndef test_no_work_is_zero_percent():\n"
    '    assert ratio(0, 0) == "0%"\n'
)
#: Pass on the unfixed code: they do not show the bug.
PASSING_TESTS = (
    _test_file(
        'from progress import ratio\n\n\ndef test_half():\n    assert ratio(1, 2) == "50%"\n'
    ),
    _test_file(
        'from progress import ratio\n\n\ndef test_all():\n    assert ratio(3, 3) == "100%"\n'
    ),
)
#: Fails, but with an AssertionError where the issue describes a ZeroDivisionError.
WRONG_EXCEPTION_TEST = _test_file(
    'from progress import ratio\n\n\ndef test_wrong():\n    assert ratio(1, 3) == "33.3%"\n'
)

#: A "fix" that stops the crash but answers 0, not "0%": the reproduction test stays red.
WRONG_FIX = """progress.py
<<<<<<< SEARCH
    return format(done / total, ".0%")
=======
    return format(done / total, ".0%") if total else 0
>>>>>>> REPLACE
"""
FIX = """No work at all divided by zero instead of answering 0%.

progress.py
<<<<<<< SEARCH
    return format(done / total, ".0%")
=======
    return format(done / total, ".0%") if total else "0%"
>>>>>>> REPLACE
"""

#: The patch source's candidates are few; the templates find nothing for this bug.
FEW = SearchBudget(max_candidates=12)


class Model:
    """A scripted model: answers each prompt by its step; reproduction tests from a list."""

    def __init__(self, tests: list[str], patches: tuple[str, ...] = (FIX,)) -> None:
        self.tests = tests
        self.patches = patches
        self.repro_prompts: list[str] = []
        self.patch_prompts: list[str] = []
        self.localizations = 0

    def __call__(self, body: dict[str, object]) -> Reply:
        prompt = json.dumps(body)
        if "Step 1 of localization" in prompt:
            self.localizations += 1
            return Reply("progress.py")
        if "Step 2 of localization" in prompt:
            return Reply("progress.py::ratio")
        if "Step 3 of localization" in prompt:
            return Reply("progress.py:4-6")
        if "has no failing test" in prompt:
            self.repro_prompts.append(prompt)
            return Reply(self.tests[min(len(self.repro_prompts), len(self.tests)) - 1])
        if "explain the root cause" in prompt:
            return Reply("No work at all is a total of zero, and the share divided by it.")
        self.patch_prompts.append(prompt)
        return Reply(self.patches[min(len(self.patch_prompts), len(self.patches)) - 1], 900, 60)


def _project(root: Path) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "progress.py").write_text(STATS)
    (root / "tests" / "test_progress.py").write_text(TESTS)
    return root


def _settings(kind: Kind, server: FakeLLMServer, tmp_path: Path) -> Settings:
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    if kind == "openai":
        return Settings(
            openai_api_key="sk-test", openai_base_url=server.base_url, database_url=database
        )
    return Settings(
        anthropic_api_key="sk-ant-test", anthropic_base_url=server.base_url, database_url=database
    )


@pytest.fixture(autouse=True)
def _schema(tmp_path: Path) -> None:
    from app.local.history import ensure_schema

    ensure_schema(f"sqlite:///{tmp_path / 'db.sqlite3'}")


def _run(kind: Kind, model: Model, tmp_path: Path) -> RepairOutcome:
    with fake_llm(kind, responder=model) as server:
        options = RepairOptions(
            settings=_settings(kind, server, tmp_path), issue_text=ISSUE, budget=FEW
        )
        return repair(_project(tmp_path / "repo"), options)


def test_an_issue_in_words_gets_a_test_first_and_the_fix_must_turn_it_green(
    tmp_path: Path,
) -> None:
    model = Model([GOOD_TEST], patches=(WRONG_FIX, FIX))
    outcome = _run("openai", model, tmp_path)

    assert outcome.status == "fixed", outcome.reason
    assert outcome.state.reproducing == [GOOD_ID]
    assert len(model.repro_prompts) == 1
    bundle = outcome.bundle
    assert bundle is not None
    # The test ships with the fix, in the bundle's diff (what the pull request carries).
    assert REPRO in bundle.files and f"+++ b/{REPRO}" in bundle.diff
    assert 'if total else "0%"' in bundle.diff
    assert bundle.source.startswith("llm:openai/")
    # The model's first fix stopped the crash but left the test red: the verifier rejected it
    # for that test (as it did every template that guarded with None or 0).
    models = [c for c in outcome.state.candidates if c.source.startswith("llm:")]
    assert [c.plausible for c in models] == [False, True], models
    assert models[0].reason.startswith(f"{GOOD_ID} still fails"), models[0].reason
    after = {o["test"]: o["outcome"] for o in bundle.evidence["after"]}
    assert after[GOOD_ID] == "passed"


def test_a_test_that_fails_with_an_import_error_is_replaced_by_one_that_shows_the_bug(
    tmp_path: Path,
) -> None:
    model = Model([IMPORT_ERROR_TEST, GOOD_TEST])
    outcome = _run("anthropic", model, tmp_path)

    assert outcome.status == "fixed", outcome.reason
    assert len(model.repro_prompts) == 2
    # The second try was told what happened to the first.
    assert "progress_helpers" in model.repro_prompts[1]
    assert "ModuleNotFoundError" in model.repro_prompts[1]
    assert "progress_helpers" not in model.repro_prompts[0]
    assert outcome.state.reproducing == [GOOD_ID]
    assert outcome.bundle is not None
    assert "from progress import ratio" in outcome.state.added_files[REPRO]
    assert "progress_helpers" not in outcome.bundle.diff
    [rejected] = outcome.state.reproduction_attempts
    assert rejected["path"] == REPRO and "ModuleNotFoundError" in rejected["why"]


def test_when_no_test_reproduces_the_run_says_so_and_guesses_no_fix(tmp_path: Path) -> None:
    model = Model([*PASSING_TESTS, WRONG_EXCEPTION_TEST])
    outcome = _run("anthropic", model, tmp_path)

    # No fix was tried: no candidate, no patch prompt, no stage after reproduce.
    assert model.patch_prompts == []
    assert outcome.state.candidates == []
    assert "patch" not in outcome.state.done and outcome.bundle is None
    assert outcome.status == "not_fixed"
    assert outcome.reason.startswith("could not reproduce the issue"), outcome.reason
    assert "1. tests/test_fixwurx_repro.py: it passes" in outcome.reason
    assert "2. tests/test_fixwurx_repro.py: it passes" in outcome.reason
    assert "3. tests/test_fixwurx_repro.py" in outcome.reason
    assert "AssertionError" in outcome.reason and "ZeroDivisionError" in outcome.reason
    assert len(model.repro_prompts) == 3  # the cap
    assert model.localizations == 1  # the code was localized once, for all three tries
    assert "test_half" in model.repro_prompts[1] or "passes" in model.repro_prompts[1]
    assert outcome.state.added_files == {}


def test_a_model_that_cannot_be_asked_is_not_asked_again(tmp_path: Path) -> None:
    model = Model([GOOD_TEST])
    with fake_llm("openai", responder=model) as server:
        settings = _settings("openai", server, tmp_path).replace(budget_run_tokens=50)
        options = RepairOptions(settings=settings, issue_text=ISSUE, budget=FEW)
        outcome = repair(_project(tmp_path / "repo"), options)
        assert server.requests == []  # the budget is checked before every call
    assert outcome.status == "not_fixed"
    assert outcome.reason.startswith("could not reproduce the issue: in 1 try"), outcome.reason
    assert "budget" in outcome.reason
    assert outcome.state.candidates == []


def test_fixwurx_fix_prints_could_not_reproduce_and_exits_1(tmp_path: Path) -> None:
    model = Model(list(PASSING_TESTS))
    project = _project(tmp_path / "repo")
    issue = tmp_path / "issue.md"
    issue.write_text(ISSUE)
    with fake_llm("openai", responder=model) as server:
        env = {
            "PATH": "/usr/bin:/bin",
            "OPENAI_API_KEY": "sk-test-key",
            "OPENAI_BASE_URL": server.base_url,
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
        }
        argv = [sys.executable, "-m", "app", "fix", str(project), "--issue", str(issue)]
        result = _cli(argv, env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "could not reproduce the issue" in result.stdout
    assert "1. tests/test_fixwurx_repro.py: it passes" in result.stdout
    assert "3. tests/test_fixwurx_repro.py: it passes" in result.stdout
    assert model.patch_prompts == []


def _cli(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)


# The App: a labelled issue in words, the worker, the strict GitHub double, the model's SDK.

SECRET = "whsec-repro-secret"


@pytest.fixture
def app_settings(
    tmp_path: Path, fake_github: FakeGitHub, redis_url: str, redis_conn: Redis
) -> Iterator[Callable[[FakeLLMServer], Settings]]:
    url = f"sqlite:///{tmp_path / 'fixwurx.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()

    def configured(server: FakeLLMServer) -> Settings:
        settings = Settings(
            app_id=str(fake_github.app_id),
            private_key=fake_github.private_key_pem,
            github_api_url=fake_github.api_url,
            app_slug=fake_github.slug,
            webhook_secret=SECRET,
            database_url=url,
            redis_url=redis_url,
            openai_api_key="sk-test",
            openai_base_url=server.base_url,
        )
        jobs.configure(settings)
        return settings

    yield configured
    jobs.configure(None)


def _deliver_labelled_issue(fake: FakeGitHub, settings: Settings, redis_conn: Redis) -> int:
    from webhooks import create_app

    repo = fake.add_repo(
        "octo/progress",
        {"progress.py": STATS, "tests/test_progress.py": TESTS},
        collaborators={"alice": "write"},
    )
    number = fake.add_issue("octo/progress", "ratio(0, 0) crashes", ISSUE, labels=("fixwurx",))
    web = create_app(
        {
            "TESTING": True,
            "WEBHOOK_SECRET": SECRET,
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url,
            "APP_SLUG": settings.app_slug,
        }
    ).test_client()
    status, _ = send(web, "issues", labeled(fake, repo, number), SECRET, delivery_id="repro-1")
    assert status == 202
    work(redis_conn)
    return number


def test_app_comments_could_not_reproduce_with_the_tries_and_opens_no_pr(
    fake_github: FakeGitHub,
    app_settings: Callable[[FakeLLMServer], Settings],
    redis_conn: Redis,
) -> None:
    model = Model([*PASSING_TESTS, WRONG_EXCEPTION_TEST])
    with fake_llm("openai", responder=model) as server:
        settings = app_settings(server)
        number = _deliver_labelled_issue(fake_github, settings, redis_conn)

    assert fake_github.open_pulls("octo/progress") == []
    assert model.patch_prompts == [] and len(model.repro_prompts) == 3
    bodies = [c["body"] for c in fake_github.issue_comments("octo/progress", number)]
    [comment] = [b for b in bodies if "could not reproduce" in b]
    assert "could not reproduce the issue, so it did not guess a fix" in comment
    assert "Why: could not reproduce the issue" in comment
    tries = comment.split("Reproduction tests tried:", 1)[1]
    assert tries.count(f"- {REPRO}: it passes on the unfixed code") == 2, comment
    assert f"- {REPRO}: test_wrong fails with AssertionError" in tries
    assert "ZeroDivisionError" in tries
    with session_scope(settings.database_url) as session:
        [run] = session.scalars(select(Run)).all()
        assert run.status == "not_fixed" and run.reason.startswith("could not reproduce")


def test_app_pull_request_carries_the_reproduction_test_with_the_fix(
    fake_github: FakeGitHub,
    app_settings: Callable[[FakeLLMServer], Settings],
    redis_conn: Redis,
) -> None:
    model = Model([IMPORT_ERROR_TEST, GOOD_TEST])
    with fake_llm("openai", responder=model) as server:
        settings = app_settings(server)
        number = _deliver_labelled_issue(fake_github, settings, redis_conn)

    [pull] = fake_github.open_pulls("octo/progress")
    branch = f"fixwurx/issue-{number}"
    assert pull["head"] == branch
    assert (
        fake_github.show("octo/progress", branch, REPRO)
        == GOOD_TEST.split("=======\n")[1].split(">>>>>>>")[0]
    )
    assert 'if total else "0%"' in fake_github.show("octo/progress", branch, "progress.py")
    diff = fake_github.pull_diff("octo/progress", pull["number"])
    assert f"+++ b/{REPRO}" in diff and "progress_helpers" not in diff
