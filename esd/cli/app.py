"""The Typer app and what runs before every command: .env, esd.toml, logging."""

from __future__ import annotations

import atexit
import gc
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from esd.cli.output import fail
from esd.config import load_toml
from esd.errors import EsdError, InputError
from esd.redact import LibraryFilter, SecretFilter

# At exit, Python's last cycle collections walk every object a run built: 0.1 s of a
# 200-account dry run, for memory about to be returned anyway. Frozen objects are
# skipped (issue 16). Nothing esd writes waits on them: every file, state connection
# and HTTP client is closed by the command that opened it, and atexit handlers (logging's
# flush among them) still run.
atexit.register(gc.freeze)

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
COMMANDS_WITH_DEFAULTS = ("dry-run", "run", "coverage", "check", "pull", "eval", "segment",
                          "outcome", "report", "backtest", "history")


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
    dotenv = Path.cwd() / ".env"
    if dotenv.is_file():  # python-dotenv loads only when there is a file to read
        from dotenv import load_dotenv

        load_dotenv(dotenv, override=False)
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


# Third-party loggers that can print request or response bodies, headers or full URLs
# at DEBUG or INFO (slack-sdk logs every payload and response; httpx/httpcore the URL
# and headers): held at WARNING at every verbosity. `-v` logs esd's own request lines.
QUIET_LOGGERS = ("slack_sdk", "httpx", "httpcore", "httpx2", "httpcore2", "anthropic",
                 "urllib3")


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(LibraryFilter(QUIET_LOGGERS))  # their records to esd's loggers too
    handler.addFilter(SecretFilter(os.environ))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("esd")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logger.propagate = False
    for name in QUIET_LOGGERS:
        quiet = logging.getLogger(name)
        quiet.setLevel(logging.WARNING)
        # Their warnings still pass the filter: no credential, no URL password.
        for old in [f for f in quiet.filters if isinstance(f, SecretFilter)]:
            quiet.removeFilter(old)
        quiet.addFilter(SecretFilter(os.environ))


def exit_with(code: int) -> None:
    """End the command with `code` (nothing to do for 0)."""
    if code:
        raise typer.Exit(code)


