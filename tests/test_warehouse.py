"""ESD_USAGE_SOURCE=warehouse (contract §8): accounts, usage events, stakeholder changes
and health from SQL on a real DuckDB file (and PostgreSQL where marked), calls and
tickets from fakes of Gong and Zendesk on 127.0.0.1."""

from __future__ import annotations

import json

import duckdb
import pytest
from conftest import ROOT
from fakes import gong as gong_fake
from fakes import zendesk as zd_fake
from fakes.server import serving
from typer.testing import CliRunner
from warehouse_demo import duckdb_demo, postgres_demo, project

from esd.cli import app
from esd.connectors.files import load_portfolio
from esd.connectors.warehouse import Warehouse

DEMO = ROOT / "examples" / "portfolio"
REFS = str(DEMO / "references")
AS_OF = "2026-11-23"


@pytest.fixture(scope="module")
def fakes():
    apis = {"gong": gong_fake.GongFake.portfolio(),
            "zendesk": zd_fake.FakeZendesk(zd_fake.demo_data())}
    with serving(*apis.values()):
        yield apis


def env(fakes, url: str) -> dict[str, str]:
    return {
        "ESD_USAGE_SOURCE": "warehouse", "ESD_WAREHOUSE_URL": url,
        "GONG_BASE_URL": fakes["gong"].url, "GONG_ACCESS_KEY": gong_fake.ACCESS_KEY,
        "GONG_ACCESS_KEY_SECRET": gong_fake.ACCESS_KEY_SECRET,
        "ZENDESK_URL": fakes["zendesk"].url, "ZENDESK_EMAIL": zd_fake.EMAIL,
        "ZENDESK_API_TOKEN": zd_fake.API_TOKEN,
    }


def invoke(args: list[str], environment: dict[str, str]):
    return CliRunner().invoke(app, args, env=environment)


def dry_run(fakes, url: str, out, *extra: str):
    return invoke(["dry-run", "--references", REFS, "--as-of", AS_OF, "--out", str(out),
                   *extra], env(fakes, url))


@pytest.fixture
def demo_url(tmp_path):
    project(tmp_path)
    return duckdb_demo(tmp_path)


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_warehouse_dry_run_equals_the_dry_run_from_files(fakes, tmp_path, engine, request):
    project(tmp_path)
    url = duckdb_demo(tmp_path) if engine == "duckdb" else postgres_demo(
        request.getfixturevalue("postgres"))
    live = dry_run(fakes, url, tmp_path / "warehouse")
    assert live.exit_code == 0, live.output
    files = invoke(["dry-run", "--input-dir", str(DEMO), "--references", REFS,
                    "--as-of", AS_OF, "--out", str(tmp_path / "files")], {})
    assert files.exit_code == 0, files.output
    got = json.loads((tmp_path / "warehouse" / "run.json").read_text())
    want = json.loads((tmp_path / "files" / "run.json").read_text())
    # Only what says where the data came from may differ (as for Gainsight: test_live).
    assert got["diagnostics"].pop("ticket_source") == "zendesk"
    assert want["diagnostics"].pop("ticket_source") is None
    unmapped = got["diagnostics"].pop("unmapped_records")
    assert want["diagnostics"].pop("unmapped_records") == {}
    assert not any(k.startswith("Warehouse") for k in unmapped)  # the queries map all
    assert sum(len(d["strong"]) for d in want["digests"]) > 0
    assert got == want


def test_pull_writes_the_window_from_the_warehouse(fakes, tmp_path, demo_url):
    result = invoke(["pull", "--as-of", AS_OF, "--out", str(tmp_path / "pulled"),
                     "--no-quiet"], env(fakes, demo_url))
    assert result.exit_code == 0, result.output
    pulled, demo = load_portfolio(tmp_path / "pulled"), load_portfolio(DEMO)
    start, end = "2026-11-16T00:00:00+00:00", "2026-11-23T00:00:00+00:00"
    assert pulled.accounts == demo.accounts
    assert pulled.usage_events == [u for u in demo.usage_events
                                   if start <= u.occurred_at.isoformat() < end]
    assert sorted(pulled.stakeholder_changes, key=repr) == sorted(
        [c for c in demo.stakeholder_changes
         if "2026-10-24T00:00:00+00:00" <= c.occurred_at.isoformat() < end], key=repr)
    assert pulled.health == demo.health
    assert f"Warehouse accounts: {len(demo.accounts)} records, 1 requests" in result.output
    assert "Warehouse health" in result.output and "Gainsight" not in result.output


def test_without_a_stakeholder_query_the_footer_says_the_guard_could_not_run(
        fakes, tmp_path, demo_url):
    toml = tmp_path / "esd.toml"
    toml.write_text(toml.read_text().replace('stakeholder_changes = "sql/stakeholder_'
                                             'changes.sql"\n', ""))
    result = dry_run(fakes, demo_url, tmp_path / "d")
    assert result.exit_code == 0, result.output
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    assert run["diagnostics"]["stakeholder_data"] is False
    for digest in (tmp_path / "d").glob("*.md"):
        assert " · stakeholder changes: no source, so the champion-departure guard could " \
               "not run" in digest.read_text()


@pytest.mark.parametrize("query, why", [
    ("delete from accounts", "starts with 'DELETE'"),
    ("insert into accounts select * from accounts", "starts with 'INSERT'"),
    ("select * from accounts; drop table accounts", "holds 2 SQL statements"),
])
def test_a_query_that_writes_is_exit_2_before_anything_runs(fakes, tmp_path, query, why):
    project(tmp_path, {"health": query})
    url = duckdb_demo(tmp_path)
    result = dry_run(fakes, url, tmp_path / "d")
    assert result.exit_code == 2, result.output
    assert "sql/health.sql" in result.output and why in result.output
    assert not fakes["gong"].log  # nothing ran: no source was asked anything
    with duckdb.connect(str(tmp_path / "demo.duckdb"), read_only=True) as db:
        assert db.execute("select count(*) from accounts").fetchone() == (214,)
    # Not even a connection: a warehouse that does not exist is not noticed.
    gone = dry_run(fakes, f"duckdb:///{tmp_path / 'absent.duckdb'}", tmp_path / "d")
    assert gone.exit_code == 2 and why in gone.output
    assert not (tmp_path / "absent.duckdb").exists() and not (tmp_path / "d").exists()


def test_a_comment_holding_a_semicolon_is_still_one_query(fakes, tmp_path):
    project(tmp_path, {"accounts": "-- every account; one row each\n/* ids; names */\n"
                       "select id, name, arr, segment, tier, owner_email, owner_name,\n"
                       "       renewal_date, 'a;b' as note\nfrom accounts; -- done;\n"})
    url = duckdb_demo(tmp_path)
    result = dry_run(fakes, url, tmp_path / "d")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "d" / "run.json").read_text())[
        "diagnostics"]["accounts_in_scope"] == 214


def test_a_missing_column_names_the_query_file_and_the_column(fakes, tmp_path):
    project(tmp_path, {"usage_events": "select event_id, account_id, event_type, "
                       "value_current, value_baseline, delta_pct, occurred_at "
                       "from usage_events"})
    result = dry_run(fakes, duckdb_demo(tmp_path), tmp_path / "d")
    assert result.exit_code == 2, result.output
    assert "sql/usage_events.sql: column metric_name: missing" in result.output
    assert not (tmp_path / "d").exists()


def test_a_bad_type_names_the_file_the_row_and_the_column(fakes, tmp_path):
    db = tmp_path / "bad.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table events as select * from (values "
                    "('e1', 'ok'), ('e2', '2026-11-20T10:00:00Z'), ('e3', 'last tuesday'))"
                    " t(event_id, occurred_at)")
    project(tmp_path, {
        "accounts": "select '001' as id, 'Acme' as name, 1000 as arr, 'smb' as segment, "
                    "'growth' as tier, 'ana@x.io' as owner_email, "
                    "date '2027-01-01' as renewal_date",
        "usage_events": "select event_id, '001' as account_id, 'seat_count_spike' as "
                        "event_type, 'seat_count' as metric_name, 10 as value_current, "
                        "5 as value_baseline, 100.0 as delta_pct, occurred_at "
                        "from events where event_id <> 'e1' order by event_id"})
    toml = tmp_path / "esd.toml"
    toml.write_text(toml.read_text().replace('stakeholder_changes = "sql/stakeholder_'
                                             'changes.sql"\nhealth = "sql/health.sql"\n', ""))
    result = dry_run(fakes, f"duckdb:///{db}", tmp_path / "d")
    assert result.exit_code == 2, result.output
    assert ("sql/usage_events.sql: row 2 (event_id e3): column occurred_at: expected a "
            "timestamp or ISO 8601 text (got 'last tuesday')") in result.output
    assert "row 1" not in result.output


def test_values_the_models_refuse_are_named_by_row_and_column(fakes, tmp_path):
    project(tmp_path, {"accounts": (
        "select * from (values ('001', 'Acme', 1000.0), ('002', 'Bolt', 'nan'::double))"
        " t(id, name, arr) cross join (select 'smb' as segment, 'growth' as tier, "
        "'ana@x.io' as owner_email, null as owner_name, date '2027-01-01' as renewal_date)"
        " order by id")})
    result = dry_run(fakes, duckdb_demo(tmp_path), tmp_path / "d")
    assert result.exit_code == 2, result.output
    assert "sql/accounts.sql: row 2 (id 002): column arr: " in result.output
    assert "row 1" not in result.output


def test_an_unreachable_warehouse_is_exit_4_naming_it(fakes, tmp_path):
    project(tmp_path)
    gone = tmp_path / "nowhere.duckdb"
    result = dry_run(fakes, f"duckdb:///{gone}", tmp_path / "d")
    assert result.exit_code == 4, result.output
    assert f"Warehouse duckdb:///{gone}: cannot connect" in " ".join(result.output.split())
    assert not gone.exists()  # opened read-only: never created


def test_reads_are_read_only(demo_url):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    source = Warehouse(demo_url)
    try:
        with source.connect() as conn, pytest.raises(DBAPIError, match="read-only"):
            conn.execute(text("create table sneaky (a int)"))
    finally:
        source.close()


def test_check_runs_every_query_without_reading_a_row(fakes, tmp_path, demo_url, golive_refs):
    ok = invoke(["check", "--references", str(golive_refs)], env(fakes, demo_url))
    assert ok.exit_code == 0, ok.output
    assert "Warehouse: 4 queries OK" in ok.output
    (tmp_path / "sql" / "accounts.sql").write_text(
        "select id, name, segment, tier, owner_email, renewal_date, arr as annual_revenue, "
        "owner_name as owner from accounts")
    (tmp_path / "sql" / "health.sql").write_text("select 1; delete from health")
    bad = invoke(["check", "--references", str(golive_refs), "--json"], env(fakes, demo_url))
    assert bad.exit_code == 2, bad.output
    problems = [(p["file"], p["message"]) for p in json.loads(bad.stdout)["problems"]]
    accounts, health = "sql/accounts.sql", "sql/health.sql"  # as esd.toml names them
    assert (accounts, "column arr: missing (every account row needs it)") in problems
    assert any(f == accounts and m.startswith("column annual_revenue: not a field")
               for f, m in problems)
    assert any(f == accounts and m.startswith("column owner: not a field") for f, m in problems)
    assert any(f == health and "holds 2 SQL statements" in m for f, m in problems)
    assert len(problems) == 4


def test_init_scaffolds_queries_that_run_on_duckdb_over_csv(tmp_path, monkeypatch):
    target = tmp_path / "team"
    made = invoke(["init", str(target), "--warehouse"], {})
    assert made.exit_code == 0, made.output
    for kind in ("accounts", "usage_events", "stakeholder_changes", "health"):
        text = (target / "warehouse" / f"{kind}.sql").read_text()
        assert text.startswith("-- esd reads") and "read_csv(" in text
    monkeypatch.chdir(target)
    checked = invoke(["check", "--json"], {"ESD_WAREHOUSE_URL": "duckdb:///:memory:"})
    problems = json.loads(checked.stdout)["problems"]
    assert [p for p in problems if not p["file"].startswith("references")] == []
    from esd.app.settings import parse_as_of
    from esd.config import load_toml
    from esd.connectors import warehouse
    from esd.pipeline import make_window

    cfg = warehouse.WarehouseConfig.from_env({"ESD_WAREHOUSE_URL": "duckdb:///:memory:"},
                                             load_toml(target / "esd.toml")["warehouse"])
    source, window = warehouse.open_source(cfg), make_window(parse_as_of(AS_OF), 7)
    try:
        got = {kind: warehouse.fetch(source, cfg, kind, window, {"001XXXXXXXXXXXXAA1",
                                                                 "001XXXXXXXXXXXXAA2"})
               for kind in warehouse.KINDS}
    finally:
        source.close()
    assert {kind: len(p.records) for kind, p in got.items()} == {
        "accounts": 2, "usage_events": 2, "stakeholder_changes": 1, "health": 2}
    assert got["usage_events"].records[0].delta_pct is None
    again = invoke(["init", str(target), "--warehouse"], {})
    assert again.exit_code == 2 and "esd.toml" in again.output  # never overwritten


def test_coverage_names_the_warehouse_steps(fakes, demo_url):
    result = invoke(["coverage", "--references", REFS, "--as-of", AS_OF, "--json"],
                    env(fakes, demo_url))
    assert result.exit_code == 0, result.output
    live = {h["source"]: h for h in json.loads(result.stdout)["live"]}
    assert list(live) == ["Warehouse accounts", "Gong calls", "Warehouse usage events",
                          "Warehouse stakeholder changes", "Warehouse health", "Zendesk tickets"]
    assert (live["Warehouse accounts"]["records"], live["Warehouse accounts"]["requests"]) == (
        214, 1)


@pytest.mark.parametrize("days, lookback_days", [(7, 30), (1, 30), (56, 79)])
def test_lookback_start_covers_every_week_of_a_long_pull(days, lookback_days):
    """:lookback_start is the champion look-back of the window's end, and of its first
    week's end in a pull of several weeks (what esd backtest reads)."""
    from datetime import UTC, datetime, timedelta

    from esd.connectors.warehouse import params_for
    from esd.pipeline import make_window

    as_of = datetime(2026, 11, 23, tzinfo=UTC)
    params = params_for(make_window(as_of, days))
    assert params["lookback_start"] == as_of - timedelta(days=lookback_days)
    assert params["window_start"] == as_of - timedelta(days=days)
