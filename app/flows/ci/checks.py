"""FixWurx's own check run, `FixWurx verification`, on every fix commit it pushes.

The check is where a maintainer sees, in the pull request's checks tab, what the sandbox proved
(failing before, passing after, regressions, the bundle hash) and what the repository's own CI
then said. It is created in progress when the commit is pushed, carries one annotation at the
root-cause line, and ends success, failure or neutral when the CI feedback flow decides.

Annotations are sent once, at creation: GitHub appends the annotations of every update, so
sending them again would repeat them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.flows.render import evidence_table
from app.github.client import RepoClient
from app.github.constants import CHECK_NAME
from app.patches import fault_location

#: GitHub's limit on a check run's output summary and text, in characters.
MAX_SUMMARY_CHARS = 65535
#: Conclusions a FixWurx check can end with.
CONCLUSIONS = frozenset({"success", "failure", "neutral"})


@dataclass(frozen=True)
class CiRow:
    """One line of CI evidence: a suite or workflow, what it concluded, and why it matters."""

    kind: str  # canary | smoke
    name: str
    conclusion: str
    note: str = ""
    url: str | None = None

    def markdown(self) -> str:
        """`| kind | name | conclusion | note |` with the name linked when there is a URL."""
        name = f"[{self.name}]({self.url})" if self.url else self.name
        return f"| {self.kind} | {name} | {self.conclusion} | {self.note or '—'} |"


def ci_table(rows: Sequence[CiRow]) -> str:
    """The CI rows as a Markdown table (the PR body's evidence gains the same rows)."""
    if not rows:
        return "_No CI result yet._"
    lines = ["| CI | suite | conclusion | note |", "|---|---|---|---|"]
    return "\n".join([*lines, *(row.markdown() for row in rows)])


def summary(bundle: Mapping[str, Any], stage: str, rows: Sequence[CiRow] = ()) -> str:
    """The check's summary: where the CI stands, the sandbox evidence, then the CI rows."""
    evidence = bundle.get("evidence") or {}
    regression = evidence.get("regression") or {}
    newly = regression.get("newly_failing") or []
    parts = [
        f"**{stage}**",
        "",
        "### Sandbox evidence",
        evidence_table({k: evidence.get(k) for k in ("before", "after") if k in evidence}),
        "",
        f"- Regressions in the sandbox: {len(newly)} "
        f"(of {regression.get('tests_run', '?')} tests run)",
        f"- Bundle: `{bundle.get('hash')}`",
        f"- Base commit: `{str(bundle.get('base_commit') or '')[:12]}`",
        "",
        "### The repository's CI",
        ci_table(rows),
    ]
    return "\n".join(parts)[:MAX_SUMMARY_CHARS]


def annotation(bundle: Mapping[str, Any]) -> dict[str, Any] | None:
    """A notice at the root-cause line (where the fix edits), or None when there is none."""
    top = fault_location(bundle.get("root_cause"), bundle.get("localization") or [])
    if not top or not top.get("path") or not top.get("line"):
        return None
    line = int(top["line"])
    why = str(top.get("why") or "FixWurx's fix edits here")
    return {
        "path": str(top["path"]),
        "start_line": line,
        "end_line": line,
        "annotation_level": "notice",
        "title": "Root cause (FixWurx)",
        "message": f"{why}\nBundle {bundle.get('hash')}"[:64000],
    }


def create(repo: RepoClient, head_sha: str, bundle: Mapping[str, Any], stage: str) -> int:
    """Create the in-progress check on `head_sha`; returns its id."""
    output: dict[str, Any] = {
        "title": stage,
        "summary": summary(bundle, stage),
    }
    note = annotation(bundle)
    if note is not None:
        output["annotations"] = [note]
    body = {
        "name": CHECK_NAME,
        "head_sha": head_sha,
        "status": "in_progress",
        "external_id": str(bundle.get("hash") or ""),
        "output": output,
    }
    return int(repo.api("POST", "/check-runs", body)["id"])


def complete(
    repo: RepoClient,
    check_run_id: int,
    conclusion: str,
    title: str,
    text: str,
) -> None:
    """End the check with `conclusion` (success, failure or neutral)."""
    if conclusion not in CONCLUSIONS:
        raise ValueError(f"a FixWurx check ends {sorted(CONCLUSIONS)}, not {conclusion!r}")
    body = {
        "status": "completed",
        "conclusion": conclusion,
        "output": {"title": title, "summary": text[:MAX_SUMMARY_CHARS]},
    }
    repo.api("PATCH", f"/check-runs/{check_run_id}", body)


def in_progress(repo: RepoClient, check_run_id: int, title: str, text: str) -> None:
    """Move the check back to in progress (a re-request from the checks tab)."""
    body = {"status": "in_progress", "output": {"title": title, "summary": text}}
    repo.api("PATCH", f"/check-runs/{check_run_id}", body)
