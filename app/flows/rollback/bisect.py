"""Run the failing tests at one commit, and search the first-parent commits for the first bad.

Each probe checks the commit out in FixWurx's own clone (never handed to the sandbox), copies
it into a fresh disposable work copy (`app.workspace`: no links out, no git credentials) and
runs the tests there through `app.testing`, so repository code runs only in the sandbox, and
what one probe's tests write cannot change the next probe's result. The repository's own
environment (`app.environments`) is built at the first probe and reused by every commit with the
same dependency files; an older commit whose dependency files differ gets its own (from the
environment cache when it was built before), so it is not tested against newer dependencies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.environments import Environment, EnvironmentRequest, prepare
from app.environments.detect import detect
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
    _commands: dict[str, TestCommand] = field(default_factory=dict, init=False)
    #: The environments the probes used, in the order they were first needed (evidence and
    #: tests read `reused`: an environment built by an earlier rollback run came from the cache).
    prepared: list[Environment] = field(default_factory=list, init=False)
    _kept: dict[str, Workspace] = field(default_factory=dict, init=False)

    def run(self, sha: str, tests: Sequence[str] = (), keep: bool = False) -> Probe:
        """The outcome of `tests` (all tests when empty) at commit `sha`, in a fresh work copy
        (`keep`: kept, until `close`, for a `rerun` at the same commit)."""
        started = time.monotonic()
        checked = run_git(self.checkout, "checkout", "--quiet", "--force", "--detach", sha)
        if checked.returncode != 0:
            raise RuntimeError(f"cannot check out {sha[:12]}: {checked.stderr.strip()}")
        work = Workspace.prepare(self.checkout)
        if keep:
            self._drop(sha)
            self._kept[sha] = work
        try:
            return self._in(work, sha, tests, started)
        finally:
            if not keep:
                work.cleanup()

    def rerun(self, sha: str, tests: Sequence[str] = ()) -> Probe:
        """`tests` again at `sha`, in the work copy of the kept run there (a fresh one when
        none was kept): a rerun on the same machine, with what the first run left behind."""
        work = self._kept.get(sha)
        if work is None:
            return self.run(sha, tests)
        return self._in(work, sha, tests, time.monotonic())

    def close(self) -> None:
        """Remove the kept work copies."""
        for sha in list(self._kept):
            self._drop(sha)

    def _drop(self, sha: str) -> None:
        kept = self._kept.pop(sha, None)
        if kept is not None:
            kept.cleanup()

    def _in(self, work: Workspace, sha: str, tests: Sequence[str], started: float) -> Probe:
        command = self._bound(work.root)
        result = run_tests(work.root, command, timeout=self.timeout, test_ids=tuple(tests))
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
        """The test command on the environment of this commit's dependency files: built at
        the first probe, shared by every commit whose dependency files are the same, and built
        again (from the environment cache when it can) for an older commit whose differ."""
        key = self.dependencies(root)
        if key not in self._commands:
            command = testcmd.resolve(root, None, self.config_command)
            if self.environment is not None:
                request = replace(self.environment, probe=command.probe())
                environment = prepare(root, request)
                self.prepared.append(environment)
                command = command.in_environment(environment)
            self._commands[key] = command
        return self._commands[key]

    def dependencies(self, root: Path) -> str:
        """The fingerprint of a work copy's dependency files ("" without an environment)."""
        if self.environment is None:
            return ""
        return detect(root, self.environment.setup).fingerprint

    @property
    def environments(self) -> int:
        """How many environments the probes used (one per distinct dependency files)."""
        return len(self._commands)


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
