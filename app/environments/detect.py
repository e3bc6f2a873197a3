"""What a repository declares about its dependencies, read statically (no repository code runs).

Order (issue 17), and the source names the report shows: `setup` commands (they replace
detection), `uv.lock`, `pyproject.toml` (PEP 621 dependencies, the test/dev extras, PEP 735
dependency groups), `requirements*.txt` and `requirements/*.txt`, `setup.py`/`setup.cfg`
(install and test requirements and the test extras), `tox.ini` deps. Every source found after
`uv.lock` contributes: a project declares its runtime packages in one file and its test tools in
another, so taking only the first would leave one half out.

Every file here is attacker-controlled: symlinks are refused and sizes are capped.
"""

from __future__ import annotations

import ast
import configparser
import hashlib
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import pysource

#: Extras and dependency groups that hold test tools.
TEST_EXTRAS = ("test", "tests", "testing", "dev")
#: Dependency files larger than this are ignored (no real one is close).
MAX_FILE_BYTES = 1_000_000
#: Files whose content decides the environment, besides the requirements files.
DEPENDENCY_FILES = ("uv.lock", "pyproject.toml", "setup.py", "setup.cfg", "tox.ini")


@dataclass(frozen=True)
class Declared:
    """The sources used, the requirements they name, and what feeds the cache key."""

    sources: tuple[str, ...]
    requirements: tuple[str, ...] = ()
    requirement_files: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()
    uv_lock: bool = False
    requires_python: str | None = None
    fingerprint: str = ""


def detect(root: Path, setup: tuple[str, ...] = ()) -> Declared:
    """What `root` declares; `setup` commands (config or CLI) replace detection."""
    requires = _requires_python(root)
    digest = _fingerprint(root, setup)
    if setup:
        return Declared(
            ("setup commands",), setup=setup, requires_python=requires, fingerprint=digest
        )
    if _read(root, "uv.lock") is not None and _read(root, "pyproject.toml") is not None:
        return Declared(("uv.lock",), uv_lock=True, requires_python=requires, fingerprint=digest)
    sources: list[str] = []
    requirements: list[str] = []
    pyproject = _pyproject_requirements(root)
    if pyproject:
        sources.append("pyproject.toml")
        requirements += pyproject
    files = requirement_files(root)
    if files:
        sources += files
    setup_reqs = _setup_requirements(root)
    if setup_reqs is not None:
        sources.append(setup_reqs[0])
        requirements += setup_reqs[1]
    tox = _tox_requirements(root)
    if tox:
        sources.append("tox.ini")
        requirements += tox
    return Declared(
        tuple(sources),
        tuple(dict.fromkeys(requirements)),
        tuple(files),
        requires_python=requires,
        fingerprint=digest,
    )


def requirement_files(root: Path) -> list[str]:
    """`requirements*.txt` at the top and `requirements/*.txt`, relative, sorted."""
    found = [p for p in sorted(root.glob("requirements*.txt")) if _plain_file(p)]
    folder = root / "requirements"
    if folder.is_dir() and not folder.is_symlink():
        found += [p for p in sorted(folder.glob("*.txt")) if _plain_file(p)]
    return [str(p.relative_to(root)) for p in found]


def _fingerprint(root: Path, setup: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for name in (*DEPENDENCY_FILES, *requirement_files(root)):
        text = _read(root, name)
        digest.update(f"{name}\0{text if text is not None else '<absent>'}\0".encode())
    for command in setup:
        digest.update(f"setup\0{command}\0".encode())
        for name in _files_named_by(root, command):
            digest.update(f"setup file\0{name}\0{_read(root, name)}\0".encode())
    return digest.hexdigest()


def _files_named_by(root: Path, command: str) -> list[str]:
    """Files of the repository a setup command names (`bash scripts/setup.sh`, `-r reqs.txt`).

    Their content is part of the key: editing the script a setup command runs must build a new
    environment, just as editing a requirements file does.
    """
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    named = []
    for word in words:
        word = word.split("=", 1)[-1] if word.startswith("--") else word
        path = Path(word)
        if path.is_absolute() or ".." in path.parts or not word:
            continue
        if _read(root, word) is not None:
            named.append(word)
    return named


def _plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _read(root: Path, name: str) -> str | None:
    """The text of `root/name`, or None when absent, a symlink (anywhere on the way), or huge."""
    path = root
    for part in Path(name).parts:
        path = path / part
        if path.is_symlink():
            return None
    if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
        return None
    return path.read_text(encoding="utf-8", errors="replace")


def _toml(root: Path) -> dict[str, Any]:
    text = _read(root, "pyproject.toml")
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _pyproject_requirements(root: Path) -> list[str]:
    data = _toml(root)
    project = data.get("project", {}) if isinstance(data.get("project"), dict) else {}
    found = [r for r in project.get("dependencies", []) if isinstance(r, str)]
    extras = project.get("optional-dependencies", {})
    if isinstance(extras, dict):
        for name in TEST_EXTRAS:
            found += [r for r in extras.get(name, []) if isinstance(r, str)]
    groups = data.get("dependency-groups", {})
    if isinstance(groups, dict):
        for name in TEST_EXTRAS:
            found += _group(groups, name, set())
    return found


def _group(groups: dict[str, Any], name: str, seen: set[str]) -> list[str]:
    """A PEP 735 group with its `include-group` entries expanded (cycles ignored)."""
    if name in seen or not isinstance(groups.get(name), list):
        return []
    seen.add(name)
    found: list[str] = []
    for entry in groups[name]:
        if isinstance(entry, str):
            found.append(entry)
        elif isinstance(entry, dict) and isinstance(entry.get("include-group"), str):
            found += _group(groups, entry["include-group"], seen)
    return found


def _setup_requirements(root: Path) -> tuple[str, list[str]] | None:
    """(source name, requirements) from setup.cfg's [options] or setup.py's literals."""
    found: list[str] = []
    source = ""
    cfg = _setup_cfg(root)
    if cfg is not None:
        source, found = "setup.cfg", cfg
    keywords = _setup_py_keywords(root)
    if keywords is not None:
        source = "setup.py" if not source else "setup.py, setup.cfg"
        for key in ("install_requires", "tests_require"):
            found += _strings(keywords.get(key))
        extras = keywords.get("extras_require")
        if isinstance(extras, dict):
            for name, value in extras.items():
                if name in TEST_EXTRAS or (isinstance(name, str) and name.startswith(":")):
                    found += [_with_marker(r, name) for r in _strings(value)]
    return (source, found) if source else None


def _with_marker(requirement: str, extra: str) -> str:
    """`":python_version<'3.4'"` extras carry an environment marker: keep it on each entry."""
    if extra.startswith(":") and len(extra) > 1 and ";" not in requirement:
        return f"{requirement}; {extra[1:]}"
    return requirement


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def _setup_cfg(root: Path) -> list[str] | None:
    text = _read(root, "setup.cfg")
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    found: list[str] = []
    if parser.has_option("options", "install_requires"):
        found += _strings(parser.get("options", "install_requires"))
    if parser.has_option("options", "tests_require"):
        found += _strings(parser.get("options", "tests_require"))
    if parser.has_section("options.extras_require"):
        for name in TEST_EXTRAS:
            if parser.has_option("options.extras_require", name):
                found += _strings(parser.get("options.extras_require", name))
    return found or None


def _setup_py_keywords(root: Path) -> dict[str, Any] | None:
    """The literal keywords of setup.py's `setup(...)` call; names bound to literals resolve."""
    text = _read(root, "setup.py")
    if text is None:
        return None
    tree = pysource.parse_text(text, "setup.py")  # RecursionError and MemoryError too
    if tree is None:
        return {}
    names = _literal_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called_name(node) == "setup":
            return {k.arg: _literal(k.value, names) for k in node.keywords if k.arg}
    return {}


def _literal_names(tree: ast.Module) -> dict[str, Any]:
    names: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                names[target.id] = _literal(node.value, names)
    return names


def _literal(node: ast.AST, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # reqs + test_reqs
        left, right = _literal(node.left, names), _literal(node.right, names)
        if isinstance(left, list) and isinstance(right, list):
            return left + right
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return list(value) if isinstance(value, tuple) else value


def _called_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _tox_requirements(root: Path) -> list[str]:
    text = _read(root, "tox.ini")
    if text is None:
        return []
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    if not parser.has_option("testenv", "deps"):
        return []
    found = []
    for line in _strings(parser.get("testenv", "deps")):
        # -r files are found on their own; {substitutions} and options mean nothing outside tox.
        if line.startswith("-") or "{" in line:
            continue
        found.append(line)
    return found


def _requires_python(root: Path) -> str | None:
    project = _toml(root).get("project", {})
    if isinstance(project, dict) and isinstance(project.get("requires-python"), str):
        return str(project["requires-python"])
    text = _read(root, "setup.cfg")
    if text is not None:
        match = re.search(r"^python_requires\s*=\s*(.+)$", text, re.MULTILINE)
        if match:
            return match.group(1).strip()
    keywords = _setup_py_keywords(root)
    if keywords and isinstance(keywords.get("python_requires"), str):
        return str(keywords["python_requires"])
    return None
