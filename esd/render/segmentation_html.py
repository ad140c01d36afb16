"""segmentation.html (contract §9): the seed's delivery (002) as one self-contained page.

Inline CSS, inline SVG and static HTML, no script, nothing loaded from elsewhere. From the
top: the headline (staffing, target NRR, whom to act on first), the tiers with the ARR
Pareto curve, health bands per tier, each tier's accounts in a `<details>`, the CS motion
per tier against the team's current one, staffing and CSM load, and the movers.

    segmentation_svg.py       the three charts
    segmentation_sections.py  tiers, motion, staffing and movers tables
    segmentation_accounts.py  the headline and the account lists
"""

from __future__ import annotations

from esd.format import usd
from esd.references.schema import SegmentationConfig
from esd.render.segmentation_accounts import account_lists, headline
from esd.render.segmentation_sections import (
    allocation_table,
    health_note,
    motion_cards,
    movers_section,
    tier_table,
)
from esd.render.segmentation_svg import esc, health_svg, load_svg, pareto_svg
from esd.segment.model import SegmentationResult
from esd.segment.plays import RULE

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1f2328;margin:0;background:#fff}
main{max-width:1280px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 10px;
 border-bottom:1px solid #d0d7de;padding-bottom:4px}
.meta{color:#57606a;margin:0}.note{color:#57606a;font-size:13px}
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
svg{max-width:100%;height:auto;font-family:inherit}svg text{font-size:12px;fill:#1f2328}
.book-load,.cut-share,.cut-label{paint-order:stroke;stroke:#fff;stroke-width:3px}
table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid #d8dee4;padding:4px 7px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.target{color:#57606a}#tiers{margin-top:40px}
.off{color:#b3261e;font-weight:600}.flag{padding:1px 6px;border-radius:8px;font-size:12px}
.flag{white-space:nowrap}.flag.ok,.flag.automated{background:#e3f1df}
.flag.under-covered,.flag.above,.flag.below,.flag.over-covered{background:#fde2dd}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:12px}
.card{border:1px solid #d0d7de;border-radius:6px;padding:10px 12px;font-size:13px}
.card h3{font-size:15px;margin:0 0 6px}.card dl{margin:0}
.card dt{font-weight:600;display:inline}.card dd{display:inline;margin:0}
.card dd::after{content:"";display:block;margin-bottom:3px}
.legend{margin-top:4px}.legend span{display:inline-block;margin-right:14px;font-size:13px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
.headline{margin-top:14px;grid-template-columns:repeat(auto-fit,minmax(270px,1fr))}
.headline .big{font-size:19px;font-weight:600;margin:2px 0 4px}
.headline p{margin:0 0 4px}.muted,.why{color:#57606a}.warn{color:#8a4b00}
.card .current,.card .plays{margin:0 0 6px}
details.tier-accounts{border:1px solid #d0d7de;border-radius:6px;margin:8px 0;padding:6px 10px}
details.tier-accounts summary{cursor:pointer}details.tier-accounts table{margin-top:8px}
.band{padding:1px 6px;border-radius:8px;font-size:12px;white-space:nowrap}
.play{padding:1px 6px;border-radius:8px;font-size:12px}.play.save{background:#fde2dd}
.play.expand{background:#e3f1df}.play.standard{background:#f2f2f2}
"""


def render_html(result: SegmentationResult, config: SegmentationConfig) -> str:
    """The whole page, as one string."""
    source = result.config_path or (str(config.path) if config.path else None)
    total = sum(a.arr for a in result.accounts)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer segmentation {result.as_of:%Y-%m-%d}</title><style>{CSS}</style></head>
<body><main>
<h1>Customer segmentation — {esc(result.quarter)}</h1>
<p class="meta">As of {result.as_of:%Y-%m-%d} · {len(result.accounts)} accounts ·
{usd(total)} ARR · {result.csms} CSMs · settings: {esc(source or "seed defaults")}</p>
{headline(result)}
<h2>1. Tiers: ARR Pareto curve and cut points</h2>
<div class="row">{pareto_svg(result)}<div>{tier_table(result)}
<p class="note">⚠ a share outside its target range: the ARR distribution allows no closer
cut.</p></div></div>
<h2>2. Health bands per tier</h2>
{health_svg(result, config)}
{health_note(result, config)}
<h2 id="accounts">3. Accounts per tier</h2>
<p class="note">In the order to act on them: <strong>save</strong> (at risk) first,
then <strong>expand</strong> (a proactive expansion play at the target NRR), then the
rest, the largest ARR first within each. Open a tier to see its list.</p>
{account_lists(result, config)}
<h2>4. CS motion per tier</h2>
<p class="note">{esc(RULE)}</p>
{motion_cards(result, config)}
<h2>5. Staffing and CSM load</h2>
{allocation_table(result)}
<p class="note">Each CSM's book in CSM-equivalents at the middle of each tier's ratio
(1.0 = one full-time CSM); a mixed book holds Tier 1 next to many Tier 3-4 accounts.</p>
{load_svg(result)}
<p class="legend"><span><i style="background:#3f6fb5"></i>within capacity</span>
<span><i style="background:#c2410c"></i>over capacity (load above 1.0)</span>
<span><i style="border:2px solid #1f2328"></i>⚠ mixed tiers</span></p>
<h2>6. Promotion and demotion</h2>
{movers_section(result)}
</main></body></html>
"""
