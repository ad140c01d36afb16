"""The one error tree of esd. Every error esd raises on purpose belongs to it.

    EsdError                      exit 1  anything we did not foresee more precisely
    ├── InputError                exit 2  bad input files, reference files or options
    │   └── BudgetExceeded        exit 2  --max-cost refused the run before any request
    ├── CoverageAbort             exit 3  call coverage below the abort threshold (§6)
    ├── SourceError               exit 4  a live source or model API failed after retries
    │   ├── CredentialsRejected           the source answered 401/403
    │   ├── Unreachable                   connection errors or timeouts outlasted retries
    │   ├── ReadOnlyViolation             esd was about to write to a customer system
    │   ├── ModelError                    the model API kept failing or never answered
    │   └── StateUnavailable              the state store is corrupt, locked or unreachable
    ├── DeliveryError             exit 4  Slack delivery failed for at least one CSM
    │   └── PostUnknown                   a post's fate is unknown: reconcile, never resend blind
    └── RunLocked                 exit 5  another `esd run` is delivering on the same store

Errors carry structured fields (`source`, `endpoint`, `file`, `record`, `field`) beside
their message, so callers (the CLI, `esd coverage`) never parse message text. The exit
code of each branch is mapped in one place, `EXIT_CODES`; `exit_code_for` reads it.

A few private signals are control flow inside one module and always become one of these
before they leave it: `esd.retry.Retriable` (an attempt worth repeating), the Claude
client's `_Malformed`, Gainsight's `NoObject`, and the `ValueError`s that pydantic
validators and row mappers raise to say "this value is bad".
"""

from __future__ import annotations


class EsdError(Exception):
    """Base class: a failure esd can explain in one message."""

    def __init__(self, message: str, *, source: str | None = None,
                 endpoint: str | None = None, file: str | None = None,
                 record: str | int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.source = source  # the system: gong, zendesk, slack, anthropic, ...
        self.endpoint = endpoint  # "GET /v2/calls/extensive": method and path, no query
        self.file = file  # the input or reference file
        self.record = record  # record index or line within `file`
        self.field = field  # the field of that record

    @property
    def exit_code(self) -> int:
        return exit_code_for(self)


class InputError(EsdError):
    """Bad input or reference files, or bad options. The message names file, record or
    line, and field; `problems` lists every finding, one line each."""

    def __init__(self, message: str, problems: list[str] | None = None, **where) -> None:
        super().__init__(message, **where)
        self.problems = problems or [message]


class BudgetExceeded(InputError):
    """`--max-cost` refused the run before anything was sent."""


class CoverageAbort(EsdError):
    """Too few accounts had a logged call in the window to emit a trustworthy digest."""


class SourceError(EsdError):
    """A source API failed after its retries, or rejected the credentials.

    `reachable` and `authorised` say what `esd coverage` reports for the source."""

    reachable = True
    authorised = True


class CredentialsRejected(SourceError):
    """The source refused the credentials (401/403): retrying cannot help."""

    authorised = False


class Unreachable(SourceError):
    """The source could not be reached, or kept timing out, after every retry."""

    reachable = False
    authorised = False  # unknown: it never answered


class ReadOnlyViolation(SourceError):
    """A request that would write to a customer system was refused before it left."""


class ModelError(SourceError):
    """The model kept failing after the SDK's retries and ours, or never answered with
    the tool."""


class StateUnavailable(SourceError):
    """The state store (ESD_STATE) is corrupt, locked or unreachable; the message names
    it with any password masked."""

    reachable = False


class DeliveryError(EsdError):
    """Delivery failed for at least one CSM."""


class PostUnknown(DeliveryError):
    """Slack may or may not have stored a message (the connection dropped, timed out or
    Slack's edge answered 5xx after the request was sent): look in the DM's history
    before posting again."""


class RunLocked(EsdError):
    """Another `esd run` holds the state store's delivery lock; `holder` names its host,
    process and start time."""

    def __init__(self, message: str, holder: str = "", **where) -> None:
        super().__init__(message, **where)
        self.holder = holder


EXIT_CODES: dict[type[EsdError], int] = {
    InputError: 2,
    CoverageAbort: 3,
    SourceError: 4,
    DeliveryError: 4,
    RunLocked: 5,
    EsdError: 1,
}


def exit_code_for(exc: BaseException) -> int:
    """The exit code of `exc`: its nearest class in EXIT_CODES, 1 for anything else."""
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1
