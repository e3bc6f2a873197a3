"""Workflow files as the fake's CI reads them: `.github/workflows/*.yml` at a commit.

GitHub runs what the repository committed, so the fake does too: the canary template FixWurx
ships (`fixwurx workflow canary`) and the repositories' own CI are YAML files in the tests'
repositories, read from the pushed commit. This module parses the part of GitHub's workflow
syntax the fake runs and evaluates the expressions it supports:

- `on`: `push` (with `branches`), `pull_request` (with `branches`), `workflow_dispatch` (with
  `inputs` and their defaults); `name`, `run-name`, workflow/job/step `env`,
  `defaults.run.working-directory`, job `timeout-minutes`, job and step `if`;
- steps: `run` (with `name`, `env`, `working-directory`, `shell: bash|sh`), and `uses`
  (`actions/upload-artifact` with `name` and `path` is done; any other action is logged as
  skipped);
- expressions `${{ ... }}`: `inputs.X`, `env.X`, `github.X` (sha, ref, ref_name, event_name,
  run_id, run_number, run_attempt, actor, repository), string/number/boolean literals, `==`,
  `!=`, `&&`, `||`, `!`, parentheses, and `success()`, `failure()`, `always()`, `cancelled()`.

Anything else (a `needs`, a `matrix`, `secrets.X`, `contains(...)`, `continue-on-error`, ...)
raises `Unsupported`, which the simulator reports as a violation so the test fails loudly
instead of running something other than what the file says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml


class Unsupported(ValueError):
    """A workflow uses syntax the fake does not run; the message names it."""


#: Job keys the fake understands (anything else is Unsupported).
JOB_KEYS = frozenset({"name", "runs-on", "timeout-minutes", "steps", "env", "if", "defaults"})
#: Step keys the fake understands.
STEP_KEYS = frozenset({"name", "run", "uses", "with", "env", "if", "working-directory", "shell"})
#: Workflow keys the fake understands.
WORKFLOW_KEYS = frozenset({"name", "run-name", "on", True, "permissions", "jobs", "env"})
WORKFLOW_KEYS |= {"defaults"}
#: `github.X` names an expression may read.
GITHUB_FIELDS = frozenset(
    {"sha", "ref", "ref_name", "event_name", "run_id", "run_number", "run_attempt", "actor"}
    | {"repository", "workflow"}
)


@dataclass(frozen=True)
class Step:
    """One step of a job."""

    name: str
    run: str | None = None
    uses: str | None = None
    with_: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    if_: str | None = None
    working_directory: str | None = None
    shell: str = "bash"


@dataclass(frozen=True)
class JobSpec:
    """One job: its steps, env and limits."""

    id: str
    name: str
    steps: tuple[Step, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    if_: str | None = None
    working_directory: str | None = None
    timeout_s: float = 120.0


@dataclass(frozen=True)
class WorkflowSpec:
    """A parsed workflow file."""

    path: str
    name: str
    run_name: str | None
    events: tuple[str, ...]
    push_branches: tuple[str, ...] | None
    pull_branches: tuple[str, ...] | None
    inputs: Mapping[str, str]
    env: Mapping[str, str]
    jobs: tuple[JobSpec, ...]


def parse(path: str, text: str, timeout_s: float = 120.0) -> WorkflowSpec:
    """Parse a workflow file; Unsupported names what the fake cannot run."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise Unsupported(f"{path}: not a mapping")
    _only(data, WORKFLOW_KEYS, path)
    # YAML 1.1 reads the key `on` as the boolean True.
    on = data.get("on", data.get(True))
    events, push, pull, inputs = _triggers(on, path)
    defaults = _working_directory(data, path)
    jobs = tuple(
        _job(str(key), value, defaults, timeout_s, f"{path}: jobs.{key}")
        for key, value in (data.get("jobs") or {}).items()
    )
    if not jobs:
        raise Unsupported(f"{path}: no jobs")
    return WorkflowSpec(
        path=path,
        name=str(data.get("name") or path),
        run_name=str(data["run-name"]) if data.get("run-name") else None,
        events=events,
        push_branches=push,
        pull_branches=pull,
        inputs=inputs,
        env=_strings(data.get("env")),
        jobs=jobs,
    )


def _triggers(
    on: Any, path: str
) -> tuple[tuple[str, ...], tuple[str, ...] | None, tuple[str, ...] | None, dict[str, str]]:
    if isinstance(on, str):
        on = {on: None}
    elif isinstance(on, list):
        on = dict.fromkeys(on)
    if not isinstance(on, dict):
        raise Unsupported(f"{path}: `on` must be a name, a list or a mapping")
    known = {"push", "pull_request", "workflow_dispatch"}
    if set(on) - known:
        raise Unsupported(f"{path}: triggers {sorted(set(on) - known)} are not simulated")
    push = _branches(on.get("push"))
    pull = _branches(on.get("pull_request"))
    declared = ((on.get("workflow_dispatch") or {}) or {}).get("inputs") or {}
    inputs = {str(k): str((v or {}).get("default") or "") for k, v in declared.items()}
    return tuple(on), push, pull, inputs


def _branches(trigger: Any) -> tuple[str, ...] | None:
    if not isinstance(trigger, dict) or "branches" not in trigger:
        return None
    return tuple(str(b) for b in trigger["branches"])


def _working_directory(block: Mapping[Any, Any], where: str) -> str | None:
    defaults = block.get("defaults") or {}
    run = defaults.get("run") or {}
    if set(run) - {"working-directory"}:
        raise Unsupported(f"{where}: defaults.run keys {sorted(set(run))}")
    value = run.get("working-directory")
    return str(value) if value is not None else None


def _job(key: str, data: Any, defaults: str | None, timeout_s: float, where: str) -> JobSpec:
    if not isinstance(data, dict):
        raise Unsupported(f"{where}: not a mapping")
    _only(data, JOB_KEYS, where)
    minutes = data.get("timeout-minutes")
    steps = tuple(_step(s, i, f"{where}.steps[{i}]") for i, s in enumerate(data.get("steps") or []))
    return JobSpec(
        id=key,
        name=str(data.get("name") or key),
        steps=steps,
        env=_strings(data.get("env")),
        if_=_condition(data.get("if")),
        working_directory=_working_directory(data, where) or defaults,
        timeout_s=min(timeout_s, float(minutes) * 60) if minutes else timeout_s,
    )


def _step(data: Any, index: int, where: str) -> Step:
    if not isinstance(data, dict):
        raise Unsupported(f"{where}: not a mapping")
    _only(data, STEP_KEYS, where)
    run, uses = data.get("run"), data.get("uses")
    if (run is None) == (uses is None):
        raise Unsupported(f"{where}: a step has exactly one of `run` and `uses`")
    shell = str(data.get("shell") or "bash")
    if shell not in ("bash", "sh"):
        raise Unsupported(f"{where}: shell {shell!r}")
    first = str(run).strip().splitlines()[0] if run else ""
    name = str(data.get("name") or (f"Run {first}" if run else f"Run {uses}"))
    return Step(
        name=name,
        run=str(run) if run is not None else None,
        uses=str(uses) if uses is not None else None,
        with_=_strings(data.get("with")),
        env=_strings(data.get("env")),
        if_=_condition(data.get("if")),
        working_directory=data.get("working-directory"),
        shell=shell,
    )


def _condition(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _strings(value: Any) -> dict[str, str]:
    if not value:
        return {}
    return {
        str(k): ("true" if v is True else "false" if v is False else str(v))
        for k, v in value.items()
    }


def _only(data: Mapping[Any, Any], allowed: frozenset[Any], where: str) -> None:
    extra = [k for k in data if k not in allowed]
    if extra:
        raise Unsupported(f"{where}: {extra} not simulated by the fake CI")


# --- expressions -----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*(?:\(\))?))"
)
_EMBEDDED = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


@dataclass(frozen=True)
class Context:
    """What an expression can read: inputs, env, github fields, and the job's status so far."""

    inputs: Mapping[str, str]
    env: Mapping[str, str]
    github: Mapping[str, str]
    failed: bool = False


def substitute(text: str, context: Context) -> str:
    """`text` with every `${{ expr }}` replaced by its value as a string."""
    return _EMBEDDED.sub(lambda m: _text(evaluate(m.group(1), context)), text)


def condition(text: str | None, context: Context) -> bool:
    """An `if:` (with or without `${{ }}`); no `if` means `success()`."""
    if text is None:
        return not context.failed
    inner = text.strip()
    match = _EMBEDDED.fullmatch(inner)
    expression = match.group(1) if match else inner
    uses_status = re.search(r"\b(success|failure|always|cancelled)\(\)", expression)
    value = _truthy(evaluate(expression, context))
    # GitHub ANDs an `if` without a status function with `success()`.
    return value if uses_status else value and not context.failed


def evaluate(expression: str, context: Context) -> Any:
    """The value of one expression (see the module docstring for what is supported)."""
    tokens = _tokens(expression)
    parser = _Parser(tokens, context, expression)
    value = parser.disjunction()
    if parser.position != len(tokens):
        raise Unsupported(
            f"expression {expression.strip()!r}: unexpected {tokens[parser.position]!r}"
        )
    return value


def _tokens(expression: str) -> list[str]:
    found: list[str] = []
    position = 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise Unsupported(f"expression {expression.strip()!r}: cannot read {text[position:]!r}")
        found.append(match.group().strip())
        position = match.end()
    return found


class _Parser:
    def __init__(self, tokens: list[str], context: Context, source: str) -> None:
        self.tokens, self.context, self.source, self.position = tokens, context, source, 0

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise Unsupported(f"expression {self.source.strip()!r} ends early")
        self.position += 1
        return token

    def disjunction(self) -> Any:
        value = self.conjunction()
        while self._peek() == "||":
            self._take()
            other = self.conjunction()
            value = value if _truthy(value) else other
        return value

    def conjunction(self) -> Any:
        value = self.comparison()
        while self._peek() == "&&":
            self._take()
            other = self.comparison()
            value = other if _truthy(value) else value
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while self._peek() in ("==", "!="):
            op = self._take()
            other = self.unary()
            same = _loose(value) == _loose(other)
            value = same if op == "==" else not same
        return value

    def unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not _truthy(self.unary())
        if self._peek() == "(":
            self._take()
            value = self.disjunction()
            if self._take() != ")":
                raise Unsupported(f"expression {self.source.strip()!r}: missing `)`")
            return value
        return self.atom(self._take())

    def atom(self, token: str) -> Any:
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        if token[0].isdigit():
            return float(token)
        if token in ("true", "false"):
            return token == "true"
        if token == "null":
            return None
        status = {
            "success()": not self.context.failed,
            "failure()": self.context.failed,
            "always()": True,
            "cancelled()": False,
        }
        if token in status:
            return status[token]
        scope, _, name = token.partition(".")
        if scope == "inputs" and name:
            return self.context.inputs.get(name, "")
        if scope == "env" and name:
            return self.context.env.get(name, "")
        if scope == "github" and name in GITHUB_FIELDS:
            return self.context.github.get(name, "")
        raise Unsupported(f"expression {self.source.strip()!r}: `{token}` is not simulated")


def _truthy(value: Any) -> bool:
    return value not in (None, "", 0, 0.0, False)


def _loose(value: Any) -> Any:
    # GitHub compares strings case-insensitively and coerces booleans and numbers.
    return value.casefold() if isinstance(value, str) else value


def _text(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)
