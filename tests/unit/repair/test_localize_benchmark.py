"""What the localization benchmark counts as a hit, and the `fixwurx localize --json` it reads."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from app.cli import cli
from benchmarks.localization import changed_lines, first_hit

PATCH = """\
diff --git a/pkg/m.py b/pkg/m.py
--- a/pkg/m.py
+++ b/pkg/m.py
@@ -3,5 +3,6 @@ def f(x):
     a = 1
-    b = 2
+    b = 3
     c = 4
     d = 5
+    e = 6
     g = 7
--- a/pkg/m.py
@@ -20,2 +21,2 @@
--- a line that looks like a header
+-- and its replacement
 z = 0
"""


def test_deleted_lines_and_both_sides_of_an_insertion_are_hits() -> None:
    # `b` (line 4) is replaced; `e` goes between `d` (6) and `g` (7); in the second hunk a
    # deleted line starting with "--" is a line, not a file header.
    assert changed_lines(PATCH) == {"pkg/m.py": {4, 6, 7, 20}}


def test_a_ranked_statement_spanning_a_changed_line_is_a_hit(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("x = [a\n     for a in b]\ny = 1\n")
    hits = {"m.py": {2}}
    assert (
        first_hit([{"path": "m.py", "line": 3}, {"path": "m.py", "line": 1}], hits, tmp_path) == 2
    )
    assert first_hit([{"path": "m.py", "line": 3}], hits, tmp_path) is None


def test_localize_json_prints_the_ranking(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def half(x):\n    return x // 3\n")
    (tmp_path / "test_calc.py").write_text(
        "from calc import half\n\n\ndef test_half():\n    assert half(6) == 3\n"
    )
    argv = ["localize", str(tmp_path), "--json", "--no-environment", "--test", "python -m pytest"]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["status"] == "localized"
    assert report["reproducing"] == ["test_calc.py::test_half"]
    assert report["locations"][0]["path"] == "calc.py" and report["locations"][0]["line"] == 2


def test_localize_json_says_why_nothing_was_ranked(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(cli, ["localize", str(missing), "--json", "--no-environment"])
    assert result.exit_code == 2
    assert json.loads(result.stdout.strip().splitlines()[-1])["status"] == "bad input"
