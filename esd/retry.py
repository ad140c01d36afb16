"""The one retry policy of esd (tenacity): which failures are worth repeating, how long
to wait (the server's Retry-After first, else jittered exponential backoff), and when
to give up. The connectors' HTTP layer and the Claude client both use it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt


class Retriable(Exception):
    """A failed attempt worth repeating (429, 5xx, transport error)."""

    def __init__(self, message: str, retry_after: float | None = None,
                 transport: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.transport = transport  # no HTTP answer at all (connection, timeout)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After value asks for: whole seconds (RFC 9110 delay-seconds) or
    an HTTP date; 0 for a date in the past; None when absent or unreadable ("soon",
    "nan", "-5"). Not capped: the caller decides whether it is too long to wait."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return max(moment.timestamp() - (time.time() if now is None else now), 0.0)


def reset_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds until a rate-limit reset given as a Unix time in whole seconds (Intercom's
    X-RateLimit-Reset); 0 for a time in the past; None when absent or unreadable. Not
    capped, like `retry_after_seconds`."""
    value = (value or "").strip()
    if not value.isdigit():
        return None
    return max(float(value) - (time.time() if now is None else now), 0.0)


def make_retrying(max_attempts: int = 5, max_delay: float = 120.0, base: float = 0.5,
                  sleep: Callable[[float], None] = time.sleep) -> Retrying:
    """Tenacity retry policy: Retriable errors only, Retry-After first, else jittered
    exponential backoff (at most `max_delay`); re-raises the last error after
    `max_attempts`. A Retry-After longer than the caller will wait is the caller's to
    refuse (a failure of that request) before it raises Retriable."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Retriable) and exc.retry_after is not None:
            return exc.retry_after
        exp = min(max_delay, base * 2 ** (state.attempt_number - 1))
        return random.uniform(exp / 2, exp)

    return Retrying(retry=retry_if_exception_type(Retriable), wait=wait,
                    stop=stop_after_attempt(max_attempts), sleep=sleep, reraise=True)
