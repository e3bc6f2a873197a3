"""What a repository declares about its dependencies, read statically (no repository code runs).

Order (issue 17), and the source names the report shows: `setup` commands (they replace
detection), `uv.lock`, `pyproject.toml` (PEP 621 dependencies, the test/dev extras, PEP 735
dependency groups), `requirements*.txt` and `requirements/*.txt`, `setup.py`/`setup.cfg`
(install and test requirements and the test extras), tox's deps (tox.ini, pyproject's
`[tool.tox]`, tox.toml). Every source found after
`uv.lock` contributes: a project declares its runtime packages in one file and its test tools in
another, so taking only the first would leave one half out.

Every file here is attacker-controlled: symlinks are refused and sizes are capped.
"""

from __future__ import annotations

import ast
import configparser
import hashlib
import os
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import pysource
from app.environments.model import EnvironmentBuildError
from app.environments.support import named_versions, project_files

#: Extras and dependency groups that hold test tools.
TEST_EXTRAS = ("test", "tests", "testing", "dev")
#: Dependency files larger than this are ignored (no real one is close).
MAX_FILE_BYTES = 1_000_000
#: Folders of tests that may hold their own requirements files.
TEST_DIRS = ("tests", "test")
#: A requirements file for Python 2 only, by its name (`requirements-py2.txt`, `..._py27.txt`).
PYTHON2_ONLY = re.compile(r"(?:^|[-_.])(?:py2\d?|python2)(?:[-_.]|$)")
#: Files whose content decides the environment, besides the requirements files.
DEPENDENCY_FILES = (
    "uv.lock",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "tox.ini",
    "tox.toml",
    "poetry.lock",
)


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
    #: The Python versions the project names (classifiers, tox envlist, CI matrix), newest first.
    named_pythons: tuple[str, ...] = ()
    #: The code imports `pkg_resources`, which a uv venv lacks unless setuptools is installed.
    uses_pkg_resources: bool = False
    #: Files the project's build writes and its code imports (a VCS version file such as
    #: `src/pkg/_version.py`): the build keeps them, and each work copy gets them (prepare.py).
    generated_files: tuple[str, ...] = ()


def detect(root: Path, setup: tuple[str, ...] = ()) -> Declared:
    """What `root` declares; `setup` commands (config or CLI) replace detection."""
    problem = config_problem(root)
    if problem:
        raise EnvironmentBuildError(problem)
    requires = _requires_python(root)
    digest = _fingerprint(root, setup)
    named = named_versions(project_files(root, _read))
    if setup:
        return Declared(
            ("setup commands",),
            setup=setup,
            requires_python=requires,
            fingerprint=digest,
            named_pythons=named,
        )
    if _read(root, "uv.lock") is not None and _read(root, "pyproject.toml") is not None:
        return Declared(
            ("uv.lock",),
            uv_lock=True,
            requires_python=requires,
            fingerprint=digest,
            named_pythons=named,
        )
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
    tox_source, tox = _tox_requirements(root)
    if tox:
        sources.append(tox_source)
        requirements += tox
    return Declared(
        tuple(sources),
        tuple(dict.fromkeys(requirements)),
        tuple(files),
        requires_python=requires,
        fingerprint=digest,
        named_pythons=named,
        uses_pkg_resources=mentions(root, "pkg_resources"),
        generated_files=version_files(root),
    )


def version_files(root: Path) -> tuple[str, ...]:
    """The version files pyproject.toml says the build writes (hatch-vcs `version-file`,
    setuptools-scm `version_file`/`write_to`, pdm-backend `write_to`), absent from the checkout:
    a maintainer's `pip install -e .` writes them into the checkout, FixWurx's build into its
    own copy. Relative paths inside the repository only; `src/` is tried for pdm's package-
    relative form."""
    tool = _toml(root).get("tool", {})
    if not isinstance(tool, dict):
        return ()
    named = [
        _dig(tool, "hatch", "build", "hooks", "vcs", "version-file"),
        _dig(tool, "hatch", "build", "targets", "wheel", "hooks", "vcs", "version-file"),
        _dig(tool, "setuptools_scm", "version_file"),
        _dig(tool, "setuptools_scm", "write_to"),
        _dig(tool, "pdm", "version", "write_to"),
        _dig(tool, "pdm", "build", "write_to"),
    ]
    found = []
    for name in named:
        if not isinstance(name, str) or not name.endswith(".py"):
            continue
        path = Path(name)
        if path.is_absolute() or ".." in path.parts or len(name) > 300:
            continue
        found.append(name)
    return tuple(dict.fromkeys(n for n in found if _read(root, n) is None))


def _dig(table: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(table, dict):
            return None
        table = table.get(key)
    return table


#: How many source files `mentions` reads at most, and the folders it never enters.
MENTION_FILE_LIMIT = 3000
_NOT_SOURCE = {".git", ".venv", "venv", ".tox", "node_modules", "site-packages", "build", "dist"}


def mentions(root: Path, word: str) -> bool:
    """Does any Python file of the project contain `word`? Bounded: links are not followed,
    at most MENTION_FILE_LIMIT files of at most MAX_FILE_BYTES each are read."""
    seen = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_SOURCE)
        for name in names:
            path = Path(folder, name)
            if not name.endswith(".py") or path.is_symlink():
                continue
            seen += 1
            if seen > MENTION_FILE_LIMIT:
                return False
            if path.stat().st_size <= MAX_FILE_BYTES and word in path.read_text("utf-8", "replace"):
                return True
    return False


def config_problem(root: Path) -> str:
    """A project file that does not parse, found before any interpreter is tried ("" if none):
    every installer would fail on it, on every Python, after minutes of probing."""
    text = _read(root, "pyproject.toml")
    if text is None:
        return ""
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return (
            f"environment: pyproject.toml does not parse ({exc}); fix the file, or say how to "
            "install the project with --setup (or `setup:` in .github/fixwurx.yml)"
        )
    return ""


def requirement_files(root: Path) -> list[str]:
    """Requirements files wherever projects keep them, relative, sorted: `*requirements*.txt`
    at the top (`requirements-test.txt`, `test_requirements.txt`, `dev-requirements.txt`), every
    `.txt` in `requirements/`, and `*requirements*.txt` in `tests/` and `test/`. Files for
    Python 2 only (`requirements-py2.txt`) are skipped: no interpreter FixWurx builds runs them.
    """
    found = [p for p in sorted(root.glob("*requirements*.txt")) if _plain_file(p)]
    for folder, pattern in (
        ("requirements", "*.txt"),
        *((d, "*requirements*.txt") for d in TEST_DIRS),
    ):
        path = root / folder
        if path.is_dir() and not path.is_symlink():
            found += [p for p in sorted(path.glob(pattern)) if _plain_file(p)]
    names = [str(p.relative_to(root)) for p in found]
    return [n for n in dict.fromkeys(names) if not PYTHON2_ONLY.search(Path(n).name)]


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
    tool = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
    return found + _flit_requirements(tool) + _poetry_requirements(tool)


def _flit_requirements(tool: dict[str, Any]) -> list[str]:
    """flit's old `[tool.flit.metadata]`: `requires` and the test extras of `requires-extra`."""
    flit = tool.get("flit", {})
    metadata = flit.get("metadata", {}) if isinstance(flit, dict) else {}
    if not isinstance(metadata, dict):
        return []
    found = _strings(metadata.get("requires"))
    extras = metadata.get("requires-extra", {})
    if isinstance(extras, dict):
        for name in TEST_EXTRAS:
            found += _strings(extras.get(name))
    return found


def _poetry_requirements(tool: dict[str, Any]) -> list[str]:
    """Poetry's `dependencies`, `dev-dependencies` and its test/dev groups, as PEP 508."""
    poetry = tool.get("poetry", {})
    if not isinstance(poetry, dict):
        return []
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    groups = poetry.get("group", {})
    if isinstance(groups, dict):
        tables += [
            g.get("dependencies")
            for n, g in groups.items()
            if n in TEST_EXTRAS and isinstance(g, dict)
        ]
    found: list[str] = []
    for table in tables:
        if isinstance(table, dict):
            found += [r for name, spec in table.items() if (r := poetry_requirement(name, spec))]
    return found


def poetry_requirement(name: str, spec: Any) -> str:
    """One Poetry dependency as a PEP 508 requirement ("" for python itself, paths and VCS).

    `^1.2` is `>=1.2,<2.0`, `~1.2` is `>=1.2,<1.3`, `*` is any version; a table's `version`,
    `extras` and `python` keys carry over (`markers` too).
    """
    if name.lower() == "python" or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}", name):
        return ""
    table = spec if isinstance(spec, dict) else {"version": spec}
    if any(k in table for k in ("path", "git", "url", "file")):
        return ""
    extras = [e for e in table.get("extras", []) if isinstance(e, str)]
    head = f"{name}[{','.join(extras)}]" if extras else name
    markers = [str(table["markers"])] if isinstance(table.get("markers"), str) else []
    if isinstance(table.get("python"), str):
        markers += [_python_marker(table["python"])]
    marker = "; " + " and ".join(f"({m})" for m in markers if m) if any(markers) else ""
    return head + _poetry_version(str(table.get("version", "*"))) + marker


def _poetry_version(constraint: str) -> str:
    parts = [_poetry_clause(c.strip()) for c in constraint.split(",") if c.strip()]
    return ",".join(p for p in parts if p)


def _poetry_clause(clause: str) -> str:
    if clause in ("*", "") or "||" in clause or "|" in clause:  # alternatives: take any version
        return ""
    if clause[0] in "^~" and not clause.startswith("~="):
        numbers = [int(n) for n in re.findall(r"\d+", clause)[:3]] or [0]
        upper = _caret_upper(numbers) if clause[0] == "^" else _tilde_upper(numbers)
        return f">={clause[1:].strip()},<{upper}"
    if clause[0].isdigit():
        return f"=={clause}"
    return clause.replace(" ", "")


def _caret_upper(numbers: list[int]) -> str:
    for i, n in enumerate(numbers):
        if n != 0 or i == len(numbers) - 1:
            return ".".join([*(str(m) for m in numbers[:i]), str(n + 1)])
    return "1"


def _tilde_upper(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return str(numbers[0] + 1)
    return f"{numbers[0]}.{numbers[1] + 1}"


def _python_marker(constraint: str) -> str:
    clauses = ",".join(filter(None, (_poetry_clause(c.strip()) for c in constraint.split(","))))
    return " and ".join(f"python_version {_op_and_version(c)}" for c in clauses.split(",") if c)


def _op_and_version(clause: str) -> str:
    match = re.match(r"([<>=!~]{1,2})\s*([\d.*]+)", clause)
    return f"{match.group(1)} '{match.group(2)}'" if match else f">= '{clause}'"


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
            return _keywords(node, names)
    return {}


def _keywords(call: ast.Call, names: dict[str, Any]) -> dict[str, Any]:
    """A call's keywords; `**kwargs` bound to a literal dict (or `dict(...)`) counts too."""
    found: dict[str, Any] = {}
    for keyword in call.keywords:
        value = _literal(keyword.value, names)
        if keyword.arg:
            found[keyword.arg] = value
        elif isinstance(value, dict):
            found.update({k: v for k, v in value.items() if isinstance(k, str)})
    return found


def _literal_names(tree: ast.Module) -> dict[str, Any]:
    names: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                names[target.id] = _literal(node.value, names)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            base, more = names.get(node.target.id), _literal(node.value, names)
            if isinstance(node.op, ast.Add) and isinstance(base, list) and isinstance(more, list):
                names[node.target.id] = base + more  # tests_require += ["pytest"]
    return names


def _literal(node: ast.AST, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Call) and _called_name(node) == "dict" and not node.args:
        return _keywords(node, names)  # kwargs = dict(install_requires=reqs, ...)
    if isinstance(node, ast.Dict):  # {"install_requires": reqs}: values may be names
        keys = [_literal(k, names) if k is not None else None for k in node.keys]
        return {
            k: _literal(v, names)
            for k, v in zip(keys, node.values, strict=True)
            if isinstance(k, str)
        }
    if isinstance(node, ast.List | ast.Tuple):  # [*base, "pytest"] or ["a", name]
        items: list[Any] = []
        for element in node.elts:
            inner = element.value if isinstance(element, ast.Starred) else element
            value = _literal(inner, names)
            items += (
                value if isinstance(element, ast.Starred) and isinstance(value, list) else [value]
            )
        return items if all(isinstance(i, str) for i in items) else None
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


def _tox_requirements(root: Path) -> tuple[str, list[str]]:
    config = tox_config(root)
    if config is None:
        return "", []
    source, parser = config
    found = []
    for line in tox_deps(parser):
        requirement = tox_requirement(line)
        # -r files are found on their own; {substitutions} and options mean nothing outside tox.
        if requirement and not requirement.startswith("-") and "{" not in requirement:
            found.append(requirement)
    return source, found


#: Where tox 4 reads its configuration, in its order (tox.toml last); the source names shown.
TOX_LEGACY = "pyproject.toml ([tool.tox] legacy_tox_ini)"
TOX_NATIVE = ("pyproject.toml ([tool.tox])", "tox.toml")
#: A deps line that is a reference to another section's setting: `{[core]deps}`.
_TOX_REFERENCE = re.compile(r"^\{\[([\w:.\- ]{1,100})\]([\w\-]{1,100})\}$")


def tox_config(root: Path) -> tuple[str, configparser.ConfigParser] | None:
    """The project's tox configuration as ini sections, and where it was read: tox.ini, the
    ini text of pyproject's `[tool.tox] legacy_tox_ini` (tqdm), or tox 4's native TOML
    `env_run_base` (pyproject `[tool.tox]`, then tox.toml) as a `[testenv]` of its `deps`,
    `extras` and `skip_install`. None when there is none or it does not parse. Detection and the
    CI recipe both read this, so the two never disagree about what tox installs."""
    text = _read(root, "tox.ini")
    if text is not None:
        return _ini("tox.ini", text)
    tool = _toml(root).get("tool")
    tox = tool.get("tox") if isinstance(tool, dict) else None
    if isinstance(tox, dict) and isinstance(tox.get("legacy_tox_ini"), str):
        legacy = tox["legacy_tox_ini"]
        return _ini(TOX_LEGACY, legacy) if len(legacy) <= MAX_FILE_BYTES else None
    native = _native_tox(TOX_NATIVE[0], tox)
    if native is not None:
        return native
    text = _read(root, "tox.toml")
    try:
        data = tomllib.loads(text) if text is not None else {}
    except tomllib.TOMLDecodeError:
        return None
    return _native_tox(TOX_NATIVE[1], data)


def _ini(source: str, text: str) -> tuple[str, configparser.ConfigParser] | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return source, parser


def _native_tox(source: str, data: Any) -> tuple[str, configparser.ConfigParser] | None:
    """tox 4's `env_run_base` table as a `[testenv]` section; None when it has none."""
    base = data.get("env_run_base") if isinstance(data, dict) else None
    if not isinstance(base, dict):
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.add_section("testenv")
    for key in ("deps", "extras"):
        values = [v for v in _strings(base.get(key)) if "\n" not in v]
        if values:
            parser.set("testenv", key, "\n".join(values))
    if base.get("skip_install") is True:
        parser.set("testenv", "skip_install", "true")
    return source, parser


def tox_deps(parser: configparser.ConfigParser, section: str = "testenv") -> list[str]:
    """The lines of `section`'s deps, a `{[core]deps}` line replaced by that setting's lines
    (tox's reference to another section; nested references are followed three deep)."""
    return _tox_lines(parser, section, "deps", 3)


def _tox_lines(parser: configparser.ConfigParser, section: str, key: str, depth: int) -> list[str]:
    if not parser.has_option(section, key):
        return []
    lines: list[str] = []
    for line in _strings(parser.get(section, key))[:200]:
        match = _TOX_REFERENCE.match(line)
        if match is None or depth == 0:
            lines.append(line)
        else:
            lines += _tox_lines(parser, match.group(1), match.group(2), depth - 1)
    return lines[:200]


#: A tox factor condition: `py3: pkg`, `cdh,hdp: pkg`, `!py27: pkg`, `py3-django: pkg`.
_FACTOR_LINE = re.compile(r"^([!\w,.\- ]{1,200}):\s*(\S.*)$")
#: A Python factor: `py3`, `py38`, `py311`, `python3.11`, `pypy3`.
_PY_FACTOR = re.compile(r"^(?:py|python|pypy)(\d)(?:\.?(\d{1,2}))?$")


def tox_requirement(line: str) -> str:
    """A tox deps line for the environment FixWurx builds: a Python factor becomes a marker,
    any other factor (`cdh,hdp:`, `django32:`) names an environment that is not ours ("")."""
    match = _FACTOR_LINE.match(line)
    if match is None or "://" in line or line.lstrip().startswith(("-", "[")):
        return line
    alternatives = [a.strip() for a in match.group(1).split(",") if a.strip()]
    markers = [m for m in (_factor_marker(a) for a in alternatives) if m is not None]
    if not markers:
        return ""
    requirement = match.group(2).strip()
    condition = " or ".join(f"({m})" for m in markers) if "" not in markers else ""
    joiner = " and " if ";" in requirement else "; "
    return f"{requirement}{joiner}({condition})" if condition else requirement


def _factor_marker(alternative: str) -> str | None:
    """The marker of `py3-foo` style factors joined by `-`; None when a factor is not Python."""
    clauses = []
    for factor in alternative.split("-"):
        negated = factor.startswith("!")
        match = _PY_FACTOR.match(factor.lstrip("!"))
        if match is None:
            return None
        major, minor = match.groups()
        clause = (
            f"python_version {'!=' if negated else '=='} '{major}.{minor}'"
            if minor
            else f"python_version {'<' if negated else '>='} '{major}'"
            + ("" if negated else f" and python_version < '{int(major) + 1}'")
        )
        clauses.append(clause)
    return " and ".join(clauses)


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
