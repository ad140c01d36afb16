"""esd coverage: pre-flight coverage, source health (live) and what a run would drop
and cost, without extraction or output (contract §1, §6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from esd.app import inputs
from esd.app.inputs import extractor_for, live, wants_claude
from esd.app.settings import Settings
from esd.connectors.files import load_portfolio
from esd.format import utc_z
from esd.pipeline.baseline import filter_usage
from esd.pipeline.collect import collect, unattributed_speech
from esd.pipeline.guards import COVERAGE_ABORT_BELOW, COVERAGE_WARN_BELOW
from esd.references import load_references
from esd.references.schema import References


@dataclass
class CoverageReport:
    """The pre-flight report. `data` is the JSON of `esd coverage --json` without
    `status`; `errors` names each failed live source."""

    data: dict[str, Any]
    errors: list[str] = field(default_factory=list)

    @property
    def coverage_pct(self) -> float:
        return self.data["coverage_pct"]

    @property
    def status(self) -> str:
        """ok, warn (below the warning threshold) or abort (below the abort threshold)."""
        pct = self.coverage_pct
        return ("abort" if pct < COVERAGE_ABORT_BELOW else
                "warn" if pct < COVERAGE_WARN_BELOW else "ok")

    @property
    def exit_code(self) -> int:
        """4 when a live source failed, 3 on a coverage abort, else 0."""
        return 4 if self.data["sources_failed"] else 3 if self.status == "abort" else 0

    def to_json(self) -> dict[str, Any]:
        return {**self.data, "status": self.status}


def coverage(settings: Settings) -> CoverageReport:
    """The report for the window. With live sources a failing source is reported, not
    raised: `sources_failed` lists it and the report exits 4."""
    refs = load_references(settings.references)
    health = []
    if settings.input_dir is not None:  # slim calls, as a run reads them (issue 16)
        portfolio = load_portfolio(settings.input_dir, inputs.slim_for(settings, refs))
    else:
        pulled = live().pull(settings.env, settings.toml, settings.window, keep_going=True)
        portfolio, health = pulled.portfolio, pulled.health
    window = settings.window
    collected = collect(portfolio, window)
    usage = filter_usage(collected.usage, collected.accounts, refs.baselines)
    with_call = len({c.account_id for c in collected.calls})
    unheard = unattributed_speech(collected.calls)
    data = {
        "as_of": utc_z(settings.as_of),
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "coverage_pct": collected.coverage_pct,
        "accounts": collected.in_scope,
        "accounts_with_call": with_call,
        "sources": {
            "calls": {"in_window": len(collected.calls), "total": len(portfolio.calls)},
            "usage_events": {"in_window": len(collected.usage),
                             "total": len(portfolio.usage_events)},
            "support_tickets": {"in_window": len(collected.tickets),
                                "total": len(portfolio.tickets)},
            "stakeholder_changes": (None if portfolio.stakeholder_changes is None
                                    else {"total": len(portfolio.stakeholder_changes)}),
        },
        "would_drop": {
            "silent_accounts": collected.silent,
            "usage_in_noise_band": len(usage.in_band),
            "usage_null_delta": len(usage.null_delta),
        },
        "usage_no_baseline_kept": len(usage.no_baseline),
        # Contract §2: speech whose speaker matches no attendee, named by call and speaker.
        "unattributed": {
            "calls": len(unheard),
            "utterances": sum(u.utterances for u in unheard),
            "by_call": [{"call_id": u.call_id, "account_id": u.account_id,
                         "speakers": u.speakers} for u in unheard],
        },
        "live": [{"source": h.system, "ok": h.ok, "reachable": h.reachable,
                  "authorised": h.authorised, "records": h.records,
                  "unmapped": h.unmapped, "requests": h.requests, "error": h.error}
                 for h in health],
        "sources_failed": [h.system for h in health if not h.ok],
        "extraction": extraction_estimate(settings, refs, collected.calls,
                                          collected.tickets),
    }
    return CoverageReport(data, errors=[h.error for h in health if h.error])


def extraction_estimate(settings: Settings, refs: References, calls, tickets) -> dict:
    """What the extraction of these calls and tickets would send and cost (no request is
    made; sources already in the result cache cost nothing)."""
    if not wants_claude(settings):
        return {"extractor": "rules", "estimate_usd": 0.0}
    with extractor_for(settings, refs, create_state=False) as extractor:
        estimate = extractor.estimate(calls, tickets)
        return {"extractor": "claude", "model": extractor.model, "batch": extractor.batch,
                "requests": estimate.requests, "sources_to_send": estimate.sources,
                "sources_cached": estimate.sources_cached,
                "input_tokens": estimate.input_tokens, "output_tokens": estimate.output_tokens,
                "estimate_usd": round(estimate.usd, 4)}
