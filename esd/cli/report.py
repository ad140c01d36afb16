"""esd report (contract §12): the success metric."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from esd.app.settings import Settings
from esd.cli.app import app, exit_with
from esd.cli.options import AsJson, Quiet, StateTarget, shared
from esd.cli.output import fail, is_quiet, out_console
from esd.errors import EsdError

if TYPE_CHECKING:  # the printer only reads the result; the use case loads lazily
    from esd.app.report import ReportOutcome


@app.command()
@shared("as_of")
def report(
    ctx: typer.Context,
    settings: Settings,
    out: Annotated[Path, typer.Option(
        "--out", envvar="ESD_REPORT_OUT", file_okay=False,
        help="Folder for report.md, report.json and report.html.")] = Path("report"),
    state: StateTarget = None,
    as_json: AsJson = False,
    quiet: Quiet = None,
) -> None:
    """The seed's success metric: the share of delivered strong signals that led to an
    expansion conversation within 14 days, on the trailing 30 days and per calendar
    month, per SKU, call-trigger phrase, action row and CSM, with the warning when two
    consecutive complete months are below 20 %.

    Reads the state store esd run writes (never creates one: exit 2 when it is
    missing). --as-of sets the end of the trailing window. Writes OUT/report.md,
    OUT/report.json and OUT/report.html (one self-contained page with charts).

    Example usage:

        esd report --out report
        esd report --as-of 2026-11-23 --state postgresql://esd@db/esd --json
    """
    from esd.app import report as report_app

    try:
        done = report_app.report(out, settings.as_of, state)
    except EsdError as exc:
        fail(exc)
    if as_json:
        print(done.files["report.json"], end="")
    elif not is_quiet(quiet):
        print_report(done)
    exit_with(done.exit_code)


def print_report(done: ReportOutcome) -> None:
    """A few lines: the trailing figure, the latest complete month, the warnings."""
    from esd.outcomes.metrics import WINDOW_DAYS
    from esd.render.report import headline, verdict

    m = done.measurement
    say = functools.partial(out_console.print, soft_wrap=True)
    say(f"Trailing {WINDOW_DAYS} days to {m.end}: {headline(m.trailing)}, "
        f"{m.trailing.noise} noise, {m.trailing.unknown} unknown · {verdict(m.trailing)}")
    latest = next((x for x in reversed(m.months) if x.complete), None)
    if latest is not None:
        say(f"Latest complete month {latest.month}: {headline(latest.tally)} · "
            f"{verdict(latest.tally)}")
    for warning in m.warnings:
        say(f"warning: {warning}")
    say(f"Wrote report.md, report.json and report.html to {done.out}/")
