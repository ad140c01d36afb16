"""What the command line shows: data on stdout, diagnostics and errors on stderr, a
progress bar only on a terminal, and one printer per report."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer

from esd.errors import EsdError

if TYPE_CHECKING:  # the printers only read these results; the use cases load lazily
    from rich.console import Console

    from esd.app.coverage import CoverageReport
    from esd.app.digest import DigestResult


class LazyConsole:
    """A rich Console, made (and rich imported) when first used: a quiet run prints
    nothing and never loads rich (issue 16: start-up). Reading attributes
    go to the console; settings are made on `.console`."""

    def __init__(self, **options) -> None:
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_console", None)

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            object.__setattr__(self, "_console", Console(**self._options))
        return self._console

    def __getattr__(self, name: str):
        return getattr(self.console, name)

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"set {name} on .console, the rich Console itself")


out_console = LazyConsole(highlight=False, markup=False)  # data, never markup
err_console = LazyConsole(stderr=True, highlight=False)


def fail(exc: EsdError) -> NoReturn:
    """Print one clear message and exit with the error's code, without a traceback."""
    error(str(exc))
    raise typer.Exit(exc.exit_code) from None


def error(message: str) -> None:
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def is_quiet(flag: bool | None) -> bool:
    """--quiet, else quiet when stdout is not a terminal."""
    return (not sys.stdout.isatty()) if flag is None else flag


class ProgressBar:
    """One rich progress bar: which live source is being read, then the extraction over
    calls and tickets (esd.extractors.base.Progress)."""

    def __init__(self) -> None:
        from rich.progress import (  # only on a terminal
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=err_console.console,
                            transient=True)
        self.task = self.bar.add_task("reading", total=None)

    def reading(self, source: str) -> None:
        self.bar.update(self.task, description=f"reading {source}")

    @classmethod
    @contextmanager
    def unless(cls, quiet: bool):
        """A bar on a terminal, None when quiet or when stderr is not a terminal."""
        if quiet or not err_console.is_terminal:
            yield None
            return
        progress = cls()
        with progress.bar:
            yield progress

    def total(self, n: int) -> None:
        self.bar.update(self.task, total=n, completed=0, description="extracting")

    def advance(self, n: int = 1) -> None:
        self.bar.advance(self.task, n)


def print_digests(done: DigestResult) -> None:
    """esd dry-run's summary: one row per CSM, then the week's diagnostics."""
    from rich.table import Table  # only when a table is printed

    result = done.run
    table = Table(title=f"Expansion-signal digests, week ending {result.as_of.date()}",
                  title_justify="left")
    table.add_column("CSM")
    table.add_column("email", overflow="fold")
    for column in ("strong", "weak", "overflow"):
        table.add_column(column, justify="right")
    for d in result.digests:
        table.add_row(d.csm_name, d.owner_email, str(len(d.strong)), str(len(d.weak)),
                      str(d.overflow))
    out_console.print(table)
    diag = result.diagnostics
    out_console.print(
        f"coverage {result.coverage_pct:.1f}% · {diag.accounts_in_scope} accounts, "
        f"{diag.accounts_silent} silent · {diag.negative_matches} not_signal matches · "
        f"{diag.champion_suppressions} champion suppressions · taxonomy {diag.taxonomy_hash}")
    if diag.unattributed_utterances:
        out_console.print(f"{_n(diag.unattributed_utterances, 'call utterance')} in "
                          f"{_n(diag.unattributed_calls, 'call')} matched no attendee (not "
                          "counted; esd coverage names them)")
    for warning in result.warnings:
        out_console.print(f"warning: {warning}", markup=False)
    out_console.print(f"Wrote {len(result.digests)} digests and run.json to {done.out}/")


def print_delivery(done: DigestResult) -> None:
    outcome, audience = done.delivery, done.audience
    what = f"previews to {audience.preview_to}" if audience.preview_to else "digests"
    out_console.print(
        f"Sent {len(outcome.sent)} {what}"
        + (f", {len(outcome.already_sent)} already sent" if outcome.already_sent else "")
        + (f", {len(outcome.reconciled)} found already posted"
           if outcome.reconciled else "")
        + f" for the week ending {done.run.as_of.date()}."
        + (f" Left untouched (not in --only): {len(outcome.left_out)} CSMs."
           if outcome.left_out and not audience.preview_to else ""), soft_wrap=True)


def print_reactions(done: DigestResult, quiet: bool) -> None:
    """What esd run read from the CSMs' reactions (contract §12): one line unless quiet,
    and every DM it could not read as a warning, quiet or not (nothing silently lost)."""
    read = done.reactions
    if read is None:
        return
    for warning in read.warnings:
        err_console.print(f"warning: {warning}", soft_wrap=True, markup=False)
    if quiet or not (read.dms or read.warnings):
        return
    counts = read.counts()
    split = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    out_console.print(
        f"Read reactions in {_n(read.dms, 'DM')} ({_n(read.requests, 'request')}): "
        + (f"{_n(len(read.recorded), 'new outcome')} recorded ({split})."
           if read.recorded else "no new outcomes."), soft_wrap=True)


def print_coverage(report: CoverageReport) -> None:
    from rich.table import Table  # only when a table is printed

    data, status = report.data, report.status
    out_console.print(f"CSM call coverage: {data['coverage_pct']:.1f}% "
                      f"({data['accounts_with_call']} of {data['accounts']} accounts had a "
                      f"logged call) — {status}")
    table = Table("source", "in window", "total", title_justify="left")
    for name, counts in data["sources"].items():
        if counts is None:
            table.add_row(name, "—", "not provided (champion guard off)")
        else:
            table.add_row(name, str(counts.get("in_window", "—")), str(counts["total"]))
    out_console.print(table)
    if data["live"]:
        live_table = Table("live source", "reachable", "authorised", "status", "records",
                           "unmapped", "requests")
        for entry in data["live"]:
            live_table.add_row(entry["source"], "yes" if entry["reachable"] else "NO",
                               "yes" if entry["authorised"] else "NO",
                               "ok" if entry["ok"] else "FAILED", str(entry["records"]),
                               str(entry["unmapped"]), str(entry["requests"]))
        out_console.print(live_table)
    drop = data["would_drop"]
    silent = drop["silent_accounts"]
    out_console.print(
        f"Would drop: {len(silent)} silent accounts, {drop['usage_in_noise_band']} usage "
        f"anomalies inside their segment noise band, {drop['usage_null_delta']} without a "
        f"delta. Kept without a baseline row: {data['usage_no_baseline_kept']}.")
    print_unattributed(data["unattributed"])
    x = data["extraction"]
    if x["extractor"] == "claude":
        out_console.print(
            f"Claude extraction ({x['model']}{', batch' if x['batch'] else ''}): "
            f"{x['requests']} requests for {x['sources_to_send']} distinct texts to send "
            f"({x['sources_cached']} calls and tickets already in the result cache), "
            f"~{x['input_tokens']:,} "
            f"input and ~{x['output_tokens']:,} output tokens: estimated "
            f"${x['estimate_usd']:.2f} at list prices.")
    else:
        out_console.print("Extraction: rules (no model cost).")
    if silent:
        shown = ", ".join(silent[:10]) + (f" (+{len(silent) - 10} more)" if len(silent) > 10
                                          else "")
        out_console.print(f"Silent accounts: {shown}")


def print_unattributed(unheard: dict, shown: int = 10) -> None:
    """Calls with speech by no attendee (contract §2): each call, its speakers and their
    utterances, so the export or the attendee list can be fixed."""
    if not unheard["utterances"]:
        return
    out_console.print(
        f"Speech matching no attendee (not counted): {_n(unheard['utterances'], 'utterance')} "
        f"in {_n(unheard['calls'], 'call')}. Add the speaker to the call's attendees, or fix the "
        "speaker label:")
    for entry in unheard["by_call"][:shown]:
        speakers = ", ".join(f'"{name}" ({n})' for name, n in entry["speakers"].items())
        out_console.print(f"  call {entry['call_id']} (account {entry['account_id']}): "
                          f"{speakers}")
    if len(unheard["by_call"]) > shown:
        out_console.print(f"  (+{len(unheard['by_call']) - shown} more calls in --json)")


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
