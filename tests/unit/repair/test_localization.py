"""Fault localization on real (tiny) projects, run through the sandbox."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from app.repair.localization import localize
from app.testing import results, testcmd
from app.testing.testrun import run_tests

# Module-qualified: pytest would try to collect classes named Test* imported here.
Command = testcmd.TestCommand
Outcome = results.TestOutcome

PYTEST = testcmd.TestCommand((sys.executable, "-m", "pytest", "-q"), True)

CALC = """\
def mean(xs):
    total = 0
    for x in xs:
        total += x
    return total / (len(xs) + 1)


def clamp(v, lo, hi):
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v


def double(v):
    return v * 2
"""
TESTS = """\
from calc import clamp, double, mean


def test_mean():
    assert mean([1, 2, 3]) == 2


def test_mean_of_one():
    assert mean([4]) == 4


def test_clamp():
    assert clamp(5, 0, 3) == 3


def test_double():
    assert double(clamp(2, 0, 3)) == 4
"""


def project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def baseline(root: Path, command: testcmd.TestCommand = PYTEST) -> tuple[list[Outcome], set[str]]:
    run = run_tests(root, command, timeout=60)
    return list(run.failing), set(run.passing_ids)


def test_the_faulty_line_ranks_first_and_tests_are_never_blamed(tmp_path: Path) -> None:
    root = project(tmp_path, {"calc.py": CALC, "tests/test_calc.py": TESTS})
    failing, passing = baseline(root)
    assert {o.test_id for o in failing} == {
        "tests/test_calc.py::test_mean",
        "tests/test_calc.py::test_mean_of_one",
    }
    ranked = localize(root, PYTEST, failing, passing, timeout=60)
    assert ranked[0].path == "calc.py" and ranked[0].line == 5
    assert ranked[0].why.startswith("run by ") and "(suspiciousness 1.00, Ochiai)" in ranked[0].why
    assert all(loc.path == "calc.py" for loc in ranked)
    by_line = {loc.line: loc.score for loc in ranked}
    assert 9 not in by_line or by_line[9] < by_line[5]  # clamp runs only in passing tests
    assert 17 not in by_line  # executed by passing tests only: Ochiai 0, never blamed


def test_only_the_report_directory_is_left_behind(tmp_path: Path) -> None:
    root = project(tmp_path, {"calc.py": CALC, "tests/test_calc.py": TESTS})
    failing, passing = baseline(root)
    before = sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if "__pycache__" not in p.parts
    )
    localize(root, PYTEST, failing, passing, timeout=60)
    after = sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if "__pycache__" not in p.parts
    )
    new = [p for p in after if p not in before]
    assert new and all(p.startswith(".fixwurx") for p in new)


def test_traceback_frames_add_to_the_score_and_say_so(tmp_path: Path) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/cart.py": """\
            def total(items):
                return sum(price(i) for i in items)


            def price(item):
                return item["price"] * item["qty"]
            """,
        "tests/test_cart.py": """\
            from shop.cart import total


            def test_total():
                assert total([{"price": 2, "quantity": 3}]) == 6
            """,
    }
    root = project(tmp_path, files)
    failing, passing = baseline(root)
    ranked = localize(root, PYTEST, failing, passing, timeout=60)
    assert (ranked[0].path, ranked[0].line) == ("shop/cart.py", 6)
    assert "in traceback of test_total" in ranked[0].why


def test_a_hanging_test_is_stopped_and_its_loop_blamed(tmp_path: Path) -> None:
    files = {
        "scan.py": """\
            def count(s):
                i = n = 0
                while i < len(s):
                    if s[i] == " ":
                        n += 1
                return n
            """,
        "tests/test_scan.py": "from scan import count\n\n\ndef test_count():\n    assert count('a b') == 1\n",
    }
    root = project(tmp_path, files)
    hung = Outcome("tests/test_scan.py::test_count", "failed", 3.0, "Failed: Timeout (>3.0s)")
    ranked = localize(root, PYTEST, [hung], set(), timeout=60)
    assert {loc.line for loc in ranked[:3]} & {3, 4}
    assert any("traceback" in loc.why for loc in ranked[:3])


def test_without_pytest_the_frames_and_their_function_are_ranked(tmp_path: Path) -> None:
    files = {
        "calc.py": CALC,
        "check.py": "from calc import clamp\n\nclamp(None, 0, 3)\n",
    }
    root = project(tmp_path, files)
    script = Command((sys.executable, "check.py"), False)
    failing, _ = baseline(root, script)
    ranked = localize(root, script, failing, set(), timeout=60)
    assert (ranked[0].path, ranked[0].line) == ("calc.py", 9)
    assert "traceback" in ranked[0].why
    in_calc = {loc.line for loc in ranked if loc.path == "calc.py"}
    assert in_calc == {9, 10, 11, 12, 13}  # the rest of clamp() follows; mean() is not blamed


def test_a_pre_existing_failure_does_not_pull_the_ranking(tmp_path: Path) -> None:
    """A test that fails for want of the sandbox's network or home directory (set aside at
    baseline: neither target nor pass) executes code that has nothing to do with the bug."""
    (tmp_path / "conf.py").write_text(
        "import os\n\n\ndef settings_path():\n    home = os.environ['NO_SUCH_HOME']\n"
        "    return home + '/.conf'\n\n\ndef scale(v):\n    return v * 3\n"
    )
    (tmp_path / "test_conf.py").write_text(
        "from conf import scale, settings_path\n\n\ndef test_scale():\n    assert scale(2) == 4\n"
        "\n\ndef test_settings():\n    assert settings_path()\n\n\ndef test_zero():\n"
        "    assert scale(0) == 0\n"
    )
    run = run_tests(tmp_path, PYTEST, timeout=60)
    target = [o for o in run.failing if o.test_id == "test_conf.py::test_scale"]
    assert len(run.failing) == 2 and len(target) == 1
    ranked = localize(tmp_path, PYTEST, target, run.passing_ids, timeout=60)
    assert [(loc.path, loc.line) for loc in ranked] == [("conf.py", 10)]
