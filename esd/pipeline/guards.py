"""The seed's watch-outs made exact (contract §6): coverage, taxonomy staleness, flooding;
and the notice that the rule extractor stood in for a failed model (issue 5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from esd.errors import CoverageAbort
from esd.references.schema import Taxonomy

COVERAGE_WARN_BELOW = 60.0
COVERAGE_ABORT_BELOW = 40.0
STALE_AFTER_DAYS = 90
FLOOD_RUNS = 3


def coverage_warning(pct: float) -> str | None:
    if pct >= COVERAGE_WARN_BELOW:
        return None
    return (f"_CSM call coverage: {pct:.1f}% of accounts had at least one logged call. "
            "Below 60% means most signals are usage-only._")


def enforce_coverage(pct: float, accounts: int) -> None:
    """Raise CoverageAbort below the abort threshold: better no digest than a half one."""
    if pct < COVERAGE_ABORT_BELOW:
        raise CoverageAbort(
            f"coverage error: only {pct:.1f}% of {accounts} accounts had a logged call in the "
            f"window (abort below {COVERAGE_ABORT_BELOW:.0f}%). No digest was written. "
            "Check that CSMs are logging calls in Gong, or widen --window-days."
        )


def taxonomy_last_touched(taxonomy: Taxonomy) -> datetime | None:
    """The later of the file's Last edited date and its last git commit."""
    moments = [taxonomy.last_commit] if taxonomy.last_commit else []
    if taxonomy.last_edited:
        moments.append(datetime.combine(taxonomy.last_edited, time(0), tzinfo=UTC))
    return max(moments) if moments else None


def staleness_warning(taxonomy: Taxonomy, as_of: datetime, display_path: str) -> str | None:
    touched = taxonomy_last_touched(taxonomy)
    if touched is not None and as_of - touched < timedelta(days=STALE_AFTER_DAYS):
        return None
    when = f"last touched {touched.date().isoformat()}" if touched else "never dated"
    return ("_Taxonomy last edited 90+ days ago. Time to recalibrate against the current "
            f"SKU lineup._ Edit `{display_path}` ({when}).")


def flood_warning(previous: Sequence[int], current: int, cap: int) -> str | None:
    """The seed's warning when the strong list exceeded the cap on three consecutive runs.

    `previous` holds the strong counts (before the cap) of earlier recorded runs, oldest
    first; `current` is this run's.
    """
    runs = [*previous[-(FLOOD_RUNS - 1):], current]
    if len(runs) < FLOOD_RUNS or not all(n > cap for n in runs):
        return None
    average = sum(runs) / len(runs)
    return (f"_Strong-signal threshold may be too loose — last 3 runs averaged {average:.1f} "
            "per week. Consider tightening the strong-vs-weak cutoff in "
            "references/1-expansion-signal-taxonomy.md._")


def fallback_warning(reason: str | None) -> str | None:
    """Every digest says so when Claude failed and the rule extractor finished the run."""
    if not reason:
        return None
    return ("_Claude extraction failed this week, so these signals come from the rule-based "
            "extractor alone (literal taxonomy phrases; paraphrases are missed)._ "
            f"Cause: {reason}")
