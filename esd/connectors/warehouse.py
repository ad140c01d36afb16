"""Accounts, usage events, stakeholder changes and health from a SQL warehouse
(contract §8, `ESD_USAGE_SOURCE=warehouse`).

`ESD_WAREHOUSE_URL` is a SQLAlchemy URL: `duckdb:///path.duckdb` (embedded, installed
with esd), `postgresql://...` (psycopg 3, installed with esd), and Snowflake, BigQuery,
Redshift or any other engine through its SQLAlchemy dialect package. esd.toml
`[warehouse]` names one SQL file per record kind; each query returns the contract §2
field names as columns and may use `:window_start`, `:window_end` and `:lookback_start`.

Every query file is checked to be one SELECT or WITH statement before anything connects
(esd.connectors.readonly_sql); the connection is then read-only where the engine allows
it (DuckDB opens the file read-only; PostgreSQL sessions default to READ ONLY
transactions), and runs in UTC. Rows are streamed in batches of `[warehouse]
batch_size` (a server-side cursor where the driver has one), never fetched whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from esd.config import Section, load_section
from esd.connectors.base import Pulled, lookback_start, secret
from esd.connectors.readonly_sql import read_only_query
from esd.connectors.warehouse_rows import RowReader, column_problems
from esd.errors import CredentialsRejected, InputError, SourceError, Unreachable
from esd.models import Account, HealthRecord, StakeholderChange, UsageEvent, Window
from esd.redact import redact_text

log = logging.getLogger(__name__)

URL_VARIABLE = "ESD_WAREHOUSE_URL"
# record kind -> (model, the field that names a row in messages, what users call it)
KINDS: dict[str, tuple[type[BaseModel], str, str]] = {
    "accounts": (Account, "id", "account"),
    "usage_events": (UsageEvent, "event_id", "usage event"),
    "stakeholder_changes": (StakeholderChange, "account_id", "stakeholder change"),
    "health": (HealthRecord, "account_id", "health"),
}
REQUIRED_QUERIES = ("accounts", "usage_events")
DIALECT_PACKAGES = "snowflake-sqlalchemy, sqlalchemy-bigquery or sqlalchemy-redshift"
# Run on every new connection: UTC always; reads also in read-only transactions.
SESSION = {"postgresql": ["SET TIME ZONE 'UTC'"],
           # DuckDB draws a progress bar on stdout for a long query: never on esd's.
           "duckdb": ["SET TimeZone = 'UTC'", "SET enable_progress_bar = false"]}
READ_ONLY = {"postgresql": ["SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"]}
_AUTH_WORDS = ("password", "authentication", "permission denied", "access denied",
               "not authorized", "role")


class WarehouseConfig(Section):
    """esd.toml `[warehouse]` (query files resolved against esd.toml's folder by
    esd.config.load_toml) and ESD_WAREHOUSE_URL, which may hold a password."""

    SECTION: ClassVar[str] = "warehouse"
    SECRETS: ClassVar[frozenset[str]] = frozenset({"url"})

    url: SecretStr
    accounts: str | None = None
    usage_events: str | None = None
    stakeholder_changes: str | None = None
    health: str | None = None
    signals_table: str | None = None
    batch_size: int = Field(10_000, gt=0, strict=True)  # rows per fetch from the cursor

    @classmethod
    def from_env(cls, env: Mapping[str, str], section: Any) -> WarehouseConfig:
        return load_section(cls, section, env, url=secret(env, URL_VARIABLE, "Warehouse"))

    def queries(self) -> dict[str, tuple[str, str]]:
        """kind -> (file, SQL ready to run) for every configured query, each checked to
        be one read-only statement; InputError (exit 2) before anything connects."""
        found = {}
        for kind in KINDS:
            file = getattr(self, kind)
            if not file:
                if kind in REQUIRED_QUERIES:
                    raise InputError(f"esd.toml [warehouse]: {kind}: required with "
                                     "ESD_USAGE_SOURCE=warehouse (the path of a SQL file, "
                                     "relative to esd.toml)", file="esd.toml", field=kind)
                continue
            found[kind] = (file, read_only_query(read_query(file), file))
        return found


def read_query(file: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: cannot read the query file "
                         f"({getattr(exc, 'strerror', None) or exc})", file=file) from None


def display_url(raw: str) -> str:
    """The warehouse as messages name it: no password, no query string (which may hold
    credentials of some dialects)."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        return "(unparsable ESD_WAREHOUSE_URL)"
    return url.set(query={}).render_as_string(hide_password=True)


class Warehouse:
    """One warehouse: a SQLAlchemy engine that connects on first use. `requests` counts
    the queries run, as the HTTP sources count requests (esd coverage)."""

    system = "Warehouse"

    def __init__(self, raw_url: str, read_only: bool = True) -> None:
        self.label = display_url(raw_url)
        self.requests = 0
        try:
            url = make_url(raw_url)
        except (ArgumentError, ValueError):
            raise InputError(f"{URL_VARIABLE} is not a SQLAlchemy URL (for example "
                             "duckdb:///warehouse.duckdb or postgresql://user@host/db)",
                             field=URL_VARIABLE) from None
        self._secrets = [s for s in (url.password, *map(str, url.query.values())) if s]
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")  # esd ships psycopg 3
        try:
            self.engine = create_engine(url, poolclass=NullPool,
                                        connect_args=_connect_args(url, read_only))
        except NoSuchModuleError:
            raise InputError(f"{URL_VARIABLE}: no SQLAlchemy dialect for "
                             f"{url.drivername!r} is installed (pip install "
                             f"{DIALECT_PACKAGES})", field=URL_VARIABLE) from None
        except ImportError as exc:
            raise InputError(f"{URL_VARIABLE}: the driver for {url.drivername!r} is not "
                             f"installed ({exc})", field=URL_VARIABLE) from None
        statements = SESSION.get(self.engine.dialect.name, []) + (
            READ_ONLY.get(self.engine.dialect.name, []) if read_only else [])
        event.listen(self.engine, "connect", _session(statements, self.engine.dialect.name))

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        try:
            connection = self.engine.connect()
        except SQLAlchemyError as exc:
            raise self.unreachable(exc) from None
        with connection:
            yield connection

    @contextmanager
    def query(self, file: str, sql: str, params: Mapping[str, Any], batch_size: int,
              ) -> Iterator[tuple[list[str], Iterator[Any]]]:
        """One query's column names and its rows, fetched `batch_size` at a time."""
        self.requests += 1
        with self.connect() as conn:
            try:
                result = conn.execution_options(stream_results=True, yield_per=batch_size
                                                ).execute(text(sql), dict(params))
            except DBAPIError as exc:
                raise self.query_failed(exc, file) from None
            yield list(result.keys()), self._rows(result, file, batch_size)

    def _rows(self, result: Any, file: str, batch_size: int) -> Iterator[Any]:
        # fetchmany, not fetchone: a driver without server-side cursors (DuckDB) would
        # otherwise be asked once per row.
        try:
            for batch in result.partitions(batch_size):
                yield from batch
        except DBAPIError as exc:  # the connection dropped while streaming, say
            raise self.query_failed(exc, file) from None

    def scrub(self, exc: BaseException) -> str:
        """The driver's first line of `exc`, with no credential in it."""
        cause = getattr(exc, "orig", None) or exc
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        for value in self._secrets:
            first = first.replace(value, "***")
        return redact_text(first)[:300]

    def unreachable(self, exc: BaseException) -> SourceError:
        why = self.scrub(exc)
        cls = CredentialsRejected if any(w in why.lower() for w in _AUTH_WORDS) else Unreachable
        return cls(f"Warehouse {self.label}: cannot connect: {why}", source="warehouse")

    def query_failed(self, exc: DBAPIError, file: str) -> Exception:
        """A query the warehouse refused is the query file's fault (exit 2); a connection
        lost or a server failing on the way is the source's (exit 4)."""
        if exc.connection_invalidated or type(exc).__name__ in ("OperationalError",
                                                                "InterfaceError"):
            return SourceError(f"Warehouse {self.label}: {file}: the query failed: "
                               f"{self.scrub(exc)}", source="warehouse", file=file)
        return InputError(f"{file}: the warehouse refused the query: {self.scrub(exc)}",
                          file=file)

    def close(self) -> None:
        self.engine.dispose()


def _connect_args(url: URL, read_only: bool) -> dict[str, Any]:
    # An in-memory DuckDB (reading Parquet or CSV files by path) holds nothing to protect,
    # and DuckDB cannot open one read-only.
    if url.get_backend_name() == "duckdb" and read_only and url.database not in (
            None, "", ":memory:"):
        return {"read_only": True}
    return {}


def _session(statements: list[str], dialect: str) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()
        if dialect == "postgresql":
            dbapi_connection.commit()  # so the next transaction starts read-only
    return on_connect


def open_source(cfg: WarehouseConfig) -> Warehouse:
    return Warehouse(cfg.url.get_secret_value())


def params_for(window: Window) -> dict[str, Any]:
    """The bind parameters every query may use (contract §3 windows, UTC)."""
    return {"window_start": window.start, "window_end": window.end,
            "lookback_start": lookback_start(window)}


def fetch(source: Warehouse, cfg: WarehouseConfig, kind: str, window: Window,
          known: Collection[str] | None = None) -> Pulled | None:
    """One record kind's rows as records (None when no query is configured for it).
    Usage events outside the window and stakeholder changes outside the look-back are
    left out (a query need not filter); records of no known account are dropped and
    counted; a bad row or a missing column is exit 2 naming file, row and column."""
    queries = cfg.queries()
    if kind not in queries:
        return None
    file, sql = queries[kind]
    model, key, label = KINDS[kind]
    params = params_for(window)
    keep = {"usage_events": Window(start=window.start, end=window.end),
            "stakeholder_changes": Window(start=params["lookback_start"], end=window.end),
            }.get(kind)
    pulled: Pulled = Pulled()
    first_row: dict[str, int] = {}
    with source.query(file, sql, params, cfg.batch_size) as (columns, rows):
        if problems := column_problems(model, columns, label):
            raise InputError(f"{file}: " + "; ".join(problems), [f"{file}: {p}" for p in
                                                                problems], file=file)
        reader = RowReader(model, columns, file, key)
        for number, row in enumerate(rows, 1):
            record = reader.read(number, row)
            if record is None:
                continue
            if keep is not None and record.occurred_at not in keep:
                continue
            if kind == "accounts" or kind == "health":
                ident = record.id if kind == "accounts" else record.account_id
                if ident in first_row:
                    reader.problems.append(f"{file}: row {number}: column {key}: {ident} "
                                           f"again (first in row {first_row[ident]})")
                    continue
                first_row[ident] = number
            if kind != "accounts" and known is not None and record.account_id not in known:
                pulled.unmapped += 1
                continue
            pulled.records.append(record)
        if reader.problems:
            lines = reader.summary()
            raise InputError("bad rows from the warehouse:\n  " + "\n  ".join(lines), lines,
                             file=file)
    return pulled

