"""The terminal report of a fix shows the cheap model's root-cause explanation it paid for."""

from __future__ import annotations

from app.agents.budget import Budget
from app.agents.explainer import explain
from app.chain.state import RunState
from app.config import Settings
from app.local.report import fixed_report, run_summary
from app.patches import PatchBundle
from tests.fakes.llm import Reply, fake_llm

DIFF = "--- a/ages.py\n+++ b/ages.py\n@@ -1 +1 @@\n-    return age > 18\n+    return age >= 18\n"


def bundle(explanation: str = "") -> PatchBundle:
    return PatchBundle(
        base_commit="a" * 40,
        diff=DIFF,
        files=("ages.py",),
        evidence={"before": [{"test": "t::test_18", "outcome": "failed"}], "after": []},
        localization=[{"path": "ages.py", "line": 1, "score": 1.0, "why": "covered"}],
        source="templates",
        summary="`>` -> `>=`",
        explanation=explanation,
    )


def test_fixed_report_shows_the_models_explanation() -> None:
    with fake_llm("openai") as server:
        server.push(Reply("The check excluded 18 itself:\n`>` should have been `>=`."))
        settings = Settings(openai_api_key="k", openai_base_url=server.base_url)
        text = explain(bundle(), settings, Budget.unlimited(), issue_text="18 is not adult")
    report = fixed_report(bundle(text), RunState(source="/repo"), "/tmp/b.json")
    assert "  why: The check excluded 18 itself:\n       `>` should have been `>=`." in report
    assert report.index("root cause: ages.py:1") < report.index("why: The check")


def test_fixed_report_without_an_explanation_has_no_why_line() -> None:
    assert "why:" not in fixed_report(bundle(), RunState(source="/repo"), "/tmp/b.json")


def test_the_json_summary_counts_the_baseline_and_tells_the_environment() -> None:
    state = RunState(source="/repo", done=["environment", "reproduce"], baseline_duration=2.345)
    state.environment = {"python_version": "3.12.1", "how": "Python 3.12.1 venv", "seconds": 4.0}
    state.pre_existing = ["t::needs_net"]
    state.baseline_peak_mb = 321
    state.baseline = [
        {"test_id": f"t::{n}", "outcome": outcome}
        for n, outcome in enumerate(["passed", "passed", "passed", "failed", "error", "skipped"])
    ]
    summary = run_summary(state)
    assert summary["environment"]["python_version"] == "3.12.1"
    assert summary["baseline"] == {
        "collected": 6,
        "passed": 3,
        "failed": 1,
        "error": 1,
        "skipped": 1,
        "seconds": 2.35,
        "peak_mb": 321,
        "pre_existing": 1,
    }


def test_the_json_summary_of_a_run_that_never_reached_its_tests() -> None:
    assert run_summary(None) == {"environment": None, "baseline": None}
    built_only = RunState(source="/repo", done=["environment"])
    built_only.environment = {"python_version": "3.11.9"}
    assert run_summary(built_only)["baseline"] is None
    assert run_summary(built_only)["environment"] == {"python_version": "3.11.9"}
