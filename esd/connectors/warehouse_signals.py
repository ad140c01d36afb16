"""The run's signals, back out to a warehouse table (contract §8, `--signals-table`).

Every strong and weak signal of the run, capped-out strong ones included (`listed`
false), one row each, so reverse-ETL tools can carry them to a CRM. This is the one write
esd makes to a warehouse, on its own connection (the reads stay read-only): the table is
created when absent, then the window's earlier rows are deleted and the new ones inserted
in one transaction, so a rerun of a window replaces its rows and a kill or a dropped
connection mid-write leaves the rows of the run before.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, MetaData, String, Table, Text
from sqlalchemy.exc import DBAPIError

from esd.connectors.warehouse import Warehouse
from esd.errors import InputError, SourceError
from esd.models import RunResult, Signal, signal_id

BATCH = 1000  # rows per INSERT round trip
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
LONG = String(65535)  # not Text: Redshift makes TEXT a VARCHAR(256)
COLUMNS = ("window_start", "window_end", "owner_email", "account_id", "sku", "strength",
           "listed", "signal_id", "action", "reason", "evidence_ids")


def signals_table(name: str, metadata: MetaData | None = None) -> Table:
    """The table `name` (`table` or `schema.table`) with esd's columns; InputError for a
    name that is not a plain SQL identifier (it is never quoted into SQL text)."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 3 or not all(_NAME.fullmatch(p) for p in parts):
        raise InputError(f"--signals-table {name!r}: expected a table name (letters, digits "
                         "and _, optionally schema.table)", field="--signals-table")
    return Table(
        parts[-1], metadata or MetaData(),
        Column("window_start", DateTime(timezone=True), nullable=False),
        Column("window_end", DateTime(timezone=True), nullable=False),
        Column("owner_email", Text, nullable=False),
        Column("account_id", Text, nullable=False),
        Column("sku", Text, nullable=False),
        Column("strength", Text, nullable=False),  # strong | weak
        Column("listed", Boolean, nullable=False),  # false: a strong signal the cap dropped
        Column("signal_id", Text, nullable=False),
        Column("action", LONG),  # the digest's action; null where it shows none
        Column("reason", Text),  # why weak: call-only, champion-departure, ...
        Column("evidence_ids", LONG, nullable=False),  # JSON array: calls, tickets, events
        schema=".".join(parts[:-1]) or None,
    )


def signal_rows(result: RunResult) -> list[dict[str, Any]]:
    """One row per signal of the run: by owner, strong before weak, then as ranked."""
    listed = {(s.account_id, s.sku) for d in result.digests for s in d.strong}
    start = result.as_of - timedelta(days=result.window_days)
    rows = []
    for signal in result.signals:
        owner = result.accounts[signal.account_id].owner_email
        rows.append({
            "window_start": start, "window_end": result.as_of, "owner_email": owner,
            "account_id": signal.account_id, "sku": signal.sku, "strength": signal.strength,
            "listed": signal.strength == "weak" or (signal.account_id, signal.sku) in listed,
            "signal_id": signal.signal_id or signal_id(result.as_of, owner, signal.account_id,
                                                       signal.sku),
            "action": signal.action, "reason": signal.reason,
            "evidence_ids": json.dumps(_evidence_ids(signal)),
        })
    order = {(s.account_id, s.sku): i for d in result.digests for i, s in
             enumerate([*d.strong, *d.weak])}
    rows.sort(key=lambda r: (r["owner_email"], r["strength"] != "strong", not r["listed"],
                             order.get((r["account_id"], r["sku"]), len(order)),
                             r["account_id"], r["sku"]))
    return rows


def _evidence_ids(signal: Signal) -> list[str]:
    ids = [m.source_id for m in (*signal.call_evidence, *signal.ticket_evidence)]
    ids += [e.event_id for e in signal.usage_evidence if e.event_id]
    return list(dict.fromkeys(ids))


def preview_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV: what `esd dry-run --signals-table` writes instead of the table."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "window_start": row["window_start"].isoformat(),
                         "window_end": row["window_end"].isoformat(),
                         "listed": "true" if row["listed"] else "false"})
    return buffer.getvalue()


def publish(url: str, name: str, result: RunResult, batch: int = BATCH,
            on_batch: Callable[[int], None] | None = None) -> int:
    """Replace the window's rows of table `name` with this run's signals, in one
    transaction; the number of rows written. `on_batch(rows_so_far)` is called after each
    INSERT, inside the transaction. SourceError (exit 4) when the warehouse fails."""
    table = signals_table(name)
    rows = signal_rows(result)
    warehouse = Warehouse(url, read_only=False)
    try:
        with warehouse.connect() as conn:
            try:
                with conn.begin():
                    table.create(conn, checkfirst=True)
                with conn.begin():
                    conn.execute(table.delete().where(table.c.window_end == result.as_of))
                    for i in range(0, len(rows), batch):
                        conn.execute(table.insert(), rows[i:i + batch])
                        if on_batch:
                            on_batch(min(i + batch, len(rows)))
            except DBAPIError as exc:
                raise SourceError(f"Warehouse {warehouse.label}: writing the signals table "
                                  f"{name} failed (its rows are as before): "
                                  f"{warehouse.scrub(exc)}", source="warehouse") from None
    finally:
        warehouse.close()
    return len(rows)
