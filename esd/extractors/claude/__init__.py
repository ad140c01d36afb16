"""Claude extraction (issue 5): the seed's extraction prompt over what the prefilter
keeps, with every answer checked against the source and the rule-based guards.

    prompt.py     the request: cached taxonomy part, delimited data, the tool schema
    client.py     the anthropic SDK: direct calls and the Message Batches API, retries
    verify.py     trust nothing the model says: quotes, SKUs, speakers, guards
    cost.py       list prices, usage, estimates
    extractor.py  `ClaudeExtractor`, the `Extractor` the pipeline calls
"""
