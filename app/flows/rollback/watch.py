"""A failing check on the default branch: is it a merged FixWurx fix's fault, and if so, undo it.

Called for every "ci" run before any forward repair. When the failing commit is on the default
branch inside the watch window of one or more merged fixes (newest first), FixWurx attributes
the failure (app/flows/rollback/attribute.py), records one decision for the commit before any
GitHub call, and then acts on it as the repo config says: a revert pull request (`propose`),
the same with auto-merge (`auto`), a comment with the evidence on the merged pull request
(`off`), or nothing but the recorded decision (`shadow`). A failure that is not the fix's
fault goes on to the forward repair (when `auto_fix_ci` is on); the decision records why the
fix was not blamed. A fix that reached the failing commit off the first-parent line (merged
into a branch the default branch merged later) gets a decision and a comment saying it cannot
be judged.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from app import runs
from app.flows import fixing
from app.flows.job import Job
from app.flows.rollback import decisions, guards, history, render
from app.flows.rollback.attribute import attribute
from app.flows.rollback.bisect import CommitTests
from app.flows.rollback.decisions import Decision, MergedFix
from app.flows.rollback.named import named_failures
from app.flows.rollback.revert import checks_url, open_revert
from app.github import git
from app.models import utcnow
from app.runs import verdict
from app.runs.verdict import Verdict

log = logging.getLogger(__name__)


#: The verdict of a fix that reached the failing commit off the first-parent line.
UNJUDGED = "unjudged"


def off_line(fix: MergedFix, red: str) -> str:
    """Why a fix merged off the first-parent line cannot be judged."""
    return (
        f"#{fix.number} (merge {fix.merge_sha[:12]}) reached {red[:12]} only through a branch "
        "merged later (a release branch, for example), not on the default branch's "
        "first-parent line, so there is no window of commits to probe and bisect"
    )


def consider(job: Job) -> Verdict | None:
    """The rollback decision for a failing default-branch commit; None: not a rollback matter
    (or the fix was not to blame and a forward repair may follow)."""
    run = job.run
    if job.config_state.error or not run.head_sha or run.branch != job.repo.default_branch:
        return None
    existing = decisions.for_commit(job.database_url, run.repository_id, run.head_sha)
    if existing is not None:
        return _resume(job, existing)
    since = utcnow() - guards.window(job.config)
    watched = decisions.merged_fixes(job.database_url, run.repository_id, since)
    if not watched:
        return None
    job.stage("rollback", "running", f"checking {len(watched)} merged fix(es)", force=True)
    with tempfile.TemporaryDirectory(prefix="fixwurx-rollback-") as tmp:
        checkout = Path(tmp) / "repo"
        git.clone(job.repo.clone_url, job.token(), checkout, branch=job.repo.default_branch)
        if not history.has(checkout, run.head_sha):
            return None
        decided = _decide(job, checkout, watched)
    if decided is None:
        return None
    return _resume(job, decided)


def _decide(job: Job, checkout: Path, watched: list[MergedFix]) -> Decision | None:
    """Attribute against each watched fix (newest first) and record the decision."""
    run = job.run
    assert run.head_sha is not None
    environment = fixing.environment_request(job)
    runner = CommitTests(checkout, job.config.test_command, job.config.timeout_seconds, environment)
    try:
        return _attribute_each(job, checkout, watched, runner)
    finally:
        runner.close()


def _attribute_each(
    job: Job, checkout: Path, watched: list[MergedFix], runner: CommitTests
) -> Decision | None:
    run = job.run
    assert run.head_sha is not None
    chosen: tuple[MergedFix, str, str, dict[str, object]] | None = None
    red = run.head_sha
    named = named_failures(job.client, job.repo, run.head_sha)
    reused = _reuse(job, checkout, named)
    if reused is not None:
        return reused
    for fix in watched:
        since = history.commits_since(checkout, fix.merge_sha, run.head_sha)
        labels = job.repo.issue(fix.number).labels
        refusal = guards.before_attribution(job.config, fix, labels, since)
        if refusal is not None:
            log.info("rollback of #%s not considered: %s", fix.number, refusal)
            if since is not None and chosen is None:
                chosen = (fix, "refused", refusal, {})
            elif chosen is None and since is None and _judgeable(fix, labels, checkout, red):
                chosen = (fix, UNJUDGED, off_line(fix, red), {"red_sha": red})
            continue
        found = attribute(runner, checkout, fix.merge_sha, run.head_sha, named)
        log.info("rollback attribution of #%s at %s: %s", fix.number, run.head_sha[:12], found)
        if found.blamed:
            chosen = (fix, "blamed", found.reason, found.to_json())
            break
        if chosen is None or chosen[1] == "refused":
            chosen = (fix, "not_blamed", found.reason, found.to_json())
    if chosen is None:
        return None
    fix, said, reason, evidence = chosen
    # A blamed fix is acted on; an unjudged one gets a comment saying why: both are pending.
    action = "pending" if said in ("blamed", UNJUDGED) else "none"
    recorded = decisions.record(
        job.database_url,
        run.repository_id,
        fix,
        run.head_sha,
        run.id,
        verdict=said,
        action=action,
        reason=reason,
        evidence=evidence,
    )
    # Lost the race to another worker: `_resume` sees its decision and leaves it to that run.
    return recorded or decisions.for_commit(job.database_url, run.repository_id, run.head_sha)


def _reuse(job: Job, checkout: Path, named: tuple[str, ...]) -> Decision | None:
    """One attribution covers a run of red commits: a later red commit on the same
    first-parent line whose CI names no test outside an earlier decision's failing tests
    gets that decision again (recorded for this commit, no test run). Without names from CI
    nothing is known about the new commit's failures, so it is attributed afresh."""
    run = job.run
    assert run.head_sha is not None
    if not named:
        return None
    since = utcnow() - guards.window(job.config)
    for earlier in decisions.earlier(job.database_url, run.repository_id, since):
        failing = set(earlier.evidence.get("failing_tests") or ())
        if not failing or not set(named) <= failing:
            continue
        if history.commits_since(checkout, earlier.failing_sha, run.head_sha) is None:
            continue
        fix = decisions.merged_pull(job.database_url, run.repository_id, earlier.pr_number)
        if fix is None:
            continue
        reason = (
            f"the same failing tests as {earlier.failing_sha[:12]}, decided there: {earlier.reason}"
        )
        evidence = {
            "reused_from": earlier.id,
            "red_sha": run.head_sha,
            "failing_tests": list(named),
            "test_runs": 0,
        }
        recorded = decisions.record(
            job.database_url,
            run.repository_id,
            fix,
            run.head_sha,
            run.id,
            verdict=earlier.verdict,
            action="reused",
            reason=reason,
            evidence=evidence,
        )
        return recorded or decisions.for_commit(job.database_url, run.repository_id, run.head_sha)
    return None


def _judgeable(fix: MergedFix, labels: tuple[str, ...], checkout: Path, red: str) -> bool:
    """A fix not opted out that reached `red` off the first-parent line: it deserves a word."""
    opted_out = guards.NO_ROLLBACK_LABEL in {label.casefold() for label in labels}
    return (
        fix.kind == "fix"
        and not opted_out
        and history.off_first_parent(checkout, fix.merge_sha, red)
    )


def _resume(job: Job, decision: Decision) -> Verdict | None:
    """A decision already exists: finish it if it is pending, else report it once more."""
    if decision.action == "pending":
        owner = decision.run_id
        if owner not in (None, job.run.id) and _alive(job, owner):
            return verdict.done(f"run {owner} is acting on the decision for this commit")
        return _act(job, decision)
    if decision.blamed:
        return verdict.done(f"already decided for {decision.failing_sha[:12]}: {decision.reason}")
    return _not_blamed(job, decision)


def _alive(job: Job, run_id: int) -> bool:
    """Whether run `run_id` may still finish what it started (a dead one's is taken over)."""
    return runs.status_of(job.database_url, run_id) in runs.STOPPABLE_STATUSES


def _act(job: Job, decision: Decision) -> Verdict | None:
    if decision.verdict == UNJUDGED:
        if job.config.rollback != "shadow":
            _comment(job, decision, f"FixWurx cannot judge this fix: {decision.reason}.")
        decisions.set_action(job.database_url, decision.id, "commented")
        return _not_blamed(job, decision)
    if not decision.blamed:
        return _not_blamed(job, decision)
    fix = decisions.merged_pull(job.database_url, job.run.repository_id, decision.pr_number)
    assert fix is not None  # the decision was made about it
    mode = job.config.rollback
    if mode == "shadow":
        note = "`rollback: shadow` records decisions and acts on none"
        decisions.set_action(
            job.database_url, decision.id, "shadow", reason=f"{decision.reason}; no revert: {note}"
        )
        return verdict.done(f"#{fix.number} is to blame; no revert: {note}")
    refusal = guards.before_acting(job.database_url, job.run.repository_id, job.config, fix)
    if refusal is None and mode != "off":
        reverted = open_revert(job, fix, decision.evidence, auto=mode == "auto")
        decisions.set_action(job.database_url, decision.id, "revert_pr", revert_pr=reverted.number)
        job.stage("rollback", "done", f"revert pull request #{reverted.number}")
        return verdict.done(
            f"rolled back #{fix.number}: revert pull request #{reverted.number} ({decision.reason})"
        )
    note = refusal or "`rollback: off`, so FixWurx opens no revert"
    _comment(job, decision, f"this fix broke the default branch; {note}.")
    decisions.set_action(
        job.database_url, decision.id, "commented", reason=f"{decision.reason}; no revert: {note}"
    )
    return verdict.done(f"#{fix.number} is to blame; no revert: {note}")


def _not_blamed(job: Job, decision: Decision) -> Verdict | None:
    """Not the fix's fault: a forward repair may follow when `auto_fix_ci` is on."""
    if job.config.auto_fix_ci:
        return None
    return verdict.done(f"no rollback of #{decision.pr_number}: {decision.reason}")


def _comment(job: Job, decision: Decision, note: str) -> None:
    marker = render.MARKER.format(sha=decision.failing_sha)
    if any(marker in c.body for c in job.repo.comments(decision.pr_number)):
        return
    red = str(decision.evidence.get("red_sha") or decision.failing_sha)
    body = render.evidence_comment(
        decision.failing_sha, decision.pr_number, decision.evidence, checks_url(job, red), note
    )
    job.repo.comment(decision.pr_number, body)
