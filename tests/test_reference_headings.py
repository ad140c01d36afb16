"""`esd check` is strict about the taxonomy's headings and sections (issue 13): a heading
typo must not make a SKU or a guard disappear silently. And the Negation cues and Not
conditional lists parse as the team writes them (contract §4)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import TEST_REFS

from esd.references import parse_references
from esd.references.lint import lint
from esd.references.taxonomy import parse_taxonomy

TAXONOMY = "1-expansion-signal-taxonomy.md"


def edited(tmp_path: Path, old: str, new: str) -> list[str]:
    """`esd check`'s messages (file:line: message) after one edit of the test taxonomy."""
    refs = tmp_path / f"refs{len(list(tmp_path.iterdir()))}"
    shutil.copytree(TEST_REFS, refs)
    text = (refs / TAXONOMY).read_text()
    assert old in text
    (refs / TAXONOMY).write_text(text.replace(old, new, 1))
    parsed, problems = parse_references(refs)
    found = problems + (lint(parsed) if parsed else [])
    return [str(p).removeprefix(str(refs / TAXONOMY) + ":") for p in found
            if Path(p.file).name == TAXONOMY]


def line_of(text: str) -> int:
    return (TEST_REFS / TAXONOMY).read_text().splitlines().index(text) + 1


def test_the_shipped_and_test_taxonomies_have_no_findings():
    for directory in (TEST_REFS, TEST_REFS.parents[2] / "references"):
        tax, problems = parse_taxonomy(directory / TAXONOMY)
        assert problems == [] and tax.findings == [], directory
        assert len(tax.negation_before) >= 7 and len(tax.negation_after) >= 5
        assert "would love" in [p.text for p in tax.not_conditional]


def test_a_sku_heading_without_its_colon(tmp_path):
    messages = edited(tmp_path, "### SKU: premium-feature-pack", "### SKU premium-feature-pack")
    line = line_of("### SKU: premium-feature-pack")
    assert f'{line}: labelled list "Call triggers" under heading "SKU premium-feature-pack", ' \
        'which is not "SKU: <id>": esd ignores it and everything under it (did you mean ' \
        '"SKU: premium-feature-pack"?)' in messages


@pytest.mark.parametrize("old, new, hint", [
    ("## Conditional-mention guard", "## Conditonal-mention guard",
     '(did you mean "Conditional-mention guard"?)'),
    ("## Negation cues", "## Negaton queues", '(did you mean "Negation cues"?)'),
    ("## Last edited", "## Last edit", '(did you mean "Last edited"?)'),
    ("## Strong-signal cutoff", "## Notes from the QBR", ""),
])
def test_a_misspelled_or_unknown_section(tmp_path, old, new, hint):
    messages = edited(tmp_path, old, new)
    title = new.lstrip("# ")
    expected = f'{line_of(old)}: unknown heading "{title}": esd ignores everything under it'
    assert expected + (f" {hint}" if hint else "") in messages


def test_an_unknown_list_heading_inside_a_sku(tmp_path):
    messages = edited(tmp_path, "- **Call triggers**:\n  - \"do you support SSO\"",
                      "#### Call trigers\n\n- \"do you support SSO\"")
    assert any('unknown list heading "Call trigers" in SKU enterprise-tier' in m
               and '(did you mean "Call triggers"?)' in m for m in messages)


@pytest.mark.parametrize("written", ["07/12/2026", "last Tuesday", "Nov 16"])
def test_a_last_edited_that_is_not_a_date(tmp_path, written):
    messages = edited(tmp_path, "\n2026-11-16", f"\n{written}")
    line = line_of("2026-11-16")
    assert messages == [f'{line}: Last edited "{written}" is not a date: write it as '
                        "YYYY-MM-DD (e.g. 2026-11-16), or the staleness warning cannot see "
                        "when the taxonomy was last edited"]


def test_a_placeholder_date_and_known_sub_headings_are_fine(tmp_path):
    assert edited(tmp_path, "\n2026-11-16", "\n{YYYY-MM-DD}") == []
    assert edited(tmp_path, "- **Before**:", "### Before\n") == []


def test_a_misspelled_cue_label_is_a_parse_problem(tmp_path):
    messages = edited(tmp_path, "- **After**:", "- **Afer**:")
    assert any('unknown list label "Afer" in Negation cues (expected After or Before) '
               '(did you mean "After"?)' in m for m in messages)


def test_the_teams_lists_replace_the_defaults_and_absent_lists_keep_them(tmp_path):
    refs = tmp_path / "refs"
    shutil.copytree(TEST_REFS, refs)
    text = (refs / TAXONOMY).read_text()
    start, end = text.index("## Negation cues"), text.index("## Last edited")
    mine = '## Negation cues\n\n- **Before**: "ditched" / "scrapped"\n\n'
    (refs / TAXONOMY).write_text(text[:start] + mine + text[end:])
    tax, problems = parse_taxonomy(refs / TAXONOMY)
    assert problems == [] and tax.findings == []
    assert [p.text for p in tax.negation_before] == ["ditched", "scrapped"]
    assert tax.negation_after is None  # the defaults apply
    start = text.index("- **Not conditional**:")
    end = text.index("These are valuable product feedback")
    (refs / TAXONOMY).write_text(text[:start] + text[end:])
    tax, _ = parse_taxonomy(refs / TAXONOMY)
    assert tax.not_conditional is None and len(tax.conditional_patterns) == 3
