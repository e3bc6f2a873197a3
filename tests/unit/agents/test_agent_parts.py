"""The agent loop's parts: observation cutting, reply parsing, the bounded record, the copy's
diff, and how the agent is switched on (repo config, comment flag, settings)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import command_table
from app.agents.agent.action import parse
from app.agents.agent.loop import elide_old
from app.agents.agent.observation import truncate
from app.agents.agent.trajectory import MAX_STORED_STEPS, Step, Trajectory, brief, summary_lines
from app.agents.agent.workcopy import WorkCopy
from app.agents.budget import Budget
from app.agents.llm.base import Message
from app.agents.llm.registry import build_agent_source
from app.agents.llm_services import ModelServices
from app.chain.planner import default_sources
from app.config import Settings
from app.errors import ConfigError
from app.repo_config import parse_repo_config


def test_short_output_is_left_alone_and_long_output_keeps_head_and_tail() -> None:
    assert truncate("abc", 100) == ("abc", 0)
    text = "".join(f"{i}\n" for i in range(10_000))
    shown, cut = truncate(text, 1000)
    assert shown.startswith("0\n1\n2\n") and shown.endswith("9998\n9999\n")
    assert f"[... {cut} characters cut here" in shown
    assert cut == len(text) - 1000
    assert len(shown) < 1200


@pytest.mark.parametrize(
    ("reply", "command", "submit", "error"),
    [
        ("Look.\n```bash\nls -la\n```", "ls -la", False, ""),
        ("```\ncat a.py\n```", "cat a.py", False, ""),
        ("Done.\n```bash\nsubmit\n```", "", True, ""),
        ("I think the bug is in a.py.", "", False, "no ```bash blocks"),
        ("```bash\nls\n```\n```bash\npwd\n```", "", False, "2 ```bash blocks"),
        ("```bash\n\n```", "", False, "empty"),
    ],
)
def test_a_reply_holds_exactly_one_command(
    reply: str, command: str, submit: bool, error: str
) -> None:
    action = parse(reply)
    assert action.command == command and action.submit is submit
    assert error in action.error and bool(action.error) is bool(error)


def test_the_stored_trajectory_is_bounded() -> None:
    steps = [Step("command", "x" * 5000, 0, "y" * 50_000, tokens=10) for _ in range(100)]
    record = Trajectory(steps, "step limit").to_json()
    assert len(record["steps"]) == MAX_STORED_STEPS
    assert record["steps_total"] == 100 and record["steps_dropped"] == 40
    assert record["tokens"] == 1000  # the totals count every step, stored or not
    assert all(len(s["observation"]) < 1000 and len(s["command"]) < 800 for s in record["steps"])
    assert "characters cut here" in record["steps"][0]["observation"]
    lines = summary_lines(brief(record))
    assert lines[0].startswith("Agent session: 100 commands, 1,000 tokens")
    assert len(lines) == 1 + 12 + 1 and lines[-1] == "- ... and 88 more commands"


def test_the_copy_diff_holds_text_changes_and_names_what_it_cannot_hold(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine"
    (pristine / "pkg").mkdir(parents=True)
    (pristine / "pkg" / "a.py").write_text("x = 1\n")
    (pristine / "pkg" / "gone.py").write_text("y = 2\n")
    (pristine / ".git").mkdir()
    (pristine / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    copy = WorkCopy(pristine)
    try:
        assert not (copy.root / ".git").exists()  # history stays out of the copy
        (copy.root / "pkg" / "a.py").write_text("x = 2\n")
        (copy.root / "pkg" / "new_test.py").write_text("def test(): pass\n")
        (copy.root / "pkg" / "gone.py").unlink()
        (copy.root / "pkg" / "blob.bin").write_bytes(b"\xff\xfe\x00")
        (copy.root / "pkg" / "__pycache__").mkdir()
        (copy.root / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\x00")
        os.symlink("/etc/passwd", copy.root / "pkg" / "leak.py")
        edits, problems = copy.changes()
    finally:
        copy.close()
    assert [(e.path, e.before, e.after) for e in edits] == [
        ("pkg/a.py", "x = 1\n", "x = 2\n"),
        ("pkg/new_test.py", "", "def test(): pass\n"),
    ]
    assert problems == [
        "pkg/gone.py was deleted (a deletion is not kept in the patch)",
        "pkg/blob.bin is not UTF-8 text (left out of the patch)",
    ]
    assert not copy.root.exists()


def test_the_repo_config_switches_the_agent_on_and_rejects_a_non_boolean() -> None:
    assert parse_repo_config(None).agent is False
    assert parse_repo_config("agent: true\n").agent is True
    with pytest.raises(ConfigError, match="`agent`"):
        parse_repo_config("agent: sometimes\n")


def test_the_comment_flag_asks_for_the_agent_on_fix_and_retry_only() -> None:
    assert command_table.asks_agent("fix", "--agent")
    assert command_table.asks_agent("retry", "please --agent")
    assert not command_table.asks_agent("fix", None)
    assert not command_table.asks_agent("fix", "--agents")
    assert not command_table.asks_agent("revise", "--agent")


def test_escalation_order_is_templates_then_single_pass_then_agent() -> None:
    settings = Settings(openai_api_key="sk-test", openai_base_url="http://127.0.0.1:9/v1")
    models = ModelServices(settings, Budget.unlimited())
    assert [s.name for s in default_sources(models)] == ["templates", "llm"]
    assert [s.name for s in default_sources(models, agent=True)] == ["templates", "llm", "agent"]
    assert [s.name for s in default_sources(None, agent=True)] == ["templates"]  # no provider


def test_the_turn_cap_is_read_from_the_settings() -> None:
    settings = Settings.from_env(
        {"OPENAI_API_KEY": "sk-test", "BUDGET_AGENT_STEPS": "7", "DATABASE_URL": "sqlite://"}
    )
    source = build_agent_source(settings, budget=Budget.from_settings(settings))
    assert source is not None and source.settings.max_steps == 7


def test_old_observations_shrink_and_the_task_and_the_latest_ones_stay() -> None:
    messages = [Message("user", "the task")]
    observations = []
    for turn in range(8):
        messages.append(Message("assistant", f"command {turn}"))
        observations.append(len(messages))
        messages.append(Message("user", f"output {turn} " + "x" * 1000))
    messages.append(Message("user", "REJECTED: feedback"))
    sent = elide_old(messages, observations, keep=5)
    assert sent[0].content == "the task" and sent[-1].content == "REJECTED: feedback"
    shown = [m.content for m in sent if m.content.startswith("output")]
    assert [c.split()[1] for c in shown] == ["3", "4", "5", "6", "7"]
    assert sent[2].content == "(output of an earlier command, 1009 characters, elided)"
    assert [m.content for m in sent if m.role == "assistant"] == [f"command {t}" for t in range(8)]
