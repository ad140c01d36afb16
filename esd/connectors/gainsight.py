"""Gainsight CS (NXT): accounts (Company), usage anomalies and stakeholder changes as
records (the optional health object: gainsight_health.py).

Settings live in gainsight_config.py, the HTTP answers, the offset-paged object query
and the describe API (`esd check`) in gainsight_api.py, value conversions in
gainsight_rows.py. Every object and field name is overridable in esd.toml (contract
§8). Quirks: ../shared/api-notes.md §2.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from functools import partial
from typing import Any

from esd.connectors.base import Pulled
from esd.connectors.gainsight_api import (
    NoObject,
    describe_problems,
    no_object,
    open_source,
    query_rows,
)
from esd.connectors.gainsight_config import (
    ACCOUNT_FIELDS,
    FIELD_TABLES,
    HEALTH_FIELDS,
    STAKEHOLDER_FIELDS,
    USAGE_FIELDS,
    GainsightConfig,
)
from esd.connectors.gainsight_rows import BAD_VALUE, field_value, flag, moment, number, why
from esd.connectors.http import Source
from esd.models import Account, StakeholderChange, UsageEvent, Window

# The connector's public face: what live.py and `esd check` call, and the defaults.
__all__ = ["ACCOUNT_FIELDS", "FIELD_TABLES", "HEALTH_FIELDS", "STAKEHOLDER_FIELDS",
           "USAGE_FIELDS", "GainsightConfig", "describe_problems", "fetch_accounts",
           "fetch_stakeholder_changes", "fetch_usage", "open_source", "to_account",
           "to_change", "to_usage"]

log = logging.getLogger("esd.gainsight")


def fetch_accounts(source: Source, cfg: GainsightConfig) -> Pulled[Account]:
    """Every company. A row without the id field, or that is no valid Account, is
    skipped and counted as `unmapped` (and logged with its reason)."""
    try:
        rows = query_rows(source, cfg, cfg.account_object, cfg.account_fields)
    except NoObject:
        raise no_object("account_object", cfg.account_object) from None
    pulled: Pulled[Account] = Pulled()
    seen: set[str] = set()
    for row in rows:
        try:
            account = to_account(row, cfg)
        except BAD_VALUE as exc:
            log.warning("Gainsight: skipping a %s row: %s", cfg.account_object, why(exc))
            account = None
        if account is None:
            pulled.unmapped += 1
        elif account.id in seen:
            log.warning("Gainsight: %s %s appears twice; keeping the first",
                        cfg.account_object, account.id)
        else:
            seen.add(account.id)
            pulled.records.append(account)
    return pulled


def fetch_usage(source: Source, cfg: GainsightConfig, window: Window,
                known_accounts: Collection[str]) -> Pulled[UsageEvent]:
    """Usage anomalies inside the window; those of unknown accounts dropped and counted."""
    try:
        rows = query_rows(source, cfg, cfg.usage_object, cfg.usage_fields, window)
    except NoObject:
        raise no_object("usage_object", cfg.usage_object) from None
    return _collect(rows, cfg.usage_fields, partial(to_usage, cfg=cfg), window,
                    known_accounts, cfg.usage_object)


def fetch_stakeholder_changes(source: Source, cfg: GainsightConfig, lookback: Window,
                              known_accounts: Collection[str]
                              ) -> Pulled[StakeholderChange] | None:
    """Changes inside the look-back, or None when there is no stakeholder object
    (configured as none, or the instance answers that it does not exist)."""
    if not cfg.stakeholder_object:
        return None
    try:
        rows = query_rows(source, cfg, cfg.stakeholder_object, cfg.stakeholder_fields, lookback)
    except NoObject:
        log.warning("Gainsight: the instance has no object %s: the champion guard cannot run",
                    cfg.stakeholder_object)
        return None
    return _collect(rows, cfg.stakeholder_fields, partial(to_change, cfg=cfg), lookback,
                    known_accounts, cfg.stakeholder_object)


def _collect(rows: list[dict], fields: Mapping[str, str], to_record: Callable[[dict], Any],
             window: Window, known: Collection[str], obj: str) -> Pulled:
    """The exact window; unknown accounts counted; rows that fit no record logged."""
    pulled: Pulled = Pulled()
    for row in rows:
        try:
            if field_value(row, fields, "occurred_at", moment) not in window:
                continue
            if field_value(row, fields, "account_id") not in known:
                pulled.unmapped += 1
                continue
            pulled.records.append(to_record(row))
        except BAD_VALUE as exc:
            log.warning("Gainsight: skipping a %s row: %s", obj, why(exc))
    return pulled


# --- rows to records (flat keys: lookups come back as "Csm__gr.Email") ------------------


def to_account(row: Mapping[str, Any], cfg: GainsightConfig) -> Account | None:
    """None when the row has no account id. A blank ARR counts as 0."""
    get = partial(field_value, row, cfg.account_fields)
    if not (account_id := get("id")):
        return None
    try:
        return Account(id=account_id, name=get("name"), arr=get("arr", number) or 0.0,
                       segment=get("segment"), tier=get("tier") or "",
                       owner_email=get("owner_email"), owner_name=get("owner_name"),
                       renewal_date=get("renewal_date", lambda v: moment(v).date()))
    except BAD_VALUE as exc:
        raise ValueError(f"{account_id}: {why(exc)}") from None


def to_usage(row: Mapping[str, Any], cfg: GainsightConfig) -> UsageEvent:
    get = partial(field_value, row, cfg.usage_fields)
    return UsageEvent(account_id=get("account_id"), event_type=get("event_type"),
                      metric_name=get("metric_name"), value_current=get("value_current", number),
                      value_baseline=get("value_baseline", number),
                      delta_pct=get("delta_pct", number), occurred_at=get("occurred_at", moment),
                      feature=get("feature"), event_id=get("event_id"))


def to_change(row: Mapping[str, Any], cfg: GainsightConfig) -> StakeholderChange:
    """Change types may be labels: "New Hire" is new_hire."""
    get = partial(field_value, row, cfg.stakeholder_fields)
    kind = get("change_type")
    return StakeholderChange(
        account_id=get("account_id"), role=get("role"), is_champion=get("is_champion", flag),
        change_type=kind.lower().replace(" ", "_").replace("-", "_") if kind else None,
        occurred_at=get("occurred_at", moment))
