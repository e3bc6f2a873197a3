"""Memory of verified fixes, retrieved by lexical similarity as few-shot examples.

Each row holds an error signature, the fixed location, the diff and the outcome, plus the
SHA-256 of their canonical JSON. Rows are read back only if the hash still matches, so a row
edited behind FixWurx's back (a tampered database, a bad migration) is skipped rather than
shown to a model as a trusted example. Retrieval is BM25 over identifiers, which is enough:
the same exception type, function names and file names are what make two bugs alike.

Retrieval is limited to the asking repository when one is given, so one customer's code never
appears in another customer's prompt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rank_bm25 import BM25Plus
from sqlalchemy import select

from app.db import session_scope
from app.models import FixMemory
from app.testing.results import Location, TestOutcome

log = logging.getLogger(__name__)

#: Most recent rows scanned per retrieval; BM25 runs in memory over them.
MAX_SCANNED = 2000
#: Characters of each diff shown in an example; a long diff is a poor example anyway.
EXAMPLE_DIFF_CHARS = 1500
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_NOISE = re.compile(r"0x[0-9a-fA-F]+|\b\d+\b")


@dataclass(frozen=True)
class Memory:
    """One remembered fix and how well it matched the query."""

    id: int
    repository: str | None
    error_signature: str
    location: str
    diff: str
    outcome: str
    score: float = 0.0


def signature_of(outcome: TestOutcome) -> str:
    """A stable error signature: the message without addresses or numbers, and the last frame."""
    message = _NOISE.sub("N", outcome.message.strip().splitlines()[0] if outcome.message else "")
    frame = f" at {outcome.frames[-1].path}" if outcome.frames else ""
    return f"{message}{frame}".strip()


def signature_of_failures(failing: Sequence[TestOutcome], limit: int = 3) -> str:
    """Signatures of the first failing tests, one per line: what a run's bug looked like."""
    return "\n".join(dict.fromkeys(signature_of(o) for o in failing[:limit]))


def remember_fix(
    database_url: str,
    failing: Sequence[TestOutcome],
    location: Location | None,
    diff: str,
    *,
    repository: str | None = None,
    outcome: str = "verified",
) -> int:
    """`remember` for a verified candidate: the signature comes from the failing tests."""
    where = f"{location.path}:{location.line}" if location is not None else ""
    return remember(
        database_url,
        error_signature=signature_of_failures(failing),
        location=where,
        diff=diff,
        outcome=outcome,
        repository=repository,
    )


def content_hash(
    repository: str | None, error_signature: str, location: str, diff: str, outcome: str
) -> str:
    """SHA-256 of the canonical JSON of the remembered fields."""
    canonical = json.dumps(
        {
            "diff": diff,
            "error_signature": error_signature,
            "location": location,
            "outcome": outcome,
            "repository": repository,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def remember(
    database_url: str,
    *,
    error_signature: str,
    location: str,
    diff: str,
    outcome: str = "verified",
    repository: str | None = None,
) -> int:
    """Store a fix (idempotent: the same fix twice is one row); returns its id."""
    digest = content_hash(repository, error_signature, location, diff, outcome)
    with session_scope(database_url) as session:
        existing = session.scalar(select(FixMemory.id).where(FixMemory.content_hash == digest))
        if existing is not None:
            return int(existing)
        row = FixMemory(
            repository=repository,
            error_signature=error_signature,
            location=location,
            diff=diff,
            outcome=outcome,
            content_hash=digest,
        )
        session.add(row)
        session.flush()
        return int(row.id)


def similar(
    database_url: str, query: str, *, k: int = 3, repository: str | None = None
) -> list[Memory]:
    """Up to `k` intact remembered fixes most similar to `query`, best first."""
    rows = [m for m, stored in _load(database_url, repository) if _intact(m, stored)]
    terms = tokens(query)
    if not rows or not terms:
        return []
    corpus = [tokens(_document(m)) for m in rows]
    scores = BM25Plus(corpus).get_scores(terms)
    wanted = set(terms)
    ranked = sorted(
        (
            (float(score), m)
            for score, m, doc in zip(scores, rows, corpus, strict=True)
            if wanted & set(doc)  # BM25+ gives every document a floor; demand a shared term
        ),
        key=lambda pair: (-pair[0], -pair[1].id),
    )
    return [_scored(m, score) for score, m in ranked[:k]]


def render_examples(memories: Sequence[Memory]) -> str:
    """Memories as few-shot text for a prompt."""
    parts = [
        f"Example {n}: {m.error_signature}\nFixed at: {m.location}\n{m.diff[:EXAMPLE_DIFF_CHARS]}"
        for n, m in enumerate(memories, 1)
    ]
    return "\n\n".join(parts)


def tokens(text: str) -> list[str]:
    """Lower-cased identifiers, plus the parts of snake_case and camelCase ones."""
    out: list[str] = []
    for word in _WORD.findall(text):
        lower = word.lower()
        out.append(lower)
        parts = [p.lower() for p in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", word)]
        out.extend(p for p in parts if p != lower and len(p) > 1)
    return out


def _load(database_url: str, repository: str | None) -> list[tuple[Memory, str]]:
    stmt = select(FixMemory).order_by(FixMemory.id.desc()).limit(MAX_SCANNED)
    if repository is not None:
        stmt = stmt.where(FixMemory.repository == repository)
    with session_scope(database_url) as session:
        return [
            (
                Memory(r.id, r.repository, r.error_signature, r.location, r.diff, r.outcome),
                r.content_hash,
            )
            for r in session.scalars(stmt)
        ]


def _intact(memory: Memory, stored: str) -> bool:
    actual = content_hash(
        memory.repository, memory.error_signature, memory.location, memory.diff, memory.outcome
    )
    if actual != stored:
        log.warning("fix memory %s failed its integrity check; skipping it", memory.id)
        return False
    return True


def _document(memory: Memory) -> str:
    return f"{memory.error_signature}\n{memory.location}\n{memory.diff}"


def _scored(memory: Memory, score: float) -> Memory:
    return Memory(
        memory.id,
        memory.repository,
        memory.error_signature,
        memory.location,
        memory.diff,
        memory.outcome,
        score,
    )
