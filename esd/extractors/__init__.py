"""Text extraction: SKU mentions from call transcripts and ticket text (contract §5.3).

Every extractor is an `Extractor` (`base.py`); the pipeline's extract stage calls one.

    base.py        the `Extractor` and `Progress` protocols
    transcript.py  a call's utterances, speakers resolved; customer turns only
    rules.py       `RuleExtractor`: the taxonomy's literal phrases, with the guards
    prefilter.py   the expansion-shaped customer sentences a model gets to read
    claude/        `ClaudeExtractor`: the model over what the prefilter keeps, verified
    evaluate.py    scoring an extractor against labeled sentences (`esd eval`, §10)
    eval_report.py the figures `esd eval` reports, as JSON and as a table

Nothing here reads the input files of contract §2 or calls a connector: the callers
(the pipeline, the app layer) hand in models. Below this package: esd.references,
esd.state, esd.models, esd.errors, esd.text, esd.format, esd.retry.
"""
