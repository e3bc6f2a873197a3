"""The signals localization adds to the spectrum, each on a tiny project where it decides.

Every project here has a tie (or a near tie) in Ochiai between the faulty line and an innocent
one that the content tie-breaker prefers, so only the mechanism under test ranks the fault first.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from app.repair import localization
from app.repair.called import called_by_tests, definitions, issue_identifiers
from app.repair.coverage_run import CoverageOutcome
from app.repair.localization import localize
from app.testing import results, testcmd
from app.testing.results import TestRun
from app.testing.testrun import run_tests

Outcome = results.TestOutcome
PYTEST = testcmd.TestCommand((sys.executable, "-m", "pytest", "-q"), True)

#: `label` is wrong (it should not scale); `_scale` is innocent but reads likelier (`*`, `is`,
#: `not`), and both tests run both lines: equal Ochiai scores.
LABELS = {
    "shop/__init__.py": "",
    "shop/labels.py": """\
        def _scale(v):
            return v * 2 if v is not None else 0


        def label(v):
            return str(_scale(v))
        """,
    "tests/test_labels.py": """\
        from shop.labels import label


        def test_label():
            assert label(3) == "3"


        def test_label_zero():
            assert label(0) == "0"
        """,
}


def project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def baseline(root: Path) -> tuple[list[Outcome], set[str]]:
    run = run_tests(root, PYTEST, timeout=60)
    return list(run.failing), set(run.passing_ids)


def test_a_function_the_failing_test_calls_by_name_wins_the_tie(tmp_path: Path) -> None:
    root = project(tmp_path, LABELS)
    failing, passing = baseline(root)
    assert [o.test_id for o in failing] == ["tests/test_labels.py::test_label"]
    ranked = localize(root, PYTEST, failing, passing, timeout=60)
    assert (ranked[0].path, ranked[0].line) == ("shop/labels.py", 6)
    assert "in label(), which test_label calls" in ranked[0].why
    assert (ranked[1].path, ranked[1].line) == ("shop/labels.py", 2)
    assert "calls" not in ranked[1].why


def test_the_line_that_raised_beats_a_line_only_failing_tests_ran(tmp_path: Path) -> None:
    files = {
        "seq.py": """\
            def first(xs):
                if not xs:
                    xs = list(xs)
                return xs[0]
            """,
        "tests/test_seq.py": """\
            from seq import first


            def test_empty():
                assert first([]) is None


            def test_one():
                assert first([1]) == 1
            """,
    }
    root = project(tmp_path, files)
    failing, passing = baseline(root)
    ranked = localize(root, PYTEST, failing, passing, timeout=60)
    # Line 3 is run by the failing test alone (Ochiai 1.0); line 4 raised the IndexError.
    assert [loc.line for loc in ranked[:2]] == [4, 3]
    assert "in traceback of test_empty" in ranked[0].why


def test_an_issue_naming_a_function_lifts_its_lines(tmp_path: Path) -> None:
    files = dict(LABELS)
    files["tests/test_labels.py"] = """\
        from shop import labels


        def test_label():
            assert check(3, "3")


        def check(v, expected):
            return getattr(labels, "label")(v) == expected


        def test_label_zero():
            assert labels.label(0) == "0"
        """
    root = project(tmp_path, files)
    failing, passing = baseline(root)
    plain = localize(root, PYTEST, failing, passing, timeout=60)
    assert (plain[0].path, plain[0].line) == ("shop/labels.py", 2)  # nothing names label
    issue = "Labels come out doubled: `label(3)` gives '6'."
    ranked = localize(root, PYTEST, failing, passing, timeout=60, issue_text=issue)
    assert (ranked[0].path, ranked[0].line) == ("shop/labels.py", 6)
    assert "the issue names label()" in ranked[0].why


def test_an_issue_naming_a_file_lifts_its_lines(tmp_path: Path) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/money.py": "def cents(v):\n    return round(v * 100) if v is not None else 0\n",
        "shop/report.py": "from shop.money import cents\n\n\ndef show(v):\n    return str(cents(v))\n",
        "tests/test_report.py": """\
            import shop.report as r


            def test_show():
                assert getattr(r, "show")(1.5) == "1.50"


            def test_show_zero():
                assert getattr(r, "show")(0) == "0"
            """,
    }
    root = project(tmp_path, files)
    failing, passing = baseline(root)
    plain = localize(root, PYTEST, failing, passing, timeout=60)
    assert plain[0].path == "shop/money.py"
    issue = "The total in shop/report.py shows cents instead of a price."
    ranked = localize(root, PYTEST, failing, passing, timeout=60, issue_text=issue)
    assert (ranked[0].path, ranked[0].line) == ("shop/report.py", 5)
    assert "the issue names shop/report.py" in ranked[0].why


def test_issue_identifiers_are_the_words_that_look_like_code() -> None:
    names, paths = issue_identifiers(
        "The parser fails: `Config.load` raises when parse_header() sees ValueError "
        "in src/app/io.py, see ../../etc/passwd.py"
    )
    assert {"Config", "load", "parse_header", "ValueError"} <= names
    assert not {"The", "parser", "fails", "raises", "when", "sees", "py"} & names
    assert paths == {"src/app/io.py"}  # a path out of the work copy is never a hint


def test_called_names_resolve_through_the_test_files_imports(tmp_path: Path) -> None:
    files = {f"rules/r{n}.py": f"def match(c):\n    return c == {n}\n" for n in range(5)}
    files["rules/__init__.py"] = ""
    files["tests/test_r3.py"] = """\
        from rules.r3 import match


        def _check(c):
            return match(c)


        class TestR3:
            def test_match(self):
                assert _check(3)

            def test_not(self):
                assert not match(4)
        """
    files["tests/test_loose.py"] = "def test_any():\n    assert match(1)\n"
    root = project(tmp_path, files)
    index = definitions(root)
    found = called_by_tests(
        root,
        [
            "tests/test_r3.py::TestR3::test_match[x]",
            "tests/test_loose.py::test_any",
            "../outside.py::test_x",
        ],
        index,
    )
    # Through the helper `_check`, to the imported module's `match` only; the test file that
    # imports nothing names a `match` five modules define, which says nothing.
    assert list(found) == ["test_match[x]"]
    assert [(d.path, d.name, d.lines) for d in found["test_match[x]"]] == [
        ("rules/r3.py", "match", (2,))
    ]


def test_without_coverage_the_functions_the_test_calls_are_suspects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = dict(LABELS)
    files["tests/test_labels.py"] = """\
        from shop.labels import label


        def test_label():
            shown = label(3)
            assert shown == "3"
        """
    root = project(tmp_path, files)
    failing, passing = baseline(root)

    def no_coverage(*args: object, **kwargs: object) -> CoverageOutcome:
        return CoverageOutcome(TestRun((), 1, 0.0, timed_out=True), error="timed out")

    monkeypatch.setattr(localization, "run_with_coverage", no_coverage)
    ranked = localization.localize(root, PYTEST, failing, passing, timeout=60)
    # The assertion's line calls nothing; the test's body calls `label`, and that is the suspect.
    assert [(loc.path, loc.line) for loc in ranked] == [("shop/labels.py", 6)]
    assert "in label(), called by the failing test" in ranked[0].why
