"""Reproduction tests for issues without a failing test; the PR-body explanation."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from app import sandbox
from app.agents.budget import Budget, BudgetLimits
from app.agents.edits import EditError
from app.agents.explainer import explain, sanitize
from app.agents.llm.chain import ProviderChain, RetryPolicy
from app.agents.llm.openai_provider import OpenAIProvider
from app.agents.reprotest import new_test_path, write_reproduction_test
from app.config import Settings
from app.repair.candidates import RepairContext
from tests.fakes.llm import FakeLLMServer, Fault, Reply, fake_llm

SLUG = "def slugify(text):\n    return text.lower().replace(' ', '_')\n"
REPRO = """Reproduces the issue.

tests/test_fixwurx_repro.py
<<<<<<< SEARCH
=======
from textutil import slugify


def test_slug_uses_dashes():
    assert slugify("Hello World") == "hello-world"
>>>>>>> REPLACE
"""


def _repo(root: Path) -> Path:
    root.mkdir()
    (root / "textutil.py").write_text(SLUG)
    (root / "tests").mkdir()
    (root / "tests" / "test_other.py").write_text("import textutil\n\n\ndef test_ok():\n    pass\n")
    return root


def _chain(server: FakeLLMServer) -> ProviderChain:
    provider = OpenAIProvider("gpt-4o", api_key="k", base_url=server.base_url, timeout_s=5)
    return ProviderChain([provider], Budget.unlimited(), "analysis", RetryPolicy(attempts=1))


def _context(root: Path) -> RepairContext:
    return RepairContext(root, (), (), ("pytest",), "slugify() should use dashes, not underscores")


def _pytest(root: Path) -> int:
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/test_fixwurx_repro.py",
    ]
    return sandbox.run(argv, root, 120).returncode


def test_reproduction_test_fails_before_and_passes_after(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    with fake_llm("openai") as server:
        server.push(
            Reply("textutil.py", 50, 5),
            Reply("textutil.py::slugify", 50, 5),
            Reply("textutil.py:2-2", 50, 5),
            Reply(REPRO, 400, 80),
        )
        repro = write_reproduction_test(_context(root), _chain(server))
        prompt = server.requests[-1].body["messages"][-1]["content"]
    assert repro.path == "tests/test_fixwurx_repro.py"
    assert repro.tokens == 3 * 55 + 480
    assert "--- tests/test_other.py" in prompt and "return text.lower()" in prompt
    assert repro.as_candidate().edits == (repro.edit,)

    work = tmp_path / "work"
    shutil.copytree(root, work)
    (work / repro.path).write_text(repro.edit.after)
    assert _pytest(work) == 1  # fails on the buggy code
    (work / "textutil.py").write_text(SLUG.replace("'_'", "'-'"))
    assert _pytest(work) == 0  # passes once fixed


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (
            REPRO.replace("tests/test_fixwurx_repro.py", "tests/test_elsewhere.py"),
            EditError,
            "expected one new test file tests/test_fixwurx_repro.py",
        ),
        (
            REPRO.replace("def test_slug_uses_dashes", "def check"),
            EditError,
            "defines no test_ function",
        ),
        (REPRO.replace("from textutil", "from textutil (("), EditError, "not valid Python"),
        (
            "textutil.py\n<<<<<<< SEARCH\n    return text.lower().replace(' ', '_')\n=======\n"
            "    return text\n>>>>>>> REPLACE\n",
            EditError,
            "the model wrote textutil.py",
        ),
    ],
)
def test_unusable_reproduction_answers_are_refused(
    tmp_path: Path, answer: str, error: type[Exception], message: str
) -> None:
    root = _repo(tmp_path / "repo")
    with fake_llm("openai") as server:
        server.push(Reply("textutil.py"), Reply("textutil.py::slugify"), Reply("textutil.py:2"))
        server.push(Reply(answer))
        with pytest.raises(error, match=message):
            write_reproduction_test(_context(root), _chain(server))


def test_generated_test_path_avoids_existing_files(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    assert new_test_path(root) == "tests/test_fixwurx_repro.py"
    (root / "tests" / "test_fixwurx_repro.py").write_text("")
    assert new_test_path(root) == "tests/test_fixwurx_repro_2.py"
    assert new_test_path(tmp_path) == "test_fixwurx_repro.py"


BUNDLE = {
    "diff": "--- a/textutil.py\n+++ b/textutil.py\n-    x.replace(' ', '_')\n+    x.replace(' ', '-')\n",
    "issue_text": "slugs use underscores",
}


def test_explanation_by_the_cheap_model() -> None:
    with fake_llm("anthropic") as server:
        server.push(
            Reply("The slug joined words with underscores; ping @octocat for review.", 300, 40)
        )
        settings = Settings(
            anthropic_api_key="k",
            anthropic_base_url=server.base_url,
            model_explanation="claude-haiku-4-5",
        )
        text = explain(BUNDLE, settings, Budget.unlimited())
        sent = server.requests[0].body
    assert text == "The slug joined words with underscores; ping @\u200boctocat for review."
    assert sent["model"] == "claude-haiku-4-5"
    assert "x.replace(' ', '-')" in sent["messages"][0]["content"]


def test_explanation_is_empty_without_provider_failure_or_budget() -> None:
    assert explain(BUNDLE, Settings(), Budget.unlimited()) == ""
    with fake_llm("openai") as server:
        server.push(Fault(400))
        settings = Settings(openai_api_key="k", openai_base_url=server.base_url)
        assert explain(BUNDLE, settings, Budget.unlimited(), policy=RetryPolicy(attempts=1)) == ""
        broke = Budget(BudgetLimits(10, 1.0, 10, 1.0, 10, 1.0))
        assert explain(BUNDLE, settings, broke) == ""
        assert len(server.requests) == 1  # the budget refused the second call before sending
    assert explain({"diff": ""}, Settings(openai_api_key="k"), Budget.unlimited()) == ""


def test_sanitize_strips_code_and_bounds_length() -> None:
    assert sanitize("Because.\n```python\nimport os\n```\nDone.") == "Because.\n\nDone."
    long = sanitize("word " * 1000)
    assert len(long) <= 1202 and long.endswith(" …")
    assert sanitize("mail me at a@b.com") == "mail me at a@b.com"


def test_explains_a_patch_bundle() -> None:
    from app.patches import PatchBundle

    bundle = PatchBundle(
        base_commit="0" * 40,
        diff=BUNDLE["diff"],
        files=("textutil.py",),
        evidence={"before": [{"test": "t::slug", "outcome": "failed"}]},
        localization=[],
        source="llm:openai/gpt-4o",
    )
    with fake_llm("openai") as server:
        server.push(Reply("Spaces became underscores instead of dashes."))
        settings = Settings(openai_api_key="k", openai_base_url=server.base_url)
        text = explain(bundle, settings, Budget.unlimited(), issue_text="slugs look odd")
        prompt = server.requests[0].body["messages"][-1]["content"]
    assert text == "Spaces became underscores instead of dashes."
    assert "slugs look odd" in prompt and "t::slug" in prompt
    assert server.requests[0].body["model"] == "gpt-5.1-mini"
