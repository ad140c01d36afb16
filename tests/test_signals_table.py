"""--signals-table (contract §8): the run's signals appended to a warehouse table, a rerun
of the window replacing its rows, on a real DuckDB file and a real PostgreSQL server; a
kill or a dropped connection mid-write leaves the rows of the run before."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import ROOT, fake_fixture
from fakes import slack as slack_fake
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from esd.app import digest
from esd.app.settings import Extraction, Settings, parse_as_of
from esd.cli import app
from esd.connectors.warehouse_signals import publish, signal_rows
from esd.errors import SourceError

DEMO = ROOT / "examples" / "portfolio"
REFS = DEMO / "references"
AS_OF = "2026-11-23"
CSMS = [f"{name}@lumen.example.com" for name in (
    "ana.ruiz", "diego.morales", "jess.okafor", "marcus.chen", "priya.natarajan",
    "tom.becker")]
TABLE = "esd_signals"

slack = fake_fixture(lambda: slack_fake.FakeSlack(CSMS), scope="function")


def week(cap: int = 3, as_of: str = AS_OF):
    settings = Settings(input_dir=DEMO, references=REFS, as_of=parse_as_of(as_of),
                        cap_per_csm=cap, env={}, extraction=Extraction(extractor="rules"))
    return digest.dry_run(settings, None).run


def table_rows(url: str, table: str = TABLE) -> list[tuple]:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(tuple(row) for row in conn.execute(text(
                f"select window_end, owner_email, account_id, sku, strength, listed, "
                f"signal_id, action, reason, evidence_ids from {table}")))
    finally:
        engine.dispose()


@pytest.fixture(params=["duckdb", "postgresql"])
def url(request, tmp_path):
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    return request.getfixturevalue("postgres").new_database()


def test_run_appends_every_signal_and_a_rerun_replaces_the_window(slack, tmp_path, url):
    environment = {"SLACK_BOT_TOKEN": slack_fake.TOKEN, "SLACK_API_URL": slack.url + "/api/",
                   "ESD_WAREHOUSE_URL": url}
    args = ["--input-dir", str(DEMO), "--references", str(REFS), "--as-of", AS_OF,
            "--signals-table", TABLE]
    preview = CliRunner().invoke(app, ["dry-run", *args, "--out", str(tmp_path / "d")],
                                 env={"ESD_WAREHOUSE_URL": url})
    assert preview.exit_code == 0, preview.output
    with pytest.raises(Exception, match=TABLE):  # dry-run wrote nothing to the warehouse
        table_rows(url)
    result = CliRunner().invoke(app, ["run", *args], env=environment)
    assert result.exit_code == 0, result.output
    rows = table_rows(url)
    run = json.loads((tmp_path / "d" / "run.json").read_text())
    strong = [s["signal_id"] for d in run["digests"] for s in d["strong"]]
    assert sorted(r[6] for r in rows if r[4] == "strong" and r[5]) == sorted(strong)
    assert sum(1 for r in rows if r[4] == "strong" and not r[5]) == \
        sum(d["overflow"] for d in run["digests"]) > 0
    assert sum(1 for r in rows if r[4] == "weak") == sum(len(d["weak"]) for d in run["digests"])
    assert all(r[7] for r in rows if r[4] == "strong" and r[5])  # the digest's action
    # The dry-run's preview holds exactly the rows the run wrote.
    with (tmp_path / "d" / "signals-table.csv").open() as f:
        previewed = sorted((r["owner_email"], r["account_id"], r["sku"], r["strength"],
                            r["listed"] == "true", r["signal_id"]) for r in csv.DictReader(f))
    assert previewed == sorted(r[1:7] for r in rows)
    again = CliRunner().invoke(app, ["run", *args], env=environment)
    assert again.exit_code == 0, again.output
    assert table_rows(url) == rows  # replaced, not duplicated


def test_other_windows_rows_are_kept(url):
    result = week()
    publish(url, TABLE, result)
    earlier = result.model_copy(update={"as_of": result.as_of - timedelta(days=7)})
    publish(url, TABLE, earlier)
    rows = table_rows(url)
    assert len(rows) == 2 * len(signal_rows(result))
    publish(url, TABLE, week(cap=1))  # this window again, fewer listed
    assert len(table_rows(url)) == len(rows)
    assert sum(1 for r in table_rows(url) if not r[5]) > sum(1 for r in rows if not r[5])


CHILD = """
import sys
from esd.connectors.warehouse_signals import publish
from test_signals_table import week

def pause(written):
    print(f"mid-write {written}", flush=True)
    sys.stdin.readline()  # killed while it waits here, inside the transaction

publish(sys.argv[1], "esd_signals", week(cap=3), batch=5, on_batch=pause)
print("committed", flush=True)
"""


def test_a_kill_mid_write_leaves_the_rows_of_the_run_before(url):
    publish(url, TABLE, week(cap=1))
    before = table_rows(url)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", CHILD, url], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "mid-write 5"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdin.close()
        child.stdout.close()
    assert table_rows(url) == before
    publish(url, TABLE, week(cap=3))  # the next run goes through
    assert table_rows(url) != before and len(table_rows(url)) == len(before)


def test_a_dropped_connection_mid_write_is_exit_4_and_keeps_the_rows(postgres):
    url = postgres.new_database()
    publish(url, TABLE, week(cap=1))
    before = table_rows(url)
    killer = create_engine("postgresql+psycopg://" + url.removeprefix("postgresql://"))

    def drop(_written: int) -> None:
        with killer.connect() as conn:
            [pid] = conn.execute(text(
                "select pid from pg_stat_activity where datname = current_database() "
                "and pid <> pg_backend_pid() and state = 'idle in transaction'")).scalars()
            conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})

    try:
        with pytest.raises(SourceError, match=f"writing the signals table {TABLE} failed "
                           r"\(its rows are as before\)") as caught:
            publish(url, TABLE, week(cap=3), batch=5, on_batch=drop)
    finally:
        killer.dispose()
    assert caught.value.exit_code == 4
    assert table_rows(url) == before


def test_a_signals_table_needs_the_warehouse_url_before_anything_runs(slack, tmp_path):
    environment = {"SLACK_BOT_TOKEN": slack_fake.TOKEN, "SLACK_API_URL": slack.url + "/api/"}
    result = CliRunner().invoke(app, ["run", "--input-dir", str(DEMO), "--references",
                                      str(REFS), "--as-of", AS_OF, "--signals-table", TABLE],
                                env=environment)
    assert result.exit_code == 2 and "ESD_WAREHOUSE_URL" in result.output
    assert not any(slack.messages_to(e) for e in CSMS)
    bad = CliRunner().invoke(app, ["dry-run", "--input-dir", str(DEMO), "--references",
                                   str(REFS), "--as-of", AS_OF, "--signals-table",
                                   "signals; drop table x", "--out", str(tmp_path / "d")])
    assert bad.exit_code == 2 and "expected a table name" in bad.output
    assert not (tmp_path / "d").exists()


def test_the_table_can_come_from_esd_toml(slack, tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    (tmp_path / "esd.toml").write_text(f'[warehouse]\nsignals_table = "{TABLE}"\n')
    result = CliRunner().invoke(app, [
        "run", "--input-dir", str(DEMO), "--references", str(REFS), "--as-of", AS_OF],
        env={"SLACK_BOT_TOKEN": slack_fake.TOKEN, "SLACK_API_URL": slack.url + "/api/",
             "ESD_WAREHOUSE_URL": url})
    assert result.exit_code == 0, result.output
    assert len(table_rows(url)) == len(signal_rows(week()))
