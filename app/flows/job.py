"""One job's world: the run, the installation's client, the repo config, and the status comment.

Built once per `execute_run`; the fix, CI and command flows take a `Job` and never build their
own clients or tokens, so credentials are handled in exactly one place.

The database is asked once: `build_job` reads a `RunSnapshot` (the run, its repository, the
guards' facts, the resume state) in one session, and writes the repository's config facts only
when they changed. A `/fixwurx stop` is seen without re-reading the run's status on every
progress message: the writes a flow does anyway at its boundaries are conditional on the run
still running (their answer is the check), and between them (each stage's start, each candidate,
after the push) one Redis EXISTS asks whether the stop command signalled the run; only then is
the status read. The stop command sets the signal right after its database write, and it reached
its worker through Redis in the first place.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from app import redisconn, runs
from app.config import Settings
from app.errors import ConfigError, FixwurxError
from app.flows import records, render
from app.github.auth import InstallationTokens
from app.github.client import GitHubClient, RepoClient
from app.repo_config import CONFIG_PATH, RepoConfig, parse_repo_config

log = logging.getLogger(__name__)

#: The status comment is edited at most this often (plus at every stage change), in seconds:
#: GitHub's secondary rate limits punish bursts of edits.
STATUS_EDIT_INTERVAL_S = 5.0
#: Seconds the token cache's Redis may take to connect or answer: a hung Redis fails the job
#: (retryable) instead of holding it until RQ's 30-minute job limit.
TOKEN_REDIS_TIMEOUT_S = redisconn.WORK_TIMEOUT_S


#: Progress the chain reports under a name the status comment folds into another line:
#: verifying candidates is part of the patch stage.
STAGE_ALIASES = {"verify": "patch"}
#: Seconds a stop signal stays in Redis: longer than any job may run (RQ's job timeout).
STOP_SIGNAL_TTL_S = 24 * 3600


def stop_signal_key(run_id: int) -> str:
    """The Redis key a `/fixwurx stop` sets for a run it stopped (the database stays the truth)."""
    return f"fixwurx:stop:{run_id}"


class RunStopped(FixwurxError):
    """A `/fixwurx stop` marked the run stopped while it was working."""


@dataclass
class ConfigState:
    """The repo config, or why it was rejected (with the file version, for one comment)."""

    config: RepoConfig
    error: str | None = None
    blob_sha: str = ""


@dataclass
class Job:
    """Everything a flow needs for one run."""

    settings: Settings
    run: records.RunView
    tokens: InstallationTokens
    client: GitHubClient
    repo: RepoClient
    config_state: ConfigState
    snapshot: records.RunSnapshot | None = None
    redis: Any = None
    progress: dict[str, tuple[str, str]] = field(default_factory=dict)
    headline: str = "working on it"
    #: While True (the fix flow's chain runs), the chain's boundary writes carry the run's stage
    #: and a newly posted status comment's id: neither is written in a session of its own.
    chain_writes: bool = False
    unsaved_comment_id: int | None = None
    _last_edit: float = 0.0

    @property
    def database_url(self) -> str:
        """The database URL (the one name it has everywhere)."""
        return self.settings.database_url

    def facts(self) -> records.GuardFacts:
        """What the guards ask about this conversation: from the snapshot when it is about the
        same conversation, else (a command retargeted to an issue) read in one session."""
        if self.snapshot is not None and self.snapshot.facts.issue_number == self.run.issue_number:
            return self.snapshot.facts
        facts = records.guard_facts(self.database_url, self.run)
        if self.snapshot is not None:
            self.snapshot = replace(self.snapshot, facts=facts)
        return facts

    @property
    def config(self) -> RepoConfig:
        """The effective repo config (defaults when the file was rejected)."""
        return self.config_state.config

    @property
    def number(self) -> int:
        """The issue or PR conversation this run answers in."""
        number = self.run.issue_number or self.run.pr_number
        if number is None:
            raise ConfigError(f"run {self.run.id} has neither an issue nor a pull request number")
        return number

    def token(self) -> str:
        """A fresh installation token (from the shared cache)."""
        return self.tokens.token(self.run.installation_id)

    def reply_once(self, body: str, marker: str | None = None) -> None:
        """Post one reply carrying `marker`; when a comment already carries it, post nothing.

        The default marker is this run's, so a re-run job does not answer twice; a wider one
        (a refusal per user) keeps repeated commands from making FixWurx spam.
        """
        marker = marker or render.reply_marker(self.run.id)
        if any(marker in c.body for c in self.repo.comments(self.number)):
            return
        self.repo.comment(self.number, f"{marker}\n{body}")

    # --- the status comment ------------------------------------------------------------------

    def stage(self, name: str, state: str, message: str = "", *, force: bool = False) -> None:
        """Record a stage's state and edit the status comment (throttled).

        While the chain runs, its recorder writes the run's stage with each persisted state, so
        this writes nothing to the database then.
        """
        name = STAGE_ALIASES.get(name, name)
        previous = self.progress.get(name, ("pending", ""))[0]
        self.progress[name] = (state, message)
        if state != previous and not self.chain_writes:
            runs.set_stage(self.database_url, self.run.id, name)
        now = time.monotonic()
        if force or state != previous or now - self._last_edit >= STATUS_EDIT_INTERVAL_S:
            self._publish_status()
            self._last_edit = now

    def finish_status(self, headline: str) -> None:
        """Final edit of the status comment."""
        self.headline = headline
        self._publish_status()

    def _publish_status(self) -> None:
        if self.run.issue_number is None and self.run.pr_number is None:
            return  # a CI failure on a branch with no PR has no conversation to post in
        body = render.status_comment(self.run.id, self.progress, self.headline)
        comment_id = self.run.status_comment_id
        if comment_id is None:
            comment_id = self.repo.comment(self.number, body)
            if self.chain_writes:
                self.unsaved_comment_id = comment_id
            else:
                records.set_status_comment(self.database_url, self.run.id, comment_id)
            self.run = replace(self.run, status_comment_id=comment_id)
        else:
            self.repo.edit_comment(comment_id, body)

    def take_comment_id(self) -> int | None:
        """The status comment's id not written yet, for a write that carries it along."""
        held, self.unsaved_comment_id = self.unsaved_comment_id, None
        return held

    def save_comment_id(self) -> None:
        """Write the held status comment id now (a path that reached no boundary write)."""
        held = self.take_comment_id()
        if held is not None:
            records.set_status_comment(self.database_url, self.run.id, held)

    # --- stop checks ---------------------------------------------------------------------------

    def not_running(self) -> None:
        """A write found the run no longer running: RunStopped when a stop ended it (a run the
        sweeper gave up on goes on as before; its verdict will not be recorded)."""
        if runs.status_of(self.database_url, self.run.id) == "stopped":
            raise RunStopped(f"run {self.run.id} was stopped")

    def check_signal(self) -> None:
        """The cheap check between boundaries: has a stop been signalled for this run?

        One Redis EXISTS; the status is read only when the signal is there. Redis trouble is
        not a stop: the next boundary's write still finds out.
        """
        if self.redis is None:
            return
        try:
            signalled = bool(self.redis.exists(stop_signal_key(self.run.id)))
        except RedisError:
            return
        if signalled:
            self.not_running()

    def signal_stop(self, run_ids: list[int]) -> None:
        """Tell the workers of `run_ids` (stopped in the database already) to look now.

        Best effort: without the signal each run still sees the stop at its next boundary.
        """
        if self.redis is None or not run_ids:
            return
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for run_id in run_ids:
                    pipe.set(stop_signal_key(run_id), 1, ex=STOP_SIGNAL_TTL_S)
                pipe.execute()
        except RedisError:
            log.warning("could not signal the stop of runs %s; they stop at a boundary", run_ids)

    def check_not_stopped(self) -> None:
        """Raise RunStopped when a `stop` command ended this run (one status read)."""
        self.not_running()


def build_job(settings: Settings, run_id: int) -> Job:
    """Load the run's snapshot, authenticate as its installation, and read the repo config.

    One session reads; the repository's trigger label and config error are written (in one
    more) only when the config read from GitHub changed them.
    """
    snapshot = records.load_snapshot(settings.database_url, run_id)
    run = snapshot.run
    redis = token_cache(settings)
    tokens = InstallationTokens(settings, redis)
    client = installation_client(settings, tokens, run.installation_id)
    repo = client.repo(run.full_name)
    config_state = read_config(repo)
    label, error = config_state.config.trigger_label, _stored_error(config_state.error)
    if (label, error) != (snapshot.trigger_label, snapshot.config_error):
        records.remember_config(settings.database_url, run.repository_id, label, error)
    return Job(settings, run, tokens, client, repo, config_state, snapshot, redis)


def _stored_error(error: str | None) -> str | None:
    return error[: records.CONFIG_ERROR_CHARS] if error else None


def token_cache(settings: Settings) -> Redis:
    """The Redis connection of the shared installation-token cache, with bounded waits."""
    return redisconn.redis_client(settings.redis_url, TOKEN_REDIS_TIMEOUT_S)


def installation_client(
    settings: Settings, tokens: InstallationTokens, installation_id: int
) -> GitHubClient:
    """A client acting as the installation: a token from the shared cache on every request,
    and a token GitHub refuses (401) dropped from the cache and replaced once."""
    return GitHubClient(
        settings.github_api_url,
        lambda: tokens.token(installation_id),
        on_unauthorized=lambda: tokens.forget(installation_id),
    )


def read_config(repo: RepoClient) -> ConfigState:
    """The repo config from the default branch; a bad file yields defaults plus the error."""
    found = repo.file_text(CONFIG_PATH, repo.default_branch)
    if found is None:
        return ConfigState(RepoConfig())
    text, sha = found
    try:
        return ConfigState(parse_repo_config(text), blob_sha=sha)
    except ConfigError as exc:
        return ConfigState(RepoConfig(), str(exc), sha)


def report_config_error(job: Job) -> None:
    """The one comment about an invalid config version (none if one was already posted)."""
    state = job.config_state
    marker = render.config_error_marker(state.blob_sha)
    if any(marker in c.body for c in job.repo.comments(job.number)):
        return
    job.repo.comment(job.number, render.config_error_comment(state.error or "", state.blob_sha))
