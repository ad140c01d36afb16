"""The three inline SVG charts of segmentation.html (contract §9): the ARR Pareto curve
with the tier cut points (`#pareto`), health bands per tier (`#health-by-tier`) and each
CSM book's load (`#csm-load`). Every text from the data is escaped; labels are placed
so that none crosses a line or another label (tests check it in headless Chromium).
"""

from __future__ import annotations

import html
import re

from esd.format import usd
from esd.references.schema import SegmentationConfig
from esd.segment.model import SegmentationResult

MAX_CURVE_POINTS = 500
MAX_BOOK_BARS = 40  # the heaviest books get a bar; the rest are summed up in one line
BAND_COLORS = {"green": "#2e7d32", "yellow": "#f2c230", "orange": "#e8710a", "red": "#c62828",
               "blue": "#1565c0", "grey": "#9e9e9e", "gray": "#9e9e9e"}
UNKNOWN = ("unknown", "#9e9e9e")
MIXED_STROKE = ' stroke="#1f2328" stroke-width="2"'
TIER_FILLS = ["#dce9f7", "#e3f1df", "#fbeed3", "#efe6f4", "#f2f2f2"]
CHAR_PX = 7.2  # about the width of a character of 12px text, for placing labels


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def pct(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") + "%"


def color(name: str) -> str:
    """A band's color as hex: the seed's color words, or a hex code from the settings."""
    if re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", name.strip()):
        return name.strip()
    return BAND_COLORS.get(name.strip().lower(), UNKNOWN[1])


def ink(fill: str) -> str:
    """Black or white text, whichever reads better on `fill`."""
    h = fill.lstrip("#")
    r, g, b = (int(h[i] * 2, 16) for i in range(3)) if len(h) == 3 else (
        int(h[i:i + 2], 16) for i in (0, 2, 4))
    return "#1f2328" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#ffffff"


def _text(x: float, y: float, body: str, cls: str = "", **attrs: object) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}"{klass}{extra}>{body}</text>'


def pareto_svg(result: SegmentationResult) -> str:
    """Accounts ranked by ARR against cumulative share of ARR, tiers shaded, cuts marked."""
    w, h, left, right, top, bottom = 560, 420, 56, 16, 86, 52
    pw, ph = w - left - right, h - top - bottom
    arrs = sorted((a.arr for a in result.accounts), reverse=True)
    n, total = len(arrs), sum(arrs)

    def sx(share: float) -> float:
        return left + pw * share / 100

    def sy(share: float) -> float:
        return top + ph * (1 - share / 100)

    out = [f'<svg id="pareto" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
           f'aria-labelledby="pareto-title"><title id="pareto-title">ARR Pareto curve with '
           f'tier cut points</title>']
    start = 0
    tiers = sorted(result.tiers, key=lambda t: t.tier)
    for i, t in enumerate(tiers):  # tier regions, Tier 1 (highest ARR) leftmost
        x0 = sx(start / n * 100) if n else sx(0)
        x1 = sx((start + t.accounts) / n * 100) if n else sx(0)
        out.append(f'<rect class="tier-region" data-tier="{t.tier}" x="{x0:.1f}" y="{top}" '
                   f'width="{x1 - x0:.1f}" height="{ph}" fill="{TIER_FILLS[i % 5]}">'
                   f'<title>Tier {t.tier} {esc(t.name)}: {t.accounts} accounts</title></rect>')
        if x1 - x0 >= 22:  # name the region at its foot when there is room
            name = f"T{t.tier} {t.name}" if x1 - x0 >= 7 * len(t.name) + 28 else f"T{t.tier}"
            out.append(_text((x0 + x1) / 2, top + ph - 8, esc(name), "region-label",
                             text_anchor="middle", style="fill:#57606a"))
        start += t.accounts
    for v in range(0, 101, 20):  # grid and ticks
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" '
                   f'stroke="#000" stroke-opacity=".08"/>')
        out.append(f'<line x1="{sx(v):.1f}" x2="{sx(v):.1f}" y1="{top + ph}" '
                   f'y2="{top + ph + 5}" stroke="#57606a"/>')
        out.append(_text(sx(v), top + ph + 19, f"{v}%", "tick", text_anchor="middle"))
        out.append(_text(left - 8, sy(v) + 4, f"{v}%", "tick", text_anchor="end"))
    out.append(f'<path d="M{left} {top}V{top + ph}H{left + pw}" fill="none" stroke="#57606a"/>')
    out.append(_text(left + pw / 2, h - 10, "Accounts ranked by ARR (share of accounts)",
                     text_anchor="middle"))
    out.append(_text(14, top + ph / 2, "Cumulative share of ARR", text_anchor="middle",
                     transform=f"rotate(-90 14 {top + ph / 2})"))
    if n and total > 0:
        cum, points = 0.0, [(0.0, 0.0)]
        for a in arrs:
            cum += a
            points.append((len(points) / n * 100, cum / total * 100))
        if len(points) > MAX_CURVE_POINTS:
            step = (len(points) - 1) / (MAX_CURVE_POINTS - 1)
            points = [points[round(i * step)] for i in range(MAX_CURVE_POINTS)]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
        out.append(f'<polyline class="curve" points="{coords}" fill="none" stroke="#1f4e79" '
                   f'stroke-width="2.5" stroke-linejoin="round"/>')
    else:
        out.append(_text(left + pw / 2, top + ph / 2, "No ARR to rank" if n else "No accounts",
                         text_anchor="middle"))
    start, cum_arr = 0, 0.0
    for k, t in enumerate(tiers):  # a cut point ends each tier that has a lower bound
        start, cum_arr = start + t.accounts, cum_arr + t.arr
        if t.arr_min is None:
            continue
        x = sx(start / n * 100) if n else sx(0)
        y = sy(cum_arr / total * 100) if total > 0 else sy(0)
        ly = 18 + 17 * k
        label = f"Tier {t.tier} {t.name} ≥ {usd(t.arr_min)}{' (fixed)' if t.fixed else ''}"
        fits = x + 5 + 7.2 * len(label) <= w  # about 7px a character at 12px bold
        anchor, dx = ("start", 5) if fits else ("end", -5)
        label = esc(label)
        out.append(f'<line class="cut-line" data-tier="{t.tier}" x1="{x:.1f}" x2="{x:.1f}" '
                   f'y1="{ly - 12}" y2="{top + ph}" stroke="#3d4650" stroke-dasharray="4 3"/>')
        out.append(_text(x + dx, ly, label, "cut-label", text_anchor=anchor,
                         font_weight="600"))
        if total > 0 and 0 < start < n:  # a cut at either end adds nothing to read
            share = f"{pct(cum_arr / total * 100)} of ARR"
            right = x + 7 + 6.5 * len(share) <= w
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1f4e79"/>')
            out.append(_text(x + 7 if right else x - 7, y + 16, share, "cut-share",
                             text_anchor="start" if right else "end"))
    out.append("</svg>")
    return "".join(out)


def health_svg(result: SegmentationResult, config: SegmentationConfig) -> str:
    """One 100%-stacked bar per tier, a segment per health band (and `unknown`)."""
    bands = [(b.name, color(b.color)) for b in config.bands] + [UNKNOWN]
    known = {name for name, _ in bands}
    counts: dict[int, dict[str, int]] = {t.tier: {} for t in result.tiers}
    for a in result.accounts:
        band = a.health_band if a.health_band in known else "unknown"
        tier = counts.setdefault(a.tier, {})
        tier[band] = tier.get(band, 0) + 1
    w, left, bar_w, row = 900, 190, 660, 40
    h = 10 + row * len(counts)
    out = [f'<svg id="health-by-tier" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
           f'role="img" aria-label="Health bands per tier">']
    names = {t.tier: t.name for t in result.tiers}
    for i, (tier, held) in enumerate(sorted(counts.items())):
        y, total = 6 + row * i, sum(held.values())
        out.append(f'<g class="tier-bar" data-tier="{tier}">')
        out.append(_text(left - 10, y + 17, f"Tier {tier} {esc(names.get(tier, ''))} "
                         f"({total})", text_anchor="end"))
        if not total:
            out.append(f'<rect x="{left}" y="{y}" width="{bar_w}" height="26" fill="none" '
                       f'stroke="#d0d7de"/>')
            out.append(_text(left + 8, y + 17, "no accounts", "empty"))
        x = float(left)
        for name, fill in bands:
            count = held.get(name, 0)
            if not count:
                continue
            width = bar_w * count / total
            out.append(f'<rect class="band-seg" data-band="{esc(name)}" data-count="{count}" '
                       f'x="{x:.2f}" y="{y}" width="{width:.2f}" height="26" fill="{fill}" '
                       f'stroke="#fff"><title>Tier {tier}, {esc(name)}: {count} of {total} '
                       f'accounts</title></rect>')
            if width >= 9 * len(str(count)) + 6:
                out.append(_text(x + width / 2, y + 17.5, str(count), "count",
                                 text_anchor="middle", font_weight="600",
                                 style=f"fill:{ink(fill)}"))
            x += width
        out.append("</g>")
    out.append("</svg>")
    legend = "".join(f'<span><i style="background:{fill}"></i>{esc(name)}</span>'
                     for name, fill in bands)
    return "".join(out) + f'<p class="legend">{legend}</p>'


def load_svg(result: SegmentationResult) -> str:
    """One bar per CSM book (heaviest first), load in CSM-equivalents, 1.0 = full."""
    books = result.books[:MAX_BOOK_BARS]
    rest = result.books[MAX_BOOK_BARS:]
    w, left, right, top = 900, 230, 150, 28
    row = 24 if len(books) <= 15 else 20
    pw = w - left - right
    h = top + row * max(len(books), 1) + (24 if rest else 0) + 34
    top_load = max([1.5] + [b.load * 1.08 for b in books])

    def sx(load: float) -> float:
        return left + pw * load / top_load

    out = [f'<svg id="csm-load" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
           f'aria-label="CSM load per book">']
    if not books:
        out.append(_text(left, top + 16, "No CSM books: no account has an owner."))
    for i, b in enumerate(books):
        y = top + row * i
        who = b.name or b.owner_email
        if len(who) > 30 and not b.name:
            who = who.split("@")[0]
        who = who if len(who) <= 30 else who[:14] + "…" + who[-15:]
        fill = "#c2410c" if b.load > 1 else "#3f6fb5"
        tiers = ", ".join(f"T{t}: {n}" for t, n in sorted(b.accounts_by_tier.items()) if n)
        tip = f"{b.owner_email}: load {b.load:.2f}, ARR {usd(b.arr)}, {tiers}"
        out.append(f'<rect class="book-bar{" mixed" if b.mixed else ""}" '
                   f'data-load="{b.load:.2f}" x="{left}" y="{y + 4}" '
                   f'width="{max(sx(b.load) - left, 1):.1f}" height="{row - 8}" fill="{fill}"'
                   f'{MIXED_STROKE if b.mixed else ""}>'
                   f'<title>{esc(tip)}{"; " + esc(b.note) if b.note else ""}</title></rect>')
        out.append(_text(left - 8, y + row / 2 + 4, esc(who), "book-name", text_anchor="end"))
        label = f"{b.load:.2f}{' ⚠ mixed tiers' if b.mixed else ''}"
        x = sx(b.load) + 6
        if x < sx(1) + 6 and x + CHAR_PX * (len(label) + 1) > sx(1) - 4:
            x = sx(1) + 6  # it would cross the 1.0 line: start after it instead
        out.append(_text(x, y + row / 2 + 4, label, "book-load"))
    if rest:
        y = top + row * len(books) + 16
        out.append(_text(left, y, f"+ {len(rest)} more books, loads {rest[-1].load:.2f}-"
                         f"{rest[0].load:.2f} (all in segmentation.json)", "more"))
    axis_y = h - 30
    for v in [x / 2 for x in range(int(top_load * 2) + 1)]:
        out.append(f'<line x1="{sx(v):.1f}" x2="{sx(v):.1f}" y1="{axis_y}" y2="{axis_y + 5}" '
                   f'stroke="#57606a"/>')
        out.append(_text(sx(v), axis_y + 18, f"{v:g}", "tick", text_anchor="middle"))
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{axis_y}" y2="{axis_y}" '
               f'stroke="#57606a"/>')
    out.append(f'<line class="capacity-line" x1="{sx(1):.1f}" x2="{sx(1):.1f}" y1="{top - 4}" '
               f'y2="{axis_y}" stroke="#1f2328" stroke-width="1.5" stroke-dasharray="5 3"/>')
    out.append(_text(sx(1), top - 12, "1.0 = one full-time CSM", "capacity-label",
                     text_anchor="middle"))
    out.append("</svg>")
    return "".join(out)
