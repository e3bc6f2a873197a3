"""One setting names the environment cache: ENVIRONMENT_CACHE_DIR; the old name still works."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from app.environments.model import default_cache_dir


def test_the_setting_names_the_cache_without_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVIRONMENT_CACHE_DIR", str(tmp_path / "new"))
    monkeypatch.setenv("FIXWURX_ENV_CACHE", str(tmp_path / "old"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert default_cache_dir() == tmp_path / "new"


def test_the_old_name_still_works_with_a_deprecation_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENVIRONMENT_CACHE_DIR", raising=False)
    monkeypatch.setenv("FIXWURX_ENV_CACHE", str(tmp_path / "old"))
    with pytest.warns(DeprecationWarning, match="set ENVIRONMENT_CACHE_DIR instead"):
        assert default_cache_dir() == tmp_path / "old"


def test_neither_falls_back_to_the_users_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENVIRONMENT_CACHE_DIR", raising=False)
    monkeypatch.delenv("FIXWURX_ENV_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "fixwurx" / "environments"
