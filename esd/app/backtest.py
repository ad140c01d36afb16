"""esd backtest (contract §13): what the current reference files would have sent, week
by week, over past data, and how that compares with what was really delivered.

The data is read once (one --input-dir holding every week) or one folder at a time
(--snapshots, one `esd pull` folder per week named by its as-of date); each week runs
the pipeline as `esd run` would have, oldest first, the flooding guard fed the strong
totals of the earlier weeks it would have recorded. Nothing is posted or recorded, and
no state store is created: an existing one is only read, for the outcome comparison.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from esd.app.inputs import display_path, load_inputs, slimmer
from esd.app.settings import Settings
from esd.connectors.files import load_portfolio
from esd.delivery.folder import write_atomically
from esd.errors import CoverageAbort, InputError
from esd.extractors.base import Progress
from esd.models import CHAMPION_LOOKBACK_DAYS, Portfolio
from esd.outcomes.backtest import (
    WEEK,
    Backtest,
    TriggerPhrases,
    Week,
    aborted_week,
    compare,
    flood_history,
    summarize_week,
)
from esd.pipeline import guards, make_window, run_pipeline
from esd.pipeline.collect import collect
from esd.references import load_references
from esd.references.schema import References
from esd.render.backtest import dumps, render_markdown
from esd.render.backtest_html import render_html
from esd.state import DEFAULT_PATH, State

MAX_WEEKS = 260  # five years of Mondays
FILES = ("backtest.md", "backtest.json", "backtest.html")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class WeekProgress(Progress, Protocol):
    """Progress of a backtest: which week runs (then the extraction over its calls)."""

    def week(self, index: int, weeks: int, as_of: datetime) -> None: ...


@dataclass
class BacktestResult:
    """The backtest, where it was written, and how long loading and each week took."""

    backtest: Backtest
    out: Path
    load_s: float = 0.0  # reading and validating the data (all folders, for snapshots)
    week_s: list[float] = field(default_factory=list)  # each week's pipeline run
    loads: int = 0  # how many times input files were read
    exit_code: int = 0
    error: str | None = None


def backtest(settings: Settings, out: Path, weeks: int | None = None,
             snapshots: Path | None = None, state_target: str | None = None,
             progress: WeekProgress | None = None) -> BacktestResult:
    """Run the current references over the weeks and write backtest.md, .json and .html
    to `out`. Bad options or folders are InputError (exit 2) before any work; a week
    below the coverage threshold is reported as aborted; only when every week aborts
    does the result exit 3. The state store (`state_target`, else ESD_STATE, else
    ./esd-state.db) is read when it exists, never created."""
    plan = _plan(settings, weeks, snapshots)
    state = state_target or settings.env.get("ESD_STATE") or DEFAULT_PATH
    delivered = read_deliveries(state, plan[0][0].date())  # store problems show up early

    started = time.perf_counter()
    portfolio: Portfolio | None = None
    if snapshots is None:
        portfolio, refs = load_inputs(settings, segmentation_required=False, rules=True)
    else:
        refs = load_references(settings.references, segmentation_required=False)
    load_s, loads, week_s = time.perf_counter() - started, int(snapshots is None), []
    done: list[Week] = []
    phrases = TriggerPhrases(refs.taxonomy)
    slim = slimmer(refs)  # each call as the rule extractor reads it (issue 16)
    for index, (as_of, folder) in enumerate(plan):
        if progress is not None:
            progress.week(index, len(plan), as_of)
        if folder is not None:
            portfolio = None  # one week in memory at a time: free it before the next
            started = time.perf_counter()
            portfolio, loads = load_portfolio(folder, slim), loads + 1
            load_s += time.perf_counter() - started
        started = time.perf_counter()
        done.append(run_week(portfolio, refs, as_of, settings.cap_per_csm, done, phrases,
                             progress))
        week_s.append(time.perf_counter() - started)

    kind, path = (("snapshots", snapshots) if snapshots is not None
                  else ("input-dir", settings.input_dir))
    bt = Backtest(weeks=done, cap_per_csm=settings.cap_per_csm,
                  taxonomy_hash=refs.taxonomy.short_hash, source=kind,
                  source_path=display_path(path),
                  notes=gaps(done) if snapshots else lookback_note(portfolio, done[0].as_of))
    if delivered is not None:
        bt.state = delivered.label
        bt.comparison, bt.overall = compare(done, delivered.signals, delivered.outcomes,
                                            delivered.recipients, settings.as_of.date())
    write_atomically(out, {"backtest.md": render_markdown(bt), "backtest.json": dumps(bt),
                           "backtest.html": render_html(bt)})
    result = BacktestResult(bt, out, load_s=load_s, week_s=week_s, loads=loads)
    if all(w.aborted for w in done):
        span = call_span(portfolio) if snapshots is None else ""
        abort = CoverageAbort(
            f"every week's call coverage was below {guards.COVERAGE_ABORT_BELOW:.0f}% "
            f"(weeks ending {done[0].as_of.date()} to {done[-1].as_of.date()}): is --as-of "
            f"right for this data?{span} The report in {out}/ shows each week.")
        result.exit_code, result.error = abort.exit_code, str(abort)
    return result


def _plan(settings: Settings, weeks: int | None, snapshots: Path | None
          ) -> list[tuple[datetime, Path | None]]:
    """Each week's end and, for --snapshots, its folder; bad options are InputError."""
    if weeks is not None and not 1 <= weeks <= MAX_WEEKS:
        raise InputError(f"--weeks {weeks}: must be 1 to {MAX_WEEKS}", field="--weeks")
    if snapshots is not None and settings.input_dir is not None:
        raise InputError(f"--snapshots {snapshots} and --input-dir {settings.input_dir}: "
                         "give one (a folder per week, or one folder holding every week)",
                         field="--snapshots")
    if snapshots is not None:
        return snapshot_weeks(snapshots, settings.as_of, weeks)
    if settings.input_dir is None:
        raise InputError("esd backtest reads past data: give --input-dir DIR (every week in "
                         "one folder) or --snapshots DIR (one folder per week)",
                         field="--input-dir")
    if weeks is None:
        raise InputError("--weeks N: how many weekly windows to run, ending at --as-of",
                         field="--weeks")
    return week_ends(settings.as_of, weeks)


def run_week(portfolio: Portfolio, refs: References, as_of: datetime, cap: int,
             earlier: list[Week], phrases: TriggerPhrases,
             progress: Progress | None = None) -> Week:
    """One week as `esd run` would have built it after the earlier weeks were recorded."""
    history = flood_history(earlier, before=as_of - WEEK)
    try:
        run = run_pipeline(portfolio, refs, as_of=as_of, window_days=7, cap_per_csm=cap,
                           history=history, progress=progress,
                           taxonomy_display=display_path(refs.taxonomy.path))
    except CoverageAbort as exc:
        coverage = collect(portfolio, make_window(as_of, 7)).coverage_pct
        return aborted_week(as_of, coverage, str(exc))
    flooding = {d.owner_email: guards.flood_warning(history.get(d.owner_email, []),
                                                    d.strong_total, cap)
                for d in run.digests}
    return summarize_week(run, flooding, phrases)


def week_ends(as_of: datetime, weeks: int) -> list[tuple[datetime, Path | None]]:
    """The ends of the `weeks` weekly windows ending at `as_of`, oldest first."""
    return [(as_of - WEEK * (weeks - 1 - k), None) for k in range(weeks)]


def snapshot_weeks(folder: Path, as_of: datetime, weeks: int | None
                   ) -> list[tuple[datetime, Path | None]]:
    """The week folders of --snapshots (named YYYY-MM-DD, the as-of of their pull) up to
    `as_of`, oldest first; with `weeks`, the last that many. Hidden entries and files
    are skipped; any other folder name is bad input, named."""
    if not folder.is_dir():
        raise InputError(f"--snapshots {folder}: folder not found", file=str(folder),
                         field="--snapshots")
    found: list[tuple[datetime, Path | None]] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        day = _date(entry.name)
        if day is None:
            raise InputError(f"--snapshots {folder}: folder {entry.name!r} is not named by "
                             "a date (YYYY-MM-DD, the as-of of its esd pull)",
                             file=str(entry), field="--snapshots")
        moment = datetime.combine(day, datetime.min.time(), tzinfo=as_of.tzinfo)
        if moment <= as_of:
            found.append((moment, entry))
    if weeks is not None and len(found) < weeks:
        raise InputError(f"--snapshots {folder}: {len(found)} week folder(s) up to "
                         f"{as_of.date()}, but --weeks {weeks} asks for {weeks}",
                         file=str(folder), field="--weeks")
    if not found:
        raise InputError(f"--snapshots {folder}: no week folder (YYYY-MM-DD) up to "
                         f"{as_of.date()}", file=str(folder), field="--snapshots")
    return found[-weeks:] if weeks else found


def _date(name: str) -> date | None:
    if not _DAY.fullmatch(name):
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def gaps(weeks: list[Week]) -> list[str]:
    """Notes on snapshot weeks that are not seven days apart."""
    notes = []
    for before, after in zip(weeks, weeks[1:], strict=False):
        days = (after.as_of - before.as_of).days
        if days != 7:
            notes.append(f"Weeks ending {before.as_of.date()} and {after.as_of.date()} are "
                         f"{days} days apart, not 7.")
    return notes


def lookback_note(portfolio: Portfolio | None, first: datetime) -> list[str]:
    """A note when the stakeholder changes may not reach back to the first week's
    champion look-back (a folder from an older esd pull, which wrote only the 30 days
    before its as-of, or one put together by hand; or simply no change that early)."""
    changes = portfolio.stakeholder_changes if portfolio else None
    start = first - timedelta(days=CHAMPION_LOOKBACK_DAYS)
    if not changes or min(c.occurred_at for c in changes) <= start:
        return []
    earliest = min(c.occurred_at for c in changes).date()
    return [f"The stakeholder changes start on {earliest}, but the first week's champion "
            f"look-back starts on {start.date()}: the early weeks may miss "
            "champion-departure suppressions, unless none happened that early. `esd "
            "pull --window-days 7N` writes every week's look-back; --snapshots (one pull "
            "per week) gives every week its own."]


def call_span(portfolio: Portfolio | None) -> str:
    if portfolio is None or not portfolio.calls:
        return ""
    moments = [c.occurred_at for c in portfolio.calls]
    return f" The data's calls run from {min(moments).date()} to {max(moments).date()}."


@dataclass
class Delivered:
    """What the state store says was delivered, and what became of it."""

    label: str
    signals: list
    outcomes: dict
    recipients: dict[date, set[str]]


def read_deliveries(target: str, since: date) -> Delivered | None:
    """The delivered signals since `since`, their outcomes and each recorded window's
    recipients; None when there is no store (a SQLite file that does not exist is never
    created)."""
    if "://" not in target and not Path(target).is_file():
        return None
    store = State.open(target, create=False)
    try:
        recipients: dict[date, set[str]] = {}
        for run in store.history():
            day = date.fromisoformat(run["as_of"][:10])
            recipients.setdefault(day, set()).update(run["delivered"])
        return Delivered(store.label, store.delivered_signals(since), store.outcomes(),
                         recipients)
    finally:
        store.close()

