"""Read an issue's text for a reproduction: named test ids, or a Python snippet that raises."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

#: pytest node ids such as `tests/test_calc.py::test_add` or `test_x.py::TestC::test_y[1]`.
TEST_ID = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.py::[\w:\[\]\-.,]+[\w\]])")
#: Fenced code blocks marked python/py, or unmarked.
FENCE = re.compile(r"```(?:python|py|python3)?[ \t]*\n(.*?)```", re.DOTALL)
#: File the snippet reproduction is written to, at the repository root.
REPRO_FILE = "test_fixwurx_issue_repro.py"
#: The one test in a reproduction file; the file goes where the suite collects it
#: (app/testing/collection.py), at the root when nothing is configured.
REPRO_TEST_NAME = "test_issue_reproduction"
REPRO_TEST_ID = f"{REPRO_FILE}::{REPRO_TEST_NAME}"


@dataclass(frozen=True)
class IssueReproduction:
    """What an issue text offers: test ids to focus on, or a snippet to turn into a test."""

    test_ids: tuple[str, ...] = ()
    snippet: str = ""

    def repro_test_source(self) -> str:
        """A pytest file whose one test runs the snippet."""
        body = textwrap.indent(self.snippet.rstrip() + "\n", "    ")
        return (
            '"""Reproduction from the issue text, by FixWurx: it fails before the fix."""\n'
            "\n\n"
            "def test_issue_reproduction():\n"
            f"{body}"
        )


def parse_issue(text: str) -> IssueReproduction:
    """Test ids named in the text win; otherwise the first Python snippet that looks runnable."""
    ids = tuple(dict.fromkeys(m.group(1) for m in TEST_ID.finditer(text)))
    if ids:
        return IssueReproduction(test_ids=ids)
    for block in FENCE.findall(text):
        code = textwrap.dedent(block).strip()
        if code and not code.startswith(("$", ">>>", "Traceback")) and _compiles(code):
            return IssueReproduction(snippet=code)
    return IssueReproduction()


def _compiles(code: str) -> bool:
    try:
        compile(code, "<issue>", "exec")
    except SyntaxError:
        return False
    return True
