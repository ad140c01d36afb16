"""Run history and the delivery ledger: a SQLite file or a PostgreSQL database.

`ESD_STATE` is a file path (default `./esd-state.db`) or a `postgresql://` URL, for
teams whose runners keep no disk. The schema is versioned by named migrations (llm
style) recorded in `_esd_migrations` and applied forward on every open.

What it remembers:
- `runs`: one row per window (a rerun of the same window replaces it, so the flooding
  guard's "three consecutive runs" means three consecutive windows);
- `csm_runs`: each CSM's strong count before the cap, per window;
- `extraction_cache`: Claude's answer per source text and prompt (issue 5), so a rerun
  of the same week sends nothing;
- `segment_snapshots`: per quarter and account, the tier, ARR, expansion potential and
  whether any signal was seen (esd segment's promotion and demotion rules);
- `deliveries`: per window and CSM, `posting` (delivery under way), `sent` (every
  message of the digest accepted, with the first message's ts) or `failed` (with the
  reason, secrets masked), the window's length (for the overlap rule of §6) and the
  generation (`--resend` starts a new one);
- `delivery_parts`: per window, CSM and message of the digest, `posting` (recorded
  before the Slack call) or `sent` (with its ts). A `posting` part left by a crash is
  reconciled against the DM's history before anything is posted again;
- `run_lock`: who holds the delivery lock (esd.delivery.runlock): host, process, start
  time and lease;
- `signals` and `outcomes` (esd.state.outcomes): the strong signals listed, by id, and
  what became of them (contract §12);
- `preview_deliveries` and `preview_parts` (esd.state.previews): the digests sent to a
  reviewer by `esd run --preview-to`, apart from the deliveries.

Every failure of the store itself (a corrupt file, a locked database, an unreachable
server) is a `StateUnavailable` (exit 4) naming the store with its password masked.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from esd.errors import InputError, StateUnavailable
from esd.redact import redact_url
from esd.state.db import Database, password, unavailable, utc_now, window_key
from esd.state.deliveries import Deliveries, Delivery
from esd.state.outcomes import (
    OUTCOMES,
    DeliveredSignal,
    OutcomeRecord,
    Outcomes,
    m005_outcomes,
)
from esd.state.previews import PreviewLedger, m006_previews

__all__ = ["DEFAULT_PATH", "MIGRATIONS", "OUTCOMES", "Database", "DeliveredSignal",
           "Delivery", "OutcomeRecord", "PreviewLedger", "State", "migration"]

DEFAULT_PATH = "esd-state.db"
MIGRATION_LOCK = 0x65_73_64_6D_69_67  # "esdmig": PostgreSQL advisory lock key
BUSY_TIMEOUT_S = 5.0  # how long SQLite waits for another writer's short transaction
MIGRATIONS: list[Callable[[Database], None]] = []


def migration(step: Callable[[Database], None]) -> Callable[[Database], None]:
    """Register a schema step; steps run once each, in definition order, by name."""
    MIGRATIONS.append(step)
    return step


@migration
def m001_initial(db: Database) -> None:
    db.execute("""CREATE TABLE runs (
        window_end TEXT PRIMARY KEY, window_days INTEGER NOT NULL, recorded_at TEXT NOT NULL,
        extractor TEXT NOT NULL, accounts INTEGER NOT NULL, coverage_pct REAL NOT NULL,
        strong INTEGER NOT NULL, weak INTEGER NOT NULL, not_signal INTEGER NOT NULL)""")
    db.execute("""CREATE TABLE csm_runs (
        window_end TEXT NOT NULL, owner_email TEXT NOT NULL, strong_total INTEGER NOT NULL,
        PRIMARY KEY (window_end, owner_email))""")
    db.execute("""CREATE TABLE deliveries (
        window_end TEXT NOT NULL, owner_email TEXT NOT NULL, status TEXT NOT NULL,
        channel TEXT, ts TEXT, digest_sha TEXT NOT NULL, error TEXT,
        updated_at TEXT NOT NULL, PRIMARY KEY (window_end, owner_email))""")


@migration
def m002_extraction_cache(db: Database) -> None:
    # Claude's raw answer per source, keyed by a hash of the prompt and the text sent:
    # a rerun of the same week (or an unchanged call) costs nothing.
    db.execute("""CREATE TABLE extraction_cache (
        key TEXT PRIMARY KEY, model TEXT NOT NULL, answer TEXT NOT NULL,
        created_at TEXT NOT NULL)""")


@migration
def m003_segment_snapshots(db: Database) -> None:
    # esd segment's quarterly memory (seed 002 step 6): one row per quarter and account.
    db.execute("""CREATE TABLE segment_snapshots (
        quarter TEXT NOT NULL, account_id TEXT NOT NULL, as_of TEXT NOT NULL,
        tier INTEGER NOT NULL, arr DOUBLE PRECISION NOT NULL, potential TEXT NOT NULL,
        had_signal INTEGER NOT NULL, PRIMARY KEY (quarter, account_id))""")


@migration
def m004_delivery_parts_and_lock(db: Database) -> None:
    # Exactly once per message (a digest may span several), the overlap rule (window
    # length per delivery; older rows take their run's), --resend generations, and the
    # one-delivering-run lock. Existing rows keep working: a sent digest stays sent.
    db.execute("ALTER TABLE deliveries ADD COLUMN window_days INTEGER")
    db.execute("ALTER TABLE deliveries ADD COLUMN generation INTEGER NOT NULL DEFAULT 0")
    db.execute("UPDATE deliveries SET window_days = COALESCE((SELECT runs.window_days "
               "FROM runs WHERE runs.window_end = deliveries.window_end), 7)")
    db.execute("""CREATE TABLE delivery_parts (
        window_end TEXT NOT NULL, owner_email TEXT NOT NULL, part INTEGER NOT NULL,
        parts INTEGER NOT NULL, status TEXT NOT NULL, ts TEXT, updated_at TEXT NOT NULL,
        PRIMARY KEY (window_end, owner_email, part))""")
    db.execute("""CREATE TABLE run_lock (
        name TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,
        started_at TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)""")


migration(m005_outcomes)
migration(m006_previews)


class State(Deliveries, Outcomes):
    """The state database, migrated on open. Every write commits at once, so a crash
    never loses a recorded intent."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.migrate()

    @classmethod
    def open(cls, target: str | None = None, timeout: float = BUSY_TIMEOUT_S,
             create: bool = True) -> State:
        """The store at `target` (a SQLite path or a postgresql:// URL), migrated.
        `create=False` (commands that only read it: report, history, outcome, backtest)
        refuses a SQLite file that does not exist yet (exit 2) instead of making one."""
        target = target or DEFAULT_PATH
        label = redact_url(target)
        if target.startswith(("postgresql://", "postgres://")):
            try:
                import psycopg
            except ImportError:  # pragma: no cover - psycopg is a dependency
                raise InputError("ESD_STATE is a PostgreSQL URL but psycopg is not "
                                 "installed") from None
            try:
                connection = psycopg.connect(target, connect_timeout=max(int(timeout), 2))
            except (psycopg.Error, ValueError) as exc:
                raise unavailable(label, exc, password(target)) from None
            db = Database(connection, postgres=True, label=label, errors=(psycopg.Error,))
        else:
            path = Path(target)
            if not create and not path.is_file():
                raise InputError(f"state store {target}: no such file yet (esd run "
                                 "creates it; --state or ESD_STATE names another)",
                                 file=target, field="ESD_STATE")
            if path.parent and not path.parent.exists():
                raise InputError(f"ESD_STATE={target}: folder {path.parent} does not exist",
                                 field="ESD_STATE")
            try:
                connection = sqlite3.connect(path, timeout=timeout)
            except sqlite3.Error as exc:
                raise unavailable(label, exc) from None
            db = Database(connection, postgres=False, label=label)
        try:
            return cls(db)
        except StateUnavailable:
            db.close()
            raise

    def close(self) -> None:
        self.db.close()

    @property
    def label(self) -> str:
        return self.db.label

    def previews(self, reviewer: str) -> PreviewLedger:
        """The ledger of the digests previewed to `reviewer` (esd run --preview-to),
        apart from the deliveries."""
        return PreviewLedger(self.db, reviewer)

    # --- schema -------------------------------------------------------------------

    def migrate(self) -> list[str]:
        """Apply every migration not yet recorded; returns the names applied. Two runs
        opening a new store at once migrate one after the other."""
        if self.db.postgres:
            self.db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
        else:
            self.db.commit()
            self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("CREATE TABLE IF NOT EXISTS _esd_migrations "
                        "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {row[0] for row in self.db.execute("SELECT name FROM _esd_migrations")}
        applied = []
        for step in MIGRATIONS:
            if step.__name__ in done:
                continue
            step(self.db)
            self.db.execute("INSERT INTO _esd_migrations (name, applied_at) VALUES (?, ?)",
                            (step.__name__, utc_now()))
            applied.append(step.__name__)
        self.db.commit()
        return applied

    # --- the extraction result cache (esd.extractors.claude) --------------------------------

    def cached_answers(self, keys: Sequence[str]) -> dict[str, list]:
        """The cached answers among `keys` (a key's answer is a list of raw mentions)."""
        found: dict[str, list] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for key, answer in self.db.execute(
                    f"SELECT key, answer FROM extraction_cache WHERE key IN ({marks})", chunk):
                found[key] = json.loads(answer)
        return found

    def store_answers(self, answers: dict[str, list], model: str) -> None:
        now = utc_now()
        for key, answer in answers.items():
            self.db.execute(
                "INSERT INTO extraction_cache (key, model, answer, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                "answer = excluded.answer, model = excluded.model, "
                "created_at = excluded.created_at",
                (key, model, json.dumps(answer, ensure_ascii=False), now))
        self.db.commit()

    # --- quarterly segment snapshots (esd segment, esd run) ------------------------

    def record_snapshots(self, quarter: str, as_of: datetime, rows: Sequence[dict]) -> None:
        """Upsert this quarter's snapshot of each account (`account_id`, `tier`, `arr`,
        `potential`, `had_signal`): the tier, ARR and potential of the run with the latest
        as-of win (a backfill of an older week changes none of them); a signal seen by any
        run of the quarter stays seen."""
        day = as_of.astimezone(UTC).date().isoformat()
        for row in rows:
            self.db.execute(
                "INSERT INTO segment_snapshots (quarter, account_id, as_of, tier, arr, "
                "potential, had_signal) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (quarter, account_id) DO UPDATE SET "
                + ", ".join(f"{c} = CASE WHEN excluded.as_of >= segment_snapshots.as_of "
                            f"THEN excluded.{c} ELSE segment_snapshots.{c} END"
                            for c in ("tier", "arr", "potential", "as_of"))
                + ", had_signal = CASE WHEN segment_snapshots.had_signal > "
                "excluded.had_signal THEN segment_snapshots.had_signal "
                "ELSE excluded.had_signal END",
                (quarter, row["account_id"], day, int(row["tier"]), float(row["arr"]),
                 row["potential"], 1 if row["had_signal"] else 0))
        self.db.commit()

    def snapshots(self) -> list[dict]:
        """Every quarterly snapshot, oldest quarter first."""
        rows = self.db.execute(
            "SELECT quarter, account_id, as_of, tier, arr, potential, had_signal "
            "FROM segment_snapshots ORDER BY quarter, account_id")
        return [{"quarter": q, "account_id": a, "as_of": d, "tier": t, "arr": arr,
                 "potential": p, "had_signal": bool(h)}
                for q, a, d, t, arr, p, h in rows]

    # --- runs ---------------------------------------------------------------------

    def record_run(self, result, strong_totals: dict[str, int]) -> None:
        """Record (or replace) the run of `result`'s window with each CSM's strong count."""
        window = window_key(result.as_of)
        strong = sum(len(d.strong) for d in result.digests)
        weak = sum(len(d.weak) for d in result.digests)
        self.db.execute(
            """INSERT INTO runs (window_end, window_days, recorded_at, extractor, accounts,
                   coverage_pct, strong, weak, not_signal, cost_usd)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (window_end) DO UPDATE SET window_days = excluded.window_days,
                   recorded_at = excluded.recorded_at, extractor = excluded.extractor,
                   accounts = excluded.accounts, coverage_pct = excluded.coverage_pct,
                   strong = excluded.strong, weak = excluded.weak,
                   not_signal = excluded.not_signal, cost_usd = excluded.cost_usd""",
            (window, result.window_days, utc_now(), result.diagnostics.extractor,
             result.diagnostics.accounts_in_scope, result.coverage_pct, strong, weak,
             len(result.not_signal), result.diagnostics.extraction.cost_usd))
        self.record_signals(result.as_of, result.digests)
        self.db.execute("DELETE FROM csm_runs WHERE window_end = ?", (window,))
        for email, total in strong_totals.items():
            self.db.execute("INSERT INTO csm_runs (window_end, owner_email, strong_total) "
                            "VALUES (?, ?, ?)", (window, email, total))
        self.db.commit()

    def strong_history(self, as_of: datetime, window_days: int, runs: int = 2
                       ) -> dict[str, list[int]]:
        """Each CSM's strong counts of the `runs` recorded windows right before this one
        (ending at or before its start), oldest first; a CSM missing from one of them has
        a shorter (broken) history."""
        start = window_key(as_of - timedelta(days=window_days))
        ends = [row[0] for row in self.db.execute(
            "SELECT window_end FROM runs WHERE window_end <= ? ORDER BY window_end DESC "
            "LIMIT ?", (start, runs))][::-1]
        history: dict[str, list[int]] = {}
        for i, end in enumerate(ends):
            for email, total in self.db.execute(
                    "SELECT owner_email, strong_total FROM csm_runs WHERE window_end = ?",
                    (end,)):
                if len(history.get(email, [])) == i:  # consecutive so far
                    history.setdefault(email, []).append(total)
        return {email: totals for email, totals in history.items()}

    def run_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM runs")[0][0]
