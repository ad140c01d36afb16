"""What `esd segment` computes (contract §9): the records of segmentation.json, and what
the Markdown and HTML reports are drawn from."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

Potential = Literal["HIGH", "MEDIUM", "LOW"]


class _Built(BaseModel):
    """Built on first use: `esd dry-run` imports the segment package for tiers and
    health bands and never makes these (issue 16: start-up)."""

    model_config = ConfigDict(defer_build=True)


class TierCut(_Built):
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
    at_risk: int = 0  # accounts in the lower half of the health bands (esd.segment.plays)
    at_risk_arr: float = 0.0
    high_potential: int = 0
    expand: int = 0  # accounts with a proactive expansion play
    expand_from: Potential = "HIGH"  # the lowest potential that earns one (target NRR)
    motion: str = ""  # the recommended motion's label
    current_motion: str | None = None  # the team's, from 4-segmentation.md (step 0)
    motion_fit: str | None = None  # "as recommended", "heavier ...", "lighter ..."


class AccountSegment(_Built):
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
    at_risk: bool = False
    play: Literal["save", "expand", "standard"] = "standard"
    mover: Literal["promote", "demote"] | None = None  # a mover this quarter
    mover_to: int | None = None  # the tier it should move to


class TierAllocation(_Built):
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
    # What the tier needs at its ratios (esd.segment.staffing); None when automated.
    needed: int | None = None
    needed_by_accounts: int | None = None
    needed_by_arr: int | None = None  # capped at one CSM per account
    binding: Literal["accounts", "arr"] | None = None  # the ratio that sets `needed`
    arr_reachable: bool = True  # False: over the ARR target even at one CSM per account

    @computed_field
    @property
    def gap(self) -> int | None:
        """CSMs short (positive) or spare (negative) against the need."""
        return None if self.needed is None else self.needed - self.csms


class CsmBook(_Built):
    """One CSM's actual book (owner_email in accounts.json)."""

    owner_email: str
    name: str | None
    accounts_by_tier: dict[int, int]
    arr: float
    load: float  # CSM-equivalents of work at the middle of each tier's ratio
    mixed: bool  # holds Tier 1 next to too many Tier 3-4 accounts
    note: str | None = None


class Mover(_Built):
    account_id: str
    name: str
    from_tier: int
    to_tier: int
    direction: Literal["promote", "demote"]
    rule: Literal["arr-crossed", "high-potential", "no-signals"]
    detail: str


class SegmentationResult(_Built):
    as_of: datetime
    quarter: str  # e.g. 2026-Q4
    config_path: str | None  # the 4-segmentation.md used, or None for the seed's defaults
    tiers: list[TierCut]
    # Every account exactly once, by tier, each tier in its list's order (plays.py).
    accounts: list[AccountSegment]
    allocation: list[TierAllocation]
    books: list[CsmBook]
    csms: int  # headcount allocated (--csms, default the owners in the data)
    movers: list[Mover] = Field(default_factory=list)
    snapshots: int = 0  # earlier quarters found in the state database
    health_source: str = "none"  # "health.json", "gainsight" or "none"
    missing_components: dict[str, int] = Field(default_factory=dict)  # key -> accounts
    # Step 0 and the staffing answer.
    target_nrr: float = 110.0  # percent
    target_nrr_source: str = "default"  # "4-segmentation.md", "--target-nrr" or "default"
    stance: str = "balanced"  # retention-led, balanced, expansion-led
    expansion_needed: float = 0.0  # net ARR to add in a year to reach the target NRR
    expand_arr: float = 0.0  # ARR of the accounts with an expand play
    at_risk_arr: float = 0.0
    csms_needed: int = 0  # at both ratios (esd.segment.staffing)
    csms_needed_by_accounts: int = 0  # at the accounts-per-CSM ratio alone
    # Quarterly snapshots: "kept" (read and recorded), "off" (--no-state) or "absent"
    # (no store at the default path, and esd segment does not create one).
    state: Literal["kept", "off", "absent"] = "kept"
    state_label: str | None = None  # the store, when kept or looked for

    @computed_field
    @property
    def csms_gap(self) -> int:
        """CSMs short (positive) or spare (negative) at the seed's ratios."""
        return self.csms_needed - self.csms

    @computed_field
    @property
    def potential_counts(self) -> dict[str, int]:
        return {p: sum(1 for a in self.accounts if a.expansion_potential == p)
                for p in ("HIGH", "MEDIUM", "LOW")}
