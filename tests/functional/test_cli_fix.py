"""`fixwurx fix` on example repositories copied to temporary directories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "buggy_calc"

pytestmark = pytest.mark.slow


def fixwurx(
    *args: str, cwd: Path | None = None, stdin: str | None = None, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base = home or Path(tempfile.mkdtemp(prefix="fixwurx-cli-test-"))
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_CACHE_HOME": str(base / "cache"),
        "XDG_DATA_HOME": str(base / "data"),  # run history stays out of the real home
        # The session's environment cache (tests/conftest.py): one build, reused by every run.
        "ENVIRONMENT_CACHE_DIR": os.environ["ENVIRONMENT_CACHE_DIR"],
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=cwd or ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "buggy_calc"
    shutil.copytree(EXAMPLE, target)
    return target


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.py"))}


def test_fixes_the_example_applies_it_and_records_the_run(project: Path, tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"],
        cwd=project,
        check=True,
    )
    result = fixwurx("fix", str(project), "--apply", home=tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "+    while lo <= hi:" in result.stdout
    assert "tests/test_search.py::test_finds_last_element  failed  passed" in result.stdout
    assert "bundle  sha256:" in result.stdout
    assert "reproduce" in result.stderr and "verify" in result.stderr  # progress per stage
    assert f"applied to {project}" in result.stdout
    assert "while lo <= hi:" in (project / "calc" / "search.py").read_text()
    after = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert after.returncode == 0, after.stdout

    assert "fixwurx show 1" in result.stderr
    shown = fixwurx("show", "1", home=tmp_path / "home")
    assert shown.returncode == 0, shown.stderr
    assert "cli/fixwurx fix  fixed" in shown.stdout
    assert "chosen: calc/search.py:7" in shown.stdout
    second = fixwurx("show", "2", home=tmp_path / "home")
    assert second.returncode == 2, second.stdout[:300]


def test_json_output_is_one_object_its_bundle_verifies_and_the_tree_is_untouched(
    project: Path, tmp_path: Path
) -> None:
    before = _tree(project)
    out = tmp_path / "bundle.json"
    result = fixwurx("fix", str(project), "--json", "--bundle-out", str(out))
    assert result.returncode == 0, result.stderr
    assert _tree(project) == before
    assert not (project / ".git").exists()
    report = json.loads(result.stdout)
    assert set(report) == {
        "status",
        "bundle",
        "reason",
        "run_id",
        "bundle_path",
        "environment",
        "baseline",
    }
    assert report["status"] == "fixed"
    # The baseline's counts and how the environment was built, for scripts (issue 25's survey).
    baseline = report["baseline"]
    assert baseline["collected"] == baseline["passed"] + baseline["failed"] + baseline["error"]
    assert baseline["collected"] >= 9 and baseline["failed"] + baseline["error"] >= 1
    assert report["environment"]["python_version"].startswith("3.")
    bundle = report["bundle"]
    assert bundle["hash"].startswith("sha256:") and "lo <= hi" in bundle["diff"]
    assert bundle["files"] == ["calc/search.py"]
    assert (bundle["root_cause"]["path"], bundle["root_cause"]["line"]) == ("calc/search.py", 7)
    assert [row["outcome"] for row in bundle["evidence"]["before"]] == ["failed"]
    assert [row["outcome"] for row in bundle["evidence"]["after"]] == ["passed"]
    assert json.loads(out.read_text())["hash"] == bundle["hash"]

    verified = fixwurx("bundle", "verify", str(out), "--repo", str(project))
    assert verified.returncode == 0, verified.stderr
    assert bundle["hash"] in verified.stdout

    tampered = json.loads(out.read_text())
    tampered["diff"] = tampered["diff"].replace("lo <= hi", "lo >= hi")
    out.write_text(json.dumps(tampered))
    rejected = fixwurx("bundle", "verify", str(out), "--repo", str(project))
    assert rejected.returncode == 1
    assert "hash differs" in rejected.stderr


def test_snippet_in_issue_becomes_the_reproduction(tmp_path: Path) -> None:
    project = tmp_path / "lib"
    (project / "tests").mkdir(parents=True)
    (project / "shapes.py").write_text("def area(width, height):\n    return width + height\n")
    (project / "tests" / "test_shapes.py").write_text(
        "from shapes import area\n\n\ndef test_square():\n    assert area(2, 2) == 4\n"
    )
    issue = "area() is wrong for rectangles:\n\n```python\nfrom shapes import area\nassert area(2, 3) == 6\n```\n"
    result = fixwurx("fix", str(project), "--issue", "-", "--json", stdin=issue)
    report = json.loads(result.stdout)
    assert result.returncode == 0, report
    assert "return width * height" in report["bundle"]["diff"]
    assert "test_fixwurx_issue_repro.py" in report["bundle"]["files"]
    assert (
        report["bundle"]["evidence"]["before"][0]["test"]
        == "test_fixwurx_issue_repro.py::test_issue_reproduction"
    )


def test_named_test_that_passes_means_nothing_to_fix(project: Path, tmp_path: Path) -> None:
    issue = tmp_path / "issue.md"
    issue.write_text("tests/test_stats.py::test_mean is broken")
    result = fixwurx("fix", str(project), "--issue", str(issue), "--json")
    assert result.returncode == 1
    assert (
        json.loads(result.stdout)["reason"]
        == "the tests named in the issue pass: tests/test_stats.py::test_mean"
    )


def test_a_hanging_test_fails_alone_and_is_repaired(tmp_path: Path) -> None:
    # The loop only counts: one that also grew a list raced the sandbox's memory limit against
    # the per-test limit, so the baseline failed with MemoryError on a fast host and hung on a
    # slow one, and the run took a different path on each.
    project = tmp_path / "loop"
    (project / "tests").mkdir(parents=True)
    (project / "countdown.py").write_text(
        "def countdown(n):\n    steps = 0\n    while n != 0:\n        steps += 1\n        n -= 2\n    return steps\n"
    )
    (project / "tests" / "test_countdown.py").write_text(
        "from countdown import countdown\n\n\ndef test_odd():\n    assert countdown(3) == 3\n\n\ndef test_zero():\n    assert countdown(0) == 0\n"
    )
    result = fixwurx("fix", str(project), "--json", "--timeout", "30")
    report = json.loads(result.stdout)
    assert result.returncode == 0, report
    assert "n -= 1" in report["bundle"]["diff"]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "does not exist"),
        ("file", "is not a directory"),
        ("no-tests", "no tests found"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, setup: str, message: str) -> None:
    target = tmp_path / "target"
    if setup == "file":
        target.write_text("x")
    elif setup == "no-tests":
        target.mkdir()
        (target / "main.py").write_text("print('hi')\n")
    result = fixwurx("fix", str(target))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fixwurx: error:") and message in lines[0]


def test_bad_input_in_json_mode_is_still_one_object(tmp_path: Path) -> None:
    result = fixwurx("fix", str(tmp_path / "missing"), "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout) == {
        "status": "error",
        "bundle": None,
        "reason": f"{tmp_path / 'missing'} does not exist",
        "environment": None,  # the run never started: nothing built, no baseline
        "baseline": None,
    }


def test_all_green_means_nothing_to_repair(project: Path) -> None:
    search = project / "calc" / "search.py"
    search.write_text(
        search.read_text().replace(
            "while lo < hi:\n        mid = (lo + hi) // 2\n        if items[mid] == target",
            "while lo <= hi:\n        mid = (lo + hi) // 2\n        if items[mid] == target",
        )
    )
    result = fixwurx("fix", str(project))
    assert result.returncode == 1
    assert "no failing test to repair" in result.stdout


def test_missing_issue_file_is_bad_input(project: Path, tmp_path: Path) -> None:
    result = fixwurx("fix", str(project), "--issue", str(tmp_path / "nope.md"))
    assert result.returncode == 2
    assert "cannot read the issue file" in result.stderr


def test_bundle_verify_of_a_missing_or_broken_file(tmp_path: Path) -> None:
    assert fixwurx("bundle", "verify", str(tmp_path / "nope.json")).returncode == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = fixwurx("bundle", "verify", str(broken))
    assert result.returncode == 2 and "not a JSON patch bundle" in result.stderr


HANG = "def test_waits_forever():\n    while True:\n        pass\n"


def test_an_unrelated_hanging_test_does_not_sink_the_fix(project: Path, tmp_path: Path) -> None:
    """issue 25: a hang at baseline is left failing and said so; the real bug is fixed."""
    (project / "tests" / "test_slow.py").write_text(HANG)
    result = fixwurx("fix", str(project), "--json", "--test-timeout", "3", home=tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "fixed"
    (left,) = report["bundle"]["evidence"]["left_failing"]
    assert left.startswith("tests/test_slow.py::test_waits_forever hangs")
    assert "left failing, not a target" in result.stderr  # --json still shows progress


def test_identical_runs_give_the_same_bundle_id_and_json_names_run_and_bundle_path(
    project: Path, tmp_path: Path
) -> None:
    first = json.loads(fixwurx("fix", str(project), "--json", home=tmp_path / "a").stdout)
    second = json.loads(fixwurx("fix", str(project), "--json", home=tmp_path / "b").stdout)
    assert first["status"] == second["status"] == "fixed"
    assert first["bundle"]["timings"] != second["bundle"]["timings"]  # recorded, not hashed
    assert first["bundle"]["hash"] == second["bundle"]["hash"]
    assert isinstance(first["run_id"], int)
    assert json.loads(Path(first["bundle_path"]).read_text())["hash"] == first["bundle"]["hash"]


def test_a_test_command_that_hangs_is_bad_input_naming_the_limit_and_the_users_path(
    tmp_path: Path,
) -> None:
    project = tmp_path / "stuck"
    project.mkdir()
    (project / "run_tests.sh").write_text("sleep 600\n")
    result = fixwurx("fix", str(project), "--test", "sh run_tests.sh", "--timeout", "5")
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("fixwurx: error:")]
    assert "did not finish within 5s" in line and "--timeout" in line
    assert "fixwurx-run" not in result.stderr


def test_tests_that_only_fail_to_import_exit_2_naming_the_import(tmp_path: Path) -> None:
    project = tmp_path / "noimport"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_a.py").write_text("import not_installed_anywhere\n")
    result = fixwurx("fix", str(project), "--no-environment")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "No module named 'not_installed_anywhere'" in result.stderr
