"""The evidence as Markdown: the revert pull request's body and the comments about a decision.

Every statement in the body is something FixWurx ran itself (the probes) or a link to what CI
said, so a reviewer can check the claim before merging the revert.
"""

from __future__ import annotations

from typing import Any

#: Marks FixWurx's comment about a decision on commit SHA (one per commit and conversation).
MARKER = "<!-- fixwurx:rollback {sha} -->"


def revert_title(number: int, title: str) -> str:
    """`Revert #<N>: <title>` (GitHub's own revert says `Revert "<title>"`)."""
    return f"Revert #{number}: {title}"[:256]


def _sha(value: Any) -> str:
    return f"`{str(value)[:12]}`" if value else "(unknown)"


def _failed(probe: dict[str, Any]) -> str:
    failed = probe.get("failed") or []
    return "**failed** (" + ", ".join(f"`{t}`" for t in failed) + ")" if failed else "passed"


def evidence_lines(evidence: dict[str, Any], checks_url: str) -> list[str]:
    """The evidence section, shared by the revert body and the comments."""
    if not evidence:
        return ["No attribution ran (a person asked for this revert)."]
    tests = evidence.get("failing_tests") or []
    lines = [
        "- Failing test(s): " + (", ".join(f"`{t}`" for t in tests) or "(none reproduced)"),
        "- Named by the check's JUnit report: "
        + (", ".join(f"`{t}`" for t in evidence.get("named_by_check") or []) or "(none)"),
        f"- Green at {_sha(evidence.get('green_sha'))} (the fix's base, the merge's first parent)",
        f"- Red at {_sha(evidence.get('red_sha'))} (where the default branch's check failed: "
        f"[failing run]({checks_url}))",
        f"- Merge commit {_sha(evidence.get('merge_sha'))}; first bad commit "
        f"{_sha(evidence.get('culprit'))}",
        f"- Verdict: {evidence.get('reason', '')}",
    ]
    bisection = evidence.get("bisection") or []
    if bisection:
        lines += ["", "Bisection over the first-parent commits:", ""]
        lines += ["| commit | result |", "|---|---|"]
        for step in bisection:
            result = step.get("known") or _failed(step)
            mark = "bad" if step.get("bad") else "good"
            lines.append(f"| {_sha(step.get('sha'))} | {mark}: {result} |")
    probes = [*(evidence.get("probes") or []), *(evidence.get("reruns") or [])]
    if probes:
        lines += ["", "Test runs FixWurx made (in its sandbox):", ""]
        for probe in probes:
            lines.append(
                f"- {probe.get('role', 'probe')} {_sha(probe.get('sha'))}: {_failed(probe)} "
                f"in {probe.get('seconds', 0)} s"
            )
    lines += ["", f"Decided in {evidence.get('seconds', 0)} s."]
    return lines


def revert_body(
    number: int,
    merge_sha: str,
    evidence: dict[str, Any],
    checks_url: str,
    issue: int | None,
    asked_by: str | None = None,
) -> str:
    """The revert pull request's body."""
    why = f"as @{asked_by} asked" if asked_by else "because it broke the default branch"
    lines = [f"Reverts #{number} (merge `{merge_sha}`), {why}.", "", "### Evidence", ""]
    lines += evidence_lines(evidence, checks_url)
    lines.append("")
    if issue is not None:
        lines.append(f"Issue #{issue} was reopened: the fix is not in effect once this merges.")
    lines.append(
        "Close this pull request to keep the fix; add the `fixwurx:no-rollback` label to a "
        "merged pull request to opt it out of rollbacks."
    )
    return "\n".join(lines)


def issue_comment(number: int, revert: int) -> str:
    """The comment on the reopened issue."""
    return (
        f"FixWurx reopened this issue: its fix #{number} broke the default branch, and #{revert} "
        "reverts it (the evidence is in that pull request)."
    )


def evidence_comment(
    sha: str, number: int, evidence: dict[str, Any], checks_url: str, note: str
) -> str:
    """The comment on the merged pull request when FixWurx does not open a revert itself."""
    lines = [MARKER.format(sha=sha), f"FixWurx's rollback check of #{number}: {note}", ""]
    return "\n".join(lines + evidence_lines(evidence, checks_url))
