"""The HTML tables and cards of segmentation.html (contract §9), beside the charts of
`segmentation_svg`: tiers, CS motion (current against recommended), staffing, movers.
Every text from the data or the team's settings is escaped."""

from __future__ import annotations

from esd.format import usd
from esd.references.schema import SegmentationConfig
from esd.render.segmentation_svg import esc, pct
from esd.segment.model import SegmentationResult, TierAllocation


def money_span(low: float | None, high: float | None) -> str:
    return ("" if low is None and high is None else f"under {usd(high)}" if low is None
            else f"over {usd(low)}" if high is None else f"{usd(low)}-{usd(high)}")


def tier_table(result: SegmentationResult) -> str:
    def share(value: float, target: tuple[float, float]) -> str:
        off = not target[0] <= value <= target[1]
        mark = ' class="n off" title="outside the target range"' if off else ' class="n"'
        return (f'<td{mark}>{pct(value)}{" ⚠" if off else ""}</td>'
                f'<td class="n target">{target[0]:g}-{target[1]:g}%</td>')

    rows = []
    for t in sorted(result.tiers, key=lambda t: t.tier):
        rng = (f"≥ {usd(t.arr_min)}" if t.arr_max is None else
               f"&lt; {usd(t.arr_max)}" if t.arr_min is None else
               f"{usd(t.arr_min)}-{usd(t.arr_max)}")
        rows.append(f'<tr><td>{t.tier} {esc(t.name)}</td><td>{rng}'
                    f'{" (fixed)" if t.fixed else ""}</td><td class="n">{t.accounts}</td>'
                    f'<td class="n">{usd(t.arr)}</td>{share(t.share_accounts, t.target_accounts)}'
                    f'{share(t.share_arr, t.target_arr)}</tr>')
    return ('<table id="tiers"><thead><tr><th>Tier</th><th>ARR range</th><th>Accounts</th>'
            '<th>ARR</th><th>% of accounts</th><th>target</th><th>% of ARR</th>'
            '<th>target</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def health_note(result: SegmentationResult, config: SegmentationConfig) -> str:
    labels = {w.key: w.label for w in config.weights}
    missing = [f"{esc(labels.get(k, k))}: {n}" for k, n in result.missing_components.items()
               if n]
    text = ("Accounts missing a component: " + "; ".join(missing) + ". A missing component "
            "is left out and the others re-weighted; with all five missing the band is "
            "<em>unknown</em>." if missing else "No account is missing a health component.")
    return f'<p class="note">Health inputs: {esc(result.health_source)}. {text}</p>'


FIT_FLAGS = {"as recommended": "ok", "heavier than recommended": "above",
             "lighter than recommended": "below"}


def motion_cards(result: SegmentationResult, config: SegmentationConfig) -> str:
    """One card per tier: the team's current motion against the recommended one, the
    expansion plays at the target NRR, then the seed's playbook."""
    cuts = {t.tier: t for t in result.tiers}
    cards = []
    for t in sorted(config.tiers, key=lambda t: t.tier):
        cut = cuts.get(t.tier)
        ratio = (f"1 CSM : {t.csm_ratio[0]}-{t.csm_ratio[1]} accounts" if t.csm_ratio
                 else "0 (community + product-led)")
        current = ""
        if cut is not None:
            fit = (f' <span class="flag {FIT_FLAGS[cut.motion_fit]}">{cut.motion_fit}</span>'
                   if cut.motion_fit else "")
            now = (esc(cut.current_motion) + fit if cut.current_motion else
                   '<span class="muted">not stated in 4-segmentation.md</span>')
            plays = (f"proactive from {cut.expand_from} potential: {cut.expand} of "
                     f"{cut.accounts} accounts")
            current = (f'<p class="current"><strong>Today:</strong> {now}</p><p class="plays">'
                       f"<strong>Expansion plays</strong> (target NRR {result.target_nrr:g}%, "
                       f"{esc(result.stance)}): {plays}</p>")
        items = [("CSM ratio", ratio)]
        if t.arr_per_csm != (None, None):
            items.append(("ARR per CSM", money_span(*t.arr_per_csm)))
        items += list(t.details.items())
        body = "".join(f"<dt>{esc(k)}:</dt> <dd>{esc(v)}</dd>" for k, v in items)
        cards.append(f'<div class="card" data-tier="{t.tier}"><h3>Tier {t.tier} — '
                     f'{esc(t.name)}{f" ({esc(t.motion)})" if t.motion else ""}</h3>'
                     f"{current}<dl>{body}</dl></div>")
    return '<div class="cards">' + "".join(cards) + "</div>"


def _gap(a: TierAllocation) -> str:
    if a.gap is None:
        return "—"
    return (f'<span class="off">{a.gap} short</span>' if a.gap > 0 else
            f"{-a.gap} spare" if a.gap < 0 else "0")


def allocation_table(result: SegmentationResult) -> str:
    """Per tier: the CSMs allocated, what the tier needs at both ratios, the gap, the
    loads against the ratios and the coverage verdict (which counts ARR per CSM too)."""
    rows, notes = [], []
    for a in result.allocation:
        per = ("—" if not a.ratio else f"{a.accounts_per_csm:g} ({a.ratio[0]}-{a.ratio[1]})"
               if a.accounts_per_csm is not None else f"— ({a.ratio[0]}-{a.ratio[1]})")
        target = money_span(*a.arr_target)
        arr = ("—" if a.arr_per_csm is None else
               usd(a.arr_per_csm) + (f" ({target})" if target else ""))
        status = (f' <span class="flag {a.arr_status.split()[0]}">{a.arr_status}</span>'
                  if a.arr_status and a.arr_status != "ok" else "")
        why = (f' <span class="why">({"ARR" if a.binding == "arr" else "accounts"} per CSM)'
               "</span>" if a.coverage == "under-covered" else "")
        rows.append(f'<tr data-tier="{a.tier}"><td>{a.tier} {esc(a.name)}</td>'
                    f'<td class="n">{a.accounts}</td><td class="n">{usd(a.arr)}</td>'
                    f'<td class="n">{a.csms if a.ratio else "automated"}</td>'
                    f'<td class="n needed">{"—" if a.needed is None else a.needed}</td>'
                    f'<td class="n gap">{_gap(a)}</td><td>{per}</td><td>{arr}{status}</td>'
                    f'<td><span class="flag {a.coverage}">{a.coverage}</span>{why}</td></tr>')
        if not a.arr_reachable and a.accounts:
            notes.append(f"Tier {a.tier} {esc(a.name)}: its accounts average "
                         f"{usd(a.arr / a.accounts)} ARR, above the {usd(a.arr_target[1])} "
                         "one CSM should carry, so ARR per CSM stays above target even at "
                         "one CSM per account. Raise the target in 4-segmentation.md, or "
                         "staff one CSM per account.")
    table = ('<table id="allocation"><thead><tr><th>Tier</th><th>Accounts</th><th>ARR</th>'
             '<th>CSMs</th><th>Needs</th><th>Gap</th><th>Accounts per CSM (ratio)</th>'
             '<th>ARR per CSM (target)</th><th>Coverage</th></tr></thead><tbody>'
             + "".join(rows) + "</tbody></table>")
    rule = ('<p class="note">Needs: the fewest CSMs that keep the tier within both of its '
            "ratios, accounts per CSM and ARR per CSM, never more than one CSM per account "
            "(a CSM holds whole accounts). Gap: needs minus the CSMs allocated here.</p>")
    return table + rule + "".join(f'<p class="note warn">{n}</p>' for n in notes)


def movers_section(result: SegmentationResult) -> str:
    if result.state == "off":
        return ('<p id="movers">No movers: quarterly snapshots are off (--no-state), so no '
                "quarter was compared.</p>")
    if result.state == "absent":
        return (f'<p id="movers">No movers: there is no state store at '
                f"{esc(result.state_label)}, so no quarter was compared (esd segment does "
                "not create one unasked; pass --state PATH to start keeping quarterly "
                "snapshots).</p>")
    if not result.movers:
        earlier = (f"compared with {result.snapshots} earlier quarterly snapshot"
                   f"{'s' if result.snapshots != 1 else ''}" if result.snapshots else
                   "this is the first quarterly snapshot, so the rules that compare "
                   "quarters start from here")
        return f'<p id="movers">No movers this quarter: {earlier}.</p>'
    rows = "".join(f'<tr><td>{esc(m.name)}</td><td>{m.direction} Tier {m.from_tier} → '
                   f'{m.to_tier}</td><td>{esc(m.rule)}</td><td>{esc(m.detail)}</td></tr>'
                   for m in result.movers)
    return ('<table id="movers"><thead><tr><th>Account</th><th>Move</th><th>Rule</th>'
            f'<th>Why</th></tr></thead><tbody>{rows}</tbody></table>')
