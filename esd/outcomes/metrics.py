"""The seed's success metric (contract §12): the share of delivered strong signals that
led to an expansion conversation within 14 days, on a trailing 30-day window and per
calendar month, with the 20 % warning. Pure functions over the state store's records:
no I/O, no clock (`as_of` is passed in).

How a delivered signal counts, as of `as_of` (its latest outcome record wins):
- converted: the latest record says `converted` and is dated 0-14 days after delivery
  (a confirmation first seen 14 days after a Monday delivery is the next-but-one run's,
  so day 14 counts). A `converted` dated before delivery or later than 14 days after it
  counts as no_conversation (`converted_outside_14d` says how many);
- noise (`:x:` or `esd outcome ID noise`); no_conversation (`no-conversation`);
- no record: unknown while fewer than 14 days have passed since delivery (never a
  failure), no_conversation from day 14 on.

Figures and verdicts:
- conversion_rate = converted / delivered (None when nothing was delivered). Unknown
  signals are in the denominator, so a figure with open signals can only rise:
  max_rate = (converted + unknown) / delivered is where it ends if every one converts.
- band: below-20 (< 20 %), under-band (20-25 %), healthy (25-40 %, both ends
  included), above-40 (> 40 %), or too-few under MIN_DELIVERED signals (one signal
  moves a rate of 10 by 10 points; at 2 it would read 1-of-2 as 50 % health).
  band_final: false while open signals could still move the rate into another band.
- A month is complete once it has ended and its last possible delivery's 14 days have
  passed: month end + 14 days <= as_of (a complete month has no unknown signal).
- Warning: two or more consecutive calendar months, each complete, with at least
  MIN_DELIVERED signals and below 20 %, the last of them the latest complete month (a
  past dip the team has since fixed is no longer news; the month table keeps it). A
  month without deliveries, with too few, or at or above 20 % between two low ones
  breaks the run.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from esd.state.outcomes import DeliveredSignal, OutcomeRecord

WINDOW_DAYS = 30
CONVERSION_DAYS = 14
LOW_PCT = 20  # below this for two consecutive complete months: the seed's warning
BAND_PCT = (25, 40)  # the seed's pilot baseline: healthy
MIN_DELIVERED = 10  # fewer delivered signals: band "too-few", no verdict
NEEDS_REVIEW = "needs human review"  # the action key of signals no library row fitted
NO_TRIGGER = "(no trigger phrase recorded)"
ADVICE = ("the seed's reading: the strong-vs-weak cutoff is too loose or the action "
          "library is too vague; tighten the taxonomy "
          "(references/1-expansion-signal-taxonomy.md) or rewrite half the actions "
          "(references/3-action-library.md) before continuing")


def classify(signal: DeliveredSignal, record: OutcomeRecord | None, as_of: date) -> str:
    """converted, noise, no_conversation or unknown (see the module docstring)."""
    if record is None:
        age = (as_of - signal.delivered_on).days
        return "unknown" if age < CONVERSION_DAYS else "no_conversation"
    if record.outcome == "converted":
        days = (record.on - signal.delivered_on).days
        return "converted" if 0 <= days <= CONVERSION_DAYS else "no_conversation"
    return "noise" if record.outcome == "noise" else "no_conversation"


def band_of(converted: int, delivered: int) -> str:
    """The band of converted / delivered, in integer arithmetic (1 of 5 is 20 %, not
    below it; 2 of 5 is 40 %, healthy)."""
    low, high = BAND_PCT
    if 100 * converted < LOW_PCT * delivered:
        return "below-20"
    if 100 * converted < low * delivered:
        return "under-band"
    return "healthy" if 100 * converted <= high * delivered else "above-40"


@dataclass
class Tally:
    delivered: int = 0
    converted: int = 0
    noise: int = 0
    no_conversation: int = 0
    unknown: int = 0
    converted_outside_14d: int = 0  # of no_conversation: a confirmation dated too late

    def add(self, status: str, outside: bool = False) -> None:
        self.delivered += 1
        if status == "converted":
            self.converted += 1
        elif status == "no_conversation":
            self.no_conversation += 1
            self.converted_outside_14d += outside
        elif status == "unknown":
            self.unknown += 1
        else:
            self.noise += 1

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.delivered if self.delivered else None

    @property
    def max_rate(self) -> float | None:
        """The rate if every unknown signal converts."""
        return (self.converted + self.unknown) / self.delivered if self.delivered else None

    @property
    def band(self) -> str:
        if self.delivered < MIN_DELIVERED:
            return "too-few"
        return band_of(self.converted, self.delivered)

    @property
    def band_final(self) -> bool:
        """No open signal can move the rate into another band."""
        return self.band == "too-few" or self.band == band_of(
            self.converted + self.unknown, self.delivered)

    def to_json(self) -> dict:
        return {"delivered": self.delivered, "converted": self.converted,
                "noise": self.noise, "no_conversation": self.no_conversation,
                "unknown": self.unknown, "conversion_rate": self.conversion_rate,
                "max_rate": self.max_rate, "band": self.band, "band_final": self.band_final,
                "converted_outside_14d": self.converted_outside_14d}


@dataclass
class Month:
    month: str  # YYYY-MM
    tally: Tally
    complete: bool
    complete_on: date  # month end + 14 days


@dataclass
class Measurement:
    as_of: datetime
    start: date  # the trailing window: delivered_on in (start, end]
    end: date
    trailing: Tally
    by_sku: dict[str, Tally]
    by_trigger: dict[str, Tally]
    by_action: dict[str, Tally]
    by_csm: dict[str, Tally]
    months: list[Month]
    warnings: list[str] = field(default_factory=list)
    recorded: int = 0  # delivered signals (up to as_of) with any outcome record


def measure(signals: Iterable[DeliveredSignal], outcomes: Mapping[str, OutcomeRecord],
            as_of: datetime) -> Measurement:
    """Every figure of the report as of `as_of`; signals delivered after it are left out."""
    end = as_of.date()
    start = end - timedelta(days=WINDOW_DAYS)
    trailing = Tally()
    by_sku: dict[str, Tally] = {}
    by_trigger: dict[str, Tally] = {}
    by_action: dict[str, Tally] = {}
    by_csm: dict[str, Tally] = {}
    months: dict[str, Tally] = {}
    month_of: dict[date, Tally] = {}  # a week's signals share one delivery date
    recorded = 0
    for signal in signals:
        day = signal.delivered_on
        if day > end:
            continue
        record = outcomes.get(signal.signal_id)
        recorded += record is not None
        status = classify(signal, record, end)
        outside = (status == "no_conversation" and record is not None
                   and record.outcome == "converted")
        if day not in month_of:
            month_of[day] = _tally(months, day.isoformat()[:7])
        month_of[day].add(status, outside)
        if day <= start:
            continue
        trailing.add(status, outside)
        _tally(by_sku, signal.sku).add(status, outside)
        for phrase in dict.fromkeys(signal.triggers or (NO_TRIGGER,)):  # once per phrase
            _tally(by_trigger, phrase).add(status, outside)
        _tally(by_action, signal.action_row or NEEDS_REVIEW).add(status, outside)
        _tally(by_csm, signal.owner_email).add(status, outside)
    month_list = [_month(key, tally, end) for key, tally in sorted(months.items())]
    result = Measurement(as_of, start, end, trailing, _ranked(by_sku), _ranked(by_trigger),
                         _ranked(by_action), _ranked(by_csm), month_list, recorded=recorded)
    result.warnings = warnings(result)
    return result


def _tally(tallies: dict[str, Tally], key: str) -> Tally:
    found = tallies.get(key)
    if found is None:
        found = tallies[key] = Tally()
    return found


def _ranked(tallies: dict[str, Tally]) -> dict[str, Tally]:
    """Most delivered first, then by name."""
    return dict(sorted(tallies.items(), key=lambda kv: (-kv[1].delivered, kv[0])))


def month_end(key: str) -> date:
    year, month = int(key[:4]), int(key[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])


def _month(key: str, tally: Tally, as_of: date) -> Month:
    complete_on = month_end(key) + timedelta(days=CONVERSION_DAYS)
    return Month(key, tally, complete_on <= as_of, complete_on)


def _next_month(key: str) -> str:
    year, month = int(key[:4]), int(key[5:7])
    return f"{year + month // 12}-{month % 12 + 1:02d}"


def low_run(months: Sequence[Month]) -> list[Month]:
    """The consecutive complete months below 20 % ending at the latest complete month,
    when there are two or more of them; else []."""
    complete = [m for m in months if m.complete]
    run: list[Month] = []
    for m in complete:
        low = m.tally.band == "below-20"
        if low and run and _next_month(run[-1].month) == m.month:
            run.append(m)
        else:
            run = [m] if low else []
    return run if len(run) >= 2 else []


def pct(rate: float | None) -> str:
    """12 %, 33.3 %, n/a."""
    if rate is None:
        return "n/a"
    return f"{rate * 100:.1f}".removesuffix(".0") + " %"


def warnings(m: Measurement) -> list[str]:
    out = []
    run = low_run(m.months)
    if run:
        named = ", ".join(f"{x.month} ({pct(x.tally.conversion_rate)}, {x.tally.converted} "
                          f"of {x.tally.delivered})" for x in run)
        out.append(f"Conversion below {LOW_PCT} % for {len(run)} consecutive complete "
                   f"months: {named}. That is {ADVICE}.")
    settled = sum(x.tally.delivered - x.tally.unknown for x in m.months)
    if settled and not m.recorded:
        out.append(f"No outcome is recorded for any of the {settled} delivered signals "
                   f"whose {CONVERSION_DAYS} days have passed, so they all count as no "
                   "conversation: check that esd run reads the DM reactions "
                   "(Slack scopes im:history, reactions:read) or record outcomes with "
                   "esd outcome.")
    return out
