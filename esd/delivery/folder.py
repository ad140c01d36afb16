"""Output folders (contract §7): every file of a folder written at once, and nothing esd
did not write ever deleted. Used for the dry-run digests, esd pull's input files and
esd segment's report.

Every folder esd writes holds `.esd-output.json` (`{"tool": "esd", "files": [...]}`),
the list of files esd put there. A folder is replaced only when it is empty or holds
that marker and no file the marker does not list.

The new folder is built in a sibling staging folder (`.NAME.esd-PID-HEX`), marker first,
then swapped with the old one in one atomic step (`renameat2(RENAME_EXCHANGE)` on Linux,
`renamex_np(RENAME_SWAP)` on macOS), so a crash at any point leaves either the old or the
new folder in place. Where the system has no atomic swap, two renames are used and a
folder missing after a crash between them is restored from its staging name on the next
write. Staging folders left by killed runs are removed on the next write, deleting only
the files their own marker lists.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import json
import os
import secrets
import sys
from pathlib import Path

from esd.errors import InputError

MARKER = ".esd-output.json"
_STAGING = ".esd-"  # staging folders are named .NAME.esd-PID-HEX


def write_atomically(out: Path, files: dict[str, str]) -> None:
    """Write `files` (name -> text) as the whole content of folder `out`, at once.

    InputError (exit 2) when `out` is not a folder esd may replace, naming one file
    esd did not write; nothing is written then.
    """
    out = out.absolute()
    _check_names(files)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder", file=str(out))
    _clean_stale(out)
    if out.is_dir():
        _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}{_STAGING}{os.getpid()}-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        # The marker first: a staging folder killed half-way lists what it may hold.
        marker = json.dumps({"tool": "esd", "files": sorted(files)}, indent=1) + "\n"
        _write(staging / MARKER, marker)
        for name, text in files.items():
            _write(staging / name, text)
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
        _fsync(staging)
        if out.is_dir():
            _swap(staging, out)  # staging now holds the old folder
        else:
            staging.rename(out)
        _fsync(out.parent)
    finally:
        _remove(staging)


def listed_files(folder: Path) -> list[str] | None:
    """The files `folder`'s marker lists, or None when it has no readable esd marker."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    names = data.get("files") if isinstance(data, dict) and data.get("tool") == "esd" else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return [n for n in names if _plain_name(n)]


def _check_names(files: dict[str, str]) -> None:
    for name in files:
        if not _plain_name(name) or name == MARKER:
            raise ValueError(f"not a plain file name for an output folder: {name!r}")


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name \
        and "\x00" not in name


def _check_replaceable(out: Path) -> None:
    entries = sorted(p.name for p in out.iterdir())
    if not entries:
        return
    listed = listed_files(out)
    if listed is None:
        raise InputError(f"--out {out}: folder holds {entries[0]} and is not an earlier "
                         f"esd output (no {MARKER}); choose another folder",
                         file=str(out / entries[0]))
    allowed = {*listed, MARKER}
    for name in entries:
        if name not in allowed or (out / name).is_dir() and not (out / name).is_symlink():
            raise InputError(f"--out {out}: folder holds {name}, which esd did not write "
                             f"(not in its {MARKER}), so it is not an earlier esd output "
                             "as it stands; move that file or choose another folder",
                             file=str(out / name))


def _clean_stale(out: Path) -> None:
    """Restore `out` if a crash left it only under a staging name, then remove the
    staging folders of runs that are gone."""
    parent = out.parent
    if not parent.is_dir():
        return
    prefix = f".{out.name}{_STAGING}"
    stale = [p for p in parent.iterdir()
             if p.name.startswith(prefix) and p.is_dir() and not p.is_symlink()
             and not _staging_alive(p.name[len(prefix):].split("-", 1)[0])]
    if not out.exists():
        # Two-rename fallback killed between its renames: the old folder is the complete
        # staging folder whose marker lists files that are all present.
        complete = [p for p in stale if _complete(p)]
        if complete:
            newest = max(complete, key=lambda p: p.stat().st_mtime)
            newest.rename(out)
            stale.remove(newest)
    for folder in stale:
        _remove(folder)


def alive(pid: int) -> bool:
    """Whether process `pid` exists on this host (also when another user owns it)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _staging_alive(pid: str) -> bool:
    return pid.isdigit() and alive(int(pid))


def _complete(folder: Path) -> bool:
    listed = listed_files(folder)
    return listed is not None and all((folder / n).is_file() for n in listed)


def _remove(folder: Path) -> None:
    """Delete the files `folder`'s marker lists, the marker, then the folder if that
    emptied it. Anything else stays."""
    if not folder.is_dir():
        return
    for name in [*(listed_files(folder) or []), MARKER]:
        path = folder / name
        if path.is_file() or path.is_symlink():
            path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: it holds what esd did not write
        folder.rmdir()


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync(folder: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap(a: Path, b: Path) -> None:
    """Exchange folders `a` and `b` atomically; else rename `b` to its staging-like name
    and `a` to `b` (a crash between the two is repaired by the next write)."""
    if _exchange(a, b):
        return
    retired = b.parent / f"{a.name}-old"
    b.rename(retired)
    a.rename(b)
    retired.rename(a)


_CANNOT_SWAP = frozenset(getattr(errno, name) for name in ("EINVAL", "ENOSYS", "ENOTSUP",
                                                           "EOPNOTSUPP")
                          if hasattr(errno, name))


def _exchange(a: Path, b: Path) -> bool:
    libc = _libc()
    if libc is None:
        return False
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        at_fdcwd, rename_exchange = -100, 2
        done = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b),
                              rename_exchange)
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        done = libc.renamex_np(os.fsencode(a), os.fsencode(b), 0x2)  # RENAME_SWAP
    else:
        return False
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in _CANNOT_SWAP:  # the file system or kernel cannot swap: rename twice
        return False
    raise OSError(code, os.strerror(code), str(b))


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:  # the C library is already loaded into the process: no search needed
        return ctypes.CDLL(None if sys.platform != "win32" else "msvcrt", use_errno=True)
    except OSError:
        return None
