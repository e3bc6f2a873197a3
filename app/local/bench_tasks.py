"""The task file of `fixwurx bench`: one JSON object a line, each a repository to repair.

A line names the repository (`repo`: a local folder, or a git URL to clone), optionally the
commit to check out, the issue text, the test command, the tests that judge the fix afterwards
(`judge_tests`), and limits. Every line is checked before anything runs, so a typo on line 30
costs seconds rather than the 29 repairs before it; each problem names the file and the line.
Relative paths are relative to the task file, so a task file and its cases move together.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from app.errors import BadInput

#: Every key a line may have; another key is a typo, refused rather than silently ignored.
KEYS = frozenset(
    {
        "id",
        "repo",
        "commit",
        "issue",
        "test_command",
        "judge_tests",
        "judge_into",
        "environment",
        "timeout",
        "test_timeout",
    }
)
#: A git URL (`https://`, `ssh://`, `git://`, `file://`) or scp-style `user@host:path`.
_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)
#: A commit or ref: never an option (`-...`), never whitespace or shell-looking characters.
_COMMIT = re.compile(r"^[0-9A-Za-z_][0-9A-Za-z._/-]{0,199}$")
#: Ids appear in tables and file names: short, printable, no path separators.
_ID = re.compile(r"^[0-9A-Za-z_][0-9A-Za-z._@+-]{0,99}$")
#: The folder of the repository held-out test files are copied into, when the line says none.
DEFAULT_JUDGE_INTO = "tests"


@dataclass(frozen=True)
class Task:
    """One checked line of a task file."""

    id: str
    #: A local folder (absolute) or a git URL.
    repo: str
    line: int
    commit: str | None = None
    issue: str = ""
    test_command: str | None = None
    #: A file or folder of held-out tests (absolute), copied in before judging.
    judge_files: Path | None = None
    #: Or test ids already in the repository, run to judge.
    judge_ids: tuple[str, ...] = ()
    judge_into: str = DEFAULT_JUDGE_INTO
    #: Build the repository's own environment (False: FixWurx's interpreter, as the cases need).
    environment: bool = True
    timeout: float | None = None
    test_timeout: float | None = None

    @property
    def is_url(self) -> bool:
        """Cloned with git rather than read from a folder."""
        return bool(_URL.match(self.repo))

    @property
    def judged(self) -> bool:
        """Are there tests that decide correct versus merely plausible?"""
        return self.judge_files is not None or bool(self.judge_ids)


def read_tasks(path: Path) -> list[Task]:
    """Every task in `path`; BadInput naming `path:line` for the first bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BadInput(f"{path} does not exist: pass a task file (JSON lines)") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read the task file {path}: {exc}") from exc
    base = path.resolve().parent
    tasks: list[Task] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        task = parse_line(raw, base, f"{path}:{number}", number)
        if task.id in seen:
            raise BadInput(
                f"{path}:{number}: id {task.id!r} is already used on line {seen[task.id]}; "
                "give each task its own id"
            )
        seen[task.id] = number
        tasks.append(task)
    if not tasks:
        raise BadInput(f"{path} has no tasks: write one JSON object a line")
    return tasks


def parse_line(raw: str, base: Path, where: str, number: int = 0) -> Task:
    """One line as a Task; `where` (file:line) starts every error message."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadInput(f"{where}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise BadInput(f"{where}: expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise BadInput(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(KEYS))}"
        )
    line = _Line(data, where)
    repo = line.text("repo", required=True)
    assert repo is not None
    if _URL.match(repo):
        where_repo = repo
    else:
        folder = (base / repo).resolve()
        if not folder.is_dir():
            raise BadInput(f"{where}: repo {repo!r} is not a folder ({folder} does not exist)")
        where_repo = str(folder)
    commit = line.text("commit")
    if commit is not None and not _COMMIT.match(commit):
        raise BadInput(f"{where}: commit {commit!r} is not a commit or ref name")
    task_id = line.text("id") or _default_id(repo, commit)
    if not _ID.match(task_id):
        raise BadInput(f"{where}: id {task_id!r} may hold only letters, digits and ._@+-")
    files, ids = _judge(data.get("judge_tests"), base, where)
    return Task(
        id=task_id,
        repo=where_repo,
        line=number,
        commit=commit,
        issue=line.text("issue") or "",
        test_command=line.text("test_command"),
        judge_files=files,
        judge_ids=ids,
        judge_into=_relative_folder(line.text("judge_into") or DEFAULT_JUDGE_INTO, where),
        environment=line.flag("environment", True),
        timeout=line.seconds("timeout"),
        test_timeout=line.seconds("test_timeout"),
    )


@dataclass(frozen=True)
class _Line:
    """Typed reads of one line's keys, each error naming the line and the key."""

    data: dict[str, Any]
    where: str

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise BadInput(f'{self.where}: "{key}" is missing (every task needs a repo)')
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            raise BadInput(f'{self.where}: "{key}" must be a non-empty string')
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise BadInput(f'{self.where}: "{key}" must be true or false')
        return value

    def seconds(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise BadInput(f'{self.where}: "{key}" must be a positive number of seconds')
        return float(value)


def _judge(value: object, base: Path, where: str) -> tuple[Path | None, tuple[str, ...]]:
    """`judge_tests`: a file or folder of held-out tests (a string), or test ids (a list)."""
    if value is None:
        return None, ()
    if isinstance(value, str) and value.strip():
        found = (base / value).resolve()
        if not found.exists():
            raise BadInput(f"{where}: judge_tests {value!r} does not exist ({found})")
        return found, ()
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        if any(v.startswith("-") for v in value):
            raise BadInput(f"{where}: judge_tests lists test ids, not options")
        return None, tuple(value)
    raise BadInput(
        f"{where}: judge_tests must be a path to held-out tests or a non-empty list of test ids"
    )


def _relative_folder(value: str, where: str) -> str:
    rel = PurePosixPath(value)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise BadInput(f"{where}: judge_into {value!r} must be a folder inside the repository")
    return str(rel)


def _default_id(repo: str, commit: str | None) -> str:
    name = repo.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git") or "task"
    name = re.sub(r"[^0-9A-Za-z._-]", "_", name).lstrip("._-") or "task"
    return f"{name}@{commit[:12]}" if commit else name
