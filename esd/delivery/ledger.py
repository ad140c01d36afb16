"""Deliver each CSM's digest exactly once per window (contract §1, §11).

For every digest: skip it when the ledger says it was sent (unless `resend`); if an
earlier attempt left a `posting` or `failed` row with a DM channel, ask Slack whether
the message is there (it carries a metadata marker) before posting again; otherwise
record the intent, post, record the ts. One CSM's failure never stops the others: it is
recorded, its digest goes to the fallback folder, and the run ends with exit 4 naming
who was missed and why.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from esd.errors import DeliveryError
from esd.format import digest_filename
from esd.models import RunResult
from esd.state import State

RECONCILE_LOOKBACK = timedelta(days=8)


class Messenger(Protocol):
    """What delivery needs from Slack (esd.delivery.slack.SlackDelivery)."""

    def dm_channel(self, email: str) -> str: ...

    def post_digest(self, channel: str, markdown: str, marker: dict) -> list[str]: ...

    def find_posted(self, channel: str, marker: dict, oldest: float) -> str | None: ...


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)  # found in Slack after a crash
    missed: list[tuple[str, str]] = field(default_factory=list)  # (email, reason)


def marker(as_of: datetime, owner_email: str, digest_sha: str) -> dict:
    """What the first message of a digest carries as Slack metadata."""
    return {"week": as_of.date().isoformat(), "owner": owner_email, "digest_sha": digest_sha}


def deliver(result: RunResult, files: dict[str, str], state: State, messenger: Messenger,
            resend: bool = False) -> Outcome:
    """Post every digest of `result` not yet delivered for its window."""
    outcome = Outcome()
    as_of = result.as_of
    oldest = (as_of - RECONCILE_LOOKBACK).timestamp()
    for digest in result.digests:
        email = digest.owner_email
        markdown = files[digest_filename(email)]
        sha = hashlib.sha256(markdown.encode()).hexdigest()[:16]
        mark = marker(as_of, email, sha)
        row = state.delivery(as_of, email)
        if row and row.status == "sent" and not resend:
            outcome.already_sent.append(email)
            continue
        try:
            if row and row.status in ("posting", "failed") and row.channel and not resend:
                ts = messenger.find_posted(row.channel, mark, oldest)
                if ts:
                    state.record_sent(as_of, email, row.channel, ts, row.digest_sha)
                    outcome.reconciled.append(email)
                    continue
            channel = messenger.dm_channel(email)
            state.record_intent(as_of, email, channel, sha)
            ts = messenger.post_digest(channel, markdown, mark)[0]
            state.record_sent(as_of, email, channel, ts, sha)
            outcome.sent.append(email)
        except DeliveryError as exc:
            state.record_failed(as_of, email, sha, str(exc))
            outcome.missed.append((email, str(exc)))
    return outcome


def write_fallback(folder: Path, as_of: datetime, files: dict[str, str],
                   missed: list[tuple[str, str]]) -> Path:
    """The missed CSMs' digests, in `folder/<week>/`, for a human to forward."""
    target = folder / as_of.date().isoformat()
    target.mkdir(parents=True, exist_ok=True)
    for email, _ in missed:
        name = digest_filename(email)
        (target / name).write_text(files[name], encoding="utf-8")
    return target


def missed_error(missed: list[tuple[str, str]], fallback: Path) -> DeliveryError:
    lines = "\n  ".join(f"{email}: {reason}" for email, reason in missed)
    return DeliveryError(f"{len(missed)} digest(s) not delivered (written to {fallback}/; "
                         f"the next `esd run` for this window sends only these):\n  {lines}",
                         source="slack")
