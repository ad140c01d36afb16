"""What `esd outcome` reads: signal ids, outcomes and dates as people write them, and
the rows of an outcome CSV (`--import`): header row required, columns `signal_id`,
`outcome`, `date`, `note` in any order, UTF-8 with or without a BOM, any line ending,
quoted notes across lines. Every problem is named `file:line: field: message`."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from esd.errors import InputError
from esd.format import parse_time
from esd.models import SIGNAL_ID_LENGTH
from esd.state import OUTCOMES

COLUMNS = ("signal_id", "outcome", "date", "note")
REQUIRED = ("signal_id", "outcome")
SHOWN_PROBLEMS = 10
CHOICES = ", ".join(OUTCOMES[:-1]) + " or " + OUTCOMES[-1]
ID_ALPHABET = frozenset("0123456789abcdefghjkmnpqrstvwxyz")  # esd.models.signal_id's
# Crockford's base32 reads the letters it leaves out as the digits they look like.
ID_ALIASES = str.maketrans({"i": "1", "l": "1", "o": "0"})

Problem = tuple[int, str, str]  # line, field, message


@dataclass(frozen=True)
class Row:
    """One outcome to record: from the command line (`line` None) or a CSV line."""

    signal_id: str
    outcome: str
    on: date
    note: str | None = None
    line: int | None = None


def normalize_id(text: str) -> str:
    """A signal id as pasted from Slack: surrounding spaces, backticks and quotes
    dropped, any case, Crockford's look-alike letters (i, l, o) read as digits."""
    return text.strip().strip("`'\"").strip().lower().translate(ID_ALIASES)


def is_signal_id(text: str) -> bool:
    return len(text) == SIGNAL_ID_LENGTH and set(text) <= ID_ALPHABET


def normalize_outcome(text: str) -> str | None:
    """`converted`, `noise` or `no-conversation` in any case, `_` or space for the dash;
    None for anything else."""
    word = "-".join(text.strip().lower().replace("_", " ").split())
    return word if word in OUTCOMES else None


SLACK_DAYS = 1  # a team ahead of UTC writes its own today, a day after UTC's


def future(day: date, today: date) -> str | None:
    """Why an outcome dated `day` cannot be recorded on `today` (esd's clock, the as-of's
    day): it has not happened yet, and a mistyped year would otherwise fall outside the
    14 days after delivery and silently never count. None when it can."""
    if day <= today + timedelta(days=SLACK_DAYS):
        return None
    return (f"{day.isoformat()} is after today ({today.isoformat()}, the as-of): an "
            "outcome is recorded once it has happened")


def parse_day(text: str) -> date | None:
    """`YYYY-MM-DD`, or an ISO 8601 datetime (its UTC date); None for anything else, on
    purpose: `03/04/2026` means a different day in different countries."""
    text = text.strip()
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    moment = parse_time(text) if len(text) > 10 else None
    return moment.date() if moment else None


Problem = tuple[int, str, str]  # line, field, message


@dataclass
class CsvRows:
    """What an outcome CSV holds: the good rows, every problem found, the line of each
    well-formed signal id (good row or not, so an unknown id is named either way) and
    the columns esd does not read."""

    rows: list[Row]
    problems: list[Problem]
    ids: list[tuple[int, str]]
    ignored: tuple[str, ...] = ()


def read_csv(path: Path, today: date) -> CsvRows:
    """Read an outcome CSV: header row required, columns in any order, `date` and `note`
    optional (an empty date means `today`). A file without the required columns raises
    at once; row problems are collected."""
    reader = csv.reader(io.StringIO(_read_text(path), newline=""), strict=True)
    header: list[str] | None = None
    found = CsvRows([], [], [])
    while True:
        start = reader.line_num + 1  # a quoted note may span lines: name the first
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            found.problems.append((start, "csv", _csv_error(exc)))
            break
        if not any(c.strip() for c in cells):
            continue  # blank lines, and the ",,," rows spreadsheets leave at the end
        if header is None:
            header = _header(path, start, cells)
        else:
            _row(header, cells, start, today, found)
    if header is None:
        raise InputError(f"{path}: empty: the first line must name the columns "
                         f"({','.join(COLUMNS)})", file=str(path), record=1, field="header")
    found.ignored = tuple(h for h in header if h and h not in COLUMNS)
    return found


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}", file=str(path)) from None
    try:
        return data.decode("utf-8-sig")  # the BOM spreadsheets write is not a column name
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not UTF-8 text: save the CSV as UTF-8",
                         file=str(path), record=line) from None


def _header(path: Path, line: int, cells: list[str]) -> list[str]:
    names = [c.strip().lower().replace(" ", "_") for c in cells]
    problems: list[Problem] = []
    if not any(n in COLUMNS for n in names):
        problems.append((line, "header", "no header row: the first line must name the "
                         f"columns ({','.join(COLUMNS)})"))
    else:
        named = ", ".join(n for n in names if n) or "nothing"
        problems += [(line, col, f"missing column (the header names {named})")
                     for col in REQUIRED if col not in names]
    problems += [(line, name, "column named twice") for name in dict.fromkeys(names)
                 if name and names.count(name) > 1]
    if problems:
        raise problems_error(path, problems)
    return names


def _row(header: list[str], cells: list[str], line: int, today: date, found: CsvRows) -> None:
    values: dict[str, str] = {}
    for i, cell in enumerate(cells):
        name = header[i] if i < len(header) else ""
        if name:
            values[name] = cell.strip()
        elif cell.strip():
            found.problems.append((line, f"column {i + 1}", f"{cell.strip()[:40]!r} is under "
                                   "no column of the header (quote a note that holds a comma)"))
            return
    before = len(found.problems)
    sid = normalize_id(values.get("signal_id", ""))
    if not sid:
        found.problems.append((line, "signal_id", "empty"))
    elif not is_signal_id(sid):
        found.problems.append((line, "signal_id", f"{values['signal_id']!r} is not a signal "
                               f"id ({SIGNAL_ID_LENGTH} characters, as in the digest's "
                               "`Signal` line)"))
    else:
        found.ids.append((line, sid))
    outcome = normalize_outcome(values.get("outcome", ""))
    if outcome is None:
        found.problems.append((line, "outcome", f"{values.get('outcome', '')!r} is not one "
                               f"of {CHOICES}"))
    day = parse_day(values["date"]) if values.get("date") else today
    if day is None:
        found.problems.append((line, "date", f"{values['date']!r} is not a date: write "
                               "YYYY-MM-DD (ISO 8601; in a spreadsheet, format the column "
                               "as yyyy-mm-dd)"))
    elif (late := future(day, today)) is not None:
        found.problems.append((line, "date", late))
    if len(found.problems) == before and outcome and day:
        note = values.get("note", "").replace("\r\n", "\n").replace("\r", "\n").strip()
        found.rows.append(Row(sid, outcome, day, note or None, line))


def _csv_error(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return ("a quoted field starts on this line and is never closed (a quote inside a "
                "quoted note is written twice: \"\")")
    return f"not valid CSV: {text}"


def problems_error(path: Path, problems: list[Problem], hint: str | None = None) -> InputError:
    """Every problem as `file:line: field: message`, in line order, the first
    SHOWN_PROBLEMS in the message (then `hint`) and all of them in `problems`."""
    ordered = sorted(problems, key=lambda p: p[0])
    lines = [f"{path}:{line}: {field}: {message}" for line, field, message in ordered]
    shown = lines[:SHOWN_PROBLEMS]
    more = [f"(+{len(lines) - len(shown)} more)"] if len(lines) > len(shown) else []
    more += [f"({hint})"] if hint else []
    count = f"{len(lines)} problem{'s' if len(lines) != 1 else ''}"
    return InputError(f"{path}: {count}, nothing recorded:\n  " + "\n  ".join(shown + more),
                      lines, file=str(path), record=ordered[0][0], field=ordered[0][1])
