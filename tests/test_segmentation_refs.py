"""`4-segmentation.md`: optional, lenient about layout, strict about values, every problem
with its line; the tests' copy of the shipped file spells out exactly the seed's defaults,
and the shipped file itself (a lead's to edit) parses clean."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT, TEST_REFS
from typer.testing import CliRunner

from esd.cli import app
from esd.defaults import defaults_dir
from esd.errors import InputError
from esd.references import SEGMENTATION, load_references, parse_references
from esd.references.schema import SegmentationConfig
from esd.references.segmentation import parse_segmentation
from esd.references.segmentation_defaults import default_config

COPY = TEST_REFS / SEGMENTATION
FILE = Path("4-segmentation.md")


def normalised(config: SegmentationConfig) -> dict:
    """The settings alone: without where they were read (path, lines) and the date."""
    copy = config.model_copy(deep=True)
    copy.path, copy.last_edited, copy.lines = None, None, {}
    for item in (*copy.tiers, *copy.weights, *copy.bands):
        item.line = 0
    return copy.model_dump()


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def problems(text: str) -> list[tuple[int, str]]:
    _, found = parse_segmentation(FILE, text)
    assert all(p.file == str(FILE) for p in found)
    return [(p.line, p.message) for p in found]


def test_shipped_file_parses_clean():
    """Only that it parses: what it says is the lead's to change."""
    shipped = defaults_dir() / "references" / SEGMENTATION
    config, found = parse_segmentation(shipped)
    assert found == [], found
    assert config.path == shipped


def test_frozen_copy_of_the_shipped_file_parses_to_exactly_the_seed_defaults():
    config, found = parse_segmentation(COPY)
    assert found == []
    assert normalised(config) == normalised(default_config())
    assert config.path == COPY and config.last_edited == date(2026, 11, 23)
    text = COPY.read_text()
    assert [t.line for t in config.tiers] == [
        line_of(text, f"| {t.tier} | {t.name} |") for t in config.tiers]
    assert [w.line for w in config.weights] == [line_of(text, w.label) for w in config.weights]
    assert config.bands[0].line == line_of(text, "| 80-100 | Healthy |")
    assert config.lines["multi_team_skus"] == line_of(text, "`additional-team-seats`")
    assert config.lines["mixed_book_share"] == line_of(text, "more than 25%")


def test_parse_references_reads_the_file_when_present_and_defaults_without_it(tmp_path):
    refs, found = parse_references(TEST_REFS)
    assert found == [] and refs.segmentation.path == COPY
    for name in ("1-expansion-signal-taxonomy.md", "2-segment-baseline-config.md",
                 "3-action-library.md"):
        shutil.copy(TEST_REFS / name, tmp_path / name)
    refs, found = parse_references(tmp_path)
    assert found == []  # optional: never "file not found"
    assert refs.segmentation == default_config() and refs.segmentation.path is None


def test_a_team_keeps_only_the_sections_it_changes():
    config, found = parse_segmentation(FILE, "# Segmentation\n\n## Mixed books\n\n"
                                       "- Mixed when a Tier 1 book has more than 40% in Tiers "
                                       "3-4.\n")
    assert found == []
    assert config.mixed_book_share == 40
    expected = normalised(default_config()) | {"mixed_book_share": 40.0}
    assert normalised(config) == expected


LENIENT = """\
# Our segmentation

Prose anywhere is fine.

### Tier targets
| ARR from | **Tier** | Accounts share | Name | ARR share | Notes |
|---|---|---|---|---|---|
| $1.5M | 1 | 5–10 % | Key | 50 – 60% | top |
| 250,000 | Tier 2 | ~20-30% | Core | 30 to 40 % | |
| $50K | 3 | 30-40% | **Scale** | 10-20% | |
| — | 4 | 30-40% | Tail | 5-10% | |

# Health
| Weight | Signal |
|---|---|
| 40 | `usage` |
| 10 pts | Features used / available |
| 20% | CSAT and escalations |
| 15 | Champion / exec access |
| 15 | NPS |

| Score | Band |
|---|---|
| 75+ | Great |
| 50–74 | OK |
| 0-49 | Bad |

* **Full usage points at DAU/MAU**: 40%
* Each open escalation: 0.1

## Tier 1 — Key

- **CSM ratio**: 1:4-6
- ARR per CSM: $750K+
- Cadence: weekly

## Tier 2: Core (Pooled)

CSM ratio: 2 CSMs : 30-50 accounts
ARR per CSM: $1,000,000 to $2.5M

## Tier 4 — Tail (Self-Serve)

- CSM ratio: none
- ARR per CSM: n/a

## Expansion potential
- Seat utilisation above 90%
- HIGH: **3** factors
- MEDIUM: 2 factors
- Multi-team: `more-seats`, `team-pack`

## Promotion and demotion
- Promote: potential HIGH for **3** consecutive quarters
- Demote: no expansion signals for 6 quarters

## Last edited: 2026-10-01
"""


def test_lenient_layout_and_value_forms():
    config, found = parse_segmentation(FILE, LENIENT)
    assert found == []
    t1, t2, t3, t4 = config.tiers
    assert [t.name for t in config.tiers] == ["Key", "Core", "Scale", "Tail"]
    assert [t.arr_from for t in config.tiers] == [1_500_000, 250_000, 50_000, None]
    assert (t1.share_accounts, t1.share_arr, t2.share_arr) == ((5, 10), (50, 60), (30, 40))
    assert t1.csm_ratio == (4, 6) and t1.arr_per_csm == (750_000, None)
    assert t1.details == {"Cadence": "weekly"} and t1.motion == "High-Touch"  # kept
    assert t2.csm_ratio == (15, 25) and t2.arr_per_csm == (1_000_000, 2_500_000)
    assert t2.motion == "Pooled"
    assert t3.csm_ratio == (50, 100)  # no section: the default
    assert t4.csm_ratio is None and t4.arr_per_csm == (None, None)
    assert {w.key: w.weight for w in config.weights} == {
        "usage": 40, "adoption": 10, "support": 20, "relationship": 15, "nps": 15}
    assert [(b.name, b.min_score, b.color) for b in config.bands] == [
        ("Great", 75, ""), ("OK", 50, ""), ("Bad", 0, "")]
    assert (config.usage_full_at, config.escalation_cost) == (0.4, 0.1)
    assert (config.seat_utilisation, config.potential_high, config.potential_medium) == (
        90, 3, 2)
    assert config.multi_team_skus == ["more-seats", "team-pack"]
    assert config.api_event_types == ["api_call_spike"]  # not in the file: the default
    assert (config.promote_high_quarters, config.demote_quiet_quarters) == (3, 6)
    assert config.last_edited == date(2026, 10, 1)
    assert t1.line == line_of(LENIENT, "| $1.5M |")


TIERS = """\
| Tier | Name | Accounts % target | ARR % target | ARR from |
|---|---|---|---|---|
| 1 | Strategic | 5-10% | 50-60% | {c1} |
| 2 | Growth | {a2} | 30-40% | {c2} |
| 3 | Scale | 30-40% | 10-20% | |
| 4 | Long Tail | 30-40% | 5-10% | {c4} |
"""


def tiers(a2="20-30%", c1="", c2="", c4="", extra=""):
    text = TIERS.format(a2=a2, c1=c1, c2=c2, c4=c4)
    return text.replace("| 4 |", extra + "| 4 |") if extra else text


WEIGHTS = """\
## Health

| Component | Weight |
|---|---|
| Product usage (DAU/MAU ratio) | {usage} |
| Feature adoption | 20% |
| Support health | 20% |
| Relationship quality | 15% |
| {nps_label} | 15% |
"""


def weights(usage="30%", nps_label="NPS / satisfaction signal"):
    return WEIGHTS.format(usage=usage, nps_label=nps_label)


BANDS = "| Score | Status | Color |\n|---|---|---|\n{rows}"


def bands(*rows):
    return BANDS.format(rows="".join(f"| {r} | B{i} | Red |\n" for i, r in enumerate(rows)))


@pytest.mark.parametrize(("text", "needle", "message"), [
    (weights(usage="35%"), "| Component |", "health weights sum to 105, not 100"),
    (weights(usage="thirty"), "| Product usage",
     'weight of Product usage (DAU/MAU ratio) is not a number: "thirty"'),
    (weights(usage="-10"), "| Product usage", "is negative"),
    (weights(nps_label="Vibes"), "| Vibes", 'unknown health component "Vibes"'),
    (weights(nps_label="Usage trend"), "| Usage trend",
     'health component "Usage trend" is the same as "Product usage (DAU/MAU ratio)"'),
    (weights().replace("| NPS / satisfaction signal | 15% |\n", "| Support health | 0 |\n")
     .replace("| Support health | 20% |", "| Support health | 35% |"), "| Support health | 0",
     "is the same as"),
    (tiers(a2="lots"), "| 2 |", 'Tier 2 accounts % target is not a number: "lots"'),
    (tiers(a2="30-20%"), "| 2 |", 'Tier 2 accounts % target "30-20%" has its minimum above '
     "its maximum"),
    (tiers(a2="90-120%"), "| 2 |", 'Tier 2 accounts % target "90-120%" is outside 0-100%'),
    (tiers(a2="-5-10%"), "| 2 |", 'Tier 2 accounts % target "-5-10%" is negative'),
    (tiers(extra="| 5 | Extra | 1-2% | 1-2% | |\n"), "| 5 |", "tier 5 is outside 1-4"),
    (tiers(extra="| 2 | Again | 1-2% | 1-2% | |\n"), "| Again |",
     "tier 2 is listed twice (first at line 4)"),
    (tiers(c1="$500K", c2="$600K"), "| 2 |",
     "Tier 2 ARR from $600K is not below Tier 1's $500K: cut points go down from Tier 1 to "
     "Tier 3"),
    (tiers(c1="$500K", c2="500,000"), "| 2 |", "Tier 2 ARR from $500K is not below"),
    (tiers(c4="$5K"), "| 4 |", "Tier 4 has no ARR from: it takes every account below Tier 3"),
    (tiers(c1="lots"), "| 1 |", 'Tier 1 ARR from: "lots" is not an amount'),
    (tiers(c1="-$1M"), "| 1 |", 'Tier 1 ARR from: "-$1M" is negative'),
    (tiers(a2="1-2%"), "| Tier |",
     "the accounts % targets cannot add up to 100% (minimums sum to 66%, maximums to 92%)"),
    (tiers().replace("| 3 | Scale | 30-40% | 10-20% | |\n", ""), "| Tier |",
     "tiers table lacks Tier 3 (list all four)"),
    (bands("80-100", "60-70", "40-59", "0-39"), "| 80-100",
     "no band covers scores between 70 and 80"),
    (bands("80-100", "60-80", "40-59", "0-39"), "| 80-100",
     "band B0 (80-100) overlaps band B1 (up to 80)"),
    (bands("80-100", "60-79", "40-59", "10-39"), "| 10-39", "no band covers scores below 10"),
    (bands("80-99", "60-79", "40-59", "0-39"), "| 80-99", "no band reaches a score of 100"),
    (bands("80-100", "60-79", "40-59", "39-0"), "| 39-0", "has its minimum above its maximum"),
    (bands("80-110", "0-79"), "| 80-110", 'score range of band B0 "80-110" is outside 0-100'),
    (bands("high", "0-79"), "| high", 'score range of band B0 is not a range: "high"'),
    ("## Tier 2 — Growth\n\n- CSM ratio: one per team\n", "CSM ratio",
     'Tier 2 CSM ratio "one per team" must read "1 CSM : 5-8 accounts", or 0 for no CSM'),
    ("## Tier 2\n\n- CSM ratio: 1 CSM : 25-15 accounts\n", "CSM ratio",
     "has its minimum above its maximum"),
    ("## Tier 2\n\n- CSM ratio: 1 CSM : -5-8 accounts\n", "CSM ratio", "is negative"),
    ("## Tier 2\n\n- CSM ratio: 2 CSMs : 15-25 accounts\n", "CSM ratio",
     "write it per CSM, e.g. 1 CSM : 7.5-12.5 accounts"),
    ("## Tier 1\n\n- ARR per CSM: $2M-$1M\n", "ARR per CSM", "has its minimum above"),
    ("## Tier 1\n\n- ARR per CSM: -$500K\n", "ARR per CSM", 'ARR per CSM: "-$500K" is negative'),
    ("## Tier 1\n\n- ARR per CSM: plenty\n", "ARR per CSM", '"plenty" is not an amount'),
    ("## Tier 5 — Extra\n\n- CSM ratio: 0\n", "Tier 5", "Tier 5 section: tiers are numbered 1-4"),
    ("## Tier 1\n- CSM ratio: 0\n## Tier 1 (again)\n", "(again)",
     "Tier 1 has two sections (the first at line 1)"),
    (tiers() + "\n## Tier 1 — Key accounts\n", "Key accounts",
     'heading calls Tier 1 "Key accounts" but the tiers table (line 3) calls it "Strategic"'),
    ("## Expansion potential\n- HIGH: 1 factor\n- MEDIUM: 2 factors\n", "MEDIUM",
     "MEDIUM needs 2 factors, more than HIGH (1)"),
    ("## Expansion potential\n- HIGH: 1.5 factors\n", "HIGH",
     "factors for HIGH 1.5 is not a whole number"),
    ("## Expansion potential\n- Seat utilisation: above -80%\n", "Seat",
     "seat utilisation -80% is negative"),
    ("## Expansion potential\n- Multi-team SKUs: additional-team-seats\n", "Multi",
     "list them in backticks"),
    ("## Health\n- DAU/MAU for full usage points: 2\n", "DAU", "is outside 0-1"),
    ("## Health\n- Cost of each open escalation: 150%\n", "escalation",
     "cost of an open escalation 150% is outside 0-1"),
    ("## Tier promotion\n- Promote: HIGH for -2 consecutive quarters\n", "Promote",
     "quarters of HIGH potential to promote -2 is negative"),
    ("## Tier demotion\n- Demote: no expansion signals for a while\n", "Demote",
     "quarters without signals to demote: write the number of quarters"),
    ("## Mixed books\n- more than 125% of the book in Tiers 3-4\n", "125",
     "mixed-book share 125% is outside 0-100"),
    ("## Last edited\n\n2026-13-01\n", "2026-13-01", "Last edited date 2026-13-01 is not a "
     "real date"),
    ("## Team inputs\n- Target NRR: lots\n", "Target NRR",
     'target NRR "lots" is not a percentage (write e.g. 110%)'),
    ("## Team inputs\n- Target NRR: 300%\n", "Target NRR",
     "target NRR 300% is outside 50-200%"),
    ("## Goals\n\nTarget NRR: 40\n", "Target NRR", "target NRR 40% is outside 50-200%"),
    (tiers() + "\n" + tiers(), "| Tier |", "a second tiers table (the first is at line 1)"),
])
def test_each_problem_names_its_line(text, needle, message):
    found = problems(text)
    line = max(i for i, t in enumerate(text.splitlines(), 1) if needle in t)
    assert any(at == line and message in m for at, m in found), found
    assert len(found) == 1, found


def test_a_missing_component_is_named():
    text = weights().replace("| NPS / satisfaction signal | 15% |\n", "").replace(
        "| Relationship quality | 15% |", "| Relationship quality | 30% |")
    assert problems(text) == [(line_of(text, "| Component |"), (
        "health component(s) nps missing from the weights table (give a component weight 0 "
        "to leave it out)"))]


def test_broken_values_keep_the_defaults_so_the_run_still_has_a_config():
    config, found = parse_segmentation(FILE, weights(usage="35%") + "\n" + tiers(a2="lots"))
    assert len(found) == 2
    assert normalised(config)["weights"] == normalised(default_config())["weights"]
    assert config.tiers[1].share_accounts == (20, 30)


def copy_references(target: Path) -> Path:
    target.mkdir()
    for path in TEST_REFS.glob("*.md"):
        shutil.copy(path, target / path.name)
    return target


def test_esd_check_exits_2_naming_the_line_and_run_commands_refuse(tmp_path):
    refs = copy_references(tmp_path / "refs")
    path = refs / SEGMENTATION
    text = path.read_text().replace("| Product usage (DAU/MAU ratio) | 30% |",
                                    "| Product usage (DAU/MAU ratio) | 35% |")
    path.write_text(text)
    result = CliRunner().invoke(app, ["check", "--references", str(refs)])
    assert result.exit_code == 2
    line = line_of(text, "| Component | Weight |")
    assert f"4-segmentation.md:{line}: health weights sum to 105, not 100" in result.output
    with pytest.raises(InputError, match=f"4-segmentation.md:{line}"):
        load_references(refs)


def test_esd_check_flags_a_multi_team_sku_the_taxonomy_lacks(tmp_path):
    refs = copy_references(tmp_path / "refs")
    path = refs / SEGMENTATION
    text = path.read_text().replace("`additional-team-seats` —", "`extra-team-seats` —")
    path.write_text(text)
    assert parse_references(refs)[1] == []  # parses: a check finding, not a parse error
    result = CliRunner().invoke(app, ["check", "--references", str(refs)])
    assert result.exit_code == 2
    assert (f"4-segmentation.md:{line_of(text, 'extra-team-seats')}: multi-team SKU "
            "extra-team-seats is not in the taxonomy") in result.output


SEED_TABLES = """\
### Step 1: Define Tier Thresholds

| Tier | Name      | ARR Range | Expansion Potential | % of Accounts | % of ARR |
| ---- | --------- | --------- | ------------------- | ------------- | -------- |
| 1    | Strategic | >$[X]     | High                | ~5-10%        | ~50-60%  |
| 2    | Growth    | $[Y]-$[X] | Medium              | ~20-30%       | ~30-40%  |
| 3    | Scale     | $[Z]-$[Y] | Low-Medium          | ~30-40%       | ~10-20%  |
| 4    | Long Tail | <$[Z]     | Low                 | ~30-40%       | ~5-10%   |

### Step 2: Health Score Components

| Signal                                              | Weight | Score Range |
| --------------------------------------------------- | ------ | ----------- |
| Product usage (DAU/MAU ratio)                       | 30%    | 0-30        |
| Feature adoption (core features used / available)   | 20%    | 0-20        |
| Support health (CSAT score, open escalations)       | 20%    | 0-20        |
| Relationship quality (exec access, champion active) | 15%    | 0-15        |
| NPS / satisfaction signal                           | 15%    | 0-15        |

| Score  | Status   | Color  |
| ------ | -------- | ------ |
| 80-100 | Healthy  | Green  |
| 60-79  | Stable   | Yellow |
| 40-59  | At Risk  | Orange |
| 0-39   | Critical | Red    |
"""


def test_the_seeds_own_tables_read_as_written():
    config, found = parse_segmentation(FILE, SEED_TABLES)
    assert found == []
    assert normalised(config) == normalised(default_config())
    assert [t.line for t in config.tiers] == [5, 6, 7, 8]
    assert [b.line for b in config.bands] == [22, 23, 24, 25]


@pytest.mark.parametrize(("value", "percent"), [
    ("110%", 110), ("**115 %**", 115), ("120", 120), ("1.05", 105),
    ("104.5% — retention first", 104.5), ("50%", 50), ("200%", 200)])
def test_target_nrr_forms(value, percent):
    text = f"# Segmentation\n\n## Team inputs (step 0)\n\n- Target NRR: {value}\n"
    config, found = parse_segmentation(FILE, text)
    assert found == []
    assert config.target_nrr == percent and config.lines["target_nrr"] == 5


def test_without_a_target_nrr_the_default_applies_and_is_marked_as_such():
    config, found = parse_segmentation(FILE, "# Segmentation\n\n## Mixed books\n")
    assert found == [] and config.target_nrr == 110 and "target_nrr" not in config.lines
    shipped, _ = parse_segmentation(COPY)
    assert shipped.target_nrr == 110 and "target_nrr" in shipped.lines


CURRENT = """\
## Team inputs
- Target NRR: 110%
- Current motion: {team}

## Tier 1 — Strategic (High-Touch)
- Current motion: {t1}
- CSM ratio: 1 CSM : 5-8 accounts

## Tier 3 — Scale (Digital / Light Touch)
- Current motion:
"""


@pytest.mark.parametrize(("team", "t1", "expected_team", "expected_t1"), [
    ("all high-touch", "Named CSM, QBR quarterly", "all high-touch", "Named CSM, QBR quarterly"),
    ("mixed — see each tier", "Pooled CSM", None, "Pooled CSM"),
    ("", "", None, None),
])
def test_current_motion_per_tier_and_for_the_whole_book(team, t1, expected_team, expected_t1):
    config, found = parse_segmentation(FILE, CURRENT.format(team=team, t1=t1))
    assert found == []
    assert config.current_motion == expected_team
    assert [t.current_motion for t in config.tiers] == [expected_t1, None, None, None]
    # A current motion is the team's, never a line of the seed's playbook.
    assert "Current motion" not in config.tiers[0].details
    assert config.tiers[0].csm_ratio == (5, 8)


def test_the_demo_states_its_current_motion_per_tier():
    config, found = parse_segmentation(
        ROOT / "examples" / "portfolio" / "references" / SEGMENTATION)
    assert found == []
    assert [t.current_motion.split(":")[0] for t in config.tiers] == [
        "High-Touch", "High-Touch", "Mid-Touch", "Mid-Touch"]


def test_esd_check_names_the_line_of_a_bad_target_nrr(tmp_path):
    refs = copy_references(tmp_path / "refs")
    path = refs / SEGMENTATION
    text = path.read_text().replace("**Target NRR**: 110%", "**Target NRR**: 250%")
    assert text != path.read_text()
    path.write_text(text)
    result = CliRunner().invoke(app, ["check", "--references", str(refs)])
    assert result.exit_code == 2
    assert (f"4-segmentation.md:{line_of(text, 'Target NRR**: 250%')}: target NRR 250% is "
            "outside 50-200%") in result.output
