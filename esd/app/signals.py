"""`--signals-table`: where a run's signals go back out to the warehouse (contract §8).

`esd run` writes them to the table (esd.connectors.warehouse_signals); `esd dry-run`
never writes anywhere but its --out folder, so there it writes the rows it would
append as `signals-table.csv` beside the digests, for a look before the first real run.
"""

from __future__ import annotations

from dataclasses import dataclass

from esd.app.settings import Settings
from esd.connectors.base import secret
from esd.errors import InputError
from esd.models import RunResult

# The warehouse modules load SQLAlchemy (a third of a small dry run's start-up): they are
# imported only when a signals table is named.

PREVIEW = "signals-table.csv"


@dataclass
class SignalsTarget:
    table: str
    url: str | None  # None for a dry run, which never connects

    def publish(self, result: RunResult) -> int:
        from esd.connectors.warehouse_signals import publish

        return publish(self.url, self.table, result)


def target(settings: Settings, flag: str | None, writes: bool) -> SignalsTarget | None:
    """The table of --signals-table (else `[warehouse] signals_table`), checked before
    the run reads anything: the name, and for a run that `writes`, ESD_WAREHOUSE_URL."""
    section = settings.toml.get("warehouse", {})
    name = flag or (section.get("signals_table") if isinstance(section, dict) else None)
    if not name:
        return None
    from esd.connectors.warehouse import URL_VARIABLE
    from esd.connectors.warehouse_signals import signals_table

    if not isinstance(name, str):
        raise InputError("esd.toml [warehouse]: signals_table: expected a table name",
                         file="esd.toml", field="signals_table")
    signals_table(name)  # a bad name is exit 2 now, not after the run
    url = secret(settings.env, URL_VARIABLE, "Signals table").get_secret_value() \
        if writes else None
    return SignalsTarget(name, url)


def preview(result: RunResult) -> str:
    from esd.connectors.warehouse_signals import preview_csv, signal_rows

    return preview_csv(signal_rows(result))
