"""The `ci_result` run: read back the repository's CI on a FixWurx fix commit, and act on it.

Every finished check suite or workflow run on a `fixwurx/*` branch, a re-request of the
`FixWurx verification` check, and the sweeper's CI timer each start one short run of this kind.
It reads the CI state of the fix commit and of its base commit from GitHub (the delivery only
says *something* finished), and when everything has finished it acts once: the watch's state
moves waiting -> acting conditionally, so the deliveries of the other suites find it decided.

What a maintainer sees: the check (in progress, then success, failure or neutral with the
reason), the pull request body's evidence with the CI rows, a comment when a workflow waits for
their approval or when CI still fails after the revision round, and the draft marked ready for
review when `ready_when_green` says so.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from app.db import session_scope
from app.errors import GitHubError
from app.flows import fixing, render
from app.flows.ci import checks
from app.flows.ci import records as ci_records
from app.flows.ci.checks import CiRow
from app.flows.ci.feedback import CiDecision, SuiteResult, conclusion_text, decide, feedback
from app.flows.ci.records import WatchView
from app.flows.ci.start import Lineage
from app.flows.job import Job
from app.github import actions
from app.models import PatchBundleRecord, utcnow
from app.runs import verdict
from app.runs.sweep import CI_TIMEOUT_TRIGGER
from app.runs.verdict import Verdict

log = logging.getLogger(__name__)

#: The trigger of the run the sweeper starts when a watch's deadline passes (app/runs/sweep.py).
TIMEOUT_TRIGGER = CI_TIMEOUT_TRIGGER
#: The trigger of a maintainer's re-run of the FixWurx check.
RERUN_TRIGGER = "check_run.rerequested"
#: The App that runs GitHub Actions: its check suites are read as workflow runs instead.
ACTIONS_APP = "github-actions"

READY_MUTATION = """
mutation($id: ID!) {
  markPullRequestReadyForReview(input: {pullRequestId: $id}) {
    pullRequest { isDraft }
  }
}
"""


def handle(job: Job) -> Verdict:
    """Read back the CI of the run's commit and act when it has all finished."""
    run = job.run
    if not run.head_sha:
        return verdict.done("the CI event names no commit")
    watch = ci_records.load_watch(job.database_url, run.repository_id, run.head_sha)
    if watch is None:
        return verdict.done(f"{run.head_sha[:12]} is not a fix commit FixWurx is waiting on")
    job.run = replace(run, pr_number=watch.pr_number, issue_number=None)
    if run.trigger == RERUN_TRIGGER:
        watch = _reopen(job, watch)
    bundle = bundle_body(job.database_url, watch.bundle_hash)
    if run.trigger == TIMEOUT_TRIGGER:
        return _timeout(job, watch, bundle)
    resumed = watch.state == "acting" and watch.acting_run_id == run.id
    if watch.state != "waiting" and not resumed:
        return verdict.done(f"CI on {watch.head_sha[:12]} was already decided ({watch.state})")
    head = collect(job, watch.head_sha, details=True)
    base = collect(job, watch.base_sha, details=False) if watch.base_sha else []
    canary_expected = watch.canary_nonce is not None
    decision = decide(
        head,
        base,
        canary_expected=canary_expected,
        revision=watch.revision,
        max_revisions=job.config.ci_revisions,
    )
    log.info(
        "run %s: CI on %s: %s (%s)", run.id, watch.head_sha[:12], decision.action, decision.reason
    )
    if decision.action == "pending":
        return verdict.done(decision.reason)
    if not ci_records.claim_watch(job.database_url, watch, ("waiting",), run.id):
        return verdict.done("another delivery is acting on this commit's CI")
    if not (resumed and ci_records.has_results(job.database_url, watch.id)):
        ci_records.record_results(job.database_url, watch, decision.results, decision.blamed)
    return ACTS[decision.action](job, watch, bundle, decision)


def _reopen(job: Job, watch: WatchView) -> WatchView:
    """A re-requested check: look at the commit's CI again (the watch goes back to waiting).

    Also the way out for a watch a crashed job left `acting`: a maintainer re-runs the check.
    """
    if (
        watch.state in (*ci_records.FINAL_STATES, "acting", "expired")
        and watch.state != "superseded"
    ):
        ci_records.move(
            job.database_url, watch.id, watch.state, "waiting", finished_at=None, acting_run_id=None
        )
        if watch.check_run_id is not None:
            checks.in_progress(job.repo, watch.check_run_id, "Re-checking the repository's CI", "")
    return ci_records.watch_by_id(job.database_url, watch.id) or watch


# --- reading the CI ----------------------------------------------------------------------------


def collect(job: Job, sha: str, *, details: bool) -> list[SuiteResult]:
    """Every CI suite on `sha` but FixWurx's own: workflow runs, then other Apps' suites."""
    found = [_from_run(job, r, details) for r in actions.runs_for_commit(job.repo, sha)]
    suites = job.repo.api("GET", f"/commits/{sha}/check-suites", params={"per_page": 100}) or {}
    for suite in suites.get("check_suites", []):
        slug = str((suite.get("app") or {}).get("slug") or "")
        if slug in (job.settings.app_slug, ACTIONS_APP):
            continue  # our own check, or a suite already read as a workflow run
        if not suite.get("latest_check_runs_count"):
            continue  # GitHub makes an empty suite for every App on a push; it never finishes
        name = str((suite.get("app") or {}).get("name") or slug)
        found.append(SuiteResult("smoke", name, str(suite.get("status")), suite.get("conclusion")))
    return found


def _from_run(job: Job, run: actions.WorkflowRun, details: bool) -> SuiteResult:
    kind = "canary" if run.is_canary(job.config.canary_workflow) else "smoke"
    result = SuiteResult(kind, run.name, run.status, run.conclusion, run.html_url)
    if not (details and result.done and result.red):
        return result
    detail = actions.failure_detail(job.client, job.repo, run)
    return replace(
        result,
        failing_tests=tuple(detail.failing_tests),
        job=detail.job,
        step=detail.step,
        excerpt=detail.excerpt,
    )


def bundle_body(database_url: str, bundle_hash: str) -> dict[str, Any]:
    """The stored bundle by hash ({} when it is gone, e.g. pruned)."""
    with session_scope(database_url) as session:
        body = session.scalar(
            select(PatchBundleRecord.body).where(PatchBundleRecord.hash == bundle_hash)
        )
    return dict(body) if body else {"hash": bundle_hash}


def rows(decision: CiDecision) -> list[CiRow]:
    """The CI rows the check and the pull request body show."""
    found = []
    for suite in decision.results:
        if suite in decision.blamed:
            note = "new failure" + (
                f": {', '.join(suite.failing_tests[:5])}" if suite.failing_tests else ""
            )
        elif suite in decision.old_red:
            note = "already red on the base commit; not blamed on the fix"
        elif suite in decision.awaiting:
            note = "waiting for a maintainer's approval"
        elif suite in decision.silent:
            note = "no verdict: it neither passed nor failed"
        else:
            note = ""
        found.append(CiRow(suite.kind, suite.name, conclusion_text(suite), note, suite.url))
    return found


# --- acting ------------------------------------------------------------------------------------


def _finish_check(job: Job, watch: WatchView, conclusion: str, title: str, text: str) -> None:
    if watch.check_run_id is None:
        return
    try:
        checks.complete(job.repo, watch.check_run_id, conclusion, title, text)
    except GitHubError as exc:
        if exc.retryable:
            raise
        log.warning("run %s: could not complete the FixWurx check: %s", job.run.id, exc)


def _success(job: Job, watch: WatchView, bundle: dict[str, Any], decision: CiDecision) -> Verdict:
    table = rows(decision)
    text = checks.summary(bundle, decision.reason, table)
    _finish_check(job, watch, "success", "Sandbox and the repository's CI agree", text)
    _update_body(job, watch, bundle, table)
    ready = job.config.ready_when_green and watch.pr_number is not None and _mark_ready(job, watch)
    ci_records.move(job.database_url, watch.id, "acting", "success", reason=decision.reason)
    tail = "; marked ready for review" if ready else ""
    return verdict.done(f"CI green on {watch.head_sha[:12]}{tail}")


def _mark_ready(job: Job, watch: WatchView) -> bool:
    """Mark the draft ready for review; False (with a log line) when GitHub refuses."""
    assert watch.pr_number is not None
    try:
        node = job.repo.pull_node_id(watch.pr_number)
        job.client.graphql(READY_MUTATION, {"id": node})
    except GitHubError as exc:
        if exc.retryable:
            raise
        log.warning("run %s: could not mark #%s ready: %s", job.run.id, watch.pr_number, exc)
        return False
    return True


def _update_body(job: Job, watch: WatchView, bundle: dict[str, Any], table: list[CiRow]) -> None:
    """The pull request body's evidence gains the CI rows (and the lineage of revisions)."""
    if watch.pr_number is None or "diff" not in bundle:
        return
    pull = job.repo.pull(watch.pr_number)
    note = "## CI evidence\n" + checks.ci_table(table) + lineage_note(job, watch, "success")
    if render.bundle_hash_in(pull.body) != watch.bundle_hash:
        log.info("run %s: PR #%s names another bundle now; body left", job.run.id, pull.number)
        return
    job.repo.edit_pull(watch.pr_number, None, render.pr_body(bundle, watch.issue_number, note=note))


def lineage_note(job: Job, watch: WatchView, outcome: str) -> str:
    """The fix commits of this branch, when a revision round made more than one.

    `outcome` is the state the current commit is about to be given (it is still `acting`).
    """
    chain = ci_records.lineage(job.database_url, watch.repository_id, watch.branch)
    if len(chain) < 2:
        return ""
    lines = ["", "", "## Lineage", "| round | commit | bundle | CI |", "|---|---|---|---|"]
    for item in chain:
        state = outcome if item.id == watch.id else item.state
        lines.append(
            f"| {item.revision} | `{item.head_sha[:12]}` | `{item.bundle_hash}` | {state} |"
        )
    return "\n".join(lines)


def _action_required(
    job: Job, watch: WatchView, bundle: dict[str, Any], decision: CiDecision
) -> Verdict:
    links = [f"- [{s.name}]({s.url})" if s.url else f"- {s.name}" for s in decision.awaiting]
    text = (
        "The repository's workflows on this fix wait for a maintainer's approval (GitHub asks for "
        "one on pull requests from bots in many repositories). Approve them from each run's page "
        "and re-run the `FixWurx verification` check to have FixWurx read them:\n\n"
        + "\n".join(links)
    )
    job.reply_once(text, marker=render.ci_marker("approval", watch.head_sha))
    summary = checks.summary(bundle, decision.reason, rows(decision))
    _finish_check(job, watch, "neutral", "Workflows wait for approval", summary)
    ci_records.move(job.database_url, watch.id, "acting", "neutral", reason=decision.reason)
    return verdict.done(decision.reason)


def _no_verdict(
    job: Job, watch: WatchView, bundle: dict[str, Any], decision: CiDecision
) -> Verdict:
    """A suite was cancelled, skipped, stale, neutral or has no conclusion: not a pass.

    The check ends neutral, the draft stays a draft, and one comment says which suites said
    nothing and how to have FixWurx read them again."""
    links = [
        f"- [{s.name}]({s.url}): {conclusion_text(s)}"
        if s.url
        else f"- {s.name}: {conclusion_text(s)}"
        for s in decision.silent
    ]
    text = (
        f"The repository's CI gave no verdict on this fix (commit `{watch.head_sha[:12]}`): "
        "these suites ended without passing or failing, so FixWurx cannot call the fix green "
        "and leaves the pull request a draft.\n\n"
        + "\n".join(links)
        + "\n\nRe-run them, then re-run the `FixWurx verification` check to have FixWurx "
        "read them again."
    )
    job.reply_once(text, marker=render.ci_marker("no-verdict", watch.head_sha))
    summary = checks.summary(bundle, decision.reason, rows(decision))
    _finish_check(job, watch, "neutral", "The repository's CI gave no verdict", summary)
    ci_records.move(job.database_url, watch.id, "acting", "neutral", reason=decision.reason)
    return verdict.done(decision.reason)


def _cap(job: Job, watch: WatchView, bundle: dict[str, Any], decision: CiDecision) -> Verdict:
    text = cap_comment(decision, watch)
    job.reply_once(text, marker=render.ci_marker("failed", watch.head_sha))
    summary = checks.summary(bundle, decision.reason, rows(decision))
    _finish_check(job, watch, "failure", "The repository's CI fails on this fix", summary)
    ci_records.move(job.database_url, watch.id, "acting", "failure", reason=decision.reason)
    return verdict.done(decision.reason)


def cap_comment(decision: CiDecision, watch: WatchView, rounds: int | None = None) -> str:
    """What failed and where, after the last revision round; the PR stays a draft."""
    rounds = watch.revision if rounds is None else rounds
    lines = [
        f"The repository's CI still fails on this fix (commit `{watch.head_sha[:12]}`, bundle "
        f"`{watch.bundle_hash}`), after {rounds} automatic revision round(s). "
        "The pull request stays a draft.",
        "",
    ]
    for suite in decision.blamed:
        where = " / ".join(p for p in (suite.name, suite.job, suite.step) if p)
        link = f" ([run]({suite.url}))" if suite.url else ""
        lines.append(f"- **{where}**: {suite.conclusion}{link}")
        lines += [f"  - `{t}`" for t in suite.failing_tests[:10]]
    excerpt = next((s.excerpt for s in decision.blamed if s.excerpt), "")
    if excerpt:
        lines += [
            "",
            "<details><summary>Log excerpt</summary>",
            "",
            "```text",
            excerpt,
            "```",
            "</details>",
        ]
    lines += ["", "`/fixwurx revise <instructions>` tries again with your guidance."]
    return "\n".join(lines)


def _revise(job: Job, watch: WatchView, bundle: dict[str, Any], decision: CiDecision) -> Verdict:
    summary = checks.summary(bundle, decision.reason, rows(decision))
    _finish_check(job, watch, "failure", "New CI failures; FixWurx is revising the fix", summary)
    ci_records.move(job.database_url, watch.id, "acting", "superseded", reason=decision.reason)
    instructions = feedback(watch.bundle_hash, decision.blamed)
    lineage = Lineage(parent_bundle_hash=watch.bundle_hash, revision=watch.revision + 1)
    failing = tuple(dict.fromkeys(t for s in decision.blamed for t in s.failing_tests))
    pr_number = watch.pr_number
    ended = fixing.revise_after_ci(
        job, pr_number, watch.base_sha, instructions, lineage, ci_failing=failing
    )
    if ended.outcome != "fixed" and pr_number is not None:
        # The revision found no verified fix: that is the cap too. Say so on the pull request.
        text = (
            cap_comment(decision, watch, watch.revision + 1)
            + f"\n\nThe revision round found no fix: {ended.reason}"
        )
        _comment_once(job, pr_number, text, render.ci_marker("failed", watch.head_sha))
    return ended


def _comment_once(job: Job, number: int, body: str, marker: str) -> None:
    """One comment carrying `marker` on conversation `number` (the job may answer elsewhere)."""
    if any(marker in c.body for c in job.repo.comments(number)):
        return
    job.repo.comment(number, f"{marker}\n{body}")


def _timeout(job: Job, watch: WatchView, bundle: dict[str, Any]) -> Verdict:
    if not ci_records.claim_watch(job.database_url, watch, ("expired", "waiting"), job.run.id):
        return verdict.done("CI on this commit was decided meanwhile")
    minutes = job.config.ci_timeout_minutes
    reason = f"no CI result within {minutes} minutes (`ci_timeout_minutes`)"
    partial = collect(job, watch.head_sha, details=False)
    table = rows(CiDecision("pending", reason, results=tuple(partial)))
    _finish_check(
        job, watch, "neutral", "No CI result in time", checks.summary(bundle, reason, table)
    )
    ci_records.move(
        job.database_url, watch.id, "acting", "neutral", reason=reason, finished_at=utcnow()
    )
    return verdict.done(reason)


ACTS = {
    "success": _success,
    "action_required": _action_required,
    "no_verdict": _no_verdict,
    "cap": _cap,
    "revise": _revise,
}
