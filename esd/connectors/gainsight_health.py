"""Gainsight's optional health object: one row per account as a HealthRecord (contract §9).

Off unless esd.toml names it (`[gainsight] health_object`, its fields in
`[gainsight.health_fields]`): instances keep health in a custom object or Scorecard facts
of their own naming. A null value stays None (the segment model re-weights it away);
numbers that come back as text are converted. A value outside contract §9's ranges (a
dau_mau of 1.4, stored as a percent) is a SourceError naming the object, the record and
the field: a wrong mapping is never turned into a health score.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError

from esd.connectors.base import Pulled
from esd.connectors.gainsight_api import NoObject, no_object, query_rows
from esd.connectors.gainsight_config import GainsightConfig
from esd.connectors.gainsight_rows import BAD_VALUE, field_value, flag, number
from esd.connectors.http import Source
from esd.errors import SourceError
from esd.models import HealthRecord

log = logging.getLogger("esd.gainsight")
COUNTS = ("open_escalations", "seats_used", "seats_licensed")
FLAGS = ("exec_access", "champion_active")


def fetch_health(source: Source, cfg: GainsightConfig,
                 known_accounts: Collection[str]) -> Pulled[HealthRecord] | None:
    """Every known account's health inputs, or None when no health object is configured.
    Rows of unknown accounts are dropped and counted; an account's later rows are logged
    and skipped (the first is kept, as for companies)."""
    if not cfg.health_object:
        return None
    try:
        rows = query_rows(source, cfg, cfg.health_object, cfg.health_fields)
    except NoObject:
        raise no_object("health_object", cfg.health_object) from None
    pulled: Pulled[HealthRecord] = Pulled()
    seen: set[str] = set()
    for row in rows:
        account_id = field_value(row, cfg.health_fields, "account_id")
        if account_id not in known_accounts:
            pulled.unmapped += 1
        elif account_id in seen:
            log.warning("Gainsight: %s has a second row for %s; keeping the first",
                        cfg.health_object, account_id)
        else:
            seen.add(account_id)
            pulled.records.append(to_health(row, cfg.health_fields, cfg.health_object))
    return pulled


def to_health(row: Mapping[str, Any], fields: Mapping[str, str], obj: str) -> HealthRecord:
    """One row as a HealthRecord, or SourceError naming the record and field."""
    values: dict[str, Any] = {"account_id": field_value(row, fields, "account_id")}
    try:
        for key in (k for k in fields if k != "account_id"):
            convert = _count if key in COUNTS else _bool if key in FLAGS else number
            values[key] = field_value(row, fields, key, convert)
        return HealthRecord.model_validate(values)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = str(err["loc"][0]) if err["loc"] else "account_id"
        why = f"field {key} ({fields.get(key, key)}): {err['msg']} (got {err['input']!r})"
    except BAD_VALUE as exc:
        why = str(exc)
    raise SourceError(f"Gainsight: {obj} record {values['account_id']}: {why}",
                      source="Gainsight", record=values["account_id"])


def _count(value: Any) -> int | None:
    """A whole number, also as 3.0 or "3" (Gainsight's NUMBER fields are decimals)."""
    amount = number(value)
    if amount is None:
        return None
    if not amount.is_integer():
        raise ValueError(f"not a whole number: {value!r}")
    return int(amount)


def _bool(value: Any) -> bool | None:
    return None if value is None or value == "" else flag(value)
