"""The FixWurx check's summary and annotation, the canary workflow, logs and JUnit artifacts."""

from __future__ import annotations

import io
import zipfile

import yaml

from app.commands.workflow import workflow_text
from app.flows.ci import checks
from app.flows.ci.start import canary_inputs
from app.github import actions

BUNDLE = {
    "hash": "sha256:" + "ab" * 32,
    "base_commit": "1234567890abcdef",
    "evidence": {
        "before": [{"test": "tests/test_ages.py::test_eighteen", "outcome": "failed"}],
        "after": [{"test": "tests/test_ages.py::test_eighteen", "outcome": "passed"}],
        "regression": {"baseline_passing": 2, "tests_run": 3, "newly_failing": []},
    },
    "root_cause": {"path": "ages.py", "line": 3, "why": "off by one"},
}


def test_summary_shows_the_sandbox_evidence_and_the_ci_rows() -> None:
    rows = [
        checks.CiRow("canary", "FixWurx canary", "success", url="http://x/1"),
        checks.CiRow("smoke", "Lint", "failure", "already red on the base commit"),
    ]
    text = checks.summary(BUNDLE, "CI green", rows)
    assert "| `tests/test_ages.py::test_eighteen` | failed | passed |" in text
    assert "Regressions in the sandbox: 0 (of 3 tests run)" in text
    assert BUNDLE["hash"] in text and "`1234567890ab`" in text
    assert "| canary | [FixWurx canary](http://x/1) | success | — |" in text
    assert "| smoke | Lint | failure | already red on the base commit |" in text
    assert "_No CI result yet._" in checks.summary(BUNDLE, "waiting")


def test_annotation_sits_at_the_root_cause_line() -> None:
    note = checks.annotation(BUNDLE)
    assert note is not None
    assert (note["path"], note["start_line"], note["end_line"]) == ("ages.py", 3, 3)
    assert note["annotation_level"] == "notice" and "off by one" in note["message"]
    assert checks.annotation({"hash": "x"}) is None


def test_canary_inputs_are_the_reproducing_tests_and_the_bundle() -> None:
    assert canary_inputs(BUNDLE) == {
        "tests_json": '["tests/test_ages.py::test_eighteen"]',
        "bundle": BUNDLE["hash"],
    }


def many(count: int) -> dict[str, object]:
    ids = [f"tests/test_m{i}.py::test_x[case number {i}]" for i in range(count)]
    return {"hash": "h", "evidence": {"before": [{"test": t} for t in ids]}}


def test_long_test_lists_are_never_cut_mid_id() -> None:
    """Every id arrives whole (spaces and brackets included), or not at all."""
    import json

    from app.flows.ci.start import MAX_TESTS_JSON, legacy_inputs

    bundle = many(200)
    sent = json.loads(canary_inputs(bundle)["tests_json"])
    assert sent == [t["test"] for t in bundle["evidence"]["before"]]  # type: ignore[index]
    huge = many(2000)
    kept = canary_inputs(huge)["tests_json"]
    assert len(kept) <= MAX_TESTS_JSON
    ids = json.loads(kept)
    assert (
        0 < len(ids) < 2000 and ids == [t["test"] for t in huge["evidence"]["before"]][: len(ids)]
    )  # type: ignore[index]
    # The old template splits on spaces: ids with spaces are left out, the others kept whole.
    plain = {"hash": "h", "evidence": {"before": [{"test": "t.py::a b"}, {"test": "t.py::c"}]}}
    assert legacy_inputs(plain)["tests"] == "t.py::c"


def test_the_canary_workflow_is_dispatchable_and_injection_safe() -> None:
    text = workflow_text()
    data = yaml.safe_load(text)
    inputs = data[True]["workflow_dispatch"]["inputs"]  # YAML 1.1 reads `on` as True
    assert set(inputs) == {"tests_json", "bundle", "nonce"}
    assert "${{ inputs.nonce }}" in data["run-name"]
    steps = data["jobs"]["canary"]["steps"]
    scripts = [s.get("run", "") for s in steps]
    assert all("${{" not in script for script in scripts), "inputs reach scripts via env only"
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["with"]["name"] == actions.JUNIT_ARTIFACT
    assert data["permissions"] == {"contents": "read"}


def test_log_excerpt_ends_at_the_error_without_timestamps_or_tokens() -> None:
    lines = [f"2026-12-01T10:00:{i:02d}.1234567Z line {i}" for i in range(100)]
    lines[60] = "2026-12-01T10:01:00.0000000Z token ghs_" + "a" * 36
    lines[70] = "2026-12-01T10:01:10.0000000Z ##[error]Process completed with exit code 1."
    excerpt = actions.log_excerpt("\n".join(lines))
    kept = excerpt.splitlines()
    assert kept[-1] == "##[error]Process completed with exit code 1."
    assert kept[0] == "line 31" and len(kept) == actions.EXCERPT_LINES
    assert "ghs_" not in excerpt and "2026-12-01T" not in excerpt
    assert actions.log_excerpt("a\nb").splitlines() == ["a", "b"]  # no marker: the tail


JUNIT = """<?xml version="1.0"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.test_env" name="test_ci" file="tests/test_env.py" time="0.1">
<failure message="assert False">tests/test_env.py:4: AssertionError</failure></testcase>
<testcase classname="tests.test_env" name="test_ok" file="tests/test_env.py" time="0.1"/>
</testsuite></testsuites>"""


def zipped(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_junit_artifact_is_parsed_and_bad_ones_yield_nothing() -> None:
    outcomes = actions.parse_artifact(zipped({"canary.xml": JUNIT, "notes.txt": "x"}))
    assert [(o.test_id, o.outcome) for o in outcomes] == [
        ("tests/test_env.py::test_ci", "failed"),
        ("tests/test_env.py::test_ok", "passed"),
    ]
    assert actions.parse_artifact(b"not a zip") == []
    assert actions.parse_artifact(zipped({"broken.xml": "<testsuite"})) == []


def test_canary_runs_are_told_by_their_workflow_file() -> None:
    data = {"id": 5, "path": ".github/workflows/fixwurx-canary.yml@refs/heads/fixwurx/issue-1"}
    assert actions.WorkflowRun.from_json(data).is_canary("fixwurx-canary.yml")
    other = {"id": 6, "path": ".github/workflows/ci.yml"}
    assert not actions.WorkflowRun.from_json(other).is_canary("fixwurx-canary.yml")
