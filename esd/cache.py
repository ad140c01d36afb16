"""A private folder for what esd can always rebuild: compiled digest templates and the
parsed blocks of reference files (issue 16: a 200-account week spent a fifth of its
time compiling and parsing the same unchanged files). Entries are keyed by what they
are made from, written atomically, and a missing, foreign or unreadable folder or
entry only means doing the work again. Nothing from a source or a secret is stored.

The folder is `esd-cache-<uid>` in the system's temporary directory, made private
(0700) and refused unless it is a real directory owned by this user, as Jinja does
for its own cache.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
import tempfile
from pathlib import Path


@functools.cache
def folder() -> Path | None:
    """The private cache folder, or None when none can be had safely."""
    if not hasattr(os, "getuid"):
        return None
    path = Path(tempfile.gettempdir()) / f"esd-cache-{os.getuid()}"
    try:
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
        info = path.lstat()
    except OSError:
        return None
    if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid()
            or stat.S_IMODE(info.st_mode) != 0o700):
        return None
    return path


def read(name: str) -> bytes | None:
    """The entry `name`, or None."""
    where = folder()
    if where is None:
        return None
    try:
        return (where / name).read_bytes()
    except OSError:
        return None


def write(name: str, data: bytes) -> None:
    """Store `data` as entry `name`, whole or not at all (a full disk is no error)."""
    where = folder()
    if where is None:
        return
    try:
        with tempfile.NamedTemporaryFile(dir=where, prefix=f".{name}.", delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, where / name)
    except OSError:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(tmp.name)
