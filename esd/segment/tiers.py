"""Seed step 1: four ARR tiers whose cut points come from the portfolio's own ARR
distribution, so each tier's share of accounts and of ARR lands near the seed's ranges
(Tier 1 about 5-10 % of accounts and 50-60 % of ARR, and so on).

Calibration ranks the accounts by ARR and splits the ranking into four runs, one per
tier, only where a round number (two significant digits: $25k, $1.2M) falls between
two accounts, so equal ARR never splits and every cut point reads like a policy
($250k rather than $247,310). Of all such splits it keeps the one nearest the targets:
the sum, over the four tiers, of the distance from each achieved share (of accounts and
of ARR) to its target range, 0 inside the range (dynamic programming over at most 400
candidate splits). A fixed `ARR from` in 4-segmentation.md pins that tier's split. The
cut point is then the roundest number between the last account in and the first
account out, near their geometric mean, so next quarter's accounts fall on the same
side.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence

from esd.references.schema import TierSpec

STEPS = (10_000_000, 5_000_000, 2_500_000, 1_000_000, 500_000, 250_000, 100_000, 50_000,
         25_000, 10_000, 5_000, 2_500, 1_000, 500, 250, 100, 50, 25, 10, 5, 1)
MAX_CANDIDATES = 400


def _multiple(low: float, high: float) -> float | None:
    for step in STEPS:
        x = (math.floor(low / step) + 1) * step
        if x <= high:
            return float(x)
    return None


def roundest(low: float, high: float) -> float:
    """A round number x with low < x <= high (a cut point between two accounts): the
    roundest within a factor 1.5 of their geometric mean, else the roundest at all."""
    if low > 0:
        middle = math.sqrt(low * high)
        near = _multiple(max(low, middle / 1.5), min(high, middle * 1.5))
        if near is not None and low < near <= high:
            return near
    found = _multiple(low, high)
    return found if found is not None else float(high)


def calibrate(arrs: Sequence[float], tiers: Sequence[TierSpec]) -> list[float]:
    """Cut points for Tiers 1-3 (an account is in the first tier whose cut it reaches;
    below the third cut it is Tier 4), highest first."""
    ranked = sorted(arrs, reverse=True)
    n, total = len(ranked), sum(ranked)
    prefix = [0.0]
    for value in ranked:
        prefix.append(prefix[-1] + value)
    ascending = ranked[::-1]

    def ends_at(cut: float) -> int:
        return n - bisect_left(ascending, cut)

    # Candidate splits: wherever a number of two significant digits falls between two
    # accounts ($25k, $1.2M), so every cut point can be a round one.
    top = ranked[0] if n else 0.0
    rounds = {m * 10 ** k for k in range(0, max(1, len(str(int(top))) + 1))
              for m in range(10, 100)} | set(range(1, 10))
    breaks = sorted({0, n, *(ends_at(c) for c in rounds if c <= top * 10)})
    if len(breaks) > MAX_CANDIDATES:
        step = (len(breaks) - 1) / (MAX_CANDIDATES - 1)
        breaks = sorted({breaks[round(i * step)] for i in range(MAX_CANDIDATES)})
    specs = sorted(tiers, key=lambda t: t.tier)

    # best[e] = (cost, ends so far) of the tiers placed so far, the last ending at e.
    best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    for index, spec in enumerate(specs):
        if index == len(specs) - 1:
            options = [n]
        elif spec.arr_from is not None:
            options = [ends_at(spec.arr_from)]
        else:
            options = breaks
        step_best: dict[int, tuple[float, tuple[int, ...]]] = {}
        starts = sorted(best.items(), key=lambda item: item[1])  # cheapest first
        for end in options:
            kept = _cheapest(starts, end, spec, prefix, total)
            if kept is not None:
                step_best[end] = kept
        best = step_best or {n: (math.inf, (*next(iter(best.values()))[1], n))}
    ends = min(best.values())[1]

    cuts: list[float] = []
    for spec, end in zip(specs[:3], ends[:3], strict=True):
        if spec.arr_from is not None:
            cuts.append(float(spec.arr_from))
            continue
        high = ranked[end - 1] if end > 0 else (ranked[0] * 2 + 1 if n else 1.0)
        low = ranked[end] if end < n else -1.0
        cuts.append(roundest(low, high))
    # Cut points never increase down the tiers (a fixed cut beside calibrated ones).
    for i in range(1, len(cuts)):
        cuts[i] = min(cuts[i], cuts[i - 1])
    return cuts


def _cheapest(starts: list[tuple[int, tuple[float, tuple[int, ...]]]], end: int,
              spec: TierSpec, prefix: list[float], total: float,
              ) -> tuple[float, tuple[int, ...]] | None:
    """The cheapest (cost, ends) that places tier `spec` up to account `end`, over
    `starts` (cheapest first). The cost of a tier is the distance of its share of
    accounts and of ARR (`total`) to the targets, 0 inside them, written out inline:
    this loop is most of a small week's tier placement (issue 16). A tier's cost is
    never negative, so once a start alone costs more than the best found, so do all
    after it. Of equal costs the smaller ends win, as tuple order has it, so the result
    never depends on the candidates' order."""
    n = len(prefix) - 1
    low_a, high_a = spec.share_accounts
    low_s, high_s = spec.share_arr
    at_end = prefix[end]
    kept: tuple[float, tuple[int, ...]] | None = None
    for start, (cost, path) in starts:
        if kept is not None and cost > kept[0]:
            break
        if start > end:
            continue
        accounts = (end - start) / n * 100 if n else 0.0
        share = (at_end - prefix[start]) / total * 100 if total else accounts
        cost += ((0.0 if low_a <= accounts <= high_a
                  else min(abs(accounts - low_a), abs(accounts - high_a)))
                 + (0.0 if low_s <= share <= high_s
                    else min(abs(share - low_s), abs(share - high_s))))
        if kept is None or cost < kept[0] or (cost == kept[0] and (*path, end) < kept[1]):
            kept = (cost, (*path, end))
    return kept


def tier_of(arr: float, cuts: Sequence[float]) -> int:
    for index, cut in enumerate(cuts):
        if arr >= cut:
            return index + 1
    return len(cuts) + 1
