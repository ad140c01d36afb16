"""segmentation.html: one self-contained page with three inline SVG charts (contract §9),
checked on hand-built results, and once in headless Chromium."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from chromium import chromium_path, dump_dom, screenshot

from esd.references.segmentation_defaults import default_config
from esd.render.segmentation_html import render_html
from esd.render.segmentation_svg import MAX_BOOK_BARS, MAX_CURVE_POINTS
from esd.segment.model import (
    AccountSegment,
    CsmBook,
    Mover,
    SegmentationResult,
    TierAllocation,
    TierCut,
)

HOSTILE = "<script>alert(1)</script>"
CUTS = (250_000, 50_000, 25_000)
NAMES = {1: "Strategic", 2: "Growth", 3: "Scale", 4: "Long Tail"}
BANDS = ["Healthy", "Stable", "At Risk", "Critical", "unknown"]


def tier_of(arr: float, cuts=CUTS) -> int:
    return next((i + 1 for i, cut in enumerate(cuts) if arr >= cut), len(cuts) + 1)


def make_result(arrs, bands=None, owners=None, csms=3, books=None, movers=(), snapshots=0,
                cuts=CUTS, names=None, config_path=None, **kw) -> SegmentationResult:
    """A result for accounts with these ARRs (bands and owners cycle through the lists)."""
    bands = bands or BANDS
    owners = owners or ["ana@example.com", "ben@example.com"]
    accounts = [AccountSegment(
        account_id=f"a{i}", name=(names or {}).get(i, f"Account {i}"), arr=arr,
        tier=tier_of(arr, cuts), tier_name=NAMES[tier_of(arr, cuts)],
        health_score=None, health_band=bands[i % len(bands)], health_components={},
        expansion_potential="LOW", potential_factors=[], motion="", segment="",
        owner_email=owners[i % len(owners)]) for i, arr in enumerate(arrs)]
    accounts.sort(key=lambda a: (a.tier, -a.arr))
    n, total = len(arrs) or 1, sum(arrs) or 1
    tiers = []
    for t in (1, 2, 3, 4):
        held = [a.arr for a in accounts if a.tier == t]
        tiers.append(TierCut(
            tier=t, name=NAMES[t], arr_min=cuts[t - 1] if t < 4 else None,
            arr_max=cuts[t - 2] if t > 1 else None, accounts=len(held), arr=sum(held),
            share_accounts=round(len(held) / n * 100, 1),
            share_arr=round(sum(held) / total * 100, 1),
            target_accounts=[(5, 10), (20, 30), (30, 40), (30, 40)][t - 1],
            target_arr=[(50, 60), (30, 40), (10, 20), (5, 10)][t - 1]))
    allocation = [TierAllocation(
        tier=t.tier, name=t.name, accounts=t.accounts, arr=t.arr,
        csms=csms if t.tier == 2 else 0, ratio=(15, 25) if t.tier < 4 else None,
        accounts_per_csm=round(t.accounts / csms, 1) if csms and t.tier == 2 else None,
        arr_per_csm=round(t.arr / csms) if csms and t.tier == 2 else None,
        arr_target=(1_000_000, 2_000_000),
        coverage="automated" if t.tier == 4 else "ok") for t in tiers]
    if books is None:
        books = [CsmBook(owner_email=o, name=o.split("@")[0].title(),
                         accounts_by_tier={1: 1, 2: 3, 3: 5, 4: 2}, arr=1e6, load=0.4 + i / 2,
                         mixed=i == 1, note="1 Tier 1 next to 7 Tier 3-4 accounts" if i else None)
                 for i, o in enumerate(owners)]
    return SegmentationResult(
        as_of=datetime(2026, 11, 23, tzinfo=UTC), quarter="2026-Q4", config_path=config_path,
        tiers=tiers, accounts=accounts, allocation=allocation, books=books, csms=csms,
        movers=list(movers), snapshots=snapshots, **kw)


def portfolio(n: int = 100) -> list[float]:
    """Roughly the seed's textbook shape: 8% large, 25% mid, the rest small."""
    big, mid = max(1, n * 8 // 100), n * 25 // 100
    small = n - big - mid
    return ([700_000 + 10_000 * i for i in range(big)] + [140_000] * mid
            + [30_000 + i for i in range(small // 2)] + [15_000] * (small - small // 2))


def svg(page: str, svg_id: str) -> ET.Element:
    """The inline SVG with this id, parsed as XML (so it must be well-formed)."""
    match = re.search(rf'<svg id="{svg_id}".*?</svg>', page, re.S)
    assert match, f"no <svg id={svg_id}>"
    return ET.fromstring(match.group(0))


def having(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def assert_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    lowered = page.lower()
    for banned in ("<script", "http://", "https://", "src=", "@import", "url(", "<link",
                   "<img", "<iframe", "<object", "href="):
        assert banned not in lowered, banned


def test_the_page_is_self_contained_with_its_three_charts():
    page = render_html(make_result(portfolio()), default_config())
    assert_self_contained(page)
    for svg_id in ("pareto", "health-by-tier", "csm-load"):
        assert page.count(f'<svg id="{svg_id}"') == 1
    assert "seed defaults" in page and "2026-11-23" in page and "2026-Q4" in page
    # The seed's delivery order.
    order = [page.index(s) for s in ('id="staffing"', 'id="pareto"', 'id="health-by-tier"',
                                     'id="accounts"', "4. CS motion", 'id="allocation"',
                                     'id="csm-load"', 'id="movers"')]
    assert order == sorted(order)


def test_the_pareto_curve_shades_four_tiers_and_labels_three_cut_points():
    arrs = portfolio(100)
    root = svg(render_html(make_result(arrs), default_config()), "pareto")
    regions = having(root, "tier-region")
    assert [r.get("data-tier") for r in regions] == ["1", "2", "3", "4"]
    widths = [float(r.get("width")) for r in regions]  # proportional to accounts per tier
    assert widths[1] / widths[0] == pytest.approx(25 / 8, rel=0.02)
    assert [c.get("data-tier") for c in having(root, "cut-line")] == ["1", "2", "3"]
    labels = [e.text for e in having(root, "cut-label")]
    assert labels == ["Tier 1 Strategic ≥ $250K", "Tier 2 Growth ≥ $50K", "Tier 3 Scale ≥ $25K"]
    (curve,) = having(root, "curve")
    points = curve.get("points").split()
    assert len(points) == len(arrs) + 1  # from (0, 0) through every account
    first, last = (tuple(map(float, p.split(","))) for p in (points[0], points[-1]))
    assert first[0] < last[0] and first[1] > last[1]  # up and to the right
    ticks = [e.text for e in having(root, "tick")]
    assert "0%" in ticks and "100%" in ticks


def test_thousands_of_accounts_are_downsampled_to_500_curve_points():
    root = svg(render_html(make_result(portfolio(5000)), default_config()), "pareto")
    points = having(root, "curve")[0].get("points").split()
    assert len(points) <= MAX_CURVE_POINTS
    full = svg(render_html(make_result(portfolio(100)), default_config()), "pareto")
    ends = having(full, "curve")[0].get("points").split()
    assert (points[0], points[-1]) == (ends[0], ends[-1])


def test_tier_table_marks_shares_outside_their_targets():
    page = render_html(make_result([1_000_000] + [10_000] * 9), default_config())
    table = re.search(r'<table id="tiers">.*?</table>', page, re.S).group(0)
    # Tier 1 holds 10% of accounts (on target) but 91.7% of ARR (target 50-60).
    assert '<td class="n">10%</td>' in table
    assert re.search(r'<td class="n off"[^>]*>91\.7% ⚠</td>', table)


def test_health_bars_have_one_segment_per_band_in_proportion_to_counts():
    # Tier 3: 6 Healthy, 3 At Risk, 1 unknown; Tier 1: 2 Critical.
    arrs = [30_000] * 10 + [300_000] * 2
    bands = ["Healthy"] * 6 + ["At Risk"] * 3 + ["unknown"] + ["Critical"] * 2
    result = make_result(arrs)
    for account in result.accounts:
        account.health_band = bands[int(account.account_id[1:])]
    root = svg(render_html(result, default_config()), "health-by-tier")
    bars = having(root, "tier-bar")
    assert [b.get("data-tier") for b in bars] == ["1", "2", "3", "4"]
    segs = {b.get("data-tier"): having(b, "band-seg") for b in bars}
    assert [(s.get("data-band"), s.get("data-count")) for s in segs["3"]] == [
        ("Healthy", "6"), ("At Risk", "3"), ("unknown", "1")]
    widths = [float(s.get("width")) for s in segs["3"]]
    assert widths[0] / widths[1] == pytest.approx(2) and widths[0] / widths[2] == pytest.approx(6)
    assert sum(widths) == pytest.approx(float(segs["1"][0].get("width")))  # full-width bars
    assert segs["3"][2].get("fill") == "#9e9e9e"  # unknown in grey
    assert [s.get("fill") for s in segs["3"][:2]] == ["#2e7d32", "#e8710a"]  # Green, Orange
    assert [e.text for e in having(bars[2], "count")] == ["6", "3", "1"]
    assert segs["2"] == [] and segs["4"] == []


def test_the_missing_components_note_names_components_and_counts():
    page = render_html(make_result(portfolio(), health_source="health.json",
                                   missing_components={"nps": 12, "usage": 0}),
                       default_config())
    assert "Health inputs: health.json" in page
    assert "NPS / satisfaction signal: 12" in page and "Product usage" not in page.split(
        "Health inputs")[1].split("</p>")[0]


def test_csm_load_has_one_bar_per_book_a_capacity_line_and_marks_mixed_books():
    owners = [f"csm{i}@example.com" for i in range(6)]
    result = make_result(portfolio(200), owners=owners)
    root = svg(render_html(result, default_config()), "csm-load")
    bars = having(root, "book-bar")
    assert len(bars) == 6
    assert [b.get("data-load") for b in bars] == [f"{b.load:.2f}" for b in result.books]
    assert len(having(root, "mixed")) == 1
    assert any("mixed" in (e.text or "") for e in having(root, "book-load"))
    assert len(having(root, "capacity-line")) == 1
    assert [e.text for e in having(root, "book-name")] == [b.name for b in result.books]


def test_hundreds_of_csms_are_capped_and_summed_up():
    books = [CsmBook(owner_email=f"c{i}@example.com", name=None, accounts_by_tier={3: 10},
                     arr=1e5, load=round(2 - i / 200, 2), mixed=False) for i in range(300)]
    root = svg(render_html(make_result(portfolio(), books=books, csms=300), default_config()),
               "csm-load")
    assert len(having(root, "book-bar")) == MAX_BOOK_BARS
    assert float(root.get("height")) < 1400
    assert f"+ {300 - MAX_BOOK_BARS} more books" in having(root, "more")[0].text


def test_allocation_table_shows_ratio_target_and_coverage():
    page = render_html(make_result(portfolio(100), csms=1), default_config())
    table = re.search(r'<table id="allocation">.*?</table>', page, re.S).group(0)
    assert "25 (15-25)" in table and "automated" in table
    assert '<span class="flag ok">ok</span>' in table


def test_hostile_names_are_escaped_everywhere():
    owners = [f"{HOSTILE}@example.com"]
    books = [CsmBook(owner_email=owners[0], name=HOSTILE, accounts_by_tier={1: 1}, arr=1e6,
                     load=0.2, mixed=True, note=HOSTILE)]
    mover = Mover(account_id="a0", name=HOSTILE, from_tier=2, to_tier=1, direction="promote",
                  rule="high-potential", detail=HOSTILE)
    config = default_config()
    config.tiers[0].details["Motion"] = HOSTILE
    config.tiers[1].name = '"Growth" & <b>'
    result = make_result(portfolio(), owners=owners, books=books, movers=[mover],
                         names={0: HOSTILE}, health_source=HOSTILE,
                         missing_components={HOSTILE: 3}, config_path=HOSTILE)
    result.tiers[1].name = '"Growth" & <b>'
    page = render_html(result, config)
    assert "<script" not in page.lower() and "<b>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert_self_contained(page)
    for svg_id in ("pareto", "health-by-tier", "csm-load"):
        svg(page, svg_id)  # still well-formed


def test_movers_table_or_a_note_with_the_number_of_snapshots():
    mover = Mover(account_id="a1", name="Acme", from_tier=2, to_tier=1, direction="promote",
                  rule="arr-crossed", detail="ARR $260k at renewal")
    page = render_html(make_result(portfolio(), movers=[mover]), default_config())
    assert '<table id="movers">' in page and "promote Tier 2 → 1" in page
    none = render_html(make_result(portfolio(), snapshots=3), default_config())
    assert "No movers this quarter" in none and "3 earlier quarterly snapshots" in none
    first = render_html(make_result(portfolio()), default_config())
    assert "first quarterly snapshot" in first


@pytest.mark.parametrize("case", ["one account", "one tier", "no books", "zero ARR",
                                  "no CSMs", "no accounts"])
def test_edge_cases_render(case):
    arrs, kw = portfolio(), {}
    if case == "one account":
        arrs = [120_000]
    elif case == "one tier":
        arrs = [30_000 + i for i in range(40)]
    elif case == "no books":
        kw["books"] = []
    elif case == "zero ARR":
        arrs = [0.0] * 12
    elif case == "no CSMs":
        kw.update(csms=0, books=[])
    elif case == "no accounts":
        arrs, kw["books"] = [], []
    page = render_html(make_result(arrs, **kw), default_config())
    assert_self_contained(page)
    for svg_id in ("pareto", "health-by-tier", "csm-load"):
        root = svg(page, svg_id)
        assert float(root.get("height")) > 0
        for text in root.iter("text"):
            assert "nan" not in (text.text or "").lower()
    assert len(having(svg(page, "pareto"), "tier-region")) == 4


def test_svg_text_is_at_least_11px():
    page = render_html(make_result(portfolio()), default_config())
    sizes = [float(s) for s in re.findall(r"font-size:\s*(\d+(?:\.\d+)?)px", page)]
    sizes += [float(s) for s in re.findall(r'font-size="(\d+(?:\.\d+)?)"', page)]
    assert sizes and min(sizes) >= 11


@pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed")
def test_the_page_renders_in_headless_chromium(tmp_path):
    owners = [f"csm{i}@example.com" for i in range(6)]
    page = tmp_path / "segmentation.html"
    page.write_text(render_html(make_result(portfolio(200), owners=owners), default_config()),
                    encoding="utf-8")
    dom = dump_dom(page, timeout=30)
    for svg_id, cls, count in (("pareto", "tier-region", 4), ("pareto", "cut-line", 3),
                               ("health-by-tier", "tier-bar", 4), ("csm-load", "book-bar", 6)):
        root = re.search(rf'<svg id="{svg_id}".*?</svg>', dom, re.S)
        assert root, f"Chromium's DOM has no <svg id={svg_id}>"
        assert len(re.findall(rf'class="{cls}[ "]', root.group(0))) == count, (svg_id, cls)
    assert "<polyline" in dom and "band-seg" in dom and "capacity-line" in dom
    png = screenshot(page, tmp_path / "page.png", width=1280, height=1400, timeout=30)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (1280, 1400)
    assert len(data) > 10_000  # a blank page of that size compresses to a few kB


# --- issue 17: account lists, staffing, motions, snapshots, label geometry ---------------

def test_each_tier_gets_a_details_list_and_a_long_tier_stays_short():
    from esd.render.segmentation_accounts import MAX_LISTED

    arrs = [300_000, 260_000] + [30_000 + i for i in range(2000)] + [10_000] * 5
    mover = Mover(account_id="a1", name="Account 1", from_tier=1, to_tier=2,
                  direction="demote", rule="no-signals", detail="quiet")
    result = make_result(arrs, movers=[mover])
    result.accounts[0].play, result.accounts[0].at_risk = "save", True
    result.accounts[1].mover, result.accounts[1].mover_to = "demote", 2
    page = render_html(result, default_config())
    assert page.count("<th>Mover</th>") == 3  # the tiers with a list
    still = render_html(make_result(arrs), default_config())
    assert "<th>Mover</th>" not in still  # no movers at all: no empty column
    assert_self_contained(page)
    lists = re.findall(r'<details class="tier-accounts" data-tier="(\d)"( open)?>(.*?)'
                       r"</details>", page, re.S)
    assert [(t, bool(o)) for t, o, _ in lists] == [("1", True), ("2", False), ("3", False),
                                                   ("4", False)]
    body = {t: b for t, _, b in lists}
    assert body["1"].count("<tr class=") == 2 and "↓ Tier 2" in body["1"]
    assert body["1"].index("play-save") < body["1"].index("play-standard")
    assert body["3"].count("<tr class=") == MAX_LISTED
    assert f"Showing the first {MAX_LISTED} of 2,000 accounts" in body["3"]
    assert "Showing the first" not in body["4"] and body["4"].count("<tr class=") == 5
    assert "No accounts." in body["2"]
    assert len(page) < 150_000  # 2,000 accounts add 25 rows, not 2,000


def test_the_staffing_table_has_needs_gap_and_the_reason_for_under_coverage():
    result = make_result(portfolio())
    row = result.allocation[1]
    row.csms, row.needed, row.needed_by_accounts, row.needed_by_arr = 2, 5, 2, 5
    row.binding, row.coverage, row.arr_reachable = "arr", "under-covered", True
    result.allocation[0].arr_reachable = False
    result.csms, result.csms_needed, result.csms_needed_by_accounts = 2, 5, 2
    page = render_html(result, default_config())
    table = re.search(r'<table id="allocation">.*?</table>', page, re.S).group(0)
    assert "<th>Needs</th><th>Gap</th>" in table
    assert ('<td class="n needed">5</td><td class="n gap"><span class="off">3 short</span>'
            in table)
    assert 'under-covered</span> <span class="why">(ARR per CSM)</span>' in table
    assert "Tier 1 Strategic: its accounts average" in page  # out of reach at one per account
    assert '<p class="big">needs 5 CSMs · has 2 · <span class="off">3 short</span>' in page


def test_motion_cards_set_the_current_motion_against_the_recommended_one():
    result = make_result(portfolio(), target_nrr=120, stance="expansion-led")
    result.tiers[2].current_motion = "High-Touch <b>for all</b>"
    result.tiers[2].motion_fit = "heavier than recommended"
    page = render_html(result, default_config())
    card = page.split('<div class="card" data-tier="3">', 1)[1].split("</div>", 1)[0]
    assert "High-Touch &lt;b&gt;for all&lt;/b&gt;" in card
    assert '<span class="flag above">heavier than recommended</span>' in card
    assert "(target NRR 120%, expansion-led)" in card
    other = page.split('<div class="card" data-tier="1">', 1)[1].split("</div>", 1)[0]
    assert "not stated in 4-segmentation.md" in other


@pytest.mark.parametrize(("state", "label", "says", "never"), [
    ("off", None, "quarterly snapshots are off (--no-state)", "first quarterly snapshot"),
    ("absent", "esd-state.db", "there is no state store at esd-state.db",
     "first quarterly snapshot"),
    ("kept", "state.db", "this is the first quarterly snapshot", "--no-state"),
])
def test_the_movers_note_says_why_there_are_none(state, label, says, never):
    page = render_html(make_result(portfolio(), state=state, state_label=label),
                       default_config())
    movers = re.search(r'<p id="movers">.*?</p>', page, re.S).group(0)
    assert says in movers and never not in movers
    assert never not in page.split('id="snapshots"')[1].split("</p>")[0]


GEOMETRY = """<script>
(function () {
  const svg = document.getElementById("csm-load");
  const box = e => { const b = e.getBBox(); return [b.x, b.y, b.width, b.height]; };
  const out = {line: box(svg.querySelector(".capacity-line")),
               texts: [...svg.querySelectorAll("text")].map(
                 t => ({text: t.textContent, cls: t.getAttribute("class"), box: box(t)}))};
  const pre = document.createElement("pre");
  pre.id = "geometry";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


def overlaps(a, b, pad: float = 1.0) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return (ax < bx + bw + pad and bx < ax + aw + pad and ay < by + bh and by < ay + ah)


@pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed")
def test_no_label_crosses_the_full_time_line_or_another_label(tmp_path):
    """Measured by Chromium itself: a test-only script (never in the page esd writes)
    records each text's box in the load chart."""
    loads = [1.31, 1.02, 0.99, 0.97, 0.93, 0.9, 0.86, 0.8, 0.72, 0.4, 0.05]
    books = [CsmBook(owner_email=f"c{i}@example.com", name=f"CSM {i}",
                     accounts_by_tier={1: 2, 3: 20}, arr=1e6, load=load, mixed=i % 2 == 0,
                     note="mixed" if i % 2 == 0 else None) for i, load in enumerate(loads)]
    page = render_html(make_result(portfolio(), books=books), default_config())
    assert "<script" not in page
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", GEOMETRY + "</body>"), encoding="utf-8")
    dom = dump_dom(probe, timeout=30)
    found = re.search(r'<pre id="geometry">(.*?)</pre>', dom, re.S)
    assert found, "the probe script did not run"
    import html
    import json

    geometry = json.loads(html.unescape(found.group(1)))
    line = geometry["line"]
    texts = geometry["texts"]
    assert len([t for t in texts if t["cls"] == "book-load"]) == len(loads)
    crossing = [t["text"] for t in texts if overlaps(t["box"], line)]
    assert crossing == []
    clashes = [(a["text"], b["text"]) for i, a in enumerate(texts) for b in texts[i + 1:]
               if overlaps(a["box"], b["box"], pad=0)]
    assert clashes == []
    # Each load label stays on its bar's row, right of where its bar ends.
    bars = re.findall(r'<rect class="book-bar[^"]*" data-load="([\d.]+)" x="([\d.]+)" '
                      r'y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', page)
    labels = [t for t in texts if t["cls"] == "book-load"]
    for (load, x, y, width, height), label in zip(bars, labels, strict=True):
        lx, ly, _, lh = label["box"]
        assert lx >= float(x) + float(width), load
        assert float(y) - 2 <= ly + lh / 2 <= float(y) + float(height) + 2, load
