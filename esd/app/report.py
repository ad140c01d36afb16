"""esd report: the seed's success metric (contract §12) from the state store, written to
a folder as report.md, report.json and report.html."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from esd.delivery.folder import write_atomically
from esd.outcomes.metrics import Measurement, measure
from esd.render.report import dumps, render_markdown
from esd.render.report_html import render_html
from esd.state import State

FILES = ("report.md", "report.json", "report.html")


@dataclass
class ReportOutcome:
    measurement: Measurement
    files: dict[str, str]
    out: Path
    exit_code: int = 0


def report(out: Path, as_of: datetime, state_target: str | None = None) -> ReportOutcome:
    """Read every delivered signal and its latest outcome, measure as of `as_of`, and
    replace `out` with the three files at once. A missing SQLite store is exit 2 (never
    created here), an unreadable one exit 4; either way nothing is written."""
    state = State.open(state_target, create=False)
    try:
        signals = state.delivered_signals()
        outcomes = state.outcomes()
    finally:
        state.close()
    measurement = measure(signals, outcomes, as_of)
    files = {"report.md": render_markdown(measurement), "report.json": dumps(measurement),
             "report.html": render_html(measurement)}
    write_atomically(out, files)
    return ReportOutcome(measurement, files, out)
