"""backtest.html (contract §13): one self-contained page, checked on hand-built backtests
and once, from a real backtest, in headless Chromium; backtest.md's escaping."""

from __future__ import annotations

import re
import struct
from datetime import UTC, datetime, timedelta

import pytest
from builders import write_portfolio
from chromium import chromium_path, dump_dom, screenshot
from test_backtest import ANA, AS_OF, backtest, records
from test_segment_html import assert_self_contained, having, svg

from esd.outcomes.backtest import Backtest, Comparison, Counts, CsmWeek, Week, aborted_week
from esd.render.backtest import render_markdown, to_json
from esd.render.backtest_html import MAX_PANELS, render_html

HOSTILE = "<script>alert(1)</script>"
START = datetime(2026, 11, 2, tzinfo=UTC)


def make(csms: dict[str, list[int | None]], cap: int = 3, flooded=(), aborted=(),
         skus=None, triggers=None, **kw) -> Backtest:
    """A backtest whose CSM `e` has `csms[e][k]` strong signals (before the cap) in week
    k (None: no digest); `flooded` holds (email, k) pairs, `aborted` week indexes."""
    n = len(next(iter(csms.values()))) if csms else 1
    weeks = []
    for k in range(n):
        as_of = START + timedelta(weeks=k)
        if k in aborted:
            weeks.append(aborted_week(as_of, 20.0, "coverage error: only 20.0%"))
            continue
        rows = [CsmWeek(e, min(t[k], cap), max(0, t[k] - cap), 1,
                        "_Strong-signal threshold may be too loose_" if (e, k) in flooded
                        else None)
                for e, t in csms.items() if t[k] is not None]
        weeks.append(Week(as_of=as_of, coverage_pct=80.0, csms=rows,
                          by_sku={s: Counts(*c) for s, c in (skus or {}).items()}
                          if k == 0 else {},
                          by_trigger={p: Counts(*c) for p, c in (triggers or {}).items()}
                          if k == 0 else {}))
    return Backtest(weeks=weeks, cap_per_csm=cap, taxonomy_hash="abc1234",
                    source="input-dir", source_path="pulled", **kw)


def test_the_page_is_self_contained_with_its_charts_and_tables():
    page = render_html(make({ANA: [4, 5, 4, 2]}, skus={"enterprise-tier": (17, 4)},
                            triggers={"do you support SSO": (17, 2)}))
    assert_self_contained(page)
    for svg_id in ("csm-weeks", "by-sku"):
        assert page.count(f'<svg id="{svg_id}"') == 1
    for table in ("weeks", "triggers"):
        assert f'<table id="{table}">' in page
    assert 'id="outcomes"' in page and "No state store to compare with" in page
    order = [page.index(s) for s in ('id="weeks"', 'id="csm-weeks"', 'id="by-sku"',
                                     'id="triggers"', 'id="outcomes"')]
    assert order == sorted(order)


def test_each_csm_gets_a_panel_with_a_bar_per_week_split_at_the_cap():
    bt = make({ANA: [4, 5, 3, 0], "ben@x.io": [1, None, 0, 3]}, flooded=[(ANA, 2)])
    root = svg(render_html(bt), "csm-weeks")
    panels = having(root, "panel")
    assert [p.get("data-owner") for p in panels] == [ANA, "ben@x.io"]  # flooding first
    ana = having(panels[0], "bar")
    assert [(b.get("data-strong"), b.get("data-overflow")) for b in ana] == [
        ("3", "1"), ("3", "2"), ("3", "0"), ("0", "0")]
    assert [b.get("data-flooding") for b in ana] == ["0", "0", "1", "0"]
    assert len(having(panels[1], "bar")) == 3  # no digest in week 2: no bar
    (cap,) = having(panels[0], "cap-line")
    for bar in ana[:3]:  # three listed reach the cap line exactly; overflow sits above it
        (listed,) = having(bar, "listed")
        assert float(listed.get("y")) == pytest.approx(float(cap.get("y1")), abs=0.11)
    (over,) = having(ana[1], "overflow")
    listed = having(ana[1], "listed")[0]
    assert float(over.get("height")) == pytest.approx(2 / 3 * float(listed.get("height")),
                                                      abs=0.2)
    assert len(having(root, "flood")) == 1 and having(ana[2], "flood")
    assert len(having(root, "cap-line")) == 2


def test_aborted_weeks_are_marked_in_every_panel_and_the_weeks_table():
    bt = make({ANA: [4, 0, 2], "ben@x.io": [1, 0, 0]}, aborted=[1])
    page = render_html(bt)
    root = svg(page, "csm-weeks")
    marks = having(root, "aborted")
    assert [m.get("data-week") for m in marks] == ["2026-11-09"] * 2
    assert "aborted: coverage below the threshold" in page


def test_sku_bars_are_in_proportion_strong_then_weak():
    root = svg(render_html(make({ANA: [1]}, skus={"enterprise-tier": (6, 2),
                                                  "premium-feature-pack": (0, 4)})), "by-sku")
    bars = having(root, "sku-bar")
    assert [(b.get("data-sku"), b.get("data-strong"), b.get("data-weak")) for b in bars] == [
        ("enterprise-tier", "6", "2"), ("premium-feature-pack", "0", "4")]
    strong = float(having(bars[0], "strong")[0].get("width"))
    weak = float(having(bars[1], "weak")[0].get("width"))
    assert strong / weak == pytest.approx(6 / 4)


def test_hundreds_of_csms_are_capped_and_many_weeks_label_only_the_ends():
    csms = {f"csm{i:03}@x.io": [i % 5] * 26 for i in range(120)}
    page = render_html(make(csms))
    root = svg(page, "csm-weeks")
    assert len(having(root, "panel")) == MAX_PANELS
    assert f"+ {120 - MAX_PANELS} more CSMs" in page
    first = having(root, "panel")[0]
    dates = [t.text for t in first.iter("text") if re.fullmatch(r"\d\d-\d\d", t.text or "")]
    assert dates == ["11-02", "04-26"]  # 26 weeks: the first and the last
    assert float(root.get("width")) <= 1240


def test_outcome_table_when_a_store_was_compared():
    bt = make({ANA: [4, 2]})
    rows = [Comparison(as_of=w.as_of, recorded=True) for w in bt.weeks]
    rows[1].then.add("converted")
    rows[1].then.add("noise")
    rows[1].kept.add("converted")
    rows[1].dropped.add("noise")
    rows[1].dropped_as["weak"] = 1
    rows[1].new = 3
    overall = Comparison(as_of=None, recorded=False)
    for row in rows:
        overall.merge(row)
    bt.comparison, bt.overall, bt.state = rows, overall, "esd-state.db"
    page = render_html(bt)
    table = re.search(r'<table id="outcomes">.*?</table>', page, re.S).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", table)
    assert cells[11:22] == ["2026-11-09", "2", "1", "1", "0", "0", "50%", "1", "100%",
                            "1 (0/1/0)", "3"]
    assert cells[22] == "All weeks"
    assert to_json(bt)["outcomes"]["overall"]["then"]["precision"] == 0.5


def test_hostile_text_is_escaped_in_the_page_and_the_markdown():
    email = f"{HOSTILE}@x.io"
    bt = make({email: [5, 5, 5]}, flooded=[(email, 2)], aborted=(),
              skus={HOSTILE: (1, 1), "a|b": (0, 1)}, triggers={HOSTILE: (1, 0)},
              notes=[HOSTILE], state=HOSTILE)
    bt.source_path = HOSTILE
    bt.weeks[2].csms[0] = CsmWeek(email, 3, 2, 0, HOSTILE)
    bt.weeks.append(aborted_week(START + timedelta(weeks=3), 1.0, HOSTILE))
    bt.comparison = [Comparison(as_of=w.as_of, recorded=False) for w in bt.weeks]
    bt.overall = Comparison(as_of=None, recorded=False)
    page = render_html(bt)
    assert "<script" not in page.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert_self_contained(page)
    for svg_id in ("csm-weeks", "by-sku"):
        svg(page, svg_id)  # still well-formed XML
    md = render_markdown(bt)
    assert "<script>" not in md and "\\<script\\>" in md
    assert "| a\\|b | 0 | 1 |" in md


def test_svg_text_is_at_least_11px():
    page = render_html(make({ANA: [4, 5, 4, 2]}, skus={"x": (1, 1)}))
    sizes = [float(s) for s in re.findall(r"font-size:\s*(\d+(?:\.\d+)?)px", page)]
    assert sizes and min(sizes) >= 11


@pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not installed")
def test_a_real_backtest_renders_in_headless_chromium(tmp_path):
    folder = write_portfolio(tmp_path / "five-weeks", **records())
    out = tmp_path / "bt"
    assert backtest("--input-dir", str(folder), "--weeks", "5", "--as-of", AS_OF,
                    out=out).exit_code == 0
    dom = dump_dom(out / "backtest.html", timeout=30)
    chart = re.search(r'<svg id="csm-weeks".*?</svg>', dom, re.S)
    assert chart, "Chromium's DOM has no <svg id=csm-weeks>"
    for cls, count in (("panel", 2), ("bar", 8), ("cap-line", 2), ("flood", 1),
                       ("aborted", 2), ("overflow", 3)):
        assert len(re.findall(rf'class="{cls}[ "]', chart.group(0))) == count, cls
    assert len(re.findall(r'class="sku-bar"', dom)) == 3
    png = screenshot(out / "backtest.html", tmp_path / "page.png", width=1280, height=1400,
                     timeout=30)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (1280, 1400)
    assert len(data) > 10_000  # a blank page of that size compresses to a few kB
