"""`esd segment`: the customer segmentation model of seed 002, from the data esd reads.

    tiers.py       step 1: ARR tiers calibrated to the portfolio's distribution
    health.py      step 2: the 0-100 health score and its band
    potential.py   step 3: expansion potential HIGH / MEDIUM / LOW
    allocation.py  steps 4-5: CSMs per tier, ARR per CSM, each CSM's book
    staffing.py    step 5: the CSMs each tier needs at both ratios; the coverage verdict
    plays.py       step 0 and the lists: at risk, expansion plays by target NRR, the
                   order of each tier's accounts, current motion against the recommended
    movers.py      step 6: promotion and demotion from quarterly snapshots
    build.py       the whole model (`segment`) and the snapshot rows a run keeps

This package's own module holds what a weekly digest borrows, each account's tier and
health band (`labels`), and imports no more: a dry run never builds the model or its
records (issue 16: start-up).

esd.render.segmentation* write segmentation.md, .json and .html from the result.

Pure: the caller reads the inputs, runs the pipeline for the signals, and keeps the
snapshots; nothing here reads a file, the network or the clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from esd.models import Portfolio
from esd.references.schema import SegmentationConfig
from esd.segment import health
from esd.segment.tiers import calibrate, tier_of

CHAMPION_LOOKBACK = timedelta(days=90)


def departed_champions(portfolio: Portfolio, as_of: datetime) -> set[str]:
    """Accounts whose champion left in the last quarter and was not replaced since."""
    latest: dict[str, tuple[datetime, str]] = {}
    changes = sorted(portfolio.stakeholder_changes or [], key=lambda c: c.occurred_at)
    for change in changes:  # oldest first: the last one of each account wins
        if change.is_champion and as_of - CHAMPION_LOOKBACK <= change.occurred_at <= as_of:
            latest[change.account_id] = (change.occurred_at, change.change_type)
    return {a for a, (_, kind) in latest.items() if kind == "departure"}


def tier_cuts(portfolio: Portfolio, config: SegmentationConfig) -> list[float]:
    return calibrate([a.arr for a in portfolio.accounts], config.tiers)


def labels(portfolio: Portfolio, config: SegmentationConfig, as_of: datetime,
           ) -> dict[str, tuple[int, str, str]]:
    """Account id -> (tier, tier name, health band): what a digest shows by a name."""
    cuts = tier_cuts(portfolio, config)
    names = {t.tier: t.name for t in config.tiers}
    records = {r.account_id: r for r in portfolio.health or []}
    departed = departed_champions(portfolio, as_of)
    out = {}
    for a in portfolio.accounts:
        tier = tier_of(a.arr, cuts)
        _, band, _ = health.score(records.get(a.id), config, a.id in departed)
        out[a.id] = (tier, names[tier], band)
    return out
