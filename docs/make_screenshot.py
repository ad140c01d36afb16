"""Regenerate docs/segmentation.png, the README's picture of segmentation.html: the demo
portfolio's segmentation, rendered by headless Chromium (Debian's `chromium`).

    python docs/make_screenshot.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from chromium import screenshot  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "segmentation"
        subprocess.run([sys.executable, "-m", "esd.cli", "segment", "--input-dir",
                        "examples/portfolio", "--references", "examples/portfolio/references",
                        "--as-of", "2026-11-23", "--out", str(out), "--no-state", "--quiet"],
                       cwd=ROOT, check=True)
        screenshot(out / "segmentation.html", ROOT / "docs" / "segmentation.png",
                   width=1280, height=2400)
    print("wrote docs/segmentation.png")


if __name__ == "__main__":
    main()
