"""Turning ranked locations into ranked candidates, lazily.

A candidate's score is suspiciousness x prior x weight, and no prior exceeds `MAX_PRIOR`; so
once the heap's best score beats what the next location could possibly reach, it is safe to
yield it before generating anything more. Generation stays cheap: mutations are text spans
until a candidate is yielded.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from app import pysource
from app.patches import guarded_path
from app.repair.candidates import Candidate, FileEdit, RepairContext
from app.repair.scope import in_scope
from app.repair.templates import (
    calls,
    conditions,
    expressions,
    guards,
    likelihood,
    literals,
    names,
    off_by_one,
    operators,
    statements,
    swaps,
    text_patterns,
)
from app.repair.templates.base import MAX_WEIGHT, Mutation, ParsedFile, compiles, own_nodes
from app.repair.templates.hints import family_boosts
from app.repair.templates.pairs import Single, interleave
from app.testing.results import Location

#: Every template family, in the order ties are broken.
FAMILIES: tuple[ModuleType, ...] = (
    operators,
    off_by_one,
    conditions,
    swaps,
    names,
    calls,
    expressions,
    literals,
    text_patterns,
    guards,
    statements,
)
#: Locations expanded per proposal: further down the ranking, suspiciousness is noise.
MAX_LOCATIONS = 60


@dataclass(order=True)
class _Pending:
    sort_key: tuple[float, int]
    location: Location = field(compare=False)
    family: ModuleType = field(compare=False)
    mutation: Mutation = field(compare=False)
    parsed: ParsedFile = field(compare=False)


class TemplateSource:
    """The `CandidateSource` of the template families (name "templates")."""

    name = "templates"

    def __init__(
        self,
        families: Iterable[ModuleType] = FAMILIES,
        evidence: Mapping[str, int] | None = None,
    ) -> None:
        """`evidence`: verified fixes per family (default: likelihood.py's evidence.json),
        which nudges each family's prior (see likelihood.py)."""
        self.families = tuple(families)
        verified = likelihood.load() if evidence is None else evidence
        self.learned = likelihood.factors(verified, tuple(f.FAMILY for f in self.families))

    def propose(self, context: RepairContext) -> Iterator[Candidate]:
        """Candidates for the context's locations, best first, without duplicates; pairs of
        the best single edits join once the best singles are out (see pairs.py)."""
        return interleave(self._singles(context))

    def _singles(self, context: RepairContext) -> Iterator[Single]:
        locations = [
            loc
            for loc in context.locations
            if in_scope(loc.path, None, context.ignore_paths) and not guarded_path(loc.path)
        ][:MAX_LOCATIONS]  # never .github/ or .gitmodules: CI runs them with its secrets
        locations.sort(key=lambda loc: -loc.score)
        boosts = family_boosts(context.failing)
        for family, factor in self.learned.items():
            boosts[family] = boosts.get(family, 1.0) * factor
        priors = (f.PRIOR * boosts.get(f.FAMILY, 1.0) for f in self.families)
        best = max(priors, default=1.0) * MAX_WEIGHT
        files: dict[str, ParsedFile | None] = {}
        heap: list[_Pending] = []
        seen: set[str] = set()
        counter = itertools.count()
        for index, location in enumerate(locations):
            parsed = _parsed(files, context.root, location.path)
            if parsed is not None:
                self._expand(parsed, location, heap, counter, boosts)
            ceiling = locations[index + 1].score * best if index + 1 < len(locations) else -1
            yield from _drain(heap, seen, ceiling)
        yield from _drain(heap, seen, float("-inf"))

    def _expand(
        self,
        parsed: ParsedFile,
        location: Location,
        heap: list[_Pending],
        counter: Iterator[int],
        boosts: dict[str, float],
    ) -> None:
        stmt = parsed.statement_at(location.line)
        if stmt is None:
            return
        nodes = own_nodes(stmt)
        for family in self.families:
            for mutation in family.mutations(parsed, stmt, nodes):
                prior = family.PRIOR * boosts.get(family.FAMILY, 1.0)
                score = max(location.score, 1e-6) * prior * mutation.weight
                heapq.heappush(
                    heap, _Pending((-score, next(counter)), location, family, mutation, parsed)
                )


def _parsed(files: dict[str, ParsedFile | None], root: Path, path: str) -> ParsedFile | None:
    if path not in files:
        try:
            text = pysource.read_source(root, path)  # bounded: never a huge file
            files[path] = None if text is None else ParsedFile(path, text)
        except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
            files[path] = None
    return files[path]


def _drain(heap: list[_Pending], seen: set[str], ceiling: float) -> Iterator[Single]:
    """Yield pending candidates whose score no later location can beat."""
    while heap and -heap[0].sort_key[0] >= ceiling:
        pending = heapq.heappop(heap)
        candidate = _candidate(pending)
        if candidate is not None and candidate.key not in seen:
            seen.add(candidate.key)
            yield Single(candidate, pending.parsed, pending.mutation, pending.location.line)


def _candidate(pending: _Pending) -> Candidate | None:
    parsed, mutation = pending.parsed, pending.mutation
    after = parsed.apply(mutation)
    if after == parsed.text or not compiles(after):
        return None
    family = pending.family.FAMILY
    return Candidate(
        edits=(FileEdit(parsed.path, parsed.text, after),),
        source=f"template:{family}",
        description=f"{parsed.path}:{pending.location.line}: {mutation.description}",
        score=round(-pending.sort_key[0], 6),
        location=pending.location,
        metadata={
            "family": family,
            "deletion": mutation.deletion,
            "inverts": mutation.inverts,
            "weight": mutation.weight,
        },
    )
