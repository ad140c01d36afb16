"""Read the input files of contract §2 from a folder (`--input-dir`).

Every problem is reported as `file: record [i] (id): field f: message` and raised as
one InputError (exit 2), so a broken export is fixed in one pass.
"""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, TypeAdapter, ValidationError

from esd.errors import InputError
from esd.models import (
    Account,
    Call,
    HealthRecord,
    Portfolio,
    StakeholderChange,
    Ticket,
    UsageEvent,
)

ACCOUNTS = "accounts.json"
CALLS = "calls.json"
USAGE = "usage_events.json"
TICKETS = "support_tickets.json"
STAKEHOLDERS = "stakeholder_changes.json"
HEALTH = "health.json"

# file -> (record model, required, the field that identifies a record in messages)
FILES: dict[str, tuple[type[BaseModel], bool, str]] = {
    ACCOUNTS: (Account, True, "id"),
    CALLS: (Call, True, "call_id"),
    USAGE: (UsageEvent, True, "event_id"),
    TICKETS: (Ticket, True, "ticket_id"),
    STAKEHOLDERS: (StakeholderChange, False, "account_id"),
    HEALTH: (HealthRecord, False, "account_id"),
}
# How deep each file's JSON may nest: the record shape (the array, a record, a list
# field such as `tags` or `transcript`, an item of it), and at least one level more so an
# unknown field (ignored) may hold a flat object or list. Deeper is bad input (§2).
MAX_DEPTH = {ACCOUNTS: 3, CALLS: 4, USAGE: 3, TICKETS: 3, STAKEHOLDERS: 3, HEALTH: 3}
MAX_MESSAGES = 25
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},:]')
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_PAIR = re.compile(rb"\[\]|\{\}")
_ADAPTERS = {name: TypeAdapter(list[model]) for name, (model, _, _) in FILES.items()}


class Found(NamedTuple):
    """One problem of the input files: its line of the message, and where it is."""

    text: str
    file: Path
    record: int | None = None
    field: str | None = None


def load_portfolio(directory: Path) -> Portfolio:
    """The portfolio in `directory`, or InputError naming every bad record and field."""
    if not directory.is_dir():
        raise InputError(f"{directory}: input folder not found", file=str(directory))
    problems: list[Found] = []
    loaded: dict[str, list[Any] | None] = {}
    for name, (_, required, key) in FILES.items():
        path = directory / name
        if not path.is_file():
            if required:
                problems.append(Found(f"{path}: required input file not found", path))
            loaded[name] = None
            continue
        loaded[name] = _load(path, _ADAPTERS[name], key, problems)
    if not problems:
        problems.extend(_cross_check(directory, loaded))
    if problems:
        lines = [p.text for p in problems]
        shown = lines[:MAX_MESSAGES]
        if len(lines) > MAX_MESSAGES:
            shown.append(f"... and {len(lines) - MAX_MESSAGES} more problems")
        first = problems[0]
        raise InputError("bad input:\n  " + "\n  ".join(shown), lines, file=str(first.file),
                         record=first.record, field=first.field)
    tickets = loaded[TICKETS] or []
    for i, ticket in enumerate(tickets):
        if not ticket.ticket_id:  # a stable id for evidence and run.json
            ticket.ticket_id = f"{TICKETS}[{i}]"
    return Portfolio(
        accounts=loaded[ACCOUNTS] or [],
        calls=loaded[CALLS] or [],
        usage_events=loaded[USAGE] or [],
        tickets=tickets,
        stakeholder_changes=loaded[STAKEHOLDERS],
        health=loaded[HEALTH],
    )


def _load(path: Path, adapter: TypeAdapter, key: str, problems: list[Found],
          ) -> list[Any] | None:
    raw = path.read_bytes()
    if problem := _shape_problem(path, raw):
        problems.append(problem)
        return None
    # Validation builds a file's records and no reference cycles: with the cycle
    # collector on, the growing records set off full collections over everything built
    # so far (seconds at 10,000 accounts). Reference counting still frees memory.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return adapter.validate_json(raw)
    except ValidationError as exc:
        records = _raw_records(raw)
        for err in exc.errors(include_url=False):
            problems.append(_describe(path, err, records, key))
        return None
    finally:
        if enabled:
            gc.enable()


def _shape_problem(path: Path, raw: bytes) -> Found | None:
    """What makes `raw` unreadable before any parsing: no bytes, a byte-order mark, or
    nesting deeper than the file's records allow (which would also exhaust a parser)."""
    if not raw or raw.isspace():  # `not raw.strip()` without copying the file
        return Found(f"{path}: empty file (expected a JSON array of records)", path)
    if raw.startswith(_BOMS):
        return Found(f"{path}: starts with a byte-order mark; save it as UTF-8 without BOM",
                     path)
    limit = MAX_DEPTH[path.name]
    if _shallow(raw, limit):
        return None
    depth, record, key, last = 0, 0, None, b""
    for token in _TOKEN.finditer(raw):
        t = token.group()
        if t in (b"[", b"{"):
            depth += 1
            if depth > limit:
                field = json.loads(key) if key else None
                where = f" field {field}:" if field else ""
                return Found(f"{path}: record [{record}]:{where} nested deeper than the "
                             f"record shape allows (more than {limit} levels)",
                             path, record, field)
            if depth == 2:
                key = None
        elif t in (b"]", b"}"):
            depth -= 1
        elif t == b"," and depth == 1:
            record += 1
        elif t == b":" and depth == 2:
            key = last
        last = t
    return None


def _shallow(raw: bytes, limit: int) -> bool:
    """True when the file's brackets, with everything else dropped, nest `limit` levels at
    most: `limit` passes of removing adjacent `[]`/`{}` pairs leave nothing (each pass
    peels one level). A few milliseconds where the exact token scan below takes seconds
    on a large file; brackets inside strings can only make this say False, and then the
    exact scan decides."""
    brackets = raw.translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            break
        brackets = _PAIR.sub(b"", brackets)
    return not brackets


def _raw_records(raw: bytes) -> list[Any]:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    return data if isinstance(data, list) else []


def _describe(path: Path, err: dict[str, Any], records: list[Any], key: str) -> Found:
    loc = list(err["loc"])
    if err["type"] == "json_invalid":
        return Found(f"{path}: malformed JSON: {err['msg'].removeprefix('Invalid JSON: ')}",
                     path)
    if not loc:
        return Found(f"{path}: expected a JSON array of records ({err['msg']})", path)
    index = loc.pop(0)
    record = index if isinstance(index, int) else None
    where = f"{path}: record [{index}]{_identity(records, index, key)}"
    if not loc:
        return Found(f"{where}: {err['msg']}", path, record)
    field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    if err["type"] == "missing":
        return Found(f"{where}: field {field}: missing", path, record, field)
    return Found(f"{where}: field {field}: {err['msg']} "
                 f"(got {json.dumps(err.get('input'), default=str)[:60]})", path, record, field)


def _identity(records: list[Any], index: Any, key: str) -> str:
    if isinstance(index, int) and 0 <= index < len(records) and isinstance(records[index], dict):
        value = records[index].get(key)
        if isinstance(value, str | int) and key != "account_id":
            return f" ({key} {' '.join(str(value).split())[:60]})"
    return ""


def _cross_check(directory: Path, loaded: dict[str, list[Any] | None]) -> list[Found]:
    """Account ids: unique in accounts.json and known everywhere else."""
    problems = []
    accounts = loaded[ACCOUNTS] or []
    if not accounts:
        problems.append(Found(f"{directory / ACCOUNTS}: no accounts (the file holds an "
                              "empty array)", directory / ACCOUNTS))
    seen: dict[str, int] = {}
    for i, account in enumerate(accounts):
        if account.id in seen:
            problems.append(Found(f"{directory / ACCOUNTS}: record [{i}] (id {account.id}): "
                                  f"field id: duplicate of record [{seen[account.id]}]",
                                  directory / ACCOUNTS, i, "id"))
        seen.setdefault(account.id, i)
    for name in (CALLS, USAGE, TICKETS, STAKEHOLDERS, HEALTH):
        key = FILES[name][2]
        for i, record in enumerate(loaded[name] or []):
            if record.account_id not in seen:
                ident = getattr(record, key, None) if key != "account_id" else None
                label = f" ({key} {ident})" if ident else ""
                problems.append(Found(f"{directory / name}: record [{i}]{label}: field "
                                      f'account_id: unknown account "{record.account_id}" '
                                      f"(not in {ACCOUNTS})", directory / name, i, "account_id"))
    first: dict[str, int] = {}
    for i, record in enumerate(loaded[HEALTH] or []):
        if record.account_id in first:
            problems.append(Found(f"{directory / HEALTH}: record [{i}]: field account_id: "
                                  f"duplicate of record [{first[record.account_id]}]",
                                  directory / HEALTH, i, "account_id"))
        first.setdefault(record.account_id, i)
    return problems


def portfolio_files(portfolio: Portfolio) -> dict[str, str]:
    """The portfolio as the input files of contract §2 (what `esd pull` writes), so any
    live run can be replayed with --input-dir. No stakeholder file when the source had
    none, so a replay says the champion guard could not run, as the live run did."""
    files = {
        ACCOUNTS: portfolio.accounts,
        CALLS: portfolio.calls,
        USAGE: portfolio.usage_events,
        TICKETS: portfolio.tickets,
    }
    if portfolio.stakeholder_changes is not None:
        files[STAKEHOLDERS] = portfolio.stakeholder_changes
    if portfolio.health is not None:
        files[HEALTH] = portfolio.health
    out = {}
    for name, records in files.items():
        data = _ADAPTERS[name].dump_python(records, mode="json")
        out[name] = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    return out
