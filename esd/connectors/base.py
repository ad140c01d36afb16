"""What every live connector shares: its result type and how it reads settings.

Each connector module (gong, gainsight, zendesk, intercom, helpscout) defines its
settings as an `esd.config.Section` with `Config.from_env(env, section)`: `env` is the
process environment (a .env already merged in), `section` its table of esd.toml
(`[gong]`, ...), built by `esd.config.load_section`. Environment variables win over the
file (contract §8). A missing credential is an InputError naming the variable, raised
before any request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from pydantic import SecretStr

from esd.errors import InputError
from esd.models import CHAMPION_LOOKBACK_DAYS, Window

T = TypeVar("T")


@dataclass
class Pulled(Generic[T]):
    """Records read from a source, and how many mapped to no known account (dropped,
    counted in diagnostics, never guessed)."""

    records: list[T] = field(default_factory=list)
    unmapped: int = 0


def setting(env: Mapping[str, str], section: Mapping[str, Any], var: str, key: str,
            default: Any = None) -> Any:
    """A non-secret setting: environment variable `var`, else esd.toml `key`, else default."""
    if env.get(var):
        return env[var]
    return section.get(key, default)


def secret(env: Mapping[str, str], var: str, system: str) -> SecretStr:
    """A credential from the environment only; missing is exit 2 naming the variable."""
    value = env.get(var)
    if not value:
        raise InputError(f"{system}: environment variable {var} is not set "
                         "(see .env.example)")
    return SecretStr(value)


def lookback_start(window: Window) -> datetime:
    """Where the stakeholder changes a pull writes begin: the champion look-back of the
    window's end (contract §3), and, for a pull of several weeks (`esd pull
    --window-days 56` for `esd backtest`), of its earliest week too, so the backtest's
    first weeks see the departures their digests would have seen."""
    earliest_as_of = min(window.start + timedelta(days=7), window.end)
    return earliest_as_of - timedelta(days=CHAMPION_LOOKBACK_DAYS)
