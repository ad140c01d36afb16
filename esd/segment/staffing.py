"""Seed step 5, the staffing answer: how many CSMs each tier needs at the seed's ratios,
and the coverage verdict of the CSMs it has.

A tier with a CSM ratio needs the fewest CSMs that keep it within both of its ratios:

- accounts per CSM: ceil(accounts / most accounts per CSM), so 16 Tier 1 accounts at
  1 CSM : 5-8 need 2;
- ARR per CSM: ceil(ARR / most ARR per CSM), so $13.9M at "under $500K" needs 28, but
  never more than one CSM per account: a CSM holds whole accounts, so beyond one each,
  more CSMs lower nothing (the target is then out of reach, and the report says so).

It needs the larger of the two, and the ratio that sets it is the binding one. Tier 4
(CSM ratio 0) needs none. The coverage verdict follows the need, so "ok" never sits
beside an ARR per CSM far over its target:

- under-covered: fewer CSMs than the tier needs (accounts and no CSM included);
- over-covered: more than it needs, with fewer accounts per CSM than the ratio's minimum;
- ok otherwise; automated for a tier without a CSM ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from esd.references.schema import TierSpec

Coverage = Literal["ok", "under-covered", "over-covered", "automated"]


@dataclass(frozen=True)
class Need:
    by_accounts: int
    by_arr: int  # 0 without an ARR-per-CSM maximum; capped at one CSM per account
    arr_reachable: bool  # the ARR target can be met at one CSM per account or fewer

    @property
    def csms(self) -> int:
        return max(self.by_accounts, self.by_arr)

    @property
    def binding(self) -> Literal["accounts", "arr"] | None:
        if not self.csms:
            return None
        return "arr" if self.by_arr > self.by_accounts else "accounts"


def need(spec: TierSpec, accounts: int, arr: float) -> Need | None:
    """What the tier needs at its ratios; None for a tier without CSMs (automated)."""
    if spec.csm_ratio is None:
        return None
    by_accounts = math.ceil(accounts / spec.csm_ratio[1]) if accounts else 0
    most = spec.arr_per_csm[1]
    uncapped = math.ceil(arr / most) if accounts and most and arr > 0 else 0
    return Need(by_accounts=by_accounts, by_arr=min(uncapped, accounts),
                arr_reachable=uncapped <= accounts)


def coverage(spec: TierSpec, accounts: int, csms: int, needed: Need | None) -> Coverage:
    if needed is None:
        return "automated"
    if csms < needed.csms:
        return "under-covered"
    per = accounts / csms if csms else None
    if csms > needed.csms and per is not None and per < spec.csm_ratio[0]:
        return "over-covered"
    return "ok"
