"""The text-pattern family: regex anchors and classes, word tests, platform separators.

Each snippet is ordinary string-handling code with one slip; the test runs the proposed variants
on the input the slip mishandles and asserts one of them gets it right, and that the family stays
silent where the code gives it nothing to work on.
"""

from __future__ import annotations

import textwrap
from typing import Any

from app.repair.templates import text_patterns
from app.repair.templates.base import ParsedFile, own_nodes
from app.repair.templates.engine import FAMILIES


def variants(source: str, line: int) -> list[str]:
    parsed = ParsedFile("m.py", textwrap.dedent(source))
    stmt = parsed.statement_at(line)
    assert stmt is not None
    return [parsed.apply(m) for m in text_patterns.mutations(parsed, stmt, own_nodes(stmt))]


def results(texts: list[str], call: str, **env: Any) -> list[Any]:
    """What `call` evaluates to under each variant (our own snippets, run in-process)."""
    found = []
    for text in texts:
        namespace: dict[str, Any] = dict(env)
        exec(compile(text, "m.py", "exec"), namespace)
        try:
            found.append(eval(call, namespace))
        except Exception as exc:  # a variant that raises is one that did not fix it
            found.append(exc)
    return found


def test_the_family_is_registered() -> None:
    assert text_patterns in FAMILIES


def test_an_anchor_that_misses_a_command_mid_line() -> None:
    src = """\
    import re
    def add_flag(line):
        return re.sub(r'^rm (.*)', r'rm -r \\1', line)
    """
    texts = variants(src, 3)
    assert "sudo rm -r dir" in results(texts, "add_flag('sudo rm dir')")
    assert all(compile(t, "m.py", "exec") for t in texts)


def test_a_character_class_narrower_than_the_quoted_word() -> None:
    src = """\
    import re
    def branch(message):
        return re.findall("branch '([a-z]+)' not found", message)[0]
    """
    texts = variants(src, 3)
    assert "fix-1.2" in results(texts, "branch(MESSAGE)", MESSAGE="branch 'fix-1.2' not found")
    assert any("[^']+" in t for t in texts)


def test_a_greedy_group_that_runs_past_its_delimiter() -> None:
    src = """\
    from re import search
    def first_tag(html):
        return search('<(.+)>', html).group(1)
    """
    assert "b" in results(variants(src, 3), "first_tag('<b>x</b>')")


def test_a_raw_pattern_keeps_its_raw_prefix() -> None:
    src = "import re\nP = re.compile(r'\\d+$')\n"
    assert "import re\nP = re.compile(r'\\d+')\n" in variants(src, 2)


def test_a_substring_test_where_a_word_was_meant() -> None:
    src = """\
    def is_git(cmd):
        return 'git' in cmd
    """
    texts = variants(src, 2)
    verdicts = results(texts, "(is_git('git push'), is_git('legit push'))")
    assert (True, False) in verdicts
    src = "def plain(cmd):\n    return 'git' not in cmd\n"
    assert (True, False) in results(variants(src, 2), "(plain('legit x'), plain('git x'))")


def test_a_hard_coded_separator_becomes_the_platform_constant() -> None:
    src = """\
    import os
    def entries(value):
        return value.split(':')
    """
    assert "    return value.split(os.pathsep)\n" in "".join(variants(src, 3))
    src = "from os import sep\ndef parts(p):\n    return p.split('/')\n"
    assert any("p.split(sep)" in t for t in variants(src, 3))


def test_nothing_to_work_on_gives_nothing() -> None:
    assert variants("def f(a, b):\n    return a.split(':')\n", 2) == []  # no `os` in scope
    assert variants("import re\ndef f(p, s):\n    return re.match(p, s)\n", 3) == []
    assert variants("def f(x):\n    return 'a b' in x\n", 2) == []  # a phrase, not a word
    assert variants("def f(x):\n    return 'a' in ('a', 'b')\n", 2) == []


def test_a_fixed_slice_offset_that_assumes_what_the_text_starts_with() -> None:
    src = """\
    def force(cmd):
        return 'mv -f ' + cmd[3:]
    """
    texts = variants(src, 2)
    assert "sudo mv -f a b" in results(texts, "force('sudo mv a b')")
    assert "mv -f a b" in results(texts, "force('mv a b')")
    assert variants("def f(cmd):\n    return 'mv' + cmd[3:]\n", 2) == []  # offset past the text
