"""The one error tree of esd, and the exit code each branch maps to.

    EsdError                  exit 1  anything we did not foresee more precisely
    ├── InputError            exit 2  bad input files, bad reference files, bad options
    ├── CoverageAbort         exit 3  call coverage below the abort threshold (contract §6)
    └── SourceError           exit 4  a live source failed after retries
        ├── CredentialsRejected       the source answered 401/403
        ├── Unreachable               connection errors or timeouts outlasted the retries
        └── DeliveryError     exit 4  Slack delivery failed for some CSMs (later issues)

The CLI maps class to exit code in one place (`esd.cli._fail`) and never shows a
traceback for these.
"""

from __future__ import annotations


class EsdError(Exception):
    """Base class: a failure esd can explain in one message."""

    exit_code = 1


class InputError(EsdError):
    """Bad input or reference files. The message names file, record or line, and field."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class CoverageAbort(EsdError):
    """Too few accounts had a logged call in the window to emit a trustworthy digest."""

    exit_code = 3


class SourceError(EsdError):
    """A source API failed after its retries, or rejected the credentials."""

    exit_code = 4


class CredentialsRejected(SourceError):
    """The source refused the credentials (401/403): retrying cannot help."""


class Unreachable(SourceError):
    """The source could not be reached, or kept timing out, after every retry."""


class DeliveryError(SourceError):
    """Delivery failed for at least one CSM."""
