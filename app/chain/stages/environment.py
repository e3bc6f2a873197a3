"""Environment (before reproduce): build or reuse the repository's own test environment.

From here on every test run of the chain uses the repository's interpreter and packages (the
stage swaps the context's test command for one bound to the environment), and FixWurx's own
packages are out of the tests' reach. A failed or hanging install step ends the run with an
`EnvironmentBuildError` (bad input) that names the step; nothing else is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.chain.stages.context import StageContext
from app.chain.state import RunState
from app.environments import Environment, prepare


@dataclass(frozen=True)
class EnvironmentResult:
    """The environment used (None: FixWurx's interpreter, when no request was made)."""

    environment: Environment | None
    problem: str = ""

    def apply(self, state: RunState) -> None:
        """Record how the environment was built; a problem ends the run."""
        state.environment = self.environment.to_json() if self.environment else {}
        if self.problem:
            state.finish("error", self.problem)


def environment(state: RunState, ctx: StageContext) -> EnvironmentResult:
    """Build or reuse the environment and bind the context's test command to it."""
    if ctx.environment_request is None:
        return EnvironmentResult(None)
    request = replace(ctx.environment_request, probe=ctx.command.probe())
    # An environment that cannot be built is bad input (exit 2 in the CLI, an error comment in
    # the App) naming the step and uv's own reason, never "not fixed" (issue 25).
    built = prepare(ctx.root, request, lambda message: ctx.progress("environment", message))
    ctx.command = ctx.command.in_environment(built)
    state.test_command = ctx.command.display()
    return EnvironmentResult(built)


def restore(state: RunState, ctx: StageContext) -> None:
    """A resumed run: bind the context's command to the environment recorded in the state."""
    if state.environment and ctx.command.environment is None:
        ctx.command = ctx.command.in_environment(Environment.from_json(state.environment))
