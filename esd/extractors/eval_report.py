"""What `esd eval` reports (contract §10): the labels it scores against, the figures,
and their two renderings, the `--json` object and the terminal table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from esd.models import Mention

UNSPECIFIED = "unspecified"  # the by_kind key of labels without a kind


@dataclass(frozen=True)
class GoldLabel:
    account_id: str
    source_id: str
    sku: str
    label: Literal["signal", "not_signal"]
    quote: str
    kind: str | None = None
    reason: str | None = None  # not_signal: the guard reason that should catch it


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
    per_reason: dict[str, Score] = field(default_factory=dict)  # not_signal, by guard reason

    def to_json(self) -> dict[str, Any]:
        """The `--json` object: contract §10's keys first, then the details."""
        return {
            "extractor": self.extractor,
            "per_sku": {sku: score.to_json() for sku, score in self.per_sku.items()},
            "not_signal": self.not_signal.to_json(),
            "per_reason": {r: score.to_json() for r, score in self.per_reason.items()},
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


# --- the terminal table ----------------------------------------------------------------


def format_report(report: EvalReport, details: bool = False) -> str:
    """A plain-text table of the figures; with `details`, the mistakes too."""
    rows = [(sku, s) for sku, s in report.per_sku.items()]
    if report.overall is not None:
        rows.append(("all SKUs (micro)", report.overall))
    rows.append(("not_signal", report.not_signal))
    rows += [(f"  {reason}", score) for reason, score in report.per_reason.items()]
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


def _mention_json(m: Mention) -> dict[str, Any]:
    return {"account_id": m.account_id, "source_id": m.source_id, "sku": m.sku,
            "label": m.label, "reason": m.reason, "quote": m.quote, "trigger": m.trigger}
