"""The CSMs' verdicts on delivered strong signals, read from their Slack reactions
(contract §12).

Each delivered strong signal is a DM message of its own whose esd metadata carries its
id (`signal`). The CSM reacts on it, without leaving Slack and with no server on esd's
side: ✅ `white_check_mark` (or ✔️ `heavy_check_mark`) says it led to an expansion
conversation (`converted`), ❌ `x` that it was not a real signal (`noise`). A message
reacted both ways says neither and is skipped; a skin tone (`name::skin-tone-3`)
changes nothing; other emoji mean nothing to esd.

Every `esd run` first reads the reactions on the digests of the last five weeks (by
the as-of of the run that delivered them) and records each verdict dated by its own
as-of, the day esd first saw it; a verdict already recorded is not recorded again, a
changed one is (`State.record_reactions`). Slack's `conversations.history` serves the
reading: one paged walk per CSM's DM from its oldest signal message on (100 messages a
page; five weeks of digests are about 25), so one request per CSM, where `reactions.get`
would take one request per signal under the same rate limit. It needs the `im:history`
scope (`reactions:read` too, contract §8). A DM that cannot be read (a missing scope, a
channel gone, a rate limit beyond `[http] max_wait_s`) becomes a warning naming the CSM
and Slack's error, never a stopped delivery; the next run reads it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from esd.delivery.ledger import Messenger
from esd.delivery.slack_answers import esd_payload
from esd.errors import DeliveryError
from esd.state import DeliveredSignal, State

OUTCOME_OF = {"white_check_mark": "converted", "heavy_check_mark": "converted",
              "x": "noise"}
LOOKBACK = timedelta(weeks=5)


@dataclass
class ReactionsRead:
    """What a run's reading of reactions did."""

    csms: list[str] = field(default_factory=list)  # whose DMs were read
    dms: int = 0  # DM channels read
    requests: int = 0  # HTTP requests to Slack, retries included
    seen: dict[str, str] = field(default_factory=dict)  # signal id -> outcome, as read
    recorded: list[str] = field(default_factory=list)  # ids recorded (new or changed)
    warnings: list[str] = field(default_factory=list)  # a DM not read, and why

    def counts(self) -> dict[str, int]:
        """How many of the recorded ids say each outcome."""
        tally: dict[str, int] = {}
        for sid in self.recorded:
            tally[self.seen[sid]] = tally.get(self.seen[sid], 0) + 1
        return tally


def outcomes_of(reactions: Any) -> set[str]:
    """The outcomes a message's `reactions` (Slack's `[{name, users, count}]`) name."""
    found = set()
    for reaction in reactions if isinstance(reactions, list) else ():
        name = reaction.get("name") if isinstance(reaction, dict) else None
        if isinstance(name, str) and (outcome := OUTCOME_OF.get(name.partition("::")[0])):
            found.add(outcome)
    return found


def verdicts(messages: Iterable[dict]) -> tuple[dict[str, str], list[str]]:
    """signal id -> outcome for the signals whose messages say one verdict, and the ids
    of those reacted both ways (skipped). A signal posted twice (`--resend`) counts the
    reactions on both its messages. A preview's messages (`esd run --preview-to`) never
    count, whatever their metadata."""
    said: dict[str, set[str]] = {}
    for message in messages:
        payload = esd_payload(message)
        if payload is None or payload.get("preview"):  # a preview's reactions say nothing
            continue
        sid = payload.get("signal")
        if isinstance(sid, str) and sid:
            said.setdefault(sid, set()).update(outcomes_of(message.get("reactions")))
    seen = {sid: next(iter(found)) for sid, found in said.items() if len(found) == 1}
    return seen, sorted(sid for sid, found in said.items() if len(found) > 1)


def read_outcomes(state: State, messenger: Messenger, as_of: datetime,
                  renew: Callable[[], None] = lambda: None) -> ReactionsRead:
    """Read the reactions on every strong signal delivered in the five weeks up to
    `as_of` (windows ending in [as_of - 35 days, as_of]), one DM at a time (`renew`,
    the run lock's, before each), and record the verdicts dated `as_of`. One DM's
    failure is a warning; the others are still read."""
    read = ReactionsRead()
    dms: dict[tuple[str, str], list[DeliveredSignal]] = {}
    for signal in state.delivered_signals(since=(as_of - LOOKBACK).date()):
        if signal.delivered_on <= as_of.date():  # a later window is not this run's past
            dms.setdefault((signal.owner_email, signal.channel or ""), []).append(signal)
    for (owner, channel), signals in dms.items():
        oldest = _oldest(signals)
        if not channel or oldest is None:
            read.warnings.append(
                f"Could not read reactions for {owner}: {len(signals)} delivered "
                "signal(s) have no DM channel or message on record.")
            continue
        renew()
        before = sum(messenger.requests.values())
        try:
            seen = messenger.read_reactions(channel, oldest, owner)
        except DeliveryError as exc:
            read.warnings.append(f"Could not read reactions: {exc}. The next run tries "
                                 "again.")
            continue
        finally:
            read.requests += sum(messenger.requests.values()) - before
        wanted = {s.signal_id for s in signals}
        mine = {sid: outcome for sid, outcome in seen.items() if sid in wanted}
        read.seen.update(mine)
        read.recorded += state.record_reactions(mine, as_of)
        read.dms += 1
        if owner not in read.csms:
            read.csms.append(owner)
    return read


def _oldest(signals: list[DeliveredSignal]) -> float | None:
    """A second before the first signal message: Slack's `oldest` is exclusive."""
    stamps = []
    for signal in signals:
        try:
            stamps.append(float(signal.ts or ""))
        except ValueError:
            continue
    return min(stamps) - 1.0 if stamps else None
