"""Whom to act on first: each account's play, the order of every tier's account list,
how the target NRR (seed step 0) shapes the expansion plays, and the team's current
motion per tier against the recommended one.

An account is at risk when its health band is in the lower half of the bands (the
seed's At Risk and Critical; `unknown` is not at risk). Its play:

- save: at risk; the risk comes first, whatever its expansion potential;
- expand: a proactive expansion play, its potential at or above its tier's threshold;
- standard: the tier's motion as written (expansion when a signal asks for it).

The rule derived from the seed: the target NRR "drives how aggressive expansion needs to
be" (step 0), expansion potential is the lens for it (step 3), and the motions already
grade it by tier (step 4: Tier 1 "expansion proactive", Tier 2 at 70%+ utilisation,
Tiers 3-4 self-serve). So a higher target lowers the potential that earns a proactive
play, first where a CSM carries the fewest accounts:

    target NRR        stance          Tier 1   Tier 2   Tier 3   Tier 4
    under 105%        retention-led   HIGH     HIGH     HIGH     HIGH
    105% to < 115%    balanced        MEDIUM   MEDIUM   HIGH     HIGH
    115% and over     expansion-led   LOW      MEDIUM   MEDIUM   HIGH

Below 105% the book reaches its target mostly by keeping what it has, so only the
accounts already asking (HIGH) get a proactive play. The 105% and 115% lines are esd's
reading (about the median and the top quartile of B2B SaaS net retention), not numbers
of the seed. The arithmetic beside the stance: the book must add (target - 100%) x ARR,
net, in a year; the report sets that against the ARR of the accounts with an expand play.

Each tier's list: save, then expand (HIGH before MEDIUM before LOW), then standard;
within each, the largest ARR first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from esd.references.schema import HealthBand

Play = Literal["save", "expand", "standard"]
RANK = {"HIGH": 3, "MEDIUM": 2, "LOW": 1}
STANCES = (  # (lowest target NRR, stance, lowest potential for a proactive play per tier)
    (115.0, "expansion-led", {1: "LOW", 2: "MEDIUM", 3: "MEDIUM", 4: "HIGH"}),
    (105.0, "balanced", {1: "MEDIUM", 2: "MEDIUM", 3: "HIGH", 4: "HIGH"}),
    (float("-inf"), "retention-led", {1: "HIGH", 2: "HIGH", 3: "HIGH", 4: "HIGH"}),
)
_ORDER = {"save": 0, "expand": 1, "standard": 2}
RULE = ("The target NRR sets the lowest expansion potential that earns a proactive expansion "
        "play: under 105% only HIGH, in every tier (retention first); from 105% MEDIUM too "
        "in Tiers 1-2; from 115% every Tier 1 account, and MEDIUM in Tiers 2-3. Tier 4 "
        "expands on HIGH only, through upgrade prompts.")


def at_risk_bands(bands: Sequence[HealthBand]) -> set[str]:
    """The lower half of the bands (of four: the seed's At Risk and Critical)."""
    ranked = sorted(bands, key=lambda b: -b.min_score)
    return {b.name for b in ranked[(len(ranked) + 1) // 2:]}


def stance(target_nrr: float) -> tuple[str, dict[int, str]]:
    """The stance of a target NRR (percent), and its threshold potential per tier."""
    return next((name, floors) for low, name, floors in STANCES if target_nrr >= low)


def play(at_risk: bool, tier: int, potential: str, floors: dict[int, str]) -> Play:
    if at_risk:
        return "save"
    return "expand" if RANK[potential] >= RANK[floors.get(tier, "HIGH")] else "standard"


def list_order(play_: Play, potential: str, arr: float, account_id: str) -> tuple:
    """The sort key of an account within its tier's list."""
    return _ORDER[play_], -RANK[potential] if play_ == "expand" else 0, -arr, account_id


# --- current motion against the recommended one ------------------------------------------

INTENSITY = (  # how much CSM time a motion spends, from the words a team uses for it
    (4, ("high-touch", "high touch", "named csm", "dedicated", "white glove")),
    (3, ("mid-touch", "mid touch", "medium touch", "pooled")),
    (2, ("digital", "light touch", "light-touch", "low-touch", "low touch", "tech-touch",
         "tech touch", "one-to-many", "scaled")),
    (1, ("self-serve", "self serve", "product-led", "community", "automated", "no csm")),
)


def intensity(text: str | None) -> int | None:
    """4 high-touch .. 1 self-serve; the earliest motion word in `text` decides."""
    if not text:
        return None
    lowered = text.lower()
    hits = [(m.start(), level) for level, words in INTENSITY for word in words
            for m in re.finditer(re.escape(word), lowered)]
    return min(hits)[1] if hits else None


def motion_fit(current: str | None, recommended: str) -> str | None:
    """"as recommended", "heavier than recommended" or "lighter than recommended"; None
    when no current motion is stated or either reads as no known motion."""
    now, advised = intensity(current), intensity(recommended)
    if now is None or advised is None:
        return None
    if now == advised:
        return "as recommended"
    return "heavier than recommended" if now > advised else "lighter than recommended"
