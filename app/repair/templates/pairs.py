"""Two-edit candidates: bugs no single edit can fix (`result = 0` and `result += x` in a
product copied from a sum), bounded so that they cost only what single edits leave unspent.

Pairs are built from the best single edits only: the first `POOL_FROM` singles the engine
yields (already ranked by suspiciousness x prior x weight), at most `PER_LOCATION` of them per
statement at the first `LOCATIONS` statements. Two edits pair when their spans do not
overlap, in one statement (`min(lo, max(hi, v))` with both calls swapped) or in two; a pair
scores the product of its edits' scores.
Pairs start only once `POOL_FROM` singles have been handed out (or the singles ran out), and
then alternate with the remaining singles, so a one-edit bug pays nothing for them and the
search's candidate budget bounds them like everything else. The search's pick charges a pair
for its extra changed lines, so a plausible single edit still wins over a plausible pair.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace

from app.repair.candidates import Candidate, FileEdit
from app.repair.templates.base import Mutation, ParsedFile, compiles

#: Singles handed out before the first pair: the pool is drawn from these.
POOL_FROM = 40
#: Statements whose edits may pair, in the order their first edit was handed out.
LOCATIONS = 4
#: Edits per statement that may pair, best first.
PER_LOCATION = 4
#: Pairs proposed at most (16 edits make up to 120 pairs): the best by combined score.
MAX_PAIRS = 48


@dataclass(frozen=True)
class Single:
    """A single-edit candidate with the mutation that made it, so it can be combined."""

    candidate: Candidate
    parsed: ParsedFile
    mutation: Mutation
    line: int


def interleave(singles: Iterator[Single]) -> Iterator[Candidate]:
    """All the singles, in order, with pairs of the best ones mixed in after `POOL_FROM`.

    The stream stays ranked: a pair placed between two singles takes a score between theirs
    (its own product of scores, moved into that interval), and the pairs after the last
    single score no higher than it.
    """
    drawn: list[Single] = []
    seen: set[str] = set()
    for single in itertools.islice(singles, POOL_FROM):
        drawn.append(single)
        seen.add(single.candidate.key)
        yield single.candidate
    pairs = iter(best_pairs(drawn))
    previous = drawn[-1].candidate.score if drawn else 0.0
    for single in singles:
        pair = _next_new(pairs, seen)
        if pair is not None:
            yield replace(pair, score=min(max(pair.score, single.candidate.score), previous))
        if single.candidate.key not in seen:  # else a pair already made the same code
            seen.add(single.candidate.key)
            yield single.candidate
            previous = single.candidate.score
    while (pair := _next_new(pairs, seen)) is not None:
        previous = min(pair.score, previous)
        yield replace(pair, score=previous)


def _next_new(pairs: Iterator[Candidate], seen: set[str]) -> Candidate | None:
    """The next pair whose code no candidate so far has."""
    for pair in pairs:
        if pair.key not in seen:
            seen.add(pair.key)
            return pair
    return None


def best_pairs(drawn: list[Single]) -> list[Candidate]:
    """Pairs of the best edits at the best statements, highest combined score first."""
    by_statement: dict[tuple[str, int], list[Single]] = {}
    for single in drawn:
        group = by_statement.setdefault((single.parsed.path, single.line), [])
        if len(group) < PER_LOCATION:
            group.append(single)
    statements = list(by_statement.values())[:LOCATIONS]
    edits = [single for group in statements for single in group]
    pairs: list[Candidate] = []
    for first, second in itertools.combinations(edits, 2):
        pair = combine(first, second)
        if pair is not None:
            pairs.append(pair)
    pairs.sort(key=lambda c: -c.score)
    return pairs[:MAX_PAIRS]


def combine(first: Single, second: Single) -> Candidate | None:
    """One candidate applying both edits; None when they overlap."""
    a, b = first.candidate, second.candidate
    if first.parsed.path == second.parsed.path:
        if not _disjoint(first.mutation, second.mutation):
            return None
        later, earlier = sorted((first.mutation, second.mutation), key=lambda m: -m.start)
        text = first.parsed.apply(later)
        text = text[: earlier.start] + earlier.text + text[earlier.end :]
        if not compiles(text):
            return None
        edits: tuple[FileEdit, ...] = (FileEdit(first.parsed.path, first.parsed.text, text),)
    else:
        edits = (*a.edits, *b.edits)
    return Candidate(
        edits=edits,
        source="template:pair",
        description=f"{a.description}; and {b.description}",
        score=round(a.score * b.score, 6),
        location=a.location,
        metadata={
            "family": "pair",
            "families": [a.metadata.get("family"), b.metadata.get("family")],
            "deletion": bool(a.metadata.get("deletion") or b.metadata.get("deletion")),
            "inverts": bool(a.metadata.get("inverts") or b.metadata.get("inverts")),
            "weight": 0.0,
        },
    )


def _disjoint(a: Mutation, b: Mutation) -> bool:
    """Spans that neither overlap nor insert at the same point."""
    if a.start == b.start:
        return False
    return a.end <= b.start or b.end <= a.start
