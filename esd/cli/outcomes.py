"""esd outcome and esd history (contract §1, §12): record what became of delivered
strong signals; list past runs.

Each imports its use case when it runs (see `weekly`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from esd.app.settings import parse_as_of
from esd.cli.app import app
from esd.cli.options import AsJson, AsOf, StateTarget
from esd.cli.output import err_console, fail, out_console
from esd.errors import EsdError, InputError

if TYPE_CHECKING:
    from esd.app.history import HistoryResult
    from esd.app.outcome import OutcomeResult, Recorded
    from esd.state import OutcomeRecord

SHOWN = 10  # replaced records listed after an import


@app.command()
def outcome(
    signal: Annotated[str | None, typer.Argument(
        metavar="ID", help="The signal's id, as in the digest's `Signal` line.",
        show_default=False)] = None,
    what: Annotated[str | None, typer.Argument(
        metavar="converted|noise|no-conversation", show_default=False,
        help="converted: it led to an expansion conversation; noise: not a real signal; "
        "no-conversation: real, but no conversation came of it.")] = None,
    on: Annotated[str | None, typer.Option(
        "--date", metavar="YYYY-MM-DD",
        help="When it happened. Default: the --as-of day (today, UTC).")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note kept with the record.")]
    = None,
    from_csv: Annotated[Path | None, typer.Option(
        "--import", metavar="FILE.csv", dir_okay=False,
        help="Record every row of a CSV with the columns signal_id,outcome,date,note "
        "(header row required; date and note may be empty). Any bad row: nothing is "
        "recorded.")] = None,
    as_of: AsOf = None,
    state: StateTarget = None,
) -> None:
    """Record what became of a delivered strong signal; the latest record wins.

    The same as a CSM's ✅ or ❌ reaction on the signal's Slack message, for teams that
    track it in their CRM. Exits 2, recording nothing, on an id no recorded run listed,
    an unknown outcome, a bad date, or any bad row of --import.

    Example usage:

        esd outcome 7hq2k9d converted --note "call booked with Dana"
        esd outcome 7hq2k9d noise --date 2026-11-25
        esd outcome --import crm-outcomes.csv
    """
    from esd.app import outcome as outcome_app

    try:
        clock = parse_as_of(as_of)
        if from_csv is not None:
            if signal or what or on or note:
                raise InputError("--import records the rows of a file: leave out ID, "
                                 "OUTCOME, --date and --note", field="--import")
            done = outcome_app.import_csv(state, from_csv, clock)
        elif signal is None or what is None:
            raise InputError("give a signal ID and its outcome (converted, noise or "
                             "no-conversation), or --import FILE.csv", field="ID")
        else:
            done = outcome_app.record(state, signal, what, clock, on, note)
    except EsdError as exc:
        fail(exc)
    if done.source == "import":
        print_import(done)
    else:
        print_recorded(done.entries[0])
    _not_delivered(done)


def print_recorded(entry: Recorded) -> None:
    new, signal = entry.record, entry.signal
    if not entry.changed:
        out_console.print(f"Unchanged: signal {new.signal_id} already is {_what(new)}; "
                          "nothing recorded.", soft_wrap=True)
        return
    out_console.print(f"Recorded: signal {new.signal_id} {_what(new)}.")
    out_console.print(f"  account {signal.account_id} · SKU {signal.sku} · "
                      f"{signal.owner_email} · week ending {signal.window_end}", soft_wrap=True)
    if new.note:
        out_console.print(f"  note: {new.note}", soft_wrap=True)
    if entry.previous:
        out_console.print(f"  replaces: {_what(entry.previous)}")


def print_import(done: OutcomeResult) -> None:
    recorded, unchanged = done.recorded, done.unchanged
    if not recorded:
        out_console.print(f"Nothing recorded from {done.file}: " + (
            f"{_n(len(unchanged), 'row')}, all already recorded." if unchanged
            else "no rows below the header."), soft_wrap=True)
    else:
        counts: dict[str, int] = {}
        for entry in recorded:
            counts[entry.record.outcome] = counts.get(entry.record.outcome, 0) + 1
        split = ", ".join(f"{n} {word}" for word, n in sorted(counts.items()))
        out_console.print(f"Recorded {_n(len(recorded), 'outcome')} from {done.file}: "
                          f"{split}." + (f" {_n(len(unchanged), 'row')} already recorded."
                                         if unchanged else ""), soft_wrap=True)
    replaced = [e for e in recorded if e.previous]
    for entry in replaced[:SHOWN]:
        out_console.print(f"  line {entry.line}: {entry.record.signal_id} "
                          f"{_what(entry.record, source=False)} replaces "
                          f"{_what(entry.previous, entry.previous_line)}", soft_wrap=True)
    if len(replaced) > SHOWN:
        out_console.print(f"  (+{len(replaced) - SHOWN} more replaced)")
    if done.ignored_columns:
        err_console.print("note: columns esd does not read were ignored: "
                          + ", ".join(done.ignored_columns), markup=False, soft_wrap=True)


def _not_delivered(done: OutcomeResult) -> None:
    # Listed by a run but never accepted by Slack (a failed or --only run): the record
    # is kept, but esd report counts delivered signals only.
    ids = sorted({e.signal.signal_id for e in done.recorded if not e.signal.delivered})
    if ids:
        err_console.print(f"note: {_n(len(ids), 'signal')} ({', '.join(ids[:SHOWN])}"
                          f"{', ...' if len(ids) > SHOWN else ''}) listed in a digest but "
                          "never delivered: esd report counts delivered signals only.",
                          markup=False, soft_wrap=True)


def _what(record: OutcomeRecord, line: int | None = None, source: bool = True) -> str:
    where = f"line {line}" if line else record.source
    return f"{record.outcome} on {record.on}" + (f" ({where})" if source else "")


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@app.command()
def history(
    state: StateTarget = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=1, metavar="N", help="Only the N most recent runs.")] = None,
    as_json: AsJson = False,
) -> None:
    """List past runs from the state store, newest first: window, delivered and missed
    CSMs, strong signals, extraction cost.

    --json prints every delivered and missed CSM's email; the table counts the
    delivered and names the missed.

    Example usage:

        esd history --limit 8
        esd history --json --state postgresql://esd@db.internal/esd
    """
    from esd.app import history as history_app

    try:
        done = history_app.history(state, limit)
    except EsdError as exc:
        fail(exc)
    if as_json:
        print(json.dumps(done.to_json(), indent=2))
    else:
        print_history(done)


def print_history(done: HistoryResult) -> None:
    """A table that fits 80 columns: missed CSMs fold, one per line."""
    from rich import box  # rich's tables load only when one is printed
    from rich.table import Table

    if not done.runs:
        out_console.print(f"No runs recorded in {done.store} yet: esd run records one per "
                          "window.")
        return
    table = Table(box=box.SIMPLE_HEAD, title=f"Past runs in {done.store}",
                  title_justify="left", pad_edge=False)
    table.add_column("week ending", no_wrap=True)
    for name in ("days", "strong", "delivered"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("missed", overflow="fold")
    table.add_column("cost", justify="right", no_wrap=True)
    for run in done.runs:
        table.add_row(_window(run["as_of"]), str(run["window_days"]), str(run["strong"]),
                      str(len(run["delivered"])), "\n".join(run["missed"]) or "—",
                      _cost(run))
    out_console.print(table)
    total = sum(run["cost_usd"] for run in done.runs)
    out_console.print(f"{_n(len(done.runs), 'run')}, extraction ${total:.2f} at list prices.")


def _window(as_of: str) -> str:
    # `2026-11-23T00:00:00Z`: the date alone when the window ends at midnight UTC.
    day, _, time = as_of.partition("T")
    return day if time in ("", "00:00:00Z") else f"{day} {time[:5]}"


def _cost(run: dict) -> str:
    if run.get("extractor") == "rules" and not run["cost_usd"]:
        return "rules"
    return f"${run['cost_usd']:.2f}"
