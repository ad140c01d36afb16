"""The whole segmentation model of `esd segment` (seed 002), and the per-account rows a
run keeps as this quarter's snapshot."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from esd.models import Portfolio, Signal, UsageEvent, csm_name
from esd.references.schema import SegmentationConfig
from esd.segment import departed_champions, health, plays, potential, tier_cuts
from esd.segment.allocation import allocation, books
from esd.segment.model import AccountSegment, SegmentationResult, TierCut
from esd.segment.movers import Snapshot, movers, quarter_of
from esd.segment.tiers import tier_of


def segment(portfolio: Portfolio, config: SegmentationConfig, *, as_of: datetime,
            signals: Sequence[Signal], counted_usage: Sequence[UsageEvent],
            csms: int | None = None, snapshots: Sequence[Snapshot] = (),
            health_source: str = "none", target_nrr: float | None = None,
            state: str = "kept", state_label: str | None = None) -> SegmentationResult:
    """The segmentation model. `signals` are every signal of the window (uncapped),
    `counted_usage` the anomalies above their segment band, `snapshots` the quarterly
    snapshots kept so far; this run counts as part of this quarter's. `target_nrr`
    (percent) overrides 4-segmentation.md's; `state` says whether snapshots were kept."""
    cuts = tier_cuts(portfolio, config)
    specs = {t.tier: t for t in config.tiers}
    nrr = config.target_nrr if target_nrr is None else target_nrr
    stance, floors = plays.stance(nrr)
    risky = plays.at_risk_bands(config.bands)
    records = {r.account_id: r for r in portfolio.health or []}
    departed = departed_champions(portfolio, as_of)
    by_account: dict[str, list[Signal]] = defaultdict(list)
    for s in signals:
        by_account[s.account_id].append(s)
    usage_by: dict[str, list[UsageEvent]] = defaultdict(list)
    for e in counted_usage:
        usage_by[e.account_id].append(e)

    accounts = []
    missing: dict[str, int] = defaultdict(int)
    for a in portfolio.accounts:
        tier = tier_of(a.arr, cuts)
        value, band, points = health.score(records.get(a.id), config, a.id in departed)
        for key, got in points.items():
            if got is None:
                missing[key] += 1
        met = potential.factors(records.get(a.id), by_account[a.id], usage_by[a.id], config)
        level = potential.level(met, config)
        accounts.append(AccountSegment(
            account_id=a.id, name=a.name, arr=a.arr, tier=tier, tier_name=specs[tier].name,
            health_score=value, health_band=band, health_components=points,
            expansion_potential=level, potential_factors=met,
            motion=specs[tier].motion, owner_email=a.owner_email, segment=a.segment,
            renewal_date=a.renewal_date.isoformat(), signals=len(by_account[a.id]),
            strong=sum(1 for s in by_account[a.id] if s.strength == "strong"),
            at_risk=band in risky, play=plays.play(band in risky, tier, level, floors)))
    accounts.sort(key=lambda x: (x.tier, *plays.list_order(x.play, x.expansion_potential,
                                                            x.arr, x.account_id)))

    held: dict[str, list] = defaultdict(list)
    for a in portfolio.accounts:
        held[a.owner_email].append(a)
    owners = {email: csm_name(email, books_) for email, books_ in held.items()}
    headcount = len(owners) if csms is None else csms
    # The quarter of the window's last instant: a Monday 1 October run reports September.
    quarter = quarter_of(as_of - timedelta(microseconds=1))
    by_quarter: dict[str, dict[str, Snapshot]] = defaultdict(dict)
    for snap in snapshots:
        by_quarter[snap.quarter][snap.account_id] = snap
    for a in accounts:  # this run joins this quarter's snapshot (a seen signal stays seen)
        before = by_quarter[quarter].get(a.account_id)
        by_quarter[quarter][a.account_id] = Snapshot(
            quarter, a.account_id, as_of.date(), a.tier, a.arr, a.expansion_potential,
            a.signals > 0 or bool(before and before.had_signal))
    total_arr = sum(a.arr for a in accounts) or 1.0
    n = len(accounts) or 1
    tiers = []
    for index, spec in enumerate(sorted(config.tiers, key=lambda t: t.tier)):
        held = [a for a in accounts if a.tier == spec.tier]
        arr = sum(a.arr for a in held)
        current = spec.current_motion or config.current_motion
        tiers.append(TierCut(
            tier=spec.tier, name=spec.name,
            arr_min=cuts[index] if index < len(cuts) else None,
            arr_max=cuts[index - 1] if index > 0 else None,
            accounts=len(held), arr=arr, share_accounts=round(len(held) / n * 100, 1),
            share_arr=round(arr / total_arr * 100, 1), target_accounts=spec.share_accounts,
            target_arr=spec.share_arr, fixed=spec.arr_from is not None,
            at_risk=sum(a.at_risk for a in held),
            at_risk_arr=sum(a.arr for a in held if a.at_risk),
            high_potential=sum(a.expansion_potential == "HIGH" for a in held),
            expand=sum(a.play == "expand" for a in held),
            expand_from=floors.get(spec.tier, "HIGH"), motion=spec.motion,
            current_motion=current, motion_fit=plays.motion_fit(current, spec.motion)))
    moving = movers(accounts, cuts, by_quarter, quarter, as_of, config)
    flagged = {m.account_id: m for m in moving}
    for a in accounts:
        if a.account_id in flagged:
            a.mover, a.mover_to = flagged[a.account_id].direction, flagged[a.account_id].to_tier
    rows = allocation(accounts, config, headcount)
    return SegmentationResult(
        as_of=as_of, quarter=quarter, config_path=str(config.path) if config.path else None,
        tiers=tiers, accounts=accounts, allocation=rows,
        books=books(accounts, config, owners), csms=headcount, movers=moving,
        snapshots=len([q for q in by_quarter if q < quarter]), health_source=health_source,
        missing_components=dict(missing), target_nrr=nrr,
        target_nrr_source=("--target-nrr" if target_nrr is not None else
                           "4-segmentation.md" if "target_nrr" in config.lines else "default"),
        stance=stance, expansion_needed=max(0.0, nrr - 100) / 100 * sum(a.arr for a in accounts),
        expand_arr=sum(a.arr for a in accounts if a.play == "expand"),
        at_risk_arr=sum(a.arr for a in accounts if a.at_risk),
        csms_needed=sum(r.needed or 0 for r in rows),
        csms_needed_by_accounts=sum(r.needed_by_accounts or 0 for r in rows),
        state=state, state_label=state_label)


def snapshot_rows(result: SegmentationResult) -> list[dict]:
    """This run's snapshot of each account, for the state database."""
    return [{"account_id": a.account_id, "tier": a.tier, "arr": a.arr,
             "potential": a.expansion_potential, "had_signal": a.signals > 0}
            for a in result.accounts]
