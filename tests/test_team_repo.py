"""Issue 17, done when: a CS-Ops lead runs `esd init team`, `esd check` lists every
placeholder with its file:line, the lead fills them in, `esd check` passes, a pilot dry run
on the demo inputs works with the team's own references, and the team's workflows pass
actionlint. Also: the scaffolded esd.toml mentions every key esd reads, and the team's
README lists every variable its weekly workflow reads."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, fake_fixture
from fakes import slack as slack_fake
from test_run import CSMS
from test_workflows import ACTION_INPUTS, REQUIRED_INPUTS, TOOLS, _walk, node  # noqa: F401
from typer.testing import CliRunner

import esd
from esd.app.init import DISTRIBUTION, planned
from esd.cli import app
from esd.defaults import defaults_dir

SCAFFOLD = ROOT / "scaffold"
PORTFOLIO = ROOT / "examples" / "portfolio"
MARKER = re.compile(r"<FILL: (?!…>)[^<>]*>")  # `<FILL: …>` names the syntax
DATE = "2026-11-20"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def _replace(path: Path, pairs: list[tuple[str, str]]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text, f"{path.name}: {old!r} is no longer in the scaffold"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def _segment(name: str) -> str:
    return (f"### Segment: {name}\n\n| Metric | Median weekly delta | Noise band (2σ) |\n"
            "|---|---:|---|\n| `seat_count` | +1.5% | ±7% |\n"
            "| `tier_gated_feature_attempts` | 0 | ±0 (any > 0 is signal) |\n\n")


def fill_in(references: Path) -> None:
    """What a lead writes over the markers: one SKU, the demo's three segments (by
    copying the segment section), one action with a link of their own, today's date."""
    _replace(references / "1-expansion-signal-taxonomy.md", [
        ("<FILL: sku-id, one word, as your price book names the SKU>", "enterprise-tier"),
        ('"<FILL: a phrase a customer says when they need this SKU>" / '
         '"<FILL: another way of saying it>"', '"do you support SSO" / "SAML" / "SCIM"'),
        ('"<FILL: a phrase with a number in it, e.g. quote for {N} seats>"',
         '"quote for {N} seats"'),
        ("`<FILL: an anomaly type from your usage feed>` for `<FILL: the gated feature>` "
         "features", "`tier_gated_feature_attempt` for `sso` or `audit-log` features"),
        ("`<FILL: another anomaly type, counted for any feature>`", "`seat_count_spike`"),
        ("`<FILL: a support ticket tag>`", "`sso`, `security-review`"),
        ("`<FILL: words in a ticket subject>`", "`audit log`"),
        ('"<FILL: a phrase that sounds close but means the opposite, e.g. downgrade>"',
         '"downgrade"'),
        ("<FILL: today's date, YYYY-MM-DD>", DATE)])
    _replace(references / "2-segment-baseline-config.md", [
        ("<FILL: a segment name as your accounts carry it>", "enterprise"),
        ("`<FILL: metric name from your usage feed>` | <FILL: median weekly change, e.g. "
         "+1.5%> | <FILL: noise band, e.g. ±7%>", "`seat_count` | +0.5% | ±3%"),
        ("## Recompute cadence", _segment("mid-market") + _segment("smb")
         + "## Recompute cadence"),
        ("<FILL: today's date, YYYY-MM-DD> — initial baselines — <FILL: where the numbers "
         "come from>", f"{DATE} — initial baselines — 90 days of the usage warehouse"),
        ("<FILL: today's date, YYYY-MM-DD>", DATE)])
    _replace(references / "3-action-library.md", [
        ("<FILL: sku-id, the same as its taxonomy section>", "enterprise-tier"),
        ("<FILL: which evidence this row is for, e.g. call mention of SSO + tier-gated sso "
         "attempt>", "Call mention of SSO/SAML/SCIM + tier-gated sso attempt"),
        ("<FILL: verb + named artifact, e.g. Send the SSO checklist (your link) to the "
         "security contact this week.>", "Send the SSO setup checklist "
         "(https://wiki.acme.internal/sso) to the security contact and propose a 30-min "
         "walkthrough this week."),
        ("<FILL: today's date, YYYY-MM-DD>", DATE)])
    _replace(references / "4-segmentation.md", [
        ("<FILL: the sku-id of your per-seat or per-team SKU>", "enterprise-tier"),
        ("<FILL: today's date, YYYY-MM-DD>", DATE)])


slack = fake_fixture(lambda: slack_fake.FakeSlack(CSMS), scope="function")


def test_init_check_fill_check_pilot(tmp_path, monkeypatch, slack):
    made = invoke("init", "team")
    assert made.exit_code == 0, made.output
    steps = made.output[made.output.index("Next steps:"):].splitlines()[1:]
    assert [s.split(".")[0].strip() for s in steps] == ["1", "2", "3"]
    team = tmp_path / "team"
    monkeypatch.chdir(team)  # as the lead works: in the repository, its esd.toml read

    # Unfilled: every marker is an error at its file:line, and only markers are listed
    # but for the two "no section found" lines that the unnamed SKU and segment cause.
    first = invoke("check", "--json")
    assert first.exit_code == 2
    found = {(Path(p["file"]).name, p["line"]): p["message"]
             for p in json.loads(first.output)["problems"]}
    markers = {(path.name, number) for path in (team / "references").glob("*.md")
               for number, line in enumerate(path.read_text().splitlines(), start=1)
               if MARKER.search(line)}
    assert len(markers) > 15 and markers <= set(found)
    assert all(found[m].startswith("unfilled placeholder <FILL: ") for m in markers)
    assert sorted(m for k, m in found.items() if k not in markers) == [
        'no SKU sections found (expected headings like "### SKU: enterprise-tier")',
        'no segment sections found (expected headings like "### Segment: enterprise")']
    text = invoke("check")
    assert (f"references/1-expansion-signal-taxonomy.md:{min(n for f, n in markers)}: "
            "unfilled placeholder <FILL: ") in text.output

    fill_in(team / "references")
    assert not any(MARKER.search(p.read_text()) for p in (team / "references").glob("*.md"))
    clean = invoke("check")
    assert clean.exit_code == 0, clean.output
    assert "references: reference files OK" in clean.output

    # The pilot: the team's references, templates and esd.toml over the demo's inputs.
    pilot = invoke("dry-run", "--input-dir", str(PORTFOLIO), "--as-of", "2026-11-23",
                   "--extractor", "rules", "--out", "digests")
    assert pilot.exit_code == 0, pilot.output
    run = json.loads((team / "digests" / "run.json").read_text())
    strong = [s for d in run["digests"] for s in d["strong"]]
    assert strong and {s["sku"] for s in strong} == {"enterprise-tier"}
    digests = "".join(p.read_text() for p in (team / "digests").glob("*.md"))
    assert "https://wiki.acme.internal/sso" in digests

    # The pilot week for real: one CSM, against Slack (the fake, over HTTP); the others
    # get nothing and stay undelivered for the full run.
    pilot_csm = CSMS[0]
    real = CliRunner().invoke(app, [
        "run", "--input-dir", str(PORTFOLIO), "--as-of", "2026-11-23", "--extractor",
        "rules", "--only", pilot_csm, "--state", str(tmp_path / "state.db")],
        env={"SLACK_BOT_TOKEN": slack_fake.TOKEN, "SLACK_API_URL": slack.url + "/api/"})
    assert real.exit_code == 0, real.output
    assert slack.messages_to(pilot_csm)
    assert not any(slack.messages_to(email) for email in CSMS[1:])


def test_the_lists_with_defaults_are_written_out_as_esd_reads_them(tmp_path):
    from esd.references.phrases import NEGATION_AFTER, NEGATION_BEFORE, NOT_CONDITIONAL
    from esd.references.taxonomy import parse_taxonomy

    assert invoke("init", "team").exit_code == 0
    fill_in(tmp_path / "team" / "references")
    tax, problems = parse_taxonomy(tmp_path / "team" / "references" /
                                   "1-expansion-signal-taxonomy.md")
    assert problems == [] and tax.findings == []
    assert [p.text for p in tax.not_conditional] == list(NOT_CONDITIONAL)
    assert [p.text for p in tax.negation_before] == list(NEGATION_BEFORE)
    assert [p.text for p in tax.negation_after] == list(NEGATION_AFTER)


def test_scaffold_holds_none_of_the_demo_company():
    for path in (SCAFFOLD / "references").glob("*.md"):
        text = path.read_text()
        for demo in ("lumen", "example.com", "2026-", "additional-team-seats",
                     "premium-feature-pack", "### SKU: enterprise-tier"):
            assert demo not in text, f"{path.name}: {demo}"


def test_init_never_overwrites_and_the_warehouse_esd_toml_reads_the_queries(tmp_path):
    from esd.config import load_toml

    assert invoke("init", "team").exit_code == 0
    (tmp_path / "team" / "references" / "3-action-library.md").write_text("mine")
    again = invoke("init", "team", "--warehouse")
    assert again.exit_code == 2 and "--force" in again.output
    assert (tmp_path / "team" / "references" / "3-action-library.md").read_text() == "mine"
    assert not (tmp_path / "team" / "warehouse").exists()
    assert invoke("init", "team", "--warehouse", "--force").exit_code == 0
    toml = load_toml(tmp_path / "team" / "esd.toml")
    assert toml["usage_source"] == "warehouse"
    assert Path(toml["warehouse"]["accounts"]).is_file()
    plain = tomllib.loads(planned(defaults_dir(), warehouse=False)[Path("esd.toml")].decode())
    assert "usage_source" not in plain and "warehouse" not in plain


# --- esd.toml: every key esd reads ---------------------------------------------------------

_COMMENTED = re.compile(r'^# ?((?:\[[^\]]+\])|(?:(?:"[^"]+"|[\w-]+) = .*))$')


def uncommented(text: str) -> dict:
    """The scaffolded esd.toml with every commented-out table and key written in."""
    lines = [m.group(1) if (m := _COMMENTED.match(line)) else line
             for line in text.splitlines()]
    return tomllib.loads("\n".join(lines))


def keys_esd_reads() -> dict[str, set[str]]:
    """Table -> keys, read from the code itself: each Section model, the [claude] keys
    factory.py asks for, the top-level keys of config.py, the shared options of every
    command that takes [defaults] (those with an environment variable)."""
    import typer.main

    from esd.cli.app import COMMANDS_WITH_DEFAULTS
    from esd.config import HttpConfig, Section
    from esd.connectors import gainsight_config, gong, helpscout, intercom, warehouse, zendesk

    tables: dict[str, set[str]] = {}
    for model in (HttpConfig, gong.GongConfig, gainsight_config.GainsightConfig,
                  zendesk.ZendeskConfig, intercom.IntercomConfig,
                  helpscout.HelpScoutConfig, warehouse.WarehouseConfig):
        assert issubclass(model, Section)
        tables[model.SECTION] = set(model.toml_keys())
    for name, defaults in gainsight_config.FIELD_TABLES.items():
        tables[f"gainsight.{name}"] = set(defaults)
    factory = (ROOT / "esd" / "extractors" / "claude" / "factory.py").read_text()
    tables["claude"] = set(re.findall(r'section(?:\.get\(|, )"(\w+)"', factory))
    assert {"model", "lexicon", "screen_model", "prices", "attempts"} <= tables["claude"]
    config = (ROOT / "esd" / "config.py").read_text()
    tables[""] = set(re.findall(r'toml\.get\("(\w+)"\)', config))
    assert tables[""] == {"ticket_source", "usage_source"}
    command = typer.main.get_command(app)
    tables["defaults"] = {p.name.replace("_", "-") for name in COMMANDS_WITH_DEFAULTS
                          for p in command.commands[name].params
                          if p.param_type_name == "option" and p.envvar}
    return tables


@pytest.mark.parametrize("warehouse", [False, True])
def test_esd_toml_mentions_every_key_esd_reads(warehouse):
    text = planned(defaults_dir(), warehouse=warehouse)[Path("esd.toml")].decode()
    tomllib.loads(text)  # valid as written
    full = uncommented(text)
    for table, keys in keys_esd_reads().items():
        here = full
        for part in [p for p in table.split(".") if p]:
            here = here[part]
        mentioned = {k.replace("_", "-") if table == "defaults" else k for k in here}
        assert keys <= mentioned, f"[{table}] lacks {sorted(keys - mentioned)}"
    assert full["slack"]["users"]  # an example mapping
    assert "claude-sonnet-5-5" in full["claude"]["prices"]


def test_esd_toml_examples_are_values_esd_accepts():
    """Uncommented, every example passes the same validation as a team's own value."""
    from pydantic import SecretStr

    from esd.config import HttpConfig, load_section
    from esd.connectors import gainsight_config, gong, helpscout, intercom, warehouse, zendesk
    from esd.delivery.slack import _users
    from esd.extractors.claude.cost import prices_for

    full = uncommented(planned(defaults_dir(), warehouse=False)[Path("esd.toml")].decode())
    secret = SecretStr("x")
    load_section(HttpConfig, full["http"])
    load_section(gong.GongConfig, full["gong"], access_key=secret, access_key_secret=secret)
    load_section(gainsight_config.GainsightConfig, full["gainsight"], token=secret)
    load_section(zendesk.ZendeskConfig, full["zendesk"], api_token=secret)
    load_section(intercom.IntercomConfig, full["intercom"], token=secret)
    load_section(helpscout.HelpScoutConfig, full["helpscout"], app_id=secret,
                 app_secret=secret)
    load_section(warehouse.WarehouseConfig, full["warehouse"], url=secret)
    assert _users(full["slack"])
    assert prices_for("claude-sonnet-5-5", full["claude"]["prices"]).input == 3.0


# --- the team's workflows ------------------------------------------------------------------

def _workflow(name: str) -> dict:
    data = yaml.safe_load((SCAFFOLD / ".github" / "workflows" / name).read_text())
    data["on"] = data.pop(True, data.get("on"))
    return data


def test_team_workflows_pass_actionlint(node, tmp_path):  # noqa: F811
    files = [str(SCAFFOLD / ".github" / "workflows" / n) for n in ("weekly.yml", "ci.yml")]
    proc = subprocess.run([node, str(TOOLS / "actionlint.mjs"), *files],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    findings = [f"{Path(path).name}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]"
                for path, found in json.loads(proc.stdout)["results"].items() for f in found]
    assert not findings, "\n".join(findings)


def _steps(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


@pytest.mark.parametrize("name", ["weekly.yml", "ci.yml"])
def test_team_workflows_install_the_pinned_release_and_keep_secrets_in_step_env(name):
    workflow = _workflow(name)
    assert workflow["permissions"] == {"contents": "read"}
    steps = _steps(workflow)
    runs = [s["run"].strip() for s in steps if "run" in s]
    assert "pip install -r requirements.txt" in runs
    assert "esd check" in runs
    for step in steps:
        if "uses" in step:
            action, _, ref = step["uses"].partition("@")
            assert re.fullmatch(r"v\d+", ref) and action in ACTION_INPUTS, step["uses"]
            given = set(step.get("with", {}))
            assert REQUIRED_INPUTS.get(action, set()) <= given <= ACTION_INPUTS[action]
        if step.get("uses", "").startswith("actions/setup-python"):
            assert step["with"]["cache-dependency-path"] == "requirements.txt"
    for path, text in _walk(workflow):
        if path[-1] == "run":
            assert "${{" not in text, path
        if "secrets." in text:
            assert path[0] == "jobs" and path[2] == "steps" and path[4] == "env", path
    pinned = planned(defaults_dir(), warehouse=False)[Path("requirements.txt")].decode()
    assert pinned.splitlines()[-1] == f"{DISTRIBUTION}=={esd.__version__}"


def test_team_weekly_runs_monday_then_check_coverage_run_report_and_uploads():
    weekly = _workflow("weekly.yml")
    project = yaml.safe_load((ROOT / ".github" / "workflows" / "weekly.yml").read_text())
    project_on = project.pop(True, project.get("on"))
    assert weekly["on"]["schedule"] == project_on["schedule"]
    assert {"dry_run", "as_of"} <= set(weekly["on"]["workflow_dispatch"]["inputs"])
    steps = weekly["jobs"]["digests"]["steps"]
    runs = [s.get("run", "").strip().split("\n")[0] for s in steps]
    order = [next(i for i, r in enumerate(runs) if r.startswith(c)) for c in (
        "pip install -r requirements.txt", "esd check", "esd coverage", "esd run",
        "esd report")]
    assert order == sorted(order)
    uploads = {s["with"]["path"] for s in steps if "upload-artifact" in s.get("uses", "")}
    assert {"report/", "digests/", "undelivered/"} <= uploads
    # The team's weekly plans its window exactly as the project's, whose script
    # tests/test_workflows.py runs in every case.
    plan = next(s for s in steps if s.get("id") == "plan")["run"]
    assert plan == next(s for s in project["jobs"]["digests"]["steps"]
                        if s.get("id") == "plan")["run"], \
        "copy the plan step of .github/workflows/weekly.yml into the scaffold's weekly.yml"


def test_team_readme_lists_every_variable_the_weekly_workflow_reads():
    text = (SCAFFOLD / ".github" / "workflows" / "weekly.yml").read_text()
    read = set(re.findall(r"\b(?:vars|secrets)\.(\w+)", text))
    readme = (SCAFFOLD / "README.md").read_text()
    table = {name for line in readme.splitlines() if line.startswith("| `")
             for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])}
    assert read <= table, sorted(read - table)
