"""Read one window from the live systems into a Portfolio (contract §8).

Every credential (and, from a warehouse, every query file) is checked before the first
request; then the usage source's accounts (which define the known account ids), Gong's
calls, the usage source's usage events, stakeholder changes and (when configured)
health, and the chosen ticket system's tickets. The usage source is Gainsight or a SQL
warehouse (ESD_USAGE_SOURCE). Records that map to no known account are dropped and counted. A
source that fails after its retries raises SourceError (exit 4): nothing is built from
partial data.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from esd.config import http_settings, ticket_system, usage_source
from esd.connectors import (
    gainsight,
    gainsight_health,
    gong,
    helpscout,
    intercom,
    warehouse,
    warehouse_check,
    zendesk,
)
from esd.connectors.base import Pulled, lookback_start
from esd.errors import SourceError
from esd.models import Portfolio, Window

TICKET_CONNECTORS = {  # ESD_TICKET_SOURCE -> (module, its config, the name users see)
    "zendesk": (zendesk, zendesk.ZendeskConfig, "Zendesk"),
    "intercom": (intercom, intercom.IntercomConfig, "Intercom"),
    "helpscout": (helpscout, helpscout.HelpScoutConfig, "Help Scout"),
}


@dataclass
class Health:
    """One source's state for `esd coverage` and the diagnostics."""

    system: str
    records: int = 0  # in the window (accounts: all)
    unmapped: int = 0
    requests: int = 0
    error: str | None = None
    reachable: bool = True
    authorised: bool = True

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class UsageReads:
    """The usage source's part of a pull: how to open it, and how to read each record
    kind it serves (`kinds`, in order; accounts first) under the names users see."""

    open: Callable[[], Any]
    read: Callable[[Any, str, Window, Collection[str] | None], Any]
    kinds: dict[str, str]  # kind -> the step's name in `esd coverage` and diagnostics
    http: bool = True  # an HTTP source: takes esd.toml [http]


def usage_reads(env: Mapping[str, str], toml: Mapping[str, Any]) -> UsageReads:
    """Gainsight or the warehouse, its settings read (and the warehouse's query files
    checked) before anything connects."""
    if usage_source(env, toml) == "warehouse":
        wh = warehouse.WarehouseConfig.from_env(env, toml.get("warehouse", {}))
        queries = wh.queries()
        names = {"accounts": "accounts", "usage_events": "usage events",
                 "stakeholder_changes": "stakeholder changes", "health": "health"}
        return UsageReads(
            open=lambda: warehouse.open_source(wh),
            read=lambda src, kind, window, known: warehouse.fetch(src, wh, kind, window, known),
            kinds={k: f"Warehouse {v}" for k, v in names.items() if k in queries}, http=False)
    cfg = gainsight.GainsightConfig.from_env(env, toml.get("gainsight", {}))

    def read(gs: Any, kind: str, window: Window, known: Collection[str] | None) -> Any:
        lookback = Window(start=lookback_start(window), end=window.end)
        return {
            "accounts": lambda: gainsight.fetch_accounts(gs, cfg),
            "usage_events": lambda: gainsight.fetch_usage(gs, cfg, window, known),
            "stakeholder_changes": lambda: gainsight.fetch_stakeholder_changes(
                gs, cfg, lookback, known),
            "health": lambda: gainsight_health.fetch_health(gs, cfg, known),
        }[kind]()

    kinds = {"accounts": "Gainsight accounts", "usage_events": "Gainsight usage anomalies",
             "stakeholder_changes": "Gainsight stakeholder changes"}
    if cfg.health_object:  # off by default: no entry in the source health either
        kinds["health"] = "Gainsight health"
    return UsageReads(open=lambda: gainsight.open_source(cfg), read=read, kinds=kinds)


@dataclass
class LivePull:
    portfolio: Portfolio
    health: list[Health] = field(default_factory=list)


def pull(env: Mapping[str, str], toml: Mapping[str, Any], window: Window,
         on_source: Callable[[str], None] | None = None, keep_going: bool = False) -> LivePull:
    """Everything the window needs from the live systems.

    With `keep_going` (for `esd coverage`), a failing source is recorded in its Health
    and the pull goes on; otherwise its SourceError propagates.
    """
    usage_source(env, toml)
    tickets_name = ticket_system(env, toml)
    # Every credential first, before any request (missing ones are exit 2).
    usage = usage_reads(env, toml)
    gong_cfg = gong.GongConfig.from_env(env, toml.get("gong", {}))
    ticket_module, ticket_cfg, ticket_label = None, None, ""
    if tickets_name != "none":
        ticket_module, config_cls, ticket_label = TICKET_CONNECTORS[tickets_name]
        ticket_cfg = config_cls.from_env(env, toml.get(tickets_name, {}))
    http = http_settings(toml)
    health: list[Health] = []

    def step(name: str, source, fetch: Callable[[], Any]) -> Any:
        if on_source:
            on_source(name)
        entry = Health(name)
        health.append(entry)
        sent_before = source.requests  # one Source may serve several steps (Gainsight)
        try:
            result = fetch()
        except SourceError as exc:
            entry.error = str(exc)
            entry.reachable, entry.authorised = exc.reachable, exc.authorised
            if not keep_going:
                raise
            return None
        finally:
            entry.requests = source.requests - sent_before
        if isinstance(result, Pulled):
            entry.records, entry.unmapped = len(result.records), result.unmapped
        return result

    def read(kind: str, known: Collection[str] | None = None) -> Any:
        if kind not in usage.kinds:
            return None
        return step(usage.kinds[kind], us, lambda: usage.read(us, kind, window, known))

    us = usage.open()
    gong_source = gong.open_source(gong_cfg)
    ticket_source = ticket_module.open_source(ticket_cfg) if ticket_module else None
    for source in (us if usage.http else None, gong_source, ticket_source):
        if source is not None:
            http.apply(source)
    try:
        accounts = read("accounts") or Pulled()
        known = {a.id for a in accounts.records}
        calls = step("Gong calls", gong_source,
                     lambda: gong.fetch_calls(gong_source, gong_cfg, window, known)) or Pulled()
        usage_events = read("usage_events", known) or Pulled()
        changes = read("stakeholder_changes", known)
        account_health = read("health", known)
        tickets = Pulled()
        if ticket_source is not None:
            tickets = step(f"{ticket_label} tickets", ticket_source,
                           lambda: ticket_module.fetch_tickets(
                               ticket_source, ticket_cfg, window, known)) or Pulled()
    finally:
        for source in (us, gong_source, ticket_source):
            if source is not None:
                source.close()
    portfolio = Portfolio(
        accounts=accounts.records,
        calls=calls.records,
        usage_events=usage_events.records,
        tickets=tickets.records,
        stakeholder_changes=changes.records if isinstance(changes, Pulled) else None,
        health=account_health.records if isinstance(account_health, Pulled) else None,
        unmapped={h.system: h.unmapped for h in health if h.unmapped},
        ticket_source=tickets_name,
    )
    return LivePull(portfolio=portfolio, health=health)


def gainsight_mapping_problems(env: Mapping[str, str], toml: Mapping[str, Any]) -> list[str]:
    """What the instance lacks of the configured Gainsight objects and fields (describe
    API), for `esd check`. Every Gainsight instance names them its own way."""
    cfg = gainsight.GainsightConfig.from_env(env, toml.get("gainsight", {}))
    source = gainsight.open_source(cfg)
    try:
        return gainsight.describe_problems(source, cfg)
    finally:
        source.close()


def warehouse_problems(env: Mapping[str, str], toml: Mapping[str, Any], window: Window,
                       ) -> tuple[int, list[tuple[str, int, str]]]:
    """How many queries esd.toml [warehouse] names, and (file, line, message) per
    problem of them, checked against the warehouse itself (no row read): `esd check`."""
    cfg = warehouse.WarehouseConfig.from_env(env, toml.get("warehouse", {}))
    named = sum(1 for kind in warehouse.KINDS if getattr(cfg, kind))
    return named, warehouse_check.check_queries(cfg, window)
