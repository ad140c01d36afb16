"""`esd segment` end to end on the demo portfolio, its state across quarters, the digest's
tier and health labels, and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from builders import AS_OF, account, call, write_portfolio
from conftest import ROOT, TEST_REFS
from flatforms import to_csv, to_jsonl
from typer.testing import CliRunner

from esd.cli import app

DEMO = ROOT / "examples" / "portfolio"
DEMO_REFS = DEMO / "references"
REFS = str(TEST_REFS)


def segment(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, ["segment", *args], env=env)


@pytest.fixture
def demo_out(tmp_path) -> tuple[Path, dict]:
    out = tmp_path / "seg"
    result = segment("--input-dir", str(DEMO), "--references", str(DEMO_REFS), "--as-of",
                     AS_OF, "--out", str(out), "--state", str(tmp_path / "state.db"),
                     "--quiet")
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "segmentation.json").read_text())


def test_demo_writes_the_three_files_with_every_account_once(demo_out):
    out, data = demo_out
    assert sorted(p.name for p in out.iterdir()) == [
        ".esd-output.json", "segmentation.html", "segmentation.json", "segmentation.md"]
    accounts = json.loads((DEMO / "accounts.json").read_text())
    assert sorted(a["account_id"] for a in data["accounts"]) == sorted(a["id"] for a in accounts)
    assert list(data)[:5] == ["as_of", "tiers", "accounts", "allocation", "movers"]
    assert data["as_of"] == "2026-11-23T00:00:00Z"
    for key in ("account_id", "name", "arr", "tier", "tier_name", "health_score",
                "health_band", "expansion_potential", "motion", "owner_email"):
        assert key in data["accounts"][0]
    tiers = data["tiers"]
    assert [t["name"] for t in tiers] == ["Strategic", "Growth", "Scale", "Long Tail"]
    assert sum(t["accounts"] for t in tiers) == len(accounts)
    assert sum(t["share_accounts"] for t in tiers) == pytest.approx(100, abs=0.2)
    # Calibrated to the demo's distribution: Tier 1 within the seed's 5-10 % / 50-60 %.
    assert 5 <= tiers[0]["share_accounts"] <= 10 and 50 <= tiers[0]["share_arr"] <= 60
    assert tiers[0]["arr_max"] is None and tiers[3]["arr_min"] is None
    assert tiers[1]["arr_max"] == tiers[0]["arr_min"]
    by_id = {a["account_id"]: a for a in data["accounts"]}
    for a in accounts:
        t = by_id[a["id"]]["tier"]
        low, high = tiers[t - 1]["arr_min"], tiers[t - 1]["arr_max"]
        assert (low is None or a["arr"] >= low) and (high is None or a["arr"] < high)


def test_demo_health_potential_and_allocation(demo_out):
    _, data = demo_out
    bands = {a["health_band"] for a in data["accounts"]}
    assert bands == {"Healthy", "Stable", "At Risk", "Critical", "unknown"}
    health = {r["account_id"] for r in json.loads((DEMO / "health.json").read_text())}
    unknown = {a["account_id"] for a in data["accounts"] if a["health_band"] == "unknown"}
    assert unknown == {a["account_id"] for a in data["accounts"]} - health
    assert data["missing_components"]["nps"] > data["missing_components"]["usage"] > 0
    # S01 (two strong SKUs and a nearly full licence) is HIGH.
    expected = json.loads((DEMO / "expected.json").read_text())
    s01 = next(row[1] for row in expected["scenarios"] if row[0] == "S01")
    assert by_id(data)[s01]["expansion_potential"] == "HIGH"
    assert data["csms"] == 6
    assert sum(a["csms"] for a in data["allocation"]) == 6
    assert data["allocation"][3]["coverage"] == "automated"


def by_id(data):
    return {a["account_id"]: a for a in data["accounts"]}


def test_markdown_is_the_seeds_delivery(demo_out):
    out, data = demo_out
    md = (out / "segmentation.md").read_text()
    for heading in ("## 1. Tiers", "## 2. Health score", "## 3. CS motion per tier",
                    "## 4. CS resource map", "## 5. Promotion and demotion"):
        assert heading in md
    assert "### Tier 1 — Strategic (High-Touch)" in md
    assert "- CSM ratio: 1 CSM : 5-8 accounts" in md
    assert "This is the first quarterly snapshot" in md
    t1 = data["tiers"][0]
    assert f"| 1 | Strategic | ${t1['arr_min'] / 1000:,.0f}K and up |" in md


def pinned_references(tmp_path) -> Path:
    """The tests' reference files with the cut points pinned at $500K, $100K and $10K."""
    refs = tmp_path / "refs"
    shutil.copytree(TEST_REFS, refs)
    text = (refs / "4-segmentation.md").read_text()
    for tier, amount in (("Strategic", "$500K"), ("Growth", "$100K"), ("Scale", "$10K")):
        row = next(line for line in text.splitlines() if f"| {tier} |" in line)
        text = text.replace(row, row.rstrip().removesuffix("|").rstrip() + f" {amount} |")
    (refs / "4-segmentation.md").write_text(text)
    return refs


def test_a_second_quarter_lists_movers_with_their_rule(tmp_path):
    refs, state = str(pinned_references(tmp_path)), str(tmp_path / "state.db")
    folder = write_portfolio(tmp_path / "q3", [
        account("big", arr=900_000.0), account("mid", arr=120_000.0, renewal_date="2026-10-01"),
        *[account(f"s{i}", arr=20_000.0 + i) for i in range(12)]])
    first = segment("--input-dir", str(folder), "--references", refs, "--as-of",
                    "2026-08-15", "--out", str(tmp_path / "o1"), "--state", state, "--quiet")
    assert first.exit_code == 0, first.output
    data1 = json.loads((tmp_path / "o1" / "segmentation.json").read_text())
    assert [t["arr_min"] for t in data1["tiers"]] == [500_000, 100_000, 10_000, None]
    assert by_id(data1)["mid"]["tier"] == 2
    # Next quarter "mid" renewed (2026-10-01) at $850K.
    accounts = json.loads((folder / "accounts.json").read_text())
    for a in accounts:
        if a["id"] == "mid":
            a["arr"] = 850_000.0
    (folder / "accounts.json").write_text(json.dumps(accounts))
    second = segment("--input-dir", str(folder), "--references", refs, "--as-of", AS_OF,
                     "--out", str(tmp_path / "o2"), "--state", state, "--quiet")
    assert second.exit_code == 0, second.output
    data2 = json.loads((tmp_path / "o2" / "segmentation.json").read_text())
    assert data2["snapshots"] == 1
    assert [(m["account_id"], m["rule"], m["direction"], m["from_tier"], m["to_tier"])
            for m in data2["movers"]] == [("mid", "arr-crossed", "promote", 2, 1)]
    assert data2["movers"][0]["detail"] == (
        "ARR $120,000 in 2026-Q3 → $850,000 reaches the Tier 1 Strategic cut point "
        "$500,000 (at renewal)")
    md = (tmp_path / "o2" / "segmentation.md").read_text()
    assert "| Account mid | promote Tier 2 → 1 | arr-crossed |" in md


def test_the_digest_shows_tier_and_health_band_by_each_name(tmp_path):
    out = tmp_path / "digests"
    result = CliRunner().invoke(app, [
        "dry-run", "--input-dir", str(DEMO), "--references", str(DEMO_REFS), "--as-of",
        AS_OF, "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    digest = (out / "ana.ruiz@lumen.example.com.md").read_text()
    assert ("### 1. Wavecrest Media Group (Tier 1 Strategic · Stable) — $842k ARR · "
            "renewal 2027-04-30") in digest
    assert ("- *Vantage Robotics Holdings* (Tier 3 Scale · Stable) — enterprise-tier: "
            "usage anomaly only") in digest
    run = json.loads((out / "run.json").read_text())
    first = run["digests"][0]["strong"][0]
    assert (first["tier"], first["tier_name"], first["health_band"]) == (
        1, "Strategic", "Stable")
    # The same tiers as esd segment's for the same data.
    seg = tmp_path / "seg"
    assert segment("--input-dir", str(DEMO), "--references", str(DEMO_REFS), "--as-of",
                   AS_OF, "--out", str(seg), "--no-state", "--quiet").exit_code == 0
    model = by_id(json.loads((seg / "segmentation.json").read_text()))
    assert (model[first["account_id"]]["tier"], model[first["account_id"]]["health_band"]) \
        == (1, "Stable")


def test_negative_arr_is_exit_2_naming_file_record_and_field(tmp_path):
    folder = write_portfolio(tmp_path / "in", [account("a1"), account("a2", arr=-5.0)],
                             calls=[call("a1", "c1", [("Dana Lee", "Hello.")])])
    result = segment("--input-dir", str(folder), "--references", REFS, "--as-of", AS_OF,
                     "--out", str(tmp_path / "out"), "--no-state")
    assert result.exit_code == 2
    assert "accounts.json: record [1] (id a2): field arr:" in result.output
    assert not (tmp_path / "out").exists()


def test_unknown_segment_is_exit_2(tmp_path):
    folder = write_portfolio(tmp_path / "in", [account("a1", segment="enterprise"),
                                               account("a2", segment="unicorn")])
    result = segment("--input-dir", str(folder), "--references", REFS, "--as-of", AS_OF,
                     "--out", str(tmp_path / "out"), "--no-state")
    assert result.exit_code == 2
    assert 'accounts.json: record [1] (id a2): field segment: unknown segment "unicorn"' in (
        result.output.replace("\n", ""))


@pytest.mark.parametrize("form, where", [("jsonl", "line 2"), ("csv", "line 3")])
def test_unknown_segment_names_the_line_of_a_flat_file(tmp_path, form, where):
    folder = write_portfolio(tmp_path / "in", [account("a1", segment="enterprise"),
                                               account("a2", segment="unicorn")])
    records = json.loads((folder / "accounts.json").read_text())
    (folder / "accounts.json").unlink()
    text = to_jsonl(records) if form == "jsonl" else to_csv(records)
    (folder / f"accounts.{form}").write_text(text, newline="")
    result = segment("--input-dir", str(folder), "--references", REFS, "--as-of", AS_OF,
                     "--out", str(tmp_path / "out"), "--no-state")
    assert result.exit_code == 2, result.output
    assert (f'{folder / f"accounts.{form}"}: {where} (id a2): field segment: unknown '
            'segment "unicorn"') in result.output.replace("\n", "")
    assert "accounts.json:" not in result.output


def test_bad_health_json_is_exit_2(tmp_path):
    folder = write_portfolio(tmp_path / "in", [account("a1")])
    (folder / "health.json").write_text(json.dumps([{"account_id": "a1", "dau_mau": 1.4}]))
    result = segment("--input-dir", str(folder), "--references", REFS, "--as-of", AS_OF,
                     "--out", str(tmp_path / "out"), "--no-state")
    assert result.exit_code == 2
    assert "health.json: record [0]: field dau_mau:" in result.output.replace("\n", "")


def test_weights_not_summing_to_100_is_exit_2(tmp_path):
    refs = tmp_path / "refs"
    shutil.copytree(TEST_REFS, refs)
    text = (refs / "4-segmentation.md").read_text()
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if "| 30" in line)
    lines[index] = lines[index].replace("| 30", "| 35", 1)
    (refs / "4-segmentation.md").write_text("\n".join(lines) + "\n")
    folder = write_portfolio(tmp_path / "in", [account("a1")])
    result = segment("--input-dir", str(folder), "--references", str(refs), "--as-of", AS_OF,
                     "--out", str(tmp_path / "out"), "--no-state")
    assert result.exit_code == 2
    assert "4-segmentation.md:" in result.output and "105" in result.output


def test_a_failed_segment_records_nothing_and_bad_input_opens_no_state(tmp_path):
    state = tmp_path / "state.db"
    taken = tmp_path / "notes"
    taken.mkdir()
    (taken / "mine.txt").write_text("not an esd folder")
    result = segment("--input-dir", str(DEMO), "--references", str(DEMO_REFS), "--as-of",
                     AS_OF, "--out", str(taken), "--state", str(state))
    assert result.exit_code == 2 and "not an earlier esd output" in result.output
    from esd.state import State

    store = State.open(str(state))
    try:
        assert store.snapshots() == []
    finally:
        store.close()
    bad = write_portfolio(tmp_path / "bad", [account("a1", segment="unicorn")])
    fresh = tmp_path / "fresh.db"
    result = segment("--input-dir", str(bad), "--references", REFS, "--as-of", AS_OF,
                     "--out", str(tmp_path / "out"), "--state", str(fresh))
    assert result.exit_code == 2 and not fresh.exists()


def test_segment_reads_signals_with_the_rules_unless_told(tmp_path):
    # A key in the environment is not an order to spend: no request is made (the base
    # URL is a closed port, so any request would fail the run).
    env = {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}
    result = segment("--input-dir", str(DEMO), "--references", str(DEMO_REFS), "--as-of",
                     AS_OF, "--out", str(tmp_path / "out"), "--no-state", "--quiet", env=env)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "esd-state.db").exists()


def test_a_team_templates_folder_without_the_segmentation_template_falls_back(tmp_path):
    team = tmp_path / "templates"
    team.mkdir()
    shutil.copy(ROOT / "templates" / "digest.md.j2", team / "digest.md.j2")
    result = segment("--input-dir", str(DEMO), "--references", str(DEMO_REFS), "--as-of",
                     AS_OF, "--out", str(tmp_path / "out"), "--templates", str(team),
                     "--no-state", "--quiet")
    assert result.exit_code == 0, result.output
    assert "## 1. Tiers" in (tmp_path / "out" / "segmentation.md").read_text()


def test_a_broken_segmentation_file_does_not_stop_the_weekly_digest(tmp_path):
    refs = tmp_path / "refs"
    shutil.copytree(DEMO_REFS, refs)
    shutil.copy(TEST_REFS / "4-segmentation.md", refs / "4-segmentation.md")
    text = (refs / "4-segmentation.md").read_text().replace(
        "| Product usage (DAU/MAU ratio) | 30% |", "| Product usage (DAU/MAU ratio) | 20% |")
    (refs / "4-segmentation.md").write_text(text)
    out = tmp_path / "digests"
    result = CliRunner().invoke(app, [
        "dry-run", "--input-dir", str(DEMO), "--references", str(refs), "--as-of", AS_OF,
        "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    digest = (out / "ana.ruiz@lumen.example.com.md").read_text()
    assert digest.startswith("_4-segmentation.md has 1 problem(s), so tiers and health "
                             "bands use the seed's defaults")
    assert "health weights sum to 90, not 100" in digest
    assert "(Tier 1 Strategic · Stable)" in digest
    # esd segment itself, and esd check, still refuse the file.
    strict = segment("--input-dir", str(DEMO), "--references", str(refs), "--as-of", AS_OF,
                     "--out", str(tmp_path / "seg"), "--no-state")
    assert strict.exit_code == 2


def test_no_coverage_guard_applies_to_segment(tmp_path):
    # No account had a call: a digest run would abort (exit 3); segmentation does not.
    folder = write_portfolio(tmp_path / "in", [account(f"a{i}", arr=10_000.0 * (i + 1))
                                               for i in range(5)])
    digest = CliRunner().invoke(app, ["dry-run", "--input-dir", str(folder), "--references",
                                      REFS, "--as-of", AS_OF, "--out", str(tmp_path / "d")])
    assert digest.exit_code == 3
    result = segment("--input-dir", str(folder), "--references", REFS, "--as-of", AS_OF,
                     "--out", str(tmp_path / "seg"), "--no-state", "--quiet")
    assert result.exit_code == 0, result.output
    assert len(json.loads((tmp_path / "seg" / "segmentation.json").read_text())["accounts"]) == 5


# --- issue 17: lists, motions, snapshots, the terminal box -------------------------------

def tier_lists(md: str) -> dict[int, list[str]]:
    """Section 6 of segmentation.md: tier -> the account names of its table, in order."""
    section = md.split("## 6. Accounts per tier", 1)[1]
    out: dict[int, list[str]] = {}
    for block in section.split("\n### Tier ")[1:]:
        tier = int(block.split(" ", 1)[0])
        out[tier] = [row.split(" | ")[1] for row in block.splitlines()
                     if row.startswith("| ") and row.split(" | ")[0][2:].isdigit()]
    return out


def test_every_tier_lists_its_accounts_in_the_order_to_act_on_them(demo_out):
    out, data = demo_out
    order = {"save": 0, "expand": 1, "standard": 2}
    rank = {"HIGH": 0, "MEDIUM": 1, "LOW": 2}
    for tier in (1, 2, 3, 4):
        held = [a for a in data["accounts"] if a["tier"] == tier]
        keys = [(order[a["play"]], rank[a["expansion_potential"]] if a["play"] == "expand"
                 else 0, -a["arr"]) for a in held]
        assert keys == sorted(keys), tier
        assert all(a["play"] == "save" for a in held if a["at_risk"])
        assert {a["health_band"] for a in held if a["at_risk"]} <= {"At Risk", "Critical"}
        assert data["tiers"][tier - 1]["at_risk"] == sum(a["at_risk"] for a in held)
    md = (out / "segmentation.md").read_text()
    lists = tier_lists(md)
    for tier in (1, 2, 3, 4):  # the whole tier, in the JSON's order
        assert lists[tier] == [a["name"] for a in data["accounts"] if a["tier"] == tier]
    t1 = [a for a in data["accounts"] if a["tier"] == 1]
    assert sum(a["at_risk"] for a in t1) == 3  # the "3 Tier-1 accounts At Risk" of the issue
    assert lists[1][:3] == [a["name"] for a in t1 if a["at_risk"]]
    assert "### Tier 1 — Strategic: 16 accounts, 3 at risk, 1 HIGH potential" in md
    page = (out / "segmentation.html").read_text()
    assert page.count('<details class="tier-accounts"') == 4
    assert '<details class="tier-accounts" data-tier="1" open>' in page
    assert '<details class="tier-accounts" data-tier="2">' in page
    assert "<script" not in page.lower()
    first = page.split('data-tier="1" open>', 1)[1].split("</details>", 1)[0]
    assert first.count("<tr class=") == 16
    positions = [first.index(f"<td>{a['name']}</td>") for a in t1]
    assert positions == sorted(positions)  # the page keeps the list's order
    assert first.count('class="play save"') == 3


def test_the_current_motion_is_shown_against_the_recommended_one(demo_out):
    out, data = demo_out
    fits = [(t["motion"], t["motion_fit"]) for t in data["tiers"]]
    assert fits == [("High-Touch", "as recommended"), ("Mid-Touch", "heavier than recommended"),
                    ("Digital / Light Touch", "heavier than recommended"),
                    ("Self-Serve", "heavier than recommended")]
    md = (out / "segmentation.md").read_text()
    assert ("- Current motion: Mid-Touch: a named CSM, check-ins when the CSM finds time — "
            "heavier than recommended") in md
    page = (out / "segmentation.html").read_text()
    card = page.split('<div class="card" data-tier="4">', 1)[1].split("</div>", 1)[0]
    assert "Mid-Touch: a named CSM in the CRM" in card
    assert '<span class="flag above">heavier than recommended</span>' in card


def test_without_a_current_motion_the_report_says_it_is_not_stated(tmp_path):
    folder = write_portfolio(tmp_path / "in", [account(f"a{i}", arr=10_000.0 * (i + 1))
                                               for i in range(8)])
    out = tmp_path / "out"
    assert segment("--input-dir", str(folder), "--references", REFS, "--as-of", AS_OF,
                   "--out", str(out), "--no-state", "--quiet").exit_code == 0
    md = (out / "segmentation.md").read_text()
    assert md.count("- Current motion: not stated") == 4 and "recommended" not in md.split(
        "## 3.")[1].split("## 4.")[0]


def test_no_state_says_so_instead_of_a_first_snapshot(tmp_path):
    out = tmp_path / "out"
    result = segment("--input-dir", str(DEMO), "--references", str(DEMO_REFS), "--as-of",
                     AS_OF, "--out", str(out), "--no-state", "--quiet")
    assert result.exit_code == 0, result.output
    data = json.loads((out / "segmentation.json").read_text())
    assert data["state"] == "off" and data["state_label"] is None
    for name in ("segmentation.md", "segmentation.html"):
        text = (out / name).read_text()
        assert "first quarterly snapshot" not in text, name
        assert "quarterly snapshots are off (--no-state)" in text, name
    assert not (tmp_path / "esd-state.db").exists()


def test_segment_creates_no_state_store_unless_asked(tmp_path, monkeypatch):
    from esd.state import State

    monkeypatch.delenv("ESD_STATE")  # conftest names one; a user's shell names none
    default = tmp_path / "esd-state.db"  # the working directory is tmp_path
    run = ["--input-dir", str(DEMO), "--references", str(DEMO_REFS), "--as-of", AS_OF,
           "--quiet"]
    first = segment(*run, "--out", str(tmp_path / "o1"))
    assert first.exit_code == 0, first.output
    assert not default.exists()
    data = json.loads((tmp_path / "o1" / "segmentation.json").read_text())
    assert (data["state"], data["state_label"]) == ("absent", "esd-state.db")
    md = (tmp_path / "o1" / "segmentation.md").read_text()
    assert "there is no state store at esd-state.db" in md and "--state PATH" in md
    assert "first quarterly snapshot" not in md
    # Asked explicitly: the store is created and this quarter recorded.
    named = tmp_path / "kept.db"
    second = segment(*run, "--out", str(tmp_path / "o2"), "--state", str(named))
    assert second.exit_code == 0, second.output
    assert named.exists() and not default.exists()
    # The default store, once it exists (esd run made it), is read and written.
    State.open(str(default)).close()
    third = segment(*run, "--out", str(tmp_path / "o3"))
    assert third.exit_code == 0, third.output
    assert json.loads((tmp_path / "o3" / "segmentation.json").read_text())["state"] == "kept"
    store = State.open(str(default), create=False)
    try:
        assert len(store.snapshots()) == len(data["accounts"])
    finally:
        store.close()


def test_the_terminal_gets_one_box_and_quiet_or_a_pipe_gets_nothing(tmp_path):
    run = ["--input-dir", str(DEMO), "--references", str(DEMO_REFS), "--as-of", AS_OF,
           "--no-state"]
    piped = segment(*run, "--out", str(tmp_path / "o1"))  # CliRunner's stdout is no tty
    assert piped.exit_code == 0 and piped.stdout == ""
    quiet = segment(*run, "--out", str(tmp_path / "o2"), "--quiet")
    assert quiet.exit_code == 0 and quiet.stdout == ""
    shown = segment(*run, "--out", str(tmp_path / "o3"), "--no-quiet")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("╭─ Customer segmentation · 2026-11-23 (2026-Q4)")
    assert lines[0].endswith("╮") and any(line.startswith("╰") for line in lines)
    assert len(lines) <= 40
    box = shown.stdout
    for text in ("1 Strategic", "4 Long Tail", "needs 22 CSMs", "you have 6", "16 short",
                 "Target NRR 110% (balanced plays): add $2.75M ARR, net, in a year",
                 "Save first (39 at risk", "Halcyon Media — Tier 1",
                 "Snapshots: off (--no-state)"):
        assert text in box, text
    row = next(line for line in lines if "1 Strategic" in line)
    assert row.split()[3:10] == ["16", "$13.88M", "3", "1", "3", "16", "13"]


def test_is_quiet_follows_the_terminal(monkeypatch):
    import sys

    from esd.cli.output import is_quiet

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert is_quiet(None) is False and is_quiet(True) is True
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert is_quiet(None) is True and is_quiet(False) is False
