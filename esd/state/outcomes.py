"""What became of delivered strong signals (contract §12), mixed into esd.state.State.

- `signals`: each strong signal a digest listed (capped), by its id: window, owner,
  account, SKU, the call-trigger phrases of its evidence and the action row it got. It
  counts as delivered once the DM message carrying it alone is `sent` in
  `delivery_parts` (whose `signal_id` names it).
- `outcomes`: every record of an outcome, in the order recorded (`seq`): `converted`,
  `noise` or `no-conversation`, dated (a reaction by the as-of of the run that first
  saw it), with its source (`reaction`, `manual`, `import`) and a note. The latest
  record for a signal wins.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from esd.models import Digest
from esd.state.db import Database, utc_now, window_key

OUTCOMES = ("converted", "noise", "no-conversation")


@dataclass(frozen=True)
class DeliveredSignal:
    signal_id: str
    delivered_on: date  # the as-of date of the run that delivered it
    owner_email: str
    account_id: str
    sku: str
    triggers: tuple[str, ...]  # the call-trigger phrases of its evidence
    action_row: str | None  # the action library row's trigger pattern; None: human review
    channel: str | None
    ts: str | None  # the Slack message carrying it


@dataclass(frozen=True)
class ListedSignal:
    signal_id: str
    window_end: date  # the as-of date of the run that listed it
    owner_email: str
    account_id: str
    sku: str
    delivered: bool  # its own DM message was accepted by Slack


@dataclass(frozen=True)
class OutcomeRecord:
    signal_id: str
    outcome: str  # one of OUTCOMES
    on: date
    source: str  # reaction | manual | import
    note: str | None = None


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


class Outcomes:
    """The `signals` and `outcomes` tables and the runs' history."""

    db: Database

    def record_signals(self, as_of: datetime, digests: Iterable[Digest]) -> None:
        """Remember every strong signal the digests list (upserted by id), uncommitted:
        `record_run` commits it with the run."""
        for digest in digests:
            for signal in digest.strong:
                if not signal.signal_id:
                    continue
                triggers = sorted({m.phrase or m.trigger for m in signal.call_evidence})
                self.db.execute(
                    """INSERT INTO signals (signal_id, window_end, owner_email, account_id,
                           sku, triggers, action_row) VALUES (?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (signal_id) DO UPDATE SET window_end = excluded.window_end,
                           owner_email = excluded.owner_email,
                           account_id = excluded.account_id, sku = excluded.sku,
                           triggers = excluded.triggers, action_row = excluded.action_row""",
                    (signal.signal_id, window_key(as_of), digest.owner_email,
                     signal.account_id, signal.sku, json.dumps(triggers), signal.action_row))

    def known_signals(self, ids: Sequence[str]) -> set[str]:
        """Which of `ids` some recorded run listed."""
        found: set[str] = set()
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            found.update(row[0] for row in self.db.execute(
                f"SELECT signal_id FROM signals WHERE signal_id IN ({marks})", chunk))
        return found

    def listed_signals(self, ids: Sequence[str]) -> dict[str, ListedSignal]:
        """The signals among `ids` that some recorded run listed, by id, each saying
        whether its message was delivered (what `esd outcome` confirms to the user)."""
        found: dict[str, ListedSignal] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for sid, end, owner, account, sku, sent in self.db.execute(
                    "SELECT s.signal_id, s.window_end, s.owner_email, s.account_id, s.sku, "
                    "EXISTS (SELECT 1 FROM delivery_parts p WHERE p.signal_id = s.signal_id "
                    f"AND p.status = 'sent') FROM signals s WHERE s.signal_id IN ({marks})",
                    chunk):
                found[sid] = ListedSignal(sid, _day(end), owner, account, sku, bool(sent))
        return found

    def delivered_signals(self, since: date | None = None) -> list[DeliveredSignal]:
        """Every signal whose own DM message was accepted by Slack, delivered on or after
        `since`, oldest first."""
        rows = self.db.execute(
            """SELECT s.signal_id, s.window_end, s.owner_email, s.account_id, s.sku,
                      s.triggers, s.action_row, d.channel, MIN(p.ts)
               FROM signals s
               JOIN delivery_parts p ON p.signal_id = s.signal_id AND p.status = 'sent'
               LEFT JOIN deliveries d ON d.window_end = p.window_end
                    AND d.owner_email = p.owner_email
               WHERE s.window_end >= ?
               GROUP BY s.signal_id, s.window_end, s.owner_email, s.account_id, s.sku,
                        s.triggers, s.action_row, d.channel
               ORDER BY s.window_end, s.owner_email, s.signal_id""",
            (since.isoformat() if since else "",))
        return [DeliveredSignal(sid, _day(end), owner, account, sku,
                                tuple(json.loads(triggers or "[]")), row, channel, ts)
                for sid, end, owner, account, sku, triggers, row, channel, ts in rows]

    def record_outcomes(self, records: Sequence[OutcomeRecord]) -> None:
        """Append `records` in one transaction: all are recorded or none."""
        try:
            for record in records:
                self._insert_outcome(record)
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise

    def _insert_outcome(self, record: OutcomeRecord) -> None:
        if record.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {record.outcome!r}")
        self.db.execute(
            "INSERT INTO outcomes (signal_id, outcome, outcome_date, source, note, "
            "recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
            (record.signal_id, record.outcome, record.on.isoformat(), record.source,
             record.note, utc_now()))

    def outcomes(self) -> dict[str, OutcomeRecord]:
        """The latest record for each signal."""
        latest: dict[str, OutcomeRecord] = {}
        for sid, outcome, on, source, note in self.db.execute(
                "SELECT signal_id, outcome, outcome_date, source, note FROM outcomes "
                "ORDER BY seq"):
            latest[sid] = OutcomeRecord(sid, outcome, _day(on), source, note)
        return latest

    def record_reactions(self, seen: dict[str, str], as_of: datetime) -> list[str]:
        """Record the outcome each signal's reaction says (`seen`: id -> outcome), dated
        `as_of` (first seen), unless the latest reaction record already says so; the
        ids recorded."""
        last: dict[str, str] = {}
        for sid, outcome in self.db.execute(
                "SELECT signal_id, outcome FROM outcomes WHERE source = 'reaction' "
                "ORDER BY seq"):
            last[sid] = outcome
        new = [OutcomeRecord(sid, outcome, as_of.date(), "reaction")
               for sid, outcome in sorted(seen.items()) if last.get(sid) != outcome]
        self.record_outcomes(new)
        return [r.signal_id for r in new]

    def history(self, limit: int | None = None) -> list[dict]:
        """Past runs, newest first (contract §1 `esd history --json`); the `limit` newest
        when given."""
        runs = self.db.execute(
            "SELECT window_end, window_days, strong, cost_usd, extractor, accounts, "
            "coverage_pct FROM runs ORDER BY window_end DESC"
            + (" LIMIT ?" if limit is not None else ""), () if limit is None else (limit,))
        oldest = runs[-1][0] if runs else ""
        status: dict[str, dict[str, list[str]]] = {}
        for end, email, state in self.db.execute(
                "SELECT window_end, owner_email, status FROM deliveries "
                "WHERE window_end >= ? ORDER BY owner_email", (oldest,)):
            bucket = "delivered" if state == "sent" else "missed"
            status.setdefault(end, {"delivered": [], "missed": []})[bucket].append(email)
        out = []
        for end, days, strong, cost, extractor, accounts, coverage in runs:
            seen = status.get(end, {"delivered": [], "missed": []})
            out.append({"as_of": end, "window_days": days, "delivered": seen["delivered"],
                        "missed": seen["missed"], "strong": strong,
                        "cost_usd": round(cost or 0.0, 4), "extractor": extractor,
                        "accounts": accounts, "coverage_pct": coverage})
        return out


def m005_outcomes(db: Database) -> None:
    """Signal ids on delivered messages, the signals listed, their outcomes, and each
    run's extraction cost (esd history)."""
    db.execute("ALTER TABLE delivery_parts ADD COLUMN signal_id TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN cost_usd DOUBLE PRECISION")
    db.execute("""CREATE TABLE signals (
        signal_id TEXT PRIMARY KEY, window_end TEXT NOT NULL, owner_email TEXT NOT NULL,
        account_id TEXT NOT NULL, sku TEXT NOT NULL, triggers TEXT NOT NULL,
        action_row TEXT)""")
    key = "BIGSERIAL PRIMARY KEY" if db.postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    db.execute(f"""CREATE TABLE outcomes (
        seq {key}, signal_id TEXT NOT NULL, outcome TEXT NOT NULL,
        outcome_date TEXT NOT NULL, source TEXT NOT NULL, note TEXT,
        recorded_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX outcomes_signal ON outcomes (signal_id)")
    db.execute("CREATE INDEX delivery_parts_signal ON delivery_parts (signal_id)")
