"""Count the verified and correct fixes per template family in benchmark results.

    python benchmarks/learn_priors.py benchmarks/results/run-*.json   # rewrites evidence.json

Reads `run_repair.py --json` results (a case counts when its patch was plausible and passed the
held-out tests, and came from a template: its `source` is `template:<family>`), and writes
the per-family counts to app/repair/templates/evidence.json, which the template engine uses
to nudge its family priors (app/repair/templates/likelihood.py). Only family names and counts
are kept: nothing names a case. Learn from the development set only, never from held-out
results, or the held-out figures stop meaning anything.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.repair.templates.likelihood import EVIDENCE  # noqa: E402


def count(results: list[Path]) -> Counter[str]:
    """Verified and correct template fixes per family, over every results file."""
    verified: Counter[str] = Counter()
    for path in results:
        for case in json.loads(path.read_text(encoding="utf-8")).get("cases", []):
            source = str(case.get("source", ""))
            if case.get("fixed") and case.get("correct") and source.startswith("template:"):
                verified[source.removeprefix("template:")] += 1
    return verified


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    verified = count([Path(a) for a in argv])
    payload = {
        "about": "verified and correct template fixes per family, by benchmarks/learn_priors.py",
        "runs": len(argv),
        "verified": dict(sorted(verified.items())),
    }
    EVIDENCE.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"{EVIDENCE}: {payload['verified']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
