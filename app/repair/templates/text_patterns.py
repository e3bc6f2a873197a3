"""Text matching: regular expressions, substring tests and hard-coded separators.

Much real code is string handling, and its bugs are rarely a wrong operator: a pattern
anchored where the text it must find sits mid-line (`^cmd` for `tool -cmd`), a character class
narrower than what it must capture (`"([a-z]+)"` for a quoted word holding `+`), a greedy `.*`
that runs past the delimiter; a substring test where a word test was meant (`'ls' in s` is
also true of `lsof`); a literal `':'` or `'/'` where the platform's `os.pathsep` or `os.sep`
was meant; a fixed slice offset (`'open x' + s[5:]`) that assumes what the text starts with.
Each is a property of Python's `re`, `str` and `os`, not of any project: the
templates read the pattern or literal in front of them and propose the standard repairs.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from app.repair.templates.base import Mutation, ParsedFile

FAMILY = "text_pattern"
PRIOR = 0.6
#: Functions of `re` whose first argument is a pattern.
RE_FUNCTIONS = frozenset(
    ("compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer")
)
#: Platform constants of `os` and the literal values a program hard-codes in their place.
OS_CONSTANTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("pathsep", frozenset((":", ";"))),
    ("sep", frozenset(("/", "\\"))),
    ("linesep", frozenset(("\n", "\r\n"))),
    ("curdir", frozenset((".",))),
    ("pardir", frozenset(("..",))),
    ("devnull", frozenset(("/dev/null", "nul"))),
)
#: Regex metacharacters: a character after a class that is one of these is not a delimiter.
_META = set(".^$*+?{}[]()|")
#: At most this many character classes of one pattern are rewritten.
MAX_CLASSES = 4


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """Pattern repairs on `re` calls, word tests for substring tests, `os` separators."""
    separators = _os_names(pf.tree)
    for node in nodes:
        if isinstance(node, ast.Call) and _is_re_call(node, pf.tree) and node.args:
            pattern = node.args[0]
            if isinstance(pattern, ast.Constant) and isinstance(pattern.value, str):
                yield from _pattern(pf, pattern)
        elif isinstance(node, ast.Compare):
            yield from _membership(pf, node)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            yield from _fixed_offset(pf, node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and separators:
            yield from _separator(pf, node, separators)


def _is_re_call(node: ast.Call, tree: ast.Module) -> bool:
    """`re.sub(...)`, or `sub(...)` imported with `from re import sub`."""
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id == "re" and func.attr in RE_FUNCTIONS
    if isinstance(func, ast.Name) and func.id in RE_FUNCTIONS:
        return any(
            isinstance(n, ast.ImportFrom)
            and n.module == "re"
            and any((a.asname or a.name) == func.id for a in n.names)
            for n in tree.body
        )
    return False


def string_text(original: str, value: str) -> str:
    """Source text for `value`, keeping the original literal's raw prefix and quote when they
    can still spell it, so a pattern still reads like the surrounding code."""
    match = re.match(r"(?i)(r?)(['\"])", original)
    if match and match.group(1):
        quote = match.group(2)
        if quote not in value and "\n" not in value and not value.endswith("\\"):
            return f"{match.group(1)}{quote}{value}{quote}"
    return repr(value)


def _pattern(pf: ParsedFile, node: ast.Constant) -> Iterator[Mutation]:
    original = pf.segment(node)
    for value, why, weight in pattern_variants(str(node.value)):
        try:
            re.compile(value)
        except re.error:
            continue
        yield pf.replace(node, string_text(original, value), f"pattern: {why}", weight)


def pattern_variants(pattern: str) -> Iterator[tuple[str, str, float]]:
    """(new pattern, what changed, weight): anchors, classes against their delimiter, laziness."""
    if pattern.startswith("^"):
        yield pattern[1:], "drop the `^` anchor", 0.9
        yield "\\b" + pattern[1:], "anchor at a word boundary, not the start", 0.8
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        yield pattern[:-1], "drop the `$` anchor", 0.8
        yield pattern[:-1] + "\\b", "end at a word boundary, not the end", 0.6
    for start, end, delimiter in list(_classes(pattern))[:MAX_CLASSES]:
        head, tail = pattern[:start], pattern[end:]
        if delimiter is not None:
            negated = "[^" + re.escape(delimiter) + "]"
            why = f"anything up to `{delimiter}`, not `{pattern[start:end]}`"
            yield head + negated + tail, why, 1.0
        yield head + "\\S" + tail, f"any non-space, not `{pattern[start:end]}`", 0.6
    for match in re.finditer(r"(?<!\\)\.([*+])(?!\?)", pattern):
        at = match.end()
        yield pattern[:at] + "?" + pattern[at:], f"non-greedy `{match.group()}?`", 0.7


def _classes(pattern: str) -> Iterator[tuple[int, int, str | None]]:
    """Positive character classes and `\\w`/`\\d` (start, end) with the literal character the
    repetition stops at, if any: `[a-z]+)\\"` stops at `"`."""
    for match in re.finditer(r"(?<!\\)\[(?!\^)(?:\\.|[^\]\\])+\]|(?<!\\)\\[wd]", pattern):
        rest = pattern[match.end() :]
        quantified = re.match(r"(?:[*+?]|\{\d*,?\d*\})\??", rest)
        if not quantified:
            continue
        after = rest[quantified.end() :].lstrip(")")
        yield match.start(), match.end(), _literal_char(after)


def _literal_char(text: str) -> str | None:
    """The literal character `text` starts with (`\\"` is `"`), or None for a metacharacter."""
    if text.startswith("\\") and len(text) > 1 and not text[1].isalnum():
        return text[1]
    if text and text[0] not in _META and text[0] != "\\":
        return text[0]
    return None


def _membership(pf: ParsedFile, node: ast.Compare) -> Iterator[Mutation]:
    """`'ls' in s`: also true of `lsof`; the word (`in s.split()`), the start, or the whole."""
    if len(node.ops) != 1 or not isinstance(node.ops[0], ast.In | ast.NotIn):
        return
    needle, haystack = node.left, node.comparators[0]
    if not (isinstance(needle, ast.Constant) and isinstance(needle.value, str) and needle.value):
        return
    if isinstance(haystack, ast.Constant | ast.List | ast.Tuple | ast.Set | ast.Dict):
        return
    if needle.value != needle.value.strip() or " " in needle.value:
        return  # a phrase with spaces is already a word-level test
    word, text = pf.segment(needle), pf.operand(haystack)
    no = "not " if isinstance(node.ops[0], ast.NotIn) else ""
    options = (
        (f"{word} {no}in {text}.split()", "as a word, not a substring", 1.0),
        (f"{no}{text}.startswith({word})", "at the start, not anywhere", 0.7),
        (f"{text}.split()[:1] {'!=' if no else '=='} [{word}]", "as the first word", 0.6),
        (f"{text} {'!=' if no else '=='} {word}", "the whole text, not a substring", 0.5),
    )
    for test, why, weight in options:
        yield pf.replace(node, test, f"test {word} {why}", weight)


def _fixed_offset(pf: ParsedFile, node: ast.BinOp) -> Iterator[Mutation]:
    """`'open http://' + s[5:]` assumes `s` starts with `'open '` (the literal's first 5
    characters): text before it (`xdg-open x`) is lost. Find the prefix by content instead:
    `s.replace('open ', 'open http://', 1)`."""
    prefix, rest = node.left, node.right
    if not (isinstance(prefix, ast.Constant) and isinstance(prefix.value, str)):
        return
    if not (isinstance(rest, ast.Subscript) and isinstance(rest.slice, ast.Slice)):
        return
    cut = rest.slice
    if cut.upper is not None or cut.step is not None or not isinstance(cut.lower, ast.Constant):
        return
    offset = cut.lower.value
    if (
        not isinstance(offset, int)
        or isinstance(offset, bool)
        or not 0 < offset <= len(prefix.value)
    ):
        return
    kept = prefix.value[:offset]
    text, original = pf.operand(rest.value), pf.segment(prefix)
    replaced = f"{text}.replace({string_text(original, kept)}, {original}, 1)"
    yield pf.replace(node, replaced, f"find {kept!r} by content, not at offset {offset}", 0.9)


def _os_names(tree: ast.Module) -> dict[str, str]:
    """How this module can spell `os.<constant>`: `os.pathsep` after `import os`, or the bare
    name after `from os import pathsep` (constant -> text)."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in ("os", "os.path") and (alias.asname or "os") == "os":
                    found.update({name: f"os.{name}" for name, _ in OS_CONSTANTS})
                elif alias.name == "os" and alias.asname:
                    found.update({name: f"{alias.asname}.{name}" for name, _ in OS_CONSTANTS})
        elif isinstance(node, ast.ImportFrom) and node.module in ("os", "os.path"):
            for alias in node.names:
                if any(alias.name == name for name, _ in OS_CONSTANTS):
                    found.setdefault(alias.name, alias.asname or alias.name)
    return found


def _separator(pf: ParsedFile, node: ast.Constant, spelled: dict[str, str]) -> Iterator[Mutation]:
    """A literal separator where the platform's is meant; never inside an f-string or a
    docstring, nor one that is already a default for the constant itself."""
    if isinstance(pf.parents.get(node), ast.JoinedStr | ast.Expr):
        return
    for name, values in OS_CONSTANTS:
        if node.value in values and name in spelled:
            text = spelled[name]
            yield pf.replace(node, text, f"{node.value!r} -> `{text}` (the platform's)", 0.9)
