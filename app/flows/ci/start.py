"""Right after a fix commit is pushed: its check run, the canary dispatch, and the CI watch.

Called by the fix flow right after the push, before it opens the pull request (so the pull
request is recorded the moment it exists, with the watch). Each step is best effort in its own way:
an installation that has not accepted the new `checks: write` or `actions: write` permissions
gets no check or no canary (a log line says why) but still gets its pull request and the read-
back of its normal CI; the watch row, with the sweeper's deadline, is always written: by the
fix flow, in the same session as its pull request (`records.record_pull(watch=...)`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.errors import GitHubError
from app.flows.ci import checks
from app.flows.job import Job
from app.github import actions
from app.models import utcnow

log = logging.getLogger(__name__)

#: The check's title while the repository's CI runs.
WAITING_TITLE = "Verified in the sandbox; waiting for the repository's CI"
#: The canary's input with the reproducing tests: a JSON array of pytest node ids, so an id
#: with spaces or brackets arrives whole, and a list is never cut in the middle of an id.
TESTS_INPUT = "tests_json"
#: Characters of that JSON at most: GitHub refuses a dispatch whose inputs pass 65,535; the
#: ids that do not fit are left out whole (the canary's whole-suite step still runs them).
MAX_TESTS_JSON = 60_000
#: The input canary workflows committed from the first template declare (space-separated ids,
#: at most 1,000 characters): used only when GitHub says the workflow has no `tests_json`.
LEGACY_INPUT = "tests"
LEGACY_MAX = 1000


@dataclass(frozen=True)
class Lineage:
    """Where a pushed fix stands among the branch's fixes: its parent bundle and its round."""

    parent_bundle_hash: str | None = None
    revision: int = 0


def start_watch(
    job: Job,
    *,
    head_sha: str,
    bundle: Mapping[str, Any],
    branch: str,
    lineage: Lineage,
) -> dict[str, Any]:
    """Create the check and dispatch the canary; returns the watch row's fields (with its
    deadline; the caller adds `pr_number`) for the caller to write with the pull request."""
    check_id = _create_check(job, head_sha, bundle)
    dispatched = _dispatch_canary(job, branch, bundle)
    minutes = job.config.ci_timeout_minutes
    watch: dict[str, Any] = dict(
        repository_id=job.run.repository_id,
        run_id=job.run.id,
        issue_number=job.run.issue_number,
        branch=branch,
        head_sha=head_sha,
        base_sha=str(bundle.get("base_commit") or ""),
        bundle_hash=str(bundle["hash"]),
        parent_bundle_hash=lineage.parent_bundle_hash,
        revision=lineage.revision,
        check_run_id=check_id,
        canary_run_id=dispatched.run_id if dispatched else None,
        canary_nonce=dispatched.nonce if dispatched else None,
        state="waiting",
        deadline=utcnow() + dt.timedelta(minutes=minutes),
    )
    log.info(
        "run %s: watching CI on %s at %s (check %s, canary %s, %s min)",
        job.run.id,
        branch,
        head_sha[:12],
        check_id,
        dispatched.run_id if dispatched else "none",
        minutes,
    )
    return watch


def _create_check(job: Job, head_sha: str, bundle: Mapping[str, Any]) -> int | None:
    try:
        return checks.create(job.repo, head_sha, bundle, WAITING_TITLE)
    except GitHubError as exc:
        if exc.retryable:
            raise
        log.warning("run %s: could not create the FixWurx check: %s", job.run.id, exc)
        return None


def canary_tests(bundle: Mapping[str, Any]) -> list[str]:
    """The reproducing test ids of a bundle, in order, once each."""
    evidence = bundle.get("evidence") or {}
    found = [str(t.get("test")) for t in evidence.get("before") or [] if t.get("test")]
    return list(dict.fromkeys(found))


def canary_inputs(bundle: Mapping[str, Any]) -> dict[str, str]:
    """The canary's inputs: the reproducing test ids as JSON (run first) and the bundle hash."""
    kept: list[str] = []
    for test in canary_tests(bundle):
        if len(json.dumps([*kept, test])) > MAX_TESTS_JSON:
            break
        kept.append(test)
    return {TESTS_INPUT: json.dumps(kept), "bundle": str(bundle.get("hash") or "")}


def legacy_inputs(bundle: Mapping[str, Any]) -> dict[str, str]:
    """The inputs of a canary committed from the first template: space-separated ids.

    Whole ids only, and none with a space (the workflow splits on spaces)."""
    kept: list[str] = []
    for test in canary_tests(bundle):
        if any(c.isspace() for c in test):
            continue
        if len(" ".join([*kept, test])) > LEGACY_MAX:
            break
        kept.append(test)
    return {LEGACY_INPUT: " ".join(kept), "bundle": str(bundle.get("hash") or "")}


def _unexpected_inputs(exc: GitHubError) -> bool:
    """GitHub's answer to a dispatch naming an input the workflow does not declare."""
    return exc.status == 422 and "unexpected inputs" in str(exc).lower()


def _dispatch_canary(job: Job, branch: str, bundle: Mapping[str, Any]) -> actions.Dispatched | None:
    workflow = job.config.canary_workflow
    try:
        if not actions.workflow_exists(job.repo, workflow):
            log.info("run %s: no %s workflow; smoke CI only", job.run.id, workflow)
            return None
        nonce = actions.new_nonce()
        try:
            return actions.dispatch(job.repo, workflow, branch, canary_inputs(bundle), nonce)
        except GitHubError as exc:
            if not _unexpected_inputs(exc):
                raise
            log.warning(
                "run %s: %s has no `%s` input (an old template; `fixwurx workflow canary` "
                "prints the new one); dispatching with `%s`",
                job.run.id,
                workflow,
                TESTS_INPUT,
                LEGACY_INPUT,
            )
            return actions.dispatch(job.repo, workflow, branch, legacy_inputs(bundle), nonce)
    except GitHubError as exc:
        if exc.retryable:
            raise
        log.warning("run %s: could not dispatch the canary %s: %s", job.run.id, workflow, exc)
        return None
