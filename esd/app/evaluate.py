"""esd eval: score the chosen extractor against a labeled gold folder (contract §10)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from esd.app.inputs import extractor_for
from esd.app.settings import Settings
from esd.connectors.files import load_portfolio
from esd.errors import InputError
from esd.extractors.eval_report import EvalReport, format_report
from esd.extractors.evaluate import evaluate, gold_labels, references_dir
from esd.extractors.prefilter import Prefilter
from esd.extractors.rules import RuleExtractor
from esd.models import ExtractionReport
from esd.references import load_references


@dataclass
class EvalOutcome:
    report: EvalReport
    extraction: ExtractionReport | None  # what Claude cost, when it ran
    exit_code: int = 0

    @property
    def cost(self) -> dict[str, Any] | None:
        x = self.extraction
        if x is None or not x.model:
            return None
        return {"model": x.model, "requests": x.requests, "cost_usd": x.cost_usd,
                "dropped": x.dropped}

    def to_json(self) -> dict[str, Any]:
        data = self.report.to_json()
        if self.cost:
            data["cost"] = self.cost
        return data

    def text(self) -> str:
        return format_report(self.report)


def run_eval(settings: Settings, gold: Path) -> EvalOutcome:
    """Every record of `gold` counts whatever its date: no window, no coverage guard.
    Its `references/` folder is used when present, else --references."""
    if not gold.is_dir():
        raise InputError(f"--gold {gold}: folder not found", file=str(gold))
    refs = load_references(references_dir(gold, settings.references))
    portfolio = load_portfolio(gold)
    labels = gold_labels(gold, portfolio, [s.id for s in refs.taxonomy.skus])
    with extractor_for(settings, refs) as extractor:
        chosen = extractor or RuleExtractor(refs.taxonomy)
        report = evaluate(portfolio, labels, chosen, Prefilter(refs.taxonomy))
        return EvalOutcome(report, getattr(chosen, "report", None))
