"""`.github/fixwurx.yml`: defaults, overrides, and errors that say what is wrong."""

from __future__ import annotations

import pytest

from app.errors import ConfigError
from app.repo_config import RepoConfig, parse_repo_config, role_allows


def test_no_file_means_defaults() -> None:
    config = parse_repo_config(None)
    assert config == RepoConfig()
    assert config.trigger_label == "fixwurx"
    assert config.needed_role("fix") == "write" and config.needed_role("help") == "write"
    assert config.auto_fix_ci is False and config.draft is True


def test_values_override_defaults() -> None:
    config = parse_repo_config(
        """
trigger_label: autofix
permissions: {status: read, fix: maintain}
test_command: make test
max_attempts: 5
cooldown_minutes: 0
auto_fix_ci: true
budgets: {run_usd: 0.5, run_tokens: 1000}
models: {analysis: gpt-x}
ignore_paths: [vendor/]
draft: false
"""
    )
    assert config.trigger_label == "autofix"
    assert config.needed_role("status") == "read"
    assert config.needed_role("fix") == "maintain"
    assert config.needed_role("retry") == "write"  # untouched commands keep the default
    assert (config.test_command, config.max_attempts, config.cooldown_minutes) == (
        "make test",
        5,
        0,
    )
    assert config.auto_fix_ci and not config.draft
    assert (config.budget_run_usd, config.budget_run_tokens) == (0.5, 1000)
    assert config.ignore_paths == ("vendor/",) and config.models == {"analysis": "gpt-x"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("auto_fix_cl: true\n", "Additional properties are not allowed ('auto_fix_cl'"),
        ("max_attempts: 0\n", "`max_attempts`"),
        ("permissions: {fix: god}\n", "`permissions.fix`"),
        ("draft: maybe\n", "`draft`"),
        ("- a list\n", "must be a mapping"),
        ("key: [unclosed\n", "not valid YAML"),
    ],
)
def test_invalid_files_are_explained(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_repo_config(text)
    assert needle in str(caught.value)


def test_role_order() -> None:
    assert role_allows("admin", "write") and role_allows("write", "write")
    assert not role_allows("triage", "write") and not role_allows("read", "triage")
    assert not role_allows("bogus", "read")
