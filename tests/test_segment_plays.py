"""What a leader acts on (issue 17): the staffing need at both of the seed's ratios, the
coverage verdict that follows it, plays by target NRR, the order of each tier's list,
and the current motion against the recommended one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from builders import AS_OF, account, write_portfolio
from conftest import TEST_REFS
from typer.testing import CliRunner

from esd.cli import app
from esd.references.schema import HealthBand
from esd.references.segmentation_defaults import BANDS, default_config
from esd.segment.plays import at_risk_bands, list_order, motion_fit, play, stance
from esd.segment.staffing import coverage, need


def segment(*args: str):
    return CliRunner().invoke(app, ["segment", *args])


# --- units --------------------------------------------------------------------------------

@pytest.mark.parametrize(("target", "name", "floors"), [
    (90, "retention-led", ("HIGH", "HIGH", "HIGH", "HIGH")),
    (104.9, "retention-led", ("HIGH", "HIGH", "HIGH", "HIGH")),
    (105, "balanced", ("MEDIUM", "MEDIUM", "HIGH", "HIGH")),
    (114.9, "balanced", ("MEDIUM", "MEDIUM", "HIGH", "HIGH")),
    (115, "expansion-led", ("LOW", "MEDIUM", "MEDIUM", "HIGH")),
    (150, "expansion-led", ("LOW", "MEDIUM", "MEDIUM", "HIGH")),
])
def test_the_target_nrr_sets_the_stance_and_the_potential_that_earns_a_proactive_play(
        target, name, floors):
    got, by_tier = stance(target)
    assert got == name and tuple(by_tier[t] for t in (1, 2, 3, 4)) == floors


def test_plays_put_risk_before_any_potential():
    _, floors = stance(110)
    assert play(True, 1, "HIGH", floors) == "save"
    assert play(False, 1, "MEDIUM", floors) == "expand"
    assert play(False, 3, "MEDIUM", floors) == "standard"  # Tier 3 waits for HIGH at 110%
    assert play(False, 4, "HIGH", floors) == "expand"
    assert play(False, 1, "LOW", floors) == "standard"
    assert play(False, 1, "LOW", stance(120)[1]) == "expand"


def test_at_risk_is_the_lower_half_of_the_bands():
    assert at_risk_bands(BANDS) == {"At Risk", "Critical"}
    three = [HealthBand(name=n, min_score=s, color="") for n, s in
             (("Good", 70), ("Watch", 40), ("Bad", 0))]
    assert at_risk_bands(three) == {"Bad"}


def test_each_tier_lists_save_then_expand_by_potential_then_the_rest_by_arr():
    rows = [("standard", "LOW", 900, "big"), ("expand", "MEDIUM", 800, "med"),
            ("save", "LOW", 100, "risk-small"), ("expand", "HIGH", 50, "high-small"),
            ("save", "HIGH", 700, "risk-big"), ("standard", "LOW", 200, "small")]
    ordered = sorted(rows, key=lambda r: list_order(*r))
    assert [r[3] for r in ordered] == ["risk-big", "risk-small", "high-small", "med", "big",
                                       "small"]


@pytest.mark.parametrize(("current", "recommended", "fit"), [
    ("High-Touch: named CSM, QBR every quarter", "High-Touch", "as recommended"),
    ("all high-touch", "Mid-Touch", "heavier than recommended"),
    ("Mid-Touch: a named CSM, check-ins", "Digital / Light Touch", "heavier than recommended"),
    ("all automated", "Digital / Light Touch", "lighter than recommended"),
    ("Pooled CSM", "High-Touch", "lighter than recommended"),
    ("whatever the AE has time for", "High-Touch", None),
    (None, "High-Touch", None),
    ("High-Touch", "Bespoke", None),
])
def test_current_motion_against_the_recommended_one(current, recommended, fit):
    assert motion_fit(current, recommended) == fit


def test_the_need_is_the_larger_of_both_ratios_never_more_than_one_csm_per_account():
    t1, t2, t3, t4 = default_config().tiers
    # Tier 2 at 1:15-25 and $1M-$2M: 30 accounts, $4.5M -> 2 by accounts, 3 by ARR.
    got = need(t2, 30, 4_500_000)
    assert (got.by_accounts, got.by_arr, got.csms, got.binding) == (2, 3, 3, "arr")
    assert got.arr_reachable
    # Tier 1 under $500K: 6 accounts, $3.6M -> 8 by ARR, but 6 accounts take at most 6.
    got = need(t1, 6, 3_600_000)
    assert (got.by_accounts, got.by_arr, got.csms, got.arr_reachable) == (1, 6, 6, False)
    assert need(t3, 0, 0).csms == 0 and need(t4, 85, 974_000) is None
    # The verdict follows the need: within 1:15-25 but over $2M per CSM is under-covered.
    assert coverage(t2, 30, 2, need(t2, 30, 4_500_000)) == "under-covered"
    assert coverage(t2, 30, 3, need(t2, 30, 4_500_000)) == "ok"
    assert coverage(t2, 30, 2, need(t2, 30, 1_000_000)) == "ok"
    assert coverage(t2, 30, 3, need(t2, 30, 1_000_000)) == "over-covered"  # 10 per CSM
    # Over the need but still inside the ratio's range is ok: 16 at 1:5-8 need 2, 3 is 5.3.
    assert coverage(t1, 16, 3, need(t1, 16, 800_000)) == "ok"


# --- end to end: a hand-computed book ---------------------------------------------------------

def pinned_refs(refs: Path, target: str = "110%") -> Path:
    """The tests' reference files in `refs`, cut points pinned at $500K, $100K and $10K."""
    shutil.copytree(TEST_REFS, refs)
    text = (refs / "4-segmentation.md").read_text()
    for tier, amount in (("Strategic", "$500K"), ("Growth", "$100K"), ("Scale", "$10K")):
        row = next(line for line in text.splitlines() if f"| {tier} |" in line)
        text = text.replace(row, row.rstrip().removesuffix("|").rstrip() + f" {amount} |")
    text = text.replace("**Target NRR**: 110%", f"**Target NRR**: {target}")
    (refs / "4-segmentation.md").write_text(text)
    return refs


def book(tmp_path: Path) -> Path:
    """6 x $600K (Tier 1), 30 x $150K (Tier 2), 120 x $20K (Tier 3), 10 x $5K (Tier 4).
    Two Tier 1 accounts carry health records: t1-0 Critical, t1-1 at 90% of its seats
    (one potential factor: MEDIUM) and Healthy."""
    accounts = ([account(f"t1-{i}", arr=600_000.0 - i) for i in range(6)]
                + [account(f"t2-{i}", arr=150_000.0) for i in range(30)]
                + [account(f"t3-{i}", arr=20_000.0) for i in range(120)]
                + [account(f"t4-{i}", arr=5_000.0) for i in range(10)])
    folder = write_portfolio(tmp_path / "in", accounts)
    (folder / "health.json").write_text(json.dumps([
        {"account_id": "t1-0", "dau_mau": 0.05, "feature_adoption": 0.1, "csat": 1.0,
         "nps": -80},
        {"account_id": "t1-1", "dau_mau": 0.5, "feature_adoption": 0.9, "csat": 4.8,
         "nps": 60, "seats_used": 90, "seats_licensed": 100}]))
    return folder


def run_book(tmp_path: Path, *extra: str, target: str = "110%") -> tuple[dict, str, str]:
    """esd segment on `book` with the file's Target NRR at `target`: (json, md, html)."""
    folder = tmp_path / "in" if (tmp_path / "in").exists() else book(tmp_path)
    n = len(list(tmp_path.glob("out*")))
    refs = pinned_refs(tmp_path / f"refs{n}", target)
    out = tmp_path / f"out{n}"
    result = segment("--input-dir", str(folder), "--references", str(refs), "--as-of", AS_OF,
                     "--out", str(out), "--no-state", "--quiet", *extra)
    assert result.exit_code == 0, result.output
    return (json.loads((out / "segmentation.json").read_text()),
            (out / "segmentation.md").read_text(), (out / "segmentation.html").read_text())


def test_staffing_numbers_of_a_hand_computed_book(tmp_path):
    data, md, page = run_book(tmp_path, "--csms", "5")
    rows = {a["tier"]: a for a in data["allocation"]}
    # Needs: Tier 1 max(ceil(6/8)=1, min(ceil($3.6M/$500K)=8, 6)) = 6; Tier 2 max(ceil(30/25)=2,
    # ceil($4.5M/$2M)=3) = 3; Tier 3 max(ceil(120/100)=2, ceil($2.4M/$5M)=1) = 2. Five CSMs
    # go to the minimums by accounts: 1, 2, 2.
    assert [(rows[t]["csms"], rows[t]["needed"], rows[t]["gap"]) for t in (1, 2, 3)] == [
        (1, 6, 5), (2, 3, 1), (2, 2, 0)]
    assert [rows[t]["binding"] for t in (1, 2, 3)] == ["arr", "arr", "accounts"]
    assert rows[4]["needed"] is None and rows[4]["coverage"] == "automated"
    assert (data["csms_needed"], data["csms_needed_by_accounts"], data["csms"],
            data["csms_gap"]) == (11, 5, 5, 6)
    # Tier 2 sits inside 1:15-25 (15 per CSM) but at $2.25M per CSM against $1M-$2M: not ok.
    assert (rows[2]["accounts_per_csm"], rows[2]["arr_per_csm"]) == (15.0, 2_250_000)
    assert rows[2]["coverage"] == "under-covered" and rows[3]["coverage"] == "ok"
    assert not rows[1]["arr_reachable"] and rows[2]["arr_reachable"]
    sentence = ("At the seed's ratios this book needs 11 CSMs (5 by accounts per CSM alone, "
                "6 more for ARR per CSM); you have 5: 6 short.")
    assert sentence in md
    assert "| 2 Growth | 30 | $4.5M | 2 | 3 | 1 short | 15.0 (15-25) |" in md
    assert "under-covered (ARR per CSM) |" in md
    assert "Tier 1 Strategic: its accounts average $600K ARR, above the $500K" in md
    assert '<p class="big">needs 11 CSMs · has 5 · <span class="off">6 short</span>' in page
    assert '<td class="n needed">3</td><td class="n gap"><span class="off">1 short' in page


def test_the_target_nrr_moves_accounts_between_plays_and_up_the_list(tmp_path):
    low, md_low, _ = run_book(tmp_path, target="100%")
    high, md_high, page_high = run_book(tmp_path, target="120%")
    plays = {d["target_nrr"]: {a["account_id"]: a["play"] for a in d["accounts"]}
             for d in (low, high)}
    # t1-0 is Critical: saved first at any target. t1-1 (MEDIUM) and the LOW Tier 1
    # accounts only get a proactive play when the target asks for expansion.
    assert plays[100]["t1-0"] == plays[120]["t1-0"] == "save"
    assert (plays[100]["t1-1"], plays[120]["t1-1"]) == ("standard", "expand")
    assert (plays[100]["t1-2"], plays[120]["t1-2"]) == ("standard", "expand")
    assert plays[120]["t2-0"] == "standard"  # LOW in Tier 2 waits even at 120%
    assert (low["stance"], high["stance"]) == ("retention-led", "expansion-led")
    assert low["target_nrr_source"] == "4-segmentation.md"
    assert high["expansion_needed"] == pytest.approx(0.2 * sum(a["arr"] for a in
                                                               high["accounts"]))
    tier1 = [a["account_id"] for a in high["accounts"] if a["tier"] == 1]
    assert tier1[:2] == ["t1-0", "t1-1"]  # save, then the MEDIUM expand, then LOW by ARR
    assert "proactive from LOW potential (every account); 5 of 6 accounts" in md_high
    assert "proactive from HIGH potential; 0 of 6 accounts" in md_low
    assert "from 115% every Tier 1 account" in md_high  # the rule, stated where it applies
    assert "Target NRR here: 120% (expansion-led)." in md_high
    assert "Expansion plays</strong> (target NRR 120%, expansion-led)" in page_high
    # --target-nrr overrides the file for one run.
    flag, _, _ = run_book(tmp_path, "--target-nrr", "100")
    assert (flag["target_nrr"], flag["target_nrr_source"], flag["stance"]) == (
        100, "--target-nrr", "retention-led")


def test_a_target_nrr_outside_50_200_is_refused(tmp_path):
    result = segment("--input-dir", str(book(tmp_path)), "--references", str(TEST_REFS),
                     "--as-of", AS_OF, "--out", str(tmp_path / "o"), "--no-state",
                     "--target-nrr", "20")
    assert result.exit_code == 2 and not (tmp_path / "o").exists()


def test_a_name_cannot_break_the_markdown_list(tmp_path):
    folder = write_portfolio(tmp_path / "in", [
        account("a1", name="Pipe | Co\n## Forged heading", arr=50_000.0),
        *[account(f"b{i}", arr=10_000.0 + i) for i in range(5)]])
    out = tmp_path / "out"
    result = segment("--input-dir", str(folder), "--references", str(TEST_REFS), "--as-of",
                     AS_OF, "--out", str(out), "--no-state", "--quiet")
    assert result.exit_code == 0, result.output
    md = (out / "segmentation.md").read_text()
    row = next(line for line in md.splitlines() if "Pipe" in line)
    assert "| Pipe \\| Co ## Forged heading |" in row
    assert row.count(" | ") == 7  # eight cells: the name stayed in one
    assert "\n## Forged heading" not in md
