"""Score an extractor against labeled sentences: `esd eval --gold DIR` (contract §10).

A gold folder holds the input files of contract §2 and `labels.json`: one record per
labeled sentence, `{"account_id", "source_id", "sku", "label", "quote", "kind"}`, where
`source_id` is a call_id or ticket_id, `label` is `signal` or `not_signal` and `quote` is
the sentence as it appears in the source. Labels are exhaustive: a sentence nobody
labeled for a SKU is one nobody should flag for it. The caller reads the gold folder's
input files (`esd.connectors.files.load_portfolio`) and hands in the portfolio; this
module reads only `labels.json` (`gold_labels`). The figures and their renderings live
in `eval_report.py`.

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
- Per guard reason (`negative-example`, `negated`, `conditional`, ...): precision is the
  share of the extractor's not_signal predictions with that reason that match no signal
  label (FP = a true signal that reason silenced); recall is the share of not_signal
  labels naming that `reason` that a not_signal prediction with the same reason matches
  (TP), FN the rest (leaked, or caught under another reason).
- By kind: per label `kind`, the labels and how many came out right (a signal label
  matched by a signal prediction; a not_signal label matched by none).

Every figure whose denominator is zero is None ("n/a"), never 0 or 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from esd.errors import InputError
from esd.extractors.base import Extractor
from esd.extractors.eval_report import UNSPECIFIED, EvalReport, GoldLabel, Score
from esd.extractors.prefilter import Excerpt, Prefilter
from esd.extractors.transcript import turns
from esd.models import Mention, Portfolio
from esd.text import squash

LABELS = "labels.json"
REQUIRED = ("account_id", "source_id", "sku", "label", "quote")
LABEL_VALUES = ("signal", "not_signal")


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
        label = GoldLabel(**{k: record[k] for k in (*REQUIRED, "kind", "reason")
                             if k in record})
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
    for name in ("kind", "reason"):
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            bad.append((name, f"expected a string or null (got {json.dumps(value)[:60]})"))
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


def gold_labels(gold: Path, portfolio: Portfolio, skus: Iterable[str] | None = None,
                ) -> list[GoldLabel]:
    """The checked labels of the gold folder `gold` (its `labels.json`), whose input
    files the caller has read into `portfolio` (contract §10)."""
    labels = load_labels(gold / LABELS)
    check_labels(labels, portfolio, gold / LABELS, skus)
    return labels


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

    per_reason = _per_reason(guarded, gold_not, label_index)
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
        per_reason=per_reason,
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


def _per_reason(guarded: Sequence[Mention], gold_not: Sequence[GoldLabel],
                signal_labels: dict[tuple[str, str], list[str]]) -> dict[str, Score]:
    """Each guard reason's precision (over its predictions) and recall (over the
    not_signal labels naming it)."""
    out: dict[str, Score] = {}
    for reason in sorted({m.reason or "unspecified" for m in guarded}
                         | {g.reason for g in gold_not if g.reason}):
        mine = [m for m in guarded if (m.reason or "unspecified") == reason]
        wrong = sum(_matched(m, signal_labels) for m in mine)
        golds = [g for g in gold_not if g.reason == reason]
        caught = _index(mine)
        tp = sum(_matched(g, caught) for g in golds)
        out[reason] = Score(tp=tp, fp=wrong, fn=len(golds) - tp,
                            precision=_ratio(len(mine) - wrong, len(mine)),
                            recall=_ratio(tp, len(golds)), predicted=len(mine))
    return out


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
