"""What `esd segment` computes (contract §9): the records of segmentation.json, and what
the Markdown and HTML reports are drawn from."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, computed_field

Potential = Literal["HIGH", "MEDIUM", "LOW"]


class TierCut(BaseModel):
    """One tier's ARR range and what it holds, next to the seed's targets."""

    tier: int
    name: str
    arr_min: float | None  # inclusive; None for the lowest tier
    arr_max: float | None  # exclusive; None for Tier 1
    accounts: int
    arr: float
    share_accounts: float  # percent
    share_arr: float  # percent
    target_accounts: tuple[float, float]
    target_arr: tuple[float, float]
    fixed: bool = False  # the cut point came from 4-segmentation.md, not calibration


class AccountSegment(BaseModel):
    account_id: str
    name: str
    arr: float
    tier: int
    tier_name: str
    health_score: float | None  # 0-100; None when every component is missing
    health_band: str  # a band name, or "unknown"
    health_components: dict[str, float | None]  # key -> points earned (None: missing)
    expansion_potential: Potential
    potential_factors: list[str]  # which factors were met, in words
    motion: str
    owner_email: str
    segment: str
    renewal_date: str | None = None
    signals: int = 0  # esd's signals (strong + weak) this window
    strong: int = 0


class TierAllocation(BaseModel):
    """Seed step 5: CSMs assigned to a tier and the resulting load against targets."""

    tier: int
    name: str
    accounts: int
    arr: float
    csms: int
    accounts_per_csm: float | None
    arr_per_csm: float | None
    ratio: tuple[int, int] | None  # the target accounts per CSM
    arr_target: tuple[float | None, float | None]
    coverage: Literal["ok", "under-covered", "over-covered", "automated"]
    arr_status: Literal["ok", "above target", "below target"] | None = None


class CsmBook(BaseModel):
    """One CSM's actual book (owner_email in accounts.json)."""

    owner_email: str
    name: str | None
    accounts_by_tier: dict[int, int]
    arr: float
    load: float  # CSM-equivalents of work at the middle of each tier's ratio
    mixed: bool  # holds Tier 1 next to too many Tier 3-4 accounts
    note: str | None = None


class Mover(BaseModel):
    account_id: str
    name: str
    from_tier: int
    to_tier: int
    direction: Literal["promote", "demote"]
    rule: Literal["arr-crossed", "high-potential", "no-signals"]
    detail: str


class SegmentationResult(BaseModel):
    as_of: datetime
    quarter: str  # e.g. 2026-Q4
    config_path: str | None  # the 4-segmentation.md used, or None for the seed's defaults
    tiers: list[TierCut]
    accounts: list[AccountSegment]  # every account exactly once, by tier then ARR desc
    allocation: list[TierAllocation]
    books: list[CsmBook]
    csms: int  # headcount allocated (--csms, default the owners in the data)
    movers: list[Mover] = Field(default_factory=list)
    snapshots: int = 0  # earlier quarters found in the state database
    health_source: str = "none"  # "health.json", "gainsight" or "none"
    missing_components: dict[str, int] = Field(default_factory=dict)  # key -> accounts

    @computed_field
    @property
    def potential_counts(self) -> dict[str, int]:
        return {p: sum(1 for a in self.accounts if a.expansion_potential == p)
                for p in ("HIGH", "MEDIUM", "LOW")}
