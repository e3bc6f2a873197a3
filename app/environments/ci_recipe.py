"""Setup learned from the repository's CI, for when its declared files give no environment.

Many repositories install what their tests need only in their CI: a workflow step runs
`pip install ./vendor/helper` or `pip install -r ci/requirements.txt`, tox.ini lists `deps` and
`extras`, a noxfile calls `session.install(...)`. When the environment built from the declared
files does not collect the tests, those install commands are the maintainers' own recipe, so
they are tried as setup steps (issue 25). Only install commands are taken: services, system
packages, secrets, sudo, docker, downloads and third-party actions are skipped, each with the
reason, and the report says what was taken from where and what was skipped.

Everything read here is hostile input, read statically: files are size-capped and read without
following links, YAML goes through a safe loader that counts its nodes (an alias bomb is refused
before it is built), only the few keys a recipe needs are visited with caps on their lengths,
noxfile.py is parsed with `ast` and never imported, and no shell ever evaluates a command on the
host (the commands run later as setup steps, in the sandbox, in the repository copy).
"""

from __future__ import annotations

import ast
import configparser
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.environments.detect import _read, _strings, tox_config, tox_deps, tox_requirement
from app.environments.support import project_files

#: A CI file larger than this is not read (no real workflow is close).
MAX_FILE_BYTES = 256_000
#: YAML nodes (aliases included) one workflow may have; more is refused as a bomb.
MAX_NODES = 20_000
MAX_JOBS = 50
MAX_STEPS = 100
#: Install commands one recipe may take, and the length of each.
MAX_COMMANDS = 20
MAX_COMMAND_CHARS = 2_000
MAX_SKIPPED = 20
MAX_ENV = 30
MAX_ENV_VALUE = 500
MAX_MATRIX_VALUES = 50

#: System package managers: their packages are the machine's, not the environment's.
SYSTEM_PACKAGES = frozenset(
    {"apt-get", "apt", "brew", "choco", "yum", "dnf", "apk", "port", "snap", "pacman", "zypper"}
)
CONTAINERS = frozenset({"docker", "docker-compose", "podman"})
DOWNLOADS = frozenset({"curl", "wget"})
#: Packages that only run the tests or manage the installer: a step installing nothing else
#: adds nothing to the environment (tox.ini or noxfile.py is read for the runner's recipe).
RUNNERS = frozenset({"tox", "tox-gh-actions", "tox-uv", "nox", "nox-uv", "pre-commit"})
#: Tools FixWurx adds itself, or that only report: installed beside a runner they add nothing.
REPORTERS = frozenset({"coverage", "codecov", "coveralls"})
INSTALLERS = frozenset({"pip", "setuptools", "wheel", "build", "virtualenv", "uv"})
#: Actions that set up what FixWurx provides itself: not reported as skipped.
QUIET_ACTIONS = frozenset({"actions/checkout", "actions/setup-python", "actions/cache"})
#: Variables FixWurx sets for every install step: a workflow never replaces them.
OWN_VARIABLES = frozenset({"PATH", "HOME", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "SHELL"})
_OWN_PREFIXES = ("UV_", "PIP_", "LD_", "FIXWURX")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_EXPRESSION = re.compile(r"\$\{\{(.{0,200}?)\}\}", re.S)
_SECRET = re.compile(r"\$\{\{[^}]{0,200}\bsecrets\.", re.S)
_PYTHON = re.compile(r"^python(?:3(?:\.\d{1,2})?)?$")
_PIP = re.compile(r"^pip(?:3(?:\.\d{1,2})?)?$")
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;"})
_SHELL_WORDS = frozenset({"then", "do", "else", "{", "time", "!"})


@dataclass(frozen=True)
class Install:
    """One install command, as a setup step runs it in the repository copy."""

    command: str
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Recipe:
    """What one CI source says about installing the project; `source` names the file and job."""

    source: str
    installs: tuple[Install, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    skipped: tuple[str, ...] = ()

    @property
    def commands(self) -> tuple[str, ...]:
        """The install commands as written in the report."""
        return tuple(i.command for i in self.installs)

    @property
    def setup(self) -> tuple[str, ...]:
        """The setup steps: each command with the plain variables its CI gives it exported."""
        steps = []
        for install in self.installs:
            pairs = dict(self.env) | dict(install.env)
            exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in pairs.items())
            steps.append(f"export {exports} && {install.command}" if exports else install.command)
        return tuple(steps)

    @property
    def report(self) -> str:
        """One line: what was taken from where, the variables, what was skipped and why."""
        line = f"setup taken from {self.source}: {'; '.join(self.commands) or 'nothing'}"
        env = dict(self.env)
        for install in self.installs:
            env |= dict(install.env)
        if env:
            line += f"; env: {', '.join(f'{k}={v}' for k, v in env.items())}"
        if self.skipped:
            line += f"; skipped: {', '.join(self.skipped)}"
        return line


def read(root: Path) -> Recipe | None:
    """The first CI recipe with install commands: a workflow's job (test jobs first), then
    tox.ini, then noxfile.py. None when no source has any; the returned recipe's `skipped`
    also lists what the sources read before it skipped."""
    seen: list[str] = []
    for recipe in _recipes(root):
        if recipe.installs:
            return Recipe(
                recipe.source,
                recipe.installs,
                recipe.env,
                tuple(dict.fromkeys([*recipe.skipped, *seen]))[:MAX_SKIPPED],
            )
        seen += recipe.skipped
    return None


def _recipes(root: Path) -> list[Recipe]:
    found: list[Recipe] = []
    texts = project_files(root, _read)
    pyproject = texts.get("pyproject.toml", "")
    names = [n for n in texts if n.startswith(".github/workflows/")]
    names.sort(key=lambda n: (not re.search(r"test|ci", Path(n).name, re.I), n))
    for name in names:
        if len(texts[name]) <= MAX_FILE_BYTES:
            found += workflow(name, texts[name], pyproject)
    tox = tox_config(root)
    if tox is not None:
        found += [r for r in [tox_section_recipe(*tox)] if r is not None]
    nox = _read(root, "noxfile.py")
    if nox is not None and len(nox) <= MAX_FILE_BYTES:
        found += [r for r in [nox_recipe(nox)] if r is not None]
    return found


# --- workflows ---------------------------------------------------------------------------


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing a document of more than MAX_NODES nodes (aliases count)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise yaml.YAMLError(f"more than {MAX_NODES} nodes")
        return super().compose_node(parent, index)


def load_yaml(text: str) -> Any:
    """The document, or None when it does not parse, is too large or too deep."""
    if len(text) > MAX_FILE_BYTES:
        return None
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        return None
    finally:
        loader.dispose()


def workflow(name: str, text: str, pyproject: str = "") -> list[Recipe]:
    """One recipe per job of workflow `name` (test jobs first); `pyproject` is the project's
    pyproject.toml, for the environments `hatch` commands name."""
    data = load_yaml(text)
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        return []
    top_env, skipped = _plain_env(data.get("env"), {})
    jobs = [(k, v) for k, v in list(data["jobs"].items())[:MAX_JOBS] if isinstance(k, str)]
    # Only jobs that run the tests (or say they test): a publishing, docs or spelling job's
    # installs (twine, sphinx, codespell) are no recipe for the tests' environment.
    named = "test" in Path(name).name.lower()
    jobs = [(k, v) for k, v in jobs if _runs_tests(v) or named or _says_test(k, v)]
    jobs.sort(key=lambda item: (not _runs_tests(item[1]), not _says_test(*item)))
    return [
        _job(f"{name} (job {job_id})", job, _Context(top_env, skipped, pyproject))
        for job_id, job in jobs
    ]


#: A step that runs the tests: the job it is in holds the tests' recipe.
_TEST_RUN = re.compile(
    r"(?<![\w-])(?:pytest|py\.test|tox|nox|unittest|make\s+test\w*|(?:hatch|uv|poetry|pdm)"
    r"\s+run\s+\S*test\w*|run[-_]?tests?\S*)(?![\w-])"
)


def _runs_tests(job: Any) -> bool:
    steps = _get(job, "steps")
    runs = [_get(s, "run") for s in steps[:MAX_STEPS]] if isinstance(steps, list) else []
    return any(isinstance(r, str) and _TEST_RUN.search(r[:20_000]) for r in runs)


def _says_test(job_id: str, job: Any) -> bool:
    title = _get(job, "name")
    return "test" in f"{job_id} {title if isinstance(title, str) else ''}".lower()


@dataclass(frozen=True)
class _Context:
    """What a job inherits: the workflow's variables and skips, and pyproject.toml's text."""

    env: dict[str, str]
    skipped: list[str]
    pyproject: str


def _job(source: str, job: Any, context: _Context) -> Recipe:
    if not isinstance(job, dict):
        return Recipe(source)
    skipped = list(context.skipped)
    services = job.get("services")
    if isinstance(services, dict):
        skipped += [f"services: {str(s)[:60]} (a service)" for s in list(services)[:10]]
    if job.get("container") is not None:
        skipped.append("container: (a container image)")
    env, env_skipped = _plain_env(job.get("env"), context.env)
    skipped += env_skipped
    matrix = _matrix(job.get("strategy"))
    steps = job.get("steps")
    installs: list[Install] = []
    default_dir = _get(_get(job.get("defaults"), "run"), "working-directory")
    for step in steps[:MAX_STEPS] if isinstance(steps, list) else []:
        if isinstance(step, dict):
            _step(step, _Job(env, matrix, default_dir, context.pyproject), installs, skipped)
    taken = tuple((k, v) for k, v in env.items())[:MAX_ENV]
    return Recipe(source, tuple(installs[:MAX_COMMANDS]), taken, tuple(skipped))


@dataclass(frozen=True)
class _Job:
    """What a step inherits from its job."""

    env: dict[str, str]
    matrix: dict[str, str]
    directory: Any
    pyproject: str


def _step(step: dict[Any, Any], job: _Job, installs: list[Install], skipped: list[str]) -> None:
    uses = step.get("uses")
    if isinstance(uses, str):
        if uses.split("@")[0].lower() not in QUIET_ACTIONS:
            skipped.append(f"uses: {uses[:80]} (an action other than setup-python)")
        return
    run = step.get("run")
    if not isinstance(run, str):
        return
    first = _shown(run.strip().splitlines()[0] if run.strip() else run)
    if _uses_secret(step):
        skipped.append(f"{first} (uses a secret)")
        return
    shell = step.get("shell")
    if isinstance(shell, str) and not re.match(r"^(bash|sh)\b", shell):
        skipped.append(f"{first} (runs in {shell[:20]}, not a POSIX shell)")
        return
    step_env, step_skipped = _plain_env(step.get("env"), job.env)
    skipped += step_skipped
    own = tuple((k, v) for k, v in step_env.items() if job.env.get(k) != v)
    directory = step.get("working-directory", job.directory)
    cwd = _directory(directory)
    if cwd is None:
        skipped.append(f"{first} (working-directory {str(directory)[:60]!r} is outside the copy)")
        return
    script = _resolve(run[:20_000], job.matrix, step_env)
    for words, text in _simple_commands(script, cwd):
        expanded, unknown = _expand(words, step_env)
        command, reason = classify(expanded, job.pyproject)
        if reason:
            skipped.append(f"{_shown(text)} ({reason})")
        elif command is not None and "${{" in text:
            skipped.append(f"{_shown(text)} (an expression FixWurx cannot resolve)")
        elif command is not None and unknown:
            skipped.append(
                f"{_shown(text)} (a shell variable or substitution FixWurx cannot resolve)"
            )
        elif command is not None:
            prefix = f"cd {shlex.quote(words.cwd)} && " if words.cwd != "." else ""
            installs += [Install(prefix + c, own) for c in command]


_VARIABLE = re.compile(r"\$\{([A-Za-z_]\w{0,63})\}|\$([A-Za-z_]\w{0,63})")


def _expand(words: _Words, env: dict[str, str]) -> tuple[_Words, bool]:
    """`$NAME` and `${NAME}` replaced by the plain variables (the commands are re-quoted, so the
    shell would not expand them); True when a `$` or a backquote is left."""
    expanded = _Words(
        _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), w) for w in words
    )
    expanded.cwd = words.cwd
    return expanded, any("$" in w or "`" in w for w in expanded)


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _uses_secret(step: dict[Any, Any]) -> bool:
    values = [step.get("run"), step.get("if")]
    for key in ("env", "with"):
        mapping = step.get(key)
        if isinstance(mapping, dict):
            values += list(mapping.values())[:MAX_ENV]
    return any(isinstance(v, str) and _SECRET.search(v[:20_000]) for v in values)


def _plain_env(value: Any, inherited: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Literal variables (no expression, no secret, not one FixWurx sets), and the skipped."""
    env = dict(inherited)
    skipped: list[str] = []
    if not isinstance(value, dict):
        return env, skipped
    for name, raw in list(value.items())[:MAX_ENV]:
        if not isinstance(name, str) or not _NAME.match(name):
            continue
        if isinstance(raw, bool):
            raw = "true" if raw else "false"
        if not isinstance(raw, (str, int, float)):
            continue
        text = str(raw)
        if _SECRET.search(text):
            skipped.append(f"env {name} (uses a secret)")
        elif "${{" in text:
            skipped.append(f"env {name} (an expression FixWurx cannot resolve)")
        elif name.upper() in OWN_VARIABLES or name.upper().startswith(_OWN_PREFIXES):
            skipped.append(f"env {name} (FixWurx sets it for every install step)")
        elif len(text) > MAX_ENV_VALUE or "\n" in text or "\0" in text:
            skipped.append(f"env {name} (too long)")
        else:
            env[name] = text
    return env, skipped


def _matrix(strategy: Any) -> dict[str, str]:
    """One value per matrix key: the newest for a Python version, else the first."""
    matrix = _get(strategy, "matrix")
    values: dict[str, str] = {}
    if not isinstance(matrix, dict):
        return values
    for key, raw in list(matrix.items())[:MAX_ENV]:
        if not isinstance(key, str) or key in ("include", "exclude"):
            continue
        items = raw[:MAX_MATRIX_VALUES] if isinstance(raw, list) else [raw]
        plain = [str(v) for v in items if isinstance(v, (str, int, float)) and "${{" not in str(v)]
        if not plain:
            continue
        if "python" in key.lower() and all(re.match(r"^3\.\d{1,2}$", v) for v in plain):
            plain.sort(key=lambda v: int(v.split(".")[1]), reverse=True)
        values[key] = plain[0][:100]
    return values


def _resolve(script: str, matrix: dict[str, str], env: dict[str, str]) -> str:
    """`${{ matrix.X }}` and `${{ env.X }}` replaced by their plain values; others stay."""

    def value(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        scope, _, key = expression.partition(".")
        known = {"matrix": matrix, "env": env}.get(scope, {})
        return known.get(key, match.group(0))

    return _EXPRESSION.sub(value, script)


def _directory(value: Any) -> str | None:
    """A relative directory inside the copy ("." when none), else None."""
    if value is None:
        return "."
    if not isinstance(value, str) or not value.strip():
        return None
    path = Path(value.strip())
    if path.is_absolute() or ".." in path.parts or "$" in value:
        return None
    return str(path)


class _Words(list[str]):
    """A simple command's words, with the directory it runs in (relative to the copy)."""

    cwd: str = "."


def _simple_commands(script: str, cwd: str) -> list[tuple[_Words, str]]:
    """The simple commands of a shell script, split on `&&`, `;`, `|`, with `cd` followed."""
    found: list[tuple[_Words, str]] = []
    logical = re.sub(r"\\\n", " ", script)
    for line in logical.splitlines()[:500]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            lexer.commenters = "#"
            tokens = list(lexer)
        except ValueError:
            continue
        current: list[str] = []
        for token in [*tokens, ";"]:
            if token not in _SEPARATORS:
                current.append(token)
                continue
            while current and current[0] in _SHELL_WORDS:
                current.pop(0)
            while current and re.match(r"^[A-Za-z_]\w*=", current[0]):
                current.pop(0)  # `VAR=value cmd`: the plain variables come from `env:`
            if current and current[0] == "cd" and len(current) == 2:
                moved = _directory(str(Path(cwd) / current[1]))
                cwd = moved if moved is not None else cwd
            elif current:
                words = _Words(current)
                words.cwd = cwd
                found.append((words, " ".join(current)))
            current = []
    return found


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


# --- what a command is ---------------------------------------------------------------------


def classify(words: list[str], pyproject: str = "") -> tuple[list[str] | None, str]:
    """The install commands `words` stand for (None: not an install command), or the reason
    they are skipped ("" when not skipped)."""
    if not words:
        return None, ""
    program = Path(words[0]).name
    if program == "sudo":
        rest = [w for w in words[1:] if not w.startswith("-")]
        return None, "system packages" if rest[:1] and rest[0] in SYSTEM_PACKAGES else "sudo"
    if program in SYSTEM_PACKAGES:
        return None, "system packages"
    if program in CONTAINERS:
        return None, "docker"
    if program in DOWNLOADS:
        return None, "a network download"
    if len(" ".join(words)) > MAX_COMMAND_CHARS:
        return None, "too long"
    if _PIP.match(program) and words[1:2] == ["install"]:
        return _pip(["pip", "install"], words[2:])
    if _PYTHON.match(program):
        at = 1
        while at < len(words) and re.match(r"^-[IuBEsSq]+$", words[at]):
            at += 1  # interpreter flags (`python -I -m pip`)
        if words[at : at + 3] == ["-m", "pip", "install"]:
            # `python3.11`: the venv's `python` (another one would install elsewhere)
            return _pip(["python", *words[1:at], "-m", "pip", "install"], words[at + 3 :])
        return None, ""
    if program == "uv" and words[1:3] == ["pip", "install"]:
        return _pip(["uv", "pip", "install"], _without_options(words[3:], {"--system"}))
    if program == "uv" and words[1:2] == ["sync"]:
        return [shlex.join(["uv", "sync", "--active", *words[2:]])], ""
    if program == "poetry" and words[1:2] == ["install"]:
        return [
            "pip install poetry",
            shlex.join(["POETRY_VIRTUALENVS_CREATE=false", *words]),
        ], ""
    if program == "pdm" and words[1:2] in (["install"], ["sync"]):
        return ["pip install pdm", shlex.join(words)], ""
    if program == "hatch":
        return _hatch(words[1:], pyproject)
    return None, ""


def _hatch(args: list[str], pyproject: str) -> tuple[list[str] | None, str]:
    """`hatch env create [ENV]`, `hatch run [ENV:]script`, `hatch -e ENV run`: hatch builds
    environments of its own, outside the venv FixWurx builds, so the hatch environment's
    features and dependencies (from pyproject.toml) are installed instead."""
    name = "default"
    if len(args) > 2 and args[0] in ("-e", "--env"):
        name, args = args[1], args[2:]
    if args[:2] == ["env", "create"]:
        name = args[2] if len(args) > 2 else name
    elif args[:1] == ["run"] and len(args) > 1 and ":" in args[1]:
        name = args[1].split(":", 1)[0] or name
    elif args[:1] != ["run"]:
        return None, ""
    command = hatch_install(pyproject, name)
    if command is None:
        return None, f"hatch environment {name!r} is not in pyproject.toml"
    return [command], ""


def _without_options(args: list[str], flags: set[str]) -> list[str]:
    return [a for a in args if a not in flags]


def _pip(program: list[str], args: list[str]) -> tuple[list[str] | None, str]:
    args = _without_options(args, {"--user", "--break-system-packages", "--system"})
    packages = [a for a in args if not a.startswith("-")]
    named = {re.split(r"[<>=!~\[ ;]", p, maxsplit=1)[0].lower() for p in packages}
    has_files = any(a in ("-r", "-e", "-c") or a.startswith(("-r", "-e")) for a in args)
    if not has_files and named and named <= INSTALLERS:
        return None, "updates the installer only"
    if not has_files and named & RUNNERS and named <= RUNNERS | INSTALLERS | REPORTERS:
        return None, "installs the test runner only; its own recipe is read from its file"
    if not packages and not has_files:
        return None, ""
    return [shlex.join([*program, *args])], ""


# --- tox.ini -------------------------------------------------------------------------------

_TOX_FACTOR = re.compile(r"^([!\w,.\- ]{1,200}):\s+(\S.*)$")
_TOX_SUBSTITUTIONS = {"{toxinidir}": ".", "{envpython}": "python", "{posargs}": ""}


def tox_recipe(text: str) -> Recipe | None:
    """The recipe of a tox.ini's text (see tox_section_recipe)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return tox_section_recipe("tox.ini", parser)


def tox_section_recipe(source: str, parser: configparser.ConfigParser) -> Recipe | None:
    """`[testenv]`'s deps (through its install_command), extras and commands_pre; `source` is
    where the configuration was read (detect.tox_config)."""
    if not parser.has_section("testenv"):
        return None
    section = parser["testenv"]
    skipped: list[str] = []
    installs: list[Install] = []
    template = ["pip", "install", "{opts}", "{packages}"]
    if "install_command" in section:
        raw = _tox_text(section["install_command"])
        words = _split(raw)
        trial = [w.replace("{packages}", "package") for w in words if w != "{opts}"]
        command, _reason = classify(trial)
        if command and "{packages}" in words:
            template = words
        else:
            skipped.append(f"install_command {_shown(raw)} (not an installer FixWurx runs)")
    packages: list[str] = []
    for line in tox_deps(parser):
        requirement = tox_requirement(_tox_text(line))
        factor = _TOX_FACTOR.match(requirement)
        if factor and "://" in requirement:  # `pytestmain: git+https://...`: a factor, then a URL
            kept = tox_requirement(f"{factor.group(1)}: placeholder")
            requirement = factor.group(2) if kept else ""
        if not requirement:
            continue  # another factor's environment
        if "{" in requirement:
            skipped.append(f"deps {_shown(requirement)} (a tox substitution)")
        elif requirement.startswith("-"):
            packages += _split(requirement)
        else:
            packages.append(requirement)
    if packages:
        argv = [w for w in template if w != "{opts}"]
        at = argv.index("{packages}")
        installs.append(Install(shlex.join(argv[:at] + packages + argv[at + 1 :])))
    extras = ",".join(re.findall(r"[\w.-]+", section.get("extras", ""))[:20])
    skip_install = section.get("skip_install", "false").strip().lower() == "true"
    if not skip_install:
        installs.append(
            Install(shlex.join(["pip", "install", "-e", f".[{extras}]" if extras else "."]))
        )
    for line in _strings(section.get("commands_pre", ""))[:50]:
        words = _split(_tox_text(line).lstrip("-"))
        command, reason = classify(words)
        if reason:
            skipped.append(f"commands_pre {_shown(line)} ({reason})")
        elif command:
            installs += [Install(c) for c in command]
    if not packages and not extras and not installs[1:]:
        installs = []  # only the project itself: the declared build did that already
    return Recipe(f"{source} ([testenv])", tuple(installs[:MAX_COMMANDS]), (), tuple(skipped))


def _tox_text(line: str) -> str:
    for name, value in _TOX_SUBSTITUTIONS.items():
        line = line.replace(name, value)
    return line.strip()


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


# --- noxfile.py ----------------------------------------------------------------------------


def nox_recipe(text: str) -> Recipe | None:
    """`session.install(...)` calls of the sessions (test sessions first), never imported."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    sessions = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.args.args and _is_session(node)
    ]
    sessions.sort(key=lambda node: "test" not in node.name.lower())
    for node in sessions:
        installs, skipped = _nox_session(node)
        if installs:
            source = f"noxfile.py (session {node.name})"
            return Recipe(source, tuple(installs[:MAX_COMMANDS]), (), tuple(skipped))
    return None


def _is_session(node: ast.FunctionDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "session":
            return True
    return False


def _nox_session(node: ast.FunctionDef) -> tuple[list[Install], list[str]]:
    param = node.args.args[0].arg
    installs: list[Install] = []
    skipped: list[str] = []
    for call in ast.walk(node):
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == param
            and call.func.attr in ("install", "run")
        ):
            continue
        args = [a.value for a in call.args if isinstance(a, ast.Constant)]
        literal = all(isinstance(a, str) for a in args) and len(args) == len(call.args)
        words = [*(["pip", "install"] if call.func.attr == "install" else []), *map(str, args)]
        if not literal:
            if call.func.attr == "install":
                skipped.append(f"session.install at line {call.lineno} (not literal strings)")
            continue
        command, reason = classify(words)
        if reason:
            skipped.append(f"{_shown(shlex.join(words))} ({reason})")
        elif command:
            installs += [Install(c) for c in command]
    return installs, skipped


# --- hatch ---------------------------------------------------------------------------------


def hatch_install(pyproject: str, env_name: str = "default") -> str | None:
    """`pip install` of a hatch environment's features and dependencies (None: no such env)."""
    try:
        data = tomllib.loads(pyproject[:MAX_FILE_BYTES])
    except tomllib.TOMLDecodeError:
        return None
    envs = data.get("tool", {}).get("hatch", {}).get("envs", {})
    env = envs.get(env_name) if isinstance(envs, dict) else None
    if not isinstance(env, dict):
        return "pip install -e ." if env_name == "default" else None
    deps = [d for key in ("dependencies", "extra-dependencies") for d in _list(env.get(key))]
    features = _list(env.get("features"))
    target = (
        []
        if env.get("skip-install") is True
        else ["-e", f".[{','.join(features)}]" if features else "."]
    )
    if not target and not deps:
        return None
    return shlex.join(["pip", "install", *target, *deps])


def _list(value: Any) -> list[str]:
    return [v for v in value[:200] if isinstance(v, str)] if isinstance(value, list) else []
