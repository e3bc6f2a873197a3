"""app.workfiles: FixWurx's own reads and writes on a work copy never leave it.

Every test runs twice: with openat2(2) (this kernel has it; CI fails rather than skips without
it) and with the O_NOFOLLOW walk that older kernels get.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from app import workfiles
from app.workfiles import OutsideWorkCopy, UnsafeWorkPath


@pytest.fixture(autouse=True, params=["openat2", "walk"])
def mechanism(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Resolve with openat2, or with the walk (FIXWURX_NO_OPENAT2)."""
    workfiles.have_openat2.cache_clear()
    if request.param == "walk":
        monkeypatch.setenv("FIXWURX_NO_OPENAT2", "1")
    elif not workfiles.have_openat2():
        if os.environ.get("CI"):
            pytest.fail("openat2(2) must work in CI (Linux 5.6+)")
        pytest.skip("openat2(2) unavailable here")
    assert workfiles.have_openat2() is (request.param == "openat2")
    yield request.param
    workfiles.have_openat2.cache_clear()


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


def test_a_root_reached_through_a_link_is_refused_naming_both_paths(
    tmp_path: Path, victim: Path
) -> None:
    link = tmp_path / "slot-repo"
    link.symlink_to(victim.parent)
    for call in (
        lambda: workfiles.write_text(link, "new.txt", "x"),
        lambda: workfiles.make_dirs(link, ".fixwurx"),
        lambda: workfiles.touch(link, "used"),
        lambda: workfiles.chmod(link, None, 0o777),
        lambda: workfiles.read_text(link, "secret.txt"),
        lambda: workfiles.empty(link),
    ):
        with pytest.raises(UnsafeWorkPath, match=f"{link}.*{victim.parent}"):
            call()
    assert sorted(os.listdir(victim.parent)) == ["secret.txt"]
    assert victim.read_text() == "HOST SECRET\n"


def test_replace_touch_and_chmod_never_go_through_a_link(root: Path, victim: Path) -> None:
    os.utime(victim, (1_000, 1_000))
    mode = victim.stat().st_mode
    (root / "used").symlink_to(victim)
    with pytest.raises(UnsafeWorkPath):
        workfiles.touch(root, "used")
    with pytest.raises(UnsafeWorkPath):
        workfiles.chmod(root, "used", 0o777)
    (root / "ready.json.tmp").symlink_to(victim)
    with pytest.raises(UnsafeWorkPath):
        workfiles.write_text(root, "ready.json.tmp", "{}")
    (root / "hostdir").symlink_to(victim.parent)
    workfiles.write_text(root, "record.tmp", "{}")
    with pytest.raises(UnsafeWorkPath):
        workfiles.replace(root, "record.tmp", "hostdir/secret.txt")
    workfiles.replace(root, "record.tmp", "used")  # the link is replaced as a name
    assert (root / "used").read_text() == "{}" and not (root / "used").is_symlink()
    assert victim.read_text() == "HOST SECRET\n"
    assert victim.stat().st_mtime == 1_000 and victim.stat().st_mode == mode


def test_rmtree_and_empty_remove_links_never_what_they_point_at(
    tmp_path: Path, root: Path, victim: Path
) -> None:
    (root / "pkg" / "hostdir").symlink_to(victim.parent)
    slot_repo = tmp_path / "slot-repo"
    slot_repo.symlink_to(victim.parent)
    workfiles.rmtree(slot_repo)  # a link where a directory was: the link goes
    assert not slot_repo.is_symlink() and victim.exists()
    workfiles.empty(root)
    assert list(root.iterdir()) == [] and victim.exists()
    workfiles.rmtree(root)
    assert not root.exists() and victim.read_text() == "HOST SECRET\n"


def test_copy_tree_keeps_inside_links_and_leaves_out_the_rest(
    tmp_path: Path, root: Path, victim: Path
) -> None:
    (root / "pkg" / "mod.py").chmod(0o750)
    (root / "alias.py").symlink_to("pkg/mod.py")
    (root / "leak.py").symlink_to(victim)
    (root / "pkg" / "up").symlink_to("../../host")
    (root / "skip").mkdir()
    (root / "skip" / "x.py").write_text("no\n")
    copy = tmp_path / "copy"
    left_out = workfiles.copy_tree(root, copy, ignore=lambda rel: rel.name == "skip")
    assert left_out == [PurePosixPath("leak.py"), PurePosixPath("pkg/up")]
    assert (copy / "pkg" / "mod.py").read_text() == "x = 1\n"
    assert (copy / "pkg" / "mod.py").stat().st_mode & 0o777 == 0o750
    assert os.readlink(copy / "alias.py") == "pkg/mod.py"
    assert not (copy / "leak.py").exists() and not (copy / "skip").exists()


def test_reads_can_be_bounded(root: Path) -> None:
    (root / "big.xml").write_bytes(b"x" * 2048)
    assert workfiles.read_bytes(root, "big.xml", max_bytes=4096) == b"x" * 2048
    with pytest.raises(ValueError, match="1024"):
        workfiles.read_bytes(root, "big.xml", max_bytes=1024)


def test_writes_follow_no_link_even_one_that_stays_inside(root: Path) -> None:
    """RESOLVE_NO_SYMLINKS: a directory link inside the copy is not a way for writes either."""
    (root / "pkgs").symlink_to("pkg")
    for call in (
        lambda: workfiles.write_text(root, "pkgs/new.py", "x"),
        lambda: workfiles.chmod(root, "pkgs/mod.py", 0o777),
        lambda: workfiles.touch(root, "pkgs/mod.py"),
        lambda: workfiles.remove(root, "pkgs/mod.py"),
    ):
        with pytest.raises(UnsafeWorkPath):
            call()
    assert sorted(os.listdir(root / "pkg")) == ["mod.py"]
    assert (root / "pkg" / "mod.py").stat().st_mode & 0o777 != 0o777
