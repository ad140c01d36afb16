"""The six stages of the seed's method, each a pure function, composed by `run_pipeline`.

    collect -> baseline -> extract -> classify -> route -> act

No stage reads a file, the network or the clock: `as_of` and the data come in as
arguments, so a run is reproducible from its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from esd.extractors.base import Extractor, Progress
from esd.extractors.rules import RuleExtractor
from esd.extractors.transcript import forget_turns, unparsed
from esd.memory import no_cycle_collection
from esd.models import (
    Diagnostics,
    ExtractionReport,
    Portfolio,
    RunResult,
    Window,
    signal_id,
)
from esd.pipeline import guards
from esd.pipeline.act import attach_actions
from esd.pipeline.baseline import filter_usage
from esd.pipeline.classify import champion_departures, classify
from esd.pipeline.collect import collect, unattributed_speech
from esd.pipeline.extract import extract
from esd.pipeline.route import route
from esd.references.schema import References

__all__ = ["Extractor", "RuleExtractor", "make_window", "run_pipeline"]


def make_window(as_of: datetime, window_days: int) -> Window:
    return Window(start=as_of - timedelta(days=window_days), end=as_of)


def run_pipeline(
    portfolio: Portfolio,
    refs: References,
    *,
    as_of: datetime,
    window_days: int = 7,
    cap_per_csm: int = 3,
    extractor: Extractor | None = None,
    history: Mapping[str, Sequence[int]] | None = None,
    taxonomy_display: str = "references/1-expansion-signal-taxonomy.md",
    progress: Progress | None = None,
    coverage_guard: bool = True,
) -> RunResult:
    """Every CSM's digest for the window ending at `as_of`.

    Raises CoverageAbort below the coverage abort threshold, before any extraction
    (`coverage_guard=False` for esd segment, which has no coverage guard).
    `history` maps an owner email to the strong counts of earlier recorded runs (the
    flooding guard's memory); a dry run passes none.
    """
    parsed_here = unparsed(portfolio.calls)
    with no_cycle_collection():
        try:
            return _run(portfolio, refs, as_of, window_days, cap_per_csm, extractor,
                        history, taxonomy_display, progress, coverage_guard)
        finally:
            forget_turns(parsed_here)  # freed before the collector sees them


def _run(portfolio: Portfolio, refs: References, as_of: datetime, window_days: int,
         cap_per_csm: int, extractor: Extractor | None,
         history: Mapping[str, Sequence[int]] | None, taxonomy_display: str,
         progress: Progress | None, coverage_guard: bool) -> RunResult:
    window = make_window(as_of, window_days)
    collected = collect(portfolio, window)
    if coverage_guard:
        guards.enforce_coverage(collected.coverage_pct, collected.in_scope)
    usage = filter_usage(collected.usage, collected.accounts, refs.baselines)
    extractor = extractor or RuleExtractor(refs.taxonomy)
    evidence = extract(collected.calls, collected.tickets, usage.counted, refs.taxonomy,
                       extractor, progress)
    departed = champion_departures(portfolio.stakeholder_changes, as_of)
    signals = classify(evidence, departed)
    digests = route(signals, collected.accounts, cap_per_csm)
    for digest in digests:
        for signal in (*digest.strong, *digest.weak):
            signal.signal_id = signal_id(as_of, digest.owner_email, signal.account_id,
                                         signal.sku)
    attach_actions([s for d in digests for s in d.strong], refs.actions)

    report = getattr(extractor, "report", None) or ExtractionReport(extractor=extractor.name)
    warnings = [w for w in (
        guards.coverage_warning(collected.coverage_pct),
        guards.staleness_warning(refs.taxonomy, as_of, taxonomy_display),
        guards.fallback_warning(report.fallback),
    ) if w]
    for digest in digests:
        flood = guards.flood_warning((history or {}).get(digest.owner_email, []),
                                     digest.strong_total, cap_per_csm)
        digest.warnings = [*([flood] if flood else []), *warnings]

    not_signal = [m for m in evidence.mentions if m.label == "not_signal"]
    unheard = unattributed_speech(collected.calls)
    return RunResult(
        as_of=as_of,
        window_days=window_days,
        coverage_pct=collected.coverage_pct,
        diagnostics=Diagnostics(
            accounts_in_scope=collected.in_scope,
            accounts_silent=len(collected.silent),
            negative_matches=len(not_signal),
            champion_suppressions=sum(1 for s in signals if s.reason == "champion-departure"),
            taxonomy_hash=refs.taxonomy.short_hash,
            conditional_matches=sum(1 for m in not_signal if m.reason == "conditional"),
            negative_example_matches=sum(1 for m in not_signal
                                         if m.reason == "negative-example"),
            negated_matches=sum(1 for m in not_signal if m.reason == "negated"),
            usage_events_in_window=len(collected.usage),
            usage_in_noise_band=len(usage.in_band),
            usage_no_baseline=len(usage.no_baseline),
            usage_null_delta=len(usage.null_delta),
            stakeholder_data=portfolio.stakeholder_changes is not None,
            unmapped_records=dict(portfolio.unmapped),
            ticket_source=portfolio.ticket_source,
            extractor=report.extractor,
            extraction=report,
            unattributed_calls=len(unheard),
            unattributed_utterances=sum(u.utterances for u in unheard),
        ),
        digests=digests,
        not_signal=not_signal,
        accounts=collected.accounts,
        signals=signals,
        counted_usage=usage.counted,
        warnings=warnings,
    )

