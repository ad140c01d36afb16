"""Step 2 of the seed's method (contract §5.2): drop usage anomalies inside their
segment's noise band."""

from __future__ import annotations

from dataclasses import dataclass, field

from esd.models import Account, UsageEvent
from esd.references.schema import Baselines


@dataclass
class BaselineResult:
    counted: list[UsageEvent] = field(default_factory=list)
    in_band: list[UsageEvent] = field(default_factory=list)  # at or under median + band, or a drop
    no_baseline: list[UsageEvent] = field(default_factory=list)  # kept: no row for segment/metric
    null_delta: list[UsageEvent] = field(default_factory=list)  # never count


def filter_usage(
    events: list[UsageEvent], accounts: dict[str, Account], baselines: Baselines
) -> BaselineResult:
    """Keep events whose `delta_pct` lies above their segment's band (median + band).

    Events with no baseline row for their segment and metric are kept (and listed, so
    the footer can show the gap); a null `delta_pct` or a drop never counts.
    """
    result = BaselineResult()
    for event in events:
        if event.delta_pct is None:
            result.null_delta.append(event)
            continue
        row = baselines.row(accounts[event.account_id].segment, event.metric_name)
        if row is None:
            if event.delta_pct > 0:
                result.counted.append(event)
                result.no_baseline.append(event)
            else:
                result.in_band.append(event)
        elif event.delta_pct > row.upper:
            result.counted.append(event)
        else:
            result.in_band.append(event)
    return result
