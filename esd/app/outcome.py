"""esd outcome (contract §12): record what became of delivered strong signals, one by
id (source `manual`) or from a CRM's CSV export (`import`); the latest record for a
signal wins. A signal whose record would say what its latest record already says is
skipped, so importing the same cumulative export every week records nothing twice. An
import is all or nothing: any bad row is an InputError naming the file, line and field
of every problem, and nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from esd.app.outcome_csv import (
    CHOICES,
    Row,
    future,
    is_signal_id,
    normalize_id,
    normalize_outcome,
    parse_day,
    problems_error,
    read_csv,
)
from esd.errors import InputError
from esd.models import SIGNAL_ID_LENGTH
from esd.state import OutcomeRecord, State
from esd.state.outcomes import ListedSignal

HINT = ("copy the id from the digest's `Signal` line; `esd history` lists the runs of this "
        "state store (--state or ESD_STATE names another)")


@dataclass(frozen=True)
class Recorded:
    """What one row did: `record` appended (`changed`), or skipped because the signal's
    latest record already said the same. `previous` is the record it replaced (from the
    store, or an earlier line of the same file: `previous_line`)."""

    record: OutcomeRecord
    signal: ListedSignal
    previous: OutcomeRecord | None
    changed: bool
    line: int | None = None
    previous_line: int | None = None


@dataclass
class OutcomeResult:
    entries: list[Recorded]
    source: str  # manual | import
    store: str
    file: Path | None = None
    ignored_columns: tuple[str, ...] = ()  # CSV columns esd does not read
    exit_code: int = 0

    @property
    def recorded(self) -> list[Recorded]:
        return [e for e in self.entries if e.changed]

    @property
    def unchanged(self) -> list[Recorded]:
        return [e for e in self.entries if not e.changed]


def record(state_target: str | None, signal: str, outcome: str, as_of: datetime,
           on: str | None = None, note: str | None = None) -> OutcomeResult:
    """Record `outcome` for one signal (source `manual`), dated `on` (default: the as-of
    day, esd's clock)."""
    sid = normalize_id(signal)
    if not is_signal_id(sid):
        raise InputError(f"{signal.strip()!r} is not a signal id: {SIGNAL_ID_LENGTH} "
                         "characters, as in the digest's line `Signal abc1234`", field="ID")
    word = normalize_outcome(outcome)
    if word is None:
        raise InputError(f"outcome {outcome.strip()!r}: choose {CHOICES}", field="OUTCOME")
    day = as_of.date()
    if on is not None:
        day = parse_day(on)
        if day is None:
            raise InputError(f"--date {on!r}: not a date; write YYYY-MM-DD", field="--date")
        if (late := future(day, as_of.date())) is not None:
            raise InputError(f"--date {late}", field="--date")
    row = Row(sid, word, day, (note or "").strip() or None)
    state = State.open(state_target, create=False)
    try:
        if not state.known_signals([sid]):
            raise InputError(f"signal {sid}: no run recorded in {state.label} listed it: "
                             f"{HINT}", field="ID")
        return OutcomeResult(_apply(state, [row], "manual"), "manual", state.label)
    finally:
        state.close()


def import_csv(state_target: str | None, path: Path, as_of: datetime) -> OutcomeResult:
    """Record every row of `path` (source `import`), in file order, or none of them."""
    found = read_csv(path, as_of.date())
    state = State.open(state_target, create=False)
    try:
        known = state.known_signals([sid for _, sid in found.ids])
        unknown = [(line, "signal_id", f"signal {sid}: no run recorded in {state.label} "
                    "listed it") for line, sid in found.ids if sid not in known]
        if found.problems or unknown:
            raise problems_error(path, found.problems + unknown, HINT if unknown else None)
        return OutcomeResult(_apply(state, found.rows, "import"), "import", state.label,
                             path, found.ignored)
    finally:
        state.close()


def _apply(state: State, rows: list[Row], source: str) -> list[Recorded]:
    """Append the rows in order, in one transaction, but none of a signal whose last
    row says what its latest record already says (an import seen before), and no row
    that repeats the record right before it."""
    listed = state.listed_signals([r.signal_id for r in rows])
    latest: dict[str, tuple[OutcomeRecord, int | None]] = {
        sid: (rec, None) for sid, rec in state.outcomes().items()}
    final = {row.signal_id: _record(row, source) for row in rows}
    settled = {sid for sid, new in final.items()
               if sid in latest and _same(latest[sid][0], new)}
    entries = []
    for row in rows:
        new = _record(row, source)
        previous, previous_line = latest.get(row.signal_id, (None, None))
        changed = row.signal_id not in settled and not (previous and _same(previous, new))
        if changed:
            latest[row.signal_id] = (new, row.line)
        entries.append(Recorded(new, listed[row.signal_id], previous, changed, row.line,
                                previous_line))
    state.record_outcomes([e.record for e in entries if e.changed])
    return entries


def _record(row: Row, source: str) -> OutcomeRecord:
    return OutcomeRecord(row.signal_id, row.outcome, row.on, source, row.note)


def _same(a: OutcomeRecord, b: OutcomeRecord) -> bool:
    return (a.outcome, a.on, a.note) == (b.outcome, b.on, b.note)
