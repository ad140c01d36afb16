"""esd segment: the segmentation model of seed 002 (contract §9), written to a folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from esd.app.inputs import extractor_for, load_inputs
from esd.app.settings import Settings
from esd.delivery.folder import write_atomically
from esd.errors import InputError
from esd.models import ExtractionReport, Portfolio
from esd.pipeline import run_pipeline
from esd.references.lint import unknown_segments
from esd.references.schema import References
from esd.render.digest import default_templates
from esd.render.segmentation import dumps, render_markdown
from esd.render.segmentation_html import render_html
from esd.segment.build import segment as build_segment
from esd.segment.build import snapshot_rows
from esd.segment.model import SegmentationResult
from esd.segment.movers import Snapshot
from esd.state import DEFAULT_PATH as DEFAULT_STATE
from esd.state import State


@dataclass
class SegmentOutcome:
    model: SegmentationResult
    extraction: ExtractionReport  # what reading this week's signals cost
    out: Path
    exit_code: int = 0


def segment(settings: Settings, out: Path, state_target: str | None = None,
            use_state: bool = True, csms: int | None = None,
            on_source: Callable[[str], None] | None = None,
            target_nrr: float | None = None) -> SegmentOutcome:
    """The model, written to `out`. Signals come from this window's pipeline run (no
    coverage guard). Earlier quarterly snapshots drive the promotion and demotion rules,
    and this quarter's is recorded once the files are written (a failed run records
    nothing; bad input opens no state at all), from the store `state_target` names
    (created if need be) or else the default store if it exists: esd segment never
    creates one unasked. `use_state` False reads and records none. `target_nrr`
    (percent) overrides 4-segmentation.md's."""
    portfolio, refs = load_inputs(settings, on_source)
    _check_segments(portfolio, refs)
    if csms is not None and csms < 0:
        raise InputError(f"--csms {csms}: must be 0 or more", field="--csms")
    if target_nrr is not None and not 50 <= target_nrr <= 200:
        raise InputError(f"--target-nrr {target_nrr:g}: must be 50-200 (percent)",
                         field="--target-nrr")
    state, mode, label = open_snapshots(state_target, use_state)
    try:
        with extractor_for(settings, refs, state, create_state=False) as extractor:
            run = run_pipeline(portfolio, refs, as_of=settings.as_of,
                               window_days=settings.window_days,
                               cap_per_csm=settings.cap_per_csm, extractor=extractor,
                               coverage_guard=False)
        earlier = [Snapshot(r["quarter"], r["account_id"], date.fromisoformat(r["as_of"]),
                            r["tier"], r["arr"], r["potential"], r["had_signal"])
                   for r in (state.snapshots() if state else [])]
        config = refs.segmentation
        result = build_segment(
            portfolio, config, as_of=settings.as_of, signals=run.signals,
            counted_usage=run.counted_usage, csms=csms, snapshots=earlier,
            health_source=("none" if portfolio.health is None else "health.json"
                           if settings.input_dir is not None else "Gainsight"),
            target_nrr=target_nrr, state=mode, state_label=label)
        write_atomically(out, {
            "segmentation.md": render_markdown(result, config,
                                               settings.templates or default_templates()),
            "segmentation.json": dumps(result),
            "segmentation.html": render_html(result, config),
        })
        if state is not None:
            state.record_snapshots(result.quarter, settings.as_of, snapshot_rows(result))
        return SegmentOutcome(result, run.diagnostics.extraction, out)
    finally:
        if state is not None:
            state.close()


def open_snapshots(target: str | None, use_state: bool,
                   ) -> tuple[State | None, Literal["kept", "off", "absent"], str | None]:
    """(store, mode, label): the store `target` names (--state or ESD_STATE, created if
    need be), else the default store only if it exists; none with `use_state` False."""
    if not use_state:
        return None, "off", None
    if target is None and not Path(DEFAULT_STATE).is_file():
        return None, "absent", DEFAULT_STATE
    state = State.open(target or DEFAULT_STATE, create=target is not None)
    return state, "kept", state.label


def _check_segments(portfolio: Portfolio, refs: References) -> None:
    """esd segment reads each account's segment: one the baseline file does not know is
    bad input (exit 2), naming the record."""
    known = ", ".join(sorted(refs.baselines.segments))
    unknown = unknown_segments(portfolio.accounts, refs)
    problems = [f"{a.origin or f'accounts (live): record [{i}]'} (id {a.id}): field "
                f'segment: unknown segment "{a.segment}" (not in '
                f"{refs.baselines.path.name}: {known})" for i, a in unknown]
    if problems:
        first = unknown[0][1]._origin
        raise InputError("bad input:\n  " + "\n  ".join(problems[:25]), problems,
                         file=first[0] if first else "accounts (live)", field="segment")
