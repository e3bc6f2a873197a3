"""Nothing under `.github/`, and not `.gitmodules`, unless a maintainer's command asks for it
(issue 22, item 9). CI runs those files with the repository's secrets: `.github/actions/`,
`.github/scripts/*.py`, FixWurx's own `.github/fixwurx.yml`, and `.gitmodules` (which points
the checkout at other repositories). Workflows stay refused even then."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from app.agents.safety import Scope, UnsafeEdit, check_edit, refusal_reason
from app.errors import PatchError
from app.patches import (
    PatchBundle,
    asks_github_paths,
    guarded_path,
    validate_diff,
    verify_bundle,
)
from app.repair.candidates import Candidate, FileEdit, RepairContext
from app.repair.templates import TemplateSource
from app.testing.results import Location

GUARDED = [
    ".github/actions/setup/action.yml",
    ".github/scripts/report.py",
    ".github/fixwurx.yml",
    ".github/CODEOWNERS",
    ".github/dependabot.yml",
    ".GitHub/scripts/report.py",
    ".gitmodules",
]


def _modify(path: str) -> str:
    return FileEdit(path, "a\n", "b\n").diff()


def _add(path: str) -> str:
    return FileEdit(path, "", "print('hi')\n").diff()


def _delete(path: str) -> str:
    return FileEdit(path, "a\n", "").diff()


@pytest.mark.parametrize("path", GUARDED)
@pytest.mark.parametrize("change", [_modify, _add, _delete])
def test_the_bundle_check_refuses_github_paths_by_default(path: str, change: object) -> None:
    diff = change(path)  # type: ignore[operator]
    with pytest.raises(PatchError, match=r"allow-github-paths"):
        validate_diff(diff)
    assert validate_diff(diff, allow_github_paths=True) == (path,)


def test_a_rename_into_github_is_refused() -> None:
    diff = (
        "diff --git a/src/tool.py b/.github/scripts/tool.py\n"
        "similarity index 100%\nrename from src/tool.py\nrename to .github/scripts/tool.py\n"
        "--- a/src/tool.py\n+++ b/.github/scripts/tool.py\n@@ -1 +1 @@\n-a\n+b\n"
    )
    with pytest.raises(PatchError, match=r"\.github/scripts/tool\.py"):
        validate_diff(diff)


@pytest.mark.parametrize("path", [".github/workflows/ci.yml", ".GITHUB/Workflows/ci.yml"])
def test_workflows_stay_refused_even_when_allowed(path: str) -> None:
    with pytest.raises(PatchError, match="workflows"):
        validate_diff(_modify(path), allow_github_paths=True)
    assert refusal_reason(path, allow_github_paths=True) is not None


def test_other_paths_are_untouched_by_the_rule() -> None:
    assert validate_diff(_modify("src/github/app.py")) == ("src/github/app.py",)
    assert validate_diff(_modify("docs/.github-notes.md")) == ("docs/.github-notes.md",)
    assert not guarded_path("src/.gitmodules.py") and guarded_path("a/.github/x")


def test_a_stored_bundle_touching_github_fails_verification() -> None:
    diff = Candidate((FileEdit(".github/scripts/report.py", "a\n", "b\n"),), "llm", "x").diff()
    bundle = PatchBundle("0" * 40, diff, (".github/scripts/report.py",), {}, [], "llm")
    report = verify_bundle(bundle.to_json())
    assert not report.ok and "allow-github-paths" in report.problems[0]
    assert verify_bundle(bundle.to_json(), allow_github_paths=True).ok


@pytest.mark.parametrize("path", GUARDED)
def test_the_model_side_check_matches(path: str) -> None:
    edit = FileEdit(path, "a\n", "b\n")
    with pytest.raises(UnsafeEdit, match=r"\.github/ or \.gitmodules"):
        check_edit(edit, Scope.of([path]))
    check_edit(edit, Scope.of([path], allow_github_paths=True))


def test_the_flag_is_a_whole_word_of_the_arguments() -> None:
    assert asks_github_paths("--allow-github-paths")
    assert asks_github_paths("please --ALLOW-GITHUB-PATHS now")
    assert not asks_github_paths("--allow-github-paths-not")
    assert not asks_github_paths(None)


def test_templates_never_edit_github_paths(tmp_path: Path) -> None:
    source = textwrap.dedent("""\
        def clamp(v, lo, hi):
            if v > hi:
                return lo
            return v
        """)
    for path in ("src/calc.py", ".github/scripts/calc.py", ".gitmodules"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(source)
    locations = tuple(
        Location(path, 3, 1.0) for path in (".github/scripts/calc.py", ".gitmodules", "src/calc.py")
    )
    context = RepairContext(tmp_path, (), locations, ("pytest",), allow_github_paths=True)
    touched = {edit.path for c in TemplateSource().propose(context) for edit in c.edits}
    assert touched == {"src/calc.py"}
