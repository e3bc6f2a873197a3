"""Every `fixwurx fix` run ends in a final status, whatever way the command ends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from app.commands.terminal import EXIT_BAD_INPUT
from app.db import session_scope
from app.local.fix import FixRequest, run_fix
from app.models import CLI_KIND, Run


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return url


def request(path: Path) -> FixRequest:
    return FixRequest(
        path=path,
        test_command=None,
        issue_file=None,
        as_json=True,
        apply_fix=False,
        timeout=60,
        bundle_out=None,
    )


def cli_runs(url: str) -> list[tuple[str, str | None, str | None]]:
    with session_scope(url) as session:
        rows = session.execute(
            select(Run.status, Run.reason, Run.owner).where(Run.kind == CLI_KIND)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_run_that_exits_2_ends_failed_with_the_reason(history: str, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".github").mkdir(parents=True)
    (project / ".github" / "fixwurx.yml").write_text("trigger_label: [not, a, label]\n")
    assert run_fix(request(project)) == EXIT_BAD_INPUT
    ((status, reason, owner),) = cli_runs(history)
    assert status == "failed"
    assert reason is not None and reason.startswith("bad input:")
    assert owner is not None and owner.endswith(f":{os.getpid()}")


def test_an_interrupted_run_ends_failed_and_the_interrupt_goes_on(
    history: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.local import fix

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fix, "repair", interrupted)
    project = tmp_path / "project"
    project.mkdir()
    with pytest.raises(KeyboardInterrupt):
        run_fix(request(project))
    ((status, reason, _owner),) = cli_runs(history)
    assert status == "failed"
    assert reason is not None and reason.startswith("interrupted: KeyboardInterrupt")
