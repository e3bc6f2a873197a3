"""The per-repository config `.github/fixwurx.yml`, read from the default branch.

The file is optional: every key has a default, and `SCHEMA` below is the documented contract
(docs/github-app.md shows it). Unknown keys are errors, not silently ignored, so a typo such as
`auto_fix_cl` is reported instead of leaving CI auto-fix off without a word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jsonschema
import yaml

from app import command_table, defaults
from app.errors import ConfigError

#: Where the repo config lives in a repository (the App reads it from the default branch).
CONFIG_PATH = ".github/fixwurx.yml"

#: Roles in increasing order of power, as the collaborator-permission endpoint names them.
ROLES = ("none", "read", "triage", "write", "maintain", "admin")

#: Every command a comment can give; `permissions` maps each to the least role that may give it.
COMMANDS = command_table.NAMES

#: What FixWurx does when a merged fix is blamed for breaking the default branch: open a revert
#: pull request (`propose`), the same and enable auto-merge on it (`auto`: branch protection
#: still decides), or only comment the evidence on the merged pull request (`off`). `shadow`
#: attributes and records every decision and acts on none (no revert, no comment): a way to
#: measure the decisions against what people do before letting them act.
ROLLBACK_MODES = ("propose", "auto", "off", "shadow")

_ROLE = {"type": "string", "enum": list(ROLES[1:])}
_POSITIVE = {"type": "integer", "minimum": 1}

#: JSON Schema of `.github/fixwurx.yml` (draft 2020-12). Defaults live in `RepoConfig`.
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "FixWurx repository config (.github/fixwurx.yml)",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "trigger_label": {"type": "string", "minLength": 1, "maxLength": 50},
        "permissions": {
            "type": "object",
            "additionalProperties": False,
            "properties": {command: _ROLE for command in COMMANDS},
        },
        "test_command": {"type": ["string", "null"], "minLength": 1},
        "max_attempts": {**_POSITIVE, "maximum": 20},
        "cooldown_minutes": {"type": "integer", "minimum": 0, "maximum": 10080},
        "auto_fix_ci": {"type": "boolean"},
        "ci_attempts_per_commit": {**_POSITIVE, "maximum": 5},
        "budgets": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "run_usd": {"type": "number", "minimum": 0},
                "run_tokens": {"type": "integer", "minimum": 0},
            },
        },
        "models": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "analysis": {"type": "string"},
                "fallback": {"type": "string"},
                "explanation": {"type": "string"},
            },
        },
        "ignore_paths": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "draft": {"type": "boolean"},
        "timeout_seconds": {"type": "number", "minimum": 30, "maximum": 3600},
        "setup": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "maxItems": 20,
        },
        "python": {"type": ["string", "null"], "pattern": r"^\d+(\.\d+){0,2}$"},
        "rollback": {"type": "string", "enum": list(ROLLBACK_MODES)},
        "rollback_window_hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 720},
        "rollback_window_commits": {**_POSITIVE, "maximum": 500},
        "rollback_per_day": {"type": "integer", "minimum": 0, "maximum": 100},
        "ready_when_green": {"type": "boolean"},
        "ci_revisions": {"type": "integer", "minimum": 0, "maximum": 3},
        "ci_timeout_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
        "canary_workflow": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]+\.ya?ml$"},
        "agent": {"type": "boolean"},
    },
}


def _default_permissions() -> dict[str, str]:
    # Every command needs write access unless the repo says otherwise: read access is what any
    # visitor has on a public repository, and commands spend compute and open pull requests.
    return dict.fromkeys(COMMANDS, "write")


@dataclass(frozen=True)
class RepoConfig:
    """The effective config: the file's values over these defaults."""

    trigger_label: str = defaults.TRIGGER_LABEL
    permissions: dict[str, str] = field(default_factory=_default_permissions)
    test_command: str | None = None
    max_attempts: int = 3
    cooldown_minutes: int = 10
    auto_fix_ci: bool = False
    ci_attempts_per_commit: int = 1
    budget_run_usd: float | None = None
    budget_run_tokens: int | None = None
    models: dict[str, str] = field(default_factory=dict)
    ignore_paths: tuple[str, ...] = ()
    draft: bool = True
    timeout_seconds: float = 600.0
    #: Shell commands that build the test environment (in the sandbox, with network access);
    #: when given they replace the detection of the repository's dependency files.
    setup: tuple[str, ...] = ()
    #: The interpreter version for the test environment ("3.11"); None: the newest that works.
    python: str | None = None
    #: One of ROLLBACK_MODES.
    rollback: str = "propose"
    #: A merged fix is watched this many hours after its merge ...
    rollback_window_hours: float = 24.0
    #: ... or for this many first-parent commits on the default branch, whichever ends first.
    rollback_window_commits: int = 20
    #: Rollbacks (revert pull requests) per repository in any 24 hours, at most.
    rollback_per_day: int = 3
    #: Mark FixWurx's draft ready for review once the canary and the repository's CI are green.
    ready_when_green: bool = False
    #: Automatic revision rounds after the repository's CI finds a new failure in a fix.
    ci_revisions: int = 1
    #: How long a pushed fix waits for CI before its check ends neutral ("no CI result").
    ci_timeout_minutes: int = 60
    #: The canary workflow's file name under .github/workflows (`fixwurx workflow canary`).
    canary_workflow: str = "fixwurx-canary.yml"
    #: Escalate to the agent loop (a model running shell commands in the sandbox) when the
    #: templates and the single-pass model path find no verified fix. Needs a model provider.
    agent: bool = False

    def needed_role(self, command: str) -> str:
        """The least role that may give `command`."""
        return self.permissions.get(command, "write")


def parse_repo_config(text: str | None) -> RepoConfig:
    """The config from the file's text (None: no file, all defaults). Raises ConfigError."""
    if text is None or not text.strip():
        return RepoConfig()
    data = _load_yaml(text)
    _validate(data)
    return _from_mapping(data)


def _load_yaml(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"`.github/fixwurx.yml` is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"`.github/fixwurx.yml` must be a mapping of settings, not a {type(data).__name__}"
        )
    return data


def _validate(data: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    lines = [f"- `{_where(e)}`: {e.message}" for e in errors[:10]]
    raise ConfigError("`.github/fixwurx.yml` does not match the schema:\n" + "\n".join(lines))


def _where(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def _from_mapping(data: dict[str, Any]) -> RepoConfig:
    base = RepoConfig()
    budgets = data.get("budgets", {})
    return RepoConfig(
        trigger_label=data.get("trigger_label", base.trigger_label),
        permissions={**base.permissions, **data.get("permissions", {})},
        test_command=data.get("test_command", base.test_command),
        max_attempts=data.get("max_attempts", base.max_attempts),
        cooldown_minutes=data.get("cooldown_minutes", base.cooldown_minutes),
        auto_fix_ci=data.get("auto_fix_ci", base.auto_fix_ci),
        ci_attempts_per_commit=data.get("ci_attempts_per_commit", base.ci_attempts_per_commit),
        budget_run_usd=budgets.get("run_usd"),
        budget_run_tokens=budgets.get("run_tokens"),
        models=dict(data.get("models", {})),
        ignore_paths=tuple(data.get("ignore_paths", ())),
        draft=data.get("draft", base.draft),
        timeout_seconds=float(data.get("timeout_seconds", base.timeout_seconds)),
        setup=tuple(data.get("setup", ())),
        python=data.get("python", base.python),
        rollback=data.get("rollback", base.rollback),
        rollback_window_hours=float(data.get("rollback_window_hours", base.rollback_window_hours)),
        rollback_window_commits=data.get("rollback_window_commits", base.rollback_window_commits),
        rollback_per_day=data.get("rollback_per_day", base.rollback_per_day),
        ready_when_green=data.get("ready_when_green", base.ready_when_green),
        ci_revisions=data.get("ci_revisions", base.ci_revisions),
        ci_timeout_minutes=data.get("ci_timeout_minutes", base.ci_timeout_minutes),
        canary_workflow=data.get("canary_workflow", base.canary_workflow),
        agent=data.get("agent", base.agent),
    )


def role_allows(role: str, needed: str) -> bool:
    """Whether `role` is at least `needed` in GitHub's role order (unknown roles allow nothing)."""
    if role not in ROLES or needed not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)
