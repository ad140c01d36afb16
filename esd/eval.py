"""Score an extractor against labeled sentences: `esd eval --gold DIR` (contract §10).

A gold folder holds the input files of contract §2 and `labels.json`: one record per
labeled sentence, `{"account_id", "source_id", "sku", "label", "quote", "kind"}`, where
`source_id` is a call_id or ticket_id, `label` is `signal` or `not_signal` and `quote` is
the sentence as it appears in the source. Labels are exhaustive: a sentence nobody
labeled for a SKU is one nobody should flag for it.

Scoring rules. Eval ignores dates: the extractor runs over every call and ticket (no
window, no coverage guard).

- A predicted mention *matches* a label when `source_id` and `sku` are equal and the
  quotes overlap: after collapsing whitespace and case-folding, one contains the other.
- Per SKU: TP = `signal` labels of the SKU matched by a `signal` prediction; FP =
  `signal` predictions of the SKU matching no `signal` label (a not_signal label, or no
  label at all); FN = `signal` labels no `signal` prediction matches.
  Precision = TP / (TP + FP), recall = TP / (TP + FN). `overall` sums the SKUs (micro).
- `not_signal` ("better silence than noise"): recall is the share of not_signal labels
  that no `signal` prediction matches, whether the extractor flagged them not_signal or
  said nothing (TP = kept out of the digest, FN = leaked into it). Precision is the share
  of the extractor's `not_signal` predictions that match no signal label: FP = a guard
  that suppressed a true signal; precision = (predictions - FP) / predictions. Its TP
  counts labels and its precision counts predictions, so `predicted` is reported too.
- Prefilter: recall is the share of labels whose quote lies inside the sentences the
  prefilter keeps of that source, over the labels whose quote lies in customer text
  (customer attendees' utterances, ticket subject and body). Labels in anything else
  (a CSM coaching) are never sent by design: they are left out and counted. Token
  share = kept tokens / customer tokens over every call and ticket.
- By kind: per label `kind`, the labels and how many came out right (a signal label
  matched by a signal prediction; a not_signal label matched by none).

Every figure whose denominator is zero is None ("n/a"), never 0 or 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from esd.connectors.files import load_portfolio
from esd.errors import InputError
from esd.models import Mention, Portfolio
from esd.pipeline.extract import Extractor, turns
from esd.pipeline.prefilter import Excerpt, Prefilter
from esd.text import squash

LABELS = "labels.json"
REQUIRED = ("account_id", "source_id", "sku", "label", "quote")
LABEL_VALUES = ("signal", "not_signal")
UNSPECIFIED = "unspecified"  # the by_kind key of labels without a kind


@dataclass(frozen=True)
class GoldLabel:
    account_id: str
    source_id: str
    sku: str
    label: Literal["signal", "not_signal"]
    quote: str
    kind: str | None = None


@dataclass
class Score:
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None
    predicted: int | None = None  # predictions scored (not_signal: its precision's base)

    def to_json(self) -> dict[str, Any]:
        out = {"precision": self.precision, "recall": self.recall,
               "tp": self.tp, "fp": self.fp, "fn": self.fn}
        if self.predicted is not None:
            out["predicted"] = self.predicted
        return out


@dataclass
class EvalReport:
    extractor: str
    per_sku: dict[str, Score]
    not_signal: Score
    prefilter_recall: float | None
    token_share: float | None
    labels: int
    by_kind: dict[str, dict]
    overall: Score | None = None
    predictions: int = 0  # mentions the extractor returned, both labels
    prefilter_scored: int = 0  # labels in customer text (the prefilter recall's base)
    prefilter_excluded: int = 0  # labels in non-customer speech
    prefilter_signal_recall: float | None = None  # the same, over signal labels only
    prefilter_missed: list[GoldLabel] = field(default_factory=list)
    tokens_kept: int = 0
    tokens_total: int = 0
    false_negatives: list[GoldLabel] = field(default_factory=list)
    false_positives: list[Mention] = field(default_factory=list)  # signal, no signal label
    leaked: list[GoldLabel] = field(default_factory=list)  # not_signal labels flagged signal
    suppressed: list[Mention] = field(default_factory=list)  # not_signal on a signal label

    def to_json(self) -> dict[str, Any]:
        """The `--json` object: contract §10's keys first, then the details."""
        return {
            "extractor": self.extractor,
            "per_sku": {sku: score.to_json() for sku, score in self.per_sku.items()},
            "not_signal": self.not_signal.to_json(),
            "prefilter": {
                "recall": self.prefilter_recall, "token_share": self.token_share,
                "signal_recall": self.prefilter_signal_recall,
                "labels_scored": self.prefilter_scored,
                "labels_excluded": self.prefilter_excluded,
                "tokens_kept": self.tokens_kept, "tokens_total": self.tokens_total,
                "missed": [asdict(label) for label in self.prefilter_missed],
            },
            "overall": self.overall.to_json() if self.overall else None,
            "labels": self.labels,
            "predictions": self.predictions,
            "by_kind": self.by_kind,
            "errors": {
                "false_negatives": [asdict(label) for label in self.false_negatives],
                "false_positives": [_mention_json(m) for m in self.false_positives],
                "leaked": [asdict(label) for label in self.leaked],
                "suppressed": [_mention_json(m) for m in self.suppressed],
            },
        }


# --- loading and checking labels ---------------------------------------------------------


def load_labels(path: Path) -> list[GoldLabel]:
    """The labels of `path`, or InputError naming the file, record [i] and field."""
    if not path.is_file():
        raise InputError(f"{path}: labels file not found")
    try:
        data = json.loads(path.read_bytes())
    except ValueError as exc:
        raise InputError(f"{path}: malformed JSON: {exc}") from None
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON array of labels, got {type(data).__name__}")
    problems: list[str] = []
    labels: list[GoldLabel] = []
    seen: dict[tuple[str, str, str], int] = {}
    for i, record in enumerate(data):
        where = f"{path}: record [{i}]"
        if not isinstance(record, dict):
            problems.append(f"{where}: expected an object, got {json.dumps(record)[:60]}")
            continue
        bad = _bad_fields(record)
        if bad:
            problems.extend(f"{where}: field {name}: {why}" for name, why in bad)
            continue
        label = GoldLabel(**{k: record[k] for k in (*REQUIRED, "kind") if k in record})
        key = (label.source_id, label.sku, _norm(label.quote))
        if key in seen:
            problems.append(f"{where}: field quote: duplicate of record [{seen[key]}] "
                            f"(same source_id, sku and quote)")
        seen.setdefault(key, i)
        labels.append(label)
    if problems:
        raise InputError("bad labels:\n  " + "\n  ".join(problems), problems)
    return labels


def _bad_fields(record: dict[str, Any]) -> list[tuple[str, str]]:
    bad = []
    for name in REQUIRED:
        value = record.get(name)
        if name not in record:
            bad.append((name, "missing"))
        elif not isinstance(value, str) or not value.strip():
            bad.append((name, f"expected a non-empty string (got {json.dumps(value)[:60]})"))
        elif name == "label" and value not in LABEL_VALUES:
            bad.append((name, f'expected "signal" or "not_signal" (got {json.dumps(value)})'))
    kind = record.get("kind")
    if kind is not None and not isinstance(kind, str):
        bad.append(("kind", f"expected a string or null (got {json.dumps(kind)[:60]})"))
    return bad


def check_labels(labels: Sequence[GoldLabel], portfolio: Portfolio, path: Path,
                 skus: Iterable[str] | None = None) -> None:
    """InputError unless every label points at a call or ticket of `portfolio`, of the
    same account, whose text holds its quote (whitespace-normalised). With `skus`, a
    label's SKU must be one of them."""
    texts = _source_texts(portfolio)
    owners = {c.call_id: c.account_id for c in portfolio.calls}
    owners |= {t.ticket_id or "": t.account_id for t in portfolio.tickets}
    known = set(skus) if skus is not None else None
    problems = []
    for i, label in enumerate(labels):
        where = f"{path}: record [{i}] (source_id {label.source_id})"
        if label.source_id not in texts:
            problems.append(f"{where}: field source_id: no call or ticket with this id")
            continue
        if owners[label.source_id] != label.account_id:
            problems.append(f"{where}: field account_id: {label.account_id} does not own it "
                            f"({owners[label.source_id]} does)")
        if squash(label.quote) not in texts[label.source_id]:
            problems.append(f"{where}: field quote: not found in the source's text "
                            f"({label.quote[:60]!r})")
        if known is not None and label.sku not in known:
            problems.append(f"{where}: field sku: {label.sku} is not a SKU of the taxonomy")
    if problems:
        raise InputError("bad labels:\n  " + "\n  ".join(problems), problems)


def load_gold(directory: Path, skus: Iterable[str] | None = None
              ) -> tuple[Portfolio, list[GoldLabel]]:
    """The portfolio and checked labels of a gold folder (contract §10)."""
    portfolio = load_portfolio(directory)
    labels = load_labels(directory / LABELS)
    check_labels(labels, portfolio, directory / LABELS, skus)
    return portfolio, labels


def references_dir(gold: Path, fallback: Path) -> Path:
    """The gold folder's own `references/` when it has one, else `fallback`."""
    own = gold / "references"
    return own if own.is_dir() else fallback


def _source_texts(portfolio: Portfolio) -> dict[str, str]:
    texts = {c.call_id: squash(" ".join(t.text for t in turns(c))) for c in portfolio.calls}
    for t in portfolio.tickets:
        texts[t.ticket_id or ""] = squash(f"{t.subject}\n{t.body_summary}")
    return texts


# --- scoring -----------------------------------------------------------------------------


def evaluate(portfolio: Portfolio, labels: Sequence[GoldLabel], extractor: Extractor,
             prefilter: Prefilter) -> EvalReport:
    """Run `extractor` over every call and ticket of `portfolio` and score it."""
    mentions = extractor.extract(portfolio.calls, portfolio.tickets)
    signals = [m for m in mentions if m.label == "signal"]
    guarded = [m for m in mentions if m.label != "signal"]
    gold_signals = [g for g in labels if g.label == "signal"]
    gold_not = [g for g in labels if g.label != "signal"]

    signal_index, label_index = _index(signals), _index(gold_signals)
    hit = {id(g) for g in labels if _matched(g, signal_index)}
    per_sku: dict[str, Score] = {}
    false_positives: list[Mention] = []
    for sku in sorted({g.sku for g in labels} | {m.sku for m in signals}):
        golds = [g for g in gold_signals if g.sku == sku]
        tp = sum(id(g) in hit for g in golds)
        fps = [m for m in signals if m.sku == sku and not _matched(m, label_index)]
        false_positives += fps
        per_sku[sku] = _score(tp, len(fps), len(golds) - tp)
    overall = _score(*(sum(getattr(s, f) for s in per_sku.values()) for f in ("tp", "fp", "fn")))

    leaked = [g for g in gold_not if id(g) in hit]
    suppressed = [m for m in guarded if _matched(m, label_index)]
    kept_out = len(gold_not) - len(leaked)
    not_signal = Score(
        tp=kept_out, fp=len(suppressed), fn=len(leaked),
        precision=_ratio(len(guarded) - len(suppressed), len(guarded)),
        recall=_ratio(kept_out, len(gold_not)), predicted=len(guarded),
    )

    by_kind: dict[str, dict] = {}
    for g in labels:
        entry = by_kind.setdefault(g.kind or UNSPECIFIED, {"labels": 0, "correct": 0})
        entry["labels"] += 1
        entry["correct"] += (id(g) in hit) == (g.label == "signal")
    for entry in by_kind.values():
        entry["accuracy"] = _ratio(entry["correct"], entry["labels"])

    report = EvalReport(
        extractor=getattr(extractor, "name", type(extractor).__name__),
        per_sku=per_sku, not_signal=not_signal, prefilter_recall=None, token_share=None,
        labels=len(labels), by_kind=dict(sorted(by_kind.items())), overall=overall,
        predictions=len(mentions),
        false_negatives=[g for g in gold_signals if id(g) not in hit],
        false_positives=false_positives, leaked=leaked, suppressed=suppressed,
    )
    _score_prefilter(report, portfolio, labels, prefilter)
    return report


def _score_prefilter(report: EvalReport, portfolio: Portfolio, labels: Sequence[GoldLabel],
                     prefilter: Prefilter) -> None:
    excerpts: dict[str, Excerpt] = {c.call_id: prefilter.call(c) for c in portfolio.calls}
    excerpts |= {t.ticket_id or "": prefilter.ticket(t) for t in portfolio.tickets}
    scored: list[tuple[GoldLabel, bool]] = []
    for g in labels:
        excerpt = excerpts.get(g.source_id)
        quote = _norm(g.quote)
        if excerpt is None or not any(quote in _norm(u.text) for u in excerpt.units):
            report.prefilter_excluded += 1
            continue
        scored.append((g, any(quote in run for run in _kept_runs(excerpt))))
    report.prefilter_scored = len(scored)
    report.prefilter_recall = _ratio(sum(kept for _, kept in scored), len(scored))
    signal = [kept for g, kept in scored if g.label == "signal"]
    report.prefilter_signal_recall = _ratio(sum(signal), len(signal))
    report.prefilter_missed = [g for g, kept in scored if not kept]
    report.tokens_kept = sum(e.tokens_kept for e in excerpts.values())
    report.tokens_total = sum(e.tokens_total for e in excerpts.values())
    report.token_share = _ratio(report.tokens_kept, report.tokens_total)


def _kept_runs(excerpt: Excerpt) -> list[str]:
    """Each run of neighbouring kept sentences of each unit, normalised."""
    runs: list[str] = []
    for unit in excerpt.units:
        run: list[str] = []
        previous = None
        for index in unit.kept:
            if run and previous != index - 1:
                runs.append(_norm(" ".join(run)))
                run = []
            run.append(unit.sentence(index))
            previous = index
        if run:
            runs.append(_norm(" ".join(run)))
    return runs


def _index(items: Iterable[Mention | GoldLabel]) -> dict[tuple[str, str], list[str]]:
    """Normalised quotes by (source_id, sku): what a quote may match against."""
    index: dict[tuple[str, str], list[str]] = {}
    for item in items:
        index.setdefault((item.source_id, item.sku), []).append(_norm(item.quote))
    return index


def _matched(item: Mention | GoldLabel, index: dict[tuple[str, str], list[str]]) -> bool:
    """Whether `item` matches an entry of `index`: same source and SKU, and one quote
    contains the other (after whitespace and case normalisation)."""
    quote = _norm(item.quote)
    return bool(quote) and any(other and (quote in other or other in quote)
                               for other in index.get((item.source_id, item.sku), ()))


def _norm(text: str) -> str:
    return squash(text).casefold()


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _score(tp: int, fp: int, fn: int) -> Score:
    return Score(tp=tp, fp=fp, fn=fn, precision=_ratio(tp, tp + fp), recall=_ratio(tp, tp + fn))


def _mention_json(m: Mention) -> dict[str, Any]:
    return {"account_id": m.account_id, "source_id": m.source_id, "sku": m.sku,
            "label": m.label, "reason": m.reason, "quote": m.quote, "trigger": m.trigger}


# --- the terminal table ------------------------------------------------------------------


def format_report(report: EvalReport, details: bool = False) -> str:
    """A plain-text table of the figures; with `details`, the mistakes too."""
    rows = [(sku, s) for sku, s in report.per_sku.items()]
    if report.overall is not None:
        rows.append(("all SKUs (micro)", report.overall))
    rows.append(("not_signal", report.not_signal))
    width = max(len(name) for name, _ in rows)
    lines = [f"extractor: {report.extractor}   labels: {report.labels}   "
             f"predictions: {report.predictions}", "",
             f"{'':<{width}}  {'precision':>9}  {'recall':>6}  {'tp':>4}  {'fp':>4}  {'fn':>4}"]
    for name, s in rows:
        lines.append(f"{name:<{width}}  {_pct(s.precision):>9}  {_pct(s.recall):>6}  "
                     f"{s.tp:>4}  {s.fp:>4}  {s.fn:>4}")
    lines += ["", f"{'kind':<{width}}  {'correct':>9}  {'labels':>6}"]
    for kind, entry in report.by_kind.items():
        lines.append(f"{kind:<{width}}  {entry['correct']:>9}  {entry['labels']:>6}")
    kept = report.prefilter_scored - len(report.prefilter_missed)
    lines += [
        "",
        f"prefilter: recall {_pct(report.prefilter_recall)} ({kept} of "
        f"{report.prefilter_scored} labeled customer sentences kept; "
        f"{report.prefilter_excluded} labels in non-customer speech left out)",
        f"           token share {_pct(report.token_share)} ({report.tokens_kept} of "
        f"{report.tokens_total} customer tokens kept)",
    ]
    if details:
        lines += _details(report)
    return "\n".join(lines)


def _details(report: EvalReport) -> list[str]:
    sections = [
        ("missed signals (false negatives)", [_gold_line(g) for g in report.false_negatives]),
        ("false positives", [_mention_line(m) for m in report.false_positives]),
        ("not_signal labels flagged as signal", [_gold_line(g) for g in report.leaked]),
        ("true signals the guard suppressed", [_mention_line(m) for m in report.suppressed]),
        ("outside the prefilter's kept sentences",
         [_gold_line(g) for g in report.prefilter_missed]),
    ]
    out: list[str] = []
    for title, items in sections:
        if items:
            out += ["", f"{title}:", *(f"  {item}" for item in items)]
    return out


def _gold_line(g: GoldLabel) -> str:
    return f"{g.source_id} {g.sku} [{g.kind or UNSPECIFIED}] {g.quote}"


def _mention_line(m: Mention) -> str:
    return f"{m.source_id} {m.sku} [{m.reason or m.label}] {m.quote}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
