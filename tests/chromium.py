"""Headless Chromium (Debian's `chromium` package) for tests and the README screenshot.

The flags are those known to work on a closed network: without the background-networking
ones Chromium keeps trying to reach Google's hosts. Each run gets a fresh profile.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio"]
TIMEOUT = 60.0


def chromium_path() -> str | None:
    """/usr/bin/chromium, else `chromium` on PATH, else None."""
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def _run(html_file: Path, *args: str, timeout: float) -> str:
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="esd-chromium-") as profile:
        cmd = [exe, *FLAGS, f"--user-data-dir={profile}", *args,
               Path(html_file).resolve().as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"chromium timed out after {timeout:g}s: {e.stderr}") from None
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-4000:]}")
    return done.stdout


def dump_dom(html_file: Path, timeout: float = TIMEOUT) -> str:
    """The page's DOM after Chromium has parsed and laid it out, serialized."""
    return _run(html_file, "--dump-dom", timeout=timeout)


def screenshot(html_file: Path, png: Path, width: int = 1280, height: int = 2400,
               timeout: float = TIMEOUT) -> Path:
    """A PNG of the top `width` x `height` pixels of the page."""
    png = Path(png).resolve()
    png.unlink(missing_ok=True)
    _run(html_file, f"--screenshot={png}", f"--window-size={width},{height}",
         timeout=timeout)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot to {png}")
    return png
