"""`python -m esd.cli`, as the benchmarks run it."""

from esd.cli import app

app()
