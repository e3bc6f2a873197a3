"""The fake CI's reading of workflow files: triggers, steps, and the expressions it supports."""

from __future__ import annotations

import pytest

from app.commands.workflow import workflow_text
from tests.fakes.github.workflow_file import Context, Unsupported, condition, parse, substitute

CONTEXT = Context({"tests_json": "[]", "bundle": "h"}, {"MODE": "fast"}, {"ref_name": "main"})


def test_the_shipped_canary_template_parses_with_its_inputs_and_steps() -> None:
    spec = parse(".github/workflows/fixwurx-canary.yml", workflow_text())
    assert spec.events == ("workflow_dispatch",)
    assert spec.inputs == {"tests_json": "[]", "bundle": "", "nonce": ""}
    [job] = spec.jobs
    assert [s.name for s in job.steps][-2:] == ["Whole suite", "Run actions/upload-artifact@v4"]
    assert job.timeout_s == 120.0  # the fake's cap under the template's 30 minutes


def test_expressions_read_inputs_env_and_github_and_compare_loosely() -> None:
    assert substitute("x ${{ inputs.bundle }} ${{ env.MODE }} ${{ github.ref_name }}", CONTEXT) == (
        "x h fast main"
    )
    assert (
        condition("${{ inputs.tests_json != '' && inputs.tests_json != '[]' }}", CONTEXT) is False
    )
    assert condition("github.ref_name == 'MAIN'", CONTEXT) is True
    assert condition("${{ !(env.MODE == 'slow') || false }}", CONTEXT) is True


def test_status_functions_follow_the_jobs_state() -> None:
    failed = Context({}, {}, {}, failed=True)
    assert condition(None, CONTEXT) and not condition(None, failed)  # default success()
    assert condition("${{ always() }}", failed) and condition("failure()", failed)
    assert not condition("success()", failed)
    assert not condition("env.X == ''", failed)  # no status function: ANDed with success()


@pytest.mark.parametrize(
    "expression",
    ["secrets.TOKEN", "contains(github.ref, 'x')", "matrix.python", "github.token", "inputs.a ="],
)
def test_unsupported_expressions_fail_loudly(expression: str) -> None:
    with pytest.raises(Unsupported):
        substitute("${{ " + expression + " }}", CONTEXT)


def test_unsupported_workflow_syntax_fails_loudly() -> None:
    needs = "on: push\njobs:\n  a:\n    needs: b\n    steps:\n      - run: true\n"
    with pytest.raises(Unsupported, match="needs"):
        parse("ci.yml", needs)
    schedule = "on: schedule\njobs:\n  a:\n    steps:\n      - run: true\n"
    with pytest.raises(Unsupported, match="schedule"):
        parse("ci.yml", schedule)
