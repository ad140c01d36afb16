"""Build a `ClaudeExtractor` from the options, the environment and esd.toml's `[claude]`.

    [claude]
    model = "claude-sonnet-5-5"   # --model / ESD_MODEL win
    poll_interval = 20            # seconds between batch status checks
    batch_timeout = 1800          # seconds; then the unfinished rest is sent directly
    attempts = 4                  # our tries on 429/529/5xx, on top of the SDK's 2 retries
    backoff = 2                   # seconds (at most, jittered) before our second try,
                                  # doubling; the API's retry-after wins (esd.retry)

    lexicon = "sharp"             # the prefilter: "sharp", "broad" or "all" (no filter)
    screen_model = "claude-haiku-4-5"   # optional cheap first pass; off when absent

    [claude.prices."claude-sonnet-5-5"]   # USD per million tokens, when list prices move
    input = 2.0
    output = 10.0
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from esd.config import http_settings
from esd.errors import InputError
from esd.extractors.claude.client import ClaudeClient
from esd.extractors.claude.cost import DEFAULT_MODEL, prices_for
from esd.extractors.claude.extractor import ClaudeExtractor, ResultCache
from esd.extractors.prefilter import LEXICONS
from esd.references.schema import Taxonomy


def _number(section: Mapping[str, Any], key: str, default: float,
            table: str = "claude") -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InputError(f"esd.toml: [{table}] {key} = {value!r}: must be a number >= 0")
    return float(value)


def claude_extractor(options: Any, taxonomy: Taxonomy, env: Mapping[str, str],
                     toml: Mapping[str, Any], cache: ResultCache | None = None,
                     ) -> ClaudeExtractor:
    """`options` is a runner.Extraction. A missing key is named before any request."""
    key = env.get("ANTHROPIC_API_KEY")
    if not key:
        raise InputError("ANTHROPIC_API_KEY is not set: --extractor claude needs it "
                         "(or use --extractor rules)")
    section = toml.get("claude", {}) if isinstance(toml.get("claude", {}), Mapping) else {}
    model = options.model or section.get("model") or DEFAULT_MODEL
    if options.fallback not in (None, "rules"):
        raise InputError(f"--extractor-fallback {options.fallback}: the only fallback is "
                         "`rules`")
    if options.max_cost is not None and options.max_cost < 0:
        raise InputError(f"--max-cost {options.max_cost}: must be >= 0")
    client = ClaudeClient(
        key, env.get("ANTHROPIC_BASE_URL") or None,
        max_wait=http_settings(toml).max_wait_s,  # one [http] for every HTTP client
        attempts=int(_number(section, "attempts", 4)) or 1,
        backoff=_number(section, "backoff", 2.0),
        poll_interval=_number(section, "poll_interval", 20.0),
        batch_timeout=_number(section, "batch_timeout", 1800.0),
    )
    lexicon = section.get("lexicon", "sharp")
    if lexicon not in LEXICONS:
        raise InputError(f"esd.toml: [claude] lexicon = {lexicon!r}: one of "
                         + ", ".join(f'"{name}"' for name in LEXICONS))
    screen_model = section.get("screen_model") or None
    if screen_model is not None and not isinstance(screen_model, str):
        raise InputError(f"esd.toml: [claude] screen_model = {screen_model!r}: a model id")
    screen_client = screen_prices = None
    if screen_model:
        screen_prices = prices_for(screen_model, section.get("prices"))
        screen_client = ClaudeClient(
            key, env.get("ANTHROPIC_BASE_URL") or None, tool_name="flag_sentences",
            max_wait=client.max_wait, attempts=client.attempts, backoff=client.backoff,
            poll_interval=client.poll_interval, batch_timeout=client.batch_timeout)
    return ClaudeExtractor(taxonomy, client, model=model,
                           prices=prices_for(model, section.get("prices")), cache=cache,
                           batch=options.batch, max_cost=options.max_cost,
                           fallback=options.fallback, lexicon=lexicon,
                           screen_model=screen_model, screen_client=screen_client,
                           screen_prices=screen_prices)
