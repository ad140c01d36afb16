"""Seed step 3: expansion potential HIGH / MEDIUM / LOW, separate from health.

The factors, each met or not (thresholds in 4-segmentation.md):

- seat utilisation above `seat_utilisation` % (health.json seats_used / seats_licensed);
- `feature_requests` or more support tickets that ask for a SKU of the taxonomy (a
  ticket that is evidence for any signal in the window);
- multi-team: a signal on one of `multi_team_skus` (more teams want seats);
- an API usage spike: a counted anomaly (above its segment band) of `api_event_types`;
- esd's own weekly signals: a strong signal this window.

HIGH with `potential_high` factors or more, MEDIUM with `potential_medium`, else LOW.
The seed's "company growth signals" (job postings, funding) come from no source esd
reads, so they are not a factor.
"""

from __future__ import annotations

from collections.abc import Sequence

from esd.models import HealthRecord, Signal, UsageEvent
from esd.references.schema import SegmentationConfig


def factors(record: HealthRecord | None, signals: Sequence[Signal],
            counted_usage: Sequence[UsageEvent], config: SegmentationConfig) -> list[str]:
    """The factors one account meets, in words."""
    met = []
    if record and record.seats_used is not None and record.seats_licensed:
        used = record.seats_used / record.seats_licensed * 100
        if used > config.seat_utilisation:
            met.append(f"seat utilisation {used:.0f}%")
    tickets = {m.source_id for s in signals for m in s.ticket_evidence}
    if len(tickets) >= config.feature_requests:
        met.append(f"{len(tickets)} ticket requests for upsell SKUs")
    teams = sorted({s.sku for s in signals if s.sku in config.multi_team_skus})
    if teams:
        met.append("multi-team: " + ", ".join(teams))
    spikes = sorted({e.event_type for e in counted_usage if e.event_type in
                     config.api_event_types})
    if spikes:
        met.append("API usage spike: " + ", ".join(spikes))
    strong = sorted({s.sku for s in signals if s.strength == "strong"})
    if strong:
        met.append("strong signal this week: " + ", ".join(strong))
    return met


def level(met: Sequence[str], config: SegmentationConfig) -> str:
    if len(met) >= config.potential_high:
        return "HIGH"
    if len(met) >= config.potential_medium:
        return "MEDIUM"
    return "LOW"
