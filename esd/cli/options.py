"""Every command-line option, declared once (contract §1).

Commands list the shared options they take with the `shared(...)` decorator and get
them as one `settings: Settings` argument; Typer still sees each as a plain option
(help, environment variable, default), because the decorator adds them to the
command's signature.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from esd.app.settings import Extraction, Settings, parse_as_of
from esd.cli.output import fail
from esd.errors import EsdError

InputDir = Annotated[Path | None, typer.Option(
    "--input-dir", envvar="ESD_INPUT_DIR", file_okay=False,
    help="Read the input files (accounts, calls, usage_events, support_tickets, and "
    "optionally stakeholder_changes and health; each as .json, .jsonl or, but for calls, "
    ".csv) from this folder instead of the live sources.")]
References = Annotated[Path, typer.Option(
    "--references", envvar="ESD_REFERENCES", file_okay=False,
    help="Folder with the team's reference files (1-3, and optionally "
    "4-segmentation.md).")]
AsOf = Annotated[str | None, typer.Option(
    "--as-of", envvar="ESD_AS_OF", metavar="DATE|DATETIME",
    help="End of the window, UTC (a date means 00:00 that day). Default: today, 00:00 "
    "UTC, so runs of the same day share one window.")]
WindowDays = Annotated[int, typer.Option(
    "--window-days", envvar="ESD_WINDOW_DAYS", min=1, max=90,
    help="Length of the trailing window in days.")]
CapPerCsm = Annotated[int, typer.Option(
    "--cap-per-csm", envvar="ESD_CAP_PER_CSM", min=1,
    help="Most strong signals listed per CSM; the rest is shown as a count.")]
Templates = Annotated[Path | None, typer.Option(
    "--templates", envvar="ESD_TEMPLATES", file_okay=False,
    help="Folder with digest.md.j2 (default ./templates if present, else the built-in one).")]
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
Quiet = Annotated[bool | None, typer.Option(
    "--quiet/--no-quiet", envvar="ESD_QUIET",
    help="Print only errors. Default: quiet when stdout is not a terminal.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
StateTarget = Annotated[str | None, typer.Option(
    "--state", envvar="ESD_STATE", metavar="PATH|URL",
    help="Run history: a SQLite file (default ./esd-state.db) or a postgresql:// URL.")]
SignalsTable = Annotated[str | None, typer.Option(
    "--signals-table", envvar="ESD_SIGNALS_TABLE", metavar="NAME",
    help="Also write every strong and weak signal of the run to this warehouse table "
    "(ESD_WAREHOUSE_URL; created if absent; a rerun of the window replaces its rows). "
    "Default: esd.toml [warehouse] signals_table. dry-run writes the rows to "
    "OUT/signals-table.csv instead.")]

# The options `shared` can give a command, with their defaults, in help order.
SHARED: dict[str, tuple[Any, Any]] = {
    "input_dir": (InputDir, None),
    "references": (References, Path("references")),
    "as_of": (AsOf, None),
    "window_days": (WindowDays, 7),
    "cap_per_csm": (CapPerCsm, 3),
    "templates": (Templates, None),
    "extractor": (ExtractorChoice, "auto"),
    "model": (Model, None),
    "batch": (Batch, True),
    "max_cost": (MaxCost, None),
    "extractor_fallback": (ExtractorFallback, None),
}
DATA = ("input_dir", "references", "as_of", "window_days")
EXTRACTION = ("extractor", "model", "batch", "max_cost", "extractor_fallback")


def shared(*names: str, **overrides: Any):
    """Give the command (whose first parameter is `ctx`) the shared options `names`,
    and call it with them as `settings=`.

    An override is a default (`batch=False`) or an (annotation, default) pair for a
    command whose option reads differently (esd segment's --extractor)."""
    spec = {name: SHARED[name] for name in names}
    for name, value in overrides.items():
        spec[name] = value if isinstance(value, tuple) else (SHARED[name][0], value)

    def decorate(command):
        own = inspect.signature(command, eval_str=True)
        ctx, *rest = [p for p in own.parameters.values() if p.name != "settings"]
        added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                   annotation=annotation)
                 for name, (annotation, default) in spec.items()]
        rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in rest]
        signature = own.replace(parameters=[ctx, *rest, *added])

        @functools.wraps(command)
        def wrapper(ctx: typer.Context, **kwargs: Any):
            values = {name: kwargs.pop(name) for name in spec}
            try:
                settings = settings_from(ctx, values)
            except EsdError as exc:
                fail(exc)
            return command(ctx, settings=settings, **kwargs)

        wrapper.__signature__ = signature
        wrapper.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
        del wrapper.__wrapped__  # Typer must read `signature`, not the command's own
        return wrapper

    return decorate


def settings_from(ctx: typer.Context, values: dict[str, Any]) -> Settings:
    """The typed settings of a command's shared option values (missing ones: defaults)."""
    fallback = values.get("extractor_fallback")
    extraction = Extraction(
        extractor=str(values.get("extractor", "auto")).strip().lower(),
        model=values.get("model"), batch=values.get("batch", True),
        max_cost=values.get("max_cost"),
        fallback=fallback.strip().lower() if fallback else None)
    return Settings(
        input_dir=values.get("input_dir"), references=values.get("references",
                                                                 Path("references")),
        as_of=parse_as_of(values.get("as_of")), window_days=values.get("window_days", 7),
        cap_per_csm=values.get("cap_per_csm", 3),
        templates=_templates(values["templates"]) if "templates" in values else None,
        toml=ctx.obj or {}, extraction=extraction)


def _templates(flag: Path | None) -> Path | None:
    """--templates, else the team's ./templates when it holds a digest template."""
    if flag is None and Path("templates", "digest.md.j2").is_file():
        return Path("templates")
    return flag
