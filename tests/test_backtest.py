"""esd backtest (contract §13) end to end: the current references over five past weeks of
one folder (or of one folder per week), checked against separate dry runs of each week."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from builders import account, call, departure, event, write_portfolio
from conftest import TEST_REFS, fake_fixture
from fakes import slack as slack_fake
from typer.testing import CliRunner

from esd.cli import app

ANA, BEN = "ana.ruiz@lumen.example.com", "ben.okafor@lumen.example.com"
WEEKS = ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
AS_OF = WEEKS[-1]
SSO = "Do you support SSO with Okta?"
SEATS = "We need 20 more seats for the new office."
API = "We keep hitting the API rate limit every afternoon."
WARNING = "_Strong-signal threshold may be too loose — last 3 runs averaged 4.3 per week."
# Per week: account -> what its customer says and which usage event corroborates it.
# Week 1 has one call among eight accounts (12.5% coverage: the run aborts); Ana is over
# the cap of 3 in weeks 2-4 (4, 5, 4 strong), so week 4 carries the flooding warning;
# Ben's b2 lost its champion on 2026-10-20, inside weeks 2-4's look-back only.
PLAN: dict[str, dict[str, tuple[str | None, str | None]]] = {
    "2026-10-26": {"a1": (SSO, "sso"), "a2": (None, "sso"), "b1": (None, "sso")},
    "2026-11-02": {"a1": (SSO, "sso"), "a2": (SSO, "sso"), "a3": (SSO, "sso"),
                   "a4": (SSO, "sso"), "b1": (SEATS, "seats"), "b2": (API, None)},
    "2026-11-09": {**{a: (SSO, "sso") for a in ("a1", "a2", "a3", "a4", "a5")},
                   "b1": (SSO, None), "b3": (None, "api")},
    "2026-11-16": {"a1": (SSO, "sso"), "a2": (SSO, "sso"), "a3": (SSO, "sso"),
                   "a4": (SEATS, "seats"), "b2": (SSO, "sso")},
    "2026-11-23": {"a1": (SSO, "sso"), "a2": (SSO, "sso"), "b1": (SSO, "sso"),
                   "b2": (SSO, "sso"), "b3": (SSO, "sso")},
}
EVENTS = {"sso": ("tier_gated_feature_attempt", "tier_gated_feature_attempts", 100.0, "sso"),
          "seats": ("seat_count_spike", "seat_count", 25.0, None),
          "api": ("api_call_spike", "api_calls", 60.0, None)}


def moment(week_end: str, days_before: int = 3) -> str:
    end = datetime.fromisoformat(week_end + "T00:00:00+00:00")
    return (end - timedelta(days=days_before, hours=9)).strftime("%Y-%m-%dT%H:%M:%SZ")


def records() -> dict[str, list]:
    accounts = [account(f"a{i}", name=f"Ana {i}", arr=600_000.0 - 100_000 * i)
                for i in range(1, 6)]
    accounts += [account(f"b{i}", name=f"Ben {i}", arr=90_000.0 - 10_000 * i,
                         owner_email=BEN) for i in range(1, 4)]
    calls, usage = [], []
    for week, says in PLAN.items():
        for aid, (text, kind) in says.items():
            if text:
                calls.append(call(aid, f"{aid}-{week}", [("Dana Lee", text)],
                                  occurred_at=moment(week)))
            if kind:
                event_type, metric, delta, feature = EVENTS[kind]
                usage.append(event(aid, event_type, metric, delta, feature=feature,
                                   occurred_at=moment(week, 2)))
    return {"accounts": accounts, "calls": calls, "usage": usage, "tickets": [],
            "stakeholders": [departure("b2", "2026-10-20T10:00:00Z")]}


@pytest.fixture
def weeks_dir(tmp_path) -> Path:
    """All five weeks in one folder."""
    return write_portfolio(tmp_path / "five-weeks", **records())


def snapshot_folders(root: Path) -> Path:
    """The same data as one `esd pull` folder per week: every account, the week's calls
    and usage events, the stakeholder changes of its 30-day look-back."""
    data = records()
    for week in WEEKS:
        end = datetime.fromisoformat(week + "T00:00:00+00:00")

        def inside(r: dict, days: int, end: datetime = end) -> bool:
            at = datetime.fromisoformat(r["occurred_at"].replace("Z", "+00:00"))
            return end - timedelta(days=days) <= at < end
        write_portfolio(root / week, data["accounts"],
                        calls=[c for c in data["calls"] if inside(c, 7)],
                        usage=[u for u in data["usage"] if inside(u, 7)],
                        stakeholders=[s for s in data["stakeholders"] if inside(s, 30)])
    return root


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def backtest(*args: str, out: Path, env: dict | None = None):
    return invoke("backtest", "--references", str(TEST_REFS), "--out", str(out), *args,
                  env=env)


def load(out: Path) -> dict:
    return json.loads((out / "backtest.json").read_text())


def test_each_week_equals_a_separate_dry_run_of_that_week(weeks_dir, tmp_path):
    out = tmp_path / "bt"
    result = backtest("--input-dir", str(weeks_dir), "--weeks", "5", "--as-of", AS_OF,
                      out=out)
    assert result.exit_code == 0, result.output
    data = load(out)
    assert [w["as_of"][:10] for w in data["weeks"]] == WEEKS  # date order
    for week, got in zip(WEEKS, data["weeks"], strict=True):
        digests = tmp_path / f"dry-{week}"
        dry = invoke("dry-run", "--input-dir", str(weeks_dir), "--references",
                     str(TEST_REFS), "--as-of", week, "--out", str(digests))
        if dry.exit_code == 3:  # coverage abort: the backtest reports the week aborted
            assert (got["status"], got["csms"]) == ("aborted", []), week
            assert "coverage error" in got["aborted"]
            continue
        assert dry.exit_code == 0, dry.output
        run = json.loads((digests / "run.json").read_text())
        assert got["status"] == "ok" and got["coverage_pct"] == run["coverage_pct"]
        assert [(c["owner_email"], c["strong"], c["overflow"], c["weak"])
                for c in got["csms"]] == [
            (d["owner_email"], len(d["strong"]), d["overflow"], len(d["weak"]))
            for d in run["digests"]]
    statuses = [w["status"] for w in data["weeks"]]
    assert statuses == ["aborted", "ok", "ok", "ok", "ok"]  # four weeks compared above
    ana = [[c for c in w["csms"] if c["owner_email"] == ANA] for w in data["weeks"][1:]]
    assert [(c["strong"], c["overflow"]) for [c] in ana] == [(3, 1), (3, 2), (3, 1), (2, 0)]


def test_by_sku_and_by_trigger_count_every_signal_capped_or_not(weeks_dir, tmp_path):
    out = tmp_path / "bt"
    assert backtest("--input-dir", str(weeks_dir), "--weeks", "5", "--as-of", AS_OF,
                    out=out).exit_code == 0
    data = load(out)
    # SSO strong: 4 + 5 + 3 + 5 (b2 is champion-suppressed in week 4, weak); b1's SSO call
    # in week 3 has no usage (weak); both seat spikes are also usage-only enterprise-tier
    # evidence (weak). Seats: b1 in week 2 and a4 in week 4, capped out. Premium: b2's
    # API call (week 2), b3's usage spike (week 3), both weak.
    assert data["by_sku"] == {"additional-team-seats": {"strong": 2, "weak": 0},
                              "enterprise-tier": {"strong": 17, "weak": 4},
                              "premium-feature-pack": {"strong": 0, "weak": 2}}
    assert data["by_trigger"] == {"do you support SSO": {"strong": 17, "weak": 2},
                                  "need {N} more seats": {"strong": 2, "weak": 0},
                                  "hitting the API rate limit": {"strong": 0, "weak": 1}}
    totals = data["totals"]
    assert (totals["weeks"], totals["weeks_aborted"]) == (5, 1)
    assert (totals["strong"], totals["overflow"], totals["strong_total"]) == (15, 4, 19)
    assert data["taxonomy_hash"] == json.loads(_dry(weeks_dir, tmp_path))["diagnostics"][
        "taxonomy_hash"]


def _dry(portfolio: Path, tmp_path: Path) -> str:
    invoke("dry-run", "--input-dir", str(portfolio), "--references", str(TEST_REFS),
           "--as-of", AS_OF, "--out", str(tmp_path / "dry"))
    return (tmp_path / "dry" / "run.json").read_text()


def test_flooding_warning_in_the_third_consecutive_over_cap_week(weeks_dir, tmp_path):
    out = tmp_path / "bt"
    assert backtest("--input-dir", str(weeks_dir), "--weeks", "5", "--as-of", AS_OF,
                    out=out).exit_code == 0
    weeks = load(out)["weeks"]
    flags = [[c["owner_email"] for c in w["csms"] if c["flooding_warning"]] for w in weeks]
    assert flags == [[], [], [], [ANA], []]
    [ana] = [c for c in weeks[3]["csms"] if c["owner_email"] == ANA]
    assert ana["flooding_text"].startswith(WARNING)
    assert "tightening the strong-vs-weak cutoff" in ana["flooding_text"]
    # Only the last three weeks would have been recorded: with week 2 out of the window
    # there are two over-cap weeks before week 4 and no warning.
    short = tmp_path / "short"
    assert backtest("--input-dir", str(weeks_dir), "--weeks", "2", "--as-of", WEEKS[3],
                    out=short).exit_code == 0
    assert not any(c["flooding_warning"] for w in load(short)["weeks"] for c in w["csms"])
    md = (out / "backtest.md").read_text()
    assert f"| {ANA} | aborted | 3 +1 | 3 +2 | 3 +1 ⚑ | 2 |" in md


def test_snapshots_give_the_same_weeks_as_one_folder(weeks_dir, tmp_path):
    one, many = tmp_path / "one", tmp_path / "many"
    assert backtest("--input-dir", str(weeks_dir), "--weeks", "5", "--as-of", AS_OF,
                    out=one).exit_code == 0
    snapshots = snapshot_folders(tmp_path / "weekly")
    result = backtest("--snapshots", str(snapshots), "--as-of", AS_OF, out=many)
    assert result.exit_code == 0, result.output
    a, b = load(one), load(many)
    for key in ("weeks", "by_sku", "by_trigger", "totals", "taxonomy_hash"):
        assert a[key] == b[key], key
    assert b["source"]["kind"] == "snapshots" and b["notes"] == []
    # One folder: its stakeholder changes (from 2026-10-20) may not reach back to the
    # first week's look-back (from 2026-09-26), as after one long `esd pull`.
    [note] = a["notes"]
    assert "start on 2026-10-20" in note and "starts on 2026-09-26" in note
    last_week = tmp_path / "last-week"  # its look-back starts 2026-10-24: covered
    assert backtest("--input-dir", str(weeks_dir), "--weeks", "1", "--as-of", AS_OF,
                    out=last_week).exit_code == 0
    assert load(last_week)["notes"] == []
    # --weeks keeps the latest N folders up to --as-of.
    last = tmp_path / "last"
    assert backtest("--snapshots", str(snapshots), "--weeks", "2", "--as-of", WEEKS[3],
                    out=last).exit_code == 0
    got, full = load(last)["weeks"], a["weeks"][2:4]
    assert [w["as_of"] for w in got] == [w["as_of"] for w in full]
    assert [[(c["owner_email"], c["strong"], c["overflow"]) for c in w["csms"]]
            for w in got] == [[(c["owner_email"], c["strong"], c["overflow"])
                               for c in w["csms"]] for w in full]
    # Two weeks are too short a memory for the flooding warning of week 4.
    assert [c["flooding_warning"] for w in got for c in w["csms"]] == [False] * 4


slack = fake_fixture(lambda: slack_fake.FakeSlack([ANA, BEN]))


def test_nothing_is_posted_or_recorded_and_no_state_file_is_created(weeks_dir, tmp_path,
                                                                     slack):
    env = {"SLACK_BOT_TOKEN": slack_fake.TOKEN, "SLACK_API_URL": slack.url + "/api/"}
    state = tmp_path / "esd-state.db"  # conftest points ESD_STATE here
    result = backtest("--input-dir", str(weeks_dir), "--weeks", "5", "--as-of", AS_OF,
                      "--no-quiet", out=tmp_path / "bt", env=env)
    assert result.exit_code == 0, result.output
    assert slack.log == []
    assert not state.exists() and not list(tmp_path.glob("*.db*"))
    assert sorted(p.name for p in (tmp_path / "bt").iterdir()) == [
        ".esd-output.json", "backtest.html", "backtest.json", "backtest.md"]
    assert load(tmp_path / "bt")["outcomes"] is None
    assert "No state store found" in result.output
    assert "Data read 1 time" in result.output  # one folder, read once for five weeks


@pytest.mark.parametrize(("args", "named"), [
    (["--weeks", "0"], "--weeks"),
    (["--weeks", "many"], "--weeks"),
    ([], "--weeks"),
    (["--snapshots", "{tmp}/nowhere"], "nowhere"),
    (["--snapshots", "{tmp}/weekly", "--input-dir", "{tmp}/five-weeks"], "--snapshots"),
    (["--snapshots", "{tmp}/odd"], "notes"),
    (["--snapshots", "{tmp}/weekly", "--weeks", "6"], "--weeks 6"),
    (["--snapshots", "{tmp}/broken"], "accounts.json"),
])
def test_bad_weeks_or_snapshots_exit_2_naming_it(args, named, weeks_dir, tmp_path):
    snapshot_folders(tmp_path / "weekly")
    (tmp_path / "odd" / "2026-11-23").mkdir(parents=True)
    (tmp_path / "odd" / "notes").mkdir()
    (tmp_path / "broken" / "2026-11-23").mkdir(parents=True)
    if "--snapshots" not in args:
        args = ["--input-dir", str(weeks_dir), *args]
    args = [*args, "--as-of", AS_OF]
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = backtest(*args, out=tmp_path / "bt")
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert not (tmp_path / "bt").exists()


def test_every_week_aborted_exits_3_naming_the_data_span(weeks_dir, tmp_path):
    result = backtest("--input-dir", str(weeks_dir), "--weeks", "2", "--as-of", "2027-03-01",
                      out=tmp_path / "bt")
    assert result.exit_code == 3
    assert "is --as-of right" in result.output
    assert "calls run from 2026-10-22 to 2026-11-19" in result.output
    weeks = load(tmp_path / "bt")["weeks"]
    assert [(w["status"], w["coverage_pct"]) for w in weeks] == [("aborted", 0.0)] * 2
