"""Step 3 of the seed's method (contract §5.3): evidence from calls, tickets and usage.

Text extraction (calls and ticket text) goes through an `Extractor`; the rule-based one
lives in `esd.pipeline.rules`. Usage events and ticket tags/subjects are structured
data and map to SKUs here, the same way whatever extractor runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from esd.models import Attendee, Call, Mention, Ticket, UsageEvent
from esd.references.schema import Taxonomy


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


@dataclass
class Evidence:
    mentions: list[Mention] = field(default_factory=list)  # calls and ticket text, all labels
    ticket_hits: list[Mention] = field(default_factory=list)  # ticket tag/subject triggers
    usage_hits: list[tuple[str, UsageEvent]] = field(default_factory=list)  # (sku, event)


def extract(
    calls: Sequence[Call],
    tickets: Sequence[Ticket],
    usage: Sequence[UsageEvent],
    taxonomy: Taxonomy,
    extractor: Extractor,
    progress: Progress | None = None,
) -> Evidence:
    """All evidence of the window: text mentions, ticket triggers, and usage triggers."""
    if progress:
        progress.total(len(calls) + len(tickets))
    return Evidence(
        mentions=extractor.extract(calls, tickets, progress),
        ticket_hits=ticket_trigger_hits(tickets, taxonomy),
        usage_hits=[(sku.id, event) for event in usage for sku in taxonomy.skus
                    if any(t.matches(event.event_type, event.feature)
                           for t in sku.usage_triggers)],
    )


def ticket_trigger_hits(tickets: Sequence[Ticket], taxonomy: Taxonomy) -> list[Mention]:
    """One mention per ticket and SKU whose tag or subject trigger the ticket meets."""
    hits = []
    for ticket in tickets:
        tags = {t.lower() for t in ticket.tags}
        subject = ticket.subject.lower()
        for sku in taxonomy.skus:
            tag = next((t for t in sku.ticket_tags if t in tags), None)
            sub = next((s for s in sku.ticket_subjects if s in subject), None)
            if tag or sub:
                hits.append(Mention(
                    account_id=ticket.account_id, sku=sku.id, source="ticket",
                    source_id=ticket_id(ticket), quote=ticket.subject.strip(),
                    trigger=f"tag {tag}" if tag else f"subject contains {sub}",
                    occurred_at=ticket.opened_at,
                ))
    return hits


def ticket_id(ticket: Ticket) -> str:
    """Sources always give tickets an id; the file loader numbers id-less ones."""
    return ticket.ticket_id or ""


@dataclass(frozen=True)
class Turn:
    """One utterance with its speaker resolved against the call's attendees."""

    text: str
    speaker: Attendee | None  # None: not a known attendee


def turns(call: Call) -> list[Turn]:
    """The call's utterances, from `transcript` or `transcript_text` (contract §2)."""
    by_name = {a.name.strip().lower(): a for a in call.attendees}
    if call.transcript is not None:
        return [Turn(u.text, by_name.get(u.speaker.strip().lower())) for u in call.transcript]
    if call.transcript_text:
        return _split_transcript_text(call.transcript_text, by_name)
    return []


def customer_turns(call: Call) -> list[Turn]:
    """Only what customer attendees said: coach and unknown speakers never count."""
    return [t for t in turns(call) if t.speaker is not None and t.speaker.is_customer]


def _split_transcript_text(text: str, by_name: dict[str, Attendee]) -> list[Turn]:
    # "Speaker Name: words"; a line with no known speaker prefix continues the previous one.
    if not by_name:
        return [Turn(text, None)]
    names = sorted(by_name, key=len, reverse=True)
    prefix = re.compile(r"^[ \t]*(" + "|".join(re.escape(n) for n in names) + r")[ \t]*:[ \t]?",
                        re.IGNORECASE | re.MULTILINE)
    out: list[Turn] = []
    heads = list(prefix.finditer(text))
    if not heads or heads[0].start() > 0:
        lead = text[: heads[0].start() if heads else len(text)].strip("\n")
        if lead.strip():
            out.append(Turn(lead, None))
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out.append(Turn(text[head.end():end].rstrip("\n"), by_name[head.group(1).lower()]))
    return out
