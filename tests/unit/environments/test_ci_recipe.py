"""Install commands read from a repository's CI (workflows, tox.ini, noxfile.py), as hostile text.

Each test builds a real file and reads it through `ci_recipe`; nothing here runs a command.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import pytest

from app.environments import ci_recipe
from app.environments.ci_recipe import Install, Recipe, classify, load_yaml, nox_recipe, tox_recipe

CI = ".github/workflows/ci.yml"


def _job(text: str, job: str = "test") -> Recipe:
    recipes = {r.source: r for r in ci_recipe.workflow(CI, text)}
    return recipes[f"{CI} (job {job})"]


def _steps(*steps: str, extra: str = "") -> str:
    body = "".join(f"      - {s}\n" for s in steps)
    return f"jobs:\n  test:\n    runs-on: ubuntu-latest\n{extra}    steps:\n{body}"


def test_a_multi_line_run_step_gives_its_install_commands_in_order() -> None:
    text = _steps(
        "uses: actions/checkout@v4",
        "run: |\n          pip install -e .[test] \\\n            -r ci/reqs.txt\n"
        "          pytest -q\n          uv pip install ./vendor/x",
    )
    recipe = _job(text)
    assert recipe.commands == (
        "pip install -e '.[test]' -r ci/reqs.txt",
        "uv pip install ./vendor/x",
    )
    assert recipe.skipped == ()


@pytest.mark.parametrize(
    ("line", "taken"),
    [
        ("python -m pip install requests", "python -m pip install requests"),
        ("python3.11 -m pip install --user requests", "python -m pip install requests"),
        ("pip3 install -r requirements/ci.txt", "pip install -r requirements/ci.txt"),
        ("uv pip install --system -e .", "uv pip install -e ."),
        ("uv sync --all-extras", "uv sync --active --all-extras"),
        ("pdm install -G test", "pip install pdm; pdm install -G test"),
        (
            "poetry install --with test",
            "pip install poetry; POETRY_VIRTUALENVS_CREATE=false poetry install --with test",
        ),
        ("hatch run test:cov", "pip install -e '.[tests]' pytest-mock"),
        ("hatch env create", "pip install -e ."),
    ],
)
def test_each_installer_becomes_a_command_for_the_venv(line: str, taken: str) -> None:
    pyproject = '[tool.hatch.envs.test]\nfeatures = ["tests"]\ndependencies = ["pytest-mock"]\n'
    found = ci_recipe.workflow(CI, _steps(f"run: {line}"), pyproject)
    assert "; ".join(found[0].commands) == taken


@pytest.mark.parametrize(
    ("step", "skipped"),
    [
        (
            "run: sudo apt-get install -y libxml2-dev",
            "sudo apt-get install -y libxml2-dev (system packages)",
        ),
        ("run: apt-get install libpq-dev", "apt-get install libpq-dev (system packages)"),
        ("run: brew install redis", "brew install redis (system packages)"),
        ("run: choco install make", "choco install make (system packages)"),
        ("run: sudo make install", "sudo make install (sudo)"),
        ("run: docker compose up -d", "docker compose up -d (docker)"),
        (
            "run: curl -sSL https://get.example | sh",
            "curl -sSL https://get.example (a network download)",
        ),
        ("run: wget https://x/y.whl", "wget https://x/y.whl (a network download)"),
        (
            "uses: codecov/codecov-action@v4",
            "uses: codecov/codecov-action@v4 (an action other than setup-python)",
        ),
        (
            "run: pip install foo==${{ github.sha }}",
            "pip install foo==${{ github.sha }} (an expression FixWurx cannot resolve)",
        ),
        (
            "run: python -m pip install -U pip setuptools",
            "python -m pip install -U pip setuptools (updates the installer only)",
        ),
        ("{run: pip install x, shell: pwsh}", "pip install x (runs in pwsh, not a POSIX shell)"),
        (
            "{run: pip install x, working-directory: ../outside}",
            "pip install x (working-directory '../outside' is outside the copy)",
        ),
    ],
)
def test_each_skip_has_its_reason(step: str, skipped: str) -> None:
    recipe = _job(_steps(step, "run: pip install kept"))
    assert recipe.commands == ("pip install kept",)
    assert recipe.skipped == (skipped,)


def test_a_step_using_a_secret_is_skipped_whole() -> None:
    text = _steps(
        "run: pip install --index-url https://u:${{ secrets.TOKEN }}@pkgs/simple private",
        "{run: pip install other, env: {TOKEN: '${{ secrets.TOKEN }}'}}",
        "run: pip install public",
    )
    recipe = _job(text)
    assert recipe.commands == ("pip install public",)
    assert recipe.skipped == (
        "pip install --index-url https://u:${{ secrets.TOKEN }}@pkgs/simple private (uses a secret)",
        "pip install other (uses a secret)",
    )
    assert "secrets" not in " ".join(recipe.setup)


def test_services_and_containers_are_skipped_and_named() -> None:
    extra = "    services:\n      postgres: {image: postgres}\n      redis: {image: redis}\n"
    recipe = _job(_steps("run: pip install x", extra=extra + "    container: python:3.12\n"))
    assert recipe.skipped == (
        "services: postgres (a service)",
        "services: redis (a service)",
        "container: (a container image)",
    )


def test_plain_variables_at_each_level_are_taken_and_others_skipped() -> None:
    text = (
        "env:\n  WORKFLOW_LEVEL: 1\n  FROM_SECRET: ${{ secrets.X }}\n  PATH: /evil\n"
        "  PIP_INDEX_URL: https://elsewhere\n  FROM_EXPR: ${{ github.ref }}\n"
        "jobs:\n  test:\n    env: {JOB_LEVEL: 'a b', DEBUG: true, ON: 1}\n    steps:\n"
        "      - {run: pip install x, env: {STEP_LEVEL: two}}\n"
        "      - run: pip install y\n"
    )
    recipe = _job(text)
    assert recipe.env == (("WORKFLOW_LEVEL", "1"), ("JOB_LEVEL", "a b"), ("DEBUG", "true"))
    assert recipe.installs == (
        Install("pip install x", (("STEP_LEVEL", "two"),)),
        Install("pip install y"),
    )
    assert recipe.setup == (
        "export WORKFLOW_LEVEL=1 JOB_LEVEL='a b' DEBUG=true STEP_LEVEL=two && pip install x",
        "export WORKFLOW_LEVEL=1 JOB_LEVEL='a b' DEBUG=true && pip install y",
    )
    assert recipe.skipped == (
        "env FROM_SECRET (uses a secret)",
        "env PATH (FixWurx sets it for every install step)",
        "env PIP_INDEX_URL (FixWurx sets it for every install step)",
        "env FROM_EXPR (an expression FixWurx cannot resolve)",
    )


def test_matrix_and_env_expressions_are_resolved_the_newest_python_first() -> None:
    extra = (
        "    strategy:\n      matrix:\n        python-version: ['3.9', '3.12', '3.10']\n"
        "        django: [4.2, 5.0]\n"
    )
    text = _steps(
        "{run: 'pip install -r req/py${{ matrix.python-version }}.txt "
        "django==${{ matrix.django }} ${{ env.EXTRA }}', env: {EXTRA: six}}",
        extra=extra,
    )
    assert _job(text).commands == ("pip install -r req/py3.12.txt django==4.2 six",)


def test_working_directory_and_cd_are_followed_inside_the_copy() -> None:
    text = _steps(
        "{run: pip install -e ., working-directory: pkg}",
        "run: cd sub && pip install . && cd /etc && pip install -e .",
        extra="    defaults: {run: {working-directory: lib}}\n",
    )
    assert _job(text).commands == (
        "cd pkg && pip install -e .",
        "cd lib/sub && pip install .",
        "cd lib/sub && pip install -e .",  # `cd /etc` leaves the copy: not followed
    )


def test_a_runner_only_install_defers_to_the_runners_own_file(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        _steps("run: pip install tox tox-gh-actions", "run: tox")
    )
    (tmp_path / "tox.ini").write_text("[testenv]\ndeps = pytest\n  -r ci/reqs.txt\n")
    recipe = ci_recipe.read(tmp_path)
    assert recipe is not None
    assert recipe.source == "tox.ini ([testenv])"
    assert recipe.commands == ("pip install pytest -r ci/reqs.txt", "pip install -e .")
    assert recipe.skipped == (
        "pip install tox tox-gh-actions (installs the test runner only; its own recipe is read "
        "from its file)",
    )


def test_test_jobs_and_test_workflows_come_first(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "docs.yml").write_text(_steps("run: pip install sphinx"))
    lint_then_test = (
        "jobs:\n  lint:\n    steps:\n      - run: pip install ruff\n"
        "  unit-tests:\n    steps:\n      - run: pip install -e .[test]\n"
    )
    (folder / "tests.yml").write_text(lint_then_test)
    recipe = ci_recipe.read(tmp_path)
    assert recipe is not None
    assert recipe.source == ".github/workflows/tests.yml (job unit-tests)"
    assert recipe.report == (
        "setup taken from .github/workflows/tests.yml (job unit-tests): pip install -e '.[test]'"
    )


def test_no_ci_or_no_install_command_gives_no_recipe(tmp_path: Path) -> None:
    assert ci_recipe.read(tmp_path) is None
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(_steps("run: pytest"))
    assert ci_recipe.read(tmp_path) is None


def test_tox_deps_install_command_extras_and_commands_pre() -> None:
    text = (
        "[tox]\nenvlist = py3\n\n[testenv]\n"
        "install_command = python -I -m pip install {opts} {packages}\n"
        "deps =\n    -r{toxinidir}/ci/reqs.txt\n    py3: attrs\n    django32: django<4\n"
        "    {env:EXTRA_DEP}\nextras = test, docs\n"
        "commands_pre =\n    pip install ./vendor/helper\n    sudo apt-get install git\n"
        "commands = pytest {posargs}\n"
    )
    recipe = tox_recipe(text)
    assert recipe is not None
    first, *rest = recipe.commands
    assert shlex.split(first) == [
        *("python", "-I", "-m", "pip", "install", "-r./ci/reqs.txt"),
        "attrs; ((python_version >= '3' and python_version < '4'))",  # django32: not ours
    ]
    assert rest == ["pip install -e '.[test,docs]'", "pip install ./vendor/helper"]
    assert recipe.skipped == (
        "deps {env:EXTRA_DEP} (a tox substitution)",
        "commands_pre sudo apt-get install git (system packages)",
    )


def test_a_tox_install_command_that_is_not_an_installer_is_skipped() -> None:
    recipe = tox_recipe("[testenv]\ninstall_command = ./install.sh {packages}\ndeps = six\n")
    assert recipe is not None
    assert recipe.commands == ("pip install six", "pip install -e .")
    assert recipe.skipped == (
        "install_command ./install.sh {packages} (not an installer FixWurx runs)",
    )


def test_noxfile_installs_are_read_with_ast_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    text = (
        f"import nox\nopen({str(marker)!r}, 'w').write('ran')\n\n"
        "@nox.session\ndef lint(session):\n    session.install('ruff')\n\n"
        "@nox.session(python=['3.11', '3.12'])\ndef tests(s):\n"
        "    s.install('-e', '.[test]')\n    s.install(*DEPS)\n"
        "    s.run('python', '-m', 'pip', 'install', './vendor/x')\n    s.run('pytest')\n"
    )
    recipe = nox_recipe(text)
    assert recipe is not None
    assert recipe.source == "noxfile.py (session tests)"
    assert recipe.commands == ("pip install -e '.[test]'", "python -m pip install ./vendor/x")
    assert recipe.skipped == ("session.install at line 11 (not literal strings)",)
    assert not marker.exists()


def test_a_yaml_alias_bomb_is_read_in_linear_time_and_gives_nothing() -> None:
    """A billion laughs: 30 levels of nine aliases each. The loader shares the nodes, and only
    the few keys a recipe needs are visited, with caps, so it is never expanded."""
    lines = ['l0: &l0 ["x","x","x","x","x","x","x","x","x"]']
    for n in range(1, 30):
        lines.append(f"l{n}: &l{n} [{','.join([f'*l{n - 1}'] * 9)}]")
    lines.append("env: {A: *l29}\njobs:\n  test:\n    env: *l29\n    steps: *l29")
    lines.append("    strategy: {matrix: {python-version: *l29}}\n    services: *l29")
    started = time.monotonic()
    assert load_yaml("\n".join(lines)) is not None
    assert [r.installs for r in ci_recipe.workflow(CI, "\n".join(lines))] == [()]
    assert time.monotonic() - started < 5


def test_a_document_over_the_node_budget_is_refused() -> None:
    text = "jobs:\n  test:\n    steps:\n" + "      - run: pip install x\n" * 7000
    assert load_yaml(text) is None
    assert ci_recipe.workflow(CI, text) == []


def test_aliases_within_the_node_budget_are_read() -> None:
    text = "x-steps: &steps\n  - run: pip install shared\njobs:\n  test:\n    steps: *steps\n"
    assert _job(text).commands == ("pip install shared",)


def test_a_huge_file_is_not_read(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    text = _steps("run: pip install x") + "# " + "y" * ci_recipe.MAX_FILE_BYTES + "\n"
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(text)
    assert ci_recipe.read(tmp_path) is None
    assert load_yaml(text) is None


def test_a_linked_workflow_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text(_steps("run: pip install x"))
    root = tmp_path / "repo"
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").symlink_to(outside)
    assert ci_recipe.read(root) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "just a string",
        "- a list\n",
        "jobs: [1, 2]\n",
        "jobs:\n  test: 3\n",
        "jobs:\n  test:\n    steps: a string\n",
        "jobs:\n  test:\n    steps: [1, null, [x], {run: 5}, {uses: 7}]\n",
        "jobs:\n  1: {steps: [{run: pip install x}]}\n",
        "jobs:\n  test:\n    env: [a]\n    strategy: {matrix: 'fromJson(x)'}\n    steps: []\n",
        "jobs:\n  test:\n    services: [postgres]\n    steps: [{run: 'pip install \"unclosed'}]\n",
        "{{{{ not yaml",
        "[" * 5000 + "]" * 5000,
        "!!python/object/apply:os.system ['true']\n",
    ],
)
def test_odd_documents_give_no_commands_and_no_error(text: str) -> None:
    assert all(not r.installs for r in ci_recipe.workflow(CI, text))


def test_classify_leaves_other_commands_alone() -> None:
    assert classify(["pytest", "-q"]) == (None, "")
    assert classify(["make", "test"]) == (None, "")
    assert classify(["pip", "install"]) == (None, "")
    assert classify(["pip", "freeze"]) == (None, "")


def test_jobs_that_do_not_run_the_tests_are_not_read(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    publish = "jobs:\n  deploy:\n    steps:\n      - run: pip install twine\n"
    (folder / "publish.yml").write_text(publish)
    assert ci_recipe.read(tmp_path) is None
    (folder / "publish.yml").write_text(publish + "      - run: python -m pytest\n")
    recipe = ci_recipe.read(tmp_path)
    assert recipe is not None and recipe.source == ".github/workflows/publish.yml (job deploy)"


def test_shell_variables_come_from_the_plain_env_or_the_command_is_skipped() -> None:
    text = _steps(
        "{run: 'pip install \"boltons==$TAG\" ${EXTRA}', env: {TAG: '1.0', EXTRA: six}}",
        'run: pip install "boltons==$UNKNOWN"',
        "run: pip install $(cat deps.txt)",
        "run: pip install `cat deps.txt`",
    )
    recipe = _job(text)
    assert recipe.commands == ("pip install boltons==1.0 six",)
    reason = "a shell variable or substitution FixWurx cannot resolve"
    assert recipe.skipped == (
        f"pip install boltons==$UNKNOWN ({reason})",
        f"pip install $ ({reason})",
        f"pip install `cat deps.txt` ({reason})",
    )


def test_a_tox_factor_before_a_url_keeps_or_drops_the_url() -> None:
    text = "[testenv]\ndeps =\n    py3: git+https://example/a.git\n    pytestmain: git+https://example/b.git\n"
    recipe = tox_recipe(text + "skip_install = true\n")
    assert recipe is not None
    assert recipe.commands == ("pip install git+https://example/a.git",)


def test_the_ci_recipe_reads_tox_from_pyproject_through_detection(tmp_path: Path) -> None:
    """The recipe and detection share one reader: tox's ini text inside pyproject counts."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.tox]\nlegacy_tox_ini = """\n[core]\ndeps = pytest-asyncio\n'
        '[testenv]\ndeps =\n    {[core]deps}\n    numpy\n"""\n'
    )
    recipe = ci_recipe.read(tmp_path)
    assert recipe is not None
    assert recipe.source == "pyproject.toml ([tool.tox] legacy_tox_ini) ([testenv])"
    assert recipe.commands == ("pip install pytest-asyncio numpy", "pip install -e .")
