"""Which template families made verified fixes: a bounded nudge to their hand-set priors.

The families' `PRIOR`s were set by hand. `evidence.json` counts, per family, the verified and
correct fixes of past runs (written by `benchmarks/learn_priors.py` from benchmark results;
nothing in it names a case). A family that fixed more is tried a little earlier at the same
suspiciousness: its prior is multiplied by a factor between `LOW` and `HIGH`, growing with its
share of the fixes (add-one smoothed, so a family with no fix yet is never ruled out). The
factor is bounded so that evidence reorders candidates of similar promise; it never lets a
family overtake a much more suspicious location.
"""

from __future__ import annotations

import json
import pkgutil
from collections.abc import Mapping
from pathlib import Path

#: Verified fixes per family, learned from benchmark results (this package's data).
EVIDENCE = Path(__file__).with_name("evidence.json")
#: The range of the factor applied to a family's prior.
LOW, HIGH = 0.8, 1.2


def load(text: str | None = None) -> dict[str, int]:
    """The verified fixes per family in `text` (default: evidence.json, read as package data,
    never from a work copy); {} (no nudge) when absent or unreadable."""
    try:
        if text is None:
            text = (pkgutil.get_data(__package__, EVIDENCE.name) or b"").decode("utf-8")
        data = json.loads(text)
        counts = data.get("verified", {})
        return {str(k): int(v) for k, v in counts.items() if int(v) >= 0}
    except (OSError, ValueError, TypeError, AttributeError, UnicodeDecodeError):
        return {}


def factors(verified: Mapping[str, int], families: tuple[str, ...]) -> dict[str, float]:
    """Each family's factor in [LOW, HIGH]: its smoothed share of the fixes relative to the
    family with the most; every family 1.0 when there is no evidence at all."""
    if not verified or not any(verified.values()):
        return {family: 1.0 for family in families}
    top = max(verified.get(family, 0) for family in (*families, *verified)) + 1
    return {family: LOW + (HIGH - LOW) * (verified.get(family, 0) + 1) / top for family in families}
