"""esd against all its live sources at once: fakes of Gong, Gainsight and the three
ticket systems on 127.0.0.1, serving the demo portfolio in each vendor's wire format."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT
from fakes import gainsight as gs_fake
from fakes import gong as gong_fake
from fakes import helpscout as hs_fake
from fakes import intercom as ic_fake
from fakes import zendesk as zd_fake
from fakes.server import serving
from typer.testing import CliRunner

from esd.cli import app
from esd.connectors.files import load_portfolio
from esd.extractors.transcript import customer_turns

DEMO = ROOT / "examples" / "portfolio"
REFS = str(DEMO / "references")
AS_OF = "2026-11-23"
FAST_TOML = """
[gong]
requests_per_second = 100000.0
[gainsight]
requests_per_minute = 6000000
[zendesk]
requests_per_minute = 6000000
[helpscout]
requests_per_minute = 6000000
"""
NO_WAIT = {"Retry-After": "0"}  # the retry path without the real backoff
SECRETS = [gong_fake.ACCESS_KEY, gong_fake.ACCESS_KEY_SECRET, gs_fake.TOKEN,
           zd_fake.API_TOKEN, ic_fake.TOKEN, hs_fake.APP_SECRET]


@pytest.fixture(scope="module")
def fakes():
    apis = {
        "gong": gong_fake.GongFake.portfolio(),
        "gainsight": gs_fake.FakeGainsight(),
        "zendesk": zd_fake.FakeZendesk(zd_fake.demo_data()),
        "intercom": ic_fake.FakeIntercom(ic_fake.demo_data()),
        "helpscout": hs_fake.FakeHelpScout(hs_fake.demo_data()),
    }
    with serving(*apis.values()):
        yield apis


@pytest.fixture(autouse=True)
def _fast(tmp_path):
    (tmp_path / "esd.toml").write_text(FAST_TOML)


def env(fakes, tickets: str = "zendesk") -> dict[str, str]:
    base = {
        "GONG_BASE_URL": fakes["gong"].url, "GONG_ACCESS_KEY": gong_fake.ACCESS_KEY,
        "GONG_ACCESS_KEY_SECRET": gong_fake.ACCESS_KEY_SECRET,
        "GAINSIGHT_URL": fakes["gainsight"].url, "GAINSIGHT_TOKEN": gs_fake.TOKEN,
    }
    ticket_env = {
        "zendesk": {"ZENDESK_URL": fakes["zendesk"].url, "ZENDESK_EMAIL": zd_fake.EMAIL,
                    "ZENDESK_API_TOKEN": zd_fake.API_TOKEN},
        "intercom": {"INTERCOM_URL": fakes["intercom"].url,
                     "INTERCOM_ACCESS_TOKEN": ic_fake.TOKEN},
        "helpscout": {"HELPSCOUT_URL": fakes["helpscout"].url, "HELPSCOUT_APP_ID": hs_fake.APP_ID,
                      "HELPSCOUT_APP_SECRET": hs_fake.APP_SECRET},
        "none": {"ESD_TICKET_SOURCE": "none"},
    }[tickets]
    return base | ticket_env


def invoke(args: list[str], environment: dict[str, str]):
    return CliRunner().invoke(app, args, env=environment)


def health_on(tmp_path: Path) -> list[str]:
    """--config for an esd.toml that also reads Gainsight's health object (off by default)."""
    path = tmp_path / "health.toml"
    path.write_text(FAST_TOML.replace(
        "[gainsight]\n", f'[gainsight]\nhealth_object = "{gs_fake.HEALTH_OBJECT}"\n'))
    return ["--config", str(path)]


def _calls(portfolio):
    """Calls as comparable facts: transcripts reduced to customer turns, whitespace folded."""
    return sorted(
        (c.call_id, c.account_id, c.occurred_at, c.transcript_url,
         tuple((a.name, a.is_customer, a.title) for a in c.attendees),
         tuple((t.speaker.name, " ".join(t.text.split())) for t in customer_turns(c)))
        for c in portfolio.calls)


def test_pull_reproduces_the_demo_portfolio(fakes, tmp_path):
    result = invoke([*health_on(tmp_path), "pull", "--as-of", AS_OF,
                     "--out", str(tmp_path / "pulled"), "--no-quiet"], env(fakes))
    assert result.exit_code == 0, result.output
    pulled = load_portfolio(tmp_path / "pulled")
    demo = load_portfolio(DEMO)
    start, end = "2026-11-16T00:00:00+00:00", "2026-11-23T00:00:00+00:00"

    def inside(moment, lo=start):
        return lo <= moment.isoformat() < end

    assert pulled.accounts == demo.accounts
    assert pulled.usage_events == [u for u in demo.usage_events if inside(u.occurred_at)]
    assert sorted(pulled.tickets, key=lambda t: t.ticket_id) == sorted(
        [t for t in demo.tickets if inside(t.opened_at)], key=lambda t: t.ticket_id)
    assert sorted(pulled.stakeholder_changes, key=repr) == sorted(
        [c for c in demo.stakeholder_changes
         if inside(c.occurred_at, "2026-10-24T00:00:00+00:00")], key=repr)
    in_window = demo.model_copy(update={"calls": [c for c in demo.calls
                                                  if inside(c.occurred_at)]})
    assert _calls(pulled) == _calls(in_window)
    assert (tmp_path / "pulled" / "health.json").is_file() and pulled.health == demo.health
    assert "Gong calls: 182 records" in result.output
    assert f"Gainsight health: {len(demo.health)} records" in result.output


@pytest.mark.parametrize("tickets", ["zendesk", "intercom", "helpscout"])
def test_live_dry_run_equals_the_dry_run_from_files(fakes, tmp_path, tickets):
    # Health from Gainsight's health object, as the files run has it from health.json.
    live = invoke([*health_on(tmp_path), "dry-run", "--references", REFS, "--as-of", AS_OF,
                   "--out", str(tmp_path / "live")], env(fakes, tickets))
    assert live.exit_code == 0, live.output
    files = invoke(["dry-run", "--input-dir", str(DEMO), "--references", REFS,
                    "--as-of", AS_OF, "--out", str(tmp_path / "files")], {})
    assert files.exit_code == 0, files.output
    got = json.loads((tmp_path / "live" / "run.json").read_text())
    want = json.loads((tmp_path / "files" / "run.json").read_text())
    # Only what says where the data came from may differ.
    assert got["diagnostics"].pop("ticket_source") == tickets
    assert want["diagnostics"].pop("ticket_source") is None
    dropped = got["diagnostics"].pop("unmapped_records")
    assert want["diagnostics"].pop("unmapped_records") == {}
    assert got == want
    unmapped = re.compile(r" · records mapped to no known account \(dropped\): [^·]+(?= ·)")
    for digest in want["digests"]:
        live_text = (tmp_path / "live" / digest["file"]).read_text()
        files_text = (tmp_path / "files" / digest["file"]).read_text()
        # The fakes also serve tickets of organisations no account matches: counted.
        assert unmapped.sub("", live_text) == files_text
        if dropped:
            assert unmapped.search(live_text)


def test_only_reads_reach_any_source(fakes, tmp_path):
    for tickets in ("zendesk", "intercom", "helpscout"):
        result = invoke(["pull", "--as-of", AS_OF, "--out", str(tmp_path / tickets)],
                        env(fakes, tickets))
        assert result.exit_code == 0, result.output
    allowed_posts = {"/v2/calls/extensive", "/v2/calls/transcript", "/conversations/search",
                     "/v2/oauth2/token"}
    sent = [(r.method, r.path) for api in fakes.values() for r in api.log]
    assert len(sent) > 10
    for method, path in sent:
        assert method == "GET" or (method == "POST" and (
            path in allowed_posts or path.startswith("/v1/data/objects/query/"))), (method, path)


def test_a_failing_source_exits_4_and_writes_nothing(fakes, tmp_path):
    fakes["gong"].fail_next("/v2/calls/extensive", 503, times=10, headers=NO_WAIT)
    out = tmp_path / "digests"
    result = invoke(["dry-run", "--references", REFS, "--as-of", AS_OF, "--out", str(out)],
                    env(fakes))
    assert result.exit_code == 4
    assert "Gong: POST /v2/calls/extensive failed after 5 attempts: status 503" in result.output
    assert not out.exists()


def test_rejected_credentials_exit_4_naming_the_source_without_the_secret(fakes, tmp_path):
    environment = env(fakes) | {"GAINSIGHT_TOKEN": "wrong-token-abcdef"}
    result = invoke(["pull", "--as-of", AS_OF, "--out", str(tmp_path / "p")], environment)
    assert result.exit_code == 4
    assert "Gainsight" in result.output and "rejected the credentials" in result.output
    assert "wrong-token-abcdef" not in result.output
    assert not (tmp_path / "p").exists()


def test_verbose_logs_requests_but_never_a_secret(fakes, tmp_path):
    result = invoke(["-v", "pull", "--as-of", AS_OF, "--out", str(tmp_path / "p")], env(fakes))
    assert result.exit_code == 0, result.output
    assert re.search(r"Gong POST /v2/calls/extensive -> 200", result.output)
    assert "Zendesk GET /api/v2/incremental/tickets/cursor.json -> 200" in result.output
    for secret in SECRETS:
        assert secret not in result.output


def test_missing_credential_is_named_before_any_request(fakes, tmp_path):
    environment = env(fakes)
    del environment["GONG_ACCESS_KEY_SECRET"]
    result = invoke(["pull", "--as-of", AS_OF, "--out", str(tmp_path / "p")], environment)
    assert result.exit_code == 2 and "GONG_ACCESS_KEY_SECRET" in result.output
    assert all(not api.log for api in fakes.values())


def test_coverage_reports_source_health(fakes):
    ok = invoke(["coverage", "--references", REFS, "--as-of", AS_OF, "--json"],
                env(fakes, "none"))
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.output)
    assert report["coverage_pct"] == 75.2
    assert [h["source"] for h in report["live"]] == [
        "Gainsight accounts", "Gong calls", "Gainsight usage anomalies",
        "Gainsight stakeholder changes"]
    assert all(h["ok"] for h in report["live"])
    assert [h["requests"] for h in report["live"]][2:] == [1, 1]  # per step, not cumulative
    with_health = invoke([*health_on(Path.cwd()), "coverage", "--references", REFS,
                          "--as-of", AS_OF, "--json"], env(fakes, "none"))
    assert with_health.exit_code == 0, with_health.output
    health = json.loads(with_health.output)["live"][-1]
    assert (health["source"], health["ok"], health["records"], health["requests"]) == (
        "Gainsight health", True, len(load_portfolio(DEMO).health), 1)
    fakes["gainsight"].fail_next("/v1/data/objects/query/Usage_Anomaly__gc", 500, times=10,
                                 headers=NO_WAIT)
    bad = invoke(["coverage", "--references", REFS, "--as-of", AS_OF], env(fakes, "none"))
    assert bad.exit_code == 4
    assert "FAILED" in bad.output and "Gainsight: POST /v1/data/objects/query/" in bad.output


def test_ticket_source_none_is_said_in_the_footer(fakes, tmp_path):
    result = invoke(["dry-run", "--references", REFS, "--as-of", AS_OF,
                     "--out", str(tmp_path / "d")], env(fakes, "none"))
    assert result.exit_code == 0, result.output
    digest = next(Path(tmp_path / "d").glob("*.md")).read_text()
    assert " · support tickets: no ticket source (`ESD_TICKET_SOURCE=none`) · " in digest


def test_check_validates_the_gainsight_mapping(fakes, tmp_path, golive_refs):
    refs_dir = str(golive_refs)
    ok = invoke(["check", "--references", refs_dir], env(fakes))
    assert ok.exit_code == 0, ok.output
    (tmp_path / "esd.toml").write_text(FAST_TOML + "[gainsight.usage_fields]\n"
                                       'delta_pct = "Delta_Percent__gc"\n')
    bad = invoke(["check", "--references", refs_dir, "--json"], env(fakes))
    assert bad.exit_code == 2
    [problem] = json.loads(bad.output)["problems"]
    assert problem["file"] == "esd.toml" and "Delta_Percent__gc" in problem["message"]
    assert "[gainsight.usage_fields] delta_pct" in problem["message"]


def test_coverage_tells_unauthorised_from_unreachable(fakes):
    wrong = env(fakes, "none") | {"GONG_ACCESS_KEY_SECRET": "not-the-secret"}
    result = invoke(["coverage", "--references", REFS, "--as-of", AS_OF, "--json"], wrong)
    assert result.exit_code == 4
    gong = {h["source"]: h for h in json.loads(result.stdout)["live"]}["Gong calls"]
    assert (gong["reachable"], gong["authorised"], gong["ok"]) == (True, False, False)
    gone = env(fakes, "none") | {"GONG_BASE_URL": "http://127.0.0.1:9"}  # nothing listens
    (Path.cwd() / "esd.toml").write_text(FAST_TOML + "[http]\nbackoff_seconds = 0.001\n")
    result = invoke(["coverage", "--references", REFS, "--as-of", AS_OF, "--json"], gone)
    gong = {h["source"]: h for h in json.loads(result.stdout)["live"]}["Gong calls"]
    assert (gong["reachable"], gong["authorised"]) == (False, False)
    assert "failed after 5 attempts: connection failed" in gong["error"]
    (Path.cwd() / "esd.toml").write_text(FAST_TOML + "[http]\nmax_attempts = 0\n")
    bad = invoke(["coverage", "--references", REFS, "--as-of", AS_OF], gone)
    assert bad.exit_code == 2 and "esd.toml [http]: max_attempts: Input should be greater " \
        "than 0" in bad.output


@pytest.mark.parametrize("days, lookback_days", [(7, 30), (3, 30), (56, 79)])
def test_a_pull_of_several_weeks_keeps_each_weeks_champion_lookback(fakes, tmp_path, days,
                                                                    lookback_days):
    """`esd pull --window-days 7N` feeds `esd backtest`: its stakeholder changes start
    at the look-back of the earliest week (its as-of, 30 days before), not only of the
    last; a one-week pull keeps exactly the contract's 30 days (§3)."""
    fakes["gainsight"].log.clear()
    result = invoke(["pull", "--as-of", AS_OF, "--window-days", str(days),
                     "--out", str(tmp_path / "pulled")], env(fakes))
    assert result.exit_code == 0, result.output
    (query,) = [r.body for r in fakes["gainsight"].log
                if r.path.endswith("/Stakeholder_Change__gc")]
    bounds = {c["operator"]: c["value"] for c in query["where"]["conditions"]}
    end = datetime(2026, 11, 23, tzinfo=UTC)
    start = end - timedelta(days=lookback_days)
    # The server filter is a day wider on each side; the exact window is applied after.
    assert bounds == {"GTE": [f"{start - timedelta(days=1):%Y-%m-%d} 00:00:00"],
                      "LT": [f"{end + timedelta(days=1):%Y-%m-%d} 00:00:00"]}
