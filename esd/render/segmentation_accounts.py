"""What a leader acts on, in segmentation.html: the headline (staffing, the target NRR,
who to act on first) and one `<details>` per tier listing its accounts in the order to
act on them (esd.segment.plays). Static HTML, no script: a long tier shows its first
`MAX_LISTED` accounts and says where the rest are (segmentation.md and .json list all).
"""

from __future__ import annotations

from esd.format import usd
from esd.references.schema import SegmentationConfig
from esd.render.segmentation import state_line
from esd.render.segmentation_svg import UNKNOWN, color, esc, ink
from esd.segment.model import AccountSegment, SegmentationResult

MAX_LISTED = 25  # accounts shown per tier on the page
OPEN_TIERS = (1,)  # tiers whose list is open when the page loads
PLAY_TITLES = {"save": "at risk: work the risk first",
               "expand": "a proactive expansion play at the target NRR",
               "standard": "the tier's motion as written"}


def headline(result: SegmentationResult) -> str:
    """Three cards above the charts: the staffing answer, the expansion the target NRR
    asks for, and how many accounts to act on first."""
    r = result
    gap = r.csms_gap
    short = (f'<span class="off">{gap} short</span>' if gap > 0 else
             f"{-gap} spare" if gap < 0 else "none short")
    extra = r.csms_needed - r.csms_needed_by_accounts
    why = (f"{r.csms_needed_by_accounts} by accounts per CSM alone, {extra} more to bring "
           "ARR per CSM within target" if extra else "at accounts per CSM and ARR per CSM")
    source = {"--target-nrr": "--target-nrr", "4-segmentation.md": "4-segmentation.md"}.get(
        r.target_nrr_source, "esd's default")
    expand = sum(t.expand for t in r.tiers)
    uplift = (f": they would have to grow {r.expansion_needed / r.expand_arr * 100:.0f}% to "
              "carry it alone" if r.expansion_needed and r.expand_arr else "")
    risky = sum(t.at_risk for t in r.tiers)
    by_tier = ", ".join(f"Tier {t.tier}: {t.at_risk}" for t in r.tiers if t.at_risk)
    return (
        '<div class="cards headline">'
        f'<div class="card" id="staffing"><h3>Staffing at the seed\'s ratios</h3>'
        f'<p class="big">needs {r.csms_needed} CSMs · has {r.csms} · {short}</p>'
        f"<p>{why}. Per tier in section 5.</p></div>"
        f'<div class="card" id="expansion"><h3>Target NRR {r.target_nrr:g}% '
        f'<span class="muted">({esc(source)})</span></h3>'
        f'<p class="big">+{usd(r.expansion_needed)} ARR in a year</p>'
        f"<p>{esc(r.stance).capitalize()} plays: the {expand} accounts with a proactive "
        f"expansion play hold {usd(r.expand_arr)}{uplift}.</p></div>"
        f'<div class="card" id="act-first"><h3>Act first</h3><p class="big">{risky} at risk · '
        f"{expand} to expand</p><p>At risk: {usd(r.at_risk_arr)} ARR "
        f"({esc(by_tier or 'none')}). Each tier's list in section 3 puts them first.</p>"
        "</div></div>"
        f'<p class="note" id="snapshots">Quarterly snapshots: {esc(state_line(r))}</p>')


def _band(a: AccountSegment, fills: dict[str, str]) -> str:
    fill = fills.get(a.health_band, UNKNOWN[1])
    score = f" {a.health_score:g}" if a.health_score is not None else ""
    return (f'<span class="band" style="background:{fill};color:{ink(fill)}">'
            f"{esc(a.health_band)}{score}</span>")


def _row(index: int, a: AccountSegment, owners: dict[str, str], fills: dict[str, str],
         movers: bool) -> str:
    mover = (f'{"↑" if a.mover == "promote" else "↓"} Tier {a.mover_to}' if a.mover else "")
    return (f'<tr class="play-{a.play}"><td class="n">{index}</td><td>{esc(a.name)}</td>'
            f'<td class="n">{usd(a.arr)}</td><td>{_band(a, fills)}</td>'
            f"<td>{a.expansion_potential}</td>"
            f'<td><span class="play {a.play}" title="{PLAY_TITLES[a.play]}">{a.play}</span>'
            f"</td><td>{esc(owners.get(a.owner_email, a.owner_email))}</td>"
            + (f"<td>{mover}</td>" if movers else "") + "</tr>")


def account_lists(result: SegmentationResult, config: SegmentationConfig) -> str:
    """One `<details>` per tier: its accounts in the order to act on them (a Mover column
    only when some account moves: section 6 says why none does)."""
    fills = {b.name: color(b.color) for b in config.bands}
    owners = {b.owner_email: b.name or b.owner_email for b in result.books}
    by_tier: dict[int, list[AccountSegment]] = {t.tier: [] for t in result.tiers}
    for a in result.accounts:  # already in each tier's list order
        by_tier.setdefault(a.tier, []).append(a)
    out = []
    for t in sorted(result.tiers, key=lambda t: t.tier):
        held = by_tier.get(t.tier, [])
        rows = "".join(_row(i, a, owners, fills, bool(result.movers))
                       for i, a in enumerate(held[:MAX_LISTED], 1))
        more = (f'<p class="note more">Showing the first {MAX_LISTED} of {len(held):,} '
                "accounts, at risk and expansion plays first: every account is in "
                "segmentation.md and segmentation.json.</p>" if len(held) > MAX_LISTED
                else "")
        table = ('<table class="accounts"><thead><tr><th>#</th><th>Account</th><th>ARR</th>'
                 "<th>Health</th><th>Potential</th><th>Play</th><th>Owner</th>"
                 + ("<th>Mover</th>" if result.movers else "")
                 + f"</tr></thead><tbody>{rows}</tbody></table>" if held
                 else '<p class="note">No accounts.</p>')
        opened = " open" if t.tier in OPEN_TIERS else ""
        out.append(f'<details class="tier-accounts" data-tier="{t.tier}"{opened}><summary>'
                   f"<strong>Tier {t.tier} — {esc(t.name)}</strong>: {t.accounts:,} accounts · "
                   f"{t.at_risk} at risk · {t.high_potential} HIGH potential · {t.expand} "
                   f"to expand · {usd(t.arr)}</summary>{table}{more}</details>")
    return "".join(out)
