"""The warehouse reader against the real PostgreSQL server of the test session
(tests/pg.py): credentials never shown, read-only sessions, rows streamed through a
server-side cursor."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import event
from typer.testing import CliRunner
from warehouse_demo import postgres_demo, project

from esd.cli import app
from esd.config import load_toml
from esd.connectors import warehouse
from esd.errors import InputError
from esd.models import Window

AS_OF = "2026-11-23"
WINDOW = Window(start=datetime(2026, 11, 16, tzinfo=UTC), end=datetime(2026, 11, 23, tzinfo=UTC))


def pull(url: str, tmp_path):
    return CliRunner().invoke(app, ["pull", "--as-of", AS_OF, "--out", str(tmp_path / "p")],
                              env={"ESD_USAGE_SOURCE": "warehouse", "ESD_WAREHOUSE_URL": url,
                                   "ESD_TICKET_SOURCE": "none", "GONG_API_KEY": "k:s",
                                   "GONG_BASE_URL": "http://127.0.0.1:9"})  # never asked


def config(url: str, folder, **more) -> warehouse.WarehouseConfig:
    section = load_toml(folder / "esd.toml")["warehouse"] | more
    return warehouse.WarehouseConfig.from_env({"ESD_WAREHOUSE_URL": url}, section)


@pytest.fixture
def password_role(postgres):
    """A role that must give its password (the session's server trusts everyone else)."""
    hba = postgres.data / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text("host all wh_reader 127.0.0.1/32 scram-sha-256\n" + original)
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS wh_reader")
        conn.execute("CREATE ROLE wh_reader LOGIN PASSWORD 'right-horse-battery'")
        conn.execute("SELECT pg_reload_conf()")
    yield f"postgresql://wh_reader:{{}}@127.0.0.1:{postgres.port}/postgres"
    hba.write_text(original)
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")


def test_a_wrong_password_is_exit_4_and_never_shown(password_role, tmp_path):
    project(tmp_path)
    result = pull(password_role.format("Wr0ng-Pa55word-x"), tmp_path)
    assert result.exit_code == 4, result.output
    said = " ".join(result.output.split())
    assert "Warehouse postgresql://wh_reader:***@127.0.0.1:" in said
    assert "password authentication failed" in said
    assert "Wr0ng-Pa55word-x" not in result.output
    assert not (tmp_path / "p").exists()


def test_an_unreachable_server_is_exit_4_naming_it_without_the_password(tmp_path):
    project(tmp_path)
    result = pull("postgresql://esd:Sup3r-Secret-pw@127.0.0.1:9/analytics", tmp_path)
    assert result.exit_code == 4, result.output
    said = " ".join(result.output.split())
    assert "Warehouse postgresql://esd:***@127.0.0.1:9/analytics: cannot connect" in said
    assert "Sup3r-Secret-pw" not in result.output


def test_the_session_is_read_only_even_for_a_select_that_writes(postgres, tmp_path):
    url = postgres_demo(postgres)
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE esd_demo.ticket_no")
    # nextval() writes though it is a SELECT: the guard lets it pass, the session not.
    project(tmp_path, {"health": "select account_id, nextval('ticket_no') as nps "
                       "from health"})
    cfg = config(url, tmp_path)
    source = warehouse.open_source(cfg)
    try:
        with pytest.raises(InputError, match="read-only transaction") as caught:
            warehouse.fetch(source, cfg, "health", WINDOW)
    finally:
        source.close()
    assert "sql/health.sql: the warehouse refused the query" in str(caught.value)
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        [(called,)] = conn.execute("SELECT is_called FROM esd_demo.ticket_no").fetchall()
    assert called is False


def test_rows_stream_through_a_server_side_cursor(postgres, tmp_path):
    url = postgres_demo(postgres)
    project(tmp_path)
    cfg = config(url, tmp_path, batch_size=7)
    source = warehouse.open_source(cfg)
    cursors: list[tuple[object, int]] = []
    event.listen(source.engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, context, many: cursors.append(
                     (type(cursor), context.execution_options.get("yield_per"))))
    try:
        pulled = warehouse.fetch(source, cfg, "accounts", WINDOW)
    finally:
        source.close()
    assert len(pulled.records) == 214
    assert cursors == [(psycopg.ServerCursor, 7)]  # fetched 7 rows at a time
