"""Step 3 of the seed's method (contract §5.3): evidence from calls, tickets and usage.

Text extraction (calls and ticket text) goes through an `Extractor` of
`esd.extractors`, the rule-based one by default. Usage events and ticket tags/subjects
are structured data and map to SKUs here, the same way whatever extractor runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from esd.extractors.base import Extractor, Progress
from esd.extractors.transcript import ticket_id
from esd.models import Call, Mention, Ticket, UsageEvent
from esd.references.schema import Taxonomy


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
