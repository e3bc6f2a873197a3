"""On FixWurx's own interpreter a test run loads FixWurx's test tools, not the rest of its venv."""

from __future__ import annotations

import sys
from pathlib import Path

from app.testing import testcmd
from app.testing.testrun import run_tests

PROBE = """\
import sys
import time


def test_only_the_test_tools_are_plugins(pytestconfig):
    names = {name for name, _ in pytestconfig.pluginmanager.list_name_plugin()}
    assert "timeout" in names or "pytest_timeout" in names, names
    assert "hypothesispytest" not in names, names


def test_the_per_test_limit_still_works():
    time.sleep(30)
"""


def test_a_host_run_loads_pytest_timeout_and_no_other_installed_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE)
    command = testcmd.TestCommand((sys.executable, "-m", "pytest", "-q"), True)
    assert command.plugin_env() == testcmd.NO_AUTOLOAD
    run = run_tests(tmp_path, command, timeout=60, per_test_timeout=2.0)
    outcomes = {o.test_id.rsplit("::", 1)[-1]: o for o in run.outcomes}
    assert outcomes["test_only_the_test_tools_are_plugins"].outcome == "passed", run.output[-2000:]
    assert outcomes["test_the_per_test_limit_still_works"].hung  # pytest-timeout stopped it
