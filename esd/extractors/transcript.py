"""The text extractors read: a call's utterances with their speaker resolved against
the attendees (from `transcript` or `transcript_text`, contract §2), and ticket ids."""

from __future__ import annotations

import re
from dataclasses import dataclass

from esd.models import Attendee, Call, Ticket


@dataclass(frozen=True)
class Turn:
    """One utterance with its speaker resolved against the call's attendees."""

    text: str
    speaker: Attendee | None  # None: not a known attendee


def turns(call: Call) -> list[Turn]:
    """The call's utterances, from `transcript` or `transcript_text` (contract §2)."""
    by_name = {a.name.strip().lower(): a for a in call.attendees}
    if call.transcript is not None:
        return [Turn(u.text, by_name.get(u.speaker.strip().lower())) for u in call.transcript]
    if call.transcript_text:
        return _split_transcript_text(call.transcript_text, by_name)
    return []


def customer_turns(call: Call) -> list[Turn]:
    """Only what customer attendees said: coach and unknown speakers never count."""
    return [t for t in turns(call) if t.speaker is not None and t.speaker.is_customer]


def ticket_id(ticket: Ticket) -> str:
    """Sources always give tickets an id; the file loader numbers id-less ones."""
    return ticket.ticket_id or ""


def _split_transcript_text(text: str, by_name: dict[str, Attendee]) -> list[Turn]:
    # "Speaker Name: words"; a line with no known speaker prefix continues the previous one.
    if not by_name:
        return [Turn(text, None)]
    names = sorted(by_name, key=len, reverse=True)
    prefix = re.compile(r"^[ \t]*(" + "|".join(re.escape(n) for n in names) + r")[ \t]*:[ \t]?",
                        re.IGNORECASE | re.MULTILINE)
    out: list[Turn] = []
    heads = list(prefix.finditer(text))
    if not heads or heads[0].start() > 0:
        lead = text[: heads[0].start() if heads else len(text)].strip("\n")
        if lead.strip():
            out.append(Turn(lead, None))
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out.append(Turn(text[head.end():end].rstrip("\n"), by_name[head.group(1).lower()]))
    return out
