"""What every extractor is: the `Extractor` protocol, and the `Progress` it reports to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from esd.models import Call, Mention, Ticket


class Progress(Protocol):
    """Where long work reports how far it is (a progress bar on a terminal)."""

    def total(self, n: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class Extractor(Protocol):
    """Finds SKU mentions in call transcripts and ticket text.

    Returns every match, `signal` and `not_signal` alike (with the reason), quoting the
    verbatim sentence. Only customer attendees' words count.
    """

    name: str

    def extract(
        self, calls: Sequence[Call], tickets: Sequence[Ticket], progress: Progress | None = None
    ) -> list[Mention]: ...
