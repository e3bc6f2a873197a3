"""The tables. One run per trigger; the run tree is run -> attempts -> candidates.

Every table works on SQLite (the embedded default) and PostgreSQL (production); types are the
portable subset (`JSON`, `BigInteger`, timezone-aware `DateTime`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, overload

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    """Timezone-aware now, the only clock the tables use."""
    return dt.datetime.now(dt.UTC)


@overload
def aware(moment: dt.datetime) -> dt.datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A time read back from the tables, timezone-aware: SQLite returns naive datetimes (in
    UTC, as they were written); PostgreSQL's are aware already. The one place this is fixed."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    """Declarative base; naming conventions keep Alembic's constraint names stable."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


Base.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Timestamp = DateTime(timezone=True)

#: The kind of a run `fixwurx fix` started. It runs in the CLI's own process and never has a
#: queue job, so the sweeper leaves it alone (its `owner` process finishes it), and the
#: dashboard keeps it out of the App's rates and failure list unless asked.
CLI_KIND = "cli"


class Installation(Base):
    """A GitHub App installation (an account that installed FixWurx)."""

    __tablename__ = "installations"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_login: Mapped[str] = mapped_column(String(255))
    account_type: Mapped[str] = mapped_column(String(32), default="User")
    suspended: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    repositories: Mapped[list[Repository]] = relationship(back_populates="installation")


class Repository(Base):
    """A repository FixWurx is installed on."""

    __tablename__ = "repositories"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id"), index=True)
    #: As of the last delivery or installation event; not unique (names are reused, ids are not).
    full_name: Mapped[str] = mapped_column(String(255))
    default_branch: Mapped[str] = mapped_column(String(255), default="main")
    active: Mapped[bool] = mapped_column(default=True)
    #: The repo config's trigger label as last read by a job; None until a job has read it.
    trigger_label: Mapped[str | None] = mapped_column(String(50))
    #: Why the repo config was rejected when a job last read it (None: it was valid or absent),
    #: and when; the dashboard's repositories page shows it (migration 0006_operator_records).
    config_error: Mapped[str | None] = mapped_column(Text)
    config_error_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    installation: Mapped[Installation] = relationship(back_populates="repositories")


class Delivery(Base):
    """One webhook delivery; the unique delivery id is what makes redelivery a no-op."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32), default="received")
    job_ids: Mapped[list[Any]] = mapped_column(default=list)
    received_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class Run(Base):
    """One repair run, created per trigger (label, command, failed check, CLI call)."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int | None] = mapped_column(ForeignKey("repositories.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # issue | ci | command | config | ... | cli
    trigger: Mapped[str] = mapped_column(String(64))
    issue_number: Mapped[int | None] = mapped_column(Integer)
    pr_number: Mapped[int | None] = mapped_column(Integer)
    command: Mapped[str | None] = mapped_column(String(32))
    command_args: Mapped[str | None] = mapped_column(Text)
    head_sha: Mapped[str | None] = mapped_column(String(64))
    branch: Mapped[str | None] = mapped_column(String(255))
    requested_by: Mapped[str | None] = mapped_column(String(255))
    delivery_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32), default="queued", index=True)
    stage: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    #: The repair chain's own state (the planner's `RunState` as JSON), written only through
    #: `app.runs.save_state` while the run is running; a resumed run continues from it.
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The lifecycle's bookkeeping, apart from `state` so neither side overwrites the other:
    #: how many times the sweeper resumed this run after its worker died.
    resumes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status_comment_id: Mapped[int | None] = mapped_column(BigInteger)
    #: "host:pid" of the `fixwurx fix` process running a CLI run (None for a queue run, whose
    #: owner is its RQ job): a later CLI call on that host fails the run once the process is
    #: gone (killed before it could record an end), so no CLI run stays "running" forever.
    owner: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    attempts: Mapped[list[Attempt]] = relationship(back_populates="run", order_by="Attempt.number")


class Attempt(Base):
    """One pass of the chain within a run (a retry or a revise is a new attempt)."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("run_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), default="running")
    reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    run: Mapped[Run] = relationship(back_populates="attempts")
    stages: Mapped[list[StageRun]] = relationship(back_populates="attempt")
    candidates: Mapped[list[CandidateRecord]] = relationship(back_populates="attempt")


class StageRun(Base):
    """One stage (reproduce, localize, patch, verify) within an attempt, with its typed result."""

    __tablename__ = "stage_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="running")
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    attempt: Mapped[Attempt] = relationship(back_populates="stages")


class CandidateRecord(Base):
    """A candidate patch and its parent: the lineage of every fix."""

    __tablename__ = "candidates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id"))
    source: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    diff: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    attempt: Mapped[Attempt] = relationship(back_populates="candidates")


class PatchBundleRecord(Base):
    """A stored PatchBundle; `hash` is the bundle id shown in the PR."""

    __tablename__ = "patch_bundles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), index=True)
    hash: Mapped[str] = mapped_column(String(80), unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class PullRequest(Base):
    """A pull request FixWurx opened (a fix or a rollback)."""

    __tablename__ = "pull_requests"
    __table_args__ = (UniqueConstraint("repository_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    issue_number: Mapped[int | None] = mapped_column(Integer)
    branch: Mapped[str] = mapped_column(String(255))
    base_branch: Mapped[str] = mapped_column(String(255))
    bundle_hash: Mapped[str | None] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16), default="fix")  # fix | revert
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | closed | merged
    merge_sha: Mapped[str | None] = mapped_column(String(64))
    #: When the merge was recorded: the start of the rollback watch window.
    merged_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    #: The default-branch commit whose message says git's "This reverts commit <merge_sha>":
    #: someone reverted this fix (FixWurx's own revert pull request once merged, or a human).
    reverted_by_sha: Mapped[str | None] = mapped_column(String(64))
    reverted_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class RollbackDecision(Base):
    """What FixWurx decided about one failing default-branch commit inside a fix's watch window.

    One row per (repository, failing commit): a redelivered failure, a second check suite for
    the same commit or a resumed worker finds the row instead of deciding again. The row is
    written before any call to GitHub, and `action` moves from "pending" to what was done, so a
    worker that dies between the two finds the half-done decision and finishes it.
    """

    __tablename__ = "rollback_decisions"
    __table_args__ = (UniqueConstraint("repository_id", "failing_sha"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id"), index=True)
    #: The merged FixWurx pull request whose window the failure fell in.
    pr_number: Mapped[int] = mapped_column(Integer)
    merge_sha: Mapped[str] = mapped_column(String(64))
    failing_sha: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    #: blamed | not_blamed | refused (a guard said no before any attribution)
    verdict: Mapped[str] = mapped_column(String(16))
    #: pending | revert_pr | commented | none: what FixWurx did about it on GitHub.
    action: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    #: The attribution's evidence: failing tests, green and red commits, bisection, reruns.
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    revert_pr_number: Mapped[int | None] = mapped_column(Integer)
    #: What became of the revert pull request: None while it is open (or there is none),
    #: "merged" (a human confirmed the decision) or "closed" (closed unmerged: rejected).
    revert_outcome: Mapped[str | None] = mapped_column(String(16))
    revert_closed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class AuditLog(Base):
    """Who asked FixWurx to do what, and what it did."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    repository_id: Mapped[int | None] = mapped_column(BigInteger)
    run_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DashboardSignIn(Base):
    """A one-time dashboard sign-in link that was used: a second use of its nonce is refused.

    The link itself is signed with SECRET_KEY and carries its own expiry, so only used links
    need a row; the retention prune may drop rows older than the longest link lifetime.
    """

    __tablename__ = "dashboard_sign_ins"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    login: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class LlmCall(Base):
    """One language-model call with its usage and cost; budgets sum over these."""

    __tablename__ = "llm_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(Integer, index=True)
    repository_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    installation_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    #: The escalation rung whose candidate search made the call: "model" (the single-pass
    #: analyst) or "agent"; None for calls outside the candidate search (explanations,
    #: reproduction tests). Templates make no calls.
    rung: Mapped[str | None] = mapped_column(String(16))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(32), default="ok")
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, index=True)


class FixMemory(Base):
    """A verified fix remembered for retrieval; `content_hash` guards its integrity."""

    __tablename__ = "fix_memories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository: Mapped[str | None] = mapped_column(String(255), index=True)
    error_signature: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(Text)
    diff: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class CiWatch(Base):
    """A fix commit FixWurx pushed and is waiting on the repository's CI for (issue 13).

    One row per pushed head commit. `state` moves waiting -> acting -> success | failure |
    neutral | superseded, each step a conditional UPDATE, so two deliveries about the same
    commit cannot both start a revision round. `deadline` is the sweeper's CI timer: it lives
    in the database, so it survives worker restarts.
    """

    __tablename__ = "ci_watches"
    __table_args__ = (UniqueConstraint("repository_id", "head_sha"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    pr_number: Mapped[int | None] = mapped_column(Integer)
    issue_number: Mapped[int | None] = mapped_column(Integer)
    branch: Mapped[str] = mapped_column(String(255))
    head_sha: Mapped[str] = mapped_column(String(64))
    base_sha: Mapped[str] = mapped_column(String(64))
    bundle_hash: Mapped[str] = mapped_column(String(80))
    #: The bundle this one revised after a CI failure (None for the first fix): the lineage.
    parent_bundle_hash: Mapped[str | None] = mapped_column(String(80))
    #: How many CI revision rounds led to this commit (0: the first fix).
    revision: Mapped[int] = mapped_column(Integer, default=0)
    check_run_id: Mapped[int | None] = mapped_column(BigInteger)
    canary_run_id: Mapped[int | None] = mapped_column(BigInteger)
    #: Put in the canary's run name, to find the run where dispatch returned no run details.
    canary_nonce: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    #: The `ci_result` run that moved the watch to `acting`: if it dies or is retried before it
    #: finishes, the same run (resumed by the sweeper, or retried by the queue) may finish the
    #: act, while every other delivery still finds the commit decided.
    acting_run_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[dt.datetime] = mapped_column(Timestamp)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class CiResult(Base):
    """One CI result on a fix commit: an evidence entry tied to the bundle hash.

    The bundle's own hash never changes; what the repository's CI said about it is recorded
    here (the canary's JUnit outcomes, a smoke suite's conclusion, the failing step's log).
    """

    __tablename__ = "ci_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("ci_watches.id"), index=True)
    bundle_hash: Mapped[str] = mapped_column(String(80), index=True)
    head_sha: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # canary | smoke
    name: Mapped[str] = mapped_column(String(255))
    conclusion: Mapped[str] = mapped_column(String(32))
    #: True when this failure is new (it was not already failing on the base commit).
    blamed: Mapped[bool] = mapped_column(default=False)
    url: Mapped[str | None] = mapped_column(Text)
    failing: Mapped[list[Any]] = mapped_column(default=list)
    excerpt: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


# Indexes for the dashboard's aggregates and for retention's deletes (migration
# 0005_dashboard_indexes); one block here, so the table classes above stay as they are.
Index("ix_runs_created_at", Run.created_at)
Index("ix_runs_repository_id_status", Run.repository_id, Run.status)
Index("ix_pull_requests_run_id", PullRequest.run_id)
Index("ix_pull_requests_created_at", PullRequest.created_at)
Index("ix_deliveries_received_at", Delivery.received_at)
Index("ix_stage_runs_started_at", StageRun.started_at)
