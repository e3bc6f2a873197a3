"""Functional: a tiny buggy repository, a RepairContext, LlmSource against the fake OpenAI server.

The real `openai` SDK talks HTTP to the scripted server; the analyst localizes (files ->
functions -> lines), asks for a patch, parses the SEARCH/REPLACE answer and returns a candidate
whose diff, applied to a copy of the repository, makes the failing test pass.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from app import sandbox
from app.agents.analyst import AnalystConfig
from app.agents.budget import Budget
from app.agents.llm.chain import RetryPolicy
from app.agents.llm.registry import build_llm_sources
from app.config import Settings
from app.repair.candidates import RepairContext
from app.testing.results import Frame, Location
from app.testing.results import TestOutcome as Outcome
from tests.fakes.llm import Reply, fake_llm

BUGGY = '''"""Prices."""


def total(prices):
    """Sum of prices."""
    result = 0
    for price in prices[1:]:
        result += price
    return result


def average(prices):
    return total(prices) / len(prices)
'''

TEST = """from shop.prices import total


def test_total():
    assert total([1, 2, 3]) == 6
"""

PATCH = """The loop skips the first price because it slices from index 1.

shop/prices.py
<<<<<<< SEARCH
    for price in prices[1:]:
=======
    for price in prices:
>>>>>>> REPLACE
"""


def _repo(root: Path) -> Path:
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "prices.py").write_text(BUGGY)
    (root / "tests").mkdir()
    (root / "tests" / "test_prices.py").write_text(TEST)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _context(root: Path) -> RepairContext:
    failing = Outcome(
        "tests/test_prices.py::test_total",
        "failed",
        message="assert 5 == 6",
        traceback="tests/test_prices.py:5: in test_total\n    assert total([1, 2, 3]) == 6",
        frames=(Frame("tests/test_prices.py", 5),),
    )
    return RepairContext(
        root=root,
        failing=(failing,),
        locations=(Location("shop/prices.py", 7, 0.9, "ochiai"),),
        test_command=("pytest", "-q"),
        issue_text="total() is off by one",
    )


def test_llm_source_turns_a_scripted_answer_into_a_verified_diff(tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo")
    with fake_llm("openai") as server:
        server.push(
            Reply("shop/prices.py", 300, 5),
            Reply("shop/prices.py::total", 320, 8),
            Reply("shop/prices.py:7-8", 340, 9),
            Reply(PATCH, 900, 60),
        )
        settings = Settings(openai_api_key="sk-test", openai_base_url=server.base_url)
        sources = build_llm_sources(
            settings,
            budget=Budget.unlimited(),
            config=AnalystConfig(samples=1),
            memory=False,
            policy=RetryPolicy(attempts=1),
        )
        assert len(sources) == 1
        candidates = list(sources[0].propose(_context(root)))

    assert len(candidates) == 1
    candidate = candidates[0]
    assert candidate.diff() == (
        "--- a/shop/prices.py\n+++ b/shop/prices.py\n@@ -4,7 +4,7 @@\n"
        ' def total(prices):\n     """Sum of prices."""\n     result = 0\n'
        "-    for price in prices[1:]:\n+    for price in prices:\n"
        "         result += price\n     return result\n \n"
    )
    assert candidate.source == "llm:openai/gpt-5.1"
    assert candidate.tokens == 300 + 5 + 320 + 8 + 340 + 9 + 900 + 60
    assert candidate.cost_usd > 0
    assert candidate.description.startswith("The loop skips the first price")
    # the patch prompt held the function window, and the issue text only inside a data fence
    patch_prompt = server.requests[-1].prompt
    assert "for price in prices[1:]:" in patch_prompt
    assert '<data name="issue"' in patch_prompt

    work = tmp_path / "work"
    shutil.copytree(root, work)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    assert not sandbox.run(argv, work, 120).ok  # the bug is real
    candidate.apply_to(work)
    result = sandbox.run(argv, work, 120)
    assert result.ok, result.stdout
