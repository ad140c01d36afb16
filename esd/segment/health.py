"""Seed step 2: a 0-100 health score from five weighted components, and its band.

Each component is a fraction (0-1) of its weight, from `health.json` (contract §9):

- usage: DAU/MAU, full marks at `usage_full_at` (0.5 by default: half the monthly users
  active on a given day is excellent for a B2B tool);
- adoption: `feature_adoption` as it is;
- support: CSAT out of 5, less `escalation_cost` of the component per open escalation;
- relationship: the share of `exec_access` and `champion_active` that hold; a champion
  departure (stakeholder_changes) makes the champion inactive, whatever health.json says
  (for an account with a health record: one departure is no health score);
- nps: -100..100 mapped onto 0..1.

A component with no input is left out and the others are re-weighted to 100; with all
five missing the score is None and the band `unknown`.
"""

from __future__ import annotations

from esd.models import HealthRecord
from esd.references.schema import SegmentationConfig

UNKNOWN = "unknown"


def fractions(record: HealthRecord | None, config: SegmentationConfig,
              champion_departed: bool = False) -> dict[str, float | None]:
    """Each component's fraction of its weight, None when it has no input."""
    r = record or HealthRecord(account_id="-")
    support = None
    if r.csat is not None or r.open_escalations is not None:
        base = r.csat / 5 if r.csat is not None else 1.0
        support = max(0.0, base - (r.open_escalations or 0) * config.escalation_cost)
    champion = False if champion_departed else r.champion_active
    relationship = [v for v in (r.exec_access, champion) if v is not None]
    return {
        "usage": (None if r.dau_mau is None
                  else min(1.0, r.dau_mau / config.usage_full_at) if config.usage_full_at
                  else 1.0),
        "adoption": r.feature_adoption,
        "support": support,
        "relationship": (sum(relationship) / len(relationship)) if relationship else None,
        "nps": None if r.nps is None else (r.nps + 100) / 200,
    }


def score(record: HealthRecord | None, config: SegmentationConfig,
          champion_departed: bool = False) -> tuple[float | None, str, dict[str, float | None]]:
    """(score 0-100 or None, band name, points earned per component or None). With no
    health record at all the score is unknown: a champion departure alone is no score."""
    parts = fractions(record, config, champion_departed and record is not None)
    weights = {w.key: w.weight for w in config.weights}
    present = {k: f for k, f in parts.items() if f is not None}
    points = {k: (None if f is None else round(f * weights[k], 2)) for k, f in parts.items()}
    weight = sum(weights[k] for k in present)
    if not weight:
        return None, UNKNOWN, points
    value = round(sum(f * weights[k] for k, f in present.items()) / weight * 100, 1)
    return value, band(value, config), points


def band(value: float | None, config: SegmentationConfig) -> str:
    if value is None:
        return UNKNOWN
    for b in sorted(config.bands, key=lambda b: -b.min_score):
        if value >= b.min_score:
            return b.name
    return config.bands[-1].name if config.bands else UNKNOWN
