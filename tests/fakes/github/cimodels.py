"""The records the fake GitHub keeps about CI: workflows, check suites and runs, workflow runs,
jobs and artifacts.

One module for the data so the REST handlers (`checks.py`, `actions.py`), the webhook payloads
(`events.py`) and the simulator (`ci.py`) agree on one shape. Field names follow GitHub's
objects where they exist, so rendering them is a rename at most.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass, field
from typing import Any, Literal


def timestamp() -> str:
    """The current time in GitHub's timestamp format."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


#: Who made a check suite: the FixWurx App itself (through the Checks API) or GitHub Actions.
Owner = Literal["app", "actions"]
#: GitHub Actions' own App, as real payloads name it (id and slug from github.com).
ACTIONS_APP_ID = 15368
ACTIONS_APP_SLUG = "github-actions"


@dataclass(frozen=True)
class Workflow:
    """One workflow file the simulator pretends a repository has.

        `command` is a shell command run in a checkout of the commit (the job's one test step);
        `events` are the triggers it answers (`push`, `workflow_dispatch`); `junit_path`, relative to
        the checkout, is uploaded as the artifact `artifact_name` when the command leaves it behind.
        `branches` limits the pushes it answers (fnmatch patterns); `id` is given by
    `CiSimulator.configure`.
    """

    name: str
    file: str
    command: str = "true"
    events: tuple[str, ...] = ("push",)
    junit_path: str | None = None
    artifact_name: str = "junit"
    job_name: str = "test"
    step_name: str = "Run tests"
    timeout_s: float = 120.0
    #: fnmatch patterns of the branches a push runs it on (`on.push.branches`); None: all.
    branches: tuple[str, ...] | None = None
    id: int = 0
    #: The parsed workflow file, when the repository's CI comes from its committed files
    #: (`configure(name)` without `workflows`); `command` is then unused.
    spec: Any = None

    @classmethod
    def from_spec(cls, spec: Any, workflow_id: int) -> Workflow:
        """The simulator's record of a workflow file (`workflow_file.WorkflowSpec`)."""
        return cls(
            name=spec.name,
            file=spec.path.rsplit("/", 1)[-1],
            events=spec.events,
            branches=spec.push_branches,
            id=workflow_id,
            spec=spec,
        )

    def pull_on_branch(self, base: str) -> bool:
        """Whether a pull request into `base` triggers this workflow."""
        patterns = self.spec.pull_branches if self.spec is not None else self.branches
        return patterns is None or any(fnmatch.fnmatch(base, b) for b in patterns)

    @property
    def path(self) -> str:
        return f".github/workflows/{self.file}"

    def runs_on_branch(self, branch: str) -> bool:
        """Whether a push to `branch` triggers this workflow."""
        return self.branches is None or any(fnmatch.fnmatch(branch, b) for b in self.branches)


@dataclass
class CheckSuite:
    id: int
    full_name: str
    owner: Owner
    head_sha: str
    head_branch: str | None
    before: str | None
    created_at: str
    updated_at: str
    status: str = "queued"
    conclusion: str | None = None
    run_ids: list[int] = field(default_factory=list)


@dataclass
class CheckRun:
    id: int
    suite_id: int
    full_name: str
    owner: Owner
    name: str
    head_sha: str
    started_at: str
    status: str = "queued"
    conclusion: str | None = None
    completed_at: str | None = None
    output: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    details_url: str | None = None
    job_id: int | None = None


@dataclass
class Job:
    id: int
    run_id: int
    run_attempt: int
    name: str
    head_sha: str
    created_at: str
    status: str = "queued"
    conclusion: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    log: str = ""
    check_run_id: int | None = None


@dataclass
class Artifact:
    id: int
    run_id: int
    name: str
    data: bytes
    created_at: str


@dataclass
class WorkflowRun:
    id: int
    full_name: str
    workflow: Workflow
    run_number: int
    event: str
    head_branch: str
    head_sha: str
    display_title: str
    actor: str
    suite_id: int
    created_at: str
    updated_at: str
    inputs: dict[str, str] = field(default_factory=dict)
    status: str = "queued"
    conclusion: str | None = None
    run_attempt: int = 1
    run_started_at: str | None = None
    job_ids: list[int] = field(default_factory=list)
    artifact_ids: list[int] = field(default_factory=list)
    #: True while a background thread runs its command.
    running: bool = False
