"""The text extractors read: a call's utterances with their speaker resolved against
the attendees (from `transcript` or `transcript_text`, contract §2), and ticket ids.

A speaker label is matched to an attendee (contract §2), case-insensitively, after
removing a leading timestamp and a trailing parenthesised title:
1. the attendee's full name (also the label before a comma or dash: "Priya Shah, VP");
2. else a first name or name prefix ("Priya", "Priya S.") that fits exactly one attendee;
3. else the local part of exactly one attendee's `email` ("priya.shah", "pshah").
A label that fits none, or fits several, matches no attendee: its words never count,
and `unattributed` reports them so they are never lost silently.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import NamedTuple

from esd.errors import InputError
from esd.extractors.formats import (
    TIMESTAMP,
    TranscriptFormatError,
    read_segments,
    read_speech,
)
from esd.models import Attendee, Call, Ticket

_LEAD_TS = re.compile(rf"^\s*(?:\[{TIMESTAMP}\]|{TIMESTAMP}(?=\s))\s*")
_TITLE = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*$")
_AFFIX = re.compile(r"\s*(?:,|\s[-–—|]\s).*$")  # "Priya Shah, VP Data", "Priya - Acme"
_HONORIFIC = re.compile(r"^(?:mr|mrs|ms|mx|dr|prof)\.?\s+")
_EMAIL_SEP = re.compile(r"[._\-+]+")
# Letters NFKD does not split into base and accent, and curly apostrophes.
_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "Ø": "O", "ø": "o", "Æ": "AE",
                       "æ": "ae", "Œ": "OE", "œ": "oe", "ß": "ss", "Ł": "L", "ł": "l",
                       "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Þ": "Th", "þ": "th"})
NO_SPEAKER = "(no speaker)"  # how speech before any speaker label is named in reports


class Turn(NamedTuple):
    """One utterance with its speaker resolved against the call's attendees. (A named
    tuple: a long week has hundreds of thousands, and a frozen dataclass is several
    times slower to build.)"""

    text: str
    speaker: Attendee | None  # None: not a known attendee
    label: str | None = None  # the speaker as the transcript names them (None: nobody)
    start_ms: int | None = None


def turns(call: Call) -> list[Turn]:
    """The call's utterances, from `transcript` or `transcript_text` (contract §2),
    parsed once per call."""
    parsed = call._turns  # a private attribute: pydantic looks it up each time
    if parsed is None:
        parsed = call._turns = _parse(call)
    return parsed


def unparsed(calls: Iterable[Call]) -> list[Call]:
    """The calls whose turns are not parsed yet."""
    return [c for c in calls if c._turns is None]


def forget_turns(calls: Iterable[Call]) -> None:
    """Drop the parsed turns of `calls`. A run keeps a week's turns (millions of tuples
    at 10,000 accounts) only while it needs them: alive afterwards, the cycle collector
    would traverse them again and again."""
    for call in calls:
        call._turns = None


def _parse(call: Call) -> list[Turn]:
    speakers = Speakers(call.attendees)
    # A call names a handful of speakers thousands of times: match each label once, and
    # build the tuples directly, with no list in between (a week holds hundreds of
    # thousands of turns, and every object made costs allocation and garbage collection).
    new = tuple.__new__
    if call.transcript is not None:
        found = speakers.found({u.speaker for u in call.transcript})
        return [new(Turn, (u.text, found[u.speaker], u.speaker, u.start_ms))
                for u in call.transcript]
    if not call.transcript_text:
        return []
    try:
        segments = read_segments(call.transcript_text, speakers.names)
    except TranscriptFormatError as exc:
        where = f"{call.origin} (call_id {call.call_id})" if call.origin \
            else f"call {call.call_id}"
        raise InputError(f"{where}: field transcript_text: {exc}",
                         file=call._origin[0] if call._origin else None,
                         record=call.call_id, field="transcript_text") from None
    found = speakers.found({s[1] for s in segments})
    return [new(Turn, (s[0], found[s[1]], s[1], s[2])) for s in segments]  # text, label, ms


def customer_turns(call: Call) -> list[Turn]:
    """Only what customer attendees said: coach and unknown speakers never count."""
    parsed = turns(call)
    if isinstance(parsed, SlimTurns):
        return list(parsed)  # it keeps customer turns only
    return [t for t in parsed if t.speaker is not None and t.speaker.is_customer]


def unattributed(call: Call) -> list[Turn]:
    """The call's non-empty utterances whose speaker matches no attendee (contract §2):
    their words never count, and diagnostics, coverage and check report them. A slim
    call keeps only their count (`unattributed_labels`)."""
    if isinstance(call._turns, SlimTurns):
        raise ValueError(f"call {call.call_id} is slim: it keeps no unattributed words")
    return [t for t in turns(call) if t.speaker is None and t.text.strip()]


def unattributed_labels(call: Call) -> dict[str, int]:
    """How many unattributed utterances (`unattributed`) each speaker label has, in the
    order they first speak; speech before any label is `NO_SPEAKER`'s."""
    parsed = call._turns
    if isinstance(parsed, SlimTurns):
        return parsed.unattributed
    counts: dict[str, int] = {}
    for t in unattributed(call):
        label = t.label or NO_SPEAKER
        counts[label] = counts.get(label, 0) + 1
    return counts


def transcript_field(call: Call) -> str:
    """The field the call's words came from, as messages name it."""
    parsed = call._turns
    if isinstance(parsed, SlimTurns):
        return parsed.field
    return "transcript" if call.transcript is not None else "transcript_text"


def no_customer_words(call: Call) -> bool:
    """Whether the call holds words but none by a customer attendee: it counts for
    coverage and can yield no mention (esd check reports it)."""
    parsed = call._turns
    if isinstance(parsed, SlimTurns):
        return parsed.mute
    return _has_words(call) and not any(t.text.strip() for t in customer_turns(call))


def _has_words(call: Call) -> bool:
    return bool(call.transcript) or bool((call.transcript_text or "").strip())


class SlimTurns(list):
    """The turns a slim call keeps (`slim`): only customer utterances `keep` chose, the
    count of unattributed utterances per speaker label, the field the words came from,
    and whether the call had words but none by a customer (`mute`)."""

    __slots__ = ("unattributed", "field", "mute")

    def __init__(self, kept: Iterable[Turn], unattributed: dict[str, int],
                 field: str = "transcript", mute: bool = False) -> None:
        super().__init__(kept)
        self.unattributed = unattributed
        self.field = field
        self.mute = mute


def slim(call: Call, keep: Callable[[list[str]], Iterable[int]]) -> Call:
    """`call` holding only what a rule-extractor run reads of it (issue 16: a 100,000-call
    week does not fit in memory whole): the customer utterances whose index `keep`
    returns, given every customer utterance's text, and the unattributed counts. The
    transcript and the attendees are dropped (the kept turns hold their speakers), so a
    slim call serves the pipeline's extraction and diagnostics, nothing else. A
    transcript that cannot be read stays as it is, for the pipeline to report if the
    call is in its window. Changes `call` in place."""
    speakers = Speakers(call.attendees)
    if call.transcript is not None:
        said = call.transcript
        texts = [u.text for u in said]
        labels: list[str | None] = [u.speaker for u in said]
        starts = [u.start_ms for u in said]
    elif call.transcript_text:
        try:
            texts, labels, starts, _ = read_speech(call.transcript_text, speakers.names)
        except TranscriptFormatError:
            return call
    else:
        texts, labels, starts = [], [], []
    found = speakers.found(set(labels))
    customers = [i for i, label in enumerate(labels)
                 if (who := found[label]) is not None and who.is_customer]
    counts: dict[str, int] = {}
    if None in found.values():
        for label, text in zip(labels, texts, strict=True):
            if found[label] is None and text.strip():
                counts[label or NO_SPEAKER] = counts.get(label or NO_SPEAKER, 0) + 1
    chosen = sorted(keep([texts[i] for i in customers])) if customers else []
    kept = [customers[i] for i in chosen]
    field = transcript_field(call)
    # Most calls have a customer's words: test that first, and `_has_words` (a copy of
    # the whole text) only for the rest.
    mute = not any(texts[i].strip() for i in customers) and _has_words(call)
    # [] still says "a transcript"; the kept turns hold their speakers.
    call.transcript, call.transcript_text, call.attendees = [], None, []
    call._turns = SlimTurns((Turn(texts[i], found[labels[i]], labels[i], starts[i])
                             for i in kept), counts, field, mute)
    return call


def ticket_id(ticket: Ticket) -> str:
    """Sources always give tickets an id; the file loader numbers id-less ones."""
    return ticket.ticket_id or ""


# A week repeats its CSMs' and customers' names over many calls: normalise each once.
@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """A name as compared: case, accents, curly apostrophes, spacing and an honorific
    (Dr., Ms.) do not matter."""
    text = unicodedata.normalize("NFKD", name.translate(_FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _HONORIFIC.sub("", " ".join(text.casefold().split()))


@lru_cache(maxsize=1 << 16)
def clean_label(label: str) -> str:
    """A speaker label without its leading timestamp, trailing title and colon."""
    text = _LEAD_TS.sub("", label).strip().rstrip(":").strip()
    while _TITLE.search(text) and _TITLE.sub("", text):
        text = _TITLE.sub("", text)
    return text


class Speakers:
    """Matches one call's speaker labels to its attendees (the module docstring's rules)."""

    def __init__(self, attendees: list[Attendee]) -> None:
        self.attendees = attendees
        # Labels that open a line even when not capitalised: names, emails, local parts.
        self.names = frozenset(
            [" ".join(a.name.lower().split()) for a in attendees]
            + [e for a in attendees if a.email for e in (a.email, a.email.split("@")[0])])
        self._keys = [(name_key(a.name), a) for a in attendees]
        self._cache: dict[str, Attendee | None] = {}

    def found(self, labels: set[str | None]) -> dict[str | None, Attendee | None]:
        """Each label's attendee (None for no label, or an empty one)."""
        return {label: self.match(label) if label else None for label in labels}

    def match(self, label: str | None) -> Attendee | None:
        if label is None:
            return None
        if label not in self._cache:
            self._cache[label] = self._match(clean_label(label))
        return self._cache[label]

    def _match(self, label: str) -> Attendee | None:
        key = name_key(label)
        if not key:
            return None
        for candidate in dict.fromkeys((key, name_key(_AFFIX.sub("", label)))):
            found = _one(a for k, a in self._keys if k == candidate)
            if found:
                return found
        found = _one(a for k, a in self._keys if _is_prefix(key, k))
        if found:
            return found
        return _one(a for a in self.attendees if a.email and _is_email_of(key, a.email))


def _one(found) -> Attendee | None:
    # Exactly one attendee, or several entries for one person (a duplicated attendee).
    people = {(a.name, a.email, a.is_customer): a for a in found}
    return next(iter(people.values())) if len(people) == 1 else None


def _is_prefix(label: str, name: str) -> bool:
    """"priya" or "priya s." fits "priya shah": leading whole words of the name, the
    last one possibly an initial."""
    said, full = label.split(" "), name.split(" ")
    if len(said) > len(full) or not said:
        return False
    *whole, last = said
    if whole != full[:len(whole)]:
        return False
    last = last.rstrip(".")
    here = full[len(whole)]
    return last == here or (bool(whole) and len(last) == 1 and here.startswith(last))


def _is_email_of(label: str, email: str) -> bool:
    local = email.split("@", 1)[0]
    return label in (email, local, _EMAIL_SEP.sub(" ", local).strip())
