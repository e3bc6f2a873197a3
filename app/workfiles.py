"""The one way FixWurx's own process reads and writes files in a work copy: never out of it.

Everything in a work copy is attacker-controlled: the repository can commit a symbolic link, and
its tests can plant one while they run. FixWurx's own process (root, possibly) must never follow
such a link out of the copy, neither to read a host file into a bundle or a prompt nor to write
the issue author's text over one. So every path goes through here:

- reads resolve the path and require the result to lie inside the work copy; a link that points
  outside (or a FIFO, a device) reads as absent (`OutsideWorkCopy`, a FileNotFoundError); the
  file is then opened component by component with O_NOFOLLOW, so a link swapped in after the
  check fails instead of being followed;
- writes follow no link at all: each directory is opened with O_NOFOLLOW relative to the one
  above it, and the file itself is opened with O_NOFOLLOW. A link where a write lands is refused
  (`UnsafeWorkPath`, a PermissionError), or, for FixWurx's own files (`replace_link=True`),
  removed and replaced by a regular file;
- walks list regular files only and never descend through a link.

Paths may be relative to the work copy or absolute below it; `..` is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

#: Flags every open here uses: no link followed, no blocking on a planted FIFO, no fd leak.
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
#: Mode of files created here (before the umask), as open() would create them.
_NEW_FILE_MODE = 0o666


class OutsideWorkCopy(FileNotFoundError):
    """A read reached a link out of the work copy, or a non-regular file: treated as absent."""


class UnsafeWorkPath(PermissionError):
    """A write would go through a link, or a path leaves the work copy."""


class FileTooLarge(OSError):
    """A bounded read met a file larger than its limit (sandboxed code wrote it; never trust
    its size)."""


def relative(root: Path, path: str | os.PathLike[str]) -> PurePosixPath:
    """`path` as a clean relative path inside `root`; UnsafeWorkPath when it cannot be one."""
    text = os.fspath(path)
    if "\0" in text:
        raise UnsafeWorkPath(f"{text!r}: NUL in a work-copy path")
    candidate = Path(text)
    if candidate.is_absolute():
        for base in (Path(root), Path(root).resolve()):
            with contextlib.suppress(ValueError):
                candidate = candidate.relative_to(base)
                break
        else:
            raise UnsafeWorkPath(f"{text}: outside the work copy {root}")
    rel = PurePosixPath(candidate.as_posix())
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise UnsafeWorkPath(f"{text!r}: not a path inside the work copy")
    return rel


def resolve(root: Path, path: str | os.PathLike[str]) -> Path:
    """The real path `path` names, inside `root`; OutsideWorkCopy when it resolves outside."""
    rel = relative(root, path)
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(Path(root, rel)))
    if real != real_root and real_root not in real.parents:
        raise OutsideWorkCopy(errno.ENOENT, "links out of the work copy", str(Path(root, rel)))
    return real


def read_bytes(root: Path, path: str | os.PathLike[str], *, limit: int | None = None) -> bytes:
    """The content of a regular file inside the work copy (links inside it are followed); with
    `limit`, a file larger than that raises FileTooLarge before more than `limit` bytes are read."""
    real_root = Path(os.path.realpath(root))
    rel = resolve(root, path).relative_to(real_root)
    if not rel.parts:
        raise OutsideWorkCopy(errno.EISDIR, "is the work copy itself", str(root))
    try:
        parent = _open_dirs(real_root, rel.parts[:-1], create=False)
    except UnsafeWorkPath as exc:  # swapped for a link since resolve(): absent, as a link out
        raise OutsideWorkCopy(errno.ENOENT, "changed into a link", str(Path(root, rel))) from exc
    try:
        fd = _open_at(parent, rel.parts[-1], os.O_RDONLY, Path(root, rel))
    finally:
        os.close(parent)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OutsideWorkCopy(errno.ENOENT, "not a regular file", str(Path(root, rel)))
        os.set_blocking(handle.fileno(), True)
        data = handle.read() if limit is None else handle.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise FileTooLarge(errno.EFBIG, f"larger than {limit} bytes", str(Path(root, rel)))
    return data


def read_text(
    root: Path,
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    limit: int | None = None,
) -> str:
    """`read_bytes` decoded; universal newlines, as Path.read_text reads them."""
    data = read_bytes(root, path, limit=limit).decode(encoding, errors)
    return data.replace("\r\n", "\n").replace("\r", "\n")


def is_file(root: Path, path: str | os.PathLike[str]) -> bool:
    """True for a regular file inside the work copy (a link to one inside it counts)."""
    try:
        real = resolve(root, path)
    except (OutsideWorkCopy, UnsafeWorkPath):
        return False
    return real.is_file()


def exists(root: Path, path: str | os.PathLike[str]) -> bool:
    """True when `path` names something inside the work copy; a dangling or outside link: no."""
    try:
        real = resolve(root, path)
    except (OutsideWorkCopy, UnsafeWorkPath):
        return False
    return real.exists()


def write_text(
    root: Path,
    path: str | os.PathLike[str],
    text: str,
    *,
    parents: bool = False,
    replace_link: bool = False,
) -> None:
    """Write `text` (UTF-8) to `path`, following no link; see the module docstring."""
    write_bytes(root, path, text.encode("utf-8"), parents=parents, replace_link=replace_link)


def write_bytes(
    root: Path,
    path: str | os.PathLike[str],
    data: bytes,
    *,
    parents: bool = False,
    replace_link: bool = False,
) -> None:
    """Write `data` to `path`, following no link; an existing file keeps its mode."""
    rel = relative(root, path)
    parent = _open_dirs(Path(root), rel.parts[:-1], create=parents)
    name = rel.parts[-1]
    try:
        if replace_link:
            _unlink_if_link(parent, name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        fd = _open_at(parent, name, flags, Path(root, rel), write=True)
    finally:
        os.close(parent)
    with os.fdopen(fd, "wb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise UnsafeWorkPath(f"{Path(root, rel)}: not a regular file; not written")
        os.set_blocking(handle.fileno(), True)
        handle.write(data)


def make_dirs(root: Path, path: str | os.PathLike[str], *, replace_link: bool = False) -> None:
    """Create `path` and its parents as directories, through no link.

    With `replace_link` (FixWurx's own directories) a link in the way is removed first.
    """
    parts = relative(root, path).parts
    os.close(_open_dirs(Path(root), parts, create=True, replace_links=replace_link))


def remove(root: Path, path: str | os.PathLike[str], *, missing_ok: bool = True) -> None:
    """Remove the file (or link: the link itself, never its target) at `path`."""
    rel = relative(root, path)
    try:
        parent = _open_dirs(Path(root), rel.parts[:-1], create=False)
    except FileNotFoundError:
        if missing_ok:
            return
        raise
    try:
        os.unlink(rel.parts[-1], dir_fd=parent)
    except FileNotFoundError:
        if not missing_ok:
            raise
    finally:
        os.close(parent)


def is_link(root: Path, path: str | os.PathLike[str]) -> bool:
    """True when `path` or a directory above it (inside the work copy) is a symbolic link."""
    rel = relative(root, path)
    current = Path(root)
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            return True
    return False


def walk_files(root: Path, suffix: str = "") -> Iterator[PurePosixPath]:
    """Relative paths of the regular files under `root` ending in `suffix`, sorted per directory.

    Links are skipped, files and directories alike: what they point at is either outside the
    work copy or reached by its real path anyway.
    """
    stack = [PurePosixPath()]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(Path(root, rel)) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(rel / entry.name)
            elif entry.is_file(follow_symlinks=False) and entry.name.endswith(suffix):
                yield rel / entry.name
        stack.extend(reversed(subdirs))


def links_out_of(root: Path) -> list[PurePosixPath]:
    """Relative paths of the links under `root` whose target lies outside it."""
    real_root = Path(os.path.realpath(root))
    found = []
    for top, dirs, files in os.walk(root, followlinks=False):
        for name in (*dirs, *files):
            full = Path(top, name)
            if not full.is_symlink():
                continue
            target = Path(os.path.realpath(full))
            if target != real_root and real_root not in target.parents:
                found.append(PurePosixPath(full.relative_to(root).as_posix()))
    return found


def drop_links_out(root: Path) -> list[PurePosixPath]:
    """Remove every link under `root` that points outside it; the removed paths, sorted.

    For copies: a work copy must not carry a way out of itself, for FixWurx's own process nor
    for the fallback sandbox, which sees the host.
    """
    removed = sorted(links_out_of(root))
    for rel in removed:
        remove(root, rel)
    return removed


def _open_dirs(
    root: Path, parts: tuple[str, ...], *, create: bool, replace_links: bool = False
) -> int:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts:
            if replace_links:
                _unlink_if_link(fd, part)
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, dir_fd=fd)
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link_at(fd, part):
                    raise UnsafeWorkPath(f"{root}/{'/'.join(parts)}: {part!r} is a link") from exc
                raise
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_at(dir_fd: int, name: str, flags: int, shown: Path, *, write: bool = False) -> int:
    try:
        return os.open(name, flags | _OPEN_FLAGS, _NEW_FILE_MODE, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the last component is a link
            if write:
                raise UnsafeWorkPath(f"{shown}: is a link; not written through") from exc
            raise OutsideWorkCopy(errno.ENOENT, "is a link", str(shown)) from exc
        if exc.errno == errno.ENXIO:  # a FIFO nobody reads
            raise UnsafeWorkPath(f"{shown}: not a regular file; not written") from exc
        raise


def _is_link_at(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False


def _unlink_if_link(dir_fd: int, name: str) -> None:
    if _is_link_at(dir_fd, name):
        os.unlink(name, dir_fd=dir_fd)
