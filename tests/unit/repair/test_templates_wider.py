"""The wider template vocabulary of issue 17: insertions, concatenation order, sibling
sub-expressions, base cases, boolean results, loop bounds, tuple items, bitwise operators.

Each snippet here is ordinary code with one slip; the test asserts the family proposes the
intended fix among its variants, and does not propose edits where the code gives no reason.
"""

from __future__ import annotations

import textwrap
from types import ModuleType

from app.repair.templates import (
    expressions,
    literals,
    off_by_one,
    operators,
    statements,
    swaps,
)
from app.repair.templates.base import ParsedFile, own_nodes


def variants(family: ModuleType, source: str, line: int) -> list[str]:
    """Every full-file text the family proposes for the statement at `line`."""
    parsed = ParsedFile("m.py", textwrap.dedent(source))
    stmt = parsed.statement_at(line)
    assert stmt is not None
    return [parsed.apply(m) for m in family.mutations(parsed, stmt, own_nodes(stmt))]


def test_bitwise_xor_and_and_are_alternatives() -> None:
    src = "def low_bits(mask, bits):\n    return mask ^ bits\n"
    assert "def low_bits(mask, bits):\n    return mask & bits\n" in variants(operators, src, 2)
    src = "def f(flags):\n    flags &= 4\n    return flags\n"
    assert "def f(flags):\n    flags ^= 4\n    return flags\n" in variants(operators, src, 2)


def test_concatenation_order_of_an_accumulation_and_of_a_text_chain() -> None:
    src = "def path(parts):\n    out = ''\n    for p in parts:\n        out = out + p\n    return out\n"
    assert any("        out = p + out\n" in text for text in variants(swaps, src, 4))
    src = 'def key(ns, name):\n    return name + ":" + ns\n'
    assert 'def key(ns, name):\n    return ns + ":" + name\n' in variants(swaps, src, 2)


def test_plain_numeric_addition_is_not_reordered() -> None:
    src = "def total(a, b):\n    return a + b\n"
    assert variants(swaps, src, 2) == []


def test_items_of_a_returned_tuple_swap() -> None:
    src = "def bounds(xs):\n    return max(xs), min(xs)\n"
    assert "def bounds(xs):\n    return min(xs), max(xs)\n" in variants(swaps, src, 2)


def test_a_sub_expression_becomes_another_on_the_same_object() -> None:
    src = """\
    def take(queue):
        head = queue.popleft()
        nxt = queue[0]
        return head, nxt
    """
    out = variants(expressions, src, 3)
    assert any("    nxt = queue.popleft()\n" in text for text in out)
    # only whole expressions on `queue`: never the bare method `queue.popleft`
    assert not any("nxt = queue.popleft\n" in text for text in out)


def test_an_attribute_is_read_from_another_object_that_has_it() -> None:
    src = """\
    class Box:
        def __init__(self, w):
            self.w = w

        def wider(self, other):
            return other.w > other.w
    """
    out = variants(expressions, src, 6)
    assert any("return self.w > other.w" in text for text in out)


def test_a_constant_term_is_dropped() -> None:
    src = "def cost(xs):\n    return 2 + len(xs)\n"
    assert "def cost(xs):\n    return len(xs)\n" in variants(expressions, src, 2)


def test_a_collection_that_is_never_filled_gets_its_update() -> None:
    src = """\
    def first_repeat(words):
        met = set()
        for word in words:
            if word in met:
                return word
        return None
    """
    out = variants(statements, src, 4)
    expected = "        if word in met:\n            return word\n        met.add(word)\n"
    assert any(expected in text for text in out)


def test_a_filled_collection_gets_no_extra_update() -> None:
    src = "def f(xs):\n    out = []\n    for x in xs:\n        out.append(x)\n    return out\n"
    assert not any("out.append(x)\n        out.append" in t for t in variants(statements, src, 4))


def test_a_function_that_falls_off_its_end_returns_a_neutral_value() -> None:
    src = """\
    def compare(a, b) -> int:
        if a < b:
            return -1
        if a > b:
            return 1
    """
    out = variants(statements, src, 5)
    assert any(text.endswith("        return 1\n    return 0\n") for text in out)


def test_an_update_the_loop_makes_is_repeated_after_it() -> None:
    src = """\
    def lines(words, width):
        out = []
        line = []
        for word in words:
            if len(line) == width:
                out.append(line)
                line = []
            line.append(word)
        return out
    """
    out = variants(statements, src, 9)
    assert any(
        "        line.append(word)\n    out.append(line)\n    return out\n" in t for t in out
    )


def test_a_base_case_returns_an_identity_or_the_tested_name() -> None:
    src = """\
    def total(xs, i):
        if i == len(xs):
            return i
        return xs[i] + total(xs, i + 1)
    """
    out = variants(literals, src, 3)
    assert any("        return 0\n" in text for text in out)
    src = "def tri(n):\n    if n < 1:\n        return 1\n    return n + tri(n - 1)\n"
    assert any("    if n < 1:\n        return n\n" in text for text in variants(literals, src, 3))


def test_a_constant_boolean_result_tests_the_state_the_scan_built() -> None:
    src = """\
    def closed(tags):
        open_count = 0
        for tag in tags:
            open_count += 1 if tag.startswith("<") else -1
        return True
    """
    assert any("    return open_count == 0\n" in text for text in variants(literals, src, 5))


def test_a_loop_bound_assignment_moves_by_one() -> None:
    src = """\
    def bisect(xs, x):
        lo, hi = 0, len(xs)
        while lo < hi:
            mid = (lo + hi) // 2
            if xs[mid] < x:
                lo = mid
            else:
                hi = mid
        return lo
    """
    assert any("            lo = mid + 1\n" in text for text in variants(off_by_one, src, 6))
    # `mid` itself bounds no loop: it is left to the other templates
    assert not any("mid = (lo + hi) // 2 + 1" in text for text in variants(off_by_one, src, 4))
