"""The patch stage's progress: a summary line every few candidates, not a line per candidate,
and the numbering `fixwurx show` repeats (issue 25)."""

from __future__ import annotations

from pathlib import Path

from app.chain.stages.context import StageContext
from app.chain.stages.patch import SUMMARY_EVERY, _reporter
from app.repair.candidates import Candidate, FileEdit
from app.repair.search import Attempted
from app.repair.verifier import Verification
from app.testing.testcmd import parse


def _attempt(n: int, plausible: bool) -> Attempted:
    candidate = Candidate((FileEdit("m.py", "x = 1\n", f"x = {n}\n"),), "test", f"set x to {n}")
    return Attempted(candidate, Verification(plausible, "plausible" if plausible else "no"))


def test_rejections_are_summed_up_and_a_plausible_candidate_has_its_own_numbered_line(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    ctx = StageContext(
        root=tmp_path,
        command=parse("pytest"),
        suite_timeout=60,
        progress=lambda stage, message: said.append(message),
    )
    report = _reporter(ctx, numbered=5, plausible=0)
    for tried in range(1, 2 * SUMMARY_EVERY + 4):
        report(_attempt(tried, plausible=tried == 2 * SUMMARY_EVERY + 3), tried)
    assert said[0].startswith(f"{5 + SUMMARY_EVERY} tried, 0 plausible, ")
    assert said[1].startswith(f"{5 + 2 * SUMMARY_EVERY} tried, 0 plausible, ")
    assert said[2] == f"#{5 + 2 * SUMMARY_EVERY + 3} set x to {2 * SUMMARY_EVERY + 3}: plausible"
    assert said[3].startswith(f"{5 + 2 * SUMMARY_EVERY + 3} tried, 1 plausible, ")
    assert said[3].endswith(f"of {ctx.budget.seconds:.0f} s")
    assert len(said) == 4
