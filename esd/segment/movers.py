"""Seed step 6: which accounts should move tier, and by which rule.

esd keeps one snapshot per account per quarter in the state database (tier, ARR,
expansion potential, whether any expansion signal was seen in the quarter's runs). The
rules, checked in this order, the first that applies naming the move:

- arr-crossed: the account's ARR change since its last snapshot crossed a cut point
  (read against today's cut points, so recalibration alone moves nothing): up on a
  renewal or an expansion event, down only at a renewal that fell since the snapshot;
- high-potential: expansion potential HIGH for `promote_high_quarters` consecutive
  quarters (this one included): promote one tier;
- no-signals: a Tier 1 account with no expansion signal in `demote_quiet_quarters`
  consecutive quarters: demote to Tier 2, after review.

Movers are recommendations for the next review: the report lists them with the rule;
the accounts keep the tier their ARR gives them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from esd.references.schema import SegmentationConfig
from esd.segment.model import AccountSegment, Mover
from esd.segment.tiers import tier_of


@dataclass(frozen=True)
class Snapshot:
    quarter: str
    account_id: str
    as_of: date  # the latest run recorded in that quarter
    tier: int
    arr: float
    potential: str
    had_signal: bool


def quarter_of(moment: date | datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def previous_quarter(quarter: str) -> str:
    year, q = int(quarter[:4]), int(quarter[-1])
    return f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}"


def _run(quarter: str, length: int) -> list[str]:
    """`length` consecutive quarters ending with `quarter`, newest first."""
    out = [quarter]
    while len(out) < length:
        out.append(previous_quarter(out[-1]))
    return out


def movers(accounts: Sequence[AccountSegment], cuts: Sequence[float],
           snapshots: Mapping[str, Mapping[str, Snapshot]], quarter: str, as_of: datetime,
           config: SegmentationConfig) -> list[Mover]:
    """`snapshots` maps quarter -> account id -> snapshot, this quarter's included."""
    names = {t.tier: t.name for t in config.tiers}
    earlier = sorted((q for q in snapshots if q < quarter), reverse=True)
    out = []
    for a in accounts:
        move = (_crossed(a, cuts, snapshots, earlier, as_of, names)
                or _high(a, snapshots, quarter, config)
                or _quiet(a, snapshots, quarter, config))
        if move:
            out.append(move)
    return out


def _crossed(a, cuts, snapshots, earlier, as_of, names) -> Mover | None:
    """The account's own ARR change crossed a cut point of today's tiers. Cut points are
    recalibrated every run, so a tier that changed only because the cuts moved (other
    accounts grew or left) is recalibration, not a move: both ARRs are read against the
    same, current cut points."""
    last = next((snapshots[q][a.account_id] for q in earlier if a.account_id in snapshots[q]),
                None)
    if last is None:
        return None
    then, now = tier_of(last.arr, cuts), tier_of(a.arr, cuts)
    if then == now:
        return None
    renewed = a.renewal_date is not None and last.as_of < date.fromisoformat(a.renewal_date) \
        <= as_of.date()
    change = f"ARR ${last.arr:,.0f} in {last.quarter} → ${a.arr:,.0f}"
    if now < then:
        how = "at renewal" if renewed else "an expansion event"
        detail = (f"{change} reaches the Tier {now} {names[now]} cut point "
                  f"${cuts[now - 1]:,.0f} ({how})")
        return Mover(account_id=a.account_id, name=a.name, from_tier=last.tier, to_tier=now,
                     direction="promote", rule="arr-crossed", detail=detail)
    if not renewed:
        return None  # ARR only moves down at renewal; keep watching
    detail = (f"{change} at renewal, below the Tier {then} {names[then]} cut point "
              f"${cuts[then - 1]:,.0f}")
    return Mover(account_id=a.account_id, name=a.name, from_tier=last.tier, to_tier=now,
                 direction="demote", rule="arr-crossed", detail=detail)


def _high(a, snapshots, quarter, config) -> Mover | None:
    if a.tier == 1 or a.expansion_potential != "HIGH":
        return None
    quarters = _run(quarter, config.promote_high_quarters)
    held = [snapshots.get(q, {}).get(a.account_id) for q in quarters]
    if not all(s is not None and s.potential == "HIGH" for s in held):
        return None
    return Mover(account_id=a.account_id, name=a.name, from_tier=a.tier, to_tier=a.tier - 1,
                 direction="promote", rule="high-potential",
                 detail=f"expansion potential HIGH {len(quarters)} quarters running ("
                        + ", ".join(reversed(quarters)) + ")")


def _quiet(a, snapshots, quarter, config) -> Mover | None:
    if a.tier != 1:
        return None
    quarters = _run(quarter, config.demote_quiet_quarters)
    held = [snapshots.get(q, {}).get(a.account_id) for q in quarters]
    if not all(s is not None and not s.had_signal for s in held):
        return None
    return Mover(account_id=a.account_id, name=a.name, from_tier=1, to_tier=2,
                 direction="demote", rule="no-signals",
                 detail=f"no expansion signal in {len(quarters)} quarters ("
                        + ", ".join(reversed(quarters)) + "); review before moving")
