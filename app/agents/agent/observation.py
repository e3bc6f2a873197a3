"""A command's output as the model reads it: cut to size with a visible marker.

A model that reads a silently shortened listing draws wrong conclusions ("the function is not
there"); one that is told what was cut can narrow its next command instead. The head and the
tail are kept because a test run's summary and a traceback's last frame sit at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.agents.llm.prompts import render
from app.agents.safety import fence

MARKER = (
    "[... {cut} characters cut here; narrow the command "
    "(grep -n, sed -n 'A,Bp', head, tail) to see them ...]"
)


def truncate(text: str, limit: int) -> tuple[str, int]:
    """`text` cut to about `limit` characters (its middle replaced by a marker), and the cut."""
    if len(text) <= limit:
        return text, 0
    head = limit // 2
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n{MARKER.format(cut=cut)}\n{text[-tail:]}", cut


@dataclass(frozen=True)
class CommandOutput:
    """How one command ended, already cut to size."""

    returncode: int
    output: str
    cut: int = 0
    timed_out: bool = False
    stopped: str | None = None
    seconds: float = 0.0

    def note(self, timeout_s: float) -> str:
        """What the model must know besides the output: a timeout, a limit, a cut."""
        notes = []
        if self.timed_out:
            notes.append(
                f"The command did not finish within {timeout_s:g} seconds and was killed, "
                "with every process it started. Run something shorter (a single test, a "
                "narrower grep), and never a command that waits for input or runs forever."
            )
        if self.stopped:
            notes.append(f"The sandbox stopped the command: {self.stopped}")
        if self.cut:
            notes.append(f"The output was too long: {self.cut} characters were cut.")
        return "\n".join(notes) or "none"

    def render(self, timeout_s: float) -> str:
        """The observation message, from `prompts/agent_observation.txt`."""
        return render(
            "agent_observation",
            returncode=str(self.returncode),
            output=fence("command-output", self.output) if self.output.strip() else "(none)",
            note=self.note(timeout_s),
        )
