"""esd backtest's arithmetic (contract §13): each week's pipeline result summed up per
CSM, SKU and call-trigger phrase, and compared with what was really delivered then.

Pure: the use case (esd.app.backtest) runs the pipeline and reads the state store; this
module only counts. A week's CSM `strong` is the capped list's length (what the digest
would have listed); the SKU and trigger counts take every signal, capped or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from esd.extractors.rules import phrase_pattern
from esd.models import RunResult, signal_id
from esd.references.schema import Taxonomy
from esd.state.outcomes import DeliveredSignal, OutcomeRecord

FLOOD_MEMORY = 2  # earlier recorded runs the flooding guard reads (State.strong_history)
CONVERSION_DAYS = 14  # contract §12: a conversion counts within 14 days of delivery
WEEK = timedelta(days=7)
LISTED, CAPPED, WEAK, GONE = "listed", "capped", "weak", "none"


@dataclass
class Counts:
    strong: int = 0
    weak: int = 0

    def add(self, strength: str) -> None:
        if strength == "strong":
            self.strong += 1
        else:
            self.weak += 1


@dataclass(frozen=True)
class CsmWeek:
    """One CSM's digest of one week, as it would have been sent."""

    owner_email: str
    strong: int  # listed: the capped list's length
    overflow: int  # strong signals the cap dropped
    weak: int
    flooding: str | None = None  # the threshold warning the digest would have opened with

    @property
    def strong_total(self) -> int:
        return self.strong + self.overflow


@dataclass
class Week:
    """One weekly window: every CSM's digest, the counts, and each signal's fate (id ->
    (status, owner)); an aborted week (coverage below the threshold) has none."""

    as_of: datetime
    coverage_pct: float
    csms: list[CsmWeek] = field(default_factory=list)
    by_sku: dict[str, Counts] = field(default_factory=dict)
    by_trigger: dict[str, Counts] = field(default_factory=dict)
    signals: dict[str, tuple[str, str]] = field(default_factory=dict)
    aborted: str | None = None  # why the run would have stopped (exit 3)

    def totals(self) -> dict[str, int]:
        return {"strong": sum(c.strong for c in self.csms),
                "strong_total": sum(c.strong_total for c in self.csms),
                "overflow": sum(c.overflow for c in self.csms),
                "weak": sum(c.weak for c in self.csms),
                "csms": len(self.csms),
                "csms_over_cap": sum(1 for c in self.csms if c.overflow),
                "flooding_warnings": sum(1 for c in self.csms if c.flooding)}


class TriggerPhrases:
    """The taxonomy phrase, as written, that a mention's matched text came from ("need
    {N} more seats" for "need 25 more seats"): the line a CS-Ops lead would edit. Text
    that fits no phrase of its SKU (a model's paraphrase) stands for itself."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._phrases = {sku.id: [(p.text, re.compile(phrase_pattern(p)))
                                  for p in sku.call_triggers] for sku in taxonomy.skus}
        self._seen: dict[tuple[str, str], str] = {}

    def __call__(self, sku: str, matched: str) -> str:
        key = (sku, matched)
        if key not in self._seen:
            self._seen[key] = next((text for text, pattern in self._phrases.get(sku, [])
                                    if pattern.fullmatch(matched)), matched)
        return self._seen[key]


def summarize_week(result: RunResult, flooding: Mapping[str, str | None],
                   phrases: TriggerPhrases | None = None) -> Week:
    """The week of `result`; `flooding` maps an owner to the flooding warning shown,
    `phrases` names each call-trigger phrase (default: the matched text)."""
    owner = {aid: a.owner_email for aid, a in result.accounts.items()}
    listed = {s.signal_id for d in result.digests for s in d.strong}
    week = Week(as_of=result.as_of, coverage_pct=result.coverage_pct)
    for d in result.digests:
        week.csms.append(CsmWeek(d.owner_email, len(d.strong), d.overflow, len(d.weak),
                                 flooding.get(d.owner_email)))
    for s in result.signals:
        sid = signal_id(result.as_of, owner[s.account_id], s.account_id, s.sku)
        status = WEAK if s.strength == "weak" else LISTED if sid in listed else CAPPED
        week.signals[sid] = (status, owner[s.account_id])
        week.by_sku.setdefault(s.sku, Counts()).add(s.strength)
        for trigger in sorted({phrases(s.sku, m.trigger) if phrases else m.trigger
                               for m in s.call_evidence}):
            week.by_trigger.setdefault(trigger, Counts()).add(s.strength)
    return week


def aborted_week(as_of: datetime, coverage_pct: float, reason: str) -> Week:
    return Week(as_of=as_of, coverage_pct=coverage_pct, aborted=reason)


def flood_history(weeks: Sequence[Week], before: datetime) -> dict[str, list[int]]:
    """Each CSM's strong totals (before the cap) of the last FLOOD_MEMORY weeks that
    `esd run` would have recorded (not aborted) and that end by `before`, oldest first:
    what State.strong_history would give the week starting at `before`. A CSM missing
    from one of them has a shorter (broken) history."""
    recorded = [w for w in weeks if not w.aborted and w.as_of <= before][-FLOOD_MEMORY:]
    history: dict[str, list[int]] = {}
    for i, week in enumerate(recorded):
        for csm in week.csms:
            if len(history.get(csm.owner_email, [])) == i:  # consecutive so far
                history.setdefault(csm.owner_email, []).append(csm.strong_total)
    return history


def total_counts(parts: Iterable[Mapping[str, Counts]]) -> dict[str, Counts]:
    """Counts summed key by key, keys sorted."""
    out: dict[str, Counts] = {}
    for part in parts:
        for key, counts in part.items():
            into = out.setdefault(key, Counts())
            into.strong += counts.strong
            into.weak += counts.weak
    return dict(sorted(out.items()))


# --- what was delivered then ----------------------------------------------------------


@dataclass
class Fates:
    """Delivered signals and what became of them (contract §12's outcomes)."""

    delivered: int = 0
    converted: int = 0
    noise: int = 0
    no_conversation: int = 0
    unknown: int = 0

    def add(self, fate: str) -> None:
        self.delivered += 1
        setattr(self, fate, getattr(self, fate) + 1)

    @property
    def with_outcome(self) -> int:
        return self.converted + self.noise + self.no_conversation

    @property
    def precision(self) -> float | None:
        """Converted ÷ delivered with an outcome (None when none has one)."""
        return round(self.converted / self.with_outcome, 4) if self.with_outcome else None

    def merge(self, other: Fates) -> None:
        for name in ("delivered", "converted", "noise", "no_conversation", "unknown"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Comparison:
    """One week (or all of them) against what was delivered then: the delivered signals
    the current references still list (`kept`) or not (`dropped`, with what they are
    now: capped out, weak, or no signal), and strong signals they would add (`new`, for
    the CSMs who got a digest that week)."""

    as_of: datetime | None
    recorded: bool  # esd run recorded this window
    then: Fates = field(default_factory=Fates)
    kept: Fates = field(default_factory=Fates)
    dropped: Fates = field(default_factory=Fates)
    dropped_as: dict[str, int] = field(default_factory=lambda: {CAPPED: 0, WEAK: 0, GONE: 0})
    new: int = 0

    def merge(self, other: Comparison) -> None:
        self.recorded = self.recorded or other.recorded
        self.then.merge(other.then)
        self.kept.merge(other.kept)
        self.dropped.merge(other.dropped)
        for key, n in other.dropped_as.items():
            self.dropped_as[key] += n
        self.new += other.new


def fate(signal: DeliveredSignal, record: OutcomeRecord | None) -> str:
    """converted (within CONVERSION_DAYS of delivery), noise, no_conversation (also a
    conversion recorded later than that) or unknown."""
    if record is None:
        return "unknown"
    if record.outcome == "converted":
        late = record.on - signal.delivered_on > timedelta(days=CONVERSION_DAYS)
        return "no_conversation" if late else "converted"
    return "noise" if record.outcome == "noise" else "no_conversation"


def compare(weeks: Sequence[Week], delivered: Sequence[DeliveredSignal],
            outcomes: Mapping[str, OutcomeRecord],
            recipients: Mapping[date, set[str]]) -> tuple[list[Comparison], Comparison]:
    """Each week, then all weeks, against the signals delivered in its window.
    `recipients` maps a recorded window's end date to the CSMs who got its digest."""
    by_day: dict[date, list[DeliveredSignal]] = {}
    for signal in delivered:
        by_day.setdefault(signal.delivered_on, []).append(signal)
    rows, overall = [], Comparison(as_of=None, recorded=False)
    for week in weeks:
        day = week.as_of.date()
        row = Comparison(as_of=week.as_of, recorded=day in recipients)
        sent_ids = set()
        for signal in by_day.get(day, []):
            sent_ids.add(signal.signal_id)
            what = fate(signal, outcomes.get(signal.signal_id))
            row.then.add(what)
            status = week.signals.get(signal.signal_id, (GONE, ""))[0]
            if status == LISTED:
                row.kept.add(what)
            else:
                row.dropped.add(what)
                row.dropped_as[status] += 1
        got_digest = recipients.get(day, set())
        row.new = sum(1 for sid, (status, owner) in week.signals.items()
                      if status == LISTED and owner in got_digest and sid not in sent_ids)
        rows.append(row)
        overall.merge(row)
    return rows, overall


# --- the whole backtest ---------------------------------------------------------------


@dataclass
class Backtest:
    """Every week, oldest first, with what the report needs around them."""

    weeks: list[Week]
    cap_per_csm: int
    taxonomy_hash: str
    source: str  # "input-dir" or "snapshots"
    source_path: str
    extractor: str = "rules"
    state: str | None = None  # the store compared with (label, password masked)
    comparison: list[Comparison] | None = None
    overall: Comparison | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def by_sku(self) -> dict[str, Counts]:
        return total_counts(w.by_sku for w in self.weeks)

    @property
    def by_trigger(self) -> dict[str, Counts]:
        return total_counts(w.by_trigger for w in self.weeks)

    def totals(self) -> dict[str, int]:
        out = {"weeks": len(self.weeks),
               "weeks_aborted": sum(1 for w in self.weeks if w.aborted)}
        for week in self.weeks:
            for key, n in week.totals().items():
                if key != "csms":
                    out[key] = out.get(key, 0) + n
        return out

    def csm_grid(self) -> dict[str, list[CsmWeek | None]]:
        """Owner -> their digest per week (None: no digest that week), owners sorted."""
        emails = sorted({c.owner_email for w in self.weeks for c in w.csms})
        grid: dict[str, list[CsmWeek | None]] = {e: [None] * len(self.weeks) for e in emails}
        for k, week in enumerate(self.weeks):
            for csm in week.csms:
                grid[csm.owner_email][k] = csm
        return grid
