"""`fixwurx fix --agent` as a user runs it: escalation from templates to the single-pass model
path to the agent, against a scripted OpenAI server, and `fixwurx show` with the trajectory.

The CLI runs as its own process (the real `openai` SDK inside it talks to the test's server);
its label() bug formats with one decimal instead of two, which the templates cannot repair.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.llm import Conversation, FakeLLMServer, bash, fake_llm, system_text
from tests.functional.test_agent_trajectories import _grep_then_fix, _repo, _submit_if_green

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _fixwurx(home: Path, server: FakeLLMServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
        "ENVIRONMENT_CACHE_DIR": os.environ["ENVIRONMENT_CACHE_DIR"],
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": server.base_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )


def _agent_turns() -> Conversation:
    return Conversation(
        [
            bash("grep -rn 'format(' shop"),
            _grep_then_fix,
            bash("python -m pytest -q -p no:cacheprovider tests"),
            _submit_if_green,
        ]
    )


def test_fix_escalates_to_the_agent_only_after_the_cheaper_rungs_and_show_lists_it(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path / "repo")
    conversation = _agent_turns()
    with fake_llm("openai", conversation) as server:
        result = _fixwurx(tmp_path, server, "fix", str(repo), "--agent", "--no-environment")
        kinds = [
            "agent" if "repair agent" in system_text(r.body) else "other" for r in server.requests
        ]
        shown = None
        found = re.search(r"fixwurx show (\d+)", result.stderr)
        if found:
            shown = _fixwurx(tmp_path, server, "show", found.group(1))

    assert result.returncode == 0, result.stdout + result.stderr
    assert '+    return "EUR " + format(amount, ".2f")' in result.stdout
    # cheapest first: templates, then the single-pass analyst, then the agent
    order = [m.group(1) for m in re.finditer(r"trying (\w+)", result.stderr)]
    assert order[:3] == ["templates", "llm", "agent"], result.stderr
    assert "turn 1: grep -rn 'format(' shop (exit 0)" in result.stderr  # progress per command
    first_agent = kinds.index("agent")
    assert first_agent >= 4 and set(kinds[:first_agent]) == {"other"}  # 3 localize + samples
    assert shown is not None and shown.returncode == 0, shown
    assert "agent session 1: Agent session: 3 commands" in shown.stdout
    assert "`grep -rn 'format(' shop` -> 0" in shown.stdout


def test_without_the_agent_flag_the_agent_is_never_asked(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    conversation = _agent_turns()
    with fake_llm("openai", conversation) as server:
        result = _fixwurx(tmp_path, server, "fix", str(repo), "--no-environment")

    assert result.returncode == 1, result.stdout + result.stderr
    assert conversation.others >= 4  # the single-pass path was asked ...
    assert conversation.observations == []  # ... the agent never was
    assert "trying agent" not in result.stderr
