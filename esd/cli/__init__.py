"""The `esd` command line: options in, a use case of `esd.app` called, its typed result
turned into output and an exit code.

    app        the Typer app and what runs before every command (.env, esd.toml, -v)
    options    every option, declared once; `shared` gives a command the common ones
    output     consoles, the progress bar, error and report printers
    weekly     esd dry-run, run, coverage, pull
    tools      esd segment, eval, check, init
    outcomes   esd outcome, history (what became of the signals; past runs)
    report     esd report (the success metric)
    backtest   esd backtest (the current references over past weeks)
"""

from esd.cli import backtest, outcomes, report, tools, weekly
from esd.cli.app import app

# `esd --help` lists the commands in the contract's order, whatever the import order.
HELP_ORDER = ("run", "dry-run", "coverage", "check", "pull", "eval", "segment", "init",
              "outcome", "report", "backtest", "history")


def _order(command) -> int:
    name = command.name or command.callback.__name__.replace("_", "-")
    return HELP_ORDER.index(name) if name in HELP_ORDER else len(HELP_ORDER)


app.registered_commands.sort(key=_order)

__all__ = ["app", "backtest", "outcomes", "report", "tools", "weekly"]
