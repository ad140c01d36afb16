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

`only` (esd run --only) leaves the other CSMs untouched: neither posted nor recorded,
so a later full run delivers to them. `deliver_previews` (--preview-to) posts every
chosen digest to one reviewer with the same exactly-once steps, in a ledger of its own
(esd.state.previews) and under a marker of its own (`preview`: the reviewer), so it is
never mistaken for a delivery; its messages carry no signal id, so no reaction on them
is an outcome.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from esd.errors import DeliveryError
from esd.format import digest_filename
from esd.models import Digest, RunResult
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


class Book(Protocol):
    """The ledger rows delivery reads and writes: the deliveries (esd.state.State) or
    one reviewer's previews (esd.state.PreviewLedger)."""

    def delivery(self, as_of: datetime, owner_email: str) -> Delivery | None: ...

    def parts(self, as_of: datetime, owner_email: str) -> dict[int, tuple[str, str | None]]:
        ...

    def record_part(self, as_of: datetime, owner_email: str, part: int, parts: int,
                    status: str, ts: str | None = None, signal_id: str | None = None
                    ) -> None: ...

    def record_intent(self, as_of: datetime, owner_email: str, channel: str,
                      digest_sha: str, window_days: int | None = None,
                      generation: int | None = None) -> None: ...

    def record_sent(self, as_of: datetime, owner_email: str, channel: str, ts: str,
                    digest_sha: str) -> None: ...

    def record_failed(self, as_of: datetime, owner_email: str, digest_sha: str,
                      error: str) -> None: ...

    def clear_parts(self, as_of: datetime, owner_email: str) -> None: ...


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)  # found whole in Slack after a crash
    resumed: list[str] = field(default_factory=list)  # of `sent`: only missing parts posted
    missed: list[tuple[str, str]] = field(default_factory=list)  # (email, reason)
    overlapped: list[tuple[str, datetime]] = field(default_factory=list)  # (email, window)
    left_out: list[str] = field(default_factory=list)  # not chosen by --only: untouched


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
            resend: bool = False, renew: Callable[[], None] = lambda: None,
            only: Collection[str] | None = None) -> Outcome:
    """Post every message of `result`'s digests not yet delivered for its window (of
    the CSMs in `only`, when given); `renew` (the run lock's) is called before each
    post."""
    outcome = Outcome()
    as_of = result.as_of
    for digest, row in _pending(result, only, outcome, state, resend):
        email = digest.owner_email
        if not resend and (other := overlapping(state, email, as_of, result.window_days)):
            outcome.overlapped.append((email, other))
            continue
        _post(outcome, _Digest(state, messenger, as_of, email, "", 0, result.window_days),
              files[digest_filename(email)], row, resend, renew, _signal_ids(digest))
    return outcome


def deliver_previews(result: RunResult, files: dict[str, str], state: State,
                     messenger: Messenger, reviewer: str, resend: bool = False,
                     renew: Callable[[], None] = lambda: None,
                     only: Collection[str] | None = None) -> Outcome:
    """Post every chosen digest (`files`: already marked as previews) to `reviewer`,
    exactly once per window, reviewer and CSM (`resend`: again, as a new generation).
    A reviewer Slack cannot find fails here, before anything is posted."""
    book = state.previews(reviewer)
    messenger.dm_channel(reviewer)
    outcome = Outcome()
    for digest, row in _pending(result, only, outcome, book, resend):
        email = digest.owner_email
        job = _Digest(book, messenger, result.as_of, email, "", 0, result.window_days,
                      recipient=reviewer, tag={"preview": book.reviewer})
        # Split as the CSM's digest will be (a message per strong signal), so the
        # reviewer sees what the CSM will; no message names its signal (below).
        _post(outcome, job, files[digest_filename(email)], row, resend, renew,
              _signal_ids(digest))
    return outcome


def _pending(result: RunResult, only: Collection[str] | None, outcome: Outcome,
             ledger: Book, resend: bool) -> Iterator[tuple[Digest, Delivery | None]]:
    """Each digest to post, with its ledger row: of the CSMs in `only` (the others are
    `left_out`), and not already sent for the window unless `resend`."""
    for digest in result.digests:
        email = digest.owner_email
        if only is not None and email not in only:
            outcome.left_out.append(email)
            continue
        row = ledger.delivery(result.as_of, email)
        if row and row.status == "sent" and not resend:
            outcome.already_sent.append(email)
            continue
        yield digest, row


def _signal_ids(digest: Digest) -> list[str]:
    """The ids of the strong signals a digest lists, each a message of its own."""
    return [s.signal_id for s in digest.strong if s.signal_id]


def _post(outcome: Outcome, job: _Digest, markdown: str, row: Delivery | None,
          resend: bool, renew: Callable[[], None], signal_ids: Sequence[str]) -> None:
    """Deliver one digest through `job` (a new generation with `resend`) and note how
    it went in `outcome`; a DeliveryError is recorded as missed, never raised."""
    job.sha = hashlib.sha256(markdown.encode()).hexdigest()[:16]
    job.generation = row.generation if row else 0
    if resend and row is not None:
        job.generation += 1
        job.book.clear_parts(job.as_of, job.email)
        row = None
    try:
        kind = job.deliver(job.messenger.split(markdown, signal_ids), row, renew)
    except DeliveryError as exc:
        job.book.record_failed(job.as_of, job.email, job.sha, str(exc))
        outcome.missed.append((job.email, str(exc)))
        return
    if kind == "reconciled":
        outcome.reconciled.append(job.email)
    else:
        outcome.sent.append(job.email)
        if kind == "resumed":
            outcome.resumed.append(job.email)


@dataclass
class _Digest:
    """One CSM's digest for one window: its messages, resumed where they stopped.
    Posted to `recipient` (default: the CSM), its marker extended by `tag`."""

    book: Book
    messenger: Messenger
    as_of: datetime
    email: str
    sha: str
    generation: int
    window_days: int
    recipient: str | None = None
    tag: dict = field(default_factory=dict)

    def deliver(self, messages: list[Any], row: Delivery | None,
                renew: Callable[[], None]) -> str:
        """"sent", "resumed" (some messages were there already) or "reconciled" (all)."""
        if not messages:
            raise DeliveryError(f"Slack delivery to {self.email}: the digest is empty",
                                source="slack")
        total, state, as_of = len(messages), self.book, self.as_of
        mark = {**marker(as_of, self.email, self.sha, self.generation), **self.tag}
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
        channel = self.messenger.dm_channel(self.recipient or self.email)
        state.record_intent(as_of, self.email, channel, self.sha, self.window_days,
                            self.generation)
        for part in range(1, total + 1):
            if part in done:
                continue
            renew()
            message = messages[part - 1]
            signal = getattr(message, "signal_id", None)
            state.record_part(as_of, self.email, part, total, "posting", signal_id=signal)
            # A preview's message never names its signal: it is not the CSM's, and its
            # reactions are not outcomes (esd.delivery.reactions skips it anyway).
            extra = {"signal": signal} if signal and not self.recipient else {}
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
