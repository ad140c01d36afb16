"""Tiny, explicit portfolio builders for tests: each test states the records it needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AS_OF = "2026-11-23"
IN_WINDOW = "2026-11-18T15:00:00Z"
CSM = {"name": "Ana Ruiz", "email": "ana.ruiz@lumen.example.com", "is_customer": False,
       "title": "CSM"}
CUSTOMER = {"name": "Dana Lee", "email": "dana@northwind.example", "is_customer": True,
            "title": "VP IT"}


def account(id: str, **kw: Any) -> dict[str, Any]:
    base = {"id": id, "name": f"Account {id}", "arr": 100_000.0, "segment": "enterprise",
            "tier": "business", "owner_email": "ana.ruiz@lumen.example.com",
            "renewal_date": "2027-06-30"}
    return base | kw


def call(account_id: str, call_id: str, lines: list[tuple[str, str]], **kw: Any) -> dict:
    """A call whose transcript is (speaker name, text) pairs; Ana is the CSM, Dana the
    customer, unless `attendees` says otherwise."""
    base = {"account_id": account_id, "call_id": call_id, "occurred_at": IN_WINDOW,
            "attendees": [CSM, CUSTOMER],
            "transcript": [{"speaker": s, "text": t} for s, t in lines]}
    return base | kw


def event(account_id: str, event_type: str, metric: str, delta: float | None, **kw) -> dict:
    base = {"account_id": account_id, "event_type": event_type, "metric_name": metric,
            "value_current": 10.0, "value_baseline": 5.0, "delta_pct": delta,
            "occurred_at": IN_WINDOW}
    return base | kw


def ticket(account_id: str, subject: str, body: str = "", tags=(), **kw) -> dict:
    base = {"account_id": account_id, "ticket_id": f"T-{abs(hash(subject)) % 9999}",
            "subject": subject, "body_summary": body, "tags": list(tags),
            "opened_at": IN_WINDOW}
    return base | kw


def departure(account_id: str, when: str, champion: bool = True) -> dict:
    return {"account_id": account_id, "change_type": "departure", "role": "VP Operations",
            "is_champion": champion, "occurred_at": when}


def write_portfolio(directory: Path, accounts, calls=(), usage=(), tickets=(),
                    stakeholders=None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    files = {"accounts.json": accounts, "calls.json": list(calls),
             "usage_events.json": list(usage), "support_tickets.json": list(tickets)}
    if stakeholders is not None:
        files["stakeholder_changes.json"] = list(stakeholders)
    for name, records in files.items():
        (directory / name).write_text(json.dumps(records, indent=1))
    return directory
