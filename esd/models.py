"""Pydantic records: the input files of contract §2, the evidence and signals the
pipeline derives from them, and the per-CSM digests it emits.

Input records ignore unknown fields (vendors add fields without notice) and are
strict about types: a string where a number belongs is bad input, not a guess.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

MIN_YEAR, MAX_YEAR = 1970, 9999  # contract §2: dates outside these years, in UTC, are bad
MAX_ARR = 1e12  # dollars: no real account is worth more
MAX_DELTA_PCT = 1e9  # percent
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _as_utc(value: datetime) -> datetime:
    # A timestamp without an offset is taken as UTC (contract §3: all windows are UTC).
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-05:00 is in the year 10000 in UTC
        raise ValueError(f"date outside the years {MIN_YEAR}-{MAX_YEAR} in UTC") from None
    return _in_years(value)


def _in_years(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"date outside the years {MIN_YEAR}-{MAX_YEAR} in UTC")
    return value


def _identifier(value: str) -> str:
    # Account ids and emails are join keys: a control character in one is an export bug.
    if _CONTROL.search(value):
        raise ValueError("holds a control character (a line break, tab or NUL)")
    return value


def _email(value: str) -> str:
    # Contract §2: emails are compared case-insensitively everywhere, so they are
    # lower-cased once, here, and grouping, file names, Slack look-up and state agree.
    return _identifier(value.strip()).lower()


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
Day = Annotated[date, AfterValidator(_in_years)]
NonEmpty = Annotated[str, Field(min_length=1)]
Id = Annotated[str, Field(min_length=1), AfterValidator(_identifier)]
Email = Annotated[str, AfterValidator(_email), Field(pattern=r"^[^@\s]+@[^@\s]+$")]
OptionalEmail = Annotated[str, AfterValidator(_email)]
Number = Annotated[float, Field(allow_inf_nan=False)]  # finite: NaN and 1e400 are bad input
Delta = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_DELTA_PCT, le=MAX_DELTA_PCT)]


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)


# --- inputs (contract §2) ---------------------------------------------------------


class Located(Record):
    """An input record whose problems can surface after loading (a call's transcript is
    parsed for the window, an account's segment checked by esd segment), so it keeps
    where it was read, to be named as every bad input is."""

    # (file, record index, line or None for a .json array), set by
    # esd.connectors.files; None for a live source.
    _origin: tuple[str, int, int | None] | None = PrivateAttr(default=None)

    @property
    def origin(self) -> str | None:
        """`FILE: record [i]` or `FILE: line n`, when the record came from an input file."""
        if self._origin is None:
            return None
        path, index, line = self._origin
        return f"{path}: line {line}" if line is not None else f"{path}: record [{index}]"

    def __eq__(self, other: object) -> bool:
        """Pydantic's equality (type, fields, extra and private values), except where the
        record was read: a week pulled live equals the same week read from files."""
        if not isinstance(other, Located):
            return NotImplemented
        if self._origin is None and other._origin is None:
            return super().__eq__(other)
        return (type(self) is type(other)
                and _without_origin(self) == _without_origin(other)
                and (self.__pydantic_extra__ or {}) == (other.__pydantic_extra__ or {})
                and all(getattr(self, name) == getattr(other, name)
                        for name in type(self).model_fields))

    __hash__ = None  # mutable, as every model that is not frozen


def _without_origin(record: Located) -> dict[str, Any]:
    return {k: v for k, v in (record.__pydantic_private__ or {}).items() if k != "_origin"}


class Account(Located):
    id: Id
    name: NonEmpty
    arr: Annotated[float, Field(ge=0, le=MAX_ARR, allow_inf_nan=False)]
    segment: NonEmpty
    tier: str
    owner_email: Email
    renewal_date: Day
    owner_name: str | None = None


class Attendee(Record):
    name: NonEmpty
    is_customer: bool
    title: str | None = None
    role: str | None = None
    email: OptionalEmail | None = None

    @property
    def label(self) -> str | None:
        """The role shown after a speaker's name in the digest."""
        return self.title or self.role


@pydantic_dataclass(slots=True, config=ConfigDict(extra="ignore", strict=True))
class Utterance:
    """One turn of a structured transcript. A slotted dataclass, not a BaseModel: a
    10,000-call week holds over a million of these, at a fifth of the memory."""

    speaker: str
    text: str
    start_ms: int | None = None


class Call(Located):
    account_id: Id
    call_id: NonEmpty  # a line break in it is shown as a space (§11), not refused
    occurred_at: UtcDatetime
    attendees: list[Attendee]
    transcript: list[Utterance] | None = None
    transcript_text: str | None = None
    transcript_url: str | None = None
    # The call's page in the recorder's web app (Gong's metaData.url): the digest links
    # the quote's call id to it, when it is an https URL of the source's host.
    url: str | None = None
    # The parsed turns (esd.extractors.transcript.turns), kept so that diagnostics, the
    # prefilter and the extractor parse a long transcript once, not three times.
    _turns: list[Any] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _has_some_transcript(self) -> Call:
        if self.transcript is None and self.transcript_text is None and not self.transcript_url:
            raise ValueError("needs one of transcript, transcript_text or transcript_url")
        return self


class UsageEvent(Record):
    account_id: Id
    event_type: NonEmpty
    metric_name: NonEmpty
    value_current: Number | None
    value_baseline: Number | None
    delta_pct: Delta | None
    occurred_at: UtcDatetime
    feature: str | None = None
    event_id: str | None = None


class Ticket(Record):
    account_id: Id
    subject: str
    body_summary: str
    tags: list[str]
    opened_at: UtcDatetime
    ticket_id: str | None = None


class StakeholderChange(Record):
    account_id: Id
    change_type: Literal["new_hire", "promotion", "departure"]
    role: str | None
    is_champion: bool
    occurred_at: UtcDatetime


Fraction = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0)]


class HealthRecord(Record):
    """One account's health inputs (contract §9, `health.json`, optional; any field may be
    missing and is then re-weighted away). Ratios and scores take integers or decimals;
    counts (escalations, seats) must be whole numbers."""

    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)

    account_id: Id
    dau_mau: Fraction | None = None  # daily / monthly active users, 0-1
    feature_adoption: Fraction | None = None  # core features used / available, 0-1
    csat: Annotated[float, Field(ge=0, le=5)] | None = None
    open_escalations: Count | None = None
    exec_access: bool | None = None
    champion_active: bool | None = None
    nps: Annotated[float, Field(ge=-100, le=100)] | None = None
    seats_used: Count | None = None
    seats_licensed: Count | None = None


class Portfolio(BaseModel):
    """Everything one run reads. `stakeholder_changes` is None when no source provides
    them: the champion guard cannot run, and every digest footer says so."""

    accounts: list[Account]
    calls: list[Call]
    usage_events: list[UsageEvent]
    tickets: list[Ticket]
    stakeholder_changes: list[StakeholderChange] | None = None
    health: list[HealthRecord] | None = None  # health.json (esd segment, digest health band)
    # Live sources only: records dropped because they map to no known account, per source.
    unmapped: dict[str, int] = Field(default_factory=dict)
    # Which ticket system was read: a name, "none" (ESD_TICKET_SOURCE=none), or None (files).
    ticket_source: str | None = None


# --- evidence and signals (contract §5) -----------------------------------------------

Label = Literal["signal", "not_signal"]
# model: Claude judged it; negated: a negation cue or a question answered "no" (§5.3)
NotSignalReason = Literal["negative-example", "negated", "conditional", "model"]
WeakReason = Literal[
    "champion-departure", "call-only", "usage-only", "ticket-only",
    "call-and-ticket", "usage-and-ticket",
]


class Mention(BaseModel):
    """One SKU matched in one sentence of a call or ticket (or by a ticket's tag/subject)."""

    account_id: str
    sku: str
    source: Literal["call", "ticket"]
    source_id: str
    quote: str
    trigger: str  # the text that matched
    occurred_at: datetime
    phrase: str | None = None  # the taxonomy phrase as written, e.g. "need {N} more seats"
    speaker: str | None = None
    speaker_title: str | None = None
    label: Label = "signal"
    reason: NotSignalReason | None = None


class Signal(BaseModel):
    """Per account and SKU: the evidence and its classification (strong or weak)."""

    account_id: str
    sku: str
    strength: Literal["strong", "weak"]
    reason: WeakReason | None = None
    tags: list[str] = Field(default_factory=list)
    call_evidence: list[Mention] = Field(default_factory=list)
    ticket_evidence: list[Mention] = Field(default_factory=list)
    usage_evidence: list[UsageEvent] = Field(default_factory=list)
    action: str | None = None
    action_row: str | None = None  # the action library row's trigger pattern, if one fit
    signal_id: str | None = None  # contract §12: see `signal_id()`


class Digest(BaseModel):
    """One CSM's week: ranked and capped strong signals, weak ones, and the overflow."""

    owner_email: str
    csm_name: str
    strong: list[Signal]
    weak: list[Signal]
    overflow: int
    accounts_owned: int
    warnings: list[str] = Field(default_factory=list)

    @property
    def strong_total(self) -> int:
        """Strong signals before the cap (what the flooding guard watches)."""
        return len(self.strong) + self.overflow


class ExtractionReport(BaseModel):
    """Which extractor ran and what it cost (footer and run.json `extraction`)."""

    extractor: str = "rules"  # what produced the mentions: "claude" or "rules"
    model: str | None = None
    batch: bool = False
    requests: int = 0  # requests sent to the API (batched requests count one each)
    sources: int = 0  # calls and tickets scanned
    sources_sent: int = 0  # ... whose prefiltered text was sent this run
    sources_cached: int = 0  # ... answered from the result cache (cost nothing)
    sources_skipped: int = 0  # ... with nothing expansion-shaped to send
    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0  # at list prices, from the usage the API reported
    estimate_usd: float | None = None  # the pre-flight estimate (--max-cost)
    dropped: dict[str, int] = Field(default_factory=dict)  # model mentions we refused, by why
    fallback: str | None = None  # why the rule extractor finished the run instead


class Diagnostics(BaseModel):
    accounts_in_scope: int
    accounts_silent: int
    negative_matches: int
    champion_suppressions: int
    taxonomy_hash: str
    conditional_matches: int = 0
    negative_example_matches: int = 0
    negated_matches: int = 0
    usage_events_in_window: int = 0
    usage_in_noise_band: int = 0
    usage_no_baseline: int = 0
    usage_null_delta: int = 0
    stakeholder_data: bool = True
    extractor: str = "rules"
    extraction: ExtractionReport = Field(default_factory=ExtractionReport)
    unmapped_records: dict[str, int] = Field(default_factory=dict)
    ticket_source: str | None = None
    # Contract §2, §6: utterances whose speaker matches no attendee (never counted).
    unattributed_calls: int = 0
    unattributed_utterances: int = 0


class RunResult(BaseModel):
    as_of: datetime
    window_days: int
    coverage_pct: float
    diagnostics: Diagnostics
    digests: list[Digest]
    not_signal: list[Mention]
    accounts: dict[str, Account]
    warnings: list[str] = Field(default_factory=list)
    signals: list[Signal] = Field(default_factory=list)  # every signal, before routing
    counted_usage: list[UsageEvent] = Field(default_factory=list)  # above segment bands
    labels: dict[str, tuple[int, str, str]] = Field(default_factory=dict)  # tier, name, band
    # call id -> the call's page in the source's web app, only where safe to link
    # (esd.render.links): the digest links a quote's call id to it.
    call_urls: dict[str, str] = Field(default_factory=dict)


CHAMPION_LOOKBACK_DAYS = 30  # contract §3: [as_of - 30 days, as_of)


class Window(BaseModel):
    """The half-open run window [start, end) in UTC (contract §3)."""

    start: datetime
    end: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


SIGNAL_ID_LENGTH = 7
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32: no i, l, o, u


def signal_id(window_end: datetime | date, owner_email: str, account_id: str, sku: str) -> str:
    """A strong signal's short stable id (contract §12): from the window's end date, the
    owner, the account and the SKU, so a dry-run, a run and a rerun of the same window
    give the same id. Seven base32 characters (35 bits): a team sees a few hundred
    signals a year, so two never share one in practice."""
    day = window_end.astimezone(UTC).date() if isinstance(window_end, datetime) else window_end
    key = "\x1f".join((day.isoformat(), owner_email.strip().lower(), account_id, sku))
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return "".join(_ID_ALPHABET[(number >> (5 * i)) & 31]
                   for i in range(SIGNAL_ID_LENGTH))


def csm_name(email: str, accounts: list[Account]) -> str:
    """`owner_name` where the data has one, else a name derived from the email address."""
    named = sorted({a.owner_name.strip() for a in accounts
                    if a.owner_name and a.owner_name.strip()})
    if named:
        return named[0]
    local = email.split("@", 1)[0].split("+", 1)[0]
    parts = [p for p in re.split(r"[._\-]+", local) if p]
    return " ".join(p.capitalize() for p in parts) or email
