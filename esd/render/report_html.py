"""report.html (contract §12): the success metric as one self-contained page.

Inline CSS and inline SVG, no script, nothing loaded from elsewhere. A monthly trend
(`#trend`: one column per month, the seed's 25-40 % band shaded, the 20 % line dashed,
incomplete months pale) and one bar per SKU, call-trigger phrase, action row and CSM
(`#by-sku`, `#by-trigger`, `#by-action`, `#by-csm`) on the trailing 30 days, each bar on
a 0-100 % track with the same band and line. A bar's pale extension is its unknown
signals: how far the rate can still rise. Labels are HTML beside (on a phone: above)
each bar, so they reflow instead of shrinking with the drawing. Every text from the
data (SKUs, phrases, action rows, emails) is escaped.
"""

from __future__ import annotations

import html
from datetime import date

from esd.outcomes.metrics import BAND_PCT, LOW_PCT, WINDOW_DAYS, Measurement, Month, Tally, pct
from esd.render.report import GROUPS, RULES, headline, verdict

MAX_ROWS = 50  # bars per breakdown; report.md and report.json list every row
MAX_MONTHS = 24  # columns of the trend; the table lists every month
FILLS = {"below-20": "#c62828", "under-band": "#e8710a", "healthy": "#2e7d32",
         "above-40": "#1565c0", "too-few": "#8c959f"}
BAND_FILL = "#dcefd8"
CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1f2328;margin:0;background:#fff}
main{max-width:1280px;margin:0 auto;padding:20px 24px 40px;box-sizing:border-box}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:30px 0 10px;
 border-bottom:1px solid #d0d7de;padding-bottom:4px}
.meta,.note{color:#57606a;margin:4px 0}.note{font-size:13px}
.warning{background:#fff4e5;border-left:4px solid #e8710a;padding:8px 12px;margin:12px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:12px}
.card{border:1px solid #d0d7de;border-radius:6px;padding:10px 14px}
.card .big{font-size:30px;font-weight:600;margin:2px 0}
.bars{display:grid;gap:6px}
.bar-row{display:grid;grid-template-columns:minmax(0,18rem) minmax(0,1fr) minmax(0,19rem);
 gap:2px 14px;align-items:center}
.bar-label{overflow-wrap:anywhere;font-weight:500}
.bar-figure{font-size:13px;color:#3d4650;font-variant-numeric:tabular-nums}
svg.bar{display:block;width:100%;height:20px}
.scale{position:relative;height:16px;font-size:12px;color:#57606a}
.scale span{position:absolute;transform:translateX(-50%)}
.scale span:first-child{transform:none}.scale span:last-child{transform:translateX(-100%)}
.scroll{overflow-x:auto;max-width:100%}
svg#trend{display:block;max-width:none}svg text{font-size:12px;fill:#1f2328}
table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid #d8dee4;padding:4px 7px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td,th{white-space:nowrap}td.verdict{white-space:normal;min-width:16rem}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.legend span{display:inline-block;margin-right:14px;font-size:13px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
@media (max-width:720px){main{padding:14px 12px 30px}
 .bar-row{grid-template-columns:minmax(0,1fr);margin-bottom:6px}.scale-pad{display:none}}
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def bar_svg(t: Tally, title: str) -> str:
    """One 0-100 % track: the band, the 20 % line, the rate, its pale open extension."""
    fill = FILLS[t.band]
    rate, top = (t.conversion_rate or 0) * 100, (t.max_rate or 0) * 100
    low, high = BAND_PCT
    return (f'<svg class="bar" viewBox="0 0 100 20" preserveAspectRatio="none" role="img" '
            f'aria-label="{esc(title)}"><title>{esc(title)}</title>'
            f'<rect x="0" y="0" width="100" height="20" fill="#f6f8fa"/>'
            f'<rect class="band-zone" x="{low}" y="0" width="{high - low}" height="20" '
            f'fill="{BAND_FILL}"/>'
            f'<rect class="rate" x="0" y="4" width="{rate:.2f}" height="12" fill="{fill}"/>'
            f'<rect class="open" x="{rate:.2f}" y="4" width="{top - rate:.2f}" height="12" '
            f'fill="{fill}" fill-opacity=".25"/>'
            + "".join(f'<line class="band-edge" x1="{v}" x2="{v}" y1="0" y2="20" '
                      f'stroke="#2e7d32" stroke-opacity=".6" '
                      'vector-effect="non-scaling-stroke"/>' for v in BAND_PCT)
            + f'<line class="low-line" x1="{LOW_PCT}" x2="{LOW_PCT}" y1="0" y2="20" '
            f'stroke="#1f2328" stroke-dasharray="3 2" vector-effect="non-scaling-stroke"/>'
            '</svg>')


def bar_row(name: str, t: Tally, key: str = "") -> str:
    title = f"{name}: {headline(t)}"
    figure = (f"{pct(t.conversion_rate)} · {t.converted} of {t.delivered}"
              f"{f' · {t.noise} noise' if t.noise else ''} · {verdict(t)}")
    return (f'<div class="bar-row" data-key="{esc(key or name)}" data-band="{t.band}" '
            f'data-delivered="{t.delivered}"><div class="bar-label">{esc(name)}</div>'
            f'{bar_svg(t, title)}<div class="bar-figure">{esc(figure)}</div></div>')


def scale_row() -> str:
    marks = "".join(f'<span style="left:{v}%">{v}%</span>'
                    for v in (0, LOW_PCT, BAND_PCT[1], 60, 80, 100))
    return (f'<div class="bar-row" aria-hidden="true"><div class="scale-pad"></div>'
            f'<div class="scale">{marks}</div><div class="scale-pad"></div></div>')


def breakdown(section_id: str, tallies: dict[str, Tally]) -> str:
    if not tallies:
        return (f'<div class="bars" id="{section_id}"><p class="note">No signal delivered '
                f'in the trailing {WINDOW_DAYS} days.</p></div>')
    rows = [bar_row(name, t) for name, t in list(tallies.items())[:MAX_ROWS]]
    more = len(tallies) - MAX_ROWS
    tail = (f'<p class="note">+ {more} more with fewer signals (every row is in report.md '
            'and report.json)</p>' if more > 0 else "")
    return f'<div class="bars" id="{section_id}">{scale_row()}{"".join(rows)}</div>{tail}'


_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
               "Dec")


def trend_svg(months: list[Month]) -> str:
    """One column per month (the latest MAX_MONTHS): conversion, pale where still open."""
    shown = months[-MAX_MONTHS:]
    left, right, top, bottom = 44, 12, 26, 58
    col = max(46, min(96, 640 // max(len(shown), 1)))  # wide columns when there are few
    w, h = max(360, left + right + col * len(shown)), 280
    ph = h - top - bottom
    peak = max([0.6] + [m.tally.max_rate or 0 for m in shown])
    ymax = min(100, 20 * -(-peak * 100 // 20))

    def y(value: float) -> float:
        return top + ph * (1 - value / ymax)

    low, high = BAND_PCT
    out = [f'<svg id="trend" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
           f'aria-label="Conversion per calendar month of delivery">',
           f'<rect class="band-zone" x="{left}" y="{y(high):.1f}" width="{w - left - right}" '
           f'height="{y(low) - y(high):.1f}" fill="{BAND_FILL}"/>']
    for v in range(0, int(ymax) + 1, 20):
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                   f'stroke="#000" stroke-opacity=".08"/><text x="{left - 6}" '
                   f'y="{y(v) + 4:.1f}" text-anchor="end">{v}%</text>')
    out.append(f'<line class="low-line" x1="{left}" x2="{w - right}" y1="{y(LOW_PCT):.1f}" '
               f'y2="{y(LOW_PCT):.1f}" stroke="#1f2328" stroke-dasharray="5 3"/>')
    if not shown:
        out.append(f'<text x="{w / 2:.0f}" y="{top + ph / 2:.0f}" text-anchor="middle">'
                   'No delivered signals yet</text>')
    for i, m in enumerate(shown):
        t, x = m.tally, left + col * i + 8
        rate, most = (t.conversion_rate or 0) * 100, (t.max_rate or 0) * 100
        fill, cls = FILLS[t.band], "month" + ("" if m.complete else " incomplete")
        opacity = "" if m.complete else ' fill-opacity=".55"'
        tip = f"{m.month}: {headline(t)}, {verdict(t)}" + (
            "" if m.complete else f"; complete from {m.complete_on}")
        out.append(f'<g class="{cls}" data-month="{m.month}" data-band="{t.band}">'
                   f'<title>{esc(tip)}</title>'
                   f'<rect class="rate" x="{x}" y="{y(rate):.1f}" width="{col - 16}" '
                   f'height="{y(0) - y(rate):.1f}" fill="{fill}"{opacity}/>'
                   f'<rect class="open" x="{x}" y="{y(most):.1f}" width="{col - 16}" '
                   f'height="{y(rate) - y(most):.1f}" fill="{fill}" fill-opacity=".2"/>'
                   f'<text x="{x + (col - 16) / 2}" y="{y(most) - 5:.1f}" '
                   f'text-anchor="middle">{pct(t.conversion_rate).replace(" ", "")}</text>')
        year, month = m.month.split("-")
        label_x = x + (col - 16) / 2
        out.append(f'<text x="{label_x}" y="{h - bottom + 16}" text-anchor="middle">'
                   f'{_MONTH_ABBR[int(month) - 1]}</text><text x="{label_x}" '
                   f'y="{h - bottom + 31}" text-anchor="middle">n {t.delivered}</text>')
        if i == 0 or month == "01":
            out.append(f'<text x="{label_x}" y="{h - bottom + 46}" '
                       f'text-anchor="middle">{year}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def month_table(months: list[Month]) -> str:
    rows = "".join(
        f'<tr data-month="{m.month}"><td>{m.month}</td><td>'
        f'{"yes" if m.complete else f"from {m.complete_on}"}</td>'
        + "".join(f'<td class="n">{v}</td>' for v in (
            m.tally.delivered, m.tally.converted, m.tally.noise, m.tally.no_conversation,
            m.tally.unknown, pct(m.tally.conversion_rate)))
        + f'<td class="verdict">{esc(verdict(m.tally))}</td></tr>' for m in reversed(months))
    return ('<div class="scroll"><table id="months"><thead><tr><th>Month</th><th>Complete'
            '</th><th>Delivered</th><th>Converted</th><th>Noise</th><th>No conversation</th>'
            '<th>Unknown</th><th>Rate</th><th>Verdict</th></tr></thead><tbody>'
            + (rows or '<tr><td colspan="9">No delivered signals yet.</td></tr>')
            + "</tbody></table></div>")


def card(title: str, t: Tally | None, note: str) -> str:
    if t is None:
        return f'<div class="card"><h3>{esc(title)}</h3><p class="note">{esc(note)}</p></div>'
    return (f'<div class="card"><h3>{esc(title)}</h3><p class="big">'
            f'{esc(pct(t.conversion_rate))}</p><p>{esc(headline(t))} · {t.noise} noise · '
            f'{t.unknown} unknown</p>{bar_svg(t, headline(t))}<p class="note">'
            f'{esc(verdict(t))}. {esc(note)}</p></div>')


def render_html(m: Measurement) -> str:
    """The whole page, as one string."""
    start = date.fromordinal(m.start.toordinal() + 1)
    latest = next((x for x in reversed(m.months) if x.complete), None)
    cards = card(f"Trailing {WINDOW_DAYS} days", m.trailing,
                 f"Delivered {start} to {m.end}.") + (
        card(f"Latest complete month: {latest.month}", latest.tally,
             "Every signal's 14 days have passed.") if latest else
        card("Latest complete month", None, "No month is complete yet: a month counts once "
             "14 days have passed since its last day."))
    warns = "".join(f'<div class="warning" role="alert"><strong>Warning:</strong> {esc(w)}'
                    "</div>" for w in m.warnings)
    sections = "".join(
        f'<h2>Per {what}, trailing {WINDOW_DAYS} days</h2>'
        f'{breakdown(key.replace("_", "-"), getattr(m, key))}' for key, _, what in GROUPS)
    keys = (("below 20 %", FILLS["below-20"]), ("under the band", FILLS["under-band"]),
            ("healthy", FILLS["healthy"]), ("above 40 %", FILLS["above-40"]),
            ("too few to judge", FILLS["too-few"]), ("25–40 % band", BAND_FILL))
    legend = "".join(f'<span><i style="background:{fill}"></i>{esc(name)}</span>'
                     for name, fill in keys)
    rules = "".join(f"<li>{esc(rule)}</li>" for rule in RULES)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Digest success metric {m.end}</title><style>{CSS}</style></head>
<body><main>
<h1>Digest success metric</h1>
<p class="meta">As of {m.end} · the share of delivered strong signals that led to an
expansion conversation within 14 days · healthy: {BAND_PCT[0]}–{BAND_PCT[1]} %</p>
{warns}<div class="cards">{cards}</div>
<h2>Per calendar month of delivery</h2>
<p class="legend">{legend}<span>- - - {LOW_PCT} % line</span><span>pale: still open
(unknown) or month not complete</span></p>
<div class="scroll">{trend_svg(m.months)}</div>
{month_table(m.months)}
{sections}
<h2>How this is counted</h2>
<ul>{rules}</ul>
</main></body></html>
"""
