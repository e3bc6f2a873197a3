"""Template families: each proposes the fix for its kind of bug, as a minimal text edit."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from app.repair.candidates import RepairContext
from app.repair.templates import (
    FAMILIES,
    TemplateSource,
    calls,
    conditions,
    guards,
    literals,
    names,
    off_by_one,
    operators,
    statements,
    swaps,
)
from app.repair.templates.base import ParsedFile, own_nodes
from app.testing.results import Location


def variants(family: ModuleType, source: str, line: int) -> list[str]:
    """Every full-file text the family proposes for the statement at `line`."""
    parsed = ParsedFile("m.py", textwrap.dedent(source))
    stmt = parsed.statement_at(line)
    assert stmt is not None
    return [parsed.apply(m) for m in family.mutations(parsed, stmt, own_nodes(stmt))]


def proposes(family: ModuleType, source: str, line: int, expected: str) -> bool:
    return textwrap.dedent(expected) in variants(family, source, line)


def test_operators_flip_comparison_boundaries() -> None:
    src = "def f(x):\n    return x > 90  # inclusive?\n"
    assert proposes(operators, src, 2, "def f(x):\n    return x >= 90  # inclusive?\n")


def test_operators_cover_arithmetic_boolean_and_augmented() -> None:
    src = "def f(a, b):\n    a += b\n    return a * (1 + b) or b\n"
    assert proposes(operators, src, 2, "def f(a, b):\n    a -= b\n    return a * (1 + b) or b\n")
    assert proposes(operators, src, 3, "def f(a, b):\n    a += b\n    return a * (1 - b) or b\n")
    assert proposes(operators, src, 3, "def f(a, b):\n    a += b\n    return a * (1 + b) and b\n")


def test_off_by_one_on_ranges_slices_and_literals() -> None:
    src = "def f(xs, n):\n    return [xs[i : i + n - 1] for i in range(1, n)]\n"
    out = variants(off_by_one, src, 2)
    assert "def f(xs, n):\n    return [xs[i : i + n] for i in range(1, n)]\n" in out
    assert "def f(xs, n):\n    return [xs[i : i + n - 1] for i in range(1, n + 1)]\n" in out
    assert "def f(xs, n):\n    return [xs[i : i + n - 1] for i in range(0, n)]\n" in out


def test_off_by_one_on_an_index_expression() -> None:
    src = "def last(xs):\n    return xs[len(xs)]\n"
    assert proposes(off_by_one, src, 2, "def last(xs):\n    return xs[len(xs) - 1]\n")


def test_names_replace_attributes_seen_on_the_same_object() -> None:
    src = """\
    class R:
        def area(self):
            return self.width * self.width

        def perimeter(self):
            return 2 * (self.width + self.height)
    """
    out = variants(names, src, 3)
    assert any("return self.width * self.height" in text for text in out)


def test_names_replace_a_variable_with_another_local() -> None:
    src = "def f(left, right):\n    out = []\n    out.extend(left)\n    return out\n"
    assert proposes(
        names, src, 3, "def f(left, right):\n    out = []\n    out.extend(right)\n    return out\n"
    )


def test_swaps_exchange_arguments_and_operands() -> None:
    src = "def f(a, b):\n    return g(b, a) + (a - b)\n"
    out = variants(swaps, src, 2)
    assert "def f(a, b):\n    return g(a, b) + (a - b)\n" in out
    assert "def f(a, b):\n    return g(b, a) + (b - a)\n" in out


def test_conditions_negate_and_synthesize_loop_conditions() -> None:
    src = """\
    def find(xs, x):
        lo, hi = 0, len(xs)
        while True:
            mid = (lo + hi) // 2
            if xs[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return lo
    """
    out = variants(conditions, src, 3)
    assert any("    while lo < hi:\n" in text for text in out)
    assert not any("while mid" in text for text in out)  # mid is unbound before the loop
    negated = variants(conditions, "def f(s):\n    if s.startswith('#'):\n        pass\n", 2)
    assert "def f(s):\n    if not s.startswith('#'):\n        pass\n" in negated


def test_conditions_step_a_loop_variable_the_body_never_changes() -> None:
    src = "def f(s):\n    i = 0\n    while i < len(s):\n        print(s[i])\n    return i\n"
    expected = "def f(s):\n    i = 0\n    while i < len(s):\n        print(s[i])\n        i += 1\n"
    assert proposes(conditions, src, 3, expected + "    return i\n")


def test_calls_swap_twins_and_unwrap() -> None:
    src = "def f(xs):\n    return int(min(xs))\n"
    out = variants(calls, src, 2)
    assert "def f(xs):\n    return int(max(xs))\n" in out
    assert "def f(xs):\n    return min(xs)\n" in out
    methods = variants(calls, "def f(n):\n    return n.startswith('.py')\n", 2)
    assert "def f(n):\n    return n.endswith('.py')\n" in methods


def test_literals_flip_booleans_and_fix_returns() -> None:
    src = "def f(xs):\n    out = sorted(xs, reverse=False)\n    return xs\n"
    assert proposes(literals, src, 2, src.replace("False", "True"))
    assert proposes(literals, src, 3, src.replace("return xs", "return out"))


def test_literals_add_a_missing_return() -> None:
    src = "def f(text):\n    counts = {}\n    counts[text] = 1\n"
    assert proposes(literals, src, 3, src + "    return counts\n")


def test_guards_use_the_annotated_empty_value() -> None:
    src = "def average(xs: list[float]) -> float:\n    return sum(xs) / len(xs)\n"
    expected = (
        "def average(xs: list[float]) -> float:\n"
        "    if not xs:\n        return 0.0\n"
        "    return sum(xs) / len(xs)\n"
    )
    assert proposes(guards, src, 2, expected)


def test_guards_for_none_and_bounds() -> None:
    src = "def f(words, n):\n    return words[n].upper()\n"
    out = variants(guards, src, 2)
    assert any("    if words is None:\n        return None\n" in text for text in out)
    assert any("    if n >= len(words):\n        return None\n" in text for text in out)


def test_statements_delete_and_move() -> None:
    src = "def f(b):\n    b.text = 1\n    b.log.append(b.text)\n"
    out = variants(statements, src, 3)
    assert "def f(b):\n    b.log.append(b.text)\n    b.text = 1\n" in out
    assert "def f(b):\n    b.text = 1\n" in out


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.FAMILY)
def test_every_family_has_a_prior_and_leaves_comments_alone(family: ModuleType) -> None:
    src = """\
    # header comment
    def f(xs: list[int], n: int) -> int:
        total = 0  # running sum
        for i in range(n):
            total += xs[i] * 2 if xs else min(xs, n)
        return total
    """
    if family.FAMILY == "text_pattern":  # string handling only: give it a string to work on
        src = """\
        # header comment
        import re
        def f(line: str) -> str:
            return re.sub('^x (.*)', 'y', line)  # a rewrite
        """
    assert 0 < family.PRIOR <= 1
    out = variants(family, src, 4 if family.FAMILY == "text_pattern" else 5)
    assert out, f"{family.FAMILY} proposed nothing"
    for text in out:
        assert "# header comment\n" in text
        assert "# running sum\n" in text or "# a rewrite\n" in text


def write(root: Path, name: str, text: str) -> None:
    (root / name).write_text(textwrap.dedent(text))


def test_source_yields_ranked_unique_compiling_candidates(tmp_path: Path) -> None:
    write(tmp_path, "calc.py", "def mean(xs):\n    return sum(xs) / (len(xs) + 1)\n")
    locations = (Location("calc.py", 2, 0.9), Location("tests/test_calc.py", 3, 1.0))
    context = RepairContext(tmp_path, (), locations, ("pytest",))
    found = list(TemplateSource().propose(context))
    assert found, "no candidates"
    assert all(c.edits[0].path == "calc.py" for c in found)  # test files are out of scope
    assert len({c.key for c in found}) == len(found)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert all(c.source.startswith("template:") for c in found)
    fix = "return sum(xs) / (len(xs))\n"
    assert any(c.edits[0].after.endswith(fix) for c in found[:5])
    for candidate in found:
        compile(candidate.edits[0].after, "calc.py", "exec")


def test_source_is_lazy(tmp_path: Path) -> None:
    body = "".join(f"def f{i}(a, b):\n    return a + b * {i}\n\n" for i in range(50))
    write(tmp_path, "big.py", body)
    locations = tuple(Location("big.py", 3 * i + 2, 1.0 - i / 100) for i in range(50))
    stream = iter(TemplateSource().propose(RepairContext(tmp_path, (), locations, ())))
    first = next(stream)
    assert first.location == locations[0]


def test_unparsable_or_missing_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "broken.py", "def f(:\n")
    locations = (Location("broken.py", 1, 1.0), Location("gone.py", 1, 1.0))
    assert list(TemplateSource().propose(RepairContext(tmp_path, (), locations, ()))) == []


def test_names_prefer_the_partner_a_copy_paste_slip_broke() -> None:
    src = """\
    def merge(left, right):
        out, i, j = [], 0, 0
        while i < len(left) and j < len(right):
            if left[i] <= right[j]:
                i += 1
            else:
                j += 1
        out.extend(left[i:])
        out.extend(left[j:])
        return out
    """
    parsed = ParsedFile("m.py", textwrap.dedent(src))
    stmt = parsed.statement_at(9)
    assert stmt is not None
    ranked = sorted(names.mutations(parsed, stmt, own_nodes(stmt)), key=lambda m: -m.weight)
    assert parsed.apply(ranked[0]).count("out.extend(right[j:])") == 1


def test_statements_move_across_a_block_boundary() -> None:
    inside = (
        "def f(xs):\n    out = []\n    for x in xs:\n        out.append(x)\n        return out\n"
    )
    assert proposes(statements, inside, 5, inside.replace("        return out", "    return out"))
    after = "def f(s):\n    i = 0\n    while i < 3:\n        print(i)\n    i += 1\n"
    assert proposes(statements, after, 3, after.replace("    i += 1", "        i += 1"))


def test_calls_drop_an_argument() -> None:
    src = "def f(s):\n    return s.split(',')\n"
    assert proposes(calls, src, 2, "def f(s):\n    return s.split()\n")


def test_condition_inversions_are_marked_for_the_pick() -> None:
    parsed = ParsedFile("m.py", "def f(a, b):\n    if a == b:\n        return a\n")
    stmt = parsed.statement_at(2)
    assert stmt is not None
    flagged = {
        parsed.apply(m).splitlines()[1].strip(): m.inverts
        for family in (operators, conditions)
        for m in family.mutations(parsed, stmt, own_nodes(stmt))
    }
    assert flagged["if a != b:"] is True
    assert flagged["if a <= b:"] is False


def test_guards_replace_a_mutable_default() -> None:
    src = 'def add(item, bag=[]):\n    """Doc."""\n    bag.append(item)\n    return bag\n'
    fixed = (
        'def add(item, bag=None):\n    """Doc."""\n'
        "    if bag is None:\n        bag = []\n"
        "    bag.append(item)\n    return bag\n"
    )
    assert proposes(guards, src, 3, fixed)


def test_names_add_a_forgotten_self() -> None:
    src = "class C:\n    def inc(self):\n        self.n = n + 1\n"
    assert proposes(names, src, 3, "class C:\n    def inc(self):\n        self.n = self.n + 1\n")


def test_calls_give_dict_get_a_default() -> None:
    src = "def f(d, k):\n    d[k] = d.get(k) + 1\n"
    assert proposes(calls, src, 2, "def f(d, k):\n    d[k] = d.get(k, 0) + 1\n")


def test_a_computed_but_unread_local_is_the_favoured_return() -> None:
    src = "def norm(values):\n    total = sum(values)\n    scaled = [v / total for v in values]\n    return values\n"
    parsed = ParsedFile("m.py", src)
    stmt = parsed.statement_at(4)
    assert stmt is not None
    proposals = list(literals.mutations(parsed, stmt, own_nodes(stmt)))
    proposals += list(names.mutations(parsed, stmt, own_nodes(stmt)))
    best = max(proposals, key=lambda m: m.weight)
    assert parsed.apply(best).endswith("    return scaled\n")
