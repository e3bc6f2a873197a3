"""No host file call on a work copy, slot or build folder outside app/workfiles.py.

The rule of docs/security.md ("Paths"): FixWurx's own process never follows a path that
sandboxed code could have written. It holds when every open, rename, remove, chmod, mkdir,
rmtree, copy and touch on such a path goes through app.workfiles, which resolves beneath a
directory fd with no link. This AST walk enforces it in the modules that handle work copies,
warm slots, build folders, reports, coverage data and caches: a path-following call there
fails the test with its file and line, unless the allow-list below names it with the reason
its path is host-only (never inside a directory a sandbox binds writable).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

#: The modules that handle paths below a work copy, slot, build folder, report or cache.
GUARDED = (
    "app/workspace.py",
    "app/gitcredentials.py",
    "app/patches.py",
    "app/sandbox/api.py",
    "app/sandbox/session.py",
    "app/environments/build.py",
    "app/environments/cache.py",
    "app/environments/prepare.py",
    "app/environments/model.py",
    "app/testing/",
    "app/repair/",
    "app/agents/edits.py",
    "app/agents/reprotest.py",
    "app/agents/agent/",
    "app/chain/stages/",
)

#: Calls that follow a path: builtins, os.*, shutil.* and pathlib methods.
OS_CALLS = frozenset(
    {
        "replace", "rename", "renames", "remove", "unlink", "rmdir", "removedirs", "chmod",
        "lchmod", "chown", "mkdir", "makedirs", "symlink", "link", "utime", "truncate",
    }
)  # fmt: skip
SHUTIL_CALLS = frozenset(
    {"rmtree", "copy", "copy2", "copyfile", "copytree", "move", "copymode", "copystat", "chown"}
)
PATH_METHODS = frozenset(
    {
        "write_text", "write_bytes", "read_text", "read_bytes", "open", "unlink", "mkdir",
        "touch", "chmod", "lchmod", "rename", "replace", "rmdir", "symlink_to", "hardlink_to",
    }
)  # fmt: skip

#: Code that runs INSIDE the sandbox (its file calls are the sandboxed uid's, not the host's).
INSIDE_THE_SANDBOX = frozenset({"app/testing/warm_server.py"})

#: (file, enclosing function, call) that touch host-only paths, each with why it is safe.
ALLOWED = {
    # The fallback backend's private HOME: mkdtemp'd, then lent to the run's uid by chown,
    # before anything runs (its removal goes through workfiles.rmtree).
    ("app/sandbox/api.py", "_run_subprocess", "chown"),
    # The cache root and its host-only folders (meta/, choices/): no sandbox binds them.
    ("app/environments/prepare.py", "prepare", "mkdir"),
    ("app/environments/cache.py", "meta_dir", "mkdir"),
    ("app/environments/cache.py", "remember_choice", "mkdir"),
    # The build folder is created fresh (discard() removed any old one) before any step runs.
    ("app/environments/build.py", "build", "mkdir"),
    # Coverage data, read through workfiles (bounded), copied into FixWurx's own mkdtemp.
    ("app/repair/coverage_run.py", "run_with_coverage", "write_bytes"),
    # The build lock lives in <cache>/locks/, which no sandbox binds.
    ("app/environments/cache.py", "locked", "mkdir"),
    ("app/environments/cache.py", "locked", "open"),
    # uv's cache directory is created by the host before any step binds it.
    ("app/environments/build.py", "__init__", "mkdir"),
    # Use stamps of uv caches live in <cache>/uv-used/, which no sandbox binds (only
    # uv/<scope> is bound, read-write, to install steps).
    ("app/environments/cache.py", "touch_uv_cache", "mkdir"),
    ("app/environments/cache.py", "touch_uv_cache", "touch"),
    ("app/environments/cache.py", "evict", "unlink"),
    ("app/environments/cache.py", "_drop_orphan_uv_caches", "unlink"),
    # An over-cap uv cache is removed through workfiles, then made afresh in <cache>/uv/, whose
    # own entries no sandbox can write.
    ("app/environments/cache.py", "empty_uv_cache", "mkdir"),
    # Reads of FixWurx's own packaged files (prompts, the warm server), not of a work copy.
    ("app/testing/warm.py", "start", "read_text"),
}


def _guarded_files() -> Iterator[Path]:
    for entry in GUARDED:
        path = ROOT / entry
        found = sorted(path.rglob("*.py")) if entry.endswith("/") else [path]
        yield from (p for p in found if p.relative_to(ROOT).as_posix() not in INSIDE_THE_SANDBOX)


def _flagged(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id if func.id == "open" else None
    if not isinstance(func, ast.Attribute):
        return None
    owner = func.value
    if isinstance(owner, ast.Name) and owner.id == "workfiles":
        return None
    if isinstance(owner, ast.Name) and owner.id == "os":
        return func.attr if func.attr in OS_CALLS else None
    if isinstance(owner, ast.Name) and owner.id == "shutil":
        return func.attr if func.attr in SHUTIL_CALLS else None
    if isinstance(owner, ast.Name) and owner.id in ("json", "re", "str", "self", "cls", "cache"):
        return None  # json.loads, str.replace, cache.touch (app's own) are not file calls
    if func.attr in PATH_METHODS and func.attr != "replace":
        return func.attr
    return None


def _violations() -> Iterator[str]:
    for path in _guarded_files():
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for function in [tree, *ast.walk(tree)]:
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
                continue
            name = getattr(function, "name", "<module>")
            for node in _own_nodes(function):
                call = _flagged(node) if isinstance(node, ast.Call) else None
                if call and (rel, name, call) not in ALLOWED:
                    yield f"{rel}:{node.lineno} {name}() calls {call}(): use app.workfiles"


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of `function` outside any nested function (those are visited themselves)."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def test_no_path_following_call_below_a_work_copy_outside_workfiles() -> None:
    assert list(_violations()) == []


def test_the_rule_sees_a_plain_write(tmp_path: Path) -> None:
    """The walk itself: a Path.write_text, an os.replace and an open are each caught."""
    source = "def f(p):\n    p.write_text('x')\n    os.replace(p, p)\n    open(p)\n"
    calls = [_flagged(n) for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)]
    assert sorted(c for c in calls if c) == ["open", "replace", "write_text"]
