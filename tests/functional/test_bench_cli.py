"""`fixwurx bench` as an operator runs it: a task file in, resolved / cost / seconds out.

The CLI runs as its own process; the model-driven task talks to the fake OpenAI server through
the real `openai` SDK, and the bundled-cases test holds the bench to `benchmarks/run_repair.py`'s
own verdicts on the same cases.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.errors import BadInput
from app.local import bench
from benchmarks import run_repair
from tests.fakes.llm import FakeLLMServer, fake_llm
from tests.functional.test_model_chain import _project, answer

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "benchmarks" / "cases"
#: A case the templates fix and whose held-out tests the fix passes.
AVERAGE = CASES / "average_empty"

#: A judge the average_empty fix cannot satisfy: it wants an error, the fix returns a number.
STRICT_JUDGE = """import pytest

from metrics.calc import average


def test_empty_average_is_an_error():
    with pytest.raises(ValueError):
        average([])
"""

pytestmark = pytest.mark.slow


def fixwurx(
    home: Path, *args: str, server: FakeLLMServer | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),  # run history stays out of the real home
        "ENVIRONMENT_CACHE_DIR": os.environ["ENVIRONMENT_CACHE_DIR"],
    }
    if server is not None:
        env |= {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url}
    return subprocess.run(
        [sys.executable, "-m", "app", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        check=False,
    )


def _write_tasks(path: Path, *tasks: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    return path


def _rows(stdout: str) -> dict[str, list[str]]:
    """Each task's printed row, split on runs of two or more spaces."""
    rows = {}
    for line in stdout.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) >= 4 and re.fullmatch(r"\d+\.\d{4}", cells[-2]):
            rows[cells[0]] = cells
    return rows


# -- the task file ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("second_line", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"id": "x"}', '"repo" is missing'),
        ('{"repo": "no/such/folder"}', "repo 'no/such/folder' is not a folder"),
        ('{"repo": ".", "judge_test": "heldout"}', "unknown key(s) judge_test"),
        ('{"repo": ".", "commit": "--upload-pack=evil"}', "is not a commit or ref name"),
        ('{"repo": ".", "judge_tests": "nowhere"}', "judge_tests 'nowhere' does not exist"),
        ('{"repo": ".", "id": "average_empty"}', "already used on line 1"),
    ],
)
def test_a_bad_line_is_refused_before_anything_runs_naming_file_and_line(
    tmp_path: Path, second_line: str, message: str
) -> None:
    tasks = tmp_path / "tasks.jsonl"
    first = json.dumps({"id": "average_empty", "repo": str(AVERAGE / "repo")})
    tasks.write_text(first + "\n" + second_line + "\n")
    result = fixwurx(tmp_path, str(tasks))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{tasks}:2: " in result.stderr and message in result.stderr, result.stderr
    assert "resolved" not in result.stdout  # nothing ran


def test_a_missing_task_file_and_a_missing_bundle_are_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = fixwurx(tmp_path, str(tmp_path / "nope.jsonl"))
    assert result.returncode == 2
    assert f"{tmp_path / 'nope.jsonl'} does not exist" in result.stderr

    assert bench.default_tasks_file() == CASES / "tasks.jsonl"  # the source checkout has it
    monkeypatch.setattr(bench, "BUNDLED_TASKS", tmp_path / "gone" / "tasks.jsonl")
    with pytest.raises(BadInput, match=r"no bundled cases here .*gone/tasks\.jsonl.*pass a task"):
        bench.default_tasks_file()


@pytest.mark.parametrize("folder", [CASES, ROOT / "benchmarks" / "heldout"])
def test_the_bundled_task_files_list_every_case(folder: Path) -> None:
    from app.local.bench_tasks import read_tasks

    tasks = read_tasks(folder / "tasks.jsonl")
    cases = sorted(p.name for p in folder.iterdir() if (p / "case.json").is_file())
    assert [t.id for t in tasks] == cases
    assert all(t.judge_files == folder / t.id / "heldout" for t in tasks)
    assert all(t.repo == str(folder / t.id / "repo") for t in tasks)  # relative to the file
    # run_repair.py's limits, so the bench's verdicts are run_repair's
    assert {(t.timeout, t.test_timeout, t.environment) for t in tasks} == {
        (run_repair.SUITE_TIMEOUT_S, run_repair.PER_TEST_TIMEOUT_S, False)
    }


# -- verdicts --------------------------------------------------------------------------------


def test_judge_tests_tell_a_correct_fix_from_a_merely_plausible_one(tmp_path: Path) -> None:
    strict = tmp_path / "strict"
    strict.mkdir()
    (strict / "test_strict.py").write_text(STRICT_JUDGE)
    tasks = _write_tasks(
        tmp_path / "tasks.jsonl",
        {"id": "held", "repo": str(AVERAGE / "repo"), "judge_tests": str(AVERAGE / "heldout")},
        {"id": "strict", "repo": str(AVERAGE / "repo"), "judge_tests": "strict"},
        {"id": "visible", "repo": str(AVERAGE / "repo"), "judge_tests": ["tests/test_summary.py"]},
        {"id": "unjudged", "repo": str(AVERAGE / "repo")},
    )
    out = tmp_path / "results.json"
    result = fixwurx(tmp_path, str(tasks), "--no-environment", "--json", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = _rows(result.stdout)
    assert rows["held"][1:3] == ["yes", "resolved"], result.stdout
    assert rows["strict"][1:3] == ["no", "fixed, not correct"], result.stdout
    assert rows["visible"][1:3] == ["yes", "resolved"], result.stdout
    assert rows["unjudged"][1:3] == ["yes", "fixed (not judged)"], result.stdout
    assert "resolved 3/4  fixed 4  fixed, not correct: strict  errors 0" in result.stdout
    report = json.loads(out.read_text())
    by_id = {t["id"]: t for t in report["tasks"]}
    assert (by_id["strict"]["fixed"], by_id["strict"]["correct"]) == (True, False)
    assert by_id["unjudged"]["correct"] is None
    assert report["totals"]["resolved"] == 3 and report["totals"]["tasks"] == 4


def test_a_git_url_task_is_cloned_and_checked_out_at_its_commit(tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(AVERAGE / "repo", work)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=work, check=True)
    subprocess.run(["git", "add", "-A"], cwd=work, check=True)
    subprocess.run([*git, "commit", "-qm", "buggy"], cwd=work, check=True)
    buggy = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=work, capture_output=True, text=True, check=True
    ).stdout.strip()
    calc = work / "metrics" / "calc.py"
    calc.write_text(calc.read_text().replace("sum(values) / len(values)", "0.0"))
    subprocess.run([*git, "commit", "-qam", "later: the tip no longer fails"], cwd=work, check=True)
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    tasks = _write_tasks(
        tmp_path / "tasks.jsonl",
        {"repo": bare.as_uri(), "commit": buggy, "judge_tests": str(AVERAGE / "heldout")},
        {"id": "tip", "repo": bare.as_uri()},
        {"id": "gone", "repo": (tmp_path / "gone.git").as_uri()},
    )
    result = fixwurx(tmp_path, str(tasks), "--no-environment")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = _rows(result.stdout)
    assert rows[f"origin@{buggy[:12]}"][1:3] == ["yes", "resolved"], result.stdout
    assert rows["tip"][1:3] == ["no", "not fixed"], result.stdout  # nothing fails at the tip
    assert rows["gone"][1:3] == ["no", "error"], result.stdout
    assert f"    BadInput: cannot clone {(tmp_path / 'gone.git').as_uri()}" in result.stdout
    assert "resolved 1/3  fixed 1  fixed, not correct: none  errors 1" in result.stdout


def test_model_cost_is_shown_per_task_and_summed_and_templates_only_calls_no_model(
    tmp_path: Path,
) -> None:
    one, two = _project(tmp_path / "one"), _project(tmp_path / "two")
    tasks = _write_tasks(
        tmp_path / "tasks.jsonl",
        {"id": "one", "repo": "one", "environment": False},
        {"id": "two", "repo": "two", "environment": False, "issue": "punctuation stays"},
    )
    out = tmp_path / "results.json"
    with fake_llm("openai", responder=answer) as server:
        offline = fixwurx(
            tmp_path, str(tasks), "--templates-only", "--max-candidates", "10", server=server
        )
        offline_requests = len(server.requests)
        result = fixwurx(
            tmp_path, str(tasks), "--max-candidates", "10", "--json", str(out), server=server
        )
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert offline_requests == 0  # --templates-only: the configured provider is never called
    assert "models: templates only" in offline.stdout
    assert "resolved 0/2" in offline.stdout and "cost $0.0000" in offline.stdout

    assert result.returncode == 0, result.stdout + result.stderr
    assert "models: templates, then openai" in result.stdout
    report = json.loads(out.read_text())
    costs = [t["cost_usd"] for t in report["tasks"]]
    assert [t["resolved"] for t in report["tasks"]] == [True, True]
    assert all(c > 0 for c in costs), costs
    assert report["totals"]["cost_usd"] == pytest.approx(sum(costs))
    assert report["totals"]["cost_per_resolved_usd"] == pytest.approx(sum(costs) / 2)
    rows = _rows(result.stdout)
    assert [float(rows[i][-2]) for i in ("one", "two")] == [round(c, 4) for c in costs]
    assert f"cost ${sum(costs):.4f}  cost per resolved task ${sum(costs) / 2:.4f}" in result.stdout
    assert "resolved 2/2" in result.stdout
    assert one.exists() and two.exists()


# -- the bundled cases -----------------------------------------------------------------------

#: A development case and two held-out bugs: one fixed correctly, one the templates "fix"
#: with a plausible but wrong patch (`n < 2` -> `n <= 2`; its held-out tests catch it).
SUBSET = [
    CASES / "average_empty",
    ROOT / "benchmarks" / "heldout" / "sign_zero",
    ROOT / "benchmarks" / "heldout" / "fib_base",
]


def test_bench_gives_run_repair_verdicts_on_bundled_cases(tmp_path: Path) -> None:
    bundled = [json.loads(line) for line in (CASES / "tasks.jsonl").read_text().splitlines()]
    template = bundled[0]
    lines = [
        {
            **template,
            "id": case.name,
            "repo": str(case / "repo"),
            "judge_tests": str(case / "heldout"),
        }
        for case in SUBSET
    ]
    tasks = _write_tasks(tmp_path / "tasks.jsonl", *lines)
    out = tmp_path / "bench.json"
    result = fixwurx(tmp_path, str(tasks), "--templates-only", "--json", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    benched = {
        t["id"]: (t["fixed"], bool(t["correct"])) for t in json.loads(out.read_text())["tasks"]
    }

    expected = {}
    for case in SUBSET:
        verdict = run_repair.run_case(case)
        expected[case.name] = (verdict.fixed, verdict.correct)
    assert benched == expected
    assert set(expected.values()) == {(True, True), (True, False)}, expected  # both kinds


def _result(
    task_id: str, *, fixed: bool, correct: bool | None, cost: float, secs: float
) -> bench.TaskResult:
    resolved = fixed and correct is not False
    return bench.TaskResult(
        id=task_id,
        repo="r",
        status="fixed" if fixed else "not_fixed",
        fixed=fixed,
        judged=correct is not None,
        correct=correct,
        resolved=resolved,
        cost_usd=cost,
        tokens=0,
        seconds=secs,
        reason="",
    )


def test_totals_count_only_resolved_tasks_and_divide_the_whole_cost_by_them() -> None:
    results = [
        _result("a", fixed=True, correct=True, cost=0.10, secs=4.0),
        _result("b", fixed=True, correct=False, cost=0.20, secs=9.0),
        _result("c", fixed=False, correct=None, cost=0.30, secs=1.0),
        _result("d", fixed=True, correct=None, cost=0.00, secs=2.0),
    ]
    totals = bench.summarize(results)
    assert (totals.tasks, totals.resolved, totals.fixed) == (4, 2, 3)
    assert totals.not_correct == ["b"]
    assert totals.cost_usd == pytest.approx(0.60)
    assert totals.cost_per_resolved_usd == pytest.approx(0.30)  # every task's cost, per resolved
    assert totals.median_seconds == pytest.approx(3.0)
    assert [r.verdict for r in results] == [
        "resolved",
        "fixed, not correct",
        "not fixed",
        "fixed (not judged)",
    ]
    assert bench.summarize([results[2]]).cost_per_resolved_usd is None
