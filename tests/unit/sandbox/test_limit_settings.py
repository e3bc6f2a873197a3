"""The per-run limits come from the operator's settings, and a stop names the one to raise."""

from __future__ import annotations

import pytest

from app import defaults
from app.environments.build import BUILD_MEMORY_MB, build_limits
from app.errors import BadInput
from app.sandbox import Limits
from app.sandbox.limit_settings import raise_hint
from app.sandbox.watchdog import over_limit


def test_the_settings_raise_the_default_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIXWURX_SANDBOX_MEMORY_MB", "6144")
    monkeypatch.setenv("FIXWURX_SANDBOX_CPU_SECONDS", "1800")
    monkeypatch.setenv("FIXWURX_SANDBOX_DISK_MB", "4096")
    limits = Limits()
    assert (limits.memory_mb, limits.cpu_seconds, limits.disk_mb) == (6144, 1800, 4096)


def test_unset_settings_leave_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEMORY_MB", "CPU_SECONDS", "DISK_MB"):
        monkeypatch.delenv(f"FIXWURX_SANDBOX_{name}", raising=False)
    limits = Limits()
    assert limits.memory_mb == defaults.SANDBOX_MEMORY_MB
    assert limits.cpu_seconds == defaults.SANDBOX_CPU_SECONDS
    assert limits.disk_mb == defaults.SANDBOX_DISK_MB


@pytest.mark.parametrize("value", ["2g", "0", "-5", "1.5"])
def test_a_bad_setting_is_bad_input_naming_it(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FIXWURX_SANDBOX_MEMORY_MB", value)
    with pytest.raises(BadInput, match=r"FIXWURX_SANDBOX_MEMORY_MB=.*positive whole number of MiB"):
        Limits()


def test_install_steps_get_at_least_their_own_room_and_follow_a_higher_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIXWURX_SANDBOX_MEMORY_MB", "1024")
    assert build_limits().memory_mb == BUILD_MEMORY_MB
    monkeypatch.setenv("FIXWURX_SANDBOX_MEMORY_MB", str(BUILD_MEMORY_MB * 2))
    assert build_limits().memory_mb == BUILD_MEMORY_MB * 2


@pytest.mark.parametrize(
    ("limit", "setting"),
    [
        ("memory", "FIXWURX_SANDBOX_MEMORY_MB"),
        ("cpu", "FIXWURX_SANDBOX_CPU_SECONDS"),
        ("disk", "FIXWURX_SANDBOX_DISK_MB"),
    ],
)
def test_every_stop_reason_ends_with_the_setting_that_raises_its_limit(
    limit: str, setting: str
) -> None:
    stop = over_limit(limit, "the run went over")
    assert stop.limit == limit
    assert stop.reason == f"the run went over; {raise_hint(limit)}"
    assert f"raise it with {setting}" in stop.reason
