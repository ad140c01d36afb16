"""The `esd` command line: parse options, call `esd.runner`, print, exit.

Exit codes (contract §1): 0 success, 2 bad input or reference files, 3 coverage abort,
4 a source or delivery API failed, 1 anything else.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from dotenv import load_dotenv
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from esd import runner
from esd.config import load_toml
from esd.errors import EsdError, InputError
from esd.pipeline.guards import COVERAGE_ABORT_BELOW, COVERAGE_WARN_BELOW
from esd.redact import SecretFilter
from esd.runner import Settings
from esd.state import State

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
out_console = Console(highlight=False, markup=False)  # data, never markup
err_console = Console(stderr=True, highlight=False)

# --- options shared by every command that reads data (contract §1) ------------------
InputDir = Annotated[Path | None, typer.Option(
    "--input-dir", envvar="ESD_INPUT_DIR", file_okay=False,
    help="Read the JSON input files (accounts.json, calls.json, usage_events.json, "
    "support_tickets.json, and optionally stakeholder_changes.json and health.json) from "
    "this folder.")]
References = Annotated[Path, typer.Option(
    "--references", envvar="ESD_REFERENCES", file_okay=False,
    help="Folder with the team's reference files (1-3, and optionally "
    "4-segmentation.md).")]
AsOf = Annotated[str | None, typer.Option(
    "--as-of", envvar="ESD_AS_OF", metavar="DATE|DATETIME",
    help="End of the window, UTC (a date means 00:00 that day). Default: now.")]
WindowDays = Annotated[int, typer.Option(
    "--window-days", envvar="ESD_WINDOW_DAYS", min=1, max=90,
    help="Length of the trailing window in days.")]
CapPerCsm = Annotated[int, typer.Option(
    "--cap-per-csm", envvar="ESD_CAP_PER_CSM", min=1,
    help="Most strong signals listed per CSM; the rest is shown as a count.")]
Quiet = Annotated[bool | None, typer.Option(
    "--quiet/--no-quiet", envvar="ESD_QUIET",
    help="Print only errors. Default: quiet when stdout is not a terminal.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Templates = Annotated[Path | None, typer.Option(
    "--templates", envvar="ESD_TEMPLATES", file_okay=False,
    help="Folder with digest.md.j2 (default ./templates if present, else the built-in one).")]


# --- how call and ticket text is read (issue 5) -------------------------------------
ExtractorChoice = Annotated[str, typer.Option(
    "--extractor", envvar="ESD_EXTRACTOR", metavar="rules|claude|auto",
    help="rules: the taxonomy's literal phrases. claude: also Claude, on the "
    "expansion-shaped customer sentences only. auto: claude when ANTHROPIC_API_KEY is set.")]
Model = Annotated[str | None, typer.Option(
    "--model", envvar="ESD_MODEL",
    help="Claude model (default: esd.toml [claude] model, else claude-sonnet-5-5).")]
Batch = Annotated[bool, typer.Option(
    "--batch/--no-batch", envvar="ESD_BATCH",
    help="Send Claude requests through the Message Batches API: half price, but minutes "
    "(up to [claude] batch_timeout) before the answer. --no-batch for interactive runs.")]
MaxCost = Annotated[float | None, typer.Option(
    "--max-cost", envvar="ESD_MAX_COST", metavar="USD", min=0,
    help="Refuse to start (exit 2, nothing sent) when the Claude estimate is above this.")]
ExtractorFallback = Annotated[str | None, typer.Option(
    "--extractor-fallback", envvar="ESD_EXTRACTOR_FALLBACK", metavar="rules",
    help="If Claude keeps failing, finish on the rule extractor (every digest says so) "
    "instead of exiting 4.")]


def _extraction(extractor: str, model: str | None, batch: bool, max_cost: float | None,
                fallback: str | None) -> runner.Extraction:
    return runner.Extraction(extractor=extractor.strip().lower(), model=model, batch=batch,
                             max_cost=max_cost,
                             fallback=fallback.strip().lower() if fallback else None)


def _templates(flag: Path | None) -> Path | None:
    """--templates, else the team's ./templates when it holds a digest template."""
    if flag is None and Path("templates", "digest.md.j2").is_file():
        return Path("templates")
    return flag


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
        _fail(InputError(f"{path}: config file not found"))
    try:
        data = load_toml(path)
    except EsdError as exc:
        _fail(exc)
    # [defaults] applies below flags and environment variables; the rest is for sources.
    defaults = {k.replace("-", "_"): v for k, v in data.get("defaults", {}).items()}
    ctx.default_map = {name: dict(defaults)
                       for name in ("dry-run", "run", "coverage", "check", "pull", "eval",
                                    "segment")}
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


def _fail(exc: EsdError) -> None:
    """Print one clear message and exit with the error's code, without a traceback."""
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
    raise typer.Exit(exc.exit_code) from None


def _quiet(flag: bool | None) -> bool:
    return (not sys.stdout.isatty()) if flag is None else flag


def _settings(ctx: typer.Context, input_dir, references, as_of, window_days, cap_per_csm,
              templates=None, extraction: runner.Extraction | None = None) -> Settings:
    return Settings(input_dir=input_dir, references=references,
                    as_of=runner.parse_as_of(as_of), window_days=window_days,
                    cap_per_csm=cap_per_csm, templates=templates, toml=ctx.obj or {},
                    extraction=extraction or runner.Extraction())


@app.command("dry-run")
def dry_run(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(
        "--out", envvar="ESD_OUT", file_okay=False,
        help="Folder for the digests and run.json.")] = Path("digests"),
    input_dir: InputDir = None,
    references: References = Path("references"),
    as_of: AsOf = None,
    window_days: WindowDays = 7,
    cap_per_csm: CapPerCsm = 3,
    templates: Templates = None,
    extractor: ExtractorChoice = "auto",
    model: Model = None,
    batch: Batch = True,
    max_cost: MaxCost = None,
    extractor_fallback: ExtractorFallback = None,
    quiet: Quiet = None,
) -> None:
    """Build every CSM's digest and write them to a folder; never posts anything.

    Writes OUT/<owner_email>.md per CSM and OUT/run.json. The folder is replaced as a
    whole, so a failed run leaves the previous output untouched.

    Example usage:

        esd dry-run --input-dir examples/portfolio --as-of 2026-11-23 --out digests
    """
    is_quiet = _quiet(quiet)
    try:
        settings = _settings(ctx, input_dir, references, as_of, window_days, cap_per_csm,
                             _templates(templates), _extraction(
                                 extractor, model, batch, max_cost, extractor_fallback))
        with _ProgressBar.unless(is_quiet) as progress:
            result, files = runner.dry_run(settings, progress,
                                           progress.reading if progress else None)
        runner.write_atomically(out, files)
    except EsdError as exc:
        _fail(exc)
    if not is_quiet:
        _summary(result, out)


class _ProgressBar:
    """One rich progress bar: which live source is being read, then the extraction over
    calls and tickets (esd.pipeline.extract.Progress)."""

    def __init__(self) -> None:
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=err_console, transient=True)
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


def _summary(result, out: Path) -> None:
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
    for warning in result.warnings:
        out_console.print(f"warning: {warning}", markup=False)
    out_console.print(f"Wrote {len(result.digests)} digests and run.json to {out}/")


@app.command()
def run(
    ctx: typer.Context,
    input_dir: InputDir = None,
    references: References = Path("references"),
    as_of: AsOf = None,
    window_days: WindowDays = 7,
    cap_per_csm: CapPerCsm = 3,
    templates: Templates = None,
    state: Annotated[str | None, typer.Option(
        "--state", envvar="ESD_STATE", metavar="PATH|URL",
        help="Run history: a SQLite file (default ./esd-state.db) or a postgresql:// URL.")]
    = None,
    fallback: Annotated[Path, typer.Option(
        "--fallback", envvar="ESD_FALLBACK", file_okay=False,
        help="Where digests that could not be delivered are written.")] = Path("undelivered"),
    resend: Annotated[bool, typer.Option(
        "--resend", help="Post again to CSMs already delivered for this window.")] = False,
    extractor: ExtractorChoice = "auto",
    model: Model = None,
    batch: Batch = True,
    max_cost: MaxCost = None,
    extractor_fallback: ExtractorFallback = None,
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
    from esd.delivery.slack import SlackDelivery

    is_quiet = _quiet(quiet)
    try:
        settings = _settings(ctx, input_dir, references, as_of, window_days, cap_per_csm,
                             _templates(templates), _extraction(
                                 extractor, model, batch, max_cost, extractor_fallback))
        messenger = SlackDelivery.from_env(os.environ)  # a missing token stops us here
        store = State.open(state)
        try:
            with _ProgressBar.unless(is_quiet) as progress:
                result, outcome = runner.run(settings, store, messenger, fallback, resend,
                                             progress, progress.reading if progress else None)
        finally:
            store.close()
    except EsdError as exc:
        _fail(exc)
    if not is_quiet:
        out_console.print(
            f"Sent {len(outcome.sent)} digests"
            + (f", {len(outcome.already_sent)} already sent" if outcome.already_sent else "")
            + (f", {len(outcome.reconciled)} found already posted"
               if outcome.reconciled else "")
            + f" for the week ending {result.as_of.date()}.")


@app.command()
def coverage(
    ctx: typer.Context,
    input_dir: InputDir = None,
    references: References = Path("references"),
    as_of: AsOf = None,
    window_days: WindowDays = 7,
    extractor: ExtractorChoice = "auto",
    model: Model = None,
    batch: Batch = True,
    as_json: AsJson = False,
) -> None:
    """Pre-flight: call coverage for the window, what a run would drop, and what the
    Claude extraction would cost.

    Exits 3 when coverage is below the 40% abort threshold, so a workflow can gate on it.

    Example usage:

        esd coverage --input-dir examples/portfolio --as-of 2026-11-23
    """
    try:
        report = runner.coverage_report(_settings(
            ctx, input_dir, references, as_of, window_days, 3,
            extraction=_extraction(extractor, model, batch, None, None)))
    except EsdError as exc:
        _fail(exc)
    pct = report["coverage_pct"]
    status = ("abort" if pct < COVERAGE_ABORT_BELOW else
              "warn" if pct < COVERAGE_WARN_BELOW else "ok")
    report["status"] = status
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _print_coverage(report)
    if report["sources_failed"]:
        for entry in report["live"]:
            if entry["error"]:
                err_console.print(f"[bold red]error:[/] {escape(entry['error'])}",
                                  soft_wrap=True)
        raise typer.Exit(4)
    if status == "abort":
        raise typer.Exit(3)


def _print_coverage(report: dict) -> None:
    pct = report["coverage_pct"]
    out_console.print(f"CSM call coverage: {pct:.1f}% ({report['accounts_with_call']} of "
                      f"{report['accounts']} accounts had a logged call) — {report['status']}")
    table = Table("source", "in window", "total", title_justify="left")
    for name, counts in report["sources"].items():
        if counts is None:
            table.add_row(name, "—", "not provided (champion guard off)")
        else:
            table.add_row(name, str(counts.get("in_window", "—")), str(counts["total"]))
    out_console.print(table)
    if report["live"]:
        live_table = Table("live source", "reachable", "authorised", "status", "records",
                           "unmapped", "requests")
        for entry in report["live"]:
            live_table.add_row(entry["source"], "yes" if entry["reachable"] else "NO",
                               "yes" if entry["authorised"] else "NO",
                               "ok" if entry["ok"] else "FAILED", str(entry["records"]),
                               str(entry["unmapped"]), str(entry["requests"]))
        out_console.print(live_table)
    drop = report["would_drop"]
    silent = drop["silent_accounts"]
    out_console.print(
        f"Would drop: {len(silent)} silent accounts, {drop['usage_in_noise_band']} usage "
        f"anomalies inside their segment noise band, {drop['usage_null_delta']} without a "
        f"delta. Kept without a baseline row: {report['usage_no_baseline_kept']}.")
    x = report["extraction"]
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


@app.command()
def segment(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(
        "--out", envvar="ESD_SEGMENT_OUT", file_okay=False,
        help="Folder for segmentation.md, segmentation.json and segmentation.html.")]
    = Path("segmentation"),
    input_dir: InputDir = None,
    references: References = Path("references"),
    as_of: AsOf = None,
    window_days: WindowDays = 7,
    csms: Annotated[int | None, typer.Option(
        "--csms", envvar="ESD_CSMS", min=0,
        help="CSM headcount to allocate (default: the owners in accounts.json).")] = None,
    state: Annotated[str | None, typer.Option(
        "--state", envvar="ESD_STATE", metavar="PATH|URL",
        help="Where quarterly snapshots are kept (default ./esd-state.db).")] = None,
    no_state: Annotated[bool, typer.Option(
        "--no-state", help="Neither read nor record quarterly snapshots (no movers).")]
    = False,
    templates: Annotated[Path | None, typer.Option(
        "--templates", envvar="ESD_TEMPLATES", file_okay=False,
        help="Folder with segmentation.md.j2 (default ./templates if present, else the "
        "built-in one).")] = None,
    extractor: Annotated[str, typer.Option(
        "--extractor", envvar="ESD_EXTRACTOR", metavar="rules|claude|auto",
        help="Where this week's signals come from (expansion potential). Default rules: "
        "no model cost; claude reuses the answers the weekly run cached.")] = "rules",
    model: Model = None,
    batch: Batch = True,
    max_cost: MaxCost = None,
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
    is_quiet = _quiet(quiet)
    try:
        settings = _settings(ctx, input_dir, references, as_of, window_days, 3,
                             _templates(templates),
                             _extraction(extractor, model, batch, max_cost, None))
        result, extraction = runner.segment(settings, out, state, not no_state, csms)
    except EsdError as exc:
        _fail(exc)
    if not is_quiet:
        _print_segmentation(result, out)
        if extraction.model:
            out_console.print(f"Signals from Claude ({extraction.model}): "
                              f"{extraction.requests} requests, ${extraction.cost_usd:.2f} "
                              "at list prices.")


def _print_segmentation(result, out: Path) -> None:
    table = Table(title=f"Customer segmentation, {result.as_of.date()} ({result.quarter})",
                  title_justify="left")
    for column in ("tier", "ARR range", "accounts", "% accounts", "% ARR", "CSMs", "coverage"):
        table.add_column(column, justify="left" if column in ("tier", "ARR range",
                                                             "coverage") else "right")
    from esd.render import usd

    for cut, alloc in zip(result.tiers, result.allocation, strict=True):
        rng = ("— (empty)" if cut.arr_min is not None and cut.arr_max is not None
               and cut.arr_min >= cut.arr_max else
               f"{usd(cut.arr_min)}+" if cut.arr_max is None else
               f"< {usd(cut.arr_max)}" if cut.arr_min is None else
               f"{usd(cut.arr_min)}-{usd(cut.arr_max)}")
        table.add_row(f"{cut.tier} {cut.name}", rng, str(cut.accounts),
                      f"{cut.share_accounts:.1f}", f"{cut.share_arr:.1f}",
                      str(alloc.csms) if alloc.ratio else "—", alloc.coverage)
    out_console.print(table)
    mixed = [b for b in result.books if b.mixed]
    out_console.print(
        f"{result.csms} CSM{'' if result.csms == 1 else 's'} · expansion potential "
        f"HIGH {result.potential_counts['HIGH']}, "
        f"MEDIUM {result.potential_counts['MEDIUM']}, LOW {result.potential_counts['LOW']} · "
        f"{len(mixed)} books mixing tiers · {len(result.movers)} movers")
    out_console.print(f"Wrote segmentation.md, segmentation.json and segmentation.html "
                      f"to {out}/")


@app.command("eval")
def eval_(
    ctx: typer.Context,
    gold: Annotated[Path, typer.Option(
        "--gold", envvar="ESD_GOLD", file_okay=False,
        help="Folder with the input files, labels.json and optionally references/.")],
    references: References = Path("references"),
    extractor: ExtractorChoice = "auto",
    model: Model = None,
    batch: Batch = False,
    max_cost: MaxCost = None,
    as_json: AsJson = False,
) -> None:
    """Score an extractor against labeled sentences: precision and recall per SKU and for
    not_signal, and the prefilter's recall and token share.

    Example usage:

        esd eval --gold examples/gold --extractor rules
        esd eval --gold examples/gold --extractor claude --json
    """
    from esd.extractors.eval_report import format_report

    try:
        settings = _settings(ctx, None, references, None, 7, 3, extraction=_extraction(
            extractor, model, batch, max_cost, None))
        report, extraction = runner.evaluate(settings, gold)
    except EsdError as exc:
        _fail(exc)
    data = report.to_json()
    if extraction is not None and extraction.model:
        data["cost"] = {"model": extraction.model, "requests": extraction.requests,
                        "cost_usd": extraction.cost_usd, "dropped": extraction.dropped}
    if as_json:
        print(json.dumps(data, indent=2))
        return
    out_console.print(format_report(report), soft_wrap=True)
    if "cost" in data:
        out_console.print(f"Claude ({extraction.model}): {extraction.requests} requests, "
                          f"${extraction.cost_usd:.2f} at list prices.")


@app.command()
def pull(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(
        "--out", envvar="ESD_OUT", file_okay=False,
        help="Folder for the input files read from the live sources.")] = Path("pulled"),
    as_of: AsOf = None,
    window_days: WindowDays = 7,
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
    is_quiet = _quiet(quiet)
    try:
        settings = _settings(ctx, None, Path("references"), as_of, window_days, 3)
        with _ProgressBar.unless(is_quiet) as progress:
            result = runner.pull(settings, out, progress.reading if progress else None)
    except EsdError as exc:
        _fail(exc)
    if not is_quiet:
        for h in result.health:
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
        problems = runner.check(references, input_dir, toml=ctx.obj or {})
    except EsdError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps({"ok": not problems,
                          "problems": [p.model_dump() for p in problems]}, indent=2))
    else:
        for p in problems:
            err_console.print(str(p), markup=False, soft_wrap=True)
        if not problems:
            out_console.print(f"{references}: reference files OK")
    if problems:
        if not as_json:
            err_console.print(f"{len(problems)} problem(s) found", markup=False)
        raise typer.Exit(2)


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
        written = runner.init(directory, force=force)
    except EsdError as exc:
        _fail(exc)
    for path in written:
        out_console.print(f"wrote {path}")


if __name__ == "__main__":  # `python -m esd.cli`, as the benchmark runs it
    app()
