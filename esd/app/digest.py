"""esd dry-run and esd run: every CSM's digest for the window, written to a folder or
delivered as Slack DMs exactly once (contract §1, §5, §7, §11); esd run first records
the CSMs' reactions on the strong signals of the last five weeks (§12). `esd run
--only` delivers to some CSMs only (a pilot); `--preview-to` sends the digests to one
reviewer instead, recorded apart from the deliveries (esd.app.audience)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from esd.app import signals
from esd.app.audience import EVERYONE, Audience
from esd.app.inputs import display_path, extractor_for, load_inputs
from esd.app.settings import Settings
from esd.delivery.folder import write_atomically
from esd.errors import DeliveryError
from esd.extractors.base import Extractor, Progress
from esd.format import digest_filename
from esd.models import Portfolio, RunResult
from esd.pipeline import run_pipeline
from esd.references import SEGMENTATION as SEGMENTATION_FILE
from esd.references.schema import References
from esd.render.digest import default_templates, preview_banner, render_digests, run_json
from esd.render.links import call_urls
from esd.segment import labels as segment_labels

if TYPE_CHECKING:  # esd run's: a dry run never loads the ledger, Slack or the state store
    from esd.delivery.ledger import Messenger, Outcome
    from esd.delivery.reactions import ReactionsRead
    from esd.state import State


@dataclass
class DigestResult:
    """A built week: the pipeline's result and every file of the output folder; for
    esd run also the reactions read and the delivery outcome. `error` explains a
    non-zero `exit_code`."""

    run: RunResult
    files: dict[str, str]
    out: Path | None = None  # where dry-run wrote the files
    delivery: Outcome | None = None
    reactions: ReactionsRead | None = None
    exit_code: int = 0
    error: str | None = None
    audience: Audience = EVERYONE


def dry_run(settings: Settings, out: Path | None, progress: Progress | None = None,
            on_source: Callable[[str], None] | None = None,
            signals_table: str | None = None) -> DigestResult:
    """Run the pipeline and write every digest and run.json to `out` (None: only build
    them). Never posts, never records anything; with a signals table, writes the rows a
    run would append to it as signals-table.csv instead."""
    table = signals.target(settings, signals_table, writes=False)
    portfolio, refs = load_inputs(settings, on_source, segmentation_required=False)
    with extractor_for(settings, refs) as extractor:
        result, files = build(settings, portfolio, refs, {}, progress, extractor)
    if table:
        files[signals.PREVIEW] = signals.preview(result)
    if out is not None:
        write_atomically(out, files)
    return DigestResult(result, files, out=out)


def run_weekly(settings: Settings, state_target: str | None, fallback: Path,
               resend: bool = False, progress: Progress | None = None,
               on_source: Callable[[str], None] | None = None,
               signals_table: str | None = None,
               audience: Audience = EVERYONE) -> DigestResult:
    """esd run: Slack from the environment and esd.toml (a missing token stops here,
    before the state store is opened), the state store at `state_target`, then `run`."""
    from esd.delivery.slack import SlackDelivery
    from esd.state import State

    messenger = SlackDelivery.from_env(settings.env, settings.toml)
    table = signals.target(settings, signals_table, writes=True)
    store = State.open(state_target)
    try:
        return run(settings, store, messenger, fallback, resend, progress, on_source, table,
                   audience)
    finally:
        store.close()


def run(settings: Settings, state: State, messenger: Messenger, fallback: Path,
        resend: bool = False, progress: Progress | None = None,
        on_source: Callable[[str], None] | None = None,
        signals_target: signals.SignalsTarget | None = None,
        audience: Audience = EVERYONE) -> DigestResult:
    """The weekly job, holding the store's delivery lock (RunLocked, exit 5, when
    another run holds it): record the reactions on the last five weeks' signals (a DM
    Slack will not let esd read is a warning, never a stop), build every digest, replace
    the window's rows of the signals table (when there is one), record the run, deliver
    what is not yet delivered (to the CSMs of `audience.only`, when given). Missed
    CSMs' digests go to `fallback` and the result exits 4 naming them, after the others
    were delivered.

    With `audience.preview_to`, the digests go to that reviewer instead (see
    `preview`): no reaction is read, and neither the run, the signals table nor a
    delivery is recorded."""
    from esd.delivery.ledger import deliver, missed_error, write_fallback
    from esd.delivery.reactions import read_outcomes
    from esd.delivery.runlock import RunLock

    with RunLock(state) as lock:
        reactions = None
        if audience.preview_to is None:
            if on_source:
                on_source("Slack reactions")
            reactions = read_outcomes(state, messenger, settings.as_of, renew=lock.renew)
        portfolio, refs = load_inputs(settings, on_source, segmentation_required=False)
        audience.check(portfolio)  # an unknown --only email: exit 2, nothing built or sent
        history = state.strong_history(settings.as_of, settings.window_days)
        with extractor_for(settings, refs, state) as extractor:
            result, files = build(settings, portfolio, refs, history, progress, extractor)
        lock.renew()
        if audience.preview_to is not None:
            return preview(result, files, state, messenger, audience, resend, lock.renew)
        if signals_target:  # before delivery: a failed write (exit 4) posts nothing
            signals_target.publish(result)
        state.record_run(result, {d.owner_email: d.strong_total for d in result.digests})
        record_quarter(state, portfolio, refs, result)
        outcome = deliver(result, files, state, messenger, resend=resend, renew=lock.renew,
                          only=audience.only)
    if not outcome.missed:
        return DigestResult(result, files, delivery=outcome, reactions=reactions,
                            audience=audience)
    folder = write_fallback(fallback, settings.as_of, files, outcome.missed)
    error = missed_error(outcome.missed, folder)
    return DigestResult(result, files, delivery=outcome, reactions=reactions,
                        exit_code=error.exit_code, error=str(error), audience=audience)


def preview(result: RunResult, files: dict[str, str], state: State, messenger: Messenger,
            audience: Audience, resend: bool = False,
            renew: Callable[[], None] = lambda: None) -> DigestResult:
    """Send each chosen CSM's digest, a line on top naming whose it is, to the
    reviewer, exactly once per window (esd.delivery.ledger.deliver_previews). A preview
    that could not be sent exits 4 naming it; nothing goes to the fallback folder, which
    holds real digests for a human to forward."""
    from esd.delivery.ledger import deliver_previews

    reviewer = audience.preview_to or ""
    marked = dict(files)
    for digest in result.digests:
        name = digest_filename(digest.owner_email)
        marked[name] = preview_banner(digest, reviewer, result.as_of) + files[name]
    outcome = deliver_previews(result, marked, state, messenger, reviewer, resend, renew,
                               only=audience.only)
    done = DigestResult(result, marked, delivery=outcome, audience=audience)
    if outcome.missed:
        lines = "\n  ".join(f"{email}: {reason}" for email, reason in outcome.missed)
        error = DeliveryError(f"{len(outcome.missed)} preview(s) not sent to {reviewer} "
                              f"(the next `esd run --preview-to {reviewer}` for this window "
                              f"sends only these):\n  {lines}", source="slack")
        done.exit_code, done.error = error.exit_code, str(error)
    return done


def build(settings: Settings, portfolio: Portfolio, refs: References,
          history: Mapping[str, list[int]], progress: Progress | None,
          extractor: Extractor | None = None) -> tuple[RunResult, dict[str, str]]:
    """The pipeline's result and the output folder's files, in memory."""
    result = run_pipeline(
        portfolio, refs, as_of=settings.as_of, window_days=settings.window_days,
        cap_per_csm=settings.cap_per_csm, history=history,
        taxonomy_display=display_path(refs.taxonomy.path), progress=progress,
        extractor=extractor,
    )
    result.labels = segment_labels(portfolio, refs.segmentation, settings.as_of)
    quoted = {m.source_id for d in result.digests for s in d.strong for m in s.call_evidence}
    result.call_urls = call_urls(portfolio.calls, quoted)
    if refs.segmentation_problems:
        notice = (f"_{SEGMENTATION_FILE} has {len(refs.segmentation_problems)} problem(s), "
                  "so tiers and health bands use the seed's defaults until `esd check` "
                  f"passes. First: {refs.segmentation_problems[0]}_")
        result.warnings.append(notice)
        for digest in result.digests:
            digest.warnings.append(notice)
    files = render_digests(result, settings.templates or default_templates(),
                           settings.cap_per_csm)
    files["run.json"] = json.dumps(run_json(result, settings.cap_per_csm), indent=2,
                                   ensure_ascii=False) + "\n"
    return result, files


def record_quarter(state: State, portfolio: Portfolio, refs: References,
                   result: RunResult) -> None:
    """Every weekly run joins this quarter's segment snapshot, so "no expansion signal
    for four quarters" (esd segment) counts the signals of every week, not one."""
    from esd.segment.build import segment as build_segment
    from esd.segment.build import snapshot_rows

    model = build_segment(portfolio, refs.segmentation, as_of=result.as_of,
                          signals=result.signals, counted_usage=result.counted_usage)
    state.record_snapshots(model.quarter, result.as_of, snapshot_rows(model))
