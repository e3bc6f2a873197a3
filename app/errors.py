"""One error tree. Each error knows whether retrying the same work could succeed.

Workers retry `retryable` errors with backoff and fail the run on terminal ones; the CLI maps
`BadInput` to exit code 2.
"""

from __future__ import annotations


class FixwurxError(Exception):
    """Base of every error FixWurx raises on purpose."""

    retryable: bool = False


class BadInput(FixwurxError):
    """The user gave something we cannot work with (missing path, no tests, bad file)."""


class ConfigError(FixwurxError):
    """A setting or repo config is invalid; the message names the value and the fix."""


class SandboxError(FixwurxError):
    """The sandbox itself failed (not the code inside it)."""

    retryable = True


class PatchError(FixwurxError):
    """A diff is unsafe or does not apply."""


class BundleMismatch(PatchError):
    """A patch bundle's hash or diff does not match what it claims."""


class BudgetExhausted(FixwurxError):
    """A token or money budget ran out; the run stops cleanly and says so."""


class ProviderError(FixwurxError):
    """A language-model provider failed; the chain falls back to the next one."""

    retryable = True


class GitHubError(FixwurxError):
    """A GitHub API call failed; `status` is the HTTP status when there was a response."""

    def __init__(self, message: str, *, retryable: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class TransientError(FixwurxError):
    """A dependency (Redis, database, network) hiccupped; the same job may succeed later."""

    retryable = True
