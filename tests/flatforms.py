"""Write a folder of `.json` input files in the other forms of contract §2: `.jsonl`
(one object per line) or `.csv` (a header row; `tags` `;`-separated; null an empty
cell), for tests that compare the forms."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

CSV_KINDS = ("accounts", "usage_events", "support_tickets", "stakeholder_changes", "health")


def to_jsonl(records: list[dict[str, Any]], newline: str = "\n") -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + newline for r in records)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, int | float):
        return json.dumps(value)
    return str(value)


def to_csv(records: list[dict[str, Any]], newline: str = "\r\n") -> str:
    """The records as CSV, columns in order of first appearance."""
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(columns)
    for record in records:
        writer.writerow(cell(record.get(name)) for name in columns)
    return out.getvalue()


def convert(source: Path, target: Path, form: str) -> Path:
    """`source`'s JSON files in `target` as `form` (".jsonl" or ".csv"; calls, which have
    no CSV form, stay .jsonl)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.json")):
        if path.stem not in (*CSV_KINDS, "calls"):
            continue
        records = json.loads(path.read_text(encoding="utf-8"))
        if form == ".csv" and path.stem in CSV_KINDS:
            (target / f"{path.stem}.csv").write_text(to_csv(records), encoding="utf-8",
                                                     newline="")
        else:
            (target / f"{path.stem}.jsonl").write_text(to_jsonl(records), encoding="utf-8")
    return target
