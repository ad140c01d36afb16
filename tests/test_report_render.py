"""report.json's shape (contract §12), report.md, and report.html: self-contained, one
bar per breakdown row and a column per month, every source string escaped, and in
headless Chromium no script and no horizontal overflow at desktop or phone width."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from chromium import chromium_path, dump_dom
from test_report_metrics import history, rec, sig
from test_segment_html import assert_self_contained

from esd.outcomes.metrics import NEEDS_REVIEW, measure
from esd.render.report import dumps, render_markdown, to_json
from esd.render.report_html import MAX_ROWS, render_html

AS_OF = datetime(2026, 11, 23, tzinfo=UTC)
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)"> | [x](javascript:y)'
TALLY_KEYS = {"delivered", "converted", "noise", "no_conversation", "unknown",
              "conversion_rate"}


def sample():
    """Three complete months (the last two low) and this month's open signals; hostile
    names in every breakdown."""
    signals, outcomes = history(("2026-08", 20, 6), ("2026-09", 20, 3), ("2026-10", 20, 2))
    recent = AS_OF.date() - timedelta(days=3)
    signals += [sig("h1", recent, sku=HOSTILE, owner=f"{HOSTILE}@x.example",
                    triggers=(HOSTILE, "SSO"), action_row=HOSTILE),
                sig("h2", recent, action_row=None),
                sig("h3", AS_OF.date() - timedelta(days=20))]
    outcomes["h1"] = rec("h1", "converted", recent)
    return measure(signals, outcomes, AS_OF)


def test_report_json_holds_the_contract_keys():
    data = json.loads(dumps(sample()))
    assert list(data)[:8] == ["as_of", "trailing_30d", "by_sku", "by_trigger", "by_action",
                              "by_csm", "months", "warnings"]
    assert data["as_of"] == "2026-11-23T00:00:00Z"
    assert set(data["trailing_30d"]) >= TALLY_KEYS
    for key in ("by_sku", "by_trigger", "by_action", "by_csm"):
        assert data[key] and all(set(t) >= TALLY_KEYS for t in data[key].values()), key
    assert [m["month"] for m in data["months"]] == ["2026-08", "2026-09", "2026-10",
                                                    "2026-11"]
    for entry in data["months"]:
        assert TALLY_KEYS | {"month", "complete"} <= set(entry)
        assert re.fullmatch(r"\d{4}-\d{2}", entry["month"])
    assert [m["complete"] for m in data["months"]] == [True, True, True, False]
    assert isinstance(data["warnings"], list) and len(data["warnings"]) == 1
    assert "2026-09" in data["warnings"][0] and "2026-10" in data["warnings"][0]
    # Figures: h1 converted, h2 and h3 open or settled without an outcome.
    trailing = data["trailing_30d"]
    assert (trailing["delivered"], trailing["converted"], trailing["unknown"],
            trailing["no_conversation"]) == (3, 1, 1, 1)
    assert trailing["conversion_rate"] == pytest.approx(1 / 3)
    assert data["by_action"][NEEDS_REVIEW]["delivered"] == 1
    assert data["by_csm"][f"{HOSTILE}@x.example"]["converted"] == 1
    assert data["months"][2]["conversion_rate"] == pytest.approx(0.1)


def test_nothing_delivered_gives_null_rates_and_empty_tables():
    data = to_json(measure([], {}, AS_OF))
    assert data["trailing_30d"]["conversion_rate"] is None
    assert data["trailing_30d"]["delivered"] == 0
    assert (data["by_sku"], data["months"], data["warnings"]) == ({}, [], [])
    assert "No delivered strong signal is recorded" in render_markdown(measure([], {}, AS_OF))


def test_markdown_tables_keep_their_columns_with_hostile_names():
    text = render_markdown(sample())
    assert "> **Warning:** Conversion below 20 % for 2 consecutive complete months" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    header_cells = {line.count(" | ") for line in rows if line.startswith("| SKU |")}
    hostile_rows = [line for line in rows if "script" in line]
    assert hostile_rows
    for line in hostile_rows:  # the name's own | is escaped: the row keeps its cells
        assert line.replace("\\|", "").count(" | ") in header_cells
        assert "<script>" not in line and "\\<script\\>" in line and "\\[x\\]" in line
    assert "| 2026-11 | from 2026-12-14 | 3 |" in text


def svgs(page: str) -> list[ET.Element]:
    """Every inline SVG, parsed as XML (so each must be well-formed)."""
    return [ET.fromstring(s) for s in re.findall(r"<svg\b.*?</svg>", page, re.S)]


class Loads(HTMLParser):
    """Every element or attribute of a parsed page that runs code or loads a resource."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.found: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "img", "iframe", "link", "object", "embed", "image", "use"):
            self.found.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href") or name.startswith("on") \
                    or "url(" in (value or "") or "@import" in (value or ""):
                self.found.append(f"{tag} {name}")


def test_the_page_is_self_contained_with_a_trend_and_a_bar_per_row():
    m = sample()
    page = render_html(m)
    assert Loads(page).found == []
    assert "@import" not in page and "url(" not in page.split("</style>")[0]
    plain = render_html(measure(*history(("2026-09", 20, 2), ("2026-10", 20, 5)), AS_OF))
    assert_self_contained(plain)  # and on a page without hostile names, by plain text
    assert Loads(plain.replace("<main>", '<main><img src="x.png">')).found == [
        "img", "img src"]  # the parser sees what it looks for
    parsed = svgs(page)
    trend = next(s for s in parsed if s.get("id") == "trend")
    months = [g for g in trend.iter("g") if "month" in (g.get("class") or "").split()]
    assert [g.get("data-month") for g in months] == ["2026-08", "2026-09", "2026-10",
                                                     "2026-11"]
    assert ["incomplete" in g.get("class") for g in months] == [False, False, False, True]
    assert [g.get("data-band") for g in months][:3] == ["healthy", "below-20", "below-20"]
    # Only November has open signals: only its column has a pale part above the rate.
    open_heights = [float(next(r for r in g.iter("rect") if r.get("class") == "open")
                          .get("height")) for g in months]
    assert open_heights[:3] == [0, 0, 0] and open_heights[3] > 0
    for section, key in (("by-sku", "by_sku"), ("by-trigger", "by_trigger"),
                         ("by-action", "by_action"), ("by-csm", "by_csm")):
        block = re.search(rf'<div class="bars" id="{section}">(.*?)</div>\s*(?:<p|<h2)',
                          page, re.S)
        assert block, section
        assert block.group(1).count('class="bar-row" data-key') == len(getattr(m, key))
    # Each bar: the 25-40 % band, the 20 % line, the rate and its open extension.
    bar = next(s for s in parsed if s.get("class") == "bar")
    classes = [e.get("class") for e in bar]
    assert {"band-zone", "low-line", "rate", "open"} <= set(classes)
    band = next(e for e in bar if e.get("class") == "band-zone")
    assert (band.get("x"), band.get("width")) == ("25", "15")
    # The trailing card's bar: 1 of 3 converted, 1 open (so at most 2 of 3).
    rate, open_ = (next(e for e in bar if e.get("class") == c) for c in ("rate", "open"))
    assert (rate.get("width"), open_.get("x"), open_.get("width")) == ("33.33", "33.33",
                                                                       "33.33")
    assert len(re.findall(r'class="warning"', page)) == 1


def test_every_source_string_is_escaped():
    page = render_html(sample())
    lowered = page.lower()
    assert "<script" not in lowered and "<img" not in lowered and "onerror=\"" not in page
    assert Loads(page).found == []
    assert html.escape(HOSTILE, quote=True) in page
    svgs(page)  # still well-formed


def test_long_breakdowns_are_capped_and_say_so():
    day = AS_OF.date() - timedelta(days=5)
    signals = [sig(f"s{i}", day, owner=f"csm{i}@x.example") for i in range(MAX_ROWS + 7)]
    page = render_html(measure(signals, {}, AS_OF))
    block = re.search(r'<div class="bars" id="by-csm">.*?</div><p class="note">(.*?)</p>',
                      page, re.S)
    assert block and "+ 7 more" in block.group(1)
    assert block.group(0).count('class="bar-row" data-key') == MAX_ROWS


def test_an_empty_store_still_renders():
    page = render_html(measure([], {}, AS_OF))
    assert_self_contained(page)
    assert "No delivered signals yet" in page and "No month is complete yet" in page
    svgs(page)


# --- headless Chromium -----------------------------------------------------------------

def probe(page: str, width: int) -> str:
    """A test-only wrapper: the report in a `width` px iframe (srcdoc, so same origin),
    and a script that writes the report's own layout figures onto the wrapper's body.
    The report itself has no script; Chromium's headless window is at least 500 px wide,
    so a phone width needs the iframe."""
    return (f'<!DOCTYPE html><html><body style="margin:0"><iframe id="f" width="{width}" '
            f'height="900" style="border:0" srcdoc="{html.escape(page, quote=True)}">'
            '</iframe><script>window.addEventListener("load", function () {'
            'var d = document.getElementById("f").contentDocument;'
            'document.body.setAttribute("data-layout", JSON.stringify({'
            'scroll: d.documentElement.scrollWidth, client: d.documentElement.clientWidth,'
            'svg: d.querySelectorAll("svg").length,'
            'scripts: d.querySelectorAll("script,img,iframe").length,'
            # \u003c: a literal "</script>" would end this script element
            'hostile: d.body.textContent.indexOf("\\u003cscript>alert(1)\\u003c/script>")'
            ' >= 0}));'
            '});</script></body></html>')


def layout(tmp_path, page: str, width: int) -> dict:
    path = tmp_path / f"probe-{width}.html"
    path.write_text(probe(page, width), encoding="utf-8")
    dom = dump_dom(path, timeout=30)
    found = re.search(r'data-layout="([^"]*)"', dom)
    assert found, "the probe did not run"
    return json.loads(html.unescape(found.group(1)))


chromium = pytest.mark.skipif(chromium_path() is None,
                              reason="Debian's chromium is not installed")


@chromium
def test_chromium_parses_the_page_with_no_script_and_its_charts(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(sample()), encoding="utf-8")
    dom = dump_dom(page, timeout=30)
    assert "<script" not in dom.lower() and "<img" not in dom.lower()
    assert '<svg id="trend"' in dom and dom.count('<svg class="bar"') >= 8
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # shown as text


@chromium
@pytest.mark.parametrize("width", [1280, 360])
def test_no_horizontal_overflow_at_desktop_and_phone_width(tmp_path, width):
    m = sample()
    # A long unbroken name and two years of months: the widest the page gets.
    signals = [sig(f"m{i}", date(2024, 11, 5) + timedelta(days=31 * i),
                   owner="a.very.long.csm.address.without.spaces." * 3 + "@x.example")
               for i in range(24)]
    for page in (render_html(m), render_html(measure(signals, {}, AS_OF))):
        figures = layout(tmp_path, page, width)
        assert figures["client"] == width
        assert figures["scroll"] <= width, figures
        assert figures["svg"] >= 2 and figures["scripts"] == 0
    assert layout(tmp_path, render_html(m), width)["hostile"] is True


@chromium
def test_the_overflow_probe_sees_an_overflowing_page(tmp_path):
    """The control: the same probe on a page with a 600 px element reports overflow."""
    page = render_html(sample()).replace("<main>", '<main><div style="width:600px">x</div>')
    figures = layout(tmp_path, page, 360)
    assert figures["scroll"] > 360
