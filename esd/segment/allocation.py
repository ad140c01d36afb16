"""Seed steps 4-5: CSMs per tier at the seed's ratios, ARR per CSM against the targets,
and each CSM's actual book.

Allocation of a headcount of N CSMs:

1. every tier with a CSM ratio first gets the fewest CSMs that keep it within its ratio
   (ceil(accounts / most accounts per CSM)), Tier 1 first, while CSMs last;
2. each CSM left goes, one at a time, to the tier whose accounts per CSM are furthest
   above the middle of its ratio (relative to that middle), until every tier is at or
   below its middle; CSMs beyond that also go where the load is highest (and the tier
   shows as over-covered).

What each tier needs, and the coverage verdict of what it gets, are `staffing`'s: both
ratios count (accounts per CSM and ARR per CSM). ARR per CSM is also compared with the
tier's target range on its own (above / below target).

A CSM's book (the accounts whose owner_email is theirs) has a load in CSM-equivalents:
the sum over tiers of its accounts divided by the middle of that tier's ratio (1.0 =
one full-time CSM at the seed's ratios). It mixes tiers badly when it holds Tier 1
accounts and more than `mixed_book_share` % of its accounts are in Tiers 3-4: high-touch
and digital motions in one week's work.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

from esd.references.schema import SegmentationConfig, TierSpec
from esd.segment.model import AccountSegment, CsmBook, TierAllocation
from esd.segment.staffing import coverage, need


def middle(ratio: tuple[int, int]) -> float:
    return (ratio[0] + ratio[1]) / 2


def allocate(counts: dict[int, int], tiers: Sequence[TierSpec], csms: int) -> dict[int, int]:
    """CSMs per tier for `counts` (accounts per tier) and a headcount of `csms`."""
    staffed = [t for t in sorted(tiers, key=lambda t: t.tier) if t.csm_ratio]
    given = {t.tier: 0 for t in tiers}
    left = csms
    for t in staffed:
        need = math.ceil(counts.get(t.tier, 0) / t.csm_ratio[1])
        take = min(need, left)
        given[t.tier] += take
        left -= take

    def pressure(t: TierSpec) -> float:
        accounts = counts.get(t.tier, 0)
        if not accounts:
            return -math.inf
        per = accounts / given[t.tier] if given[t.tier] else math.inf
        return per / middle(t.csm_ratio)

    while left > 0 and staffed:
        busiest = max(staffed, key=lambda t: (pressure(t), -t.tier))
        if pressure(busiest) == -math.inf:
            break  # no accounts anywhere that a CSM could take
        given[busiest.tier] += 1
        left -= 1
    return given


def allocation(accounts: Sequence[AccountSegment], config: SegmentationConfig,
               csms: int) -> list[TierAllocation]:
    counts = Counter(a.tier for a in accounts)
    arr: dict[int, float] = defaultdict(float)
    for a in accounts:
        arr[a.tier] += a.arr
    given = allocate(counts, config.tiers, csms)
    rows = []
    for t in sorted(config.tiers, key=lambda t: t.tier):
        n, people = counts.get(t.tier, 0), given[t.tier]
        per = n / people if people else None
        arr_per = arr[t.tier] / people if people else None
        needed = need(t, n, arr[t.tier])
        status = None
        low, high = t.arr_per_csm
        if arr_per is not None and (low is not None or high is not None):
            status = ("above target" if high is not None and arr_per > high else
                      "below target" if low is not None and arr_per < low else "ok")
        rows.append(TierAllocation(
            tier=t.tier, name=t.name, accounts=n, arr=arr[t.tier], csms=people,
            accounts_per_csm=round(per, 1) if per is not None else None,
            arr_per_csm=round(arr_per) if arr_per is not None else None,
            ratio=t.csm_ratio, arr_target=t.arr_per_csm,
            coverage=coverage(t, n, people, needed), arr_status=status,
            needed=needed.csms if needed else None,
            needed_by_accounts=needed.by_accounts if needed else None,
            needed_by_arr=needed.by_arr if needed else None,
            binding=needed.binding if needed else None,
            arr_reachable=needed.arr_reachable if needed else True))
    return rows


def books(accounts: Sequence[AccountSegment], config: SegmentationConfig,
          names: dict[str, str | None]) -> list[CsmBook]:
    """Each owner's book, heaviest load first."""
    ratios = {t.tier: t.csm_ratio for t in config.tiers}
    by_owner: dict[str, list[AccountSegment]] = defaultdict(list)
    for a in accounts:
        by_owner[a.owner_email].append(a)
    out = []
    for owner, held in by_owner.items():
        per_tier = Counter(a.tier for a in held)
        load = sum(n / middle(ratios[t]) for t, n in per_tier.items() if ratios.get(t))
        digital = per_tier.get(3, 0) + per_tier.get(4, 0)
        mixed = bool(per_tier.get(1)) and digital / len(held) * 100 > config.mixed_book_share
        note = (f"{per_tier[1]} Tier 1 next to {digital} Tier 3-4 accounts "
                f"({digital / len(held) * 100:.0f}% of the book)") if mixed else None
        out.append(CsmBook(owner_email=owner, name=names.get(owner),
                           accounts_by_tier={t: per_tier.get(t, 0) for t in sorted(ratios)},
                           arr=sum(a.arr for a in held), load=round(load, 2), mixed=mixed,
                           note=note))
    return sorted(out, key=lambda b: (-b.load, b.owner_email))
