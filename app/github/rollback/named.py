"""The failing tests the default branch's CI named, read from its JUnit artifact.

A hint, never the verdict: the names narrow the first probe at the red commit, and when they do
not look like pytest node ids, or do not fail when FixWurx runs them, attribution runs every
test there instead. The artifact is made by the repository's own CI (repository code): its
size is bounded, and a malformed report names nothing.
"""

from __future__ import annotations

import io
import logging
import zipfile

from app.errors import GitHubError
from app.github.client import RepoClient
from app.testing.junit import parse_junit

log = logging.getLogger(__name__)

#: The artifact name CI uploads its JUnit report under (the fake's CI and common workflows).
ARTIFACT = "junit"
#: A report larger than this (uncompressed) is not read.
MAX_REPORT_BYTES = 5 * 1024 * 1024


def named_failures(repo: RepoClient, sha: str) -> tuple[str, ...]:
    """Pytest node ids of the tests CI reported failing at `sha` (empty: none named)."""
    try:
        archives = repo.failed_run_artifacts(sha, ARTIFACT)
    except GitHubError as exc:
        if exc.retryable:
            raise
        log.info("no JUnit artifact for %s: %s", sha[:12], exc)
        return ()
    names: set[str] = set()
    for data in archives:
        names.update(_failing(data))
    return tuple(sorted(n for n in names if ".py::" in n))


def _failing(archive: bytes) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            reports = [
                opened.read(i).decode("utf-8", "replace")
                for i in opened.infolist()
                if i.filename.endswith(".xml") and i.file_size <= MAX_REPORT_BYTES
            ]
    except (zipfile.BadZipFile, OSError) as exc:
        log.info("unreadable JUnit artifact: %s", exc)
        return []
    return [o.test_id for text in reports for o in parse_junit(text) if not o.ok]
