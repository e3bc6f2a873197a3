"""The planner with a language model: templates first, then the model, same verifier.

The fake OpenAI server drives the real `openai` SDK; it answers each prompt by its step
(localization, patch, explanation, reproduction test), like a scripted model would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.chain.planner import RepairOptions, repair
from app.config import Settings
from app.repair.search import SearchBudget
from tests.fakes.llm import FakeLLMServer, Reply, fake_llm

pytestmark = pytest.mark.slow

SLUG = '''"""URL slugs."""


def slugify(title):
    words = title.lower().split()
    return "-".join(words)
'''

TESTS = """from slug import slugify


def test_plain_title():
    assert slugify("Plain title") == "plain-title"


def test_punctuation_is_dropped():
    assert slugify("Hello, World!") == "hello-world"
"""

PATCH = """Punctuation stays attached to the words because the title is only split on spaces.

slug.py
<<<<<<< SEARCH
    words = title.lower().split()
=======
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
>>>>>>> REPLACE
"""

REPRO = """tests/test_fixwurx_repro.py
<<<<<<< SEARCH
=======
from slug import slugify


def test_issue_punctuation():
    assert slugify("Hi, there") == "hi-there"
>>>>>>> REPLACE
"""

#: Keeps the template search short: these bugs are beyond every template.
FEW = SearchBudget(max_candidates=10)

EXPLANATION = "The title was split on whitespace only, so punctuation stayed inside the slug."


def answer(body: dict[str, object]) -> Reply:
    prompt = json.dumps(body)
    if "Step 1 of localization" in prompt:
        return Reply("slug.py")
    if "Step 2 of localization" in prompt:
        return Reply("slug.py::slugify")
    if "Step 3 of localization" in prompt:
        return Reply("slug.py:4-6")
    if "has no failing test" in prompt:
        return Reply(REPRO)
    if "explain the root cause" in prompt:
        return Reply(EXPLANATION)
    return Reply(PATCH, 900, 60)


@pytest.fixture
def model() -> Iterator[FakeLLMServer]:
    with fake_llm("openai", responder=answer) as server:
        yield server


def _project(root: Path, tests: str = TESTS) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "slug.py").write_text(SLUG)
    (root / "tests" / "test_slug.py").write_text(tests)
    return root


def _settings(server: FakeLLMServer, tmp_path: Path, **overrides: object) -> Settings:
    return Settings(
        openai_api_key="sk-test-key",
        openai_base_url=server.base_url,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    ).replace(**overrides)


@pytest.fixture(autouse=True)
def _schema(tmp_path: Path) -> None:
    from app.local.history import ensure_schema

    ensure_schema(f"sqlite:///{tmp_path / 'db.sqlite3'}")


def test_templates_fail_then_the_model_patch_is_verified_and_bundled(
    model: FakeLLMServer, tmp_path: Path
) -> None:
    outcome = repair(
        _project(tmp_path / "repo"), RepairOptions(settings=_settings(model, tmp_path), budget=FEW)
    )
    assert outcome.status == "fixed", outcome.reason
    bundle = outcome.bundle
    assert bundle is not None
    assert bundle.source.startswith("llm:openai/")
    assert 'c if c.isalnum() else " "' in bundle.diff
    assert bundle.explanation == EXPLANATION
    assert bundle.cost["usd"] > 0 and bundle.cost["tokens"] > 0
    sources = [c.source for c in outcome.state.candidates]
    first_model = next(i for i, s in enumerate(sources) if s.startswith("llm:"))
    assert first_model > 0 and all(s.startswith("template:") for s in sources[:first_model])
    assert not any(c.plausible for c in outcome.state.candidates[:first_model])
    assert [o["outcome"] for o in bundle.evidence["after"]] == ["passed"]


def test_an_exhausted_budget_stops_the_run_and_says_so(
    model: FakeLLMServer, tmp_path: Path
) -> None:
    settings = _settings(model, tmp_path, budget_run_tokens=50)
    outcome = repair(_project(tmp_path / "repo"), RepairOptions(settings=settings, budget=FEW))
    assert outcome.status == "not_fixed"
    assert "budget" in outcome.reason.lower()
    assert model.requests == []  # the budget is checked before every call


def test_issue_without_failing_test_gets_a_model_reproduction_that_ships(
    model: FakeLLMServer, tmp_path: Path
) -> None:
    passing_only = "from slug import slugify\n\n\ndef test_plain_title():\n    assert slugify('Plain title') == 'plain-title'\n"
    project = _project(tmp_path / "repo", passing_only)
    issue = "slugify keeps punctuation: 'Hi, there' becomes 'hi,-there' instead of 'hi-there'."
    outcome = repair(
        project, RepairOptions(settings=_settings(model, tmp_path), issue_text=issue, budget=FEW)
    )
    assert outcome.status == "fixed", outcome.reason
    assert outcome.bundle is not None
    assert "tests/test_fixwurx_repro.py" in outcome.bundle.files
    assert outcome.state.reproducing == ["tests/test_fixwurx_repro.py::test_issue_punctuation"]


def test_fixwurx_fix_uses_the_model_chain_when_a_provider_is_configured(
    model: FakeLLMServer, tmp_path: Path
) -> None:
    project = _project(tmp_path / "repo")
    env = {
        "PATH": "/usr/bin:/bin",
        "OPENAI_API_KEY": "sk-test-key",
        "OPENAI_BASE_URL": model.base_url,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "app", "fix", str(project), "--json", "--max-candidates", "10"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)
    assert result.returncode == 0, report
    assert report["bundle"]["source"].startswith("llm:openai/")
    assert "sk-test-key" not in result.stdout + result.stderr
