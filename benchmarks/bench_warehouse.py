"""Rows per second esd reads from a warehouse, and the peak memory while it streams.

100,000 accounts and a week of usage events (five per account: 500,000 rows) in a DuckDB
file and in PostgreSQL (a throwaway server from tests/pg.py, when Debian's postgresql
binaries are installed; or `--pg URL`). Each measurement runs in a fresh process and
reports rows, seconds, rows per second, and the growth of peak resident memory over the
process's size before the query:

- `stream`: the rows only, fetched `batch_size` at a time and dropped (what streaming
  itself costs; flat in the row count);
- `fetchall`: the same rows fetched whole (what streaming avoids);
- `records`: esd's read (esd.connectors.warehouse.fetch): every row converted,
  validated into a model and kept, as a run keeps them.

    python benchmarks/bench_warehouse.py                   # DuckDB and PostgreSQL
    python benchmarks/bench_warehouse.py --engines duckdb --accounts 10000

The data is generated in the database (benchmarks/.data/, git-ignored).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / ".data"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
EVENTS_PER_ACCOUNT = 5
AS_OF = "2026-11-23"

ACCOUNTS_SQL = """
create table accounts as
select 'acc' || lpad(cast(i as varchar), 7, '0') as id, 'Account ' || i as name,
       cast(1000 + (i * 37) % 500000 as numeric(14, 2)) as arr,
       (array['enterprise', 'mid-market', 'smb'])[1 + i % 3] as segment,
       'growth' as tier, 'csm' || (i % 40) || '@example.com' as owner_email,
       'CSM ' || (i % 40) as owner_name, date '2027-01-01' + cast(i % 365 as integer)
       as renewal_date
from generate_series(0, {accounts} - 1) as s(i)
"""
EVENTS_SQL = """
create table usage_events as
select 'ev' || i as event_id, 'acc' || lpad(cast(i % {accounts} as varchar), 7, '0')
       as account_id, 'seat_count_spike' as event_type, 'seat_count' as metric_name,
       cast(100 + i % 50 as numeric(18, 4)) as value_current,
       cast(90 as numeric(18, 4)) as value_baseline,
       cast((i % 400) / 4.0 as double precision) as delta_pct,
       cast(null as varchar) as feature,
       timestamptz '2026-11-16 00:00:00+00' + (i % 604800) * interval '1 second'
       as occurred_at
from generate_series(0, {events} - 1) as s(i)
"""
QUERIES = {
    "accounts": "select id, name, arr, segment, tier, owner_email, owner_name, renewal_date "
                "from accounts",
    "usage_events": "select event_id, account_id, event_type, metric_name, value_current, "
                    "value_baseline, delta_pct, feature, occurred_at from usage_events "
                    "where occurred_at >= :window_start and occurred_at < :window_end",
}
MEASURE = r"""
import json, resource, sys, time
from pathlib import Path
sys.path[:0] = sys.argv[4:5]
from esd.app.settings import parse_as_of
from esd.config import load_toml
from esd.connectors import warehouse
from esd.pipeline import make_window
url, kind, mode = sys.argv[1:4]
AS_OF = sys.argv[5]
cfg = warehouse.WarehouseConfig.from_env({"ESD_WAREHOUSE_URL": url},
                                         load_toml(Path("esd.toml"))["warehouse"])
window = make_window(parse_as_of(AS_OF), 7)
source = warehouse.open_source(cfg)
with source.connect() as conn:  # connect (and load the driver) before measuring
    pass
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2**20
before = rss()
start = time.perf_counter()
file, sql = cfg.queries()[kind]
if mode == "records":
    rows = len(warehouse.fetch(source, cfg, kind, window).records)
elif mode == "stream":
    with source.query(file, sql, warehouse.params_for(window), cfg.batch_size) as (_, it):
        rows = sum(1 for _ in it)
else:
    from sqlalchemy import text
    with source.connect() as conn:
        rows = len(conn.execute(text(sql), warehouse.params_for(window)).fetchall())
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
source.close()
print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": peak - before}))
"""


def build_duckdb(accounts: int, events: int) -> str:
    import duckdb

    path = DATA / f"warehouse-{accounts}.duckdb"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(path)) as db:
            db.execute("SET TimeZone = 'UTC'")
            db.execute(ACCOUNTS_SQL.format(accounts=accounts))
            db.execute(EVENTS_SQL.format(accounts=accounts, events=events))
    return f"duckdb:///{path}"


def build_postgres(url: str, accounts: int, events: int) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        conn.execute("drop table if exists accounts, usage_events")
        conn.execute(ACCOUNTS_SQL.format(accounts=accounts))
        conn.execute(EVENTS_SQL.format(accounts=accounts, events=events))
        conn.execute("vacuum analyze accounts")
        conn.execute("vacuum analyze usage_events")
    return url


def measure(url: str, kind: str, mode: str, workdir: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, url, kind, mode, str(ROOT), AS_OF],
                          cwd=workdir, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="duckdb,postgresql")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--pg", help="a PostgreSQL URL to load and read (default: start a "
                        "throwaway server from tests/pg.py)")
    args = parser.parse_args()
    events = args.accounts * EVENTS_PER_ACCOUNT
    workdir = DATA / "bench-warehouse"
    (workdir / "sql").mkdir(parents=True, exist_ok=True)
    for kind, sql in QUERIES.items():
        (workdir / "sql" / f"{kind}.sql").write_text(sql)
    (workdir / "esd.toml").write_text(
        '[warehouse]\naccounts = "sql/accounts.sql"\nusage_events = "sql/usage_events.sql"\n')
    server = None
    try:
        for engine in args.engines.split(","):
            if engine == "duckdb":
                url = build_duckdb(args.accounts, events)
            else:
                if args.pg is None:
                    from pg import PostgresServer, server_bin

                    server = PostgresServer(server_bin())
                    server.start()
                url = build_postgres(args.pg or server.url(), args.accounts, events)
            for kind in QUERIES:
                for mode in ("stream", "fetchall", "records"):
                    got = measure(url, kind, mode, workdir)
                    print(f"{engine:10} {kind:12} {mode:8} {got['rows']:>8,} rows "
                          f"{got['seconds']:6.2f} s {got['rows'] / got['seconds']:>10,.0f} "
                          f"rows/s  peak +{got['peak_mb']:6.1f} MB", flush=True)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
