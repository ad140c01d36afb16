"""The delivery ledger's rows (contract §11): per window and CSM the digest's status,
and per message of it `posting` or `sent`, so a resumed digest sends only what is
missing and a post of unknown fate is looked up before it is sent again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from esd.redact import redact_text
from esd.state.db import Database, utc_now, window_key


@dataclass(frozen=True)
class Delivery:
    owner_email: str
    status: str  # posting | sent | failed
    channel: str | None
    ts: str | None
    digest_sha: str
    error: str | None
    generation: int = 0


class LedgerVerbs:
    """The three steps of one digest's delivery row, over a ledger's own `_upsert`
    (Deliveries' rows, and the previews' of esd.state.previews)."""

    def _upsert(self, as_of: datetime, owner_email: str, status: str, digest_sha: str,
                channel: str | None = None, ts: str | None = None,
                error: str | None = None, window_days: int | None = None,
                generation: int | None = None) -> None:
        raise NotImplementedError

    def record_intent(self, as_of: datetime, owner_email: str, channel: str,
                      digest_sha: str, window_days: int | None = None,
                      generation: int | None = None) -> None:
        """Before posting: if the process dies after Slack accepted a message, the next
        run finds this row and asks Slack instead of posting again."""
        self._upsert(as_of, owner_email, "posting", digest_sha, channel=channel,
                     window_days=window_days, generation=generation)

    def record_sent(self, as_of: datetime, owner_email: str, channel: str, ts: str,
                    digest_sha: str) -> None:
        self._upsert(as_of, owner_email, "sent", digest_sha, channel=channel, ts=ts)

    def record_failed(self, as_of: datetime, owner_email: str, digest_sha: str,
                      error: str) -> None:
        """The reason is stored with any URL password masked."""
        self._upsert(as_of, owner_email, "failed", digest_sha, error=error)


class Deliveries(LedgerVerbs):
    """The `deliveries` and `delivery_parts` tables, mixed into esd.state.State."""

    db: Database

    # --- deliveries ---------------------------------------------------------------

    def delivery(self, as_of: datetime, owner_email: str) -> Delivery | None:
        rows = self.db.execute(
            "SELECT owner_email, status, channel, ts, digest_sha, error, generation "
            "FROM deliveries WHERE window_end = ? AND owner_email = ?",
            (window_key(as_of), owner_email))
        return Delivery(*rows[0]) if rows else None

    def _upsert(self, as_of: datetime, owner_email: str, status: str, digest_sha: str,
                channel: str | None = None, ts: str | None = None,
                error: str | None = None, window_days: int | None = None,
                generation: int | None = None) -> None:
        self.db.execute(
            """INSERT INTO deliveries (window_end, owner_email, status, channel, ts, digest_sha,
                   error, updated_at, window_days, generation)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (window_end, owner_email) DO UPDATE SET status = excluded.status,
                   channel = COALESCE(excluded.channel, deliveries.channel),
                   ts = excluded.ts, digest_sha = excluded.digest_sha,
                   error = excluded.error, updated_at = excluded.updated_at,
                   window_days = COALESCE(?, deliveries.window_days),
                   generation = COALESCE(?, deliveries.generation)""",
            (window_key(as_of), owner_email, status, channel, ts, digest_sha,
             None if error is None else redact_text(error), utc_now(), window_days or 7,
             generation or 0, window_days, generation))
        self.db.commit()

    def parts(self, as_of: datetime, owner_email: str) -> dict[int, tuple[str, str | None]]:
        """Each recorded message of a digest: part -> (status, ts)."""
        return {part: (status, ts) for part, status, ts in self.db.execute(
            "SELECT part, status, ts FROM delivery_parts WHERE window_end = ? AND "
            "owner_email = ?", (window_key(as_of), owner_email))}

    def record_part(self, as_of: datetime, owner_email: str, part: int, parts: int,
                    status: str, ts: str | None = None, signal_id: str | None = None) -> None:
        """`posting` before a message is sent, `sent` with its ts once Slack took it;
        `signal_id` names the strong signal the message carries alone (contract §12)."""
        self.db.execute(
            """INSERT INTO delivery_parts (window_end, owner_email, part, parts, status, ts,
                   updated_at, signal_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (window_end, owner_email, part) DO UPDATE SET
                   parts = excluded.parts, status = excluded.status, ts = excluded.ts,
                   updated_at = excluded.updated_at, signal_id = excluded.signal_id""",
            (window_key(as_of), owner_email, part, parts, status, ts, utc_now(), signal_id))
        self.db.commit()

    def clear_parts(self, as_of: datetime, owner_email: str) -> None:
        """Forget a digest's messages (`--resend` posts a new generation)."""
        self.db.execute("DELETE FROM delivery_parts WHERE window_end = ? AND owner_email = ?",
                        (window_key(as_of), owner_email))
        self.db.commit()

    def delivered_windows(self, owner_email: str) -> list[tuple[datetime, int]]:
        """(window end, days) of every window with at least one message delivered to
        `owner_email` (compared case-insensitively)."""
        rows = self.db.execute(
            "SELECT d.window_end, d.window_days FROM deliveries d WHERE "
            "LOWER(d.owner_email) = LOWER(?) AND (d.status = 'sent' OR EXISTS (SELECT 1 "
            "FROM delivery_parts p WHERE p.window_end = d.window_end AND p.owner_email = "
            "d.owner_email AND p.status = 'sent'))", (owner_email,))
        return [(datetime.fromisoformat(end.replace("Z", "+00:00")), days or 7)
                for end, days in rows]
