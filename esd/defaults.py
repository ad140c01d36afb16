"""Where the built-in references/, templates/ and .env.example live.

An installed wheel carries them as `esd/_defaults/` (see pyproject's force-include); a
source checkout (editable install) has them at the repository root.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def defaults_dir() -> Path:
    packaged = resources.files("esd") / "_defaults"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent
