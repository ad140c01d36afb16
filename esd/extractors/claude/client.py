"""The anthropic SDK behind one small interface: a direct call or a Message Batch.

Retries happen in two layers. The SDK retries 429, 5xx and connection errors itself
(`max_retries`), but waits 8 s at most. An overloaded model (529) or a rate limit can last
longer than that. So on top of the SDK, `send` tries `attempts` times under esd's one
retry policy (`esd.retry`): `retry-after` first (up to `max_wait`, esd.toml `[http]
max_wait_s`; a longer one fails the request), else jittered exponential backoff. It also
retries an answer without the forced tool call, and a body that is not JSON, as it
would a 5xx: a hiccup, not a bad request. Every failure ends up as one esd error whose
message names the cause and never the key (`esd.errors`, `source="anthropic"`).

`billed` adds up the usage of every answer that came back, usable or not (a malformed
or cut-off answer is billed all the same), per kind (`batch`, `direct`): the cost
report reads it.

`send_batch` submits a Message Batch (half price, `../shared/api-notes.md` §7), polls it,
and maps the results by `custom_id`: they come back in any order. Anything that did not
succeed, or came back unusable, is returned so the caller sends it directly.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anthropic
from tenacity import RetryCallState

from esd.config import MAX_WAIT_S
from esd.errors import CredentialsRejected, ModelError, SourceError, Unreachable
from esd.extractors.claude.cost import Usage, usage_of
from esd.retry import Retriable, make_retrying, retry_after_seconds

log = logging.getLogger("esd.claude")
CANCEL_POLLS = 5
SOURCE = "anthropic"  # the `source` of every error raised here
MESSAGES = "POST /v1/messages"
BATCHES = "/v1/messages/batches"
T = TypeVar("T")


@dataclass
class Reply:
    mentions: list[Any]  # the forced tool call's input["mentions"], not validated further
    usage: Usage
    stop_reason: str | None


class _Malformed(Exception):
    """An answer without a usable tool call; `usage` is what it cost all the same."""

    def __init__(self, message: str, usage: Usage) -> None:
        super().__init__(message)
        self.usage = usage


class ClaudeClient:
    """Direct and batched Messages API calls, with esd's retries and errors."""

    def __init__(self, api_key: str, base_url: str | None = None, *,
                 tool_name: str = "record_mentions", max_retries: int = 2, attempts: int = 4,
                 backoff: float = 2.0, max_backoff: float = 60.0, max_wait: float = MAX_WAIT_S,
                 timeout: float = 120.0,
                 poll_interval: float = 20.0, batch_timeout: float = 1800.0,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = anthropic.Anthropic(api_key=api_key, base_url=base_url or None,
                                           max_retries=max_retries, timeout=timeout)
        url = urlsplit(str(self._client.base_url))
        self._host = url.hostname if url.port is None else f"{url.hostname}:{url.port}"
        self.tool_name = tool_name
        self.attempts = max(1, attempts)
        self.backoff, self.max_backoff, self.max_wait = backoff, max_backoff, max_wait
        self.poll_interval, self.batch_timeout = poll_interval, batch_timeout
        self.sleep, self.clock = sleep, clock
        self.requests_sent = 0
        self.billed = {"batch": Usage(), "direct": Usage()}

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ClaudeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, params: dict) -> Reply:
        """One `/v1/messages` call. The usage of malformed answers that were retried is
        added to the reply's: they were billed too."""
        wasted = Usage()
        answered = False

        def call() -> Reply:
            nonlocal wasted, answered
            answered = False
            message = self._client.messages.create(**params)
            self.requests_sent += 1
            answered = True
            self.billed["direct"] += _usage(message)
            try:
                return self._parse(message)
            except _Malformed as exc:
                wasted += exc.usage
                raise

        try:
            reply = self._retrying("", MESSAGES, call)
        except SourceError:
            if not answered:
                self.requests_sent += 1  # the request that failed for good
            raise
        reply.usage += wasted
        return reply

    def send_batch(self, requests: dict[str, dict]) -> tuple[dict[str, Reply], list[str]]:
        """Replies by custom_id, and the ids to send directly: errored, canceled, expired,
        missing or malformed results, or all of them if the batch outlasts
        `batch_timeout`."""
        if not requests:
            return {}, []
        batches = self._client.messages.batches
        body = [{"custom_id": cid, "params": params} for cid, params in requests.items()]
        batch = self._retrying("batch create", f"POST {BATCHES}",
                               lambda: batches.create(requests=body))
        batch_id = batch.id
        self.requests_sent += len(requests)
        log.info("Anthropic batch %s: %d requests submitted", batch_id, len(requests))
        started = self.clock()
        while batch.processing_status != "ended":
            if self.clock() - started >= self.batch_timeout:
                log.warning("Anthropic batch %s still %s after %.0fs: canceling it; what it "
                            "has not finished is sent directly", batch.id,
                            batch.processing_status, self.batch_timeout)
                try:
                    batches.cancel(batch_id)
                    # A canceled batch ends soon, keeping the answers it already has
                    # (billed): wait a few polls for them rather than pay twice.
                    for _ in range(CANCEL_POLLS):
                        batch = batches.retrieve(batch_id)
                        if batch.processing_status == "ended":
                            break
                        self.sleep(self.poll_interval)
                except anthropic.APIError as exc:
                    log.info("Anthropic batch %s: cancel failed (%s)", batch.id,
                             type(exc).__name__)
                if batch.processing_status != "ended":
                    return {}, list(requests)
                break
            self.sleep(self.poll_interval)
            batch = self._retrying("batch status", f"GET {BATCHES}/{batch_id}",
                                   lambda: batches.retrieve(batch_id))
            log.debug("Anthropic batch %s: %s", batch.id, batch.processing_status)
        replies: dict[str, Reply] = {}
        results = self._retrying("batch results", f"GET {BATCHES}/{batch_id}/results",
                                 lambda: batches.results(batch_id))
        try:
            for line in results:
                if line.custom_id in requests and line.result.type == "succeeded":
                    self.billed["batch"] += _usage(line.result.message)
                    try:
                        replies[line.custom_id] = self._parse(line.result.message)
                    except _Malformed as exc:
                        log.info("Anthropic batch %s: %s: %s", batch.id, line.custom_id, exc)
        except ValueError:  # a results line that is not JSON: send the rest directly
            log.warning("Anthropic batch %s: the results file is not JSON Lines; what it "
                        "did not answer is sent directly", batch.id)
        finally:
            results.close()
        retry = [cid for cid in requests if cid not in replies]
        log.info("Anthropic batch %s ended: %d succeeded, %d to send directly", batch.id,
                 len(replies), len(retry))
        return replies, retry

    def _parse(self, message: Any) -> Reply:
        usage = _usage(message)
        if not hasattr(message, "content"):  # null, a list: no message at all
            raise _Malformed("malformed answer (not a message object)", usage)
        block = next((b for b in message.content or []
                      if getattr(b, "type", None) == "tool_use"
                      and getattr(b, "name", None) == self.tool_name), None)
        if block is None:
            raise _Malformed(f"malformed answer (no {self.tool_name} call, stop_reason "
                             f"{message.stop_reason})", usage)
        if message.stop_reason == "max_tokens":  # the list may be cut short: never cache it
            raise _Malformed("malformed answer (cut off at max_tokens)", usage)
        mentions = block.input.get("mentions") if isinstance(block.input, dict) else None
        if not isinstance(mentions, list):
            raise _Malformed(f"malformed answer ({self.tool_name} input has no list of "
                             f"mentions, stop_reason {message.stop_reason})", usage)
        log.debug("Anthropic answer: %d mentions, stop_reason %s", len(mentions),
                  message.stop_reason)
        return Reply(mentions, usage, message.stop_reason)

    def _retrying(self, what: str, endpoint: str, call: Callable[[], T]) -> T:
        """Run `call` up to `attempts` times (`esd.retry`); 401/403, other 4xx and
        connection errors fail at once (the SDK has already retried the latter)."""
        prefix = f"Anthropic {what}".rstrip()
        where = {"source": SOURCE, "endpoint": endpoint}

        def attempt() -> T:
            try:
                return call()
            except anthropic.APIStatusError as exc:
                raise self._classify(exc, prefix, where) from None
            except anthropic.APIConnectionError as exc:
                how = "timed out" if isinstance(exc, anthropic.APITimeoutError) else "failed"
                raise Unreachable(f"{prefix}: connection to {self._host} {how}",
                                  **where) from None
            except _Malformed as exc:
                raise Retriable(str(exc)) from None
            except json.JSONDecodeError:
                raise Retriable("answered a body that is not JSON") from None

        def before_sleep(state: RetryCallState) -> None:
            log.info("%s: %s; retrying in %.1fs (attempt %d of %d)", prefix,
                     state.outcome.exception() if state.outcome else None,
                     state.next_action.sleep if state.next_action else 0.0,
                     state.attempt_number + 1, self.attempts)

        retrying = make_retrying(self.attempts, max_delay=self.max_backoff, base=self.backoff,
                                 sleep=self.sleep).copy(before_sleep=before_sleep)
        try:
            return retrying(attempt)
        except Retriable as exc:
            raise ModelError(f"{prefix}: {exc} after {self.attempts} attempts",
                             **where) from None

    def _classify(self, exc: anthropic.APIStatusError, prefix: str,
                  where: dict[str, str]) -> Exception:
        """For 429, 529 and 5xx, a Retriable with the server's retry-after; for anything
        else, the esd error to raise at once."""
        status, kind, message = _describe(exc)
        if status in (401, 403):
            return CredentialsRejected(f"Anthropic rejected ANTHROPIC_API_KEY ({status}): "
                                       f"{message}", **where)
        if status != 429 and status < 500 and kind != "overloaded_error":
            return ModelError(f"{prefix}: {status} {kind}: {message}", **where)
        cause = ("rate limited" if status == 429 else "overloaded"
                 if status == 529 or kind == "overloaded_error" else "server error")
        wait = retry_after_seconds(exc.response.headers.get("retry-after"))
        if wait is not None and wait > self.max_wait:
            return ModelError(f"{prefix}: {cause} ({status}), asked to wait {wait:.0f}s, "
                              f"more than esd waits (esd.toml [http] max_wait_s = "
                              f"{self.max_wait:g})", **where)
        return Retriable(f"{cause} ({status})", retry_after=wait)


def _usage(message: Any) -> Usage:
    """What an answer cost; nothing for a body that is no message."""
    return usage_of(getattr(message, "usage", None))


def _describe(exc: anthropic.APIStatusError) -> tuple[int, str, str]:
    """Status, error type and the API's one-line message (never headers or the request)."""
    error = exc.body.get("error") if isinstance(exc.body, dict) else None
    error = error if isinstance(error, dict) else {}
    message = " ".join(str(error.get("message") or "no message").split())[:300]
    return exc.status_code, str(error.get("type") or "error"), message
