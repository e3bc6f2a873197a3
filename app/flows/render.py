"""Markdown FixWurx posts: status comments, PR bodies, failure comments, replies, help.

Pure functions of their inputs, so every text is unit-tested without GitHub. Each comment
carries an HTML marker (invisible on GitHub) so a re-run job can find what it already posted
instead of posting twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app import command_table
from app.patches import fault_location
from app.repo_config import RepoConfig
from app.testing.repro_match import COULD_NOT_REPRODUCE

#: Stages shown in the status comment, in the order they run.
STAGES = ("clone", "environment", "reproduce", "localize", "patch", "bundle", "publish")
_ICONS = {"pending": "⬜", "running": "⏳", "done": "✅", "failed": "❌", "skipped": "⏭️"}
BUNDLE_RE = re.compile(r"<!-- fixwurx:bundle (sha256:[0-9a-f]{64}) -->")
#: Usage -> what it does, for every command in the one table (app/command_table.py).
_COMMAND_HELP = {spec.usage: spec.help for spec in command_table.TABLE}


def status_marker(run_id: int) -> str:
    """Marks the status comment of run `run_id`."""
    return f"<!-- fixwurx:status run={run_id} -->"


def config_error_marker(blob_sha: str) -> str:
    """Marks the one comment about an invalid config file version."""
    return f"<!-- fixwurx:config-error sha={blob_sha} -->"


def reply_marker(run_id: int) -> str:
    """Marks the one reply a command run posts (help, status, refusal...)."""
    return f"<!-- fixwurx:reply run={run_id} -->"


def ci_marker(what: str, head_sha: str) -> str:
    """Marks the one CI comment of a kind (approval, failed) about one fix commit."""
    return f"<!-- fixwurx:ci {what} sha={head_sha} -->"


def refusal_marker(login: str) -> str:
    """Marks the refusal sent to `login` in a conversation (they get only one)."""
    return f"<!-- fixwurx:refused user={login.lower()} -->"


def status_comment(run_id: int, progress: Mapping[str, tuple[str, str]], headline: str) -> str:
    """The status comment: one line per stage with its state and latest message."""
    lines = [status_marker(run_id), f"**FixWurx** — {headline}", ""]
    for stage in STAGES:
        state, message = progress.get(stage, ("pending", ""))
        detail = f" — {_one_line(message)}" if message else ""
        lines.append(f"- {_ICONS.get(state, '⬜')} {stage}{detail}")
    lines += ["", f"<sub>Run {run_id}. {_command_hint()}</sub>"]
    return "\n".join(lines)


def pr_title(issue_number: int, issue_title: str) -> str:
    """`Fix #N: <issue title>`, kept within GitHub's 256-character title limit."""
    return f"Fix #{issue_number}: {issue_title}"[:256]


def pr_body(bundle: Mapping[str, Any], issue_number: int | None, note: str = "") -> str:
    """The PR body, all from the bundle: summary, root cause, evidence, hash, cost, commands."""
    parts = [
        "## Summary",
        str(bundle.get("summary") or f"Automated fix produced by `{bundle.get('source')}`."),
        "",
        "## Root cause",
        _root_cause(bundle),
        *_explanation(bundle),
        "",
        "## Evidence",
        evidence_table(bundle.get("evidence") or {}),
        *agent_section(bundle),
        "",
        "## Patch bundle",
        f"- Bundle: `{bundle.get('hash')}`",
        f"- Base commit: `{bundle.get('base_commit')}`",
        f"- Files: {', '.join(f'`{f}`' for f in bundle.get('files') or []) or '—'}",
        f"- Produced by: `{bundle.get('source')}`",
        f"- Cost: {_cost(bundle.get('cost') or {})}",
        "",
    ]
    if (bundle.get("evidence") or {}).get("environment"):  # how the tests' venv was built
        parts.insert(-1, f"- Test environment: {bundle['evidence']['environment']}")
    if note:
        parts += [note, ""]
    if issue_number is not None:
        parts += [f"Fixes #{issue_number}", ""]
    parts += [
        "<details><summary>Commanding FixWurx</summary>",
        "",
        help_text(None, heading=False),
        "</details>",
        "",
        f"<!-- fixwurx:bundle {bundle.get('hash')} -->",
    ]
    return "\n".join(parts)


def agent_section(bundle: Mapping[str, Any]) -> list[str]:
    """The agent session that wrote the fix, in brief (nothing for other sources)."""
    from app.agents.agent.trajectory import summary_lines

    record = (bundle.get("evidence") or {}).get("agent")
    if not record:
        return []
    return [
        "",
        "<details><summary>Agent trajectory</summary>",
        "",
        *summary_lines(record),
        "",
        "</details>",
    ]


def bundle_hash_in(body: str) -> str | None:
    """The bundle hash a PR body declares (from its marker), or None."""
    found = BUNDLE_RE.search(body)
    return found.group(1) if found else None


def _root_cause(bundle: Mapping[str, Any]) -> str:
    """Where the fix edits (the bundle's root cause), else the most suspicious line."""
    top = fault_location(bundle.get("root_cause"), bundle.get("localization") or [])
    if not top:
        return "No single location stood out."
    why = f": {top.get('why')}" if top.get("why") else ""
    return f"`{top.get('path')}:{top.get('line')}`{why}"


def _explanation(bundle: Mapping[str, Any]) -> list[str]:
    """The cheap model's root-cause paragraph (already sanitized), when the run paid for one.

    A quote block, so a reader sees it is the model's prose and not FixWurx's evidence.
    """
    # Model prose must not smuggle a marker (a second bundle hash) or other HTML into the body.
    text = str(bundle.get("explanation") or "").replace("<", "&lt;").strip()
    if not text:
        return []
    return ["", *(f"> {line}".rstrip() for line in text.splitlines())]


def evidence_table(evidence: Mapping[str, Any]) -> str:
    """A before/after table of the reproducing tests, plus the regression summary."""
    before = _by_test(evidence.get("before"))
    after = _by_test(evidence.get("after"))
    tests = list(dict.fromkeys([*before, *after]))
    if not tests:
        return "_No per-test evidence recorded._"
    rows = ["| test | before | after |", "|---|---|---|"]
    rows += [f"| `{t}` | {before.get(t, '—')} | {after.get(t, '—')} |" for t in tests]
    extra = {k: v for k, v in evidence.items() if k not in ("before", "after")}
    rows += [""] + [f"- {k}: {_one_line(str(v))}" for k, v in sorted(extra.items())]
    return "\n".join(rows).rstrip()


def _by_test(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {
            str(k): str(v.get("outcome", v) if isinstance(v, Mapping) else v)
            for k, v in value.items()
        }
    found: dict[str, str] = {}
    for item in value or []:
        if isinstance(item, Mapping):
            name = item.get("test") or item.get("test_id") or "?"
            found[str(name)] = str(item.get("outcome", "?"))
    return found


def _cost(cost: Mapping[str, Any]) -> str:
    usd = float(cost.get("usd") or 0.0)
    tokens = int(cost.get("tokens") or 0)
    return f"${usd:.4f} ({tokens} model tokens)"


def failure_comment(
    reason: str,
    tried: Iterable[str],
    locations: Sequence[Any],
    partial: Mapping[str, Any] | None = None,
) -> str:
    """What was tried and the most suspicious locations, when no verified fix was found; the
    closest candidate (`partial_section`) when one turned some of the failing tests green.

    A run that could not reproduce the issue says so first: it never tried a fix, and `tried`
    lists the reproduction tests it wrote and why none was kept.
    """
    unreproduced = reason.startswith(COULD_NOT_REPRODUCE)
    heading = (
        "**FixWurx could not reproduce the issue, so it did not guess a fix.**"
        if unreproduced
        else "**FixWurx could not find a verified fix.**"
    )
    tried = list(tried)
    if unreproduced and tried:  # the tries are listed below, in full
        reason = reason.split(" (tried: ", 1)[0]
    lines = [heading, "", f"Why: {_one_line(reason)}", ""]
    lines += partial_section(partial)
    if tried:
        label = "Reproduction tests tried:" if unreproduced else "What was tried:"
        lines += [label] + [f"- {_one_line(t)}" for t in tried] + [""]
    if locations:
        lines += ["Most suspicious locations:"]
        lines += [f"- `{_loc(loc)}`{_why(loc)}" for loc in list(locations)[:5]] + [""]
    lines.append(_command_hint())
    return "\n".join(lines)


def partial_section(partial: Mapping[str, Any] | None) -> list[str]:
    """The closest candidate in a failure comment: its line, and its diff folded away. Shown,
    never proposed: it leaves tests failing, so it is no fix."""
    from app.repair.partial import partial_line

    if not partial:
        return []
    diff = str(partial.get("diff") or "").rstrip()
    fence = "`" * max(3, _longest_backticks(diff) + 1)  # the diff cannot close the block
    return [
        # The description and test ids come from a model and the repository: no markup.
        "Partial: " + _one_line(partial_line(dict(partial)), 600).replace("<", "&lt;"),
        "",
        "<details><summary>The closest candidate's patch (not a fix)</summary>",
        "",
        f"{fence}diff",
        diff,
        fence,
        "</details>",
        "",
    ]


def _longest_backticks(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def _loc(loc: Any) -> str:
    path = loc.get("path") if isinstance(loc, Mapping) else getattr(loc, "path", "?")
    line = loc.get("line") if isinstance(loc, Mapping) else getattr(loc, "line", "?")
    return f"{path}:{line}"


def _why(loc: Any) -> str:
    why = loc.get("why") if isinstance(loc, Mapping) else getattr(loc, "why", "")
    return f" — {_one_line(str(why))}" if why else ""


def help_text(config: RepoConfig | None, *, heading: bool = True) -> str:
    """The commands, with the role each needs under `config` (defaults when None)."""
    config = config or RepoConfig()
    lines = ["**FixWurx commands**", ""] if heading else []
    lines += ["Comment `/fixwurx <command>` (or `@fixwurx <command>`):", ""]
    for usage, what in _COMMAND_HELP.items():
        name = usage.split()[0]
        lines.append(f"- `/fixwurx {usage}` — {what} (needs {config.needed_role(name)})")
    lines += ["", f"Label an issue `{config.trigger_label}` to start a repair."]
    return "\n".join(lines)


def unauthorized_reply(login: str, command: str, role: str, needed: str) -> str:
    """The one polite refusal an unauthorized commander gets."""
    return (
        f"Sorry @{login}, `/fixwurx {command}` needs **{needed}** access to this repository "
        f"and you have **{role}**. A maintainer can run it, or change who may in "
        "`.github/fixwurx.yml` (`permissions`)."
    )


def config_error_comment(error: str, blob_sha: str) -> str:
    """The one comment explaining why the repo config was rejected (no action is taken)."""
    return "\n".join(
        [
            config_error_marker(blob_sha),
            "**FixWurx did not run: `.github/fixwurx.yml` is invalid.**",
            "",
            error,
            "",
            "Fix the file on the default branch and comment `/fixwurx retry`. "
            "The schema is documented in FixWurx's `docs/github-app.md`.",
        ]
    )


def guard_comment(reason: str) -> str:
    """Why a requested run did not start (closed issue, cooldown, attempts used up...)."""
    return f"**FixWurx did not start:** {_one_line(reason)}"


def run_status_reply(run: Mapping[str, Any] | None) -> str:
    """Answer to `/fixwurx status`: the latest run on this issue, if any."""
    if run is None:
        return "FixWurx has not run on this issue yet."
    reason = f" — {_one_line(str(run['reason']))}" if run.get("reason") else ""
    stage = f" (stage: {run['stage']})" if run.get("stage") else ""
    return f"Latest FixWurx run: #{run['id']} is **{run['status']}**{stage}{reason}."


def explain_reply(bundle: Mapping[str, Any] | None, reason: str | None) -> str:
    """Answer to `/fixwurx explain`: the root cause and evidence of the last fix."""
    if bundle is None:
        why = f" Last outcome: {_one_line(reason)}" if reason else ""
        return f"FixWurx has no verified fix for this issue to explain.{why}"
    return "\n".join(
        [
            "**How FixWurx found this fix**",
            "",
            str(bundle.get("summary") or ""),
            "",
            f"Root cause: {_root_cause(bundle)}",
            *_explanation(bundle),
            "",
            evidence_table(bundle.get("evidence") or {}),
            "",
            f"Produced by `{bundle.get('source')}`; bundle `{bundle.get('hash')}`.",
        ]
    )


def bundle_comment(bundle: Mapping[str, Any], reason: str) -> str:
    """A fix posted as a comment when FixWurx may not push a branch (the bundle inline)."""
    return "\n".join(
        [
            f"**FixWurx found a verified fix but could not push it:** {_one_line(reason)}",
            "",
            pr_body(bundle, None),
            "",
            "<details><summary>Patch</summary>",
            "",
            "```diff",
            str(bundle.get("diff", "")).rstrip(),
            "```",
            "</details>",
        ]
    )


def _command_hint() -> str:
    return "Comment `/fixwurx help` for commands."


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
