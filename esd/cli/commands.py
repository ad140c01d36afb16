"""The Typer app: one function per command of contract §1. Each parses its own
options, calls one use case of `esd.app`, prints the result and exits with its code."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from dotenv import load_dotenv

from esd.app import check as check_app
from esd.app import coverage as coverage_app
from esd.app import digest, evaluate
from esd.app import init as init_app
from esd.app import pull as pull_app
from esd.app import segment as segment_app
from esd.app.settings import Settings
from esd.cli.options import (
    DATA,
    EXTRACTION,
    AsJson,
    InputDir,
    Quiet,
    References,
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
    print_segmentation,
)
from esd.config import load_toml
from esd.errors import EsdError, InputError
from esd.redact import SecretFilter

app = typer.Typer(
    help="Weekly expansion-signal digests for Customer Success teams.\n\n"
    "Reads a week of CSM calls, usage anomalies and support tickets, finds accounts with "
    "concrete expansion intent, and writes one short digest per CSM: at most three strong "
    "signals, each with its SKU, verbatim evidence and one next action.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
COMMANDS_WITH_DEFAULTS = ("dry-run", "run", "coverage", "check", "pull", "eval", "segment")


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(
        "--config", help="Settings file (default ./esd.toml, or ESD_CONFIG).")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Log every API request (method, path, status, time) to "
        "stderr. Credentials are never logged.")] = False,
) -> None:
    """Load .env (never overriding the environment) and esd.toml."""
    load_dotenv(Path.cwd() / ".env", override=False)
    path = config or Path(os.environ.get("ESD_CONFIG", "esd.toml"))
    if config is not None and not path.is_file():
        fail(InputError(f"{path}: config file not found", file=str(path)))
    try:
        data = load_toml(path)
    except EsdError as exc:
        fail(exc)
    # [defaults] applies below flags and environment variables; the rest is for sources.
    defaults = {k.replace("-", "_"): v for k, v in data.get("defaults", {}).items()}
    ctx.default_map = {name: dict(defaults) for name in COMMANDS_WITH_DEFAULTS}
    ctx.obj = data
    _setup_logging(verbose)


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SecretFilter(os.environ))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("esd")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logger.propagate = False


def _exit(code: int) -> None:
    if code:
        raise typer.Exit(code)


@app.command("dry-run")
@shared(*DATA, "cap_per_csm", "templates", *EXTRACTION)
def dry_run(
    ctx: typer.Context,
    settings: Settings,
    out: Annotated[Path, typer.Option(
        "--out", envvar="ESD_OUT", file_okay=False,
        help="Folder for the digests and run.json.")] = Path("digests"),
    quiet: Quiet = None,
) -> None:
    """Build every CSM's digest and write them to a folder; never posts anything.

    Writes OUT/<owner_email>.md per CSM and OUT/run.json. The folder is replaced as a
    whole, so a failed run leaves the previous output untouched.

    Example usage:

        esd dry-run --input-dir examples/portfolio --as-of 2026-11-23 --out digests
    """
    quiet = is_quiet(quiet)
    try:
        with ProgressBar.unless(quiet) as progress:
            done = digest.dry_run(settings, out, progress,
                                  progress.reading if progress else None)
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
        "--resend", help="Post again to CSMs already delivered for this window.")] = False,
    quiet: Quiet = None,
) -> None:
    """Build every CSM's digest and send each as a personal Slack DM, once per window.

    Reads the live sources (or --input-dir), records the run in the state database, and
    skips CSMs already delivered for the window. If some deliveries fail, the others
    still go out, the missed digests are written to --fallback, the run exits 4 naming
    who was missed, and the next run for the same window sends only those.

    Example usage:

        esd run --as-of 2026-11-23
        esd run --input-dir pulled/2026-11-23 --as-of 2026-11-23 --state postgresql://...
    """
    quiet = is_quiet(quiet)
    try:
        with ProgressBar.unless(quiet) as progress:
            done = digest.run_weekly(settings, state, fallback, resend, progress,
                                     progress.reading if progress else None)
    except EsdError as exc:
        fail(exc)
    if done.error:
        error(done.error)
    elif not quiet:
        print_delivery(done)
    _exit(done.exit_code)


@app.command()
@shared(*DATA, "extractor", "model", "batch")
def coverage(ctx: typer.Context, settings: Settings, as_json: AsJson = False) -> None:
    """Pre-flight: call coverage for the window, what a run would drop, and what the
    Claude extraction would cost.

    Exits 3 when coverage is below the 40% abort threshold, so a workflow can gate on it.

    Example usage:

        esd coverage --input-dir examples/portfolio --as-of 2026-11-23
    """
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
    _exit(report.exit_code)


@app.command()
@shared(*DATA, "model", "batch", "max_cost", templates=(Annotated[Path | None, typer.Option(
    "--templates", envvar="ESD_TEMPLATES", file_okay=False,
    help="Folder with segmentation.md.j2 (default ./templates if present, else the "
    "built-in one).")], None), extractor=(Annotated[str, typer.Option(
        "--extractor", envvar="ESD_EXTRACTOR", metavar="rules|claude|auto",
        help="Where this week's signals come from (expansion potential). Default rules: "
        "no model cost; claude reuses the answers the weekly run cached.")], "rules"))
def segment(
    ctx: typer.Context,
    settings: Settings,
    out: Annotated[Path, typer.Option(
        "--out", envvar="ESD_SEGMENT_OUT", file_okay=False,
        help="Folder for segmentation.md, segmentation.json and segmentation.html.")]
    = Path("segmentation"),
    csms: Annotated[int | None, typer.Option(
        "--csms", envvar="ESD_CSMS", min=0,
        help="CSM headcount to allocate (default: the owners in accounts.json).")] = None,
    state: Annotated[str | None, typer.Option(
        "--state", envvar="ESD_STATE", metavar="PATH|URL",
        help="Where quarterly snapshots are kept (default ./esd-state.db).")] = None,
    no_state: Annotated[bool, typer.Option(
        "--no-state", help="Neither read nor record quarterly snapshots (no movers).")]
    = False,
    quiet: Quiet = None,
) -> None:
    """The customer segmentation model: tiers calibrated to the ARR distribution, health,
    expansion potential, CS motion and CSM allocation per tier, and tier movers.

    Writes OUT/segmentation.md, OUT/segmentation.json and OUT/segmentation.html (one
    self-contained page with charts). Records this quarter's snapshot of every account
    in the state database; earlier quarters drive the promotion and demotion rules.

    Example usage:

        esd segment --input-dir examples/portfolio --as-of 2026-11-23 --out segmentation
    """
    try:
        done = segment_app.segment(settings, out, state, not no_state, csms)
    except EsdError as exc:
        fail(exc)
    if not is_quiet(quiet):
        print_segmentation(done)


@app.command("eval")
@shared("references", "extractor", "model", "max_cost", batch=False)
def eval_(
    ctx: typer.Context,
    settings: Settings,
    gold: Annotated[Path, typer.Option(
        "--gold", envvar="ESD_GOLD", file_okay=False,
        help="Folder with the input files, labels.json and optionally references/.")],
    as_json: AsJson = False,
) -> None:
    """Score an extractor against labeled sentences: precision and recall per SKU and for
    not_signal, and the prefilter's recall and token share.

    Example usage:

        esd eval --gold examples/gold --extractor rules
        esd eval --gold examples/gold --extractor claude --json
    """
    try:
        done = evaluate.run_eval(settings, gold)
    except EsdError as exc:
        fail(exc)
    if as_json:
        print(json.dumps(done.to_json(), indent=2))
        return
    out_console.print(done.text(), soft_wrap=True)
    if done.cost:
        out_console.print(f"Claude ({done.cost['model']}): {done.cost['requests']} requests, "
                          f"${done.cost['cost_usd']:.2f} at list prices.")


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
    debugged offline with --input-dir. Sources: Gong (calls), Gainsight (accounts, usage
    anomalies, stakeholder changes) and the ticket system of ESD_TICKET_SOURCE.

    Example usage:

        esd pull --as-of 2026-11-23 --out pulled/2026-11-23
        esd dry-run --input-dir pulled/2026-11-23 --as-of 2026-11-23
    """
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


@app.command()
def check(
    ctx: typer.Context,
    references: References = Path("references"),
    input_dir: InputDir = None,
    as_json: AsJson = False,
) -> None:
    """Lint the reference files, and with --input-dir the inputs against them.

    Errors: unparsable rows, a SKU without action rows, an action that fails the
    vague-language filter, a call trigger that can never fire, an account segment with
    no baseline. With Gainsight credentials set (and no --input-dir), also the Gainsight
    object and field names of esd.toml, checked with Gainsight's describe API. Exits 2
    if there is any problem, 4 if Gainsight cannot be reached.

    Example usage:

        esd check --references references --input-dir examples/portfolio
    """
    try:
        done = check_app.check(references, input_dir, toml=ctx.obj or {})
    except EsdError as exc:
        fail(exc)
    problems = done.problems
    if as_json:
        print(json.dumps({"ok": not problems,
                          "problems": [p.model_dump() for p in problems]}, indent=2))
    else:
        for p in problems:
            err_console.print(str(p), markup=False, soft_wrap=True)
        if not problems:
            out_console.print(f"{references}: reference files OK")
        else:
            err_console.print(f"{len(problems)} problem(s) found", markup=False)
    _exit(done.exit_code)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to scaffold.", file_okay=False)]
    = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Scaffold references/, templates/ and .env.example into DIRECTORY.

    Example usage:

        esd init my-cs-team && cd my-cs-team && esd check
    """
    try:
        done = init_app.init(directory, force=force)
    except EsdError as exc:
        fail(exc)
    for path in done.written:
        out_console.print(f"wrote {path}")
