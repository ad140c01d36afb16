"""Output folders (contract §7): every file of a folder written at once, so a failed run
leaves the previous folder as it was. Used for the dry-run digests, esd pull's input
files and esd segment's report."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from esd.errors import InputError


def write_atomically(out: Path, files: dict[str, str], marker: str = "run.json") -> None:
    """Write `files` into folder `out` all at once: a failure leaves the old folder intact.

    The files are written to a sibling temporary folder that then replaces `out`. A
    non-empty `out` without the `marker` file is not an esd output folder: refuse it
    rather than delete someone's files.
    """
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder", file=str(out))
    if out.is_dir() and any(out.iterdir()) and not (out / marker).is_file():
        raise InputError(f"--out {out}: folder is not empty and is not an earlier esd output "
                         f"(no {marker}); choose another folder", file=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
        if out.exists():
            retired = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            out.rename(retired)
            staging.rename(out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
