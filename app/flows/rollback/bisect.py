"""Run the failing tests at one commit, and search the first-parent commits for the first bad.

Each probe checks the commit out in FixWurx's own clone (never handed to the sandbox), copies
it into a fresh disposable work copy (`app.workspace`: no links out, no git credentials) and
runs the tests there through `app.testing`, so repository code runs only in the sandbox, and
what one probe's tests write cannot change the next probe's result. The repository's own
environment (`app.environments`) is built once, at the failing commit, and reused by every probe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.environments import EnvironmentRequest, prepare
from app.gitcmd import run_git
from app.testing import testcmd
from app.testing.testcmd import TestCommand
from app.testing.testrun import run_tests
from app.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Probe:
    """The named tests at one commit: which of them failed, and how long it took."""

    sha: str
    failed: tuple[str, ...]
    seconds: float
    ran: int = 0

    @property
    def bad(self) -> bool:
        """At least one of the tests failed here."""
        return bool(self.failed)

    def to_json(self) -> dict[str, Any]:
        """For the decision's evidence."""
        return {
            "sha": self.sha,
            "failed": list(self.failed),
            "ran": self.ran,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class CommitTests:
    """Runs a repository's tests at any commit of `checkout` (a full clone FixWurx owns)."""

    checkout: Path
    config_command: str | None
    timeout: float
    environment: EnvironmentRequest | None = None
    _command: TestCommand | None = field(default=None, init=False)

    def run(self, sha: str, tests: Sequence[str] = ()) -> Probe:
        """The outcome of `tests` (all tests when empty) at commit `sha`."""
        started = time.monotonic()
        checked = run_git(self.checkout, "checkout", "--quiet", "--force", "--detach", sha)
        if checked.returncode != 0:
            raise RuntimeError(f"cannot check out {sha[:12]}: {checked.stderr.strip()}")
        work = Workspace.prepare(self.checkout)
        try:
            command = self._bound(work.root)
            result = run_tests(work.root, command, timeout=self.timeout, test_ids=tuple(tests))
        finally:
            work.cleanup()
        wanted = set(tests)
        failed = tuple(
            sorted(o.test_id for o in result.failing if not wanted or o.test_id in wanted)
        )
        if wanted and result.timed_out:
            failed = tuple(sorted(set(failed) | wanted))
        probe = Probe(sha, failed, time.monotonic() - started, len(result.outcomes))
        log.info("rollback probe %s: %d ran, failed %s", sha[:12], probe.ran, list(failed))
        return probe

    def _bound(self, root: Path) -> TestCommand:
        """The test command, on the repository's environment (built at the first probe)."""
        if self._command is None:
            command = testcmd.resolve(root, None, self.config_command)
            if self.environment is not None:
                from dataclasses import replace

                request = replace(self.environment, probe=command.probe())
                command = command.in_environment(prepare(root, request))
            self._command = command
        return self._command


@dataclass(frozen=True)
class Bisection:
    """The first bad commit and every probe that found it, in probing order."""

    culprit: str
    probes: tuple[Probe, ...]


def first_bad(commits: Sequence[str], probe: Callable[[str], Probe]) -> Bisection:
    """Binary search for the first bad commit of `commits` (oldest first), given that the
    commit before the first is good and the last one is bad (neither is probed again)."""
    if not commits:
        raise ValueError("bisection needs at least the bad commit")
    good, bad = -1, len(commits) - 1
    probes: list[Probe] = []
    while bad - good > 1:
        middle = (good + bad) // 2
        found = probe(commits[middle])
        probes.append(found)
        if found.bad:
            bad = middle
        else:
            good = middle
    return Bisection(commits[bad], tuple(probes))
