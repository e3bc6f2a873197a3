"""Which files of the build's copy count as the project's compiled extension modules: the build
copy is written by sandboxed code, so names are checked before anything is kept (issue 25)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from app.environments import build
from app.environments.build import is_extension


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("src/markupsafe/_speedups.cpython-313-x86_64-linux-gnu.so", True),
        ("pkg/_native.abi3.so", True),
        ("pkg/sub/_c.so", True),
        ("build/lib.linux-x86_64-cpython-313/pkg/_c.cpython-313-x86_64-linux-gnu.so", False),
        ("venv/lib/python3.13/site-packages/x/_c.so", False),
        (".hidden/pkg/_c.so", False),
        ("pkg/_c.so.1", False),
        ("pkg/libfoo.so.bak", False),
        ("pkg/bad name.so", False),
        ("pkg/-x.so", False),
        ("pkg/_c.cpython-313-x86_64-linux-gnu.so.txt", False),
    ],
)
def test_only_extension_modules_of_the_projects_packages_are_kept(path: str, kept: bool) -> None:
    assert is_extension(PurePosixPath(path)) is kept


def test_the_build_keeps_regular_capped_files_of_package_folders_and_follows_no_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "envs" / "key"
    package = folder / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "_c.so").write_bytes(b"\x7fELF ours")
    (package / "_big.so").write_bytes(b"x" * 200)
    secret = tmp_path / "secret.so"
    secret.write_bytes(b"host secret")
    (package / "_link.so").symlink_to(secret)
    (folder / "src" / "loose").mkdir()
    (folder / "src" / "loose" / "_c.so").write_bytes(b"not a package")
    monkeypatch.setattr(build, "EXTENSIONS_MAX_BYTES", 100)
    builder = build.Builder.__new__(build.Builder)
    builder.folder, builder.log = folder, build.BuildLog()
    assert builder._extensions() == ["pkg/_c.so"]
    assert (folder / "built" / "pkg" / "_c.so").read_bytes() == b"\x7fELF ours"
    assert not (folder / "built" / "pkg" / "_link.so").exists()
    assert [n for n in builder.log.notes if "pkg/_big.so was not kept" in n]
