"""The options every command that reads data shares (contract §1), as typed settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from esd.errors import InputError
from esd.format import parse_time
from esd.models import Window
from esd.pipeline import make_window


@dataclass
class Extraction:
    """How call and ticket text is read: `--extractor`, `--model`, `--batch`,
    `--max-cost`, `--extractor-fallback`."""

    extractor: str = "auto"  # rules | claude | auto (claude when ANTHROPIC_API_KEY is set)
    model: str | None = None  # default: esd.toml [claude] model, else DEFAULT_MODEL
    batch: bool = True
    max_cost: float | None = None
    fallback: str | None = None  # "rules": finish on the rule extractor if Claude fails


@dataclass
class Settings:
    """Options common to every command that reads data (contract §1)."""

    input_dir: Path | None
    references: Path
    as_of: datetime
    window_days: int = 7
    cap_per_csm: int = 3
    templates: Path | None = None
    toml: dict = field(default_factory=dict)  # esd.toml, for the live sources
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    extraction: Extraction = field(default_factory=Extraction)

    @property
    def window(self) -> Window:
        return make_window(self.as_of, self.window_days)


def parse_as_of(text: str | None, now: datetime | None = None) -> datetime:
    """`--as-of`: a date means 00:00 UTC that day; a datetime without offset is UTC.
    Absent: today, 00:00 UTC, so every run of one day shares one window (contract §1)."""
    if not text:
        today = (now or datetime.now(UTC)).astimezone(UTC).date()
        return datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    if len(text) == 10:
        try:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        except ValueError:
            pass
    moment = parse_time(text) if len(text) != 10 else None
    if moment is None:
        raise InputError(f"--as-of: {text!r} is not a date (YYYY-MM-DD) or an ISO 8601 "
                         "datetime", field="--as-of")
    return moment
