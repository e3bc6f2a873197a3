"""One agent command in the sandbox, on the candidate's copy, in the repository's environment.

The command runs under `bash -c` through `app.sandbox.run` like every test run: the copy is the
only writable host path, the network is off (`Mounts(network=False)` whatever the environment
says), and when the chain built the repository's environment its venv is on PATH read-only and
FixWurx's own interpreter is out of sight. Every command has a wall-clock limit that kills its
whole process tree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from app import sandbox
from app.agents.agent.observation import CommandOutput, truncate
from app.sandbox.api import Mounts
from app.testing.testcmd import TestCommand


@dataclass(frozen=True)
class Shell:
    """Runs commands in `root` the way the run's test command runs its tests."""

    root: Path
    command: TestCommand | None
    timeout_s: float
    observation_chars: int

    def run(self, text: str) -> CommandOutput:
        """Run `text` with bash; its output (stdout then stderr) cut to size."""
        argv = ["bash", "-c", text]
        environment = self.command.environment if self.command is not None else None
        if environment is None:
            env = self.command.plugin_env() if self.command is not None else {}
            result = sandbox.run(
                argv, self.root, self.timeout_s, env=env, mounts=Mounts(network=False)
            )
        else:
            result = sandbox.run(
                argv,
                self.root,
                self.timeout_s,
                env=environment.run_env(self.root),
                readonly_paths=environment.readonly_paths,
                mounts=replace(environment.mounts, network=False),
            )
        output = result.stdout
        if result.stderr.strip():
            output = f"{output.rstrip()}\n{result.stderr}" if output.strip() else result.stderr
        shown, cut = truncate(output, self.observation_chars)
        return CommandOutput(
            result.returncode,
            shown,
            cut,
            timed_out=result.timed_out,
            stopped=result.stopped,
            seconds=round(result.duration, 3),
        )
