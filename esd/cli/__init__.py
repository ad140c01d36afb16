"""The `esd` command line: options in, a use case of `esd.app` called, its typed result
turned into output and an exit code.

    app        the Typer app and what runs before every command (.env, esd.toml, -v)
    options    every option, declared once; `shared` gives a command the common ones
    output     consoles, the progress bar, error and report printers
    weekly     esd dry-run, run, coverage, pull
    tools      esd segment, eval, check, init
"""

from esd.cli import tools, weekly
from esd.cli.app import app

# `esd --help` lists the commands in the contract's order, whatever the import order.
HELP_ORDER = ("dry-run", "run", "coverage", "segment", "eval", "pull", "check", "init")
app.registered_commands.sort(key=lambda c: HELP_ORDER.index(
    c.name or c.callback.__name__.replace("_", "-")))

__all__ = ["app", "tools", "weekly"]
