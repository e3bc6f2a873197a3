"""The one way FixWurx's own process touches a directory that sandboxed code could have written.

Work copies, warm slots, environment build folders, the reports and coverage data a run leaves:
everything in them is attacker-controlled. The repository can commit a symbolic link, its tests
and install steps can plant one while they run, and they can swap a directory for a link between
two of FixWurx's calls. FixWurx's own process (root, possibly) must never follow such a link out,
neither to read a host file into a bundle or a prompt nor to write, rename, remove or chmod one.
So every such path is resolved here, beneath a directory file descriptor:

- the directory itself (the root) is opened with no symbolic link anywhere in its path
  (`open_root`): a root that is, or lies under, a link is refused with its real path named;
- below it, `openat2(2)` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS` where the kernel has it
  (Linux 5.6+), else a walk that opens one component at a time with `O_NOFOLLOW`. Writes,
  renames, removals, chmods and mkdirs follow no link at all: a link where one lands is refused
  (`UnsafeWorkPath`, a PermissionError) or, for FixWurx's own files (`replace_link=True`),
  removed first;
- reads of repository content may follow a link that stays inside the root (a repository's
  `docs/README -> ../README`): the kernel's `RESOLVE_BENEATH` (or the walk's own resolution)
  refuses any step out, and a link out, a FIFO or a device reads as absent (`OutsideWorkCopy`,
  a FileNotFoundError);
- walks list regular files only and never descend through a link; copies recreate only the
  links that stay inside.

Paths may be relative to the root or absolute below it; `..` is refused. Host bookkeeping (what
FixWurx decides from: ready records, use stamps, markers) does not live in these directories at
all; see docs/security.md, "Paths".
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

#: Flags every open here uses: no link followed, no blocking on a planted FIFO, no fd leak.
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
#: Mode of files created here (before the umask), as open() would create them.
_NEW_FILE_MODE = 0o666
#: openat2(2) (include/uapi/linux/openat2.h); the syscall number is shared by every arch.
_SYS_OPENAT2 = 437
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
#: Writes and the root: no link at all. Reads of repository content: links that stay beneath.
_STRICT = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS
_INSIDE = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS
#: An absolute root path: no link in any component (RESOLVE_BENEATH refuses absolute paths).
_ROOT = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS
#: Links followed in one resolution at most, as the kernel's own limit.
_MAX_LINKS = 40

#: Directories that are never the repository's own code: version control, FixWurx's own files,
#: environments, installed dependencies and caches. The one list; a use that skips more (the
#: source scope's tests and vendored code, the model's listing's build output) adds to it.
NOT_REPOSITORY_CODE = frozenset(
    {
        ".git",
        ".hg",
        ".fixwurx",
        ".venv",
        "venv",
        "env",
        ".tox",
        ".nox",
        "site-packages",
        "dist-packages",
        "node_modules",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
    }
)


class OutsideWorkCopy(FileNotFoundError):
    """A read reached a link out of the work copy, or a non-regular file: treated as absent."""


class UnsafeWorkPath(PermissionError):
    """A write would go through a link, or a path leaves the work copy."""


class FileTooLarge(OSError, ValueError):
    """A bounded read met a file larger than its limit (sandboxed code wrote it: never trust
    its size). A ValueError too, for callers of the `max_bytes` spelling."""


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _openat2(dir_fd: int, path: str, flags: int, mode: int, resolve: int) -> int:
    # The kernel refuses a mode without O_CREAT/O_TMPFILE (O_TMPFILE includes O_DIRECTORY's bit).
    creates = flags & os.O_CREAT or flags & os.O_TMPFILE == os.O_TMPFILE
    how = _OpenHow(flags, mode if creates else 0, resolve)
    fd = _libc().syscall(
        ctypes.c_long(_SYS_OPENAT2),
        ctypes.c_int(dir_fd),
        ctypes.c_char_p(os.fsencode(path)),
        ctypes.byref(how),
        ctypes.c_size_t(ctypes.sizeof(how)),
    )
    if fd < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), path)
    return int(fd)


@functools.cache
def have_openat2() -> bool:
    """True when this kernel (and its seccomp policy) lets us call openat2(2)."""
    if os.environ.get("FIXWURX_NO_OPENAT2"):  # the walk's own tests, and a kernel we distrust
        return False
    try:
        os.close(_openat2(-100, "/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, 0, _ROOT))
    except OSError:
        return False
    return True


def how_resolved() -> str:
    """Which mechanism resolves paths here (for `fixwurx doctor` and the docs)."""
    return "openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)" if have_openat2() else "O_NOFOLLOW walk"


# -- the root ---------------------------------------------------------------------------------


def open_root(root: str | os.PathLike[str]) -> int:
    """An O_DIRECTORY fd on `root`, reached through no symbolic link (the caller closes it).

    UnsafeWorkPath when any component of the absolute path is a link: FixWurx binds and writes
    only the directory it was given, never where a link (possibly planted) points.
    """
    path = os.path.abspath(os.fspath(root))
    try:
        if have_openat2():
            return _openat2(-100, path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, 0, _ROOT)
        return _walk_dirs(os.open("/", _DIR_FLAGS), PurePosixPath(path).parts[1:], path)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EXDEV, errno.ENOTDIR) and _has_link(path):
            raise UnsafeWorkPath(
                f"{path}: goes through a symbolic link (to {os.path.realpath(path)}); FixWurx "
                "works only on a directory's real path, never on where a link points"
            ) from exc
        raise


@contextlib.contextmanager
def opened(root: str | os.PathLike[str]) -> Iterator[int]:
    """`open_root` as a context manager."""
    fd = open_root(root)
    try:
        yield fd
    finally:
        os.close(fd)


def _has_link(path: str) -> bool:
    current = Path("/")
    for part in PurePosixPath(path).parts[1:]:
        current = current / part
        if current.is_symlink():
            return True
    return False


def relative(root: Path, path: str | os.PathLike[str]) -> PurePosixPath:
    """`path` as a clean relative path inside `root`; UnsafeWorkPath when it cannot be one."""
    text = os.fspath(path)
    if "\0" in text:
        raise UnsafeWorkPath(f"{text!r}: NUL in a work-copy path")
    candidate = Path(text)
    if candidate.is_absolute():
        for base in (Path(root).absolute(), Path(root).resolve()):
            with contextlib.suppress(ValueError):
                candidate = candidate.relative_to(base)
                break
        else:
            raise UnsafeWorkPath(f"{text}: outside the work copy {root}")
    rel = PurePosixPath(candidate.as_posix())
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise UnsafeWorkPath(f"{text!r}: not a path inside the work copy")
    return rel


# -- resolution beneath a directory fd ----------------------------------------------------------


def open_beneath(
    dir_fd: int,
    rel: PurePosixPath,
    flags: int,
    *,
    follow_inside: bool = False,
    shown: str = "",
) -> int:
    """Open `rel` beneath `dir_fd`. With `follow_inside` links that stay beneath are followed
    (reads); else none is (writes). A link in the way raises ELOOP, a step out EXDEV."""
    flags |= os.O_CLOEXEC | (0 if follow_inside else os.O_NOFOLLOW)
    if have_openat2():
        return _openat2(
            dir_fd, str(rel), flags, _NEW_FILE_MODE, _INSIDE if follow_inside else _STRICT
        )
    parts = _resolve_walk(dir_fd, rel, shown) if follow_inside else list(rel.parts)
    if not parts:
        return os.open(".", flags | os.O_NOFOLLOW, dir_fd=dir_fd)
    parent = _walk_dirs(os.dup(dir_fd), parts[:-1], shown)
    try:
        return os.open(parts[-1], flags | os.O_NOFOLLOW, _NEW_FILE_MODE, dir_fd=parent)
    finally:
        os.close(parent)


def _walk_dirs(fd: int, parts: Iterable[str], shown: str) -> int:
    """Descend from `fd` (consumed) through `parts`, each opened O_NOFOLLOW|O_DIRECTORY."""
    try:
        for part in parts:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _resolve_walk(dir_fd: int, rel: PurePosixPath, shown: str) -> list[str]:
    """The link-free components `rel` names beneath `dir_fd`, following links that stay
    beneath (readlinkat, one component at a time); EXDEV for a step out, ELOOP past 40."""
    todo, done, links = list(rel.parts), list[str](), 0
    while todo:
        part = todo.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not done:
                raise OSError(errno.EXDEV, "leaves the work copy", shown)
            done.pop()
            continue
        parent = _walk_dirs(os.dup(dir_fd), done, shown)
        try:
            info = os.lstat(part, dir_fd=parent)
            if stat.S_ISLNK(info.st_mode):
                links += 1
                if links > _MAX_LINKS:
                    raise OSError(errno.ELOOP, "too many links", shown)
                target = os.readlink(part, dir_fd=parent)
                if target.startswith("/"):
                    raise OSError(errno.EXDEV, "links out of the work copy", shown)
                todo = list(PurePosixPath(target).parts) + todo
                continue
        finally:
            os.close(parent)
        done.append(part)
    return done


def _parent_fd(root_fd: int, rel: PurePosixPath, *, create: bool, replace_links: bool) -> int:
    """The directory that holds `rel`'s last component, reached through no link: one openat2
    call where the kernel has it, else (and when directories are created or links replaced on
    the way) one O_NOFOLLOW open per component."""
    if have_openat2() and not create and not replace_links:
        try:
            return open_beneath(root_fd, rel.parent, os.O_RDONLY | os.O_DIRECTORY, shown=str(rel))
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EXDEV, errno.ENOTDIR):
                raise UnsafeWorkPath(f"{rel}: a directory on the way is a link or not one") from exc
            raise
    fd = os.dup(root_fd)
    try:
        for part in rel.parts[:-1]:
            if replace_links:
                _unlink_if_link(fd, part)
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, dir_fd=fd)
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeWorkPath(f"{rel}: a directory on the way is a link or not one") from exc
        raise
    except BaseException:
        os.close(fd)
        raise
    return fd


# -- reads --------------------------------------------------------------------------------------


def read_bytes(
    root: Path,
    path: str | os.PathLike[str],
    *,
    max_bytes: int | None = None,
    limit: int | None = None,
) -> bytes:
    """The content of a regular file inside `root` (links inside it are followed).

    `max_bytes` (or `limit`, the same): a larger file raises FileTooLarge instead of being read
    (attacker-sized data); no more than the limit is ever read.
    """
    max_bytes = limit if max_bytes is None else max_bytes
    rel = relative(root, path)
    shown = str(Path(root, rel))
    with opened(root) as root_fd:
        try:
            fd = open_beneath(
                root_fd, rel, os.O_RDONLY | os.O_NONBLOCK, follow_inside=True, shown=shown
            )
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EXDEV, errno.ENXIO, errno.ENOTDIR):
                raise OutsideWorkCopy(errno.ENOENT, "links out of the work copy", shown) from exc
            raise
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OutsideWorkCopy(errno.ENOENT, "not a regular file", shown)
        if max_bytes is not None and info.st_size > max_bytes:
            raise FileTooLarge(errno.EFBIG, f"larger than {max_bytes} bytes", shown)
        os.set_blocking(handle.fileno(), True)
        data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise FileTooLarge(errno.EFBIG, f"larger than {max_bytes} bytes", shown)
    return data


def read_text(
    root: Path,
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    max_bytes: int | None = None,
    limit: int | None = None,
) -> str:
    """`read_bytes` decoded; universal newlines, as Path.read_text reads them."""
    data = read_bytes(root, path, max_bytes=max_bytes, limit=limit).decode(encoding, errors)
    return data.replace("\r\n", "\n").replace("\r", "\n")


def _stat_inside(root: Path, path: str | os.PathLike[str]) -> os.stat_result | None:
    try:
        rel = relative(root, path)
        with opened(root) as root_fd:
            fd = open_beneath(root_fd, rel, os.O_PATH, follow_inside=True, shown=str(rel))
    except OSError:
        return None
    try:
        return os.fstat(fd)
    finally:
        os.close(fd)


def stat_inside(root: Path, path: str | os.PathLike[str]) -> os.stat_result:
    """os.stat of `path`, resolved inside `root`; OutsideWorkCopy when it is not there."""
    info = _stat_inside(root, path)
    if info is None:
        raise OutsideWorkCopy(errno.ENOENT, "absent or outside the work copy", str(path))
    return info


def is_file(root: Path, path: str | os.PathLike[str]) -> bool:
    """True for a regular file inside the work copy (a link to one inside it counts)."""
    info = _stat_inside(root, path)
    return info is not None and stat.S_ISREG(info.st_mode)


def exists(root: Path, path: str | os.PathLike[str]) -> bool:
    """True when `path` names something inside the work copy; a dangling or outside link: no."""
    return _stat_inside(root, path) is not None


def resolve(root: Path, path: str | os.PathLike[str]) -> Path:
    """The path `path` names with the links inside `root` resolved; OutsideWorkCopy when it
    resolves outside (for display and caching only: open through this module, not this path)."""
    rel = relative(root, path)
    with opened(root) as root_fd:
        try:
            parts = _resolve_walk(root_fd, rel, str(rel))
        except OSError as exc:
            raise OutsideWorkCopy(errno.ENOENT, "links out of the work copy", str(rel)) from exc
    return Path(root, *parts)


def is_link(root: Path, path: str | os.PathLike[str]) -> bool:
    """True when `path` or a directory above it (inside the work copy) is a symbolic link."""
    rel = relative(root, path)
    with opened(root) as root_fd:
        fd = os.dup(root_fd)
        try:
            for part in rel.parts:
                try:
                    info = os.lstat(part, dir_fd=fd)
                except OSError:
                    return False
                if stat.S_ISLNK(info.st_mode):
                    return True
                if not stat.S_ISDIR(info.st_mode):
                    return False
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
        finally:
            os.close(fd)
    return False


# -- writes -------------------------------------------------------------------------------------


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
    shown = Path(root, rel)
    with opened(root) as root_fd:
        parent = _parent_fd(root_fd, rel, create=parents, replace_links=False)
        try:
            if replace_link:
                _unlink_if_link(parent, rel.name)
            fd = _open_at(parent, rel.name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, shown)
        finally:
            os.close(parent)
    _fill(fd, data, shown)


def create_new(root: Path, path: str | os.PathLike[str], data: bytes, mode: int = 0o644) -> None:
    """Write `data` to a new file at `path` (O_EXCL: an existing file or link is an error)."""
    rel = relative(root, path)
    shown = Path(root, rel)
    with opened(root) as root_fd:
        parent = _parent_fd(root_fd, rel, create=False, replace_links=False)
        try:
            fd = _open_at(parent, rel.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, shown, mode)
        finally:
            os.close(parent)
    _fill(fd, data, shown)


def _fill(fd: int, data: bytes, shown: Path) -> None:
    with os.fdopen(fd, "wb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise UnsafeWorkPath(f"{shown}: not a regular file; not written")
        os.set_blocking(handle.fileno(), True)
        handle.write(data)


def replace(root: Path, src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Rename `src` to `dst` (atomically, over an existing `dst`), both beneath `root`, through
    no link: a link at `dst` is replaced as a name, never written through."""
    source, target = relative(root, src), relative(root, dst)
    with opened(root) as root_fd:
        src_dir = _parent_fd(root_fd, source, create=False, replace_links=False)
        try:
            dst_dir = _parent_fd(root_fd, target, create=False, replace_links=False)
            try:
                os.rename(source.name, target.name, src_dir_fd=src_dir, dst_dir_fd=dst_dir)
            finally:
                os.close(dst_dir)
        finally:
            os.close(src_dir)


def touch(root: Path, path: str | os.PathLike[str]) -> None:
    """Create `path` or set its times to now, following no link (a link there is refused)."""
    rel = relative(root, path)
    shown = Path(root, rel)
    with opened(root) as root_fd:
        parent = _parent_fd(root_fd, rel, create=False, replace_links=False)
        try:
            fd = _open_at(parent, rel.name, os.O_WRONLY | os.O_CREAT, shown)
        finally:
            os.close(parent)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeWorkPath(f"{shown}: not a regular file; not touched")
        os.utime(fd)
    finally:
        os.close(fd)


def chmod(root: Path, path: str | os.PathLike[str] | None, mode: int) -> None:
    """chmod `path` (or `root` itself when None) through an fd reached by no link."""
    with opened(root) as root_fd:
        if path is None:
            os.fchmod(root_fd, mode)
            return
        rel = relative(root, path)
        try:
            fd = open_beneath(root_fd, rel, os.O_RDONLY | os.O_NONBLOCK, shown=str(rel))
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EXDEV, errno.ENOTDIR):
                raise UnsafeWorkPath(f"{Path(root, rel)}: a link on the way; not changed") from exc
            raise
        try:
            os.fchmod(fd, mode)
        finally:
            os.close(fd)


def make_dirs(root: Path, path: str | os.PathLike[str], *, replace_link: bool = False) -> None:
    """Create `path` and its parents as directories, through no link.

    With `replace_link` (FixWurx's own directories) a link in the way is removed first.
    """
    rel = relative(root, path)
    with opened(root) as root_fd:
        os.close(_parent_fd(root_fd, rel / "_", create=True, replace_links=replace_link))


def remove(root: Path, path: str | os.PathLike[str], *, missing_ok: bool = True) -> None:
    """Remove the file (or link: the link itself, never its target) at `path`."""
    rel = relative(root, path)
    with opened(root) as root_fd:
        try:
            parent = _parent_fd(root_fd, rel, create=False, replace_links=False)
        except FileNotFoundError:
            if missing_ok:
                return
            raise
        try:
            os.unlink(rel.name, dir_fd=parent)
        except FileNotFoundError:
            if not missing_ok:
                raise
        finally:
            os.close(parent)


def rmtree(path: str | os.PathLike[str], *, missing_ok: bool = True) -> None:
    """Remove the directory `path` and everything in it, following no link: a link at `path`
    (say a slot's `repo` swapped for a link to a host directory) is removed as a link, and
    nothing below is entered through one. Its parent must be reached through no link."""
    full = Path(os.path.abspath(os.fspath(path)))
    try:
        parent = open_root(full.parent)
    except FileNotFoundError:
        if missing_ok:
            return
        raise
    try:
        _remove_entry(parent, full.name, missing_ok=missing_ok)
    finally:
        os.close(parent)


def empty(root: Path) -> None:
    """Remove everything inside `root` but `root` itself (a bound directory keeps its inode)."""
    with opened(root) as root_fd:
        for name in os.listdir(root_fd):
            _remove_entry(root_fd, name, missing_ok=True)


def _remove_entry(dir_fd: int, name: str, *, missing_ok: bool) -> None:
    try:
        info = os.lstat(name, dir_fd=dir_fd)
    except FileNotFoundError:
        if missing_ok:
            return
        raise
    if stat.S_ISDIR(info.st_mode):
        # shutil's fd-based walk (dir_fd given) opens each level O_NOFOLLOW and checks that
        # what it opened is what it lstat'ed: no link swapped in is ever descended through.
        shutil.rmtree(name, dir_fd=dir_fd)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=dir_fd)


def _open_at(dir_fd: int, name: str, flags: int, shown: Path, mode: int = _NEW_FILE_MODE) -> int:
    try:
        return os.open(name, flags | _OPEN_FLAGS, mode, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the last component is a link
            raise UnsafeWorkPath(f"{shown}: is a link; not written through") from exc
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


# -- walks and copies ---------------------------------------------------------------------------


def walk_files(root: Path, suffix: str = "") -> Iterator[PurePosixPath]:
    """Relative paths of the regular files under `root` ending in `suffix`, sorted per directory.

    Links are skipped, files and directories alike: what they point at is either outside the
    work copy or reached by its real path anyway.
    """
    for rel, kind, _ in _walk(root):
        if kind == "file" and rel.name.endswith(suffix):
            yield rel


def _walk(root: Path) -> Iterator[tuple[PurePosixPath, str, int]]:
    """(relative path, "file" | "dir" | "link", fd of its directory) for everything under
    `root`, depth first, sorted per directory; directories are entered by fd with O_NOFOLLOW,
    links never. The fd is valid until the walk moves on."""
    try:
        top = open_root(root)
    except OSError:
        return
    stack: list[tuple[PurePosixPath, int]] = [(PurePosixPath(), top)]
    subdirs: list[tuple[PurePosixPath, int]] = []
    try:
        while stack:
            rel, fd = stack.pop()
            subdirs = []
            try:
                with os.scandir(fd) as scan:
                    entries = sorted(scan, key=lambda entry: entry.name)
                for entry in entries:
                    if entry.is_symlink():
                        yield rel / entry.name, "link", fd
                    elif entry.is_dir(follow_symlinks=False):
                        yield rel / entry.name, "dir", fd
                        with contextlib.suppress(OSError):
                            child = os.open(entry.name, _DIR_FLAGS, dir_fd=fd)
                            subdirs.append((rel / entry.name, child))
                    elif entry.is_file(follow_symlinks=False):
                        yield rel / entry.name, "file", fd
            except OSError:
                pass
            finally:
                os.close(fd)
            stack.extend(reversed(subdirs))
            subdirs = []
    finally:
        for _, fd in (*stack, *subdirs):
            os.close(fd)


def _stays_inside(root_fd: int, link: PurePosixPath, target: str) -> bool:
    if target.startswith("/"):
        return False
    try:
        _resolve_walk(root_fd, link.parent / target, str(link))
    except OSError as exc:
        return exc.errno not in (errno.EXDEV, errno.ELOOP)  # dangling inside: harmless
    return True


def links_out_of(root: Path) -> list[PurePosixPath]:
    """Relative paths of the links under `root` whose target lies outside it."""
    found = []
    with opened(root) as root_fd:
        for rel, kind, dir_fd in _walk(root):
            if kind == "link" and not _stays_inside(
                root_fd, rel, os.readlink(rel.name, dir_fd=dir_fd)
            ):
                found.append(rel)
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


def copy_tree(
    src: Path, dst: Path, *, ignore: Callable[[PurePosixPath], bool] | None = None
) -> list[PurePosixPath]:
    """Copy the tree at `src` into the directory `dst` (created when missing, else it must be
    empty of what is copied), reading and writing through no link.

    Regular files keep their mode and times; directories are recreated; a link is recreated
    only when its target stays inside `src` (the others are what `drop_links_out` removes);
    FIFOs and devices are skipped. `ignore(rel)` True skips an entry (and what is under it).
    Returns the links left out because they point outside `src`.
    """
    dst = Path(os.path.abspath(dst))
    with opened(dst.parent) as parent, contextlib.suppress(FileExistsError):
        os.mkdir(dst.name, 0o755, dir_fd=parent)
    with opened(src) as src_fd, opened(dst) as dst_fd:
        skipped: list[PurePosixPath] = []
        links_out: list[PurePosixPath] = []
        for rel, kind, dir_fd in _walk(src):
            if any(s in rel.parents for s in skipped):
                continue
            if ignore is not None and ignore(rel):
                skipped.append(rel)
                continue
            if not _copy_entry(src_fd, dst_fd, rel, kind, dir_fd):
                links_out.append(rel)
    return links_out


def _copy_entry(src_fd: int, dst_fd: int, rel: PurePosixPath, kind: str, src_dir: int) -> bool:
    """Copy one entry; False for a link left out because it points outside."""
    parent = _parent_fd(dst_fd, rel, create=False, replace_links=False)
    try:
        if kind == "dir":
            mode = stat.S_IMODE(os.lstat(rel.name, dir_fd=src_dir).st_mode)
            os.mkdir(rel.name, mode | 0o700, dir_fd=parent)
        elif kind == "link":
            target = os.readlink(rel.name, dir_fd=src_dir)
            if not _stays_inside(src_fd, rel, target):
                return False
            os.symlink(target, rel.name, dir_fd=parent)
        else:
            _copy_file(src_fd, rel, parent)
    finally:
        os.close(parent)
    return True


def _copy_file(src_fd: int, rel: PurePosixPath, dst_parent: int) -> None:
    try:
        source = open_beneath(src_fd, rel, os.O_RDONLY | os.O_NONBLOCK, shown=str(rel))
    except OSError:
        return  # swapped for a link or removed since the walk listed it
    try:
        info = os.fstat(source)
        if not stat.S_ISREG(info.st_mode):
            return
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS
        target = os.open(rel.name, flags, stat.S_IMODE(info.st_mode), dir_fd=dst_parent)
        try:
            os.set_blocking(source, True)
            while os.sendfile(target, source, None, 1 << 24):
                pass
            os.fchmod(target, stat.S_IMODE(info.st_mode))
            os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
        finally:
            os.close(target)
    finally:
        os.close(source)
