"""segmentation.md (the seed's delivery, from the team's Jinja2 template) and
segmentation.json (contract §9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from esd.format import usd, utc_z
from esd.references.schema import SegmentationConfig
from esd.render.digest import environment
from esd.segment.model import SegmentationResult

TEMPLATE = "segmentation.md.j2"


def span(low: float | None, high: float | None, unit: str = "%") -> str:
    if unit == "$":
        if low is None and high is None:
            return "—"
        if low is None:
            return f"under {usd(high)}"
        if high is None:
            return f"over {usd(low)}"
        return f"{usd(low)}-{usd(high)}"
    return f"{low:g}-{high:g}%"


def render_markdown(result: SegmentationResult, config: SegmentationConfig,
                    template_dir: Path) -> str:
    env = environment(template_dir)
    env.filters.update(usd=usd, span=span)
    by_tier: dict[int, dict[str, int]] = {}
    for a in result.accounts:
        bands = by_tier.setdefault(a.tier, {})
        bands[a.health_band] = bands.get(a.health_band, 0) + 1
    potential: dict[int, dict[str, int]] = {}
    for a in result.accounts:
        counts = potential.setdefault(a.tier, {"HIGH": 0, "MEDIUM": 0, "LOW": 0})
        counts[a.expansion_potential] += 1
    return env.get_template(TEMPLATE).render(
        r=result, config=config, bands_by_tier=by_tier, potential_by_tier=potential,
        band_names=[b.name for b in config.bands] + ["unknown"],
        specs={t.tier: t for t in config.tiers},
        weights={w.key: w for w in config.weights},
    )


def to_json(result: SegmentationResult) -> dict[str, Any]:
    """The contract's keys first (never renamed), then what else the model holds."""
    data = result.model_dump(mode="json")
    data["as_of"] = utc_z(result.as_of)
    ordered = {key: data.pop(key) for key in ("as_of", "tiers", "accounts", "allocation",
                                              "movers")}
    return {**ordered, **data}


def dumps(result: SegmentationResult) -> str:
    return json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n"
