"""Choosing the backend: forced by FIXWURX_SANDBOX, probed once, loud when it falls back."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from app.errors import SandboxError
from app.sandbox import backends, run
from app.sandbox.backends import probe_bubblewrap


def test_unknown_backend_name_is_refused(monkeypatch: pytest.MonkeyPatch, work: Path) -> None:
    monkeypatch.setenv("FIXWURX_SANDBOX", "docker")
    with pytest.raises(SandboxError, match="'docker'"):
        run(["true"], work, 10)


def test_probe_reports_a_missing_bwrap(tmp_path: Path) -> None:
    probe = probe_bubblewrap(None)
    assert not probe.usable and "not installed" in probe.reason


def test_probe_reports_a_broken_bwrap(tmp_path: Path) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    probe = probe_bubblewrap(str(fake))
    assert not probe.usable
    assert "No permissions to create new namespace" in probe.reason


def test_forcing_bubblewrap_where_it_is_broken_fails_loudly(
    monkeypatch: pytest.MonkeyPatch, work: Path
) -> None:
    broken = backends.Probe(False, "bwrap is not installed")
    monkeypatch.setattr(backends, "detect_bubblewrap", lambda: broken)
    monkeypatch.setenv("FIXWURX_SANDBOX", "bubblewrap")
    with pytest.raises(SandboxError, match="apt-get install -y bubblewrap"):
        run(["true"], work, 10)


def test_automatic_fallback_warns_in_the_result_and_logs_once(
    monkeypatch: pytest.MonkeyPatch, work: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = backends.Probe(False, "bwrap is not installed")
    monkeypatch.setattr(backends, "detect_bubblewrap", lambda: broken)
    monkeypatch.setattr(backends, "_logged", backends.threading.Event())
    monkeypatch.delenv("FIXWURX_SANDBOX", raising=False)
    with caplog.at_level(logging.WARNING, logger="app.sandbox.backends"):
        first = run([sys.executable, "-c", "print(1)"], work, 20)
        second = run([sys.executable, "-c", "print(2)"], work, 20)
    assert (first.backend, second.backend) == ("subprocess", "subprocess")
    for result in (first, second):
        assert result.ok
        assert "network isolation is OFF" in result.warnings[0]
        assert "bwrap is not installed" in result.warnings[0]
    logged = [r for r in caplog.records if "network isolation is OFF" in r.getMessage()]
    assert len(logged) == 1


def test_auto_prefers_bubblewrap_when_it_works(
    monkeypatch: pytest.MonkeyPatch, work: Path, bwrap: str
) -> None:
    monkeypatch.delenv("FIXWURX_SANDBOX", raising=False)
    result = run(["true"], work, 10)
    assert result.backend == "bubblewrap" and result.warnings == () and result.ok


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan")])
def test_every_call_needs_a_real_timeout(work: Path, timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        run(["true"], work, timeout)


def test_cwd_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing"):
        run(["true"], tmp_path / "missing", 10)


def _broken_bwrap(tmp_path: Path) -> backends.Probe:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    return probe_bubblewrap(str(fake))


def test_worker_refuses_to_start_without_bubblewrap(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from workers.start import worker

    broken = _broken_bwrap(tmp_path)
    monkeypatch.setattr(backends, "detect_bubblewrap", lambda: broken)
    monkeypatch.delenv("FIXWURX_SANDBOX", raising=False)
    result = CliRunner().invoke(worker, ["--burst"])
    assert result.exit_code == 1
    message = [line for line in result.output.splitlines() if "bubblewrap" in line]
    assert len(message) == 1, result.output  # one line that says why and what to do
    assert "No permissions to create new namespace" in message[0]
    assert "FIXWURX_SANDBOX=subprocess" in message[0]


def test_worker_starts_without_bubblewrap_when_the_operator_opts_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = _broken_bwrap(tmp_path)
    monkeypatch.setenv("FIXWURX_SANDBOX", "subprocess")
    backends.check_service_backend(broken)  # no error
    monkeypatch.setenv("FIXWURX_SANDBOX", "auto")
    with pytest.raises(SandboxError, match="refusing to start"):
        backends.check_service_backend(broken)


def test_cli_keeps_running_without_bubblewrap_and_warns(
    monkeypatch: pytest.MonkeyPatch, work: Path, tmp_path: Path
) -> None:
    broken = _broken_bwrap(tmp_path)
    monkeypatch.setattr(backends, "detect_bubblewrap", lambda: broken)
    monkeypatch.delenv("FIXWURX_SANDBOX", raising=False)
    result = run(["true"], work, 10)
    assert result.ok and result.backend == "subprocess"
    assert any("bubblewrap is not in use" in w for w in result.warnings)


def test_bubblewrap_tests_fail_loudly_in_ci_and_skip_only_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.unit.sandbox.conftest import require_bubblewrap

    broken = _broken_bwrap(tmp_path)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="bubblewrap must work in CI"):
        require_bubblewrap(broken)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="No permissions to create new namespace"):
        require_bubblewrap(broken)
    require_bubblewrap(backends.Probe(True, ""))  # works here: the test runs, CI or not
