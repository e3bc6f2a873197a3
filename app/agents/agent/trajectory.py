"""What an agent session did, step by step: kept with the run, shown by `fixwurx show` and
summarized in the pull request.

The run state is persisted after every stage, so the record is bounded: at most
`MAX_STORED_STEPS` steps, each command and observation cut (visibly) to a few hundred
characters. The model saw more; the record is for a reviewer who wants to know what was run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from app.agents.agent.observation import truncate

#: Steps kept in the record (the first ones and the last ones when a session ran longer).
MAX_STORED_STEPS = 60
#: Characters of one command kept in the record.
MAX_COMMAND_CHARS = 600
#: Characters of one observation kept in the record.
MAX_OBSERVATION_CHARS = 800


@dataclass(frozen=True)
class Step:
    """One turn: what the model asked for and what came back."""

    kind: str  # "command", "submit", "format_error", "feedback"
    command: str = ""
    returncode: int | None = None
    observation: str = ""
    timed_out: bool = False
    seconds: float = 0.0
    tokens: int = 0
    cost_usd: float = 0.0
    provider: str = ""

    def stored(self) -> dict[str, Any]:
        """This step with its texts cut to the record's size."""
        data = asdict(self)
        data["command"] = truncate(self.command, MAX_COMMAND_CHARS)[0]
        data["observation"] = truncate(self.observation, MAX_OBSERVATION_CHARS)[0]
        data["cost_usd"] = round(self.cost_usd, 6)
        return data


@dataclass
class Trajectory:
    """The steps of one session, how it ended, and what it cost."""

    steps: list[Step] = field(default_factory=list)
    ended: str = ""  # "submitted", "step limit", "budget exhausted: ...", "providers failed: ..."

    @property
    def tokens(self) -> int:
        """Tokens of every model call of the session."""
        return sum(s.tokens for s in self.steps)

    @property
    def cost_usd(self) -> float:
        """Dollars of every model call of the session."""
        return sum(s.cost_usd for s in self.steps)

    @property
    def commands(self) -> int:
        """Shell commands run."""
        return sum(1 for s in self.steps if s.kind == "command")

    def to_json(self) -> dict[str, Any]:
        """The bounded record for the run state."""
        steps = self.steps
        dropped = 0
        if len(steps) > MAX_STORED_STEPS:
            half = MAX_STORED_STEPS // 2
            dropped = len(steps) - MAX_STORED_STEPS
            steps = [*steps[:half], *steps[-half:]]
        return {
            "ended": self.ended,
            "steps": [s.stored() for s in steps],
            "steps_total": len(self.steps),
            "steps_dropped": dropped,
            "commands": self.commands,
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 6),
        }


def brief(record: dict[str, Any], max_commands: int = 12) -> dict[str, Any]:
    """What a patch bundle keeps of a session: how it ended, its cost, its first commands."""
    commands = [s for s in record.get("steps", []) if s.get("kind") == "command"]
    return {
        "ended": record.get("ended", ""),
        "commands": record.get("commands", len(commands)),
        "tokens": record.get("tokens", 0),
        "cost_usd": record.get("cost_usd", 0.0),
        "steps": [
            {
                "kind": "command",
                "command": (str(s.get("command", "")).splitlines() or [""])[0][:120],
                "returncode": s.get("returncode"),
                "timed_out": bool(s.get("timed_out")),
            }
            for s in commands[:max_commands]
        ],
    }


def summary_lines(record: dict[str, Any], max_commands: int = 12) -> list[str]:
    """A short Markdown summary of a stored trajectory: how it ended, what it cost, what ran."""
    lines = [
        f"Agent session: {record.get('commands', 0)} commands, "
        f"{record.get('tokens', 0):,} tokens, ${float(record.get('cost_usd', 0.0)):.4f}; "
        f"ended: {record.get('ended') or 'unknown'}.",
    ]
    shown = [s for s in record.get("steps", []) if s.get("kind") == "command"]
    for step in shown[:max_commands]:
        first = str(step.get("command", "")).splitlines()[0:1] or [""]
        mark = " (timed out)" if step.get("timed_out") else f" -> {step.get('returncode')}"
        shown_command = first[0][:120].replace("`", "'")
        lines.append(f"- `{shown_command}`{mark}")
    more = int(record.get("commands", len(shown))) - min(len(shown), max_commands)
    if more > 0:  # a brief or a bounded record lists fewer commands than were run
        lines.append(f"- ... and {more} more commands")
    return lines
