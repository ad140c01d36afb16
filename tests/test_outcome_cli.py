"""esd outcome and esd history through the CLI, on SQLite and on a real PostgreSQL
server: a store filled through the State API, then the commands as a user runs them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from esd.cli import app
from esd.cli.output import out_console
from esd.models import Diagnostics, Digest, ExtractionReport, RunResult, Signal, signal_id
from esd.state import OutcomeRecord, State

AS_OF = datetime(2026, 11, 23, tzinfo=UTC)
EARLIER = AS_OF - timedelta(days=7)
ANA, BEN = "ana@x.example", "ben.okafor@lumen.example.com"
CLEO = "cleo.annabelle.fitzgerald-montgomery@customer-success.lumen.example.com"
SSO = signal_id(AS_OF, ANA, "a1", "sso")  # delivered
API = signal_id(AS_OF, ANA, "a2", "api")  # delivered
SEATS = signal_id(AS_OF, BEN, "b1", "seats")  # listed, never delivered (Slack failed)
OLD = signal_id(EARLIER, ANA, "a9", "api")  # delivered the week before
UNKNOWN = "zzzzzzz"


def digest(owner: str, as_of: datetime, *signals: tuple[str, str]) -> Digest:
    strong = [Signal(account_id=a, sku=s, strength="strong",
                     signal_id=signal_id(as_of, owner, a, s)) for a, s in signals]
    return Digest(owner_email=owner, csm_name=owner.split("@")[0], strong=strong, weak=[],
                  overflow=0, accounts_owned=3)


def run_result(as_of: datetime, digests: list[Digest], cost: float = 0.0) -> RunResult:
    extractor = "claude" if cost else "rules"
    return RunResult(as_of=as_of, window_days=7, coverage_pct=80.0, diagnostics=Diagnostics(
        accounts_in_scope=5, accounts_silent=0, negative_matches=0, champion_suppressions=0,
        taxonomy_hash="abc1234", extractor=extractor,
        extraction=ExtractionReport(extractor=extractor, cost_usd=cost)),
        digests=digests, not_signal=[], accounts={})


def deliver(state: State, as_of: datetime, owner: str, ids: list[str]) -> None:
    state.record_intent(as_of, owner, "D" + owner[:3], "sha", window_days=7)
    for part, sid in enumerate(ids, start=1):
        state.record_part(as_of, owner, part, len(ids), "sent", f"17000.{part}", signal_id=sid)
    state.record_sent(as_of, owner, "D" + owner[:3], "17000.1", "sha")


@pytest.fixture
def store(state_target) -> str:
    """Two weekly runs: the earlier one (Claude, $0.4213) delivered to Ana; this one
    delivered Ana's two signals, and missed Ben (his signal listed, never sent) and Cleo."""
    state = State.open(state_target)
    state.record_run(run_result(EARLIER, [digest(ANA, EARLIER, ("a9", "api"))], 0.4213),
                     {ANA: 1})
    deliver(state, EARLIER, ANA, [OLD])
    state.record_run(run_result(AS_OF, [digest(ANA, AS_OF, ("a1", "sso"), ("a2", "api")),
                                        digest(BEN, AS_OF, ("b1", "seats"))]),
                     {ANA: 2, BEN: 1})
    deliver(state, AS_OF, ANA, [SSO, API])
    state.record_intent(AS_OF, BEN, "DBEN", "sha", window_days=7)
    state.record_part(AS_OF, BEN, 1, 1, "posting", signal_id=SEATS)
    state.record_failed(AS_OF, BEN, "sha", "channel_not_found")
    state.record_failed(AS_OF, CLEO, "sha", "users_not_found")
    state.close()
    return state_target


def esd(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def latest(target: str) -> dict[str, OutcomeRecord]:
    state = State.open(target)
    try:
        return state.outcomes()
    finally:
        state.close()


def table(target: str) -> list[tuple]:
    """Every outcome row ever recorded, in order."""
    state = State.open(target)
    try:
        return state.db.execute("SELECT signal_id, outcome, outcome_date, source, note "
                                "FROM outcomes ORDER BY seq")
    finally:
        state.close()


def write_csv(tmp_path: Path, text: str | bytes, name: str = "crm.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


# --- esd outcome ID OUTCOME -------------------------------------------------------------

def test_records_an_id_as_copied_from_slack(store):
    done = esd("outcome", f" `{SSO.upper()}` ", "Converted", "--note", "call booked",
               "--as-of", "2026-11-25", "--state", store)
    assert done.exit_code == 0, done.output
    assert latest(store) == {SSO: OutcomeRecord(SSO, "converted", date(2026, 11, 25), "manual",
                                                "call booked")}
    assert f"Recorded: signal {SSO} converted on 2026-11-25 (manual)" in done.stdout
    assert f"account a1 · SKU sso · {ANA} · week ending 2026-11-23" in done.stdout
    assert "never delivered" not in done.stderr


def test_a_later_record_replaces_the_earlier_and_says_so(store):
    first = esd("outcome", API, "noise", "--date", "2026-11-24", "--state", store)
    assert first.exit_code == 0, first.output
    second = esd("outcome", API, "no_conversation", "--date", "2026-11-30", "--state", store)
    assert second.exit_code == 0, second.output
    assert "replaces: noise on 2026-11-24 (manual)" in second.stdout
    assert latest(store)[API].outcome == "no-conversation"
    assert [row[1] for row in table(store)] == ["noise", "no-conversation"]
    again = esd("outcome", API, "no-conversation", "--date", "2026-11-30", "--state", store)
    assert again.exit_code == 0 and "nothing recorded" in again.stdout
    assert len(table(store)) == 2


def test_unknown_id_exits_2_naming_it_and_pointing_to_history(store):
    assert UNKNOWN not in (SSO, API, SEATS, OLD)
    done = esd("outcome", UNKNOWN, "converted", "--state", store)
    assert done.exit_code == 2
    assert f"signal {UNKNOWN}: no run recorded in" in done.stderr
    assert "esd history" in done.stderr
    assert table(store) == []


@pytest.mark.parametrize("args, said", [
    ((SSO, "maybe"), "outcome 'maybe': choose converted, noise or no-conversation"),
    ((SSO, "converted", "--date", "11/25/2026"), "--date '11/25/2026': not a date"),
    ((SSO, "converted", "--date", "2062-11-25", "--as-of", "2026-11-25"),
     "--date 2062-11-25 is after today (2026-11-25, the as-of)"),
    (("abc", "converted"), "'abc' is not a signal id"),
    ((SSO,), "give a signal ID and its outcome"),
    ((SSO, "noise", "--import", "x.csv"), "--import records the rows of a file"),
])
def test_bad_arguments_exit_2_and_record_nothing(store, args, said):
    done = esd("outcome", *args, "--state", store)
    assert done.exit_code == 2
    assert said in done.stderr
    assert table(store) == []


def test_a_date_one_day_ahead_of_utc_is_today_somewhere(store):
    done = esd("outcome", SSO, "converted", "--date", "2026-11-26", "--as-of", "2026-11-25",
               "--state", store)
    assert done.exit_code == 0, done.output
    assert latest(store)[SSO].on == date(2026, 11, 26)
    later = esd("outcome", SSO, "converted", "--date", "2026-11-27", "--as-of", "2026-11-25",
                "--state", store)
    assert later.exit_code == 2
    assert latest(store)[SSO].on == date(2026, 11, 26)


def test_a_signal_never_delivered_is_recorded_with_a_note(store):
    done = esd("outcome", SEATS, "noise", "--state", store)
    assert done.exit_code == 0, done.output
    assert latest(store)[SEATS].outcome == "noise"
    assert f"1 signal ({SEATS}) listed in a digest but never delivered" in done.stderr


@pytest.mark.parametrize("args", [("history",), ("outcome", SSO, "converted"),
                                  ("outcome", "--import", "crm.csv")])
def test_a_missing_state_file_exits_2_and_is_not_created(tmp_path, args):
    write_csv(tmp_path, f"signal_id,outcome\n{SSO},converted\n")
    missing = tmp_path / "nowhere.db"
    done = esd(*args, "--state", missing)
    assert done.exit_code == 2
    assert "no such file yet" in done.stderr
    assert not missing.exists()


# --- esd outcome --import ---------------------------------------------------------------

def test_import_records_every_row_in_file_order(store, tmp_path):
    path = write_csv(tmp_path, f"signal_id,outcome,date,note\n{SSO},converted,2026-11-26,"
                     f"booked\n{OLD},noise,,\n{API},noise,2026-11-24,\n{API},converted,"
                     "2026-11-27,changed our mind\n")
    done = esd("outcome", "--import", path, "--as-of", "2026-11-30", "--state", store)
    assert done.exit_code == 0, done.output
    assert table(store) == [
        (SSO, "converted", "2026-11-26", "import", "booked"),
        (OLD, "noise", "2026-11-30", "import", None),  # empty date: the as-of day
        (API, "noise", "2026-11-24", "import", None),
        (API, "converted", "2026-11-27", "import", "changed our mind")]
    assert latest(store)[API].outcome == "converted"  # the later line wins
    assert f"Recorded 4 outcomes from {path}: 2 converted, 2 noise." in done.stdout
    assert (f"line 5: {API} converted on 2026-11-27 replaces noise on 2026-11-24 (line 4)"
            in done.stdout)


def test_importing_the_same_export_again_records_nothing(store, tmp_path):
    path = write_csv(tmp_path, f"signal_id,outcome\n{SSO},noise\n{SSO},converted\n"
                     f"{API},noise\n")
    assert esd("outcome", "--import", path, "--state", store).exit_code == 0
    before = table(store)
    again = esd("outcome", "--import", path, "--state", store)
    assert again.exit_code == 0, again.output
    assert table(store) == before and len(before) == 3
    assert "3 rows, all already recorded" in again.stdout
    manual = esd("outcome", SSO, "noise", "--state", store)  # the latest wins, any source
    assert manual.exit_code == 0 and latest(store)[SSO].source == "manual"


def test_bad_rows_are_each_named_and_nothing_is_recorded(store, tmp_path):
    assert esd("outcome", SSO, "noise", "--date", "2026-11-24", "--state", store).exit_code == 0
    before = table(store)
    path = write_csv(tmp_path, f"signal_id,outcome,date,note\n{UNKNOWN},converted,"
                     f"2026-11-24,\n{SSO},maybe,2026-11-24,\n{API},noise,24/11/2026,\n"
                     f"{SEATS},converted,2026-11-25,a good row\n"
                     f"{SEATS},converted,2062-11-25,a mistyped year\n")
    done = esd("outcome", "--import", path, "--as-of", "2026-11-26", "--state", store)
    assert done.exit_code == 2
    assert f"{path}: 4 problems, nothing recorded" in done.stderr
    assert (f"{path}:6: date: 2062-11-25 is after today (2026-11-26, the as-of)"
            in done.stderr)
    assert f"{path}:2: signal_id: signal {UNKNOWN}: no run recorded in" in done.stderr
    assert f"{path}:3: outcome: 'maybe' is not one of" in done.stderr
    assert f"{path}:4: date: '24/11/2026' is not a date: write YYYY-MM-DD" in done.stderr
    assert f"{path}:5:" not in done.stderr
    assert table(store) == before


def test_more_than_ten_problems_show_the_first_ten(store, tmp_path):
    path = write_csv(tmp_path, "signal_id,outcome\n" + f"{SSO},maybe\n" * 12)
    done = esd("outcome", "--import", path, "--state", store)
    assert done.exit_code == 2
    assert f"{path}:11: outcome" in done.stderr and f"{path}:12:" not in done.stderr
    assert "(+2 more)" in done.stderr and "12 problems" in done.stderr
    assert table(store) == []


def test_a_missing_column_is_named(store, tmp_path):
    path = write_csv(tmp_path, f"signal_id,note\n{SSO},call booked\n")
    done = esd("outcome", "--import", path, "--state", store)
    assert done.exit_code == 2
    assert f"{path}:1: outcome: missing column" in done.stderr
    assert table(store) == []


def test_a_spreadsheet_export_with_bom_crlf_and_quoted_newlines(store, tmp_path):
    text = ("\ufeffNote,Outcome,Signal ID,Date,Account\r\n"
            f'"booked, with Dana\r\nand Lee",converted,`{SSO}`,2026-11-26,a1\r\n'
            f'"said ""not now""",No-Conversation,{API},2026-11-27T15:00:00Z,a2\r\n'
            ",,,,\r\n\r\n\r\n")
    path = write_csv(tmp_path, text.encode("utf-8"))
    done = esd("outcome", "--import", path, "--state", store)
    assert done.exit_code == 0, done.output
    assert table(store) == [
        (SSO, "converted", "2026-11-26", "import", "booked, with Dana\nand Lee"),
        (API, "no-conversation", "2026-11-27", "import", 'said "not now"')]
    assert "ignored: account" in done.stderr


def test_a_file_that_is_not_utf8_names_the_line(store, tmp_path):
    path = write_csv(tmp_path, f"signal_id,outcome,note\n{SSO},noise,ok\n{API},noise,"
                     "caf\xe9\n".encode("latin-1"))
    done = esd("outcome", "--import", path, "--state", store)
    assert done.exit_code == 2
    assert f"{path}:3: not UTF-8" in done.stderr
    assert table(store) == []


# --- esd history ------------------------------------------------------------------------

def test_history_json_is_the_contract_list_newest_first(store):
    done = esd("history", "--json", "--state", store)
    assert done.exit_code == 0, done.output
    runs = json.loads(done.stdout)
    keys = ("as_of", "window_days", "delivered", "missed", "strong", "cost_usd")
    assert [{k: run[k] for k in keys} for run in runs] == [
        {"as_of": "2026-11-23T00:00:00Z", "window_days": 7, "delivered": [ANA],
         "missed": [BEN, CLEO], "strong": 3, "cost_usd": 0.0},
        {"as_of": "2026-11-16T00:00:00Z", "window_days": 7, "delivered": [ANA],
         "missed": [], "strong": 1, "cost_usd": 0.4213}]
    newest = json.loads(esd("history", "--json", "--limit", "1", "--state", store).stdout)
    assert [run["as_of"] for run in newest] == ["2026-11-23T00:00:00Z"]


def test_history_table_fits_80_columns(store, monkeypatch):
    monkeypatch.setattr(out_console.console, "width", 80)
    done = esd("history", "--state", store)
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = [line.split() for line in lines if line.strip().startswith("2026-")]
    assert rows[0][:5] == ["2026-11-23", "7", "3", "1", BEN]
    assert rows[0][-1] == "rules"
    assert rows[1] == ["2026-11-16", "7", "1", "1", "—", "$0.42"]
    assert "cleo.annabelle" in done.stdout  # folded over lines, but there
    assert "2 runs, extraction $0.42 at list prices" in done.stdout


def test_history_says_when_there_are_no_runs(state_target):
    State.open(state_target).close()
    done = esd("history", "--state", state_target)
    assert done.exit_code == 0, done.output
    assert "No runs recorded in" in done.stdout
    assert json.loads(esd("history", "--json", "--state", state_target).stdout) == []
