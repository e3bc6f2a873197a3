"""What the GitHub flow reads and writes in the database, as small functions on ids.

Every guard the flow applies (attempts, cooldown, one PR per issue, attempts per commit) is a
question to these tables, so a re-run job or a second worker sees the same answers. A flow asks
them together: `load_snapshot` reads the run, its repository and the guards' facts in one
session, and `record_pull` writes the pull request, its CI watch and the audit line in one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import command_table, runs
from app.db import session_scope
from app.errors import BadInput
from app.flows.ci import records as ci_records
from app.models import (
    AuditLog,
    PatchBundleRecord,
    PullRequest,
    Repository,
    Run,
    aware,
    utcnow,
)

#: Commands that spend a repair attempt on an issue (the table's `spends_attempt` commands).
FIXING_COMMANDS = command_table.SPENDS_ATTEMPT
#: Statuses of a run that actually tried (as opposed to one refused or skipped).
TRIED_STATUSES = ("fixed", "not_fixed", "failed")


@dataclass(frozen=True)
class RunView:
    """A run and its repository, detached from the session."""

    id: int
    kind: str
    trigger: str
    issue_number: int | None
    pr_number: int | None
    command: str | None
    command_args: str | None
    head_sha: str | None
    branch: str | None
    requested_by: str | None
    status: str
    status_comment_id: int | None
    repository_id: int
    full_name: str
    installation_id: int


@dataclass(frozen=True)
class GuardFacts:
    """What the fix guards ask the database about one conversation, read together."""

    issue_number: int | None
    #: FixWurx's recorded open pull requests in the repository, by head branch.
    open_pulls: Mapping[str, int]
    #: The pull request this run itself opened, if it opened one (a resumed run finds its own).
    opened_by_run: int | None
    #: Earlier runs on this issue that tried a repair, and when the latest of them finished.
    tried: int
    last_tried_at: dt.datetime | None
    #: CI runs on the same commit that count against the per-commit cap.
    ci_attempts: int


@dataclass(frozen=True)
class RunSnapshot:
    """What a flow's decisions need from the database, read in one session (`load_snapshot`)."""

    run: RunView
    #: The repository's stored trigger label and config error (written again only on change).
    trigger_label: str | None
    config_error: str | None
    facts: GuardFacts
    #: How often the sweeper resumed the run, and the chain state it left (read, never written,
    #: here: `app.runs` owns both).
    resumes: int = 0
    saved_state: dict[str, Any] | None = None


def load_run(database_url: str, run_id: int) -> RunView:
    """The run with its repository; BadInput when either is missing."""
    with session_scope(database_url) as session:
        return _run_view(session, run_id)[0]


def load_snapshot(database_url: str, run_id: int) -> RunSnapshot:
    """The run, its repository and the guards' facts, in one session."""
    with session_scope(database_url) as session:
        view, repo, run = _run_view(session, run_id)
        return RunSnapshot(
            run=view,
            trigger_label=repo.trigger_label,
            config_error=repo.config_error,
            facts=_guard_facts(session, view),
            resumes=int(run.resumes or 0),
            saved_state=dict(run.state) if run.resumes and run.state else None,
        )


def guard_facts(database_url: str, run: RunView) -> GuardFacts:
    """The guards' facts for `run` as it stands now (a retargeted command), in one session."""
    with session_scope(database_url) as session:
        return _guard_facts(session, run)


def _run_view(session: Session, run_id: int) -> tuple[RunView, Repository, Run]:
    run = session.get(Run, run_id)
    if run is None:
        raise BadInput(f"run {run_id} does not exist")
    repo = session.get(Repository, run.repository_id) if run.repository_id else None
    if repo is None:
        raise BadInput(f"run {run_id} names no known repository ({run.repository_id})")
    view = RunView(
        id=run.id,
        kind=run.kind,
        trigger=run.trigger,
        issue_number=run.issue_number,
        pr_number=run.pr_number,
        command=run.command,
        command_args=run.command_args,
        head_sha=run.head_sha,
        branch=run.branch,
        requested_by=run.requested_by,
        status=run.status,
        status_comment_id=run.status_comment_id,
        repository_id=repo.id,
        full_name=repo.full_name,
        installation_id=repo.installation_id,
    )
    return view, repo, run


def _guard_facts(session: Session, run: RunView) -> GuardFacts:
    open_pulls: dict[str, int] = {}
    for branch, number in session.execute(
        select(PullRequest.branch, PullRequest.number)
        .where(PullRequest.repository_id == run.repository_id, PullRequest.state == "open")
        .order_by(PullRequest.id)
    ):
        open_pulls.setdefault(branch, number)
    return GuardFacts(
        issue_number=run.issue_number,
        open_pulls=open_pulls,
        opened_by_run=_pull_opened_by(session, run),
        tried=_tried_count(session, run),
        last_tried_at=_last_tried_at(session, run),
        ci_attempts=_ci_attempts(session, run) if run.kind in ("ci", "command") else 0,
    )


def set_status_comment(database_url: str, run_id: int, comment_id: int) -> None:
    """Remember the run's status comment (the flow's own column: not status, stage or state)."""
    with session_scope(database_url) as session:
        session.execute(update(Run).where(Run.id == run_id).values(status_comment_id=comment_id))


def _fixing_runs(run: RunView) -> Any:
    fixing = (Run.kind == "issue") | ((Run.kind == "command") & Run.command.in_(FIXING_COMMANDS))
    return select(Run).where(
        Run.repository_id == run.repository_id,
        Run.issue_number == run.issue_number,
        Run.id != run.id,
        fixing,
    )


def tried_count(database_url: str, run: RunView) -> int:
    """How many earlier runs on this issue actually tried a repair."""
    with session_scope(database_url) as session:
        return _tried_count(session, run)


def _tried_count(session: Session, run: RunView) -> int:
    query = _fixing_runs(run).where(Run.status.in_(TRIED_STATUSES))
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def last_tried_at(database_url: str, run: RunView) -> dt.datetime | None:
    """When the latest earlier repair of this issue finished."""
    with session_scope(database_url) as session:
        return _last_tried_at(session, run)


def _last_tried_at(session: Session, run: RunView) -> dt.datetime | None:
    tried = _fixing_runs(run).where(Run.status.in_(TRIED_STATUSES)).subquery()
    return aware(session.scalar(select(func.max(tried.c.finished_at))))


def ci_attempts(database_url: str, run: RunView) -> int:
    """CI runs on the same commit that count against the per-commit cap: earlier ones that
    tried, and earlier ones still queued or running.

    Counting only finished runs let two check suites of one commit start two repairs at once
    (each run saw the other still `running`). Counting live runs both ways would make both
    refuse; counting live runs with a smaller id breaks the tie: the first run goes on, the
    second sees it and stops. A first run that is later refused for another reason ends
    `done`, which does not count, so a third event for the commit may still try.
    """
    with session_scope(database_url) as session:
        return _ci_attempts(session, run)


def _ci_attempts(session: Session, run: RunView) -> int:
    live = Run.status.in_(runs.STOPPABLE_STATUSES) & (Run.id < run.id)
    return int(
        session.scalar(
            select(func.count()).where(
                Run.repository_id == run.repository_id,
                Run.kind == "ci",
                Run.head_sha == run.head_sha,
                Run.id != run.id,
                Run.status.in_(TRIED_STATUSES) | live,
            )
        )
        or 0
    )


def open_pull_for_branch(database_url: str, repository_id: int, branch: str) -> int | None:
    """The number of FixWurx's recorded open PR from `branch`, if any."""
    with session_scope(database_url) as session:
        return session.scalar(
            select(PullRequest.number).where(
                PullRequest.repository_id == repository_id,
                PullRequest.branch == branch,
                PullRequest.state == "open",
            )
        )


def pull_opened_by(database_url: str, run: RunView) -> int | None:
    """The number of the pull request this run itself opened, if it opened one."""
    with session_scope(database_url) as session:
        return _pull_opened_by(session, run)


def _pull_opened_by(session: Session, run: RunView) -> int | None:
    return session.scalar(
        select(PullRequest.number).where(
            PullRequest.repository_id == run.repository_id, PullRequest.run_id == run.id
        )
    )


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log, written with the change it describes."""

    actor: str
    action: str
    detail: Mapping[str, Any]


def record_pull(
    database_url: str,
    run: RunView,
    number: int,
    branch: str,
    base: str,
    bundle_hash: str | None,
    kind: str,
    *,
    watch: Mapping[str, Any] | None = None,
    audit: AuditEntry | None = None,
) -> None:
    """Remember a PR FixWurx opened (idempotent on repository + number), with the CI watch of
    its commit and the audit line when given: what one publication decided, in one session.

    A later run that pushes a new bundle to the same PR (retry, revise) records that bundle's
    hash, so `explain` on the issue finds the bundle the PR carries now.
    """
    with session_scope(database_url) as session:
        exists = session.scalar(
            select(PullRequest).where(
                PullRequest.repository_id == run.repository_id, PullRequest.number == number
            )
        )
        if exists is not None and bundle_hash is not None:
            exists.bundle_hash = bundle_hash
        if exists is None:
            session.add(
                PullRequest(
                    repository_id=run.repository_id,
                    number=number,
                    run_id=run.id,
                    issue_number=run.issue_number,
                    branch=branch,
                    base_branch=base,
                    bundle_hash=bundle_hash,
                    kind=kind,
                )
            )
        if watch is not None:
            ci_records.add_watch(session, **watch)
        if audit is not None:
            _audit(session, run, audit.actor, audit.action, **audit.detail)


def mark_merged(database_url: str, repository_id: int, number: int, merge_sha: str | None) -> bool:
    """Record that a FixWurx PR was merged; False when it is not one of ours."""
    with session_scope(database_url) as session:
        result = session.execute(
            update(PullRequest)
            .where(PullRequest.repository_id == repository_id, PullRequest.number == number)
            .values(state="merged", merge_sha=merge_sha, merged_at=dt.datetime.now(dt.UTC))
        )
        return bool(getattr(result, "rowcount", 0))


def merged_fix_for_issue(
    database_url: str, repository_id: int, issue: int
) -> tuple[int, str] | None:
    """(PR number, merge sha) of the latest merged FixWurx fix for an issue."""
    with session_scope(database_url) as session:
        row = session.execute(
            select(PullRequest.number, PullRequest.merge_sha)
            .where(
                PullRequest.repository_id == repository_id,
                PullRequest.issue_number == issue,
                PullRequest.state == "merged",
                PullRequest.kind == "fix",
            )
            .order_by(PullRequest.id.desc())
        ).first()
    return (int(row[0]), str(row[1])) if row and row[1] else None


def save_bundle(database_url: str, run_id: int, body: dict[str, Any]) -> str | None:
    """Store a bundle by hash (a re-run that finds the same fix stores nothing new).

    Returns the run's status as this write saw it: the fix flow's last look before the push,
    in the same session.
    """
    with session_scope(database_url) as session:
        found = session.scalar(
            select(PatchBundleRecord.id).where(PatchBundleRecord.hash == body["hash"])
        )
        if found is None:
            session.add(PatchBundleRecord(run_id=run_id, hash=body["hash"], body=body))
        return session.scalar(select(Run.status).where(Run.id == run_id))


def latest_bundle(database_url: str, run: RunView) -> dict[str, Any] | None:
    """The newest bundle produced for this conversation (for `explain`).

    On an issue: the bundles of its runs and of the pull requests recorded for it. On a pull
    request: the bundles of runs asked for on that pull request only. The comparison is never
    made on a missing number (SQL's `IS NULL` would match every other conversation's runs).
    """
    if run.issue_number is not None:
        ours = select(PullRequest.bundle_hash).where(
            PullRequest.repository_id == run.repository_id,
            PullRequest.issue_number == run.issue_number,
            PullRequest.bundle_hash.is_not(None),
        )
        where: Any = (Run.issue_number == run.issue_number) | PatchBundleRecord.hash.in_(ours)
    elif run.pr_number is not None:
        where = Run.pr_number == run.pr_number
    else:
        return None
    with session_scope(database_url) as session:
        body = session.scalar(
            select(PatchBundleRecord.body)
            .join(Run, Run.id == PatchBundleRecord.run_id)
            .where(Run.repository_id == run.repository_id, where)
            .order_by(PatchBundleRecord.id.desc())
        )
    return dict(body) if body else None


def bundle_by_hash(
    database_url: str, repository_id: int, bundle_hash: str
) -> dict[str, Any] | None:
    """A stored bundle of this repository by its hash (the one a pull request body names)."""
    with session_scope(database_url) as session:
        body = session.scalar(
            select(PatchBundleRecord.body)
            .join(Run, Run.id == PatchBundleRecord.run_id)
            .where(Run.repository_id == repository_id, PatchBundleRecord.hash == bundle_hash)
        )
    return dict(body) if body else None


def latest_other_run(database_url: str, run: RunView) -> dict[str, Any] | None:
    """The newest other run on this issue or PR, as plain data (for `status`)."""
    with session_scope(database_url) as session:
        found = session.scalars(
            select(Run)
            .where(
                Run.repository_id == run.repository_id,
                Run.issue_number == run.issue_number,
                Run.pr_number == run.pr_number,
                Run.id != run.id,
                Run.kind != "command",
            )
            .order_by(Run.id.desc())
        ).first()
        if found is None:
            found = session.scalars(
                _fixing_runs(run).where(Run.pr_number == run.pr_number).order_by(Run.id.desc())
            ).first()
        if found is None:
            return None
        return {
            "id": found.id,
            "status": found.status,
            "stage": found.stage,
            "reason": found.reason,
        }


def stop_runs(database_url: str, run: RunView, actor: str) -> list[int]:
    """Stop queued or running repairs of this issue (through `app.runs`); the job notices."""
    live = runs.STOPPABLE_STATUSES
    with session_scope(database_url) as session:
        ids = list(
            session.scalars(
                _fixing_runs(run)
                .where(Run.status.in_(live), Run.pr_number == run.pr_number)
                .with_only_columns(Run.id)
            )
        )
        ids += list(
            session.scalars(
                select(Run.id).where(
                    Run.repository_id == run.repository_id,
                    Run.kind == "ci",
                    Run.pr_number == run.pr_number,
                    Run.pr_number.is_not(None),
                    Run.status.in_(live),
                )
            )
        )
    return runs.stop(database_url, ids, f"stopped by @{actor}")


def audit(database_url: str, run: RunView, actor: str, action: str, **detail: Any) -> None:
    """Append who asked FixWurx to do what, and what it did."""
    with session_scope(database_url) as session:
        _audit(session, run, actor, action, **detail)


def _audit(session: Session, run: RunView, actor: str, action: str, **detail: Any) -> None:
    session.add(
        AuditLog(
            actor=actor,
            action=action,
            repository_id=run.repository_id,
            run_id=run.id,
            detail=detail,
        )
    )


def remember_trigger_label(database_url: str, repository_id: int | None, label: str) -> None:
    """Store the configured trigger label so the web tier can filter label events by it."""
    if repository_id is None:
        return
    with session_scope(database_url) as session:
        repository = session.get(Repository, repository_id)
        if repository is not None and repository.trigger_label != label:
            repository.trigger_label = label


#: Longest config error stored (the validator's message names the bad key; the file is the
#: repository's, so the text is bounded before it reaches the database).
CONFIG_ERROR_CHARS = 2000


def remember_config_error(database_url: str, repository_id: int | None, error: str | None) -> None:
    """Store why the repo config was rejected (or clear it: `error` None after a good read),
    so the operator's repositories page shows the config error as of the last read."""
    if repository_id is None:
        return
    with session_scope(database_url) as session:
        repository = session.get(Repository, repository_id)
        if repository is not None:
            _set_config_error(repository, error)


def remember_config(
    database_url: str, repository_id: int | None, label: str, error: str | None
) -> None:
    """Both facts of one config read (trigger label, config error), in one session."""
    if repository_id is None:
        return
    with session_scope(database_url) as session:
        repository = session.get(Repository, repository_id)
        if repository is None:
            return
        if repository.trigger_label != label:
            repository.trigger_label = label
        _set_config_error(repository, error)


def _set_config_error(repository: Repository, error: str | None) -> None:
    error = error[:CONFIG_ERROR_CHARS] if error else None
    if repository.config_error == error:
        return
    repository.config_error = error
    repository.config_error_at = utcnow() if error else None
