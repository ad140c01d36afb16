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
