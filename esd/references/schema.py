"""The reference files as models (contract §4). Parsers fill these; the pipeline reads them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """One thing wrong in a reference file, reported as `file:line: message`."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class PhrasePart(BaseModel):
    kind: Literal["lit", "slot", "choice"]
    text: str = ""  # lit: folded literal text; slot: the placeholder name
    choices: list[str] = Field(default_factory=list)  # choice: folded alternatives


class Phrase(BaseModel):
    """A quoted phrase of the taxonomy, split into literal text, `{slots}` and `{a, b}` choices."""

    text: str  # as written in the file
    line: int
    parts: list[PhrasePart]


class UsageTrigger(BaseModel):
    event_type: str
    features: list[str] = Field(default_factory=list)  # lower case; empty = any feature
    line: int

    def matches(self, event_type: str, feature: str | None) -> bool:
        if event_type != self.event_type:
            return False
        return not self.features or (feature or "").lower() in self.features


class Sku(BaseModel):
    id: str
    line: int
    call_triggers: list[Phrase] = Field(default_factory=list)
    usage_triggers: list[UsageTrigger] = Field(default_factory=list)
    ticket_tags: list[str] = Field(default_factory=list)  # lower case
    ticket_subjects: list[str] = Field(default_factory=list)  # lower case substrings
    negatives: list[Phrase] = Field(default_factory=list)


class Taxonomy(BaseModel):
    path: Path
    sha256: str
    skus: list[Sku]
    conditional_patterns: list[Phrase] = Field(default_factory=list)
    last_edited: date | None = None
    last_commit: datetime | None = None

    @property
    def short_hash(self) -> str:
        return self.sha256[:7]

    def sku(self, sku_id: str) -> Sku | None:
        return next((s for s in self.skus if s.id == sku_id), None)


class BaselineRow(BaseModel):
    metric: str
    median: float
    band: float
    line: int

    @property
    def upper(self) -> float:
        return self.median + self.band


class Segment(BaseModel):
    name: str
    line: int
    rows: dict[str, BaselineRow]


class Baselines(BaseModel):
    path: Path
    segments: dict[str, Segment]  # keyed by lower-case segment name

    def row(self, segment: str, metric: str) -> BaselineRow | None:
        seg = self.segments.get(segment.lower())
        return seg.rows.get(metric) if seg else None


class ActionRow(BaseModel):
    trigger_pattern: str
    action: str
    line: int


class ActionSection(BaseModel):
    sku: str
    line: int
    rows: list[ActionRow]


# The seed's denylist, used when the action library has no denylist section.
DEFAULT_DENYLIST = ["follow up", "reach out", "touch base", "align", "socialize", "engage"]


class ActionLibrary(BaseModel):
    path: Path
    sections: dict[str, ActionSection]
    denylist: list[str] = Field(default_factory=lambda: list(DEFAULT_DENYLIST))


def _default_segmentation() -> SegmentationConfig:
    # Imported here: esd.segment.defaults imports this module.
    from esd.segment.defaults import default_config

    return default_config()


class References(BaseModel):
    directory: Path
    taxonomy: Taxonomy
    baselines: Baselines
    actions: ActionLibrary
    # 4-segmentation.md when present, else the seed's defaults (path None).
    segmentation: SegmentationConfig = Field(default_factory=_default_segmentation)
    # Problems of a 4-segmentation.md the weekly digest fell back from (load_references).
    segmentation_problems: list[str] = Field(default_factory=list)


# --- 4-segmentation.md (seed 002, contract §9): optional; without it the seed's defaults --

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
    motion: str = ""  # e.g. "High-Touch"
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
    last_edited: date | None = None
    # Line in 4-segmentation.md of each scalar setting above (e.g. "multi_team_skus"),
    # for `esd check`; empty for the defaults.
    lines: dict[str, int] = Field(default_factory=dict)


References.model_rebuild()  # SegmentationConfig is defined after it
