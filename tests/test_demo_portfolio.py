"""End to end over examples/portfolio: the exact sets its generator planted.

examples/portfolio/expected.json is written by examples/generate_portfolio.py from its
scenario table (not by re-running esd), so this compares two independent accounts of
what the contract's rules give for the demo week.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from esd.cli import app

DEMO = ROOT / "examples" / "portfolio"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "digests"
    result = CliRunner().invoke(app, [
        "dry-run", "--input-dir", str(DEMO), "--references", str(DEMO / "references"),
        "--as-of", "2026-11-23", "--out", str(out)])
    assert result.exit_code == 0, result.output
    expected = json.loads((DEMO / "expected.json").read_text())
    return json.loads((out / "run.json").read_text()), expected, out


def test_diagnostics_match_the_plan(demo):
    run, expected, _ = demo
    assert run["as_of"] == expected["as_of"]
    assert run["diagnostics"]["accounts_in_scope"] == expected["accounts_in_scope"] >= 200
    assert run["diagnostics"]["accounts_silent"] == len(expected["silent"])
    assert run["coverage_pct"] == expected["coverage_pct"]
    assert run["diagnostics"]["champion_suppressions"] == expected["champion_suppressions"]


def test_strong_weak_and_overflow_per_csm(demo):
    run, expected, _ = demo
    got = {d["owner_email"]: d for d in run["digests"]}
    assert sorted(got) == sorted(expected["digests"])
    assert len(got) >= 5
    for email, plan in expected["digests"].items():
        digest = got[email]
        assert [[s["account_id"], s["sku"]] for s in digest["strong"]] == plan["strong"], email
        assert digest["overflow"] == plan["overflow"], email
        assert sorted([w["account_id"], w["sku"], w["reason"]] for w in digest["weak"]) == \
            sorted(plan["weak"]), email


def test_not_signal_entries(demo):
    run, expected, _ = demo
    got = sorted([n["account_id"], n["sku"], n["source_id"], n["reason"]]
                 for n in run["not_signal"])
    assert got == sorted(expected["not_signal"])
    assert {n[3] for n in got} == {"conditional", "negative-example"}


def test_needs_human_review_for_the_sku_without_actions(demo):
    run, expected, _ = demo
    review = sorted([s["account_id"], s["sku"]] for d in run["digests"] for s in d["strong"]
                    if s["action"] == "needs human review")
    assert review == sorted(expected["needs_human_review"]) != []


def test_every_digest_renders_the_seed_layout(demo):
    run, _, out = demo
    for digest in run["digests"]:
        text = (out / digest["file"]).read_text()
        assert text.startswith("# Expansion-signal digest — 2026-11-23 — ")
        assert "## Strong signals — act this week" in text
        assert "## Weak signals — worth a glance" in text
        assert f"- Taxonomy file hash: {run['diagnostics']['taxonomy_hash']}" in text
        actions = [line for line in text.splitlines() if line.startswith("Action: ")]
        assert len(actions) == len(digest["strong"])
        for strong, shown in zip(digest["strong"], actions, strict=True):
            # The library's "the security contact" names the customer who asked.
            generic = re.search(r"the (named admin|security contact|named compliance "
                                r"contact|asking persona)", strong["action"])
            if generic is None:
                assert shown == f"Action: {strong['action']}"
            else:
                before, after = strong["action"][:generic.start()], strong[
                    "action"][generic.end():]
                who = shown[len("Action: " + before):len(shown) - len(after)]
                assert shown.startswith(f"Action: {before}") and shown.endswith(after)
                assert who.startswith(strong["call_evidence"][0]["speaker"])
            quote = " ".join(strong["call_evidence"][0]["quote"].split())
            assert f'> "{quote}"' in text


def test_actions_fit_the_evidence(demo):
    """Rule 5.6 picks the row sharing most words with the evidence; the demo's library is
    worded so that each strong signal gets the action a CSM would expect."""
    run, _, _ = demo
    strong = {s["call_evidence"][0]["quote"]: s["action"]
              for d in run["digests"] for s in d["strong"]}
    expect = {"audit log": "Forward the SOC 2 report", "security questionnaire":
              "Forward the SOC 2 report", "SSO with Okta": "Send the SSO setup checklist",
              "rolling out to 40": "Open a provisioning thread",
              "new hires": "Send the department onboarding playbook",
              "API rate limit": "Open a Gainsight CTA"}
    for needle, action in expect.items():
        [quote] = [q for q in strong if needle in q]
        assert strong[quote].startswith(action), (quote, strong[quote])
