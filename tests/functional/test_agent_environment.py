"""The agent and `fixwurx localize` in the repository's own environment (a PyPI dependency).

The repository needs `tabulate`, which FixWurx's own interpreter does not have: run there, its
tests fail to import and localization has nothing to rank. The session's environment cache
(tests/conftest.py) builds the venv once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.agents.budget import Budget
from app.agents.llm.chain import RetryPolicy
from app.agents.llm.registry import build_agent_source
from app.chain.planner import RepairOptions, repair
from app.config import Settings
from app.environments import EnvironmentRequest
from tests.fakes.llm import Conversation, bash, fake_llm

ROOT = Path(__file__).resolve().parents[2]

REPORT = '''"""A report."""

from tabulate import tabulate


def report(rows):
    """The rows as a table, with a header."""
    return tabulate(rows[1:], headers=["item", "qty"])
'''

TEST = """from shop.report import report


def test_every_row_is_shown():
    assert "apple" in report([["apple", 1], ["pear", 2]])
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "tabled"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "report.py").write_text(REPORT)
    (root / "tests").mkdir()
    (root / "tests" / "test_report.py").write_text(TEST)
    (root / "requirements.txt").write_text("tabulate\n")
    git = ["git", "-C", str(root), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "buggy"], check=True)
    return root


def test_agent_commands_run_in_the_repository_environment_not_fixwurx(repo: Path) -> None:
    conversation = Conversation(
        [
            bash("python -c \"import sys, tabulate; print('TABULATE', sys.prefix)\""),
            bash('python -c "import flask"', "Is FixWurx's own code in reach?"),
            bash("sed -i 's/rows\\[1:\\]/rows/' shop/report.py"),
            bash("python -m pytest -q -p no:cacheprovider tests"),
            bash("submit"),
        ]
    )
    with fake_llm("openai", conversation) as server:
        settings = Settings(openai_api_key="sk-test", openai_base_url=server.base_url)
        source = build_agent_source(
            settings, budget=Budget.unlimited(), policy=RetryPolicy(attempts=1)
        )
        assert source is not None
        outcome = repair(
            repo, RepairOptions(sources=[source], timeout=120, environment=EnvironmentRequest())
        )

    assert outcome.status == "fixed", outcome.reason
    venv = outcome.state.environment["venv"]
    assert f"TABULATE {venv}" in conversation.observations[1]
    assert "No module named 'flask'" in conversation.observations[2]
    assert "1 passed" in conversation.observations[4]


def test_localize_builds_the_environment_and_ranks_the_buggy_line(repo: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo.parent / "home"),
        "XDG_CACHE_HOME": str(repo.parent / "cache"),
        "XDG_DATA_HOME": str(repo.parent / "data"),
        "ENVIRONMENT_CACHE_DIR": os.environ["ENVIRONMENT_CACHE_DIR"],
    }
    result = subprocess.run(
        [sys.executable, "-m", "app", "localize", str(repo)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    table = result.stdout.splitlines()
    assert table[0].split() == ["score", "location"]
    ranked = [line.split()[1] for line in table[1:]]
    assert "shop/report.py:8" in ranked[:3], result.stdout
