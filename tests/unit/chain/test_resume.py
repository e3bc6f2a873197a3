"""Resuming from a persisted state: what carries over into a fresh work copy, and what does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.chain.planner import resumable
from app.chain.state import RunState
from app.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    source = tmp_path / "repo"
    source.mkdir()
    (source / "a.py").write_text("x = 1\n")
    prepared = Workspace.prepare(source)
    yield prepared
    prepared.cleanup()


def saved(workspace: Workspace, **changes: object) -> RunState:
    state = RunState(
        source="/gone", base_commit=workspace.base_commit, done=["environment", "reproduce"]
    )
    state.added_files = {"tests/test_fixwurx_repro.py": "def test_x():\n    assert False\n"}
    for key, value in changes.items():
        setattr(state, key, value)
    # Through JSON, as the worker reads it back from the database.
    return RunState.from_json(state.to_json())


def test_a_saved_state_continues_and_its_added_files_are_written_back(
    workspace: Workspace,
) -> None:
    state = saved(workspace)
    assert resumable(state, workspace) is state
    assert state.next_stage() == "localize"
    added = workspace.root / "tests/test_fixwurx_repro.py"
    assert added.read_text() == "def test_x():\n    assert False\n"


def test_a_state_from_another_commit_or_with_nothing_done_starts_over(
    workspace: Workspace,
) -> None:
    assert resumable(saved(workspace, base_commit="0" * 40), workspace) is None
    assert resumable(saved(workspace, done=[]), workspace) is None
    assert resumable(None, workspace) is None


@pytest.mark.parametrize("path", ["../outside.py", "/etc/fixwurx-test", "link/escape.py"])
def test_an_added_file_outside_the_work_copy_is_never_written(
    workspace: Workspace, tmp_path: Path, path: str
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (workspace.root / "link").symlink_to(outside)
    state = saved(workspace, added_files={path: "boom\n"})
    assert resumable(state, workspace) is None
    assert not (outside / "escape.py").exists()
    assert not Path("/etc/fixwurx-test").exists()
    assert not (workspace.root.parent / "outside.py").exists()
