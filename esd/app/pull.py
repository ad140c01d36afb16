"""esd pull: the window from the live sources, written as the input files of contract
§2 so a run can be replayed offline with --input-dir."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from esd.app.inputs import live
from esd.app.settings import Settings
from esd.connectors.files import portfolio_files
from esd.delivery.folder import write_atomically

if TYPE_CHECKING:
    from esd.connectors.live import Health


@dataclass
class PullResult:
    health: list[Health]
    out: Path
    exit_code: int = 0


def pull(settings: Settings, out: Path, on_source: Callable[[str], None] | None = None,
         ) -> PullResult:
    """Read the live sources for the window and write them as input files to `out`."""
    result = live().pull(settings.env, settings.toml, settings.window, on_source)
    write_atomically(out, portfolio_files(result.portfolio))
    return PullResult(result.health, out)
