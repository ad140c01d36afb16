"""Deliver each CSM's digest exactly once per window (contract §1, §6, §11).

A digest may span several Slack messages; each is recorded in the state store before it
is posted (`posting`) and after Slack accepts it (`sent`, with its ts). For every
digest:
- skip it when it was sent whole (unless `resend`), or when this CSM already got a
  digest for another window overlapping this one (§6: said per CSM, exit 0);
- when an earlier attempt left messages unaccounted for, ask Slack which are in the DM
  (each carries a metadata marker: week, owner, generation, part, parts) before posting
  anything, and record those as sent;
- post only the missing messages, in order, renewing the run's lock before each.
A post whose fate is unknown is reconciled by the messenger before it is tried again.
One CSM's failure never stops the others: it is recorded (secrets masked), its digest
goes to the fallback folder, and the run ends with exit 4 naming who was missed and why.
`--resend` starts a new generation of the digest, posted whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from esd.errors import DeliveryError
from esd.format import digest_filename
from esd.models import RunResult
from esd.state import Delivery, State

RECONCILE_LOOKBACK = timedelta(days=8)


class Messenger(Protocol):
    """What delivery and the reading of reactions need from Slack
    (esd.delivery.slack.SlackDelivery)."""

    requests: Mapping[str, int]  # method -> HTTP requests sent so far, retries included

    def dm_channel(self, email: str) -> str: ...

    def split(self, markdown: str, signal_ids: Sequence[str] = ()) -> list[Any]:
        """The digest's messages; a message carrying one strong signal alone has that
        signal's id as its `signal_id` attribute."""
        ...

    def post_part(self, channel: str, message: Any, marker: dict, oldest: float) -> str: ...

    def find_parts(self, channel: str, marker: dict, oldest: float) -> dict[int, str]: ...

    def read_reactions(self, channel: str, oldest: float, email: str) -> dict[str, str]:
        """signal id -> outcome its message's reaction says, for the messages in the DM
        `channel` after `oldest` (esd.delivery.reactions)."""
        ...


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)  # found whole in Slack after a crash
    resumed: list[str] = field(default_factory=list)  # of `sent`: only missing parts posted
    missed: list[tuple[str, str]] = field(default_factory=list)  # (email, reason)
    overlapped: list[tuple[str, datetime]] = field(default_factory=list)  # (email, window)


def marker(as_of: datetime, owner_email: str, digest_sha: str, generation: int = 0) -> dict:
    """What every message of a digest carries as Slack metadata (plus part/parts)."""
    return {"week": as_of.date().isoformat(), "owner": owner_email,
            "digest_sha": digest_sha, "gen": generation}


def overlapping(state: State, email: str, as_of: datetime, window_days: int
                ) -> datetime | None:
    """The end of another window already delivered to `email` that overlaps this one."""
    start = as_of - timedelta(days=window_days)
    for end, days in state.delivered_windows(email):
        if end != as_of and end - timedelta(days=days) < as_of and start < end:
            return end
    return None


def deliver(result: RunResult, files: dict[str, str], state: State, messenger: Messenger,
            resend: bool = False, renew: Callable[[], None] = lambda: None) -> Outcome:
    """Post every message of `result`'s digests not yet delivered for its window;
    `renew` (the run lock's) is called before each post."""
    outcome = Outcome()
    as_of = result.as_of
    for digest in result.digests:
        email = digest.owner_email
        markdown = files[digest_filename(email)]
        sha = hashlib.sha256(markdown.encode()).hexdigest()[:16]
        row = state.delivery(as_of, email)
        if row and row.status == "sent" and not resend:
            outcome.already_sent.append(email)
            continue
        if not resend and (other := overlapping(state, email, as_of, result.window_days)):
            outcome.overlapped.append((email, other))
            continue
        generation = row.generation if row else 0
        if resend and row is not None:
            generation += 1
            state.clear_parts(as_of, email)
            row = None
        job = _Digest(state, messenger, as_of, email, sha, generation, result.window_days)
        try:
            messages = messenger.split(markdown, [s.signal_id for s in digest.strong
                                                  if s.signal_id])
            kind = job.deliver(messages, row, renew)
        except DeliveryError as exc:
            state.record_failed(as_of, email, sha, str(exc))
            outcome.missed.append((email, str(exc)))
            continue
        if kind == "reconciled":
            outcome.reconciled.append(email)
        else:
            outcome.sent.append(email)
            if kind == "resumed":
                outcome.resumed.append(email)
    return outcome


@dataclass
class _Digest:
    """One CSM's digest for one window: its messages, resumed where they stopped."""

    state: State
    messenger: Messenger
    as_of: datetime
    email: str
    sha: str
    generation: int
    window_days: int

    def deliver(self, messages: list[Any], row: Delivery | None,
                renew: Callable[[], None]) -> str:
        """"sent", "resumed" (some messages were there already) or "reconciled" (all)."""
        if not messages:
            raise DeliveryError(f"Slack delivery to {self.email}: the digest is empty",
                                source="slack")
        total, state, as_of = len(messages), self.state, self.as_of
        mark = marker(as_of, self.email, self.sha, self.generation)
        oldest = (as_of - RECONCILE_LOOKBACK).timestamp()
        done = {p: ts for p, (status, ts) in state.parts(as_of, self.email).items()
                if status == "sent" and ts and p <= total}
        if row is not None and row.channel and len(done) < total:
            # An earlier attempt stopped midway: what reached Slack counts as sent.
            for part, ts in self.messenger.find_parts(row.channel, mark, oldest).items():
                if part <= total and part not in done:
                    state.record_part(as_of, self.email, part, total, "sent", ts,
                                      signal_id=getattr(messages[part - 1], "signal_id",
                                                        None))
                    done[part] = ts
        already = len(done)
        if already == total:
            state.record_sent(as_of, self.email, row.channel if row else "", done[1],
                              self.sha)
            return "reconciled"
        channel = self.messenger.dm_channel(self.email)
        state.record_intent(as_of, self.email, channel, self.sha, self.window_days,
                            self.generation)
        for part in range(1, total + 1):
            if part in done:
                continue
            renew()
            message = messages[part - 1]
            signal = getattr(message, "signal_id", None)
            state.record_part(as_of, self.email, part, total, "posting", signal_id=signal)
            extra = {"signal": signal} if signal else {}
            try:
                ts = self.messenger.post_part(channel, message,
                                              {**mark, "part": part, "parts": total, **extra},
                                              oldest)
            except DeliveryError as exc:
                if done:
                    raise DeliveryError(f"{exc} (after posting part {len(done)} of {total})",
                                        source=exc.source, endpoint=exc.endpoint) from None
                raise
            state.record_part(as_of, self.email, part, total, "sent", ts, signal_id=signal)
            done[part] = ts
        state.record_sent(as_of, self.email, channel, done[1], self.sha)
        return "resumed" if already else "sent"


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
