"""The CLI as a user meets it: exit codes, messages, and what is (not) written."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from builders import AS_OF, account, call, departure, event, ticket, write_portfolio
from conftest import ROOT, TEST_REFS
from typer.testing import CliRunner

from esd.cli import app
from esd.defaults import defaults_dir
from esd.models import signal_id

REFS = str(TEST_REFS)


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
def portfolio(tmp_path) -> Path:
    """Three accounts: one strong SSO signal, one champion-suppressed, one silent."""
    return write_portfolio(
        tmp_path / "in",
        [account("a1", name="Northwind", arr=480_000.0), account("a2", name="Globex"),
         account("a3", owner_email="ben.okafor@lumen.example.com")],
        calls=[
            call("a1", "c1", [("Dana Lee", "Do you support SSO with Okta?")]),
            call("a2", "c2", [("Dana Lee", "Do you support SSO for contractors?")]),
        ],
        usage=[event(a, "tier_gated_feature_attempt", "tier_gated_feature_attempts", 100.0,
                     feature="sso") for a in ("a1", "a2")],
        stakeholders=[departure("a2", "2026-11-05T00:00:00Z")],
    )


def dry_run(portfolio: Path, out: Path, *extra: str):
    return invoke("dry-run", "--input-dir", str(portfolio), "--references", REFS,
                  "--as-of", AS_OF, "--out", str(out), *extra)


def test_dry_run_writes_one_digest_per_csm_and_run_json(portfolio, tmp_path):
    out = tmp_path / "digests"
    result = dry_run(portfolio, out, "--no-quiet")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".esd-output.json", "ana.ruiz@lumen.example.com.md", "ben.okafor@lumen.example.com.md",
        "run.json"]
    run = json.loads((out / "run.json").read_text())
    assert run["as_of"] == "2026-11-23T00:00:00Z" and run["coverage_pct"] == 66.7
    assert run["diagnostics"]["accounts_in_scope"] == 3
    assert run["diagnostics"]["accounts_silent"] == 1
    assert run["diagnostics"]["champion_suppressions"] == 1
    ana = run["digests"][0]
    assert ana["file"] == "ana.ruiz@lumen.example.com.md"
    [top] = ana["strong"]
    assert (top["account_id"], top["sku"]) == ("a1", "enterprise-tier")
    assert top["action"].startswith("Send the SSO setup checklist")
    assert top["call_evidence"][0] == {"call_id": "c1", "speaker": "Dana Lee",
                                       "quote": "Do you support SSO with Okta?",
                                       "trigger": "do you support sso",
                                       "phrase": "do you support SSO"}
    assert top["signal_id"] == signal_id(date(2026, 11, 23), "ana.ruiz@lumen.example.com",
                                         "a1", "enterprise-tier")
    assert ana["weak"] == [{"signal_id": signal_id(date(2026, 11, 23), ana["owner_email"],
                                                   "a2", "enterprise-tier"),
                            "account_id": "a2", "sku": "enterprise-tier",
                            "reason": "champion-departure", "tags": ["champion-departure"]}]
    digest = (out / "ana.ruiz@lumen.example.com.md").read_text()
    assert digest.startswith("# Expansion-signal digest — 2026-11-23 — Ana Ruiz\n")
    assert "### 1. Northwind (Tier 1 Strategic) — $480k ARR · renewal 2027-06-30" in digest
    assert '> "Do you support SSO with Okta?" — Dana Lee, VP IT, 2026-11-18 (c1)' in digest
    assert ("- *Globex* (Tier 2 Growth) — enterprise-tier: _champion-departure suppressed: "
            "investigate before pursuing._") in digest
    assert "- Taxonomy file hash: " + run["diagnostics"]["taxonomy_hash"] in digest
    assert "CSM call coverage" not in digest.split("## Strong")[0]  # 66.7% >= 60%: footer only
    ben = (out / "ben.okafor@lumen.example.com.md").read_text()
    assert "Nothing reached the strong bar this week" in ben
    assert "Ana Ruiz" in result.output and "Wrote 2 digests" in result.output


def test_quiet_prints_nothing(portfolio, tmp_path):
    result = dry_run(portfolio, tmp_path / "d", "--quiet")
    assert result.exit_code == 0 and result.output == ""


def test_low_coverage_warns_above_40_and_aborts_below(tmp_path):
    accounts = [account(f"a{i}") for i in range(5)]
    calls = [call("a0", "c0", [("Dana Lee", "Hello.")]), call("a1", "c1", [("Dana Lee", "Hi.")])]
    warn = dry_run(write_portfolio(tmp_path / "w", accounts, calls), tmp_path / "w-out")
    digest = (tmp_path / "w-out" / "ana.ruiz@lumen.example.com.md").read_text()
    assert warn.exit_code == 0
    assert digest.startswith("_CSM call coverage: 40.0% of accounts had at least one logged call."
                             " Below 60% means most signals are usage-only._")
    low = write_portfolio(tmp_path / "a", accounts, calls[:1])
    abort = dry_run(low, tmp_path / "a-out")
    assert abort.exit_code == 3
    assert "coverage error: only 20.0% of 5 accounts" in abort.output
    assert not (tmp_path / "a-out").exists()
    cov = invoke("coverage", "--input-dir", str(low), "--references", REFS, "--as-of", AS_OF,
                 "--json")
    assert cov.exit_code == 3 and json.loads(cov.output)["status"] == "abort"


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: (d / "calls.json").write_text("[{\"account_id\": "),
     "calls.json: malformed JSON"),
    (lambda d: _edit(d, "accounts.json", 1, "arr", "lots"),
     "accounts.json: record [1] (id a2): field arr: Input should be a valid number"),
    (lambda d: _edit(d, "calls.json", 0, "occurred_at", None, delete=True),
     "calls.json: record [0] (call_id c1): field occurred_at: missing"),
    (lambda d: _edit(d, "usage_events.json", 1, "account_id", "zz"),
     'usage_events.json: record [1]: field account_id: unknown account "zz"'),
    (lambda d: _edit(d, "calls.json", 1, "attendees", [{"name": "X", "is_customer": "yes"}]),
     "calls.json: record [1] (call_id c2): field attendees[0].is_customer"),
    (lambda d: (d / "support_tickets.json").unlink(),
     "support_tickets.json: required input file not found"),
])
def test_bad_input_exits_2_naming_file_record_and_field(portfolio, tmp_path, mutate, expected):
    out = tmp_path / "out"
    mutate(portfolio)
    result = dry_run(portfolio, out)
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def _edit(directory: Path, name: str, index: int, field: str, value, delete=False) -> None:
    records = json.loads((directory / name).read_text())
    if delete:
        del records[index][field]
    else:
        records[index][field] = value
    (directory / name).write_text(json.dumps(records))


def test_bad_reference_file_exits_2_with_line(portfolio, tmp_path):
    refs = tmp_path / "refs"
    refs.mkdir()
    for p in Path(REFS).glob("*.md"):
        (refs / p.name).write_text(p.read_text())
    path = refs / "2-segment-baseline-config.md"
    path.write_text(path.read_text().replace("| +1.5% | ±7% |", "| +1.5% | wide |"))
    result = invoke("dry-run", "--input-dir", str(portfolio), "--references", str(refs),
                    "--as-of", AS_OF, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "wide" in t)
    assert f"2-segment-baseline-config.md:{line}: noise band for mid-market/seat_count" \
        in result.output
    assert not (tmp_path / "out").exists()


def test_rerun_replaces_output_and_a_failed_run_leaves_it_intact(portfolio, tmp_path):
    out = tmp_path / "digests"
    assert dry_run(portfolio, out).exit_code == 0
    (out / "ana.ruiz@lumen.example.com.md").unlink()  # a file esd wrote may go missing
    (out / "stale@lumen.example.com.md").write_text("old")  # one it did not write stops it
    refused = dry_run(portfolio, out)
    assert refused.exit_code == 2 and "stale@lumen.example.com.md" in refused.output
    assert (out / "stale@lumen.example.com.md").read_text() == "old"
    (out / "stale@lumen.example.com.md").unlink()
    assert dry_run(portfolio, out).exit_code == 0
    assert (out / "ana.ruiz@lumen.example.com.md").is_file()  # replaced as a whole
    before = (out / "run.json").read_text()
    _edit(portfolio, "accounts.json", 0, "arr", "x")
    assert dry_run(portfolio, out).exit_code == 2
    assert (out / "run.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".digests")] == []


def test_refuses_to_replace_a_folder_that_is_not_esd_output(portfolio, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = dry_run(portfolio, out)
    assert result.exit_code == 2 and "not an earlier esd output" in result.output
    assert (out / "notes.txt").read_text() == "keep me"


def test_options_from_environment_and_esd_toml_with_flag_precedence(portfolio, tmp_path):
    (tmp_path / "esd.toml").write_text('[defaults]\nwindow-days = 1\ncap-per-csm = 2\n')
    out = tmp_path / "o"
    env = {"ESD_INPUT_DIR": str(portfolio), "ESD_REFERENCES": REFS, "ESD_AS_OF": AS_OF,
           "ESD_OUT": str(out)}
    # esd.toml's 1-day window holds no call (calls are on 2026-11-18): abort
    assert invoke("dry-run", env=env).exit_code == 3
    # the environment beats esd.toml
    assert invoke("dry-run", env=env | {"ESD_WINDOW_DAYS": "7"}).exit_code == 0
    assert json.loads((out / "run.json").read_text())["cap_per_csm"] == 2
    # the flag beats the environment
    assert invoke("dry-run", "--window-days", "1", env=env | {"ESD_WINDOW_DAYS": "7"}
                  ).exit_code == 3


def test_dotenv_fills_only_unset_variables(portfolio, tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(f"ESD_AS_OF=2030-01-01\nESD_INPUT_DIR={portfolio}\n")
    monkeypatch.setenv("ESD_AS_OF", AS_OF)
    result = invoke("dry-run", "--references", REFS, "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "o" / "run.json").read_text())["as_of"].startswith("2026-11-23")


def test_without_input_dir_live_credentials_are_named_before_any_request(tmp_path):
    result = invoke("dry-run", "--references", REFS, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "environment variable GAINSIGHT_URL is not set" in result.output
    assert not (tmp_path / "o").exists()


def test_bad_as_of():
    result = invoke("dry-run", "--references", REFS, "--as-of", "last monday")
    assert result.exit_code == 2 and "--as-of: 'last monday' is not a date" in result.output


def test_shipped_demo_references_fail_check_only_on_example_links_and_stubs():
    """The demo company's files (what `esd dry-run` demos with): they parse clean, and
    `esd check` stops a team going live on them only for their example.com links and
    `{your_next_sku}` stubs (contract §4), whatever else a lead has put in them."""
    result = invoke("check", "--references", str(defaults_dir() / "references"), "--json")
    problems = json.loads(result.output)["problems"]
    assert all(p["message"].startswith(("link to the example host ", "template section "))
               for p in problems), problems


def test_check_passes_on_clean_references_and_fails_on_findings(portfolio, golive_refs):
    ok = invoke("check", "--references", str(golive_refs), "--input-dir", str(portfolio))
    assert ok.exit_code == 0 and "reference files OK" in ok.output, ok.output
    refs = golive_refs
    actions = refs / "3-action-library.md"
    text = actions.read_text()
    text = text.replace('"Open a provisioning thread with the named admin and offer a 15-min '
                        'onboarding call for the new team this week."',
                        '"Reach out about more seats."')
    actions.write_text(text[: text.index("## SKU: premium-feature-pack")]
                       + text[text.index("## Vague-language denylist"):])
    _edit(portfolio, "accounts.json", 0, "segment", "public-sector")
    result = invoke("check", "--references", str(refs), "--input-dir", str(portfolio), "--json")
    assert result.exit_code == 2
    messages = [p["message"] for p in json.loads(result.output)["problems"]]
    assert any(m.startswith("SKU premium-feature-pack (taxonomy line") for m in messages)
    assert any('"Reach out about more seats." uses vague language' in m for m in messages)
    assert any('segment "public-sector" has no baseline section' in m for m in messages)
    assert len(messages) == 3


def test_check_reports_example_links_and_template_placeholders(golive_refs):
    actions = golive_refs / "3-action-library.md"
    lines = actions.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if "wiki.lumen.internal/trust" in line)
    lines[row] = lines[row].replace("https://wiki.lumen.internal/trust",
                                    "https://docs.example.com/trust {link}")
    lines.insert(row + 1, '| Anything | "<FILL: an action for it>" |')
    actions.write_text("\n".join(lines) + "\n")
    taxonomy = golive_refs / "1-expansion-signal-taxonomy.md"
    taxonomy.write_text(taxonomy.read_text().replace("\n2026-11-16", "\n{YYYY-MM-DD}"))
    result = invoke("check", "--references", str(golive_refs))
    assert result.exit_code == 2
    where = f"{actions}:{row + 1}: "
    assert where + "link to the example host docs.example.com: point it at a page of your " \
        "own (a CSM opens it from the Slack digest)" in result.output
    assert where + "action row holds the template placeholder {link}" in result.output
    assert f"{actions}:{row + 2}: unfilled placeholder <FILL: an action for it>" in result.output
    assert "unfilled placeholder {YYYY-MM-DD}: write the date" in result.output
    assert "4 problem(s) found" in result.output


def test_coverage_reports_sources_and_drops(portfolio):
    result = invoke("coverage", "--input-dir", str(portfolio), "--references", REFS,
                    "--as-of", AS_OF, "--json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["coverage_pct"] == 66.7 and report["status"] == "ok"
    assert report["would_drop"]["silent_accounts"] == ["a3"]
    assert report["sources"]["calls"] == {"in_window": 2, "total": 2}
    text = invoke("coverage", "--input-dir", str(portfolio), "--references", REFS,
                  "--as-of", AS_OF)
    assert "CSM call coverage: 66.7% (2 of 3 accounts had a logged call) — ok" in text.output


def test_init_scaffolds_and_never_overwrites_silently(tmp_path):
    target = tmp_path / "team"
    result = invoke("init", str(target))
    assert result.exit_code == 0, result.output
    assert "Next steps:\n  1. Fill in every <FILL: …>" in result.output
    assert (target / "templates" / "digest.md.j2").is_file()
    assert (target / ".env.example").is_file()
    assert not (target / "warehouse").exists()
    again = invoke("init", str(target))
    assert again.exit_code == 2 and "--force" in again.output
    assert invoke("init", str(target), "--force").exit_code == 0


def test_ticket_without_id_gets_a_stable_one(tmp_path):
    d = write_portfolio(tmp_path / "in", [account("a1")],
                        calls=[call("a1", "c1", [("Dana Lee", "Hello.")])],
                        tickets=[ticket("a1", "SSO login fails", tags=["sso"])
                                 | {"ticket_id": None}])
    assert dry_run(d, tmp_path / "o").exit_code == 0
    run = json.loads((tmp_path / "o" / "run.json").read_text())
    assert run["digests"][0]["weak"][0]["reason"] == "ticket-only"
    from esd.connectors.files import load_portfolio

    assert load_portfolio(d).tickets[0].ticket_id == "support_tickets.json[0]"


def test_team_templates_folder_is_used(portfolio, tmp_path):
    custom = tmp_path / "templates"  # the working directory's ./templates
    custom.mkdir()
    (custom / "digest.md.j2").write_text("Hi {{ digest.csm_name }}: {{ strong | length }}\n")
    assert dry_run(portfolio, tmp_path / "a").exit_code == 0
    assert (tmp_path / "a" / "ana.ruiz@lumen.example.com.md").read_text() == "Hi Ana Ruiz: 1\n"
    other = tmp_path / "other"
    other.mkdir()
    (other / "digest.md.j2").write_text("{{ digest.owner_email }}\n")
    assert dry_run(portfolio, tmp_path / "b", "--templates", str(other)).exit_code == 0
    assert (tmp_path / "b" / "ana.ruiz@lumen.example.com.md").read_text() == \
        "ana.ruiz@lumen.example.com\n"


def test_without_stakeholder_data_every_footer_says_the_guard_could_not_run(tmp_path):
    d = write_portfolio(tmp_path / "in", [account("a1"), account("a2", owner_email="b@x.example")],
                        calls=[call("a1", "c1", [("Dana Lee", "Hello.")])])  # no stakeholders
    assert dry_run(d, tmp_path / "o").exit_code == 0
    line = " · stakeholder changes: no source, so the champion-departure guard could not run"
    for digest in (tmp_path / "o").glob("*.md"):
        assert line in digest.read_text()
    assert json.loads((tmp_path / "o" / "run.json").read_text())[
        "diagnostics"]["stakeholder_data"] is False


def test_bad_input_error_names_file_record_and_field(tmp_path):
    """The InputError of a bad record carries where it is as fields, not only as text."""
    import shutil

    from esd.connectors.files import load_portfolio
    from esd.errors import InputError

    folder = tmp_path / "bad"
    shutil.copytree(ROOT / "examples" / "portfolio", folder,
                    ignore=shutil.ignore_patterns("references"))
    records = json.loads((folder / "calls.json").read_text())
    records[3]["occurred_at"] = "not a date"
    (folder / "calls.json").write_text(json.dumps(records))
    with pytest.raises(InputError) as caught:
        load_portfolio(folder)
    error = caught.value
    assert (error.file, error.record, error.field) == (str(folder / "calls.json"), 3,
                                                       "occurred_at")
    assert error.exit_code == 2 and "record [3]" in error.problems[0]
