"""Read the input files of contract §2 from a folder (`--input-dir`).

Each record kind is one file, in one of three forms: `NAME.json` (a JSON array, read by
`jsonfiles`), `NAME.jsonl` or, for the flat kinds, `NAME.csv` (read as streams by
`flatfiles`). Two forms of one kind in a folder is bad input: esd never picks one.

Every problem is reported as `file: record [i] (id): field f: message` (`line n` for the
line forms, `column c` for a CSV) and raised as one InputError (exit 2), so a broken
export is fixed in one pass.

A caller that reads only part of each call (the rule extractor, through `slim`) gets
calls.json read a run of records at a time, each call slimmed as soon as it is valid,
so a 100,000-call week never sits in memory whole; any problem sends the file back to
the whole-file reader, so the messages stay those above.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, TypeAdapter

from esd.connectors.flatfiles import csv_rows, read_csv, read_jsonl
from esd.connectors.jsonfiles import Found, load_array, stream_array
from esd.errors import InputError
from esd.memory import no_cycle_collection
from esd.models import (
    Account,
    Call,
    HealthRecord,
    Portfolio,
    StakeholderChange,
    Ticket,
    UsageEvent,
)

TICKETS = "support_tickets.json"  # an id-less ticket's id names its record in it
FORMS = (".json", ".jsonl", ".csv")
MAX_MESSAGES = 25


class Kind(NamedTuple):
    """One record kind: its model, whether the folder must hold it, the field that
    identifies a record in messages, how deep its `.json` array may nest, and whether it
    is flat enough for a `.csv` form."""

    model: type[BaseModel]
    required: bool
    key: str
    depth: int
    csv: bool


# How deep each `.json` file may nest: the record shape (the array, a record, a list
# field such as `tags` or `transcript`, an item of it), and at least one level more so an
# unknown field (ignored) may hold a flat object or list. Deeper is bad input (§2).
# A `.jsonl` line holds one record: one level less.
KINDS: dict[str, Kind] = {
    "accounts": Kind(Account, True, "id", 3, True),
    "calls": Kind(Call, True, "call_id", 4, False),
    "usage_events": Kind(UsageEvent, True, "event_id", 3, True),
    "support_tickets": Kind(Ticket, True, "ticket_id", 3, True),
    "stakeholder_changes": Kind(StakeholderChange, False, "account_id", 3, True),
    "health": Kind(HealthRecord, False, "account_id", 3, True),
}
_ARRAYS = {stem: TypeAdapter(list[kind.model]) for stem, kind in KINDS.items()}
_RECORDS = {stem: TypeAdapter(kind.model) for stem, kind in KINDS.items()}


@dataclass
class InputFolder:
    """What `read_inputs` read: the portfolio, the file of each kind, and for the line
    forms the line each record starts on (messages name it)."""

    portfolio: Portfolio
    files: dict[str, Path]
    lines: dict[str, list[int]] = field(default_factory=dict)

    def where(self, stem: str, index: int) -> str:
        """`record [i]` of a `.json` file, `line n` of a `.jsonl` or `.csv` one."""
        lines = self.lines.get(stem)
        return f"line {lines[index]}" if lines is not None else f"record [{index}]"

    def word(self, stem: str) -> str:
        """What a message calls a record's field: a CSV file has columns."""
        return "column" if self.files[stem].suffix == ".csv" else "field"


Slim = Callable[[Call], Call]


def load_portfolio(directory: Path, slim: Slim | None = None) -> Portfolio:
    """The portfolio in `directory`, or InputError naming every bad record and field.
    `slim` is applied to every call as soon as it is read."""
    return read_inputs(directory, slim).portfolio


def read_inputs(directory: Path, slim: Slim | None = None) -> InputFolder:
    """The input files in `directory` and where each record came from, or InputError
    naming every bad file, record or line, and field. `slim`, when given, is applied to
    every call as soon as it is read, and only what it returns is kept."""
    if not directory.is_dir():
        raise InputError(f"{directory}: input folder not found", file=str(directory))
    problems: list[Found] = []
    # The portfolio is filled in once every file is read and cross-checked.
    folder = InputFolder(Portfolio(accounts=[], calls=[], usage_events=[], tickets=[]), {})
    loaded: dict[str, list[Any] | None] = {}
    for stem, kind in KINDS.items():
        path = _find(directory, stem, kind, problems)
        keep = slim if stem == "calls" else None
        loaded[stem] = None if path is None else _read(path, stem, folder, problems, keep)
        if path is not None:
            folder.files[stem] = path
    if not problems:
        problems.extend(_cross_check(folder, loaded))
    if problems:
        lines = [p.text for p in problems]
        shown = lines[:MAX_MESSAGES]
        if len(lines) > MAX_MESSAGES:
            shown.append(f"... and {len(lines) - MAX_MESSAGES} more problems")
        first = problems[0]
        raise InputError("bad input:\n  " + "\n  ".join(shown), lines, file=str(first.file),
                         record=first.record, field=first.field)
    for stem in ("calls", "accounts"):  # their problems can surface after loading
        records = loaded[stem] or []
        name, lines = str(folder.files.get(stem, "")), folder.lines.get(stem)
        for i, record in enumerate(records):
            record._origin = (name, i, lines[i] if lines is not None else None)
    tickets = loaded["support_tickets"] or []
    for i, ticket in enumerate(tickets):
        if not ticket.ticket_id:  # a stable id for evidence and run.json
            ticket.ticket_id = (f"{TICKETS}[{i}]" if "support_tickets" not in folder.lines
                                else f"{folder.files['support_tickets'].name}:"
                                     f"{folder.lines['support_tickets'][i]}")
    folder.portfolio = Portfolio(
        accounts=loaded["accounts"] or [],
        calls=loaded["calls"] or [],
        usage_events=loaded["usage_events"] or [],
        tickets=tickets,
        stakeholder_changes=loaded["stakeholder_changes"],
        health=loaded["health"],
    )
    return folder


def _find(directory: Path, stem: str, kind: Kind, problems: list[Found]) -> Path | None:
    """The one file of `stem` in `directory`: None when there is none (a problem if the
    kind is required) or when there are several (always a problem)."""
    present = [path for suffix in FORMS if (path := directory / f"{stem}{suffix}").is_file()]
    if not kind.csv and (directory / f"{stem}.csv") in present:
        problems.append(Found(f"{directory / stem}.csv: {stem} have no CSV form (their "
                              f"records nest); write {stem}.json or {stem}.jsonl",
                              directory / f"{stem}.csv"))
        return None
    if len(present) > 1:
        problems.append(Found(f"{' and '.join(map(str, present))}: two forms of {stem} in one "
                              "folder; keep one (esd reads one file per record kind)",
                              present[0]))
        return None
    if not present and kind.required:
        path = directory / f"{stem}.json"
        problems.append(Found(f"{path}: required input file not found", path))
    return present[0] if present else None


def _read(path: Path, stem: str, folder: InputFolder, problems: list[Found],
          keep: Slim | None = None) -> list[Any] | None:
    kind = KINDS[stem]
    try:
        if path.suffix == ".json":
            streamed = None if keep is None else stream_array(path, _ARRAYS[stem],
                                                              kind.depth, keep)
            if streamed is not None:
                return streamed
            whole = load_array(path, _ARRAYS[stem], kind.key, kind.depth, problems)
            return whole if keep is None or whole is None else [keep(r) for r in whole]
        before = len(problems)
        if path.suffix == ".jsonl":
            rows = read_jsonl(path, _RECORDS[stem], kind.key, kind.depth - 1, problems)
        else:
            rows = read_csv(path, kind.model, _RECORDS[stem], kind.key, problems)
        records, lines = [], []
        with no_cycle_collection():
            for line, record in rows:
                if len(problems) == before:  # once one line is bad, only report the rest
                    records.append(record if keep is None else keep(record))
                    lines.append(line)
    except OSError as exc:
        problems.append(Found(f"{path}: cannot be read ({exc.strerror or exc})", path))
        return None
    if len(problems) > before:
        return None
    folder.lines[stem] = lines
    return records


def _cross_check(folder: InputFolder, loaded: dict[str, list[Any] | None]) -> list[Found]:
    """Account ids: unique in the accounts file and known everywhere else."""
    problems = []
    accounts = loaded["accounts"] or []
    path = folder.files["accounts"]
    word = folder.word("accounts")
    if not accounts:
        holds = {".json": "an empty array", ".jsonl": "no records",
                 ".csv": "no rows below its header"}[path.suffix]
        problems.append(Found(f"{path}: no accounts (the file holds {holds})", path))
    seen: dict[str, int] = {}
    for i, account in enumerate(accounts):
        if account.id in seen:
            problems.append(Found(
                f"{path}: {folder.where('accounts', i)} (id {account.id}): {word} id: "
                f"duplicate of {folder.where('accounts', seen[account.id])}",
                path, _record(folder, "accounts", i), "id"))
        seen.setdefault(account.id, i)
    for stem in ("calls", "usage_events", "support_tickets", "stakeholder_changes", "health"):
        key = KINDS[stem].key
        for i, record in enumerate(loaded[stem] or []):
            if record.account_id not in seen:
                ident = getattr(record, key, None) if key != "account_id" else None
                label = f" ({key} {ident})" if ident else ""
                problems.append(Found(
                    f"{folder.files[stem]}: {folder.where(stem, i)}{label}: "
                    f"{folder.word(stem)} account_id: unknown account "
                    f'"{record.account_id}" (not in {path.name})', folder.files[stem],
                    _record(folder, stem, i), "account_id"))
    first: dict[str, int] = {}
    for i, record in enumerate(loaded["health"] or []):
        if record.account_id in first:
            problems.append(Found(
                f"{folder.files['health']}: {folder.where('health', i)}: "
                f"{folder.word('health')} account_id: duplicate of "
                f"{folder.where('health', first[record.account_id])}",
                folder.files["health"], _record(folder, "health", i), "account_id"))
        first.setdefault(record.account_id, i)
    return problems


def _record(folder: InputFolder, stem: str, index: int) -> int:
    lines = folder.lines.get(stem)
    return lines[index] if lines is not None else index


def raw_records(path: Path) -> Iterator[tuple[str, Any]]:
    """The records of a readable input file as written, before the models normalise them
    (`esd check` compares spellings), each with where it is (`record [i]`, `line n`)."""
    if path.suffix == ".json":
        data = json.loads(path.read_bytes())
        yield from ((f"record [{i}]", r) for i, r in enumerate(data if isinstance(data, list)
                                                                else []))
        return
    with path.open("rb") as stream:
        if path.suffix == ".jsonl":
            yield from ((f"line {n}", json.loads(line)) for n, line in enumerate(stream, 1)
                        if line.strip())
            return
        header, rows = csv_rows(stream, path, [])
        for n, cells in rows:
            yield f"line {n}", dict(zip(header or [], cells, strict=False))


def portfolio_files(portfolio: Portfolio) -> dict[str, str]:
    """The portfolio as the input files of contract §2 (what `esd pull` writes), so any
    live run can be replayed with --input-dir. No stakeholder file when the source had
    none, so a replay says the champion guard could not run, as the live run did."""
    files = {
        "accounts": portfolio.accounts,
        "calls": portfolio.calls,
        "usage_events": portfolio.usage_events,
        "support_tickets": portfolio.tickets,
    }
    if portfolio.stakeholder_changes is not None:
        files["stakeholder_changes"] = portfolio.stakeholder_changes
    if portfolio.health is not None:
        files["health"] = portfolio.health
    out = {}
    for stem, records in files.items():
        data = _ARRAYS[stem].dump_python(records, mode="json")
        out[f"{stem}.json"] = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    return out
