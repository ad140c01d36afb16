"""The preview ledger (`esd run --preview-to`, contract §1): which CSM's digest of which
window was sent to which reviewer, kept apart from the deliveries.

Same shape and guarantees as the delivery ledger (esd.state.deliveries): a digest
`posting`, `sent` or `failed`, each message recorded before it is posted and after
Slack accepts it, a generation for `--resend`. Its own tables, keyed by window,
reviewer and CSM, so a preview is never a delivery: a later real run still delivers,
`esd history` and the overlap rule never see it, and no message of it carries a signal
id (`preview_parts` has no such column), so no reaction on it is ever an outcome.
"""

from __future__ import annotations

from datetime import datetime

from esd.redact import redact_text
from esd.state.db import Database, utc_now, window_key
from esd.state.deliveries import Delivery, LedgerVerbs


def m006_previews(db: Database) -> None:
    """Previews of digests sent to a reviewer, apart from the deliveries."""
    db.execute("""CREATE TABLE preview_deliveries (
        window_end TEXT NOT NULL, reviewer TEXT NOT NULL, owner_email TEXT NOT NULL,
        status TEXT NOT NULL, channel TEXT, ts TEXT, digest_sha TEXT NOT NULL, error TEXT,
        updated_at TEXT NOT NULL, window_days INTEGER, generation INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (window_end, reviewer, owner_email))""")
    db.execute("""CREATE TABLE preview_parts (
        window_end TEXT NOT NULL, reviewer TEXT NOT NULL, owner_email TEXT NOT NULL,
        part INTEGER NOT NULL, parts INTEGER NOT NULL, status TEXT NOT NULL, ts TEXT,
        updated_at TEXT NOT NULL, PRIMARY KEY (window_end, reviewer, owner_email, part))""")


class PreviewLedger(LedgerVerbs):
    """The ledger of the previews sent to one reviewer: the methods esd.delivery.ledger
    calls on the delivery ledger, over the preview tables."""

    def __init__(self, db: Database, reviewer: str) -> None:
        self.db = db
        self.reviewer = reviewer.strip().lower()

    def _key(self, as_of: datetime, owner_email: str) -> tuple[str, str, str]:
        return window_key(as_of), self.reviewer, owner_email

    def delivery(self, as_of: datetime, owner_email: str) -> Delivery | None:
        rows = self.db.execute(
            "SELECT owner_email, status, channel, ts, digest_sha, error, generation "
            "FROM preview_deliveries WHERE window_end = ? AND reviewer = ? AND "
            "owner_email = ?", self._key(as_of, owner_email))
        return Delivery(*rows[0]) if rows else None

    def _upsert(self, as_of: datetime, owner_email: str, status: str, digest_sha: str,
                channel: str | None = None, ts: str | None = None, error: str | None = None,
                window_days: int | None = None, generation: int | None = None) -> None:
        self.db.execute(
            """INSERT INTO preview_deliveries (window_end, reviewer, owner_email, status,
                   channel, ts, digest_sha, error, updated_at, window_days, generation)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (window_end, reviewer, owner_email) DO UPDATE SET
                   status = excluded.status,
                   channel = COALESCE(excluded.channel, preview_deliveries.channel),
                   ts = excluded.ts, digest_sha = excluded.digest_sha,
                   error = excluded.error, updated_at = excluded.updated_at,
                   window_days = COALESCE(?, preview_deliveries.window_days),
                   generation = COALESCE(?, preview_deliveries.generation)""",
            (*self._key(as_of, owner_email), status, channel, ts, digest_sha,
             None if error is None else redact_text(error), utc_now(), window_days or 7,
             generation or 0, window_days, generation))
        self.db.commit()

    def parts(self, as_of: datetime, owner_email: str) -> dict[int, tuple[str, str | None]]:
        return {part: (status, ts) for part, status, ts in self.db.execute(
            "SELECT part, status, ts FROM preview_parts WHERE window_end = ? AND "
            "reviewer = ? AND owner_email = ?", self._key(as_of, owner_email))}

    def record_part(self, as_of: datetime, owner_email: str, part: int, parts: int,
                    status: str, ts: str | None = None, signal_id: str | None = None) -> None:
        """As the delivery ledger's, but a preview's message never counts for a signal:
        `signal_id` is not kept."""
        self.db.execute(
            """INSERT INTO preview_parts (window_end, reviewer, owner_email, part, parts,
                   status, ts, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (window_end, reviewer, owner_email, part) DO UPDATE SET
                   parts = excluded.parts, status = excluded.status, ts = excluded.ts,
                   updated_at = excluded.updated_at""",
            (*self._key(as_of, owner_email), part, parts, status, ts, utc_now()))
        self.db.commit()

    def clear_parts(self, as_of: datetime, owner_email: str) -> None:
        self.db.execute("DELETE FROM preview_parts WHERE window_end = ? AND reviewer = ? "
                        "AND owner_email = ?", self._key(as_of, owner_email))
        self.db.commit()
