"""The one table of comment commands: `/fixwurx <name> [args]`.

Everything that lists the commands is derived from `TABLE`: the parser's vocabulary
(webhooks/comment_parser.py), the `permissions` keys of the repo-config schema
(app/repo_config.py), the help text (app/flows/render.py), the queue a command's run goes to
(workers/queues.py), which commands spend one of an issue's repair attempts
(app/flows/records.py), and the handlers (app/flows/comment_commands.py, which checks at import
that it has exactly one handler per command). tests/unit/test_command_table.py fails when any of
them disagrees with the table.

A module of plain data directly under app/, so the web tier, the workers and the GitHub flow
can all import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandSpec:
    """One comment command and everything the rest of FixWurx needs to know about it."""

    #: The word after `/fixwurx`, lower case.
    name: str
    #: What the help text says it does.
    help: str
    #: Argument placeholder shown in the help text ("" when the command takes none).
    args: str = ""
    #: A quick reply that must not wait behind repairs: it goes to the high-priority queue.
    quick: bool = False
    #: Running it spends one of the issue's `max_attempts` (it runs the repair chain).
    spends_attempt: bool = False

    @property
    def usage(self) -> str:
        """`name` and its argument placeholder, as the help text shows it."""
        return f"{self.name} {self.args}".strip()


#: Every command, in the order the help text lists them.
TABLE: tuple[CommandSpec, ...] = (
    CommandSpec(
        "fix",
        "start a repair of this issue (`--agent`: escalate to the agent loop if needed)",
        args="[--agent]",
        spends_attempt=True,
    ),
    CommandSpec(
        "retry", "run the repair again from scratch", args="[--agent]", spends_attempt=True
    ),
    CommandSpec(
        "revise",
        "revise the proposed fix: start from its patch, with your instructions",
        args="<instructions>",
        spends_attempt=True,
    ),
    CommandSpec(
        "explain", "explain the last fix: root cause, evidence and how it was found", quick=True
    ),
    CommandSpec("status", "show the state of the latest run", quick=True),
    CommandSpec("stop", "stop the running repair", quick=True),
    CommandSpec("revert", "open a pull request reverting a merged FixWurx fix"),
    CommandSpec("help", "show this help", quick=True),
)

#: The commands by name.
BY_NAME: dict[str, CommandSpec] = {spec.name: spec for spec in TABLE}
#: Every command name, in table order.
NAMES: tuple[str, ...] = tuple(BY_NAME)
#: What an unknown or missing command becomes (the user gets the help text, not silence).
FALLBACK = "help"
#: Commands answered from the high-priority queue.
QUICK: frozenset[str] = frozenset(spec.name for spec in TABLE if spec.quick)
#: Commands whose runs count against an issue's repair attempts.
SPENDS_ATTEMPT: tuple[str, ...] = tuple(spec.name for spec in TABLE if spec.spends_attempt)

#: The flag of `fix` and `retry` that escalates to the agent loop for this run.
AGENT_FLAG = "--agent"


def asks_agent(command: str | None, args: str | None) -> bool:
    """Whether a `fix`/`retry` comment asked for the agent loop (`/fixwurx fix --agent`)."""
    return command in ("fix", "retry") and AGENT_FLAG in (args or "").split()


assert FALLBACK in BY_NAME, "the fallback command must be in the table"
