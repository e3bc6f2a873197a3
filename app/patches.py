"""`PatchBundle`: the one contract between the repair chain and the pull-request layer.

A bundle holds the base commit, the unified diff, the touched files, the evidence (per-test
outcomes before and after, the regression run), the localization, the source that produced the
patch, its cost and timings. It is serialised as canonical JSON; `hash` is `sha256:<hex>` of that
JSON without the hash field, and is the bundle id shown in the PR and checked before any push.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from app import workfiles
from app.errors import BadInput, BundleMismatch, PatchError
from app.gitcmd import run_git

BUNDLE_VERSION = 2
#: Recorded in the bundle but not part of its id: they vary between identical runs (a parallel
#: search may try one candidate more or less before it stops). Version 1 bundles hashed
#: everything; `hashed_content` keeps their ids checkable.
UNHASHED_FIELDS = ("timings", "search")
#: Paths a patch may never touch: CI definitions run with the repository's secrets.
FORBIDDEN_PREFIXES = (".github/workflows/",)
#: Paths a patch touches only when a maintainer's command asks for it (`allow_github_paths`):
#: everything under `.github/` (actions, scripts and configuration that CI runs or reads with
#: the repository's secrets, FixWurx's own `fixwurx.yml`) and `.gitmodules` (which points the
#: checkout at other repositories). Compared case-insensitively.
GUARDED_DIR = ".github/"
GUARDED_FILES = (".gitmodules",)
#: The comment-command argument that asks for them (`/fixwurx fix --allow-github-paths`), and
#: the least role whose command it counts from.
ALLOW_GITHUB_PATHS_FLAG = "--allow-github-paths"
ALLOW_GITHUB_PATHS_ROLE = "maintain"
#: Git's file mode of a symbolic link. A fix never needs to add, change or remove one, and a link
#: in a patch is a way out of the work copy (for FixWurx's own process and for a reviewer).
SYMLINK_MODE = "120000"
#: Diff header lines that carry a file mode; hunk lines start with " ", "+" or "-", so a line
#: of content can never match.
_MODE_HEADER = re.compile(
    r"^(?:new file mode|deleted file mode|old mode|new mode) (\d+)$|^index \S+ (\d+)$",
    re.MULTILINE,
)


def fault_location(
    root_cause: Mapping[str, Any] | None, localization: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """Where to point a reader: where the fix edits (the root cause), else the most suspicious
    line, else None. Reports, pull requests and the fix memory all use this one rule."""
    return root_cause or (localization[0] if localization else None)


@dataclass(frozen=True)
class PatchBundle:
    """A verified patch with its evidence. Build it, then read `.hash`."""

    base_commit: str
    diff: str
    files: tuple[str, ...]
    evidence: dict[str, Any]
    localization: list[dict[str, Any]]
    source: str
    cost: dict[str, Any] = field(default_factory=lambda: {"tokens": 0, "usd": 0.0})
    timings: dict[str, float] = field(default_factory=dict)
    #: How the search went (candidates tried, plausible patches found): not part of the id.
    search: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    explanation: str = ""
    #: Where the fix edits, with why that line was suspected (None when the source gave none).
    root_cause: dict[str, Any] | None = None
    version: int = BUNDLE_VERSION

    def body(self) -> dict[str, Any]:
        """The hashed content: everything except the hash itself."""
        data = asdict(self)
        data["files"] = list(self.files)
        return data

    @property
    def hash(self) -> str:
        """`sha256:<hex>` of the canonical JSON body, timings left out."""
        return content_hash(hashed_content(self.body()))

    def to_json(self) -> dict[str, Any]:
        """The body plus its hash, ready to store or print."""
        return {**self.body(), "hash": self.hash}

    def dumps(self) -> str:
        """Pretty JSON for files people read; the hash is computed on the canonical form."""
        return json.dumps(self.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PatchBundle:
        """Load a bundle and check its hash; a mismatch raises `BundleMismatch`."""
        declared = data.get("hash")
        body = {k: v for k, v in data.items() if k != "hash"}
        try:
            bundle = cls(**{**body, "files": tuple(body.get("files", ()))})
        except TypeError as exc:
            raise BadInput(f"not a patch bundle: {exc}") from exc
        if declared != bundle.hash:
            raise BundleMismatch(
                f"bundle hash mismatch: declared {declared}, content hashes to {bundle.hash}"
            )
        return bundle


def hashed_content(data: Mapping[str, Any]) -> dict[str, Any]:
    """What a bundle's id covers: everything but the hash itself and `UNHASHED_FIELDS`."""
    if data.get("version", 1) < 2:  # hashed everything it had; `search` came with version 2
        return {k: v for k, v in data.items() if k != "hash" and not (k == "search" and not v)}
    dropped = ("hash", *UNHASHED_FIELDS)
    return {k: v for k, v in data.items() if k not in dropped}


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same content always gives the same bytes."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(data: Any) -> str:
    """`sha256:<hex>` of the canonical JSON of `data`."""
    return "sha256:" + hashlib.sha256(canonical_json(data)).hexdigest()


def guarded_path(path: str) -> bool:
    """Whether `path` (repository-relative) is under `.github/` or is `.gitmodules`: refused
    unless a maintainer's command allows it. Template candidates never produce such paths."""
    folded = PurePosixPath(_strip_prefix(path)).as_posix().lower()
    return (folded + "/").startswith(GUARDED_DIR) or folded in GUARDED_FILES


def asks_github_paths(command_args: str | None) -> bool:
    """Whether a comment command's arguments carry ALLOW_GITHUB_PATHS_FLAG (as a word)."""
    return ALLOW_GITHUB_PATHS_FLAG in (command_args or "").lower().split()


def validate_diff(diff: str, *, allow_github_paths: bool = False) -> tuple[str, ...]:
    """Check a unified diff is safe to apply; return the repository paths it touches.

    Refuses paths outside the repository, binary changes, anything under `.github/workflows`,
    any change that adds, changes or removes a symbolic link, and (unless a maintainer's
    command set `allow_github_paths`) anything else under `.github/` and `.gitmodules`.
    """
    if not diff.strip():
        raise PatchError("the diff is empty")
    for match in _MODE_HEADER.finditer(diff):
        if SYMLINK_MODE in match.groups():
            raise PatchError(f"a change to a symbolic link is refused ({match.group(0)!r})")
    try:
        patch = PatchSet(diff)
    except UnidiffParseError as exc:
        raise PatchError(f"the diff does not parse: {exc}") from exc
    touched: list[str] = []
    for patched in patch:
        if patched.is_binary_file:
            raise PatchError(f"binary change to {patched.path} refused")
        for raw in (patched.source_file, patched.target_file):
            _check_path(raw, allow_github_paths)
        touched.append(
            _strip_prefix(
                patched.target_file if not patched.is_removed_file else patched.source_file
            )
        )
    return tuple(sorted(set(touched)))


def _check_path(raw: str, allow_github_paths: bool = False) -> None:
    if raw == "/dev/null":
        return
    path = _strip_prefix(raw)
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or path.startswith("~"):
        raise PatchError(f"path {raw!r} leaves the repository")
    folded = pure.as_posix().lower()
    if folded.startswith(FORBIDDEN_PREFIXES) or folded.rstrip("/") == ".github/workflows":
        raise PatchError(
            f"edits to {path} are refused: workflows run with the repository's secrets"
        )
    if guarded_path(path) and not allow_github_paths:
        raise PatchError(
            f"edits to {path} are refused: .github/ and .gitmodules change what CI runs; a "
            "maintainer can allow them with `/fixwurx fix --allow-github-paths`"
        )


def _strip_prefix(raw: str) -> str:
    return raw[2:] if raw[:2] in ("a/", "b/") else raw


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of `verify_bundle`: problems found, empty when the bundle is sound."""

    bundle_hash: str
    problems: tuple[str, ...]
    checked_against: str = ""

    @property
    def ok(self) -> bool:
        """True when nothing differs."""
        return not self.problems


def verify_bundle(
    data: dict[str, Any], repo: Path | None = None, *, allow_github_paths: bool = False
) -> VerifyReport:
    """Recompute the hash, validate the diff and, with `repo`, check it applies at the base."""
    problems: list[str] = []
    actual = content_hash(hashed_content(data))
    if data.get("hash") != actual:
        problems.append(
            f"hash differs: the bundle says {data.get('hash')}, its content hashes to {actual}"
        )
    diff = str(data.get("diff", ""))
    try:
        files = validate_diff(diff, allow_github_paths=allow_github_paths)
        if sorted(data.get("files", [])) != list(files):
            problems.append(
                f"files differ: the bundle lists {data.get('files')}, "
                f"the diff touches {list(files)}"
            )
    except PatchError as exc:
        problems.append(str(exc))
    where = ""
    if repo is not None and not problems:
        problems += links_followed(files, repo)
    if repo is not None and not problems:
        where, why = check_applies(diff, repo, str(data.get("base_commit", "")))
        if why:
            problems.append(why)
    return VerifyReport(actual, tuple(problems), where)


def check_applies(diff: str, repo: Path, base_commit: str) -> tuple[str, str]:
    """Does `diff` apply to `base_commit` in `repo` (or to the files, outside git)?

    Returns (what it was checked against, problem or "").
    """
    if base_commit and _has_commit(repo, base_commit):
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
            run_git(repo, "read-tree", base_commit, env=env)
            result = run_git(repo, "apply", "--cached", "--check", "-", env=env, stdin=diff)
        return f"commit {base_commit[:12]}", _apply_problem(result)
    result = run_git(repo, "apply", "--check", "-", stdin=diff)
    return f"the files in {repo} (base commit not found there)", _apply_problem(result)


def links_followed(files: Sequence[str], repo: Path) -> list[str]:
    """A problem for each touched path that is, or lies below, a symbolic link in `repo`."""
    return [
        f"{path}: is or lies below a symbolic link in {repo}; a patch never goes through a link"
        for path in files
        if workfiles.is_link(repo, path)
    ]


def apply_diff(diff: str, repo: Path, *, allow_github_paths: bool = False) -> None:
    """Apply `diff` to the files in `repo`; raises `PatchError` naming the hunk that failed.

    A diff that touches a link, or a path below one, is refused before git sees it.
    """
    followed = links_followed(validate_diff(diff, allow_github_paths=allow_github_paths), repo)
    if followed:
        raise PatchError(followed[0])
    problem = _apply_problem(run_git(repo, "apply", "--whitespace=nowarn", "-", stdin=diff))
    if problem:
        raise PatchError(problem)


def _apply_problem(result: subprocess.CompletedProcess[str]) -> str:
    if result.returncode == 0:
        return ""
    return "the diff does not apply: " + (result.stderr.strip() or result.stdout.strip())


def _has_commit(repo: Path, commit: str) -> bool:
    result = run_git(repo, "cat-file", "-e", f"{commit}^{{commit}}")
    return result.returncode == 0
