"""segmentation.md (the seed's delivery, from the team's Jinja2 template) and
segmentation.json (contract §9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from esd.format import usd, utc_z
from esd.references.schema import SegmentationConfig
from esd.render.digest import environment, md_text
from esd.segment.model import SegmentationResult
from esd.segment.plays import RULE, at_risk_bands

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


def cell(value: object) -> str:
    """Text from a source as one Markdown table cell."""
    return (md_text(str(value)) or "").replace("|", "\\|")


def staffing_line(result: SegmentationResult) -> str:
    """The staffing answer in one sentence (report, page and terminal)."""
    gap = result.csms_gap
    extra = result.csms_needed - result.csms_needed_by_accounts
    why = (f"{result.csms_needed_by_accounts} by accounts per CSM alone, {extra} more for "
           "ARR per CSM" if extra else "accounts per CSM and ARR per CSM")
    short = f"{gap} short" if gap > 0 else f"{-gap} spare" if gap < 0 else "none short"
    return (f"At the seed's ratios this book needs {result.csms_needed} "
            f"CSM{'' if result.csms_needed == 1 else 's'} ({why}); you have {result.csms}: "
            f"{short}.")


def nrr_line(result: SegmentationResult) -> str:
    """What the target NRR asks of the book, against the plays that answer it."""
    expand = sum(t.expand for t in result.tiers)
    risky = sum(t.at_risk for t in result.tiers)
    source = {"--target-nrr": "from --target-nrr", "4-segmentation.md":
              "from 4-segmentation.md"}.get(result.target_nrr_source, "esd's default")
    head = (f"Target NRR {result.target_nrr:g}% ({source}; {result.stance} plays): ")
    need = (f"the book must add {usd(result.expansion_needed)} ARR, net, in a year"
            if result.expansion_needed else "the book must keep its ARR")
    uplift = (f": they would have to grow {result.expansion_needed / result.expand_arr * 100:.0f}%"
              " to carry it alone" if result.expansion_needed and result.expand_arr else "")
    return (f"{head}{need}. {expand} account{'' if expand == 1 else 's'} with a proactive "
            f"expansion play hold {usd(result.expand_arr)}{uplift}; {risky} at risk hold "
            f"{usd(result.at_risk_arr)}, to save first.")


def state_line(result: SegmentationResult) -> str:
    """Where the quarterly snapshots were kept, or why none were."""
    if result.state == "off":
        return "off (--no-state): none read or recorded, so no movers."
    if result.state == "absent":
        return (f"none kept: there is no state store at {result.state_label}, and esd "
                "segment does not create one unasked. Pass --state PATH to start keeping "
                "them (movers compare quarters).")
    return (f"read from and recorded in {result.state_label} ({result.snapshots} earlier "
            f"quarter{'' if result.snapshots == 1 else 's'}).")


def render_markdown(result: SegmentationResult, config: SegmentationConfig,
                    template_dir: Path) -> str:
    env = environment(template_dir)
    env.filters.update(usd=usd, span=span, cell=cell)
    by_tier: dict[int, dict[str, int]] = {}
    for a in result.accounts:
        bands = by_tier.setdefault(a.tier, {})
        bands[a.health_band] = bands.get(a.health_band, 0) + 1
    potential: dict[int, dict[str, int]] = {}
    for a in result.accounts:
        counts = potential.setdefault(a.tier, {"HIGH": 0, "MEDIUM": 0, "LOW": 0})
        counts[a.expansion_potential] += 1
    listed: dict[int, list] = {t.tier: [] for t in result.tiers}
    for a in result.accounts:  # already in each tier's list order
        listed.setdefault(a.tier, []).append(a)
    return env.get_template(TEMPLATE).render(
        r=result, config=config, bands_by_tier=by_tier, potential_by_tier=potential,
        band_names=[b.name for b in config.bands] + ["unknown"],
        specs={t.tier: t for t in config.tiers},
        weights={w.key: w for w in config.weights},
        listed=listed, owners={b.owner_email: b.name or b.owner_email for b in result.books},
        staffing=staffing_line(result), nrr=nrr_line(result), snapshots=state_line(result),
        risk_names=[b.name for b in config.bands if b.name in at_risk_bands(config.bands)],
        play_rule=RULE,
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
