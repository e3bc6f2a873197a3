"""Guards between a model and the repository.

1. Untrusted text (issue bodies, repository files, test output) goes into prompts only inside
   data fences whose tag carries a hash of the content. Text cannot forge the closing fence: it
   would have to contain the hash of itself. The prompts tell the model that fenced text is
   data, never instructions.
2. Model edits may touch only in-scope files: the files the model was shown, plus new test files
   when a reproduction test is asked for.
3. CI configuration, workflows and secret-like files are refused outright, whatever the scope:
   a patch that edits them could run code with the repository's secrets. Everything else under
   `.github/` and `.gitmodules` is refused unless a maintainer's command allowed it
   (`Scope.allow_github_paths`), the same rule as the bundle check (`app.patches.guarded_path`).
4. The diff is capped at `app.defaults.MAX_DIFF_LINES` changed lines.
5. Files that would be refused are not shown to a model either: a secret-looking file is not
   sent to a third-party API.
6. Model prose that reaches a pull request (descriptions, explanations) has its @-mentions
   defused, so a model cannot ping people or teams.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from app import defaults
from app.errors import PatchError
from app.patches import guarded_path
from app.repair.candidates import Candidate, FileEdit

#: Paths (fnmatch patterns on the repository-relative path) that run in CI or hold secrets.
FORBIDDEN_PATTERNS = (
    ".github/workflows/*",
    ".gitlab-ci.yml",
    ".gitlab/*",
    ".circleci/*",
    ".travis.yml",
    ".drone.yml",
    ".buildkite/*",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
    "appveyor.yml",
    "Jenkinsfile",
    ".pre-commit-config.yaml",
    ".ci/*",
    ".git/*",
)
#: File names (fnmatch on the last component, lower-cased) that look like secrets.
SECRET_NAMES = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_ed25519*",
    "id_ecdsa*",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".htpasswd",
    "*secret*",
    "*credential*",
    "*.tfvars",
)
#: Directories whose contents are secret-like wherever they sit.
SECRET_DIRS = (".ssh", ".aws", ".gnupg", ".docker")


_MENTION = re.compile(r"(?<![\w`])@(?=[\w-])")


class UnsafeEdit(PatchError):
    """A model edit was refused; the message names the path and the rule."""


def fence(label: str, text: str) -> str:
    """`text` delimited as untrusted data, with an unforgeable closing tag."""
    tag = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f'<data name="{label}" id="{tag}">\n{text.rstrip()}\n</data id="{tag}">'


def refusal_reason(path: str, *, allow_github_paths: bool = False) -> str | None:
    """Why `path` may not be edited by a model, or None when it may."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        return "path escapes the repository"
    for pattern in FORBIDDEN_PATTERNS:
        if fnmatch.fnmatch(path.lower(), pattern.lower()) or path == pattern.removesuffix("/*"):
            return f"CI, workflow or repository configuration ({pattern})"
    if guarded_path(path) and not allow_github_paths:
        return "under .github/ or .gitmodules (only a maintainer's command can allow it)"
    if any(part in SECRET_DIRS for part in pure.parts):
        return "inside a directory that holds credentials"
    name = pure.name.lower()
    if any(fnmatch.fnmatch(name, pattern) for pattern in SECRET_NAMES):
        return "looks like a secret or credential file"
    return None


@dataclass(frozen=True)
class Scope:
    """What a model may edit: these files, plus new test files when `new_tests` is set."""

    files: frozenset[str]
    new_tests: bool = False
    max_diff_lines: int = defaults.MAX_DIFF_LINES
    #: A maintainer's command allowed edits under `.github/` (workflows excepted) and to
    #: `.gitmodules`.
    allow_github_paths: bool = False

    @staticmethod
    def of(
        paths: Iterable[str], new_tests: bool = False, allow_github_paths: bool = False
    ) -> Scope:
        """A scope over `paths`."""
        return Scope(frozenset(paths), new_tests, allow_github_paths=allow_github_paths)


def check_edit(edit: FileEdit, scope: Scope) -> None:
    """Raise `UnsafeEdit` unless `edit` is allowed in `scope`."""
    reason = refusal_reason(edit.path, allow_github_paths=scope.allow_github_paths)
    if reason:
        raise UnsafeEdit(f"refused edit to {edit.path}: {reason}")
    if edit.path in scope.files:
        return
    if scope.new_tests and not edit.before and is_test_path(edit.path):
        return
    raise UnsafeEdit(
        f"refused edit to {edit.path}: outside the files in scope for this repair "
        f"({', '.join(sorted(scope.files)) or 'none'})"
    )


def check_candidate(candidate: Candidate, scope: Scope) -> None:
    """Raise `UnsafeEdit` unless every edit is allowed and the diff is small enough."""
    for edit in candidate.edits:
        check_edit(edit, scope)
    size = candidate.changed_lines
    if size > scope.max_diff_lines:
        raise UnsafeEdit(
            f"refused patch of {size} changed lines: the cap is {scope.max_diff_lines} "
            "(MAX_DIFF_LINES); a minimal fix is smaller"
        )


def is_test_path(path: str) -> bool:
    """A Python test file by pytest's default naming."""
    pure = PurePosixPath(path)
    return pure.suffix == ".py" and (
        pure.name.startswith("test_") or pure.name.endswith("_test.py")
    )


def defuse_mentions(text: str) -> str:
    """`@name` becomes `@\u200bname`: it reads the same and notifies nobody."""
    return _MENTION.sub("@\u200b", text)
