"""Comment commands: `/fixwurx <cmd> [args]` or `@fixwurx <cmd> [args]` at the start of a comment.

Matching is case-insensitive on the prefix and the command; arguments keep their case (they are
free text for `revise`). An unknown or missing command becomes `help` with the bad word kept in
the arguments, so the user gets the help text instead of silence. Only the start of the comment
counts: quoting a command in the middle of a discussion must not trigger anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app import command_table

#: Every command FixWurx understands (from the one table, app/command_table.py).
COMMANDS = frozenset(command_table.NAMES)
#: Arguments longer than this are cut: they end up in the database and in prompts.
MAX_ARGS_CHARS = 4000


@dataclass(frozen=True)
class Command:
    """A parsed command; `args` is None when there were none."""

    name: str
    args: str | None = None


def parse(body: str, names: tuple[str, ...] = ("fixwurx",)) -> Command | None:
    """The command at the start of `body`, or None when the comment is not addressed to us."""
    match = _pattern(names).match(body or "")
    if match is None:
        return None
    word = (match.group("cmd") or "").lower()
    args = (match.group("args") or "").strip()[:MAX_ARGS_CHARS] or None
    if word in COMMANDS:
        return Command(word, args)
    unknown = " ".join(w for w in (word, args) if w) or None
    return Command(command_table.FALLBACK, f"unknown command: {unknown}" if unknown else None)


def _pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    return re.compile(
        rf"\A\s*[/@](?:{alternatives})(?=\s|\Z)[ \t]*(?P<cmd>[^\s]+)?(?P<args>.*)\Z",
        re.IGNORECASE | re.DOTALL,
    )
