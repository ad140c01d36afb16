"""The `esd` command line: options in, a use case of `esd.app` called, its typed result
turned into output and an exit code.

    options    every option, declared once; `shared` gives a command the common ones
    output     consoles, the progress bar, error and report printers
    commands   the Typer app: one function per command
"""

from esd.cli.commands import app

__all__ = ["app"]
