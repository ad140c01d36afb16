"""Read the line forms of an input file (contract §2): `NAME.jsonl`, one JSON object per
line, and `NAME.csv`, a header row of field names and one record per row.

Both are read as a stream, a line at a time, never whole: each reader is a generator of
valid records and adds every bad line to `problems`, so a large portfolio is never held
twice in memory and a broken export is still reported in one pass. Lines are numbered as
an editor shows them (the CSV header is line 1). A CSV cell is text; it becomes the JSON
value the record model expects (see `csv_value`), and the record is then validated
exactly as a `.json` record is, so every form obeys the same rules.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from json.encoder import encode_basestring as _quote  # json.dumps(str) minus the overhead
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, NamedTuple, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from esd.connectors.jsonfiles import BOMS, Found, field_problem, identity, too_deep

_UTF8_BOM = b"\xef\xbb\xbf"
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")  # JSON's grammar
_BOOLEANS = {"true": "true", "1": "true", "false": "false", "0": "false"}
_AT_LINE_1 = re.compile(r" at line 1 column (\d+)")


class Row(NamedTuple):
    """A valid record and the line it starts on."""

    line: int
    record: Any


class _NotText(Exception):
    """A line that is not UTF-8 text (raised from inside the csv module's input)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class Column(NamedTuple):
    """How a CSV column maps to its record field."""

    kind: str  # "text" (strings, dates, choices), "number", "bool" or "list"
    nullable: bool  # an empty cell is null (else the field is absent)
    required: bool  # the header must name it


@cache
def columns_of(model: type[BaseModel]) -> dict[str, Column]:
    """The CSV columns of `model`'s flat fields, read from its annotations."""
    columns = {}
    for name, info in model.model_fields.items():
        union = get_origin(info.annotation) in (Union, UnionType)
        args = get_args(info.annotation) if union else (info.annotation,)
        base = next(a for a in args if a is not type(None))
        while get_origin(base) is Annotated:
            base = get_args(base)[0]
        kind = ("bool" if base is bool else "number" if base in (int, float)
                else "list" if get_origin(base) is list else "text")
        columns[name] = Column(kind, type(None) in args, info.is_required())
    return columns


# --- .jsonl ---------------------------------------------------------------------


def read_jsonl(path: Path, adapter: TypeAdapter, key: str, limit: int,
               problems: list[Found]) -> Iterator[Row]:
    """The valid records of a `.jsonl` file, read a line at a time."""
    with path.open("rb") as stream:
        yield from parse_jsonl(stream, path, adapter, key, limit, problems)


def parse_jsonl(lines: Iterable[bytes], path: Path, adapter: TypeAdapter, key: str,
                limit: int, problems: list[Found]) -> Iterator[Row]:
    """The valid records of `lines` (any iterable of byte lines, consumed lazily); blank
    lines are skipped. `limit` is how deep one record may nest."""
    for number, line in enumerate(lines, 1):
        if number == 1 and line.startswith(BOMS):
            problems.append(Found(f"{path}: starts with a byte-order mark; save it as UTF-8 "
                                  "without BOM", path, 1))
            return
        line = line.rstrip()  # the line break: parser positions then stay on the line
        if not line:
            continue
        where = f"{path}: line {number}"
        if (deep := too_deep(line, limit, record_depth=1)) is not None:
            field = f" field {deep[1]}:" if deep[1] else ""
            problems.append(Found(f"{where}:{field} nested deeper than the record shape "
                                  f"allows (more than {limit} levels)", path, number, deep[1]))
            continue
        try:
            yield Row(number, adapter.validate_json(line))
        except ValidationError as exc:
            problems.extend(_line_problems(exc, path, number, line, key))


def _line_problems(exc: ValidationError, path: Path, number: int, line: bytes,
                   key: str) -> list[Found]:
    errors = exc.errors(include_url=False)
    if errors[0]["type"] == "json_invalid":
        msg = _AT_LINE_1.sub(r" at column \1", errors[0]["msg"].removeprefix("Invalid JSON: "))
        return [Found(f"{path}: line {number}: malformed JSON: {msg}", path, number)]
    try:
        raw = json.loads(line)
    except (ValueError, RecursionError):  # pydantic read it; this is only for the id
        raw = {}
    if not isinstance(raw, dict):
        return [Found(f"{path}: line {number}: expected a JSON object, one record per line "
                      f"(got {type(raw).__name__ if raw is not None else 'null'})",
                      path, number)]
    where = f"{path}: line {number}{identity(raw, key)}"
    return [field_problem(path, where, number, list(err["loc"]), err) for err in errors]


# --- .csv -----------------------------------------------------------------------


def read_csv(path: Path, model: type, adapter: TypeAdapter, key: str,
             problems: list[Found]) -> Iterator[Row]:
    """The valid records of a `.csv` file, read a row at a time."""
    with path.open("rb") as stream:
        yield from parse_csv(stream, path, model, adapter, key, problems)


def parse_csv(lines: Iterable[bytes], path: Path, model: type, adapter: TypeAdapter,
              key: str, problems: list[Found]) -> Iterator[Row]:
    """The valid records of CSV `lines` (byte lines, consumed lazily)."""
    fields = columns_of(model)
    header, rows = csv_rows(lines, path, problems)
    if header is None:
        return
    if bad := _header_problems(path, header, fields):
        problems.extend(bad)
        return
    # Unknown columns are ignored, as unknown fields of a JSON record are.
    known = [(i, f"{_quote(name)}:", fields[name]) for i, name in enumerate(header)
             if name in fields]
    for number, cells in rows:
        if len(cells) < len(header) or any(cells[len(header):]):
            problems.append(Found(f"{path}: line {number}: {len(cells)} cells where the "
                                  f"header has {len(header)} columns", path, number))
            continue
        text = ",".join(f"{name}{value}" for i, name, column in known
                        if (value := csv_value(column, cells[i])) is not None)
        try:
            yield Row(number, adapter.validate_json(f"{{{text}}}"))
        except ValidationError as exc:
            # Cells past the header are empty (checked above): zip drops them.
            raw = dict(zip(header, cells, strict=False))
            where = f"{path}: line {number}{identity(raw, key)}"
            problems.extend(field_problem(path, where, number, list(err["loc"]), err, "column")
                            for err in exc.errors(include_url=False))


def csv_value(column: Column, cell: str) -> str | None:
    """The JSON text of one cell: an empty cell is null where the field may be null, else
    absent (None: the record lacks the field); `tags` are `;`-separated (empty: no tags);
    a number is JSON's number grammar and a boolean `true`/`false`/`1`/`0` in any case.
    Any other cell stays a string, and the record model then refuses it by name."""
    if column.kind == "list":
        return f"[{','.join(_quote(t) for item in cell.split(';') if (t := item.strip()))}]"
    if cell == "":
        return "null" if column.nullable else None
    if column.kind == "number" and _NUMBER.fullmatch(cell):
        return cell
    if column.kind == "bool" and cell.lower() in _BOOLEANS:
        return _BOOLEANS[cell.lower()]
    return _quote(cell)


def csv_rows(lines: Iterable[bytes], path: Path, problems: list[Found],
             ) -> tuple[list[str] | None, Iterator[tuple[int, list[str]]]]:
    """The header (names stripped of spaces) and an iterator of (line, cells) for every
    row that holds a value; None for a file with no header, its problem added."""
    reader = csv.reader(_text_lines(lines, path), strict=True)
    try:
        header = next(reader, None)
    except (csv.Error, _NotText) as exc:
        problems.append(_unreadable(path, 1, exc))
        return None, iter(())
    if header is None:
        problems.append(Found(f"{path}: empty file (expected a header row of field names)",
                              path, 1))
        return None, iter(())
    return [name.strip() for name in header], _rows(reader, path, problems)


def _rows(reader: Any, path: Path, problems: list[Found]) -> Iterator[tuple[int, list[str]]]:
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (csv.Error, _NotText) as exc:  # the rest of the file cannot be trusted
            problems.append(_unreadable(path, start, exc))
            return
        number, start = start, reader.line_num + 1
        if any(cell.strip() for cell in cells):  # blank lines and rows of empty cells
            yield number, cells


def _text_lines(lines: Iterable[bytes], path: Path) -> Iterator[str]:
    for number, line in enumerate(lines, 1):
        if number == 1:
            if line.startswith(BOMS[1:]):
                raise _NotText(1, "UTF-16 text")
            line = line.removeprefix(_UTF8_BOM)  # Excel's "CSV UTF-8" writes one
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _NotText(number, f"not UTF-8 text (byte 0x{line[exc.start]:02x})") from None


def _unreadable(path: Path, line: int, exc: Exception) -> Found:
    if isinstance(exc, _NotText):
        return Found(f"{path}: line {exc.line}: {exc}; save it as CSV UTF-8", path, exc.line)
    return Found(f"{path}: line {line}: malformed CSV: {exc}", path, line)


def _header_problems(path: Path, header: list[str], fields: dict[str, Column]) -> list[Found]:
    found = []
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            found.append(Found(f"{path}: line 1: column {name}: named twice in the header",
                               path, 1, name))
        seen.add(name)
    for name, column in fields.items():
        if column.required and name not in seen:
            found.append(Found(f"{path}: line 1: column {name}: missing from the header "
                               "(a required field)", path, 1, name))
    return found
