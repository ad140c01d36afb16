"""The reference files as models (contract §4). Parsers fill these; the pipeline reads them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from esd.references.segmentation_defaults import default_config
from esd.references.segmentation_schema import (  # re-exported: the reference models
    HealthBand,
    HealthWeight,
    SegmentationConfig,
    TierSpec,
)

__all__ = ["HealthBand", "HealthWeight", "SegmentationConfig", "TierSpec"]


class Problem(BaseModel):
    """One thing wrong in a reference file, reported as `file:line: message`."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        # Line 0 means "the file as a whole" (missing, or found by a query or a look-up
        # rather than on a line): `file: message`, as compilers print it.
        return f"{self.file}:{self.line}: {self.message}" if self.line else \
            f"{self.file}: {self.message}"


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
    # The team's lists (contract §4); None where the file has none: esd's defaults apply
    # (`esd.references.phrases.effective`).
    not_conditional: list[Phrase] | None = None
    negation_before: list[Phrase] | None = None
    negation_after: list[Phrase] | None = None
    last_edited: date | None = None
    last_commit: datetime | None = None
    # What `esd check` reports but a run goes past (an unknown heading, a Last edited
    # that is not a date): the file still parses (contract §4).
    findings: list[Problem] = Field(default_factory=list)

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


class References(BaseModel):
    directory: Path
    taxonomy: Taxonomy
    baselines: Baselines
    actions: ActionLibrary
    # 4-segmentation.md when present, else the seed's defaults (path None).
    segmentation: SegmentationConfig = Field(default_factory=default_config)
    # Problems of a 4-segmentation.md the weekly digest fell back from (load_references).
    segmentation_problems: list[str] = Field(default_factory=list)


# --- 4-segmentation.md (seed 002, contract §9): optional; without it the seed's defaults --

