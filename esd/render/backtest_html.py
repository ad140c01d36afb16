"""backtest.html (contract §13): one self-contained page, inline CSS and SVG, no script.

Small multiples of each CSM's strong signals per week against the cap (`#csm-weeks`:
listed, over the cap, the cap line, flooding warnings and aborted weeks marked), the
strong and weak signals per SKU (`#by-sku`), and the tables of weeks, trigger phrases and
the comparison with what was delivered. Every text from the data, the reference files
or the state store is escaped.
"""

from __future__ import annotations

from esd.outcomes.backtest import Backtest, CsmWeek
from esd.render.backtest import SHOWN_TRIGGERS, comparison_row
from esd.render.segmentation_html import CSS as BASE_CSS
from esd.render.segmentation_html import esc

NUMBER = ' class="n"'
MAX_PANELS = 48  # CSMs drawn; the rest are counted under the chart (all in backtest.json)
LISTED, OVERFLOW, FLOOD, WEAK = "#3f6fb5", "#e8710a", "#c62828", "#a9c8e8"
CSS = BASE_CSS + """
.panel-name{font-weight:600}.cap-label,.axis{fill:#57606a}
td.aborted{color:#57606a;font-style:italic}td.flooded{color:#c62828;font-weight:600}
"""


def _text(x: float, y: float, body: str, cls: str = "", anchor: str = "start",
          extra: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}"{klass} text-anchor="{anchor}"{extra}>'
            f'{body}</text>')


def _order(grid: dict[str, list[CsmWeek | None]]) -> list[str]:
    """CSMs with flooding warnings first, then the most weeks over the cap."""
    def key(email: str) -> tuple:
        weeks = [c for c in grid[email] if c is not None]
        return (-sum(1 for c in weeks if c.flooding), -sum(1 for c in weeks if c.overflow),
                -sum(c.strong_total for c in weeks), email)
    return sorted(grid, key=key)


def csm_weeks_svg(bt: Backtest) -> str:
    """One small panel per CSM: a bar per week (listed, then over the cap), the cap line."""
    grid = bt.csm_grid()
    emails = _order(grid)[:MAX_PANELS]
    n = len(bt.weeks)
    labelled = n <= 8  # a date under every bar; more weeks: the first and the last
    left, right, top, bottom, gap = 26, 42, 42, 22, 12
    plot_w = max(140, 38 * n) if labelled else max(200, min(480, 12 * n))
    plot_h = 84
    pw_, ph_ = plot_w + left + right, plot_h + top + bottom
    cols = max(1, min(len(emails), 1236 // (pw_ + gap)))
    rows = max(1, -(-len(emails) // cols))
    w, h = cols * (pw_ + gap), rows * (ph_ + gap)
    peak = max([bt.cap_per_csm + 1] + [c.strong_total for row in grid.values()
                                       for c in row if c is not None])
    out = [f'<svg id="csm-weeks" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
           f'aria-label="Strong signals per CSM per week against the cap">']
    if not emails:
        out.append(_text(8, 20, "No CSM owns an account in these weeks."))
    for i, email in enumerate(emails):
        ox, oy = (i % cols) * (pw_ + gap), (i // cols) * (ph_ + gap)
        base = oy + top + plot_h

        def sy(value: float, base: float = base) -> float:
            return base - plot_h * value / peak
        fits = max(8, int((pw_ - 16) / 7.5))  # characters at 12px bold
        name = email.split("@")[0] if len(email) > fits else email
        name = name if len(name) <= fits else name[:fits - 1] + "…"
        out.append(f'<g class="panel" data-owner="{esc(email)}">'
                   f'<rect x="{ox}" y="{oy}" width="{pw_}" height="{ph_}" fill="#fbfcfd" '
                   f'stroke="#d0d7de"/><title>{esc(email)}</title>')
        out.append(_text(ox + 8, oy + 18, esc(name), "panel-name"))
        out.append(f'<line x1="{ox + left}" x2="{ox + left + plot_w}" y1="{base}" '
                   f'y2="{base}" stroke="#57606a"/>')
        out.append(_text(ox + left - 4, base + 4, "0", "axis", "end"))
        out.append(_text(ox + left - 4, sy(peak) + 4, str(peak), "axis", "end"))
        slot = plot_w / max(n, 1)
        for k, (week, csm) in enumerate(zip(bt.weeks, grid[email], strict=True)):
            x = ox + left + slot * k + slot * 0.15
            bw = slot * 0.7
            day = week.as_of.date().isoformat()
            if labelled or k in (0, n - 1):
                out.append(_text(x + bw / 2, base + 15, day[5:], "axis", "middle"))
            if week.aborted:
                out.append(f'<g class="aborted" data-week="{day}">'
                           f'{_text(x + bw / 2, base - 4, "×", "axis", "middle")}'
                           f'<title>{day}: run aborted (coverage below the threshold)'
                           f'</title></g>')
                continue
            if csm is None:
                continue
            tip = (f"{email}, week ending {day}: {csm.strong} listed"
                   f"{f', {csm.overflow} over the cap' if csm.overflow else ''}"
                   f"{'; flooding warning: ' + csm.flooding if csm.flooding else ''}")
            out.append(f'<g class="bar" data-week="{day}" data-strong="{csm.strong}" '
                       f'data-overflow="{csm.overflow}" '
                       f'data-flooding="{1 if csm.flooding else 0}"><title>{esc(tip)}</title>')
            if csm.strong:
                out.append(f'<rect class="listed" x="{x:.1f}" y="{sy(csm.strong):.1f}" '
                           f'width="{bw:.1f}" height="{base - sy(csm.strong):.1f}" '
                           f'fill="{LISTED}"/>')
            if csm.overflow:
                out.append(f'<rect class="overflow" x="{x:.1f}" '
                           f'y="{sy(csm.strong_total):.1f}" width="{bw:.1f}" '
                           f'height="{sy(csm.strong) - sy(csm.strong_total):.1f}" '
                           f'fill="{OVERFLOW}"/>')
            tip_y = sy(csm.strong_total) - 3
            if labelled:
                out.append(_text(x + bw / 2, tip_y, str(csm.strong_total), "bar-total",
                                 "middle"))
                tip_y -= 13
            if csm.flooding:
                out.append(f'<path class="flood" d="M{x + bw / 2:.1f} {tip_y:.1f}l-5 -8h10z" '
                           f'fill="{FLOOD}"/>')
            out.append("</g>")
        cap_y = sy(bt.cap_per_csm)
        out.append(f'<line class="cap-line" x1="{ox + left}" x2="{ox + left + plot_w}" '
                   f'y1="{cap_y:.1f}" y2="{cap_y:.1f}" stroke="#1f2328" stroke-width="1.2" '
                   f'stroke-dasharray="4 3"/>')
        out.append(_text(ox + left + plot_w + 3, cap_y + 4, f"cap {bt.cap_per_csm}",
                         "cap-label"))
        out.append("</g>")
    out.append("</svg>")
    rest = len(grid) - len(emails)
    more = (f'<p class="note more">+ {rest} more CSMs with fewer weeks over the cap '
            f'(all in backtest.json and backtest.md).</p>' if rest > 0 else "")
    return "".join(out) + more


def by_sku_svg(bt: Backtest) -> str:
    """Strong and weak signals per SKU, every signal counted (capped or not)."""
    skus = bt.by_sku
    w, left, bar_w, row = 900, 220, 520, 30
    h = 12 + row * max(len(skus), 1)
    peak = max([1] + [c.strong + c.weak for c in skus.values()])
    out = [f'<svg id="by-sku" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
           f'aria-label="Strong and weak signals per SKU">']
    if not skus:
        out.append(_text(left, 24, "No signal in any week."))
    for i, (sku, c) in enumerate(skus.items()):
        y = 6 + row * i
        strong_w, weak_w = bar_w * c.strong / peak, bar_w * c.weak / peak
        out.append(f'<g class="sku-bar" data-sku="{esc(sku)}" data-strong="{c.strong}" '
                   f'data-weak="{c.weak}"><title>{esc(sku)}: {c.strong} strong, {c.weak} '
                   f'weak</title>')
        out.append(_text(left - 10, y + 16, esc(sku), "sku-name", "end"))
        out.append(f'<rect class="strong" x="{left}" y="{y}" width="{strong_w:.1f}" '
                   f'height="20" fill="{LISTED}"/>')
        out.append(f'<rect class="weak" x="{left + strong_w:.1f}" y="{y}" '
                   f'width="{weak_w:.1f}" height="20" fill="{WEAK}"/>')
        out.append(_text(left + strong_w + weak_w + 8, y + 15,
                         f"{c.strong} strong · {c.weak} weak", "sku-count"))
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def weeks_table(bt: Backtest) -> str:
    rows = []
    for week in bt.weeks:
        t = week.totals()
        day = week.as_of.date()
        if week.aborted:
            rows.append(f'<tr><td>{day}</td><td class="n">{week.coverage_pct:.1f}%</td>'
                        f'<td colspan="5" class="aborted" title="{esc(week.aborted)}">aborted: '
                        f'coverage below the threshold, no digest</td></tr>')
            continue
        flood = ' class="n flooded"' if t["flooding_warnings"] else ' class="n"'
        rows.append(f'<tr><td>{day}</td><td class="n">{week.coverage_pct:.1f}%</td>'
                    f'<td class="n">{t["strong"]}</td><td class="n">{t["overflow"]}</td>'
                    f'<td class="n">{t["weak"]}</td><td class="n">{t["csms_over_cap"]}</td>'
                    f'<td{flood}>{t["flooding_warnings"]}</td></tr>')
    return ('<table id="weeks"><thead><tr><th>Week ending</th><th>Coverage</th>'
            '<th>Strong listed</th><th>Over the cap</th><th>Weak</th>'
            '<th>CSMs over the cap</th><th>Flooding warnings</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def triggers_table(bt: Backtest) -> str:
    phrases = sorted(bt.by_trigger.items(), key=lambda kv: (-kv[1].strong - kv[1].weak,
                                                            kv[0]))
    rows = "".join(f'<tr><td>{esc(p)}</td><td class="n">{c.strong}</td>'
                   f'<td class="n">{c.weak}</td></tr>' for p, c in phrases[:SHOWN_TRIGGERS])
    more = (f'<p class="note">+ {len(phrases) - SHOWN_TRIGGERS} more phrases in '
            'backtest.json.</p>' if len(phrases) > SHOWN_TRIGGERS else "")
    if not phrases:
        return '<p class="note" id="triggers">No call-trigger phrase matched.</p>'
    return ('<table id="triggers"><thead><tr><th>Call-trigger phrase</th><th>Strong</th>'
            f'<th>Weak</th></tr></thead><tbody>{rows}</tbody></table>{more}')


def outcomes_table(bt: Backtest) -> str:
    if bt.comparison is None or bt.overall is None:
        return ('<p class="note" id="outcomes">No state store to compare with (--state or '
                'ESD_STATE names one): only what the current references would send is '
                'shown.</p>')
    head = ["Week ending", "Delivered then", "Converted", "Noise", "No conversation",
            "Unknown", "Precision then", "Kept", "Precision kept",
            "Dropped (capped/weak/none)", "New"]
    rows = [comparison_row(str(r.as_of.date()) if r.as_of else "", r)
            for r in bt.comparison]
    rows.append(comparison_row("All weeks", bt.overall))
    body = "".join("<tr>" + "".join(
        f"<td{NUMBER if i else ''}>{esc(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in rows)
    return (f'<p class="note">State store: {esc(bt.state)}. Precision = converted ÷ '
            'delivered signals with an outcome. Kept: delivered then and still listed now; '
            'dropped: now over the cap, weak, or no signal; new: listed now for a CSM who '
            'got that week\'s digest, not delivered then.</p>'
            '<table id="outcomes"><thead><tr>' + "".join(f"<th>{h}</th>" for h in head)
            + f"</tr></thead><tbody>{body}</tbody></table>")


def render_html(bt: Backtest) -> str:
    """The whole page, as one string."""
    first, last = bt.weeks[0].as_of.date(), bt.weeks[-1].as_of.date()
    notes = "".join(f"<li>{esc(n)}</li>" for n in bt.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backtest {first} to {last}</title><style>{CSS}</style></head>
<body><main>
<h1>Backtest — {len(bt.weeks)} weeks ending {first} to {last}</h1>
<p class="meta">What the current reference files (taxonomy {esc(bt.taxonomy_hash)}) would
have sent · cap {bt.cap_per_csm} strong signals per CSM · 7-day windows ·
{esc(bt.extractor)} extractor · --{esc(bt.source)} {esc(bt.source_path)} · nothing was
posted or recorded</p>
<h2>1. Weeks</h2>
{weeks_table(bt)}
<h2>2. Strong signals per CSM and week, against the cap</h2>
<p class="legend"><span><i style="background:{LISTED}"></i>listed</span>
<span><i style="background:{OVERFLOW}"></i>over the cap (overflow count only)</span>
<span><i style="background:{FLOOD}"></i>▼ flooding warning</span>
<span>× week aborted</span><span>- - - cap of {bt.cap_per_csm}</span></p>
{csm_weeks_svg(bt)}
<h2>3. Signals per SKU</h2>
<p class="note">Every signal, capped or not.</p>
{by_sku_svg(bt)}
<h2>4. Call-trigger phrases</h2>
{triggers_table(bt)}
<h2>5. Compared with what was delivered</h2>
{outcomes_table(bt)}
{f'<h2>Notes</h2><ul>{notes}</ul>' if notes else ''}
</main></body></html>
"""
