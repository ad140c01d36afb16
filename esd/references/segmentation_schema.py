"""The segmentation model of 4-segmentation.md as models (contract §9). The seed's
default values live in `segmentation_defaults`; the parser is `segmentation`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

HealthKey = Literal["usage", "adoption", "support", "relationship", "nps"]


class TierSpec(BaseModel):
    """One tier: its target shares, an optional fixed cut point, and its CS motion."""

    tier: int  # 1 (Strategic) .. 4 (Long Tail)
    name: str
    share_accounts: tuple[float, float]  # target range, percent of accounts
    share_arr: tuple[float, float]  # target range, percent of ARR
    arr_from: float | None = None  # fixed lower ARR bound (inclusive); None = calibrated
    csm_ratio: tuple[int, int] | None = None  # accounts per CSM (min, max); None = no CSM
    arr_per_csm: tuple[float | None, float | None] = (None, None)  # USD target (min, max)
    motion: str = ""  # e.g. "High-Touch": the recommended motion's short label
    current_motion: str | None = None  # what the tier gets today (step 0), if stated
    details: dict[str, str] = Field(default_factory=dict)  # Motion, Cadence, Channels, ...
    line: int = 0


class HealthWeight(BaseModel):
    key: HealthKey
    label: str
    weight: float  # points out of 100; the five sum to 100
    line: int = 0


class HealthBand(BaseModel):
    name: str  # Healthy, Stable, At Risk, Critical
    min_score: float  # inclusive lower bound, 0-100
    color: str  # Green, Yellow, Orange, Red
    line: int = 0


class SegmentationConfig(BaseModel):
    """Tiers, health framework, expansion-potential and movement rules. Every default is
    the seed's (002); `path` is None when no 4-segmentation.md was found."""

    path: Path | None = None
    tiers: list[TierSpec]
    weights: list[HealthWeight]
    bands: list[HealthBand]  # highest min_score first
    usage_full_at: float = 0.5  # DAU/MAU earning the whole usage component
    escalation_cost: float = 0.25  # share of the support component each open escalation costs
    seat_utilisation: float = 80.0  # percent; above it, expansion-ready
    feature_requests: int = 3  # ticket requests for taxonomy SKUs that count as a factor
    multi_team_skus: list[str] = Field(default_factory=lambda: ["additional-team-seats"])
    api_event_types: list[str] = Field(default_factory=lambda: ["api_call_spike"])
    potential_high: int = 2  # factors for HIGH
    potential_medium: int = 1  # factors for MEDIUM
    promote_high_quarters: int = 2  # HIGH potential this many consecutive quarters: promote
    demote_quiet_quarters: int = 4  # no signal this many quarters: Tier 1 -> 2 (review)
    mixed_book_share: float = 25.0  # percent of a book in Tiers 3-4 beside Tier 1 = mixed
    # Step 0, the team's inputs: the target net revenue retention (percent), which sets
    # how far proactive expansion plays reach (esd.segment.plays), and the current
    # motion of every tier that states none of its own ("all high-touch"), if stated.
    target_nrr: float = 110.0
    current_motion: str | None = None
    last_edited: date | None = None
    # Line in 4-segmentation.md of each scalar setting above (e.g. "multi_team_skus"),
    # for `esd check`; empty for the defaults.
    lines: dict[str, int] = Field(default_factory=dict)


