"""What every template family shares: a parsed file with text offsets, and the `Mutation` type.

Templates never unparse the AST: they locate a node's exact text span and replace only that
span, so formatting and comments elsewhere stay byte-for-byte the same.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from app import pysource

#: Expression types that never need parentheses when embedded in a bigger expression.
ATOMS = (
    ast.Name,
    ast.Constant,
    ast.Call,
    ast.Attribute,
    ast.Subscript,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.ListComp,
    ast.DictComp,
    ast.SetComp,
    ast.GeneratorExp,
)
#: Compound statements: only their header (test, iterator, target) belongs to their own line.
COMPOUND = (
    ast.If,
    ast.While,
    ast.For,
    ast.AsyncFor,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Match,
)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
#: The highest weight a mutation may carry: a template that sees the code argue for a fix
#: (a broken pairing, a doubled operand) may rank it above another family's generic guess.
MAX_WEIGHT = 1.6


@dataclass(frozen=True)
class Mutation:
    """Replace text[start:end] with `text`; `weight` ranks it within its family (0..MAX_WEIGHT]."""

    start: int
    end: int
    text: str
    description: str
    weight: float = 1.0
    deletion: bool = False
    #: Inverts or drops a condition: such edits silence tests for the wrong reason more often
    #: than others, so the search's pick charges them extra (see app/repair/search.py).
    inverts: bool = False


class ParsedFile:
    """One source file: its text, AST, parent links and offset arithmetic."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        tree = pysource.parse_text(text, path)
        if tree is None:
            raise SyntaxError(f"{path}: too large or not parseable")
        self.tree = tree
        self.lines = text.splitlines(keepends=True)
        self._starts = [0]
        for line in self.lines:
            self._starts.append(self._starts[-1] + len(line))

    @cached_property
    def parents(self) -> dict[ast.AST, ast.AST]:
        """Each node's parent (the module has none)."""
        links: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                links[child] = node
        return links

    def offset(self, lineno: int, col: int) -> int:
        """Character offset of a (1-based line, UTF-8 byte column) position."""
        line = self.lines[lineno - 1] if lineno - 1 < len(self.lines) else ""
        prefix = line.encode("utf-8")[:col].decode("utf-8", errors="replace")
        return self._starts[lineno - 1] + len(prefix)

    def span(self, node: ast.AST) -> tuple[int, int]:
        """Start and end character offsets of a node with positions."""
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return start, end

    def segment(self, node: ast.AST) -> str:
        """The node's exact source text."""
        start, end = self.span(node)
        return self.text[start:end]

    def operand(self, node: ast.expr) -> str:
        """The node's text, parenthesized unless it is an atom."""
        text = self.segment(node)
        return text if isinstance(node, ATOMS) else f"({text})"

    def replace(self, node: ast.AST, text: str, description: str, weight: float = 1.0) -> Mutation:
        """A mutation that swaps the node's text for `text`."""
        start, end = self.span(node)
        return Mutation(start, end, text, description, weight)

    def apply(self, mutation: Mutation) -> str:
        """The whole file text with one mutation applied."""
        return self.text[: mutation.start] + mutation.text + self.text[mutation.end :]

    def line_start(self, lineno: int) -> int:
        """Offset of the first character of a 1-based line."""
        return self._starts[min(lineno, len(self._starts)) - 1]

    def indent_of(self, node: ast.stmt) -> str:
        """The leading whitespace of the line a statement starts on."""
        line = self.lines[node.lineno - 1]
        return line[: len(line) - len(line.lstrip())]

    @cached_property
    def indent_unit(self) -> str:
        """The file's indentation step (four spaces unless the file says otherwise)."""
        for line in self.lines:
            stripped = line.lstrip(" \t")
            if stripped.strip() and len(stripped) < len(line):
                return line[: len(line) - len(stripped)]
        return "    "

    def statement_at(self, line: int) -> ast.stmt | None:
        """The innermost statement owning `line`: a compound statement owns only its header."""
        best: ast.stmt | None = None
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.stmt):
                continue
            end = header_end(node) if isinstance(node, COMPOUND) else node.end_lineno or 0
            if node.lineno <= line <= end and (best is None or node.lineno >= best.lineno):
                best = node
        return best

    def function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The innermost function enclosing `node`."""
        current = self.parents.get(node)
        while current is not None and not isinstance(current, FUNCTIONS):
            current = self.parents.get(current)
        return current

    def enclosing_loop(self, node: ast.AST) -> ast.AST | None:
        """The innermost for/while loop around `node` within its function."""
        current = self.parents.get(node)
        while current is not None and not isinstance(current, FUNCTIONS):
            if isinstance(current, ast.For | ast.While | ast.AsyncFor):
                return current
            current = self.parents.get(current)
        return None


def compiles(text: str) -> bool:
    """Whether a candidate's file text still parses (nothing is executed)."""
    try:
        compile(text, "<candidate>", "exec", dont_inherit=True, flags=ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError):
        return False
    return True


def header_end(node: ast.stmt) -> int:
    """Last line of a compound statement's header (before its body)."""
    body = getattr(node, "body", None)
    if isinstance(node, (*FUNCTIONS, ast.ClassDef)) or not body:
        return node.lineno
    first = body[0]
    if isinstance(first, ast.stmt):
        return max(node.lineno, first.lineno - 1)
    return node.lineno


def own_nodes(stmt: ast.stmt) -> list[ast.AST]:
    """Expression nodes of a statement, without nested statements (a compound's header only)."""
    found: list[ast.AST] = []
    stack = [child for child in ast.iter_child_nodes(stmt) if not isinstance(child, ast.stmt)]
    if isinstance(stmt, (*FUNCTIONS, ast.ClassDef)):
        return []
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt | ast.excepthandler | ast.match_case):
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    found.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
    return found


def find_token(text: str, start: int, end: int, token: str) -> tuple[int, int] | None:
    """Span of `token` (an operator or keyword) in text[start:end], skipping comments."""
    import re

    pattern = re.escape(token).replace(r"\ ", r"\s+")
    if token[0].isalpha():
        pattern = rf"\b{pattern}\b"
    segment = text[start:end]
    for match in re.finditer(pattern + "|#[^\n]*", segment):
        if not match.group().startswith("#"):
            return start + match.start(), start + match.end()
    return None


def names_in(node: ast.AST) -> Iterator[ast.Name]:
    """Every Name node under `node`."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            yield child
