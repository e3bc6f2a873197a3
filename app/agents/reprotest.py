"""A reproduction test for an issue that comes without a failing test.

The model is shown the issue, the code the analyst localized and the head of an existing test
file (to copy its import style), and answers with one SEARCH/REPLACE block that creates a new
test file. This module only writes it; the caller must run it in the sandbox and keep it only if
it fails before the patch for the issue's reason (app/testing/repro_match.py), and the fix must
turn it green. A rejected test is shown to the model on its next try, with what it printed.
The kept file ships in the pull request, so that the bug stays fixed.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app import pysource, workfiles
from app.agents import safety
from app.agents.analyst import AnalystConfig, LlmSource
from app.agents.edits import EditError, apply_blocks, parse_blocks
from app.agents.llm import context as ctx
from app.agents.llm.base import ChatRequest
from app.agents.llm.chain import ProviderChain
from app.agents.llm.prompts import issue_block, render
from app.repair.candidates import Candidate, FileEdit, RepairContext
from app.testing.repro_match import Attempt

#: Stem of the generated file; a numeric suffix is added when the name is taken.
TEST_FILE_STEM = "test_fixwurx_repro"
#: Lines of an existing test file shown as a style reference.
REFERENCE_LINES = 60
#: Earlier tries shown to the model at most, and characters of what each printed.
MAX_PREVIOUS_SHOWN = 3
MAX_OBSERVED_CHARS = 600


@dataclass(frozen=True)
class ReproTest:
    """A generated test file and what it cost."""

    edit: FileEdit
    tokens: int
    cost_usd: float
    #: The localized code the prompt showed, for the next try.
    code: str = ""

    @property
    def path(self) -> str:
        """Repository-relative path of the new test file."""
        return self.edit.path

    def as_candidate(self) -> Candidate:
        """The test file alone as a candidate, for the planner's run tree."""
        return Candidate(
            (self.edit,),
            "llm:reprotest",
            f"reproduction test {self.path}",
            tokens=self.tokens,
            cost_usd=self.cost_usd,
        )


def new_test_path(root: Path) -> str:
    """A free path for the test file, in `tests/` when the repository has that directory."""
    tests = (root / "tests").is_dir() and not workfiles.is_link(root, "tests")
    folder = "tests/" if tests else ""
    for n in range(1, 100):
        name = f"{folder}{TEST_FILE_STEM}{'' if n == 1 else f'_{n}'}.py"
        if not (root / name).exists() and not workfiles.is_link(root, name):  # nor a dangling link
            return name
    raise EditError(f"{folder}{TEST_FILE_STEM}_*.py: no free file name left")


def located_code(
    context: RepairContext, chain: ProviderChain, config: AnalystConfig | None = None
) -> tuple[str, int, float]:
    """The code the analyst localizes for the issue, rendered, with its tokens and cost.

    Done once per run: a second reproduction attempt reuses it rather than paying again.
    """
    config = config or AnalystConfig(samples=1)
    windows, spent = LlmSource(chain, config).localize(context)
    code, _ = ctx.render(context.root, windows, config.context_tokens)
    return code, spent.tokens, spent.usd


def write_reproduction_test(
    context: RepairContext,
    chain: ProviderChain,
    config: AnalystConfig | None = None,
    previous: Sequence[Attempt] = (),
    code: str | None = None,
) -> ReproTest:
    """Ask the model for a failing test; `EditError`/`UnsafeEdit` if the answer is unusable.

    `previous` are the tests already tried and why each was not kept (it passed, or it failed
    for its own reason): the model sees them, so a second try is not the first one again.
    `code` is the localized code from an earlier try (None: localize now).
    """
    config = config or AnalystConfig(samples=1)
    tokens, usd = 0, 0.0
    if code is None:
        code, tokens, usd = located_code(context, chain, config)
    path = new_test_path(context.root)
    prompt = render(
        "reprotest",
        issue=issue_block(context.issue_text),
        context=safety.fence("code", code) if code else "(no code located)",
        tests=safety.fence("tests", _reference_test(context.root)),
        previous=_previous_block(previous),
        path=path,
    )
    request = ChatRequest.single(render("system"), prompt, config.patch_max_tokens)
    response = chain.complete(request)
    edit = _the_new_file(context.root, response.text, path)
    spent_tokens = tokens + response.usage.total
    return ReproTest(edit, spent_tokens, usd + response.cost_usd, code)


def _previous_block(previous: Sequence[Attempt]) -> str:
    """Earlier tries, fenced as data: each file, why it was rejected, and what it printed."""
    if not previous:
        return "(none: this is the first try)"
    parts = []
    for n, attempt in enumerate(previous[-MAX_PREVIOUS_SHOWN:], 1):
        shown = attempt.observed[-MAX_OBSERVED_CHARS:]
        parts.append(f"Try {n}: {attempt.line()}" + (f"\n{shown}" if shown else ""))
    return safety.fence("previous-tries", "\n\n".join(parts))


def _the_new_file(root: Path, answer: str, path: str) -> FileEdit:
    edits = apply_blocks(root, parse_blocks(answer))
    if len(edits) != 1 or edits[0].path != path:
        got = ", ".join(e.path for e in edits) or "nothing"
        raise EditError(f"expected one new test file {path}, the model wrote {got}")
    edit = edits[0]
    safety.check_edit(edit, safety.Scope.of((), new_tests=True))
    try:
        tree = ast.parse(edit.after)
    except pysource.PARSE_ERRORS as exc:  # a model's text: RecursionError and MemoryError too
        reason = getattr(exc, "msg", None) or type(exc).__name__
        raise EditError(f"{path}: the generated test is not valid Python ({reason})") from None
    if not any(_is_test(node) for node in ast.walk(tree)):
        raise EditError(f"{path}: the generated file defines no test_ function")
    return edit


def _is_test(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")


def _reference_test(root: Path) -> str:
    tests = [p for p in ctx.list_files(root) if safety.is_test_path(p)]
    if not tests:
        return "(no existing tests)"
    lines = ctx.read_lines(root, tests[0])[:REFERENCE_LINES]
    return f"--- {tests[0]}\n" + "\n".join(lines)
