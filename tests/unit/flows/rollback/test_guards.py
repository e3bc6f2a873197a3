"""The guards and the persisted decisions: each guard says no for its own reason, and a
decision is recorded once per failing commit whatever the number of workers or deliveries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from app.db import session_scope
from app.errors import ConfigError
from app.flows.rollback import decisions, guards
from app.flows.rollback.decisions import MergedFix
from app.models import Base, Installation, PullRequest, Repository
from app.repo_config import RepoConfig, parse_repo_config

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def url(tmp_path: Path) -> str:
    found = f"sqlite:///{tmp_path / 'guards.sqlite3'}"
    engine = create_engine(found)
    Base.metadata.create_all(engine)
    engine.dispose()
    with session_scope(found) as session:
        session.add(Installation(id=1, account_login="octo"))
        session.flush()
        session.add(Repository(id=10, installation_id=1, full_name="octo/app"))
    return found


def fix(number: int = 5, kind: str = "fix", hours_ago: float = 1.0) -> MergedFix:
    return MergedFix(number, "m" * 40, 1, NOW - dt.timedelta(hours=hours_ago), kind)


def test_each_guard_before_attribution_names_its_reason() -> None:
    config = RepoConfig()
    assert guards.before_attribution(config, fix(), (), 0) is None
    assert "never reverts a revert" in (
        guards.before_attribution(config, fix(kind="revert"), (), 0) or ""
    )
    assert "no-rollback" in (
        guards.before_attribution(config, fix(), ("FixWurx:No-Rollback",), 0) or ""
    )
    assert "not on the default branch" in (guards.before_attribution(config, fix(), (), None) or "")
    assert "rollback_window_commits" in (guards.before_attribution(config, fix(), (), 21) or "")
    assert "24 hours ago" in (guards.before_attribution(config, fix(hours_ago=25), (), 1) or "")


def test_one_decision_per_failing_commit(url: str) -> None:
    with session_scope(url) as session:  # decisions point at a run; any run will do here
        from app.models import Run

        session.add(Run(id=1, repository_id=10, kind="ci", trigger="t"))
    first = decisions.record(
        url, 10, fix(), "a" * 40, 1, verdict="blamed", action="pending", reason="r", evidence={}
    )
    second = decisions.record(
        url, 10, fix(), "a" * 40, 1, verdict="not_blamed", action="none", reason="x", evidence={}
    )
    assert first is not None and second is None
    found = decisions.for_commit(url, 10, "a" * 40)
    assert found is not None and found.verdict == "blamed" and found.action == "pending"


def test_one_rollback_per_fix_and_the_daily_cap(url: str) -> None:
    config = RepoConfig(rollback_per_day=2)
    assert guards.before_acting(url, 10, config, fix()) is None
    made = decisions.record(
        url,
        10,
        fix(),
        "b" * 40,
        None,
        verdict="blamed",
        action="pending",
        reason="r",
        evidence={},
    )
    assert made is not None
    decisions.set_action(url, made.id, "revert_pr", revert_pr=77)
    assert "already rolled back by #77" in (guards.before_acting(url, 10, config, fix()) or "")
    other = decisions.record(
        url,
        10,
        fix(6),
        "c" * 40,
        None,
        verdict="blamed",
        action="pending",
        reason="r",
        evidence={},
    )
    assert other is not None
    decisions.set_action(url, other.id, "revert_pr", revert_pr=78)
    assert "rollback_per_day" in (guards.before_acting(url, 10, config, fix(7)) or "")


def test_merged_fixes_are_watched_newest_first_and_reverts_never(url: str) -> None:
    with session_scope(url) as session:
        for number, kind, hours in (
            (1, "fix", 2),
            (2, "fix", 1),
            (3, "revert", 0.5),
            (4, "fix", 30),
        ):
            session.add(
                PullRequest(
                    repository_id=10,
                    number=number,
                    branch=f"b{number}",
                    base_branch="main",
                    kind=kind,
                    state="merged",
                    merge_sha=f"{number}" * 40,
                    merged_at=NOW - dt.timedelta(hours=hours),
                )
            )
    watched = decisions.merged_fixes(url, 10, NOW - dt.timedelta(hours=24))
    assert [f.number for f in watched] == [2, 1]


def test_the_rollback_keys_are_validated() -> None:
    config = parse_repo_config("rollback: auto\nrollback_window_hours: 6\nrollback_per_day: 1\n")
    assert (config.rollback, config.rollback_window_hours, config.rollback_per_day) == (
        "auto",
        6.0,
        1,
    )
    assert (RepoConfig().rollback, RepoConfig().rollback_window_commits) == ("propose", 20)
    with pytest.raises(ConfigError, match="rollback"):
        parse_repo_config("rollback: sometimes\n")
