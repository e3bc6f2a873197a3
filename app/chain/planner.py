"""The planner: decides the next stage from the persisted run state and runs it.

Stages never call each other. After each stage the planner records the result in the state and
hands the state to `on_state` (the worker persists it; the CLI may ignore it), so a run can be
shown while it runs and resumed after a crash.

`repair(path, options)` is the whole chain on a local checkout: the CLI and the GitHub flow both
call it.

Resuming: `RepairOptions.resume` is the state a dead worker persisted. When it was taken at the
same base commit, the planner continues from it: the stages in its `done` list are not run
again, and the files the reproduce stage added are written back into the fresh work copy (the
old copy died with the worker). What is redone is everything outside the chain: the caller's
clone, and the work copy the chain runs in. A state from another base commit (the branch moved)
is dropped and the chain starts over.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from app import defaults, workfiles
from app.agents.llm_services import ModelServices
from app.chain.lineage import RunRecorder
from app.chain.stages.bundle import bundle
from app.chain.stages.context import Progress, StageContext, quiet
from app.chain.stages.environment import environment, restore
from app.chain.stages.localize import localize
from app.chain.stages.patch import patch
from app.chain.stages.reproduce import reproduce
from app.chain.state import RunState
from app.config import Settings
from app.environments import EnvironmentRequest
from app.errors import FixwurxError
from app.patches import PatchBundle
from app.repair.candidates import CandidateSource
from app.repair.search import SearchBudget
from app.testing import testcmd
from app.testing.results import Location
from app.workspace import Workspace


class StageResult(Protocol):
    """Every stage returns a typed result that knows how to record itself."""

    def apply(self, state: RunState) -> None:
        """Write the result into the run state."""


Stage = Callable[[RunState, StageContext], Any]

STAGE_FUNCTIONS: dict[str, Stage] = {
    "environment": environment,
    "reproduce": reproduce,
    "localize": localize,
    "patch": patch,
    "bundle": bundle,
}


@dataclass
class RepairOptions:
    """How to run the chain. Defaults suit a local checkout with no configuration."""

    test_command: str | None = None
    repo_test_command: str | None = None
    issue_text: str = ""
    timeout: float = defaults.SUITE_TIMEOUT_S
    test_timeout: float = defaults.TEST_TIMEOUT_S
    ignore_paths: tuple[str, ...] = ()
    sources: Sequence[CandidateSource] | None = None
    budget: SearchBudget = field(default_factory=SearchBudget)
    progress: Progress = quiet
    on_state: Callable[[RunState], None] | None = None
    recorder: RunRecorder | None = None
    settings: Settings | None = None
    repository: str | None = None
    repository_id: int | None = None
    installation_id: int | None = None
    repo_models: Mapping[str, Any] | None = None
    resume: RunState | None = None
    #: How to build the repository's own test environment; None: FixWurx's interpreter.
    environment: EnvironmentRequest | None = None
    #: A maintainer's command allowed edits under `.github/` (workflows excepted) and to
    #: `.gitmodules` (app.patches.guarded_path); off unless asked for.
    allow_github_paths: bool = False
    #: Escalate to the agent loop when templates and the single-pass model path find nothing
    #: (repo config `agent:`, `fixwurx fix --agent`, `/fixwurx fix --agent`).
    agent: bool = False


@dataclass
class RepairOutcome:
    """The end of a run: status, bundle (when fixed), the reason, and the final state."""

    status: str
    bundle: PatchBundle | None
    reason: str
    state: RunState

    @property
    def locations(self) -> list[Location]:
        """Most suspicious first."""
        return [Location.from_json(loc) for loc in self.state.locations]


def default_sources(
    models: ModelServices | None = None, agent: bool = False
) -> list[CandidateSource]:
    """Cheapest first, each tried only when the one before found no verified fix: the fix
    templates, then the single-pass model path, then (when `agent`) the agent loop. The models
    need a configured provider."""
    from app.repair.templates import TemplateSource

    return [TemplateSource(), *(models.sources(agent) if models is not None else [])]


def model_services(options: RepairOptions) -> ModelServices | None:
    """The run's model services under its budget, or None when no provider is configured."""
    return ModelServices.for_run(
        options.settings or Settings.from_env(),
        run_id=options.recorder.run_id if options.recorder is not None else None,
        repository=options.repository,
        repository_id=options.repository_id,
        installation_id=options.installation_id,
        overrides=options.repo_models,
    )


def repair(path: Path, options: RepairOptions) -> RepairOutcome:
    """Run the whole chain on a disposable copy of `path`."""
    workspace = Workspace.prepare(path)
    try:
        command = testcmd.resolve(workspace.root, options.test_command, options.repo_test_command)
        state = RunState(
            source=str(path),
            test_command=command.display(),
            issue_text=options.issue_text,
            base_commit=workspace.base_commit,
        )
        resumed = resumable(options.resume, workspace)
        if resumed is not None:
            state = resumed
        models = model_services(options)
        ctx = StageContext(
            root=workspace.root,
            command=command,
            suite_timeout=options.timeout,
            test_timeout=options.test_timeout,
            sources=(
                options.sources
                if options.sources is not None
                else default_sources(models, options.agent)
            ),
            budget=options.budget,
            ignore_paths=options.ignore_paths,
            progress=_progress(options),
            models=models,
            environment_request=options.environment,
            allow_github_paths=options.allow_github_paths,
        )
        restore(state, ctx)
        if options.recorder is not None:
            options.recorder.begin(resume=resumed is not None)
        on_start = options.recorder.stage_started if options.recorder is not None else None
        run_planner(state, ctx, _observers(options), on_start)
        state.reason = in_user_terms(state.reason, workspace.root, path)
        if options.recorder is not None:
            options.recorder.finish(state)
    except FixwurxError as exc:
        exc.args = tuple(in_user_terms(str(a), workspace.root, path) for a in exc.args)
        raise
    finally:
        workspace.cleanup()
    result = PatchBundle.from_json(state.bundle) if state.bundle else None
    return RepairOutcome(state.status, result, state.reason, state)


def in_user_terms(text: str, copy_root: Path, user_path: Path) -> str:
    """`text` with the disposable copy's path replaced by the user's own: a message that names
    `/tmp/fixwurx-run-.../x` points at a folder that no longer exists."""
    for shown in {str(copy_root), os.path.realpath(copy_root)}:
        text = text.replace(shown, str(user_path))
    return text


def resumable(saved: RunState | None, workspace: Workspace) -> RunState | None:
    """`saved` ready to continue in `workspace`, or None when it cannot be continued there."""
    if saved is None or not saved.done or saved.base_commit != workspace.base_commit:
        return None
    # The paths come from our own database, but the work copy is the repository's: every write
    # goes through app.workfiles (inside the copy, through no link), and nothing is written
    # unless every path is inside.
    try:
        paths = [workfiles.relative(workspace.root, p) for p in saved.added_files]
        for path, text in zip(paths, saved.added_files.values(), strict=True):
            workfiles.write_text(workspace.root, path, text, parents=True, replace_link=True)
    except OSError:  # a path outside the copy, or a directory link in the way: start afresh
        return None
    return saved


def _observers(options: RepairOptions) -> Callable[[RunState], None]:
    """One callback that persists the state (when recording) and tells the caller."""

    def observe(state: RunState) -> None:
        if options.recorder is not None:
            options.recorder.stage_done(state)
        if options.on_state is not None:
            options.on_state(state)

    return observe


def _progress(options: RepairOptions) -> Progress:
    """The caller's progress, and the recorder's (the dashboard's view of a live stage)."""
    recorder = options.recorder
    if recorder is None:
        return options.progress

    def both(stage: str, message: str) -> None:
        options.progress(stage, message)
        recorder.progress(stage, message)

    return both


def run_planner(
    state: RunState,
    ctx: StageContext,
    on_state: Callable[[RunState], None] | None = None,
    on_start: Callable[[str, float | None], None] | None = None,
) -> RunState:
    """Run stages until the state says the run has ended (`on_start` hears each one begin)."""
    while (stage := state.next_stage()) is not None:
        if on_start is not None:
            on_start(stage, ctx.budget.seconds if stage == "patch" else None)
        started = time.monotonic()
        try:
            result: StageResult = STAGE_FUNCTIONS[stage](state, ctx)
            result.apply(state)
        except FixwurxError:
            raise
        except Exception as exc:  # a bug of ours must end the run with a reason, not hang it
            state.finish("error", f"{stage} failed: {type(exc).__name__}: {exc}")
        state.timings[stage] = round(time.monotonic() - started, 3)
        state.done.append(stage)
        if on_state is not None:
            on_state(state)
    return state
