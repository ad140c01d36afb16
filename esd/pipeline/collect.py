"""Step 1 of the seed's method (contract §5.1, §6): gather each account's records inside
the window, drop silent accounts, and measure call coverage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from esd.extractors.transcript import unattributed_labels
from esd.models import Account, Call, Portfolio, Ticket, UsageEvent, Window


@dataclass
class Collected:
    """The window's records. `calls`/`usage`/`tickets` hold only records inside the window."""

    accounts: dict[str, Account]
    calls: list[Call]
    usage: list[UsageEvent]
    tickets: list[Ticket]
    silent: list[str] = field(default_factory=list)  # account ids with no record in the window
    coverage_pct: float = 0.0

    @property
    def in_scope(self) -> int:
        return len(self.accounts)


def collect(portfolio: Portfolio, window: Window) -> Collected:
    """Filter every record to `window` and find the silent accounts."""
    accounts = {a.id: a for a in portfolio.accounts}
    calls = [c for c in portfolio.calls if c.occurred_at in window]
    usage = [u for u in portfolio.usage_events if u.occurred_at in window]
    tickets = [t for t in portfolio.tickets if t.opened_at in window]
    with_call = {c.account_id for c in calls}
    active = with_call | {u.account_id for u in usage} | {t.account_id for t in tickets}
    silent = sorted(a for a in accounts if a not in active)
    return Collected(
        accounts=accounts,
        calls=calls,
        usage=usage,
        tickets=tickets,
        silent=silent,
        coverage_pct=coverage(len(with_call & accounts.keys()), len(accounts)),
    )


def coverage(accounts_with_call: int, accounts: int) -> float:
    """Share of accounts with at least one logged call, in percent, one decimal."""
    return round(100.0 * accounts_with_call / accounts, 1) if accounts else 0.0


@dataclass(frozen=True)
class UnattributedCall:
    """A call with speech whose speaker matches no attendee (contract §2): never counted,
    never lost silently. `speakers` maps each label as written to its utterances."""

    index: int  # the call's place in the list it came from
    call_id: str
    account_id: str
    speakers: dict[str, int]

    @property
    def utterances(self) -> int:
        return sum(self.speakers.values())


def unattributed_speech(calls: Iterable[Call]) -> list[UnattributedCall]:
    """Every call with unattributed speech, in order, with its speakers."""
    out = []
    for i, call in enumerate(calls):
        labels = unattributed_labels(call)
        if labels:
            out.append(UnattributedCall(i, call.call_id, call.account_id, labels))
    return out
