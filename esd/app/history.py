"""esd history (contract §1): past runs from the state store, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from esd.errors import InputError
from esd.state import State

JSON_KEYS = ("as_of", "window_days", "delivered", "missed", "strong", "cost_usd")


@dataclass
class HistoryResult:
    """Past runs as `State.history` gives them: the contract's keys (JSON_KEYS) and a
    few more (extractor, accounts, coverage_pct)."""

    runs: list[dict]
    store: str
    exit_code: int = 0

    def to_json(self) -> list[dict]:
        return self.runs


def history(state_target: str | None, limit: int | None = None) -> HistoryResult:
    """The `limit` newest runs (all when None) recorded in the store at `state_target`,
    which must exist already: reading it never creates one."""
    if limit is not None and limit < 1:
        raise InputError(f"--limit {limit}: must be 1 or more", field="--limit")
    state = State.open(state_target, create=False)
    try:
        return HistoryResult(state.history(limit), state.label)
    finally:
        state.close()
