"""What Claude extraction costs: list prices, token usage, dollar figures, estimates.

Prices are USD per million tokens at list price (`../shared/api-notes.md` §7). They
change: override a model's row in esd.toml (`[claude.prices."model-id"]`, keys `input`,
`output`, and optionally `cache_write`, `cache_read`). The Message Batches API halves
every figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from esd.errors import InputError

DEFAULT_MODEL = "claude-sonnet-5-5"
BATCH_DISCOUNT = 0.5


@dataclass(frozen=True)
class Prices:
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float  # 5-minute cache writes: 1.25x input
    cache_read: float  # cache hits: 0.1x input (0.05x on the newest models)


def _row(input_: float, output: float, read: float | None = None) -> Prices:
    return Prices(input_, output, input_ * 1.25, read if read is not None else input_ * 0.1)


LIST_PRICES: dict[str, Prices] = {
    "claude-sonnet-5-5": _row(2.0, 10.0, read=0.10),
    "claude-sonnet-5": _row(2.0, 10.0),
    "claude-sonnet-4-6": _row(3.0, 15.0),
    "claude-sonnet-4-5": _row(3.0, 15.0),
    "claude-haiku-4-5": _row(1.0, 5.0),
    "claude-opus-4-5": _row(5.0, 25.0),
}


def prices_for(model: str, overrides: Mapping[str, Mapping[str, float]] | None = None,
               ) -> Prices:
    """The list prices of `model` (a dated id such as `claude-sonnet-4-5-20250929` uses
    its family's row), with esd.toml's overrides applied."""
    override = (overrides or {}).get(model)
    if override:
        try:
            base = float(override["input"])
            return Prices(base, float(override["output"]),
                          float(override.get("cache_write", base * 1.25)),
                          float(override.get("cache_read", base * 0.1)))
        except (KeyError, TypeError, ValueError):
            raise InputError(f"esd.toml: [claude.prices.\"{model}\"]: needs numbers `input` "
                             "and `output` (USD per million tokens)") from None
    family = next((k for k in sorted(LIST_PRICES, key=len, reverse=True)
                   if model == k or model.startswith(k + "-")), None)
    if family is None:
        raise InputError(f"--model {model}: no list price known; add "
                         f"[claude.prices.\"{model}\"] with `input` and `output` to esd.toml")
    return LIST_PRICES[family]


@dataclass
class Usage:
    """Token counts as the API reports them (`usage` of a message)."""

    input_tokens: int = 0  # uncached input
    cache_write_tokens: int = 0  # cache_creation_input_tokens
    cache_read_tokens: int = 0  # cache_read_input_tokens
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens,
                     self.cache_write_tokens + other.cache_write_tokens,
                     self.cache_read_tokens + other.cache_read_tokens,
                     self.output_tokens + other.output_tokens)

    def __sub__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens - other.input_tokens,
                     self.cache_write_tokens - other.cache_write_tokens,
                     self.cache_read_tokens - other.cache_read_tokens,
                     self.output_tokens - other.output_tokens)

    def cost(self, prices: Prices, batch: bool = False) -> float:
        usd = (self.input_tokens * prices.input + self.cache_write_tokens * prices.cache_write
               + self.cache_read_tokens * prices.cache_read
               + self.output_tokens * prices.output) / 1_000_000
        return usd * (BATCH_DISCOUNT if batch else 1.0)


def usage_of(api_usage: object) -> Usage:
    """`Usage` from the SDK's usage object (or its dict form); absent fields are 0."""
    def get(name: str) -> int:
        value = (api_usage.get(name) if isinstance(api_usage, Mapping)
                 else getattr(api_usage, name, None))
        return int(value or 0)

    return Usage(get("input_tokens"), get("cache_creation_input_tokens"),
                 get("cache_read_input_tokens"), get("output_tokens"))
