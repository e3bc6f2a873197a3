"""Comment commands: prefix and command case-insensitive, only at the start, unknown -> help."""

from __future__ import annotations

import pytest

from webhooks.comment_parser import COMMANDS, Command, parse


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_parses_with_either_prefix(name: str) -> None:
    assert parse(f"/fixwurx {name}") == Command(name)
    assert parse(f"@FixWurx {name.upper()}") == Command(name)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/fixwurx revise use a set, not a list", Command("revise", "use a set, not a list")),
        ("  \n/fixwurx   fix  ", Command("fix")),
        ("/fixwurx revise line one\nline two", Command("revise", "line one\nline two")),
        ("/FIXWURX Status please", Command("status", "please")),
        ("/fixwurx", Command("help")),
        ("/fixwurx deploy prod", Command("help", "unknown command: deploy prod")),
    ],
)
def test_arguments_and_unknown_commands(body: str, expected: Command) -> None:
    assert parse(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "",
        "please /fixwurx fix",
        "> /fixwurx fix",
        "/fixwurxfix",
        "@fixwurx-bot fix",
        "/fix wurx fix",
        "fixwurx fix",
    ],
)
def test_comments_not_addressed_to_fixwurx_are_not_commands(body: str) -> None:
    assert parse(body) is None


def test_the_app_slug_is_accepted_as_a_mention() -> None:
    assert parse("@acme-fixer status", ("fixwurx", "acme-fixer")) == Command("status")
    assert parse("@acme-fixer status") is None


def test_arguments_are_capped() -> None:
    parsed = parse("/fixwurx revise " + "x" * 10_000)
    assert parsed is not None and parsed.args is not None and len(parsed.args) == 4000
