"""Read one input file that is a JSON array of records (`NAME.json`, contract §2), and the
message helpers every input form shares (`.json`, `.jsonl`, `.csv`).

A problem is a `Found`: its line of the message (`file: record [i] (id x): field f:
message`, or `line n` for the line forms), and where it is for InputError's fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import TypeAdapter, ValidationError

from esd.memory import no_cycle_collection

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},:]')
BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_PAIR = re.compile(rb"\[\]|\{\}")
_SPACE = re.compile(rb"[ \t\n\r]*")  # JSON's whitespace
CHUNK = 1 << 23  # bytes read at a time by `stream_array`


class Found(NamedTuple):
    """One problem of the input files: its line of the message, and where it is."""

    text: str
    file: Path
    record: int | None = None  # record index (.json) or line (.jsonl, .csv)
    field: str | None = None


def load_array(path: Path, adapter: TypeAdapter, key: str, limit: int,
               problems: list[Found]) -> list[Any] | None:
    """The records of a JSON array file, or None with every problem added to `problems`.
    `limit` is how deep the file may nest (the array counts as one level)."""
    raw = path.read_bytes()
    if problem := _shape_problem(path, raw, limit):
        problems.append(problem)
        return None
    with no_cycle_collection():
        try:
            return adapter.validate_json(raw)
        except ValidationError as exc:
            records = _raw_records(raw)
            for err in exc.errors(include_url=False):
                problems.append(_describe(path, err, records, key))
            return None


def stream_array(path: Path, adapter: TypeAdapter, limit: int, keep: Callable[[Any], Any],
                 ) -> list[Any] | None:
    """The records of a JSON array file, each passed through `keep` as soon as it is
    valid (`keep` returns what to hold of it), read `CHUNK` bytes at a time so that the
    file and its records are never in memory whole. Records are validated as
    `load_array` validates them, a run of whole records at a time: a run ends where the
    braces read so far balance, and only a run that validates as a JSON array of
    records is taken, so a brace inside a string can only make the guess fail. None for
    a file that is not a valid array of records within `limit` levels (or on a failed
    guess): the caller then reads it with `load_array`, whose messages name every
    problem."""
    out: list[Any] = []
    with path.open("rb") as stream, no_cycle_collection():
        reader = _Reader(stream, CHUNK)
        if reader.next_byte() != b"[":
            return None  # empty, a byte-order mark, or not an array
        after = reader.next_byte()
        while after != b"]":
            if after != b"{":
                return None
            end = reader.run_end()
            if end is None:
                return None
            run = b"[" + reader.take(end) + b"]"
            if too_deep(run, limit) is not None:
                return None
            try:
                records = adapter.validate_json(run)
            except ValidationError:
                return None
            del run
            out.extend(map(keep, records))
            after = reader.next_byte()
            if after == b",":
                after = reader.next_byte()
                if after != b"{":
                    return None  # a trailing comma, or a value that is no record
        return out if reader.at_end() else None


class _Reader:
    """A byte stream read a chunk at a time, for `stream_array`."""

    def __init__(self, stream: Any, chunk: int) -> None:
        self.stream, self.chunk = stream, chunk
        self.buf, self.pos = b"", 0

    def _more(self) -> bool:
        more = self.stream.read(max(self.chunk, len(self.buf) - self.pos))
        self.buf, self.pos = self.buf[self.pos:] + more, 0
        return bool(more)

    def next_byte(self) -> bytes:
        """The next byte that is not JSON whitespace, without consuming an opening
        brace (b"" at the end of the file)."""
        while (pos := _SPACE.match(self.buf, self.pos).end()) == len(self.buf):
            self.pos = pos
            if not self._more():
                return b""
        self.pos = pos if self.buf[pos:pos + 1] == b"{" else pos + 1
        return self.buf[pos:pos + 1]

    def run_end(self) -> int | None:
        """Where the last whole top-level object from here ends, reading on until one
        is whole; None when the file ends first."""
        while (end := _run_end(self.buf, self.pos)) is None:
            if not self._more():
                return None
        return end

    def take(self, end: int) -> bytes:
        taken, self.pos = self.buf[self.pos:end], end
        return taken

    def at_end(self) -> bool:
        """Whether only whitespace is left."""
        return self.next_byte() == b""


def _run_end(buf: bytes, start: int) -> int | None:
    """Where the last whole top-level object of `buf[start:]` ends (`buf[start]` opens
    one), by counting braces back from the end; None when no object is whole yet."""
    upto = len(buf)
    opens, closes = buf.count(b"{", start, upto), buf.count(b"}", start, upto)
    search_end = upto
    while (close := buf.rfind(b"}", start, search_end)) != -1:
        opens -= buf.count(b"{", close + 1, upto)
        closes -= buf.count(b"}", close + 1, upto)
        upto = close + 1
        if opens == closes:
            return upto
        search_end = close
    return None


def _shape_problem(path: Path, raw: bytes, limit: int) -> Found | None:
    """What makes `raw` unreadable before any parsing: no bytes, a byte-order mark, or
    nesting deeper than the file's records allow (which would also exhaust a parser)."""
    if not raw or raw.isspace():  # `not raw.strip()` without copying the file
        return Found(f"{path}: empty file (expected a JSON array of records)", path)
    if raw.startswith(BOMS):
        return Found(f"{path}: starts with a byte-order mark; save it as UTF-8 without BOM",
                     path)
    if (deep := too_deep(raw, limit)) is None:
        return None
    record, field = deep
    where = f" field {field}:" if field else ""
    return Found(f"{path}: record [{record}]:{where} nested deeper than the "
                 f"record shape allows (more than {limit} levels)", path, record, field)


def too_deep(raw: bytes, limit: int, record_depth: int = 2) -> tuple[int, str | None] | None:
    """Where `raw` first nests deeper than `limit` levels: (record index, field), or None.
    Records sit at `record_depth` (2 in an array, 1 for one JSON object per line)."""
    if _shallow(raw, limit):
        return None
    depth, record, key, last = 0, 0, None, b""
    for token in _TOKEN.finditer(raw):
        t = token.group()
        if t in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return record, _key(key)
            if depth == record_depth:
                key = None
        elif t in (b"]", b"}"):
            depth -= 1
        elif t == b"," and depth == record_depth - 1:
            record += 1
        elif t == b":" and depth == record_depth:
            key = last
        last = t
    return None


def _key(token: bytes | None) -> str | None:
    try:
        return json.loads(token) if token else None
    except ValueError:  # a malformed escape: the parser names the problem instead
        return None


def _shallow(raw: bytes, limit: int) -> bool:
    """True when the file's brackets, with everything else dropped, nest `limit` levels at
    most: `limit` passes of removing adjacent `[]`/`{}` pairs leave nothing (each pass
    peels one level). A few milliseconds where the exact token scan takes seconds on a
    large file; brackets inside strings can only make this say False, and then the
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
    raw = records[index] if isinstance(index, int) and 0 <= index < len(records) else None
    where = f"{path}: record [{index}]{identity(raw, key)}"
    return field_problem(path, where, record, loc, err)


def field_problem(path: Path, where: str, record: int | None, loc: list[Any],
                  err: dict[str, Any], word: str = "field") -> Found:
    """The problem `err` (a pydantic error) of one record: `where` names the file and the
    record, `loc` the field inside it; `word` is "column" for a CSV file."""
    if not loc:
        return Found(f"{where}: {err['msg']}", path, record)
    field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    if err["type"] == "missing":
        what = "empty, and the field is required" if word == "column" else "missing"
        return Found(f"{where}: {word} {field}: {what}", path, record, field)
    return Found(f"{where}: {word} {field}: {err['msg']} "
                 f"(got {json.dumps(err.get('input'), default=str)[:60]})", path, record, field)


def identity(raw: Any, key: str) -> str:
    """` (id a1)`: the record's identifying field for a message, when it has one."""
    if isinstance(raw, dict):
        value = raw.get(key)
        if isinstance(value, str | int) and key != "account_id":
            return f" ({key} {' '.join(str(value).split())[:60]})"
    return ""
