"""Step 4 of the seed's method (contract §5.4): strong versus weak, and the
champion-departure guard."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from esd.models import (
    CHAMPION_LOOKBACK_DAYS,
    Mention,
    Signal,
    StakeholderChange,
    UsageEvent,
    Window,
)
from esd.pipeline.extract import Evidence

CHAMPION_TAG = "champion-departure"


def champion_departures(changes: Sequence[StakeholderChange] | None, as_of: datetime) -> set[str]:
    """Accounts whose champion departed inside [as_of - 30 days, as_of)."""
    lookback = Window(start=as_of - timedelta(days=CHAMPION_LOOKBACK_DAYS), end=as_of)
    return {
        c.account_id for c in changes or []
        if c.change_type == "departure" and c.is_champion and c.occurred_at in lookback
    }


def classify(evidence: Evidence, departed: set[str]) -> list[Signal]:
    """One Signal per account and SKU with any `signal` evidence, sorted by account and SKU."""
    calls: dict[tuple[str, str], list[Mention]] = defaultdict(list)
    tickets: dict[tuple[str, str], list[Mention]] = defaultdict(list)
    usage: dict[tuple[str, str], list[UsageEvent]] = defaultdict(list)
    for m in evidence.mentions:
        if m.label == "signal":
            (calls if m.source == "call" else tickets)[(m.account_id, m.sku)].append(m)
    for m in evidence.ticket_hits:
        tickets[(m.account_id, m.sku)].append(m)
    for sku, event in evidence.usage_hits:
        usage[(event.account_id, sku)].append(event)

    signals = []
    for key in sorted(calls.keys() | tickets.keys() | usage.keys()):
        account_id, sku = key
        has_call, has_usage, has_ticket = bool(calls[key]), bool(usage[key]), bool(tickets[key])
        signal = Signal(account_id=account_id, sku=sku, strength="weak",
                        call_evidence=calls[key], ticket_evidence=tickets[key],
                        usage_evidence=usage[key])
        if has_call and has_usage:
            if account_id in departed:
                signal.reason, signal.tags = CHAMPION_TAG, [CHAMPION_TAG]
            else:
                signal.strength = "strong"
        elif has_call:
            signal.reason = "call-and-ticket" if has_ticket else "call-only"
        elif has_usage:
            signal.reason = "usage-and-ticket" if has_ticket else "usage-only"
        else:
            signal.reason = "ticket-only"
        signals.append(signal)
    return signals
