"""One job's world: the run, the installation's client, the repo config, and the status comment.

Built once per `execute_run`; the fix, CI and command flows take a `Job` and never build their
own clients or tokens, so credentials are handled in exactly one place.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from redis import Redis

from app import runs
from app.config import Settings
from app.errors import ConfigError, FixwurxError
from app.flows import records, render
from app.github.auth import InstallationTokens
from app.github.client import GitHubClient, RepoClient
from app.github.constants import CONFIG_PATH
from app.repo_config import RepoConfig, parse_repo_config

log = logging.getLogger(__name__)

#: The status comment is edited at most this often (plus at every stage change), in seconds:
#: GitHub's secondary rate limits punish bursts of edits.
STATUS_EDIT_INTERVAL_S = 5.0
#: Seconds the token cache's Redis may take to connect or answer: a hung Redis fails the job
#: (retryable) instead of holding it until RQ's 30-minute job limit.
TOKEN_REDIS_TIMEOUT_S = 5.0


#: Progress the chain reports under a name the status comment folds into another line:
#: verifying candidates is part of the patch stage.
STAGE_ALIASES = {"verify": "patch"}


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
    progress: dict[str, tuple[str, str]] = field(default_factory=dict)
    headline: str = "working on it"
    _last_edit: float = 0.0

    @property
    def url(self) -> str:
        """The database URL."""
        return self.settings.database_url

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
        """Record a stage's state and edit the status comment (throttled)."""
        name = STAGE_ALIASES.get(name, name)
        previous = self.progress.get(name, ("pending", ""))[0]
        self.progress[name] = (state, message)
        if state != previous:
            runs.set_stage(self.url, self.run.id, name)
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
            records.set_status_comment(self.url, self.run.id, comment_id)
            self.run = _with_comment(self.run, comment_id)
        else:
            self.repo.edit_comment(comment_id, body)

    def check_not_stopped(self) -> None:
        """Raise RunStopped when a `stop` command ended this run."""
        if records.run_status(self.url, self.run.id) == "stopped":
            raise RunStopped(f"run {self.run.id} was stopped")


def _with_comment(run: records.RunView, comment_id: int) -> records.RunView:
    from dataclasses import replace

    return replace(run, status_comment_id=comment_id)


def build_job(settings: Settings, run_id: int) -> Job:
    """Load the run, authenticate as its installation, and read the repo config."""
    run = records.load_run(settings.database_url, run_id)
    tokens = InstallationTokens(settings, token_cache(settings))
    client = installation_client(settings, tokens, run.installation_id)
    repo = client.repo(run.full_name)
    config_state = read_config(repo)
    records.remember_trigger_label(
        settings.database_url, run.repository_id, config_state.config.trigger_label
    )
    records.remember_config_error(settings.database_url, run.repository_id, config_state.error)
    return Job(settings, run, tokens, client, repo, config_state)


def token_cache(settings: Settings) -> Redis:
    """The Redis connection of the shared installation-token cache, with bounded waits."""
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=TOKEN_REDIS_TIMEOUT_S,
        socket_connect_timeout=TOKEN_REDIS_TIMEOUT_S,
    )


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
