"""The core behind each command: read inputs, run the pipeline, write outputs.

The CLI parses options into a `Settings` and calls these; nothing here prints.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from esd.connectors.files import ACCOUNTS, load_portfolio, portfolio_files
from esd.defaults import defaults_dir
from esd.deliver import Messenger, Outcome, deliver, missed_error, write_fallback
from esd.errors import InputError
from esd.extractors.base import Extractor, Progress
from esd.models import Portfolio, RunResult, Window
from esd.pipeline import make_window, run_pipeline
from esd.pipeline.baseline import filter_usage
from esd.pipeline.collect import collect
from esd.references import SEGMENTATION as SEGMENTATION_FILE
from esd.references import load_references, parse_references
from esd.references.lint import lint, unknown_segments
from esd.references.schema import Problem, References
from esd.render import default_templates, render_digests, run_json
from esd.segment import labels as segment_labels
from esd.state import DEFAULT_PATH as DEFAULT_STATE
from esd.state import State

if TYPE_CHECKING:
    from esd.connectors.live import Health, LivePull


@dataclass
class Extraction:
    """How call and ticket text is read (issue 5): `--extractor`, `--model`,
    `--no-batch`, `--max-cost`, `--extractor-fallback`."""

    extractor: str = "auto"  # rules | claude | auto (claude when ANTHROPIC_API_KEY is set)
    model: str | None = None  # default: esd.toml [claude] model, else DEFAULT_MODEL
    batch: bool = True
    max_cost: float | None = None
    fallback: str | None = None  # "rules": finish on the rule extractor if Claude fails


@dataclass
class Settings:
    """Options common to every command that reads data (contract §1)."""

    input_dir: Path | None
    references: Path
    as_of: datetime
    window_days: int = 7
    cap_per_csm: int = 3
    templates: Path | None = None
    toml: dict = field(default_factory=dict)  # esd.toml, for the live sources
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    extraction: Extraction = field(default_factory=Extraction)

    @property
    def window(self) -> Window:
        return make_window(self.as_of, self.window_days)


def parse_as_of(text: str | None, now: datetime | None = None) -> datetime:
    """`--as-of`: a date means 00:00 UTC that day; a datetime without offset is UTC."""
    if not text:
        return (now or datetime.now(UTC)).astimezone(UTC)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--as-of: {text!r} is not a date (YYYY-MM-DD) or an ISO 8601 "
                         "datetime") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def load_inputs(settings: Settings, on_source: Callable[[str], None] | None = None,
                segmentation_required: bool = True) -> tuple[Portfolio, References]:
    """Reference files first (cheap, and a broken one is the likelier mistake), then the
    data: the input files of --input-dir, else the live sources. The digests only borrow
    labels from 4-segmentation.md, so they pass `segmentation_required=False`."""
    refs = load_references(settings.references, segmentation_required)
    if settings.input_dir is not None:
        return load_portfolio(settings.input_dir), refs
    return _live().pull(settings.env, settings.toml, settings.window, on_source).portfolio, refs


def _live():
    """The live connectors, imported only when a command reads them: a run from files
    starts ~0.2 s faster without httpx, tenacity and five vendor modules."""
    from esd.connectors import live

    return live


def pull(settings: Settings, out: Path, on_source: Callable[[str], None] | None = None,
         ) -> LivePull:
    """Read the live sources for the window and write them as input files to `out`."""
    result = _live().pull(settings.env, settings.toml, settings.window, on_source)
    write_atomically(out, portfolio_files(result.portfolio), marker="accounts.json")
    return result


def dry_run(settings: Settings, progress: Progress | None = None,
            on_source: Callable[[str], None] | None = None,
            ) -> tuple[RunResult, dict[str, str]]:
    """Run the pipeline and render every file of the output folder, in memory."""
    portfolio, refs = load_inputs(settings, on_source, segmentation_required=False)
    with extractor_for(settings, refs) as extractor:
        return _build(settings, portfolio, refs, {}, progress, extractor)


def _build(settings: Settings, portfolio: Portfolio, refs: References,
           history: Mapping[str, list[int]], progress: Progress | None,
           extractor: Extractor | None = None) -> tuple[RunResult, dict[str, str]]:
    result = run_pipeline(
        portfolio, refs, as_of=settings.as_of, window_days=settings.window_days,
        cap_per_csm=settings.cap_per_csm, history=history,
        taxonomy_display=_display(refs.taxonomy.path), progress=progress,
        extractor=extractor,
    )
    result.labels = segment_labels(portfolio, refs.segmentation, settings.as_of)
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


def run(settings: Settings, state: State, messenger: Messenger, fallback: Path,
        resend: bool = False, progress: Progress | None = None,
        on_source: Callable[[str], None] | None = None) -> tuple[RunResult, Outcome]:
    """The weekly job: build every digest, record the run, deliver what is not yet
    delivered. Missed CSMs go to `fallback` and raise DeliveryError (exit 4) after the
    others were delivered."""
    portfolio, refs = load_inputs(settings, on_source, segmentation_required=False)
    history = state.strong_history(settings.as_of, settings.window_days)
    with extractor_for(settings, refs, state) as extractor:
        result, files = _build(settings, portfolio, refs, history, progress, extractor)
    state.record_run(result, {d.owner_email: d.strong_total for d in result.digests})
    record_quarter(state, portfolio, refs, result)
    outcome = deliver(result, files, state, messenger, resend=resend)
    if outcome.missed:
        folder = write_fallback(fallback, settings.as_of, files, outcome.missed)
        raise missed_error(outcome.missed, folder)
    return result, outcome


def wants_claude(settings: Settings) -> bool:
    """`--extractor claude`, or `auto` with ANTHROPIC_API_KEY set."""
    choice = settings.extraction.extractor
    if choice not in ("rules", "claude", "auto"):
        raise InputError(f"--extractor {choice}: choose rules, claude or auto")
    return choice == "claude" or (choice == "auto" and bool(settings.env.get(
        "ANTHROPIC_API_KEY")))


@contextmanager
def extractor_for(settings: Settings, refs: References, state: State | None = None,
                  create_state: bool = True) -> Iterator[Extractor | None]:
    """The extractor the options ask for: None means the rule extractor. Claude caches
    its answers in the state database (`state`, else ESD_STATE, opened for the run;
    with `create_state` False a missing SQLite file is not created: no cache then)."""
    if not wants_claude(settings):
        yield None
        return
    from esd.extractors.claude.extractor import MemoryCache
    from esd.extractors.claude.factory import claude_extractor

    target = settings.env.get("ESD_STATE") or DEFAULT_STATE
    own = state is None and (create_state or "://" in target or Path(target).exists())
    store = State.open(target) if own else state
    try:
        extractor = claude_extractor(settings.extraction, refs.taxonomy, settings.env,
                                     settings.toml, cache=store or MemoryCache())
        try:
            yield extractor
        finally:
            extractor.close()
    finally:
        if own:
            store.close()


def record_quarter(state: State, portfolio: Portfolio, refs: References,
                   result: RunResult) -> None:
    """Every weekly run joins this quarter's segment snapshot, so "no expansion signal
    for four quarters" (esd segment) counts the signals of every week, not one."""
    from esd.segment import segment as build_segment
    from esd.segment import snapshot_rows

    model = build_segment(portfolio, refs.segmentation, as_of=result.as_of,
                          signals=result.signals, counted_usage=result.counted_usage)
    state.record_snapshots(model.quarter, result.as_of, snapshot_rows(model))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def write_atomically(out: Path, files: dict[str, str], marker: str = "run.json") -> None:
    """Write `files` into folder `out` all at once: a failure leaves the old folder intact.

    The files are written to a sibling temporary folder that then replaces `out`. A
    non-empty `out` without the `marker` file is not an esd output folder: refuse it
    rather than delete someone's files.
    """
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / marker).is_file():
        raise InputError(f"--out {out}: folder is not empty and is not an earlier esd output "
                         f"(no {marker}); choose another folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
        if out.exists():
            retired = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            out.rename(retired)
            staging.rename(out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def coverage_report(settings: Settings) -> dict:
    """Pre-flight: coverage, source health (live) and what the run would drop, without
    extraction or output. With live sources a failing source is reported, not raised:
    the report's `sources_failed` lists it."""
    refs = load_references(settings.references)
    health: list[Health] = []
    if settings.input_dir is not None:
        portfolio = load_portfolio(settings.input_dir)
    else:
        pulled = _live().pull(settings.env, settings.toml, settings.window, keep_going=True)
        portfolio, health = pulled.portfolio, pulled.health
    window = settings.window
    collected = collect(portfolio, window)
    usage = filter_usage(collected.usage, collected.accounts, refs.baselines)
    with_call = len({c.account_id for c in collected.calls})
    extraction = extraction_estimate(settings, refs, collected.calls, collected.tickets)
    return {
        "as_of": settings.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
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
        "live": [{"source": h.system, "ok": h.ok, "reachable": h.reachable,
                  "authorised": h.authorised, "records": h.records,
                  "unmapped": h.unmapped, "requests": h.requests, "error": h.error}
                 for h in health],
        "sources_failed": [h.system for h in health if not h.ok],
        "extraction": extraction,
    }


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


def segment(settings: Settings, out: Path, state_target: str | None = None,
            use_state: bool = True, csms: int | None = None,
            on_source: Callable[[str], None] | None = None):
    """The segmentation model of seed 002 (contract §9), written to `out`. Signals come
    from this window's pipeline run (no coverage guard). With `use_state`, earlier
    quarterly snapshots drive the promotion and demotion rules, and this quarter's is
    recorded once the files are written (a failed run records nothing; bad input opens
    no state at all)."""
    from esd.segment import segment as build_segment
    from esd.segment import snapshot_rows
    from esd.segment.html import render_html
    from esd.segment.movers import Snapshot
    from esd.segment.report import dumps, render_markdown

    portfolio, refs = load_inputs(settings, on_source)
    _check_segments(portfolio, refs, settings.input_dir)
    if csms is not None and csms < 0:
        raise InputError(f"--csms {csms}: must be 0 or more")
    state = State.open(state_target) if use_state else None
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
                           if settings.input_dir is not None else "Gainsight"))
        write_atomically(out, {
            "segmentation.md": render_markdown(result, config,
                                               settings.templates or default_templates()),
            "segmentation.json": dumps(result),
            "segmentation.html": render_html(result, config),
        }, marker="segmentation.json")
        if state is not None:
            state.record_snapshots(result.quarter, settings.as_of, snapshot_rows(result))
        return result, run.diagnostics.extraction
    finally:
        if state is not None:
            state.close()


def _check_segments(portfolio: Portfolio, refs: References, input_dir: Path | None) -> None:
    """esd segment reads each account's segment: one the baseline file does not know is
    bad input (exit 2), naming the record."""
    known = ", ".join(sorted(refs.baselines.segments))
    where = str(input_dir / ACCOUNTS) if input_dir else "accounts (live)"
    problems = [f"{where}: record [{i}] (id {a.id}): field segment: unknown segment "
                f'"{a.segment}" (not in {refs.baselines.path.name}: {known})'
                for i, a in unknown_segments(portfolio.accounts, refs)]
    if problems:
        raise InputError("bad input:\n  " + "\n  ".join(problems[:25]), problems)


def evaluate(settings: Settings, gold: Path):
    """Score the chosen extractor against the labeled gold folder (contract §10): its
    input files, `labels.json`, and `references/` when present (else --references).
    Every record counts whatever its date: no window, no coverage guard."""
    from esd.extractors.evaluate import evaluate, gold_labels, references_dir
    from esd.extractors.prefilter import Prefilter
    from esd.extractors.rules import RuleExtractor

    if not gold.is_dir():
        raise InputError(f"--gold {gold}: folder not found")
    refs = load_references(references_dir(gold, settings.references))
    portfolio = load_portfolio(gold)
    labels = gold_labels(gold, portfolio, [s.id for s in refs.taxonomy.skus])
    with extractor_for(settings, refs) as extractor:
        chosen = extractor or RuleExtractor(refs.taxonomy)
        report = evaluate(portfolio, labels, chosen, Prefilter(refs.taxonomy))
        return report, getattr(chosen, "report", None)


def check(references: Path, input_dir: Path | None, env: Mapping[str, str] | None = None,
          toml: Mapping | None = None, config_path: Path | None = None) -> list[Problem]:
    """Every parse problem and lint finding of the reference files (and of the inputs
    against them, with `input_dir`). Without `input_dir`, when Gainsight credentials are
    set, also the Gainsight object and field mapping of esd.toml (describe API).
    Inputs that cannot be read raise InputError; an unreachable Gainsight, SourceError."""
    if not references.is_dir():
        raise InputError(f"{references}: reference folder not found")
    refs, problems = parse_references(references)
    if refs is None:
        return problems
    accounts = load_portfolio(input_dir).accounts if input_dir else None
    problems += lint(refs, accounts, input_dir / ACCOUNTS if input_dir else None)
    env = os.environ if env is None else env
    if input_dir is None and env.get("GAINSIGHT_URL") and env.get("GAINSIGHT_TOKEN"):
        where = str(config_path or "esd.toml")
        problems += [Problem(file=where, line=0, message=m)
                     for m in _live().gainsight_mapping_problems(env, toml or {})]
    return problems


def init(target: Path, force: bool = False) -> list[Path]:
    """Copy the default references/, templates/ and .env.example into `target`."""
    source = defaults_dir()
    pairs = [(source / "references" / p.name, target / "references" / p.name)
             for p in sorted((source / "references").glob("*.md"))]
    pairs += [(source / "templates" / p.name, target / "templates" / p.name)
              for p in sorted((source / "templates").glob("*.j2"))]
    pairs.append((source / ".env.example", target / ".env.example"))
    existing = [dst for _, dst in pairs if dst.exists()]
    if existing and not force:
        raise InputError("esd init would overwrite " + ", ".join(str(p) for p in existing)
                         + " (pass --force to replace them)")
    for src, dst in pairs:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return [dst for _, dst in pairs]

