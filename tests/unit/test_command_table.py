"""Every place that knows the comment commands agrees with app/command_table.py.

Each check asks the consumer itself (parse a comment, validate a config, render the help, pick a
queue, count an attempt, find a handler) rather than comparing constants, so a list declared
again somewhere, or a command added to the table but not handled, fails here.
"""

from __future__ import annotations

import re

import pytest

from app import command_table
from app.errors import ConfigError
from app.flows import comment_commands, records, render
from app.repo_config import RepoConfig, parse_repo_config
from webhooks import comment_parser
from workers import queues

NAMES = command_table.NAMES


def test_the_table_is_well_formed() -> None:
    assert len(set(NAMES)) == len(NAMES) == len(command_table.TABLE)
    assert all(re.fullmatch(r"[a-z]+", name) for name in NAMES)
    assert command_table.FALLBACK in NAMES
    # A command cannot both be a quick reply and run a repair.
    assert not command_table.QUICK & set(command_table.SPENDS_ATTEMPT)


@pytest.mark.parametrize("name", NAMES)
def test_the_parser_knows_every_command(name: str) -> None:
    parsed = comment_parser.parse(f"/fixwurx {name.upper()} some args")
    assert parsed == comment_parser.Command(name, "some args")


def test_the_parser_knows_nothing_else() -> None:
    assert frozenset(NAMES) == comment_parser.COMMANDS
    parsed = comment_parser.parse("/fixwurx frobnicate")
    assert parsed == comment_parser.Command(command_table.FALLBACK, "unknown command: frobnicate")


def test_the_permissions_schema_takes_exactly_the_commands() -> None:
    every = "\n".join(f"  {name}: admin" for name in NAMES)
    config = parse_repo_config(f"permissions:\n{every}\n")
    assert {name: config.needed_role(name) for name in NAMES} == dict.fromkeys(NAMES, "admin")
    assert set(RepoConfig().permissions) == set(NAMES)
    with pytest.raises(ConfigError):
        parse_repo_config("permissions:\n  frobnicate: admin\n")


def test_the_help_text_lists_every_command_once_in_table_order() -> None:
    listed = re.findall(r"^- `/fixwurx (\w+)", render.help_text(None), flags=re.MULTILINE)
    assert listed == list(NAMES)
    for spec in command_table.TABLE:
        assert f"`/fixwurx {spec.usage}` — {spec.help}" in render.help_text(None)


@pytest.mark.parametrize("spec", command_table.TABLE, ids=lambda s: s.name)
def test_the_queue_priority_follows_the_table(spec: command_table.CommandSpec) -> None:
    expected = queues.HIGH if spec.quick else queues.DEFAULT
    assert queues.queue_name("command", spec.name) == expected


def test_the_attempt_accounting_follows_the_table() -> None:
    spends = {spec.name for spec in command_table.TABLE if spec.spends_attempt}
    assert set(records.FIXING_COMMANDS) == spends == {"fix", "retry", "revise"}


def test_every_command_has_exactly_one_handler() -> None:
    assert set(comment_commands.HANDLERS) == set(NAMES)
