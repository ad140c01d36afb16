"""`esd report` end to end (contract §12): a state store filled through the State API as
esd run and esd outcome fill it, on SQLite and on a real PostgreSQL server; the folder
written at once; a missing or unreachable store writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esd.cli import app
from esd.delivery.folder import MARKER
from esd.models import Diagnostics, Digest, Mention, RunResult, Signal, signal_id
from esd.state import OutcomeRecord, State

AS_OF = datetime(2026, 11, 23, tzinfo=UTC)
ANA, BEN = "ana@x.example", "ben@x.example"


def report(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, ["report", *args], env=env)


def strong(as_of: datetime, owner: str, account: str, sku: str, triggers: list[str],
           row: str | None) -> Signal:
    evidence = [Mention(account_id=account, sku=sku, source="call", source_id=f"c-{account}",
                        quote="we need SSO", trigger=t, occurred_at=as_of) for t in triggers]
    return Signal(account_id=account, sku=sku, strength="strong", call_evidence=evidence,
                  action_row=row, signal_id=signal_id(as_of, owner, account, sku))


def week(state: State, as_of: datetime, signals: dict[str, list[Signal]],
         unsent: set[str] = frozenset()) -> list[str]:
    """Record a run listing `signals` per CSM and each one's DM message as sent (those
    in `unsent` left `posting`, as a crash would); the ids, in order."""
    digests = [Digest(owner_email=owner, csm_name=owner, strong=listed, weak=[], overflow=0,
                      accounts_owned=5) for owner, listed in signals.items()]
    state.record_run(RunResult(
        as_of=as_of, window_days=7, coverage_pct=80.0, diagnostics=Diagnostics(
            accounts_in_scope=5, accounts_silent=0, negative_matches=0,
            champion_suppressions=0, taxonomy_hash="abc1234"),
        digests=digests, not_signal=[], accounts={}), {})
    ids = []
    for digest in digests:
        for part, signal in enumerate(digest.strong, start=2):
            sent = signal.signal_id not in unsent
            state.record_part(as_of, digest.owner_email, part, len(digest.strong) + 1,
                              "sent" if sent else "posting", f"{part}.0" if sent else None,
                              signal.signal_id)
            ids.append(signal.signal_id)
    return ids


def fill(target: str) -> dict[str, list[str]]:
    """October: 10 signals, 1 converted (below 20 %); September: 10, 1 converted; this
    week: Ana's SSO signal confirmed, Ben's open, one never sent. Returns ids by week."""
    state = State.open(target)
    ids: dict[str, list[str]] = {}
    try:
        for as_of in (datetime(2026, 9, 14, tzinfo=UTC), datetime(2026, 10, 12, tzinfo=UTC)):
            ids[as_of.date().isoformat()] = week(state, as_of, {
                ANA: [strong(as_of, ANA, f"a{i}", "enterprise-tier", ["SSO"], "SSO row")
                      for i in range(5)],
                BEN: [strong(as_of, BEN, f"b{i}", "seats", ["new team"], None)
                      for i in range(5)]})
        ids["2026-11-23"] = week(state, AS_OF, {
            ANA: [strong(AS_OF, ANA, "a1", "enterprise-tier", ["SSO", "SAML"], "SSO row")],
            BEN: [strong(AS_OF, BEN, "b1", "seats", ["new team"], None),
                  strong(AS_OF, BEN, "b2", "seats", ["new team"], None)]},
            unsent={signal_id(AS_OF, BEN, "b2", "seats")})
        sep, oct_, now = ids["2026-09-14"], ids["2026-10-12"], ids["2026-11-23"]
        day = date(2026, 9, 14)
        state.record_outcomes([
            OutcomeRecord(sep[0], "converted", day + timedelta(days=14), "reaction"),
            OutcomeRecord(sep[1], "converted", day + timedelta(days=21), "manual"),  # late
            OutcomeRecord(sep[5], "noise", day + timedelta(days=7), "reaction"),
            # The latest record wins, whichever way it goes.
            OutcomeRecord(oct_[0], "noise", date(2026, 10, 19), "reaction"),
            OutcomeRecord(oct_[0], "converted", date(2026, 10, 20), "import"),
            OutcomeRecord(oct_[1], "converted", date(2026, 10, 19), "reaction"),
            OutcomeRecord(oct_[1], "no-conversation", date(2026, 10, 26), "manual"),
            OutcomeRecord(now[0], "converted", date(2026, 11, 23), "manual"),
        ])
    finally:
        state.close()
    return ids


def test_the_report_end_to_end(state_target, tmp_path):
    fill(state_target)
    out = tmp_path / "report"
    result = report("--out", str(out), "--as-of", "2026-11-23", "--state", state_target)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # quiet when stdout is not a terminal
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "report.html", "report.json",
                                                     "report.md"]
    assert json.loads((out / MARKER).read_text())["files"] == ["report.html", "report.json",
                                                               "report.md"]
    data = json.loads((out / "report.json").read_text())
    assert data["as_of"] == "2026-11-23T00:00:00Z"
    # This week: 2 delivered (Ben's second message never went out), 1 confirmed.
    trailing = data["trailing_30d"]
    assert (trailing["delivered"], trailing["converted"], trailing["unknown"]) == (2, 1, 1)
    assert trailing["conversion_rate"] == pytest.approx(0.5)
    assert trailing["band"] == "too-few"
    assert set(data["by_trigger"]) == {"SSO", "SAML", "new team"}
    assert data["by_action"]["needs human review"]["delivered"] == 1
    assert {k: v["converted"] for k, v in data["by_csm"].items()} == {ANA: 1, BEN: 0}
    months = {m["month"]: m for m in data["months"]}
    assert list(months) == ["2026-09", "2026-10", "2026-11"]
    sep, oct_ = months["2026-09"], months["2026-10"]
    # September: day 14 counts, day 21 does not; October: the latest record won.
    assert (sep["converted"], sep["noise"], sep["no_conversation"],
            sep["converted_outside_14d"]) == (1, 1, 8, 1)
    assert (oct_["converted"], oct_["noise"], oct_["no_conversation"]) == (1, 0, 9)
    assert [m["complete"] for m in data["months"]] == [True, True, False]
    (warning,) = data["warnings"]
    assert "2026-09 (10 %, 1 of 10)" in warning and "2026-10 (10 %, 1 of 10)" in warning
    page = (out / "report.html").read_text()
    assert "<script" not in page and '<svg id="trend"' in page
    assert "| 2026-10 | yes | 10 | 1 | 0 | 9 | 0 | 10 % | below 20 % |" in (
        out / "report.md").read_text()


def test_as_of_moves_the_window_and_the_warning(tmp_path):
    target = str(tmp_path / "state.db")
    fill(target)
    out = tmp_path / "early"
    assert report("--out", str(out), "--as-of", "2026-10-20", "--state", target,
                  "--json").exit_code == 0
    data = json.loads((out / "report.json").read_text())
    assert [m["month"] for m in data["months"]] == ["2026-09", "2026-10"]
    assert data["warnings"] == []  # October is not complete before 2026-11-14
    assert data["trailing_30d"]["delivered"] == 10 and data["trailing_30d"]["unknown"] == 8


def test_json_on_stdout_and_a_summary_on_request(tmp_path):
    target = str(tmp_path / "state.db")
    fill(target)
    out = tmp_path / "r"
    as_json = report("--out", str(out), "--as-of", "2026-11-23", "--state", target, "--json")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout) == json.loads((out / "report.json").read_text())
    loud = report("--out", str(out), "--as-of", "2026-11-23", "--state", target,
                  "--no-quiet")
    assert loud.exit_code == 0, loud.output
    assert "Trailing 30 days to 2026-11-23: 1 of 2 converted (50 %)" in loud.stdout
    assert "too few to judge" in loud.stdout
    assert "Latest complete month 2026-10: 1 of 10 converted (10 %)" in loud.stdout
    assert "warning: Conversion below 20 % for 2 consecutive" in loud.stdout
    assert f"to {out}/" in loud.stdout


def test_the_state_comes_from_esd_state_and_the_date_from_esd_as_of(tmp_path):
    target = tmp_path / "esd-state.db"  # conftest points ESD_STATE here
    fill(str(target))
    result = report("--out", "r", env={"ESD_AS_OF": "2026-10-20"})
    assert result.exit_code == 0, result.output
    assert json.loads(Path("r", "report.json").read_text())["as_of"] == "2026-10-20T00:00:00Z"


def test_a_missing_state_file_is_exit_2_and_nothing_is_written(tmp_path):
    missing = tmp_path / "nowhere.db"
    out = tmp_path / "report"
    result = report("--out", str(out), "--state", str(missing))
    assert result.exit_code == 2
    assert "no such file yet" in result.output and str(missing) in result.output
    assert not missing.exists() and not out.exists()


def test_an_unreachable_store_is_exit_4_and_the_old_report_stays(tmp_path):
    target = str(tmp_path / "state.db")
    fill(target)
    out = tmp_path / "report"
    assert report("--out", str(out), "--as-of", "2026-11-23", "--state", target).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    Path(target).write_bytes(b"this is not a database" * 100)
    result = report("--out", str(out), "--as-of", "2026-11-30", "--state", target)
    assert result.exit_code == 4, result.output
    assert "unreadable or unreachable" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_folder_esd_did_not_write_is_refused(tmp_path):
    target = str(tmp_path / "state.db")
    fill(target)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = report("--out", str(out), "--state", target)
    assert result.exit_code == 2 and "notes.txt" in result.output
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_bad_as_of_is_exit_2(tmp_path):
    target = str(tmp_path / "state.db")
    fill(target)
    result = report("--out", str(tmp_path / "r"), "--state", target, "--as-of", "soon")
    assert result.exit_code == 2 and "--as-of" in result.output
    assert not (tmp_path / "r").exists()


def test_an_empty_store_reports_nothing_delivered(tmp_path):
    target = str(tmp_path / "state.db")
    State.open(target).close()
    out = tmp_path / "r"
    assert report("--out", str(out), "--state", target).exit_code == 0
    data = json.loads((out / "report.json").read_text())
    assert data["trailing_30d"]["delivered"] == 0
    assert data["trailing_30d"]["conversion_rate"] is None and data["months"] == []
