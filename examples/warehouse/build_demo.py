"""Load the demo portfolio's accounts, usage events, stakeholder changes and health into
a warehouse, for a warehouse run of esd (contract §8) over the same data as
`esd dry-run --input-dir examples/portfolio`.

    python examples/warehouse/build_demo.py                    # examples/warehouse/demo.duckdb
    python examples/warehouse/build_demo.py postgresql://esd@localhost/analytics --schema esd_demo

The tables use the column types a warehouse would: DECIMAL money and values, DOUBLE
ratios, DATE renewals, TIMESTAMP WITH TIME ZONE events, BOOLEAN flags, and stakeholder
changes dated by ISO 8601 text, so the demo shows every column form esd reads. The
queries in sql/ read them (esd.toml beside this file names them). Calls still come from
Gong and tickets from the ticket system.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    create_engine,
)
from sqlalchemy.schema import CreateSchema

HERE = Path(__file__).resolve().parent
PORTFOLIO = HERE.parent / "portfolio"
DEFAULT_URL = f"duckdb:///{HERE / 'demo.duckdb'}"


def tables(metadata: MetaData) -> dict[str, Table]:
    """One table per record kind, named as the JSON files are (without .json)."""
    def moment() -> Column:
        return Column("occurred_at", DateTime(timezone=True), nullable=False)

    return {t.name: t for t in (
        Table("accounts", metadata, Column("id", Text, primary_key=True),
              Column("name", Text), Column("arr", Numeric(14, 2)), Column("segment", Text),
              Column("tier", Text), Column("owner_email", Text), Column("owner_name", Text),
              Column("renewal_date", Date)),
        Table("usage_events", metadata, Column("event_id", Text), Column("account_id", Text),
              Column("event_type", Text), Column("metric_name", Text),
              Column("value_current", Numeric(18, 4)), Column("value_baseline", Numeric(18, 4)),
              Column("delta_pct", Double), Column("feature", Text), moment()),
        Table("stakeholder_changes", metadata, Column("account_id", Text),
              Column("change_type", Text), Column("role", Text), Column("is_champion", Boolean),
              Column("occurred_at", Text)),  # ISO 8601 text, as some exports keep dates
        Table("health", metadata, Column("account_id", Text), Column("dau_mau", Double),
              Column("feature_adoption", Double), Column("csat", Numeric(3, 1)),
              Column("open_escalations", Integer), Column("exec_access", Boolean),
              Column("champion_active", Boolean), Column("nps", Integer),
              Column("seats_used", Integer), Column("seats_licensed", Integer)),
    )}


def rows(table: Table, portfolio: Path) -> list[dict]:
    records = json.loads((portfolio / f"{table.name}.json").read_text(encoding="utf-8"))
    out = []
    for record in records:
        row = {}
        for column in table.columns:
            value = record.get(column.name)
            if isinstance(value, str) and isinstance(column.type, DateTime):
                value = datetime.fromisoformat(value)
            elif isinstance(value, str) and isinstance(column.type, Date):
                value = date.fromisoformat(value)
            row[column.name] = value
        out.append(row)
    return out


def build(url: str = DEFAULT_URL, portfolio: Path = PORTFOLIO, schema: str | None = None,
          ) -> dict[str, int]:
    """(Re)create the four tables at `url` (in `schema`) from `portfolio`'s JSON files;
    the row count of each."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url)
    metadata = MetaData(schema=schema)
    made = tables(metadata)
    counts = {}
    with engine.begin() as conn:
        if schema:
            conn.execute(CreateSchema(schema, if_not_exists=True))
        metadata.drop_all(conn)
        metadata.create_all(conn)
        for name, table in made.items():
            data = rows(table, portfolio)
            conn.execute(table.insert(), data)
            counts[name] = len(data)
    engine.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=DEFAULT_URL, help="SQLAlchemy URL "
                        "(default: a DuckDB file beside this script)")
    parser.add_argument("--schema", help="schema to create the tables in")
    parser.add_argument("--portfolio", type=Path, default=PORTFOLIO)
    args = parser.parse_args()
    counts = build(args.url, args.portfolio, args.schema)
    print(", ".join(f"{n} {name}" for name, n in counts.items()))


if __name__ == "__main__":
    main()
