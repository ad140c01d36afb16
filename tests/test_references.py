"""Parsers of the three reference files: lenient about layout, precise about lines."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esd.references import load_references, parse_references
from esd.references.actions import parse_actions
from esd.references.baselines import parse_baselines
from esd.references.taxonomy import parse_taxonomy

SEED = Path(__file__).parent / "data" / "seed-templates"


def test_test_reference_files_parse_and_pass(refs):
    assert [s.id for s in refs.taxonomy.skus] == [
        "enterprise-tier", "additional-team-seats", "premium-feature-pack"]
    assert set(refs.baselines.segments) == {"enterprise", "mid-market", "smb"}
    assert refs.baselines.row("Enterprise", "seat_count").upper == 3.5
    assert set(refs.actions.sections) == {s.id for s in refs.taxonomy.skus}


def test_seed_templates_parse_with_flat_bullets_and_example_headings():
    refs, problems = parse_references(SEED)
    assert problems == []
    tax = refs.taxonomy
    assert [s.id for s in tax.skus] == [
        "enterprise-tier", "additional-team-seats", "premium-feature-pack"]  # placeholder skipped
    ent = tax.sku("enterprise-tier")
    assert [p.text for p in ent.call_triggers][:3] == ["do you support SSO", "SAML", "SCIM"]
    assert [(t.event_type, t.features) for t in ent.usage_triggers] == [
        ("tier_gated_feature_attempt", ["sso", "audit-log", "rbac"]), ("seat_count_spike", [])]
    assert ent.ticket_tags == ["sso", "compliance", "security-review"]
    assert ent.ticket_subjects == ["audit log", "enterprise", "compliance"]
    assert len(ent.negatives) == 3
    assert tax.last_edited is None  # still the {YYYY-MM-DD} placeholder
    assert len(tax.conditional_patterns) == 3
    band = refs.baselines.row("smb", "tier_gated_feature_attempts")
    assert (band.median, band.band) == (0.0, 0.0)  # "±0 (any > 0 is signal)"
    assert refs.baselines.row("mid-market", "seat_count").upper == 8.5
    rows = refs.actions.sections["enterprise-tier"].rows
    assert rows[0].action.startswith("Send the SSO setup checklist {link}")
    assert "circle back" in refs.actions.denylist


def test_any_heading_level_and_nested_or_inline_labels(tmp_path):
    text = """# SKU: seats
**Call triggers**: "add {N} more seats"
- **Usage triggers**
  - `seat_count_spike`
#### Ticket triggers
- subject contains `more seats`
- **Negative-example phrases**: "fewer seats" / "cut seats"

# Last edited
2026-10-01
"""
    tax, problems = parse_taxonomy(tmp_path / "t.md", text)
    assert problems == []
    [sku] = tax.skus
    assert [p.text for p in sku.call_triggers] == ["add {N} more seats"]
    assert [t.event_type for t in sku.usage_triggers] == ["seat_count_spike"]
    assert sku.ticket_subjects == ["more seats"]
    assert [p.text for p in sku.negatives] == ["fewer seats", "cut seats"]
    assert str(tax.last_edited) == "2026-10-01"


def test_taxonomy_problems_carry_file_and_line(tmp_path):
    text = """## SKU: seats
- **Call trigers**:
  - "add seats"
- **Call triggers**:
  - add seats without quotes
  - "add {N seats"
- **Usage triggers**:
  - seat_count_spike without backticks
- **Ticket triggers**:
  - body has `x`
## SKU: seats
## Last edited
2026-02-30
"""
    _, problems = parse_taxonomy(tmp_path / "t.md", text)
    found = [(p.line, p.message.split(" ")[0]) for p in problems]
    assert [p.line for p in problems] == [2, 3, 5, 6, 8, 10, 11, 13]
    assert all(str(p).startswith(f"{tmp_path / 't.md'}:{p.line}: ") for p in problems)
    assert found[0] == (2, "unknown")


def test_baseline_and_action_problems(tmp_path):
    base = """### Segment: smb
| Metric | Median weekly delta | Noise band (2σ) |
|---|---|---|
| `seat_count` | lots | ±25% |
| `api_calls` | +8% | wide |
| `dau` | +1% | ±5% |
"""
    baselines, problems = parse_baselines(tmp_path / "b.md", base)
    assert [p.line for p in problems] == [4, 5]
    assert "not a number" in problems[0].message
    assert baselines.row("smb", "dau").upper == 6.0

    actions = """## SKU: seats
| Pattern | Owner |
|---|---|
| x | y |
## SKU: pack
| Trigger pattern | Next-best action |
|---|---|
| anything | Send the deck (https://x.example) to the admin. |
"""
    library, problems = parse_actions(tmp_path / "a.md", actions)
    assert [p.line for p in problems] == [2]
    action = library.sections["pack"].rows[0].action
    assert action == "Send the deck (https://x.example) to the admin."


def test_load_references_raises_input_error_listing_every_problem(tmp_path):
    for name in ("1-expansion-signal-taxonomy.md", "2-segment-baseline-config.md",
                 "3-action-library.md"):
        (tmp_path / name).write_text((SEED / name).read_text())
    (tmp_path / "2-segment-baseline-config.md").write_text(
        "### Segment: smb\n| Metric | Median | Noise band |\n|---|---|---|\n| `x` | y | z |\n")
    from esd.errors import InputError

    try:
        load_references(tmp_path)
    except InputError as exc:
        assert "2-segment-baseline-config.md:4: median weekly delta for smb/x" in str(exc)
    else:
        raise AssertionError("expected InputError")


# --- property tests: arbitrary text parses or reports problems with a line -------------------

_md_line = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["# SKU: a", "## SKU: {x}", "### Segment: smb", "- **Call triggers**:",
                     '- "phrase {N} with {a, b}"', "- `seat_count_spike` for `sso` features",
                     "| Metric | Median | Noise band |", "|---|---|---|", "| `m` | +1% | ±2% |",
                     "- tags include `x`", '- "unbalanced', "- {", "## Last edited", "2026-99-99",
                     "| Trigger pattern | Next-best action |", '| p | "Reach out" |', "```", ">"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_md_line, max_size=25).map("\n".join))
def test_parsers_never_crash(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("p") / "f.md"
    n_lines = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    for parse in (parse_taxonomy, parse_baselines, parse_actions):
        model, problems = parse(path, text)
        assert model is not None
        for p in problems:
            assert isinstance(p.line, int) and 0 <= p.line <= n_lines + 1
            assert str(p).startswith(str(path))
