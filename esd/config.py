"""Settings of the live sources (contract §8): esd.toml sections plus the environment.

Secrets come only from the environment (a .env file may fill it); non-secret settings
come from esd.toml (`--config FILE` or `ESD_CONFIG` to move it), and an environment
variable wins over the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from esd.errors import InputError

TICKET_SYSTEMS = {
    # name -> environment variables whose presence means "credentials present"
    "zendesk": ("ZENDESK_API_TOKEN", "ZENDESK_OAUTH_TOKEN"),
    "intercom": ("INTERCOM_ACCESS_TOKEN",),
    "helpscout": ("HELPSCOUT_APP_ID", "HELPSCOUT_APP_SECRET"),
}
USAGE_SOURCES = ("gainsight",)


def load_toml(path: Path | None) -> dict[str, Any]:
    """esd.toml as a dict ({} when there is none)."""
    if path is None or not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None


def ticket_system(env: Mapping[str, str], toml: Mapping[str, Any]) -> str:
    """zendesk, intercom, helpscout or none (contract §8).

    ESD_TICKET_SOURCE (or `ticket_source` in esd.toml) decides; unset, it is the one
    system whose credentials are present, `none` when none are, and exit 2 when two or
    more are.
    """
    chosen = env.get("ESD_TICKET_SOURCE") or toml.get("ticket_source")
    if chosen:
        chosen = chosen.strip().lower().replace(" ", "")
        if chosen not in (*TICKET_SYSTEMS, "none"):
            raise InputError(f"ESD_TICKET_SOURCE={chosen!r}: choose one of zendesk, intercom, "
                             "helpscout, none")
        return chosen
    present = [name for name, variables in TICKET_SYSTEMS.items()
               if any(env.get(v) for v in variables)]
    if len(present) > 1:
        raise InputError(f"credentials for several ticket systems are set ({', '.join(present)}):"
                         " choose one with ESD_TICKET_SOURCE")
    return present[0] if present else "none"


def usage_source(env: Mapping[str, str], toml: Mapping[str, Any]) -> str:
    chosen = (env.get("ESD_USAGE_SOURCE") or toml.get("usage_source") or "gainsight").lower()
    if chosen not in USAGE_SOURCES:
        raise InputError(f"ESD_USAGE_SOURCE={chosen!r}: only 'gainsight' is supported; for a "
                         "warehouse, export the contract's input files and use --input-dir")
    return chosen
