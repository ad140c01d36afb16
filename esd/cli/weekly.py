"""The weekly commands: esd dry-run, esd run, esd coverage and esd pull.

Each imports its use case when it runs, so `esd --help` and a dry run do not load the
others (segmentation pages, eval scoring, live connectors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from esd.app.settings import Settings
from esd.cli.app import app, exit_with
from esd.cli.options import (
    DATA,
    EXTRACTION,
    AsJson,
    Quiet,
    SignalsTable,
    StateTarget,
    shared,
)
from esd.cli.output import (
    ProgressBar,
    err_console,
    error,
    fail,
    is_quiet,
    out_console,
    print_coverage,
    print_delivery,
    print_digests,
    print_reactions,
)
from esd.errors import EsdError


@app.command("dry-run")
@shared(*DATA, "cap_per_csm", "templates", *EXTRACTION)
def dry_run(
    ctx: typer.Context,
    settings: Settings,
    out: Annotated[Path, typer.Option(
        "--out", envvar="ESD_OUT", file_okay=False,
        help="Folder for the digests and run.json.")] = Path("digests"),
    signals_table: SignalsTable = None,
    quiet: Quiet = None,
) -> None:
    """Build every CSM's digest and write them to a folder; never posts anything.

    Writes OUT/<owner_email>.md per CSM and OUT/run.json. The folder is replaced as a
    whole, so a failed run leaves the previous output untouched.

    Example usage:

        esd dry-run --input-dir examples/portfolio --as-of 2026-11-23 --out digests
    """
    from esd.app import digest

    quiet = is_quiet(quiet)
    try:
        with ProgressBar.unless(quiet) as progress:
            done = digest.dry_run(settings, out, progress,
                                  progress.reading if progress else None, signals_table)
    except EsdError as exc:
        fail(exc)
    if not quiet:
        print_digests(done)


@app.command()
@shared(*DATA, "cap_per_csm", "templates", *EXTRACTION)
def run(
    ctx: typer.Context,
    settings: Settings,
    state: StateTarget = None,
    fallback: Annotated[Path, typer.Option(
        "--fallback", envvar="ESD_FALLBACK", file_okay=False,
        help="Where digests that could not be delivered are written.")] = Path("undelivered"),
    resend: Annotated[bool, typer.Option(
        "--resend", help="Post again to CSMs already delivered for this window or an "
        "overlapping one (on purpose only).")] = False,
    signals_table: SignalsTable = None,
    only: Annotated[str | None, typer.Option(
        "--only", envvar="ESD_ONLY", metavar="EMAIL[,EMAIL...]",
        help="Deliver only to these CSMs (a pilot). The others are untouched: a later "
        "run without --only still delivers to them.")] = None,
    preview_to: Annotated[str | None, typer.Option(
        "--preview-to", envvar="ESD_PREVIEW_TO", metavar="EMAIL",
        help="Send every CSM's digest (or --only's) to this person instead, each marked "
        "as a preview. Recorded apart from deliveries: a later run still delivers, and "
        "reactions on a preview are never outcomes.")] = None,
    quiet: Quiet = None,
) -> None:
    """Build every CSM's digest and send each as a personal Slack DM, once per window.

    First records the CSMs' reactions on the strong signals of the last five weeks
    (:white_check_mark: converted, :x: noise; a DM Slack will not let esd read is a
    warning). Reads the live sources (or --input-dir), records the run in the state
    database, and skips CSMs already delivered for the window or an overlapping one. If some
    deliveries fail, the others still go out, the missed digests are written to
    --fallback, the run exits 4 naming who was missed, and the next run for the same
    window sends only those (of a digest cut short, only its missing messages). Only
    one run delivers per state database: another exits 5.

    --only delivers to some CSMs (an unknown email exits 2); --preview-to sends the
    digests to one reviewer, exactly once per window (--resend: again), without reading
    reactions or recording the run. On a terminal, a summary box follows.

    Example usage:

        esd run --as-of 2026-11-23
        esd run --input-dir pulled/2026-11-23 --as-of 2026-11-23 --state postgresql://...
        esd run --preview-to lead@example.com
        esd run --only ana@example.com,tom@example.com
    """
    from esd.app import digest
    from esd.app.audience import Audience

    quiet = is_quiet(quiet)
    try:
        audience = Audience.parse(only, preview_to)
        with ProgressBar.unless(quiet) as progress:
            done = digest.run_weekly(settings, state, fallback, resend, progress,
                                     progress.reading if progress else None, signals_table,
                                     audience)
    except EsdError as exc:
        fail(exc)
    print_reactions(done, quiet)
    outcome = done.delivery
    for email, window in outcome.overlapped if outcome else ():
        # Said even when quiet: a CSM who got nothing should be explained (contract §6).
        err_console.print(f"Skipped {email}: already delivered a digest for the window "
                          f"ending {window.date()}, which overlaps this one (--resend to "
                          "send anyway).", soft_wrap=True, markup=False)
    if not quiet:
        from esd.cli.summary import print_run_summary  # rich's tables: only here

        print_run_summary(done)
    if done.error:
        error(done.error)
    elif not quiet:
        print_delivery(done)
        if outcome and outcome.resumed:
            out_console.print(f"Resumed {len(outcome.resumed)} digest(s) cut short earlier: "
                              "sent only their missing messages.")
    exit_with(done.exit_code)


@app.command()
@shared(*DATA, "extractor", "model", "batch")
def coverage(ctx: typer.Context, settings: Settings, as_json: AsJson = False) -> None:
    """Pre-flight: call coverage for the window, what a run would drop, and what the
    Claude extraction would cost.

    Exits 3 when coverage is below the 40% abort threshold, so a workflow can gate on it.

    Example usage:

        esd coverage --input-dir examples/portfolio --as-of 2026-11-23
    """
    from esd.app import coverage as coverage_app

    try:
        report = coverage_app.coverage(settings)
    except EsdError as exc:
        fail(exc)
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print_coverage(report)
    for message in report.errors:
        error(message)
    exit_with(report.exit_code)


@app.command()
@shared("as_of", "window_days")
def pull(
    ctx: typer.Context,
    settings: Settings,
    out: Annotated[Path, typer.Option(
        "--out", envvar="ESD_OUT", file_okay=False,
        help="Folder for the input files read from the live sources.")] = Path("pulled"),
    quiet: Quiet = None,
) -> None:
    """Read the window from the live sources and write it as input files.

    Writes accounts.json, calls.json, usage_events.json, support_tickets.json and (when
    the usage source has them) stakeholder_changes.json, so the run can be replayed and
    debugged offline with --input-dir. Sources: Gong (calls), Gainsight or the warehouse
    of ESD_USAGE_SOURCE=warehouse (accounts, usage anomalies, stakeholder changes,
    health) and the ticket system of ESD_TICKET_SOURCE.

    Example usage:

        esd pull --as-of 2026-11-23 --out pulled/2026-11-23
        esd dry-run --input-dir pulled/2026-11-23 --as-of 2026-11-23
    """
    from esd.app import pull as pull_app

    quiet = is_quiet(quiet)
    try:
        with ProgressBar.unless(quiet) as progress:
            done = pull_app.pull(settings, out, progress.reading if progress else None)
    except EsdError as exc:
        fail(exc)
    if not quiet:
        for h in done.health:
            unmapped = f", {h.unmapped} unmapped (dropped)" if h.unmapped else ""
            out_console.print(f"{h.system}: {h.records} records{unmapped}, "
                              f"{h.requests} requests")
        out_console.print(f"Wrote the input files to {out}/")


