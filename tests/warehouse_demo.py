"""The demo portfolio in a warehouse, for the warehouse tests: a DuckDB file in the test's
folder, or a schema on the session's PostgreSQL server (tests/pg.py), loaded by the demo
script examples/warehouse/build_demo.py and read by its queries."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from urllib.parse import quote

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "warehouse"
_spec = importlib.util.spec_from_file_location("build_demo", EXAMPLE / "build_demo.py")
build_demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_demo)
GONG_FAST = "[gong]\nrequests_per_second = 100000.0\n[zendesk]\nrequests_per_minute = 6000000\n"


def duckdb_demo(folder: Path) -> str:
    """The demo as a DuckDB file in `folder`; its URL."""
    url = f"duckdb:///{folder / 'demo.duckdb'}"
    build_demo.build(url)
    return url


def postgres_demo(server, schema: str = "esd_demo") -> str:
    """The demo in `schema` of a fresh database; a URL whose search_path finds it, so the
    demo's queries run unchanged."""
    url = server.new_database()
    build_demo.build(url, schema=schema)
    return f"{url}?options={quote(f'-csearch_path={schema}')}"


def project(folder: Path, queries: dict[str, str] | None = None, extra: str = "") -> Path:
    """An esd.toml in `folder` reading the demo queries from folder/sql (`queries`
    replaces some by text), as a team's repository holds them; its path."""
    sql = folder / "sql"
    shutil.copytree(EXAMPLE / "sql", sql, dirs_exist_ok=True)
    for kind, text in (queries or {}).items():
        (sql / f"{kind}.sql").write_text(text)
    toml = folder / "esd.toml"
    toml.write_text(GONG_FAST + extra + "\n[warehouse]\n" + "".join(
        f'{kind} = "sql/{kind}.sql"\n' for kind in
        ("accounts", "usage_events", "stakeholder_changes", "health")))
    return toml
