"""esd backtest (contract §13): what the current reference files would have sent,
week by week, over past data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from esd.app.settings import Settings
from esd.cli.app import app, exit_with
from esd.cli.options import Quiet, StateTarget, shared
from esd.cli.output import ProgressBar, error, fail, is_quiet, out_console
from esd.errors import EsdError

if TYPE_CHECKING:
    from esd.app.backtest import BacktestResult

Weeks = Annotated[int | None, typer.Option(
    "--weeks", envvar="ESD_WEEKS", min=1, max=260, metavar="N",
    help="How many weekly windows to run, ending at --as-of (with --snapshots: the last N "
    "week folders; default all).")]
Snapshots = Annotated[Path | None, typer.Option(
    "--snapshots", envvar="ESD_SNAPSHOTS", file_okay=False,
    help="A folder holding one `esd pull` folder per week, each named by its as-of date "
    "(YYYY-MM-DD); instead of --input-dir.")]
Out = Annotated[Path, typer.Option(
    "--out", envvar="ESD_BACKTEST_OUT", file_okay=False,
    help="Folder for backtest.md, backtest.json and backtest.html.")]


class WeekBar(ProgressBar):
    """The progress bar, naming the week that runs; the extraction advances it."""

    def week(self, index: int, weeks: int, as_of: datetime) -> None:
        self.label = f"week {index + 1}/{weeks} ending {as_of.date()}"
        self.bar.update(self.task, description=self.label, total=None, completed=0)

    def total(self, n: int) -> None:
        self.bar.update(self.task, total=n, completed=0,
                        description=getattr(self, "label", "extracting"))


@app.command()
@shared("input_dir", "references", "as_of", "cap_per_csm")
def backtest(
    ctx: typer.Context,
    settings: Settings,
    weeks: Weeks = None,
    snapshots: Snapshots = None,
    out: Out = Path("backtest"),
    state: StateTarget = None,
    quiet: Quiet = None,
) -> None:
    """Run the current reference files over past weeks: what each CSM would have been sent.

    Runs the pipeline for each of the --weeks weekly windows ending at --as-of, oldest
    first, over --input-dir (one folder holding every week, e.g. from `esd pull
    --window-days 56` for 8 weeks) or --snapshots (one `esd pull` folder per week). The
    flooding guard sees the earlier weeks as `esd run` would have recorded them; a week
    below the coverage threshold is reported as aborted. Writes backtest.md,
    backtest.json and backtest.html. Where the state store exists, compares with what
    was delivered then and what became of it. Never posts, records or creates anything
    else. Reads text with the rule extractor (the taxonomy's literal phrases): no model
    cost, so a backtest may differ from weeks read by Claude. One folder is held in
    memory whole (about 1.3 GB per week of 10,000 accounts); --snapshots holds one week
    at a time.

    Example usage:

    \b
        esd backtest --input-dir pulled/last-8-weeks --weeks 8 --as-of 2026-11-23
        esd backtest --snapshots pulled/weekly --out backtest
    """
    from esd.app import backtest as backtest_app

    quiet = is_quiet(quiet)
    try:
        with WeekBar.unless(quiet) as progress:
            done = backtest_app.backtest(settings, out, weeks, snapshots, state, progress)
    except EsdError as exc:
        fail(exc)
    if not quiet:
        print_backtest(done)
    if done.error:
        error(done.error)
    exit_with(done.exit_code)


def print_backtest(done: BacktestResult) -> None:
    """One row per week, the outcome comparison in a line, and where the files went."""
    from rich import box  # rich's tables load only when one is printed
    from rich.table import Table

    bt = done.backtest
    compared = bt.comparison is not None
    table = Table(title=f"Backtest, taxonomy {bt.taxonomy_hash}, cap {bt.cap_per_csm} "
                  "(strong: listed +over the cap)", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("week", no_wrap=True)
    for column in ("coverage", "strong", "weak", "CSMs over", "flooding",
                   *(("sent", "kept", "new") if compared else ())):
        table.add_column(column, justify="right", min_width=min(len(column), 8))
    for k, week in enumerate(bt.weeks):
        row = bt.comparison[k] if compared else None
        then = ([str(row.then.delivered), str(row.kept.delivered), str(row.new)]
                if row is not None and (row.recorded or row.then.delivered)
                else ["—", "—", "—"] if compared else [])
        if week.aborted:
            table.add_row(str(week.as_of.date()), f"{week.coverage_pct:.1f}%", "aborted",
                          "", "", "", *then)
            continue
        t = week.totals()
        strong = f"{t['strong']}" + (f" +{t['overflow']}" if t["overflow"] else "")
        table.add_row(str(week.as_of.date()), f"{week.coverage_pct:.1f}%", strong,
                      str(t["weak"]), str(t["csms_over_cap"]), str(t["flooding_warnings"]),
                      *then)
    out_console.print(table)
    if compared and bt.overall is not None:
        o = bt.overall
        out_console.print(
            f"Delivered then: {o.then.delivered} ({o.then.converted} converted, "
            f"{o.then.noise} noise, {o.then.unknown} unknown); precision "
            f"{_pct(o.then.precision)} then, {_pct(o.kept.precision)} for the "
            f"{o.kept.delivered} the current references keep; {o.dropped.delivered} "
            f"dropped, {o.new} new.", soft_wrap=True)
    else:
        out_console.print("No state store found: nothing to compare with.")
    per_week = sum(done.week_s) / len(done.week_s) if done.week_s else 0.0
    out_console.print(
        f"Rule extractor (no model cost). Data read {done.loads} time"
        f"{'' if done.loads == 1 else 's'} in {done.load_s:.1f} s; "
        f"{per_week:.1f} s per week.", soft_wrap=True)
    out_console.print(f"Wrote backtest.md, backtest.json and backtest.html to {done.out}/",
                      soft_wrap=True)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"
