"""On a large suite, coverage measures the target tests and the tests of the specific modules
they touch, not of the base module that every test imports."""

from __future__ import annotations

from pathlib import Path

from app.repair.coverage_scope import MAX_NEIGHBOURS, SMALL_SUITE_FILES, coverage_selection


def test_a_module_the_whole_suite_imports_brings_no_neighbours(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "types.py").write_text("class Command:\n    pass\n")
    (pkg / "rule_a.py").write_text("def match(c):\n    return True\n")
    tests = tmp_path / "tests"
    tests.mkdir()
    head = "from pkg.types import Command\n"
    (tests / "test_rule_a.py").write_text(
        head + "from pkg.rule_a import match\n\n\ndef test_it():\n    assert match(Command())\n"
    )
    (tests / "test_rule_a_more.py").write_text(
        "from pkg import rule_a\n\n\ndef test_more():\n    assert rule_a.match(1)\n"
    )
    for n in range(max(SMALL_SUITE_FILES, MAX_NEIGHBOURS) + 5):
        (tests / f"test_other_{n}.py").write_text(head + f"\n\ndef test_{n}():\n    Command()\n")
    selected = coverage_selection(tmp_path, ["tests/test_rule_a.py::test_it"])
    assert selected == ("tests/test_rule_a.py", "tests/test_rule_a_more.py")
