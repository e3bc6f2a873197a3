"""The one command a model reply holds, or why it holds none.

The reply must carry exactly one fenced ```bash block (the convention SWE-agent's and
mini-swe-agent's bash-only agents use): more than one would make "one command per step"
a fiction, and none leaves nothing to run. A block that is just `submit` ends the session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLOCK = re.compile(r"```(?:bash|sh|shell)?[ \t]*\n(.*?)```", re.DOTALL)
SUBMIT = "submit"


@dataclass(frozen=True)
class Action:
    """What to do next: run `command`, submit, or tell the model its reply was malformed."""

    command: str = ""
    submit: bool = False
    error: str = ""


def parse(reply: str) -> Action:
    """The action in a model reply."""
    blocks = [b.strip() for b in _BLOCK.findall(reply)]
    if len(blocks) != 1:
        found = "no" if not blocks else str(len(blocks))
        return Action(error=f"your reply held {found} ```bash blocks; it must hold exactly one")
    command = blocks[0]
    if not command:
        return Action(error="the ```bash block was empty")
    if command == SUBMIT:
        return Action(submit=True)
    return Action(command=command)
