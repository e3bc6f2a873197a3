"""`/fixwurx fix --agent` and the repo config's `agent:` reach the repair chain's options.

The chain itself runs (on the fake repository, which has no tests); a spy records the options
it was given. The agent's own behaviour is tested in tests/functional/test_agent_*.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.chain.planner import RepairOptions, RepairOutcome
from app.config import Settings
from app.flows import fixing
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.unit.flows.helpers import execute_run, make_run


@pytest.mark.parametrize(
    ("config", "args", "agent"),
    [("", "--agent", True), ("", None, False), ("agent: true\n", None, True)],
)
def test_the_agent_is_asked_for_by_comment_flag_or_repo_config(
    settings: Settings,
    fake_github: FakeGitHub,
    repo: FakeRepo,
    monkeypatch: pytest.MonkeyPatch,
    config: str,
    args: str | None,
    agent: bool,
) -> None:
    if config:
        fake_github.commit_files("octo/app", "main", {".github/fixwurx.yml": config}, "c")
    seen: list[bool] = []
    real = fixing.repair

    def spy(path: Path, options: RepairOptions) -> RepairOutcome:
        seen.append(options.agent)
        return real(path, options)

    monkeypatch.setattr(fixing, "repair", spy)
    number = fake_github.add_issue("octo/app", "bug")
    run_id = make_run(
        settings,
        repo,
        kind="command",
        command="fix",
        command_args=args,
        issue_number=number,
        requested_by="alice",
    )
    execute_run(settings, run_id)
    assert seen == [agent]
