"""The closest candidate of a run that found no full fix: kept and reported, never proposed.

A candidate that turns K of N failing tests green and breaks nothing is evidence worth showing
(issue 25: "a candidate that fixes part of a group is reported as partial, never silently
dropped"). It is no fix: the run still ends not fixed, and the diff goes to the run state and
the report, not to a pull request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.repair.search import Attempted, edit_cost

#: The diff kept for the closest candidate is cut to this many characters.
DIFF_LIMIT = 20_000


def closest_partial(attempted: Sequence[Attempted], first_number: int) -> dict[str, Any] | None:
    """The best partial candidate among `attempted` as plain JSON, or None when there is none.

    Most tests turned green wins, then the smaller edit (`edit_cost`), then the earlier
    candidate. `first_number` is the run's number of `attempted[0]` (candidates are numbered
    from 1 across the run, as the progress lines and `fixwurx show` number them).
    """
    partial = [(i, a) for i, a in enumerate(attempted) if a.verification.partial]
    if not partial:
        return None
    index, best = min(
        partial,
        key=lambda p: (-len(p[1].verification.green), edit_cost(p[1].candidate), p[0]),
    )
    verdict, candidate = best.verification, best.candidate
    return {
        "number": first_number + index,
        "id": candidate.key,
        "source": candidate.source,
        "description": candidate.description,
        "green": list(verdict.green),
        "still_failing": list(verdict.still_failing),
        "total": len(verdict.after),
        "files": [e.path for e in candidate.edits],
        "diff": candidate.diff()[:DIFF_LIMIT],
    }


def partial_line(partial: dict[str, Any]) -> str:
    """`the closest candidate, #7, turns 2 of 3 failing tests green: <what>; still failing: t`."""
    green, total = len(partial.get("green") or []), int(partial.get("total") or 0)
    still = [str(t) for t in partial.get("still_failing") or []]
    shown = ", ".join(still[:3]) + (f" and {len(still) - 3} more" if len(still) > 3 else "")
    return (
        f"the closest candidate, #{partial.get('number')}, turns {green} of {total} failing tests "
        f"green: {partial.get('description', '')}; still failing: {shown or 'none'}"
    )
