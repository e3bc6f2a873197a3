"""Reading an issue text for a reproduction."""

from __future__ import annotations

from app.chain.issue_text import parse_issue


def test_named_test_ids_win() -> None:
    issue = parse_issue(
        "Since 2.1 `tests/test_calc.py::test_add[1-2]` fails, and so does "
        "tests/test_io.py::TestRead::test_empty.\n```python\nprint(1)\n```"
    )
    assert issue.test_ids == (
        "tests/test_calc.py::test_add[1-2]",
        "tests/test_io.py::TestRead::test_empty",
    )
    assert issue.snippet == ""


def test_a_fenced_snippet_becomes_a_test() -> None:
    issue = parse_issue(
        "It crashes:\n\n```python\nfrom calc import div\nassert div(1, 2) == 0.5\n```\n"
    )
    assert issue.snippet == "from calc import div\nassert div(1, 2) == 0.5"
    source = issue.repro_test_source()
    namespace: dict[str, object] = {}
    exec(compile(source, "repro", "exec"), namespace)
    assert "test_issue_reproduction" in namespace


def test_tracebacks_and_shell_sessions_are_not_snippets() -> None:
    text = "```\nTraceback (most recent call last):\n  File x\n```\n```\n$ pip install x\n```"
    assert parse_issue(text).snippet == ""


def test_text_without_anything_usable() -> None:
    issue = parse_issue("It is broken, please fix.")
    assert issue.test_ids == () and issue.snippet == ""
