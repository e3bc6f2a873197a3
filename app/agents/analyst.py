"""`LlmSource`: a candidate source backed by a language model (Agentless-style).

Localization narrows the repository in three cheap calls: file names -> functions -> lines.
The patch prompt then holds only the merged code windows around the chosen lines and the lines
the spectrum-based localizer suspected, cut to a token budget. Several samples are drawn (the
first greedy, the rest with temperature), parsed as SEARCH/REPLACE blocks, checked by
`app.agents.safety` and deduplicated by `Candidate.key`. When the planner sets
`RepairContext.feedback` (the verifier's output for a failed candidate), the next round shows
that output and the failed diff, and the new candidates name it as their `parent`.

`propose` is a generator: candidates reach the planner as soon as each sample is parsed. When
the budget runs out or every provider fails, it raises (`BudgetExhausted`, `ProviderError`)
where that happens; the search still verifies the candidates it yielded before
(`app.repair.search`, `stops`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from app import workfiles
from app.agents import memory, safety
from app.agents.budget import Spend
from app.agents.edits import apply_blocks, parse_blocks
from app.agents.llm import context as ctx
from app.agents.llm.base import ChatRequest, ChatResponse
from app.agents.llm.chain import ProviderChain
from app.agents.llm.prompts import failures_block, issue_block, render
from app.errors import PatchError
from app.repair.candidates import Candidate, RepairContext
from app.testing.results import Location

log = logging.getLogger(__name__)

_SYMBOL = re.compile(r"([\w./-]+\.py)::([\w.]+)")
_RANGE = re.compile(r"([\w./-]+\.py):(\d+)(?:\s*-\s*(\d+))?")
#: Score given to windows the model picked, above any spectrum score (which lies in 0..1).
MODEL_PICK_SCORE = 2.0
#: Failed candidates whose diffs a feedback round shows at most.
MAX_REFINED = 3
#: Score of windows around traceback frames that the spectrum localizer did not rank.
FRAME_SCORE = 0.3


@dataclass(frozen=True)
class AnalystConfig:
    """Knobs of the analyst; the defaults suit a mid-size repository and a strong model."""

    samples: int = 3
    temperature: float = 0.8
    localize: bool = True
    max_files: int = 3
    max_symbols: int = 5
    max_ranges: int = 5
    context_tokens: int = 6000
    localize_max_tokens: int = 400
    patch_max_tokens: int = 2048
    memory_examples: int = 2


@dataclass
class LlmSource:
    """Proposes model-written patches for a `RepairContext`."""

    chain: ProviderChain
    config: AnalystConfig = field(default_factory=AnalystConfig)
    memory_url: str | None = None
    repository: str | None = None
    name: str = "llm"
    #: The planner's patch stage gives feedback rounds only to sources that say they use them.
    accepts_feedback: bool = True
    last_round: list[Candidate] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    spent: Spend = field(default_factory=Spend)
    _localized: dict[tuple[str, ...], list[ctx.Window]] = field(default_factory=dict)

    def propose(self, context: RepairContext) -> Iterator[Candidate]:
        """Candidates best first; raises `BudgetExhausted`/`ProviderError` when the budget or
        every provider runs out, also after some candidates (see the module docstring)."""
        self.errors = []
        pending = Spend()
        windows, cost = self.localize(context)
        pending = pending + cost
        code, kept = ctx.render(context.root, windows, self.config.context_tokens)
        scope = safety.Scope.of(
            (w.path for w in kept if not safety.is_test_path(w.path)),
            allow_github_paths=context.allow_github_paths,
        )
        refined = self._refined(context)
        prompt = self._patch_prompt(context, code, refined)
        parent = refined[0].key if refined else None
        self.last_round = []
        for sample in range(self.config.samples):
            response = self._ask(prompt, self.config.patch_max_tokens, self._temperature(sample))
            pending = pending + _spend(response)
            candidate = self._candidate(response, context.root, scope, kept, sample)
            if candidate is None or candidate.key in {c.key for c in self.last_round}:
                continue
            candidate = _with_cost(candidate, pending, parent)
            pending = Spend()
            self.last_round.append(candidate)
            yield candidate

    def _refined(self, context: RepairContext) -> list[Candidate]:
        """The candidates a feedback round improves on: those the feedback names, else the
        previous round's best."""
        if not context.feedback:
            return []
        return list(context.rejected or self.last_round[:1])[:MAX_REFINED]

    def _temperature(self, sample: int) -> float:
        return 0.0 if sample == 0 else self.config.temperature

    def _ask(self, prompt: str, max_tokens: int, temperature: float = 0.0) -> ChatResponse:
        request = ChatRequest.single(render("system"), prompt, max_tokens, temperature)
        response = self.chain.complete(request)
        self.spent = self.spent + _spend(response)
        return response

    # --- localization: files -> functions -> lines -------------------------------------------

    def localize(self, context: RepairContext) -> tuple[list[ctx.Window], Spend]:
        """Ranked code windows for `context` (cached per context) and what finding them cost."""
        key = (str(context.root), context.issue_text, *(o.test_id for o in context.failing))
        if key in self._localized:
            return self._localized[key], Spend()
        before = self.spent
        seeds = seed_windows(context)
        picked = self._model_windows(context, seeds) if self.config.localize else []
        windows = ctx.merge(picked + seeds)
        allow = context.allow_github_paths
        windows = [w for w in windows if _showable(w.path, context.ignore_paths, allow)]
        self._localized[key] = windows
        return windows, Spend(self.spent.tokens - before.tokens, self.spent.usd - before.usd)

    def _model_windows(self, context: RepairContext, seeds: list[ctx.Window]) -> list[ctx.Window]:
        listing = [
            p
            for p in ctx.list_files(context.root, context.ignore_paths)
            if _showable(p, (), context.allow_github_paths)
        ]
        files = self._pick_files(context, listing) or _unique(w.path for w in seeds)
        files = files[: self.config.max_files]
        if not files:
            return []
        symbols = self._pick_symbols(context, files)
        ranges = self._pick_ranges(context, symbols) if symbols else []
        if ranges:
            return ranges
        if symbols:
            return [ctx.Window(s.path, s.start, s.end, MODEL_PICK_SCORE, s.name) for s in symbols]
        # No function picked (module-level code?): show the files' heads, cut to the budget.
        return [ctx.Window(f, 1, len(ctx.read_lines(context.root, f)), 1.0, "file") for f in files]

    def _pick_files(self, context: RepairContext, listing: list[str]) -> list[str]:
        prompt = render(
            "localize_files",
            issue=issue_block(context.issue_text),
            failures=failures_block(context.failing),
            files=safety.fence("file-list", "\n".join(listing)),
            max_files=str(self.config.max_files),
        )
        answer = self._ask(prompt, self.config.localize_max_tokens).text
        return parse_files(answer, listing)[: self.config.max_files]

    def _pick_symbols(self, context: RepairContext, files: list[str]) -> list[ctx.Symbol]:
        prompt = render(
            "localize_functions",
            issue=issue_block(context.issue_text),
            failures=failures_block(context.failing),
            skeletons=safety.fence(
                "outline", "\n".join(ctx.skeleton(context.root, f) for f in files)
            ),
            max_symbols=str(self.config.max_symbols),
        )
        answer = self._ask(prompt, self.config.localize_max_tokens).text
        known = [s for f in files for s in ctx.symbols(context.root, f)]
        return parse_symbols(answer, known)[: self.config.max_symbols]

    def _pick_ranges(self, context: RepairContext, symbols: list[ctx.Symbol]) -> list[ctx.Window]:
        shown = [ctx.Window(s.path, s.start, s.end, why=s.name) for s in symbols]
        code, _ = ctx.render(context.root, shown, self.config.context_tokens, numbered=True)
        prompt = render(
            "localize_lines",
            issue=issue_block(context.issue_text),
            failures=failures_block(context.failing),
            code=safety.fence("code", code),
            max_ranges=str(self.config.max_ranges),
        )
        answer = self._ask(prompt, self.config.localize_max_tokens).text
        allowed = {s.path for s in symbols}
        ranges = parse_ranges(answer, allowed)[: self.config.max_ranges]
        return [_widen(context.root, r) for r in ranges]

    # --- patching ------------------------------------------------------------------------------

    def _patch_prompt(self, context: RepairContext, code: str, refined: list[Candidate]) -> str:
        return render(
            "patch",
            issue=issue_block(context.issue_text),
            failures=failures_block(context.failing),
            context=safety.fence("code", code) if code else "(no code windows found)",
            examples=self._examples(context),
            feedback=self._feedback(context, refined),
        )

    def _examples(self, context: RepairContext) -> str:
        if not self.memory_url or self.config.memory_examples <= 0:
            return ""
        query = "\n".join(
            [context.issue_text, *(f"{o.message}\n{o.traceback}" for o in context.failing)]
        )
        try:
            found = memory.similar(
                self.memory_url, query, k=self.config.memory_examples, repository=self.repository
            )
        except SQLAlchemyError as exc:  # examples are a bonus; a repair must not fail for them
            log.warning("fix memory unavailable: %s", type(exc).__name__)
            return ""
        if not found:
            return ""
        return render(
            "examples", examples=safety.fence("past-fixes", memory.render_examples(found))
        )

    def _feedback(self, context: RepairContext, refined: list[Candidate]) -> str:
        if not context.feedback:
            return ""
        previous = "\n".join(c.diff() for c in refined) or "(not available)"
        return render(
            "feedback",
            previous=safety.fence("previous-patch", previous),
            output=safety.fence("verifier-output", context.feedback[-6000:]),
        )

    def _candidate(
        self,
        response: ChatResponse,
        root: Path,
        scope: safety.Scope,
        kept: list[ctx.Window],
        sample: int,
    ) -> Candidate | None:
        try:
            edits = apply_blocks(root, parse_blocks(response.text))
            if not edits:
                raise PatchError("the answer holds no SEARCH/REPLACE block that changes a file")
            candidate = Candidate(
                edits=edits,
                source=f"llm:{response.provider}/{response.model}",
                description=_description(response.text),
                score=1.0 / (1 + sample),
                location=_location(kept, edits[0].path),
                metadata={
                    "provider": response.provider,
                    "model": response.model,
                    "sample": sample,
                    "windows": [f"{w.path}:{w.start}-{w.end}" for w in kept],
                },
            )
            safety.check_candidate(candidate, scope)
        except PatchError as exc:
            self.errors.append(f"sample {sample}: {exc}")
            return None
        return candidate


def seed_windows(context: RepairContext) -> list[ctx.Window]:
    """Windows around the suspicious lines and the traceback frames that exist in the repo."""
    seeds = [
        _scored(ctx.enclosing(context.root, loc.path, loc.line), loc.score, loc.why)
        for loc in context.locations
        if workfiles.is_file(context.root, loc.path)
    ]
    for outcome in context.failing:
        for frame in outcome.frames:
            if workfiles.is_file(context.root, frame.path):
                seeds.append(
                    _scored(
                        ctx.enclosing(context.root, frame.path, frame.line),
                        FRAME_SCORE,
                        "traceback",
                    )
                )
    return seeds


def parse_files(answer: str, listing: list[str]) -> list[str]:
    """Listed paths named in the answer, in the answer's order."""
    found: list[str] = []
    for raw in answer.splitlines():
        token = raw.strip().strip("`*-• ").split(" ")[0].lstrip("0123456789.) ")
        match = next(
            (p for p in listing if p == token or (token and p.endswith("/" + token))), None
        )
        if match and match not in found:
            found.append(match)
    return found


def parse_symbols(answer: str, known: list[ctx.Symbol]) -> list[ctx.Symbol]:
    """Known symbols named as `path::Name` in the answer, in order."""
    found: list[ctx.Symbol] = []
    for path, name in _SYMBOL.findall(answer):
        for symbol in known:
            if symbol.path == path and (symbol.name == name or symbol.name.endswith("." + name)):
                if symbol not in found:
                    found.append(symbol)
                break
    return found


def parse_ranges(answer: str, allowed: set[str]) -> list[ctx.Window]:
    """`path:start-end` ranges in the answer over allowed files, in order."""
    ranges: list[ctx.Window] = []
    for path, start, end in _RANGE.findall(answer):
        if path in allowed:
            first = int(start)
            last = max(first, int(end)) if end else first
            ranges.append(ctx.Window(path, first, last, MODEL_PICK_SCORE, "model"))
    return ranges


def _widen(root: Path, window: ctx.Window) -> ctx.Window:
    # The patch needs the whole function around the picked lines to write a unique SEARCH.
    around = ctx.enclosing(root, window.path, window.start)
    start, end = min(around.start, window.start), max(around.end, window.end)
    return ctx.Window(window.path, start, end, window.score, around.why or window.why)


def _scored(window: ctx.Window, score: float, why: str) -> ctx.Window:
    return ctx.Window(window.path, window.start, window.end, score, why or window.why)


def _unique(paths: Iterator[str] | list[str]) -> list[str]:
    return list(dict.fromkeys(paths))


def _showable(path: str, ignore: tuple[str, ...], allow_github_paths: bool = False) -> bool:
    # Ignored paths are out of the repair; refused ones (secrets, CI) never leave the machine.
    ignored = any(path.startswith(prefix) for prefix in ignore)
    return (
        not ignored and safety.refusal_reason(path, allow_github_paths=allow_github_paths) is None
    )


def _spend(response: ChatResponse) -> Spend:
    return Spend(response.usage.total, response.cost_usd)


def _with_cost(candidate: Candidate, spend: Spend, parent: str | None) -> Candidate:
    from dataclasses import replace

    return replace(candidate, tokens=spend.tokens, cost_usd=spend.usd, parent=parent)


def _description(text: str) -> str:
    for line in text.splitlines():
        clean = line.strip().strip("`#* ")
        if clean and "<<<<<<<" not in clean:
            return safety.defuse_mentions(clean[:200])
    return "model patch"


def _location(kept: list[ctx.Window], path: str) -> Location | None:
    window = next((w for w in kept if w.path == path), None)
    if window is None:
        return None
    return Location(window.path, window.start, min(window.score, 1.0), window.why or "model")
