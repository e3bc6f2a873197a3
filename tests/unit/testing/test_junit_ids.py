"""JUnit ids of both families map back to the node ids pytest itself collects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.testing.junit import parse_junit
from app.testing.junit_ids import is_node_id, node_id, node_ids

PROJECT = {
    "tests/__init__.py": "",
    "tests/test_calc.py": """import pytest


@pytest.mark.parametrize("word", ["a b", "plain", "x::y"])
def test_words(word):
    assert word


class TestAdd:
    def test_add(self):
        assert 1 + 1 == 2

    class TestNested:
        def test_deep(self):
            assert True
""",
    "tests/unit/__init__.py": "",
    "tests/unit/test_more.py": "def test_more():\n    assert True\n",
}


def collected(root: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return {line for line in done.stdout.splitlines() if "::" in line}


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_ids_of_both_families_are_the_node_ids_pytest_collects(tmp_path: Path, family: str) -> None:
    for name, text in PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            f"junit_family={family}",
            "--junitxml=junit.xml",
        ],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    raw = [o.test_id for o in parse_junit((tmp_path / "junit.xml").read_text())]
    wanted = collected(tmp_path) - {
        "tests/test_calc.py::test_words[x::y]"
    }  # pytest splits a `::` inside a parameter
    exists = lambda path: (tmp_path / path).is_file()  # noqa: E731
    assert set(node_ids(raw, exists)) >= wanted
    assert {node_id(t) for t in raw} >= wanted  # the upper-case rule, no checkout
    if family == "xunit2":
        assert not all(is_node_id(t) for t in raw)  # really the dotted form


def test_the_dotted_forms_map_and_node_ids_pass_through() -> None:
    assert node_id("tests.test_x::test_y") == "tests/test_x.py::test_y"
    assert node_id("tests.test_x.TestC::test_y[a b]") == "tests/test_x.py::TestC::test_y[a b]"
    assert node_id("tests/test_x.py::test_y") == "tests/test_x.py::test_y"
    assert node_id("test_y") == "test_y"
    # A module with an upper-case name is found through the checkout.
    exists = {"tests/Test_odd.py"}.__contains__
    assert node_id("tests.Test_odd::test_y", exists) == "tests/Test_odd.py::test_y"
