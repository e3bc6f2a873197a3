"""Documented constants for the GitHub layer. Each value says why it is what it is."""

from __future__ import annotations

#: The App JWT's `iat` is backdated this much: GitHub rejects a JWT "issued in the future" when
#: our clock runs ahead of theirs, and GitHub's own docs recommend 60 s.
JWT_BACKDATE_S = 60
#: The JWT lives this long after `iat`. GitHub refuses anything over 10 minutes; 9 leaves room
#: for clock skew in the other direction.
JWT_LIFETIME_S = 9 * 60

#: An installation token (valid 1 hour) is replaced when it has fewer seconds left than this, so
#: a clone or a push that starts with a cached token never outlives it.
TOKEN_REFRESH_MARGIN_S = 10 * 60
#: Redis key prefix of the shared installation-token cache (one key per installation).
TOKEN_CACHE_PREFIX = "fixwurx:ghtoken:"
#: Seconds a worker waits for another worker that is already minting the same token.
TOKEN_LOCK_WAIT_S = 10.0

#: HTTP timeout of one GitHub API call, in seconds.
HTTP_TIMEOUT_S = 30
#: Retries of one API call on 5xx, 429 and rate-limit 403s.
HTTP_RETRIES = 5
#: Base of the exponential backoff between retries of a 5xx, in seconds.
HTTP_BACKOFF_S = 1.0
#: Wait after a secondary rate limit that names no Retry-After: GitHub asks for "at least a minute".
SECONDARY_RATE_WAIT_S = 60.0
#: Longest we sleep for a rate-limit reset inside a job; beyond this the job fails as retryable
#: and the queue retries it later instead of holding a worker hostage.
MAX_RATE_LIMIT_WAIT_S = 15 * 60.0

#: Wall-clock limit for one git clone, fetch or push over the network, in seconds (local git
#: calls have `app.gitcmd.GIT_TIMEOUT_S`).
NETWORK_GIT_TIMEOUT_S = 300.0

#: Branch prefix of every branch FixWurx pushes; CI failures on these are never re-fixed in a loop.
BRANCH_PREFIX = "fixwurx/"
#: FixWurx's own check run on every fix commit it pushes, as maintainers see it in the checks
#: list (and may name in branch protection). The web tier matches re-requests by it.
CHECK_NAME = "FixWurx verification"

#: PyGithub's pacing between API calls and between writes, in seconds: GitHub's guidance for
#: avoiding secondary rate limits is one mutating request per second. Tests set both to 0.
SECONDS_BETWEEN_REQUESTS = 0.25
SECONDS_BETWEEN_WRITES = 1.0
