"""Documented constants. Each value says why it is what it is."""

from __future__ import annotations

#: Label that turns an issue into a repair request, unless the repo config names another.
TRIGGER_LABEL = "fixwurx"

#: SQLite file used when DATABASE_URL is unset: the embedded default needs no server. It lives in
#: the user's data directory ($XDG_DATA_HOME, else ~/.local/share), never in a checkout.
DATABASE_FILE = "fixwurx/fixwurx.sqlite3"

#: Redis used when REDIS_URL is unset.
REDIS_URL = "redis://localhost:6379/0"

#: GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub.
MAX_WEBHOOK_BYTES = 25 * 1024 * 1024

#: Default wall-clock limit for one whole test-suite run in the sandbox, in seconds (`--timeout`,
#: repo config `timeout_seconds:`). Sized from issue 25's survey (benchmarks/real_repos.py): on a
#: shared, loaded 2-core machine pypa/packaging's healthy suite (62,435 tests, all passing) took
#: 410 s and was cut at 300 s; click's took 147 s. 600 s is also the App's `timeout_seconds`.
SUITE_TIMEOUT_S = 600.0

#: Per-test limit at baseline (pytest-timeout): a hanging test fails alone, the rest still report.
#: Generous for unit tests; `--test-timeout` raises it for slow suites.
TEST_TIMEOUT_S = 30.0

#: A candidate's test run may take this many times the baseline duration before it is killed...
CANDIDATE_TIMEOUT_FACTOR = 3.0
#: ...plus this fixed allowance for interpreter start-up and collection, in seconds.
CANDIDATE_TIMEOUT_SLACK_S = 5.0

#: How often a failing test is rerun to tell a real failure from a flaky one.
FLAKY_RERUNS = 2

#: How many reproduction tests a model may write for an issue that comes without one. A test
#: that passes, or fails for its own reason (an import error, a typo), is shown to the model
#: with what happened and it tries again; each try costs a model call and a sandboxed run, and
#: a model that missed three times rarely hits on the fourth. After the last miss the run ends
#: "could not reproduce": a fix is never guessed without a failing test to judge it.
REPRO_ATTEMPTS = 3

#: Memory limit for one sandboxed run, in MiB: all its processes together plus its RAM-backed
#: /tmp (the watchdog), and each process on its own (prlimit --as).
SANDBOX_MEMORY_MB = 2048
#: Process limit inside the sandbox; a fork bomb stops here.
SANDBOX_MAX_PROCESSES = 256
#: Largest file a sandboxed process may write, in MiB.
SANDBOX_MAX_FILE_MB = 256
#: How much one sandboxed run may add to the work copy, in MiB: a test that writes without end
#: stops here instead of filling the worker's disk.
SANDBOX_DISK_MB = 2048
#: CPU time one sandboxed run may use, in seconds, across all its processes: ten minutes of a
#: whole core is far beyond a test suite's needs, and a busy loop stops even with a long timeout.
SANDBOX_CPU_SECONDS = 600
#: Captured stdout/stderr beyond this many bytes is cut, with a visible marker.
SANDBOX_MAX_OUTPUT_BYTES = 1024 * 1024

#: Candidates tried per run by the offline engine before it gives up.
MAX_CANDIDATES = 300
#: Seconds the offline engine may spend searching candidates.
SEARCH_BUDGET_S = 120.0
#: Plausible patches collected before the engine picks one.
PLAUSIBLE_PATCHES = 3

#: Largest diff (in changed lines) a patch may carry; bigger edits are not "minimal fixes".
MAX_DIFF_LINES = 400

# Per-repository test environments (app/environments).
#: Wall-clock limit (s) for one install step of an environment (venv, dependencies, a setup
#: command): a hanging step ends the build with an error naming it.
ENV_BUILD_TIMEOUT_S = 600.0
#: At most this many environments are kept per cache directory; the least recently used go.
ENV_CACHE_MAX_ENTRIES = 12
#: ...and at most this many megabytes of them, the repositories' uv caches included.
ENV_CACHE_MAX_MB = 6000
#: One repository's uv download cache may hold this many megabytes (FIXWURX_UV_CACHE_MAX_MB
#: overrides): measured after every install step, emptied (and the build says so) when over.
ENV_UV_CACHE_MAX_MB = 2048
#: Interpreters tried, newest first, before giving up on collecting the tests.
ENV_MAX_INTERPRETERS = 4
#: The oldest interpreter an environment may use (uv and the test tools need it).
ENV_MIN_PYTHON = (3, 7)
