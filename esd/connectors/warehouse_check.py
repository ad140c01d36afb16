"""`esd check` against a warehouse (contract §8): every configured query checked to be
one read-only statement, then run on the warehouse wrapped in `LIMIT 0`, so its columns
are known without reading a row."""

from __future__ import annotations

from esd.connectors.readonly_sql import read_only_query
from esd.connectors.warehouse import (
    KINDS,
    REQUIRED_QUERIES,
    Warehouse,
    WarehouseConfig,
    open_source,
    params_for,
    read_query,
)
from esd.connectors.warehouse_rows import column_problems
from esd.errors import InputError
from esd.models import Window


def check_queries(cfg: WarehouseConfig, window: Window) -> list[tuple[str, int, str]]:
    """(file, line, message) per problem of the configured queries, for `esd check`:
    each must be one read-only statement, run on the warehouse wrapped in `LIMIT 0` (no
    row is read), and return every column its record kind needs and none it does not
    know. SourceError when the warehouse cannot be reached."""
    found: list[tuple[str, int, str]] = []
    source: Warehouse | None = None
    try:
        for kind, (model, _, label) in KINDS.items():
            file = getattr(cfg, kind)
            if not file:
                if kind in REQUIRED_QUERIES:
                    found.append(("esd.toml", 0, f"[warehouse] {kind}: required with "
                                  "ESD_USAGE_SOURCE=warehouse"))
                continue
            try:
                sql = read_only_query(read_query(file), file)
                source = source or open_source(cfg)
                wrapped = f"SELECT * FROM (\n{sql}\n) AS esd_check LIMIT 0"
                with source.query(file, wrapped, params_for(window), 1) as (columns, rows):
                    for _ in rows:
                        pass
            except InputError as exc:
                line = exc.record if isinstance(exc.record, int) else 0
                message = str(exc).removeprefix(f"{file}: ").removeprefix(f"line {line}: ")
                found.append((file, line, message))
                continue
            found += [(file, 0, p) for p in column_problems(model, columns, label, extra=True)]
    finally:
        if source is not None:
            source.close()
    return found
