"""app.workfiles: FixWurx's own reads and writes on a work copy never leave it."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from app import workfiles
from app.workfiles import OutsideWorkCopy, UnsafeWorkPath


@pytest.fixture
def root(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "mod.py").write_text("x = 1\n")
    return work


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A host file outside the work copy that nothing may read or change."""
    path = tmp_path / "host" / "secret.txt"
    path.parent.mkdir()
    path.write_text("HOST SECRET\n")
    return path


def test_reads_inside_the_work_copy(root: Path) -> None:
    assert workfiles.read_text(root, "pkg/mod.py") == "x = 1\n"
    assert workfiles.read_text(root, root / "pkg" / "mod.py") == "x = 1\n"  # absolute, below root
    assert workfiles.is_file(root, "pkg/mod.py") and workfiles.exists(root, "pkg")


def test_a_link_inside_the_work_copy_is_read(root: Path) -> None:
    (root / "alias.py").symlink_to("pkg/mod.py")
    (root / "pkgs").symlink_to("pkg")
    assert workfiles.read_text(root, "alias.py") == "x = 1\n"
    assert workfiles.read_text(root, "pkgs/mod.py") == "x = 1\n"


@pytest.mark.parametrize("where", ["file", "directory", "chain"])
def test_a_link_out_of_the_work_copy_reads_as_absent(root: Path, victim: Path, where: str) -> None:
    if where == "file":
        (root / "leak.py").symlink_to(victim)
        path = "leak.py"
    elif where == "directory":
        (root / "hostdir").symlink_to(victim.parent)
        path = "hostdir/secret.txt"
    else:  # a link inside that points to a link out
        (root / "out").symlink_to(victim)
        (root / "leak.py").symlink_to("out")
        path = "leak.py"
    with pytest.raises(OutsideWorkCopy):
        workfiles.read_text(root, path)
    with pytest.raises(FileNotFoundError):  # callers that handle a missing file keep working
        workfiles.read_bytes(root, path)
    assert not workfiles.is_file(root, path) and not workfiles.exists(root, path)


def test_a_fifo_reads_as_absent_and_does_not_block(root: Path) -> None:
    os.mkfifo(root / "pipe.py")
    with pytest.raises(OutsideWorkCopy):
        workfiles.read_text(root, "pipe.py")
    with pytest.raises(UnsafeWorkPath):
        workfiles.write_text(root, "pipe.py", "x")


def test_a_write_never_goes_through_a_link(root: Path, victim: Path) -> None:
    (root / "leak.py").symlink_to(victim)
    with pytest.raises(UnsafeWorkPath, match="link"):
        workfiles.write_text(root, "leak.py", "overwritten")
    (root / "hostdir").symlink_to(victim.parent)
    with pytest.raises(UnsafeWorkPath, match="link"):
        workfiles.write_text(root, "hostdir/secret.txt", "overwritten")
    with pytest.raises(UnsafeWorkPath, match="link"):
        workfiles.write_text(root, "hostdir/new.txt", "x", parents=True)
    with pytest.raises(UnsafeWorkPath, match="link"):
        workfiles.make_dirs(root, "hostdir/sub")
    assert victim.read_text() == "HOST SECRET\n"
    assert sorted(p.name for p in victim.parent.iterdir()) == ["secret.txt"]


def test_a_link_at_one_of_our_own_files_is_replaced_not_followed(root: Path, victim: Path) -> None:
    (root / ".fixwurx").symlink_to(victim.parent)
    workfiles.make_dirs(root, ".fixwurx", replace_link=True)
    assert (root / ".fixwurx").is_dir() and not (root / ".fixwurx").is_symlink()
    (root / ".fixwurx" / "rc").symlink_to(victim)
    workfiles.write_text(root, ".fixwurx/rc", "ours\n", replace_link=True)
    assert not (root / ".fixwurx" / "rc").is_symlink()
    assert (root / ".fixwurx" / "rc").read_text() == "ours\n"
    assert victim.read_text() == "HOST SECRET\n"


def test_writes_keep_the_mode_and_create_parents(root: Path) -> None:
    (root / "run.sh").write_text("old")
    (root / "run.sh").chmod(0o755)
    workfiles.write_text(root, "run.sh", "new")
    assert (root / "run.sh").read_text() == "new" and (root / "run.sh").stat().st_mode & 0o111
    workfiles.write_text(root, "a/b/c.py", "y = 2\n", parents=True)
    assert (root / "a" / "b" / "c.py").read_text() == "y = 2\n"


@pytest.mark.parametrize("path", ["../outside.py", "pkg/../../outside.py", "/etc/passwd", ""])
def test_paths_that_leave_the_work_copy_are_refused(root: Path, path: str) -> None:
    with pytest.raises(UnsafeWorkPath):
        workfiles.write_text(root, path, "x")
    assert not workfiles.is_file(root, path)


def test_remove_takes_the_link_not_its_target(root: Path, victim: Path) -> None:
    (root / "leak.py").symlink_to(victim)
    workfiles.remove(root, "leak.py")
    assert not (root / "leak.py").is_symlink() and victim.exists()
    workfiles.remove(root, "leak.py")  # missing: nothing to do
    (root / "hostdir").symlink_to(victim.parent)
    with pytest.raises(UnsafeWorkPath):
        workfiles.remove(root, "hostdir/secret.txt")
    assert victim.exists()


def test_walks_list_regular_files_and_skip_links(root: Path, victim: Path) -> None:
    (root / "leak.py").symlink_to(victim)
    (root / "hostdir").symlink_to(victim.parent)
    (root / "alias.py").symlink_to("pkg/mod.py")
    assert list(workfiles.walk_files(root, ".py")) == [PurePosixPath("pkg/mod.py")]


def test_drop_links_out_keeps_the_links_that_stay_inside(root: Path, victim: Path) -> None:
    (root / "leak.py").symlink_to(victim)
    (root / "pkg" / "up").symlink_to("../../host")
    (root / "alias.py").symlink_to("pkg/mod.py")
    assert workfiles.drop_links_out(root) == [PurePosixPath("leak.py"), PurePosixPath("pkg/up")]
    assert (root / "alias.py").is_symlink() and victim.exists()
    assert not (root / "leak.py").is_symlink() and not (root / "pkg" / "up").is_symlink()
