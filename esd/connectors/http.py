"""The one HTTP layer every connector uses: client, retries, rate limit, read-only guard.

A `Source` is one live system. Connectors call `source.get(path, params)` or
`source.query(path, body)` (for vendors whose read endpoints are POSTs, such as Gong's
`/v2/calls/extensive`) and get parsed JSON back. Everything else happens here, once:

- retries on connection errors, timeouts, 429 and 5xx, with exponential backoff and
  jitter, honouring the vendor's Retry-After header (whole seconds or an HTTP date, read
  by `esd.retry.retry_after_seconds`) up to `max_wait` (esd.toml `[http] max_wait_s`,
  120 s): a longer wait fails that request (contract §8), an unreadable one falls back
  to the backoff;
- a per-host rate limiter (Gong allows about 3 requests a second);
- read-only by construction: any method other than GET is refused unless the path is
  one the connector declared as a query (`query_paths`), before anything is sent;
- errors as `SourceError` naming the system, method, path, status and vendor request
  id, never the full URL, a header or a credential, with `source` and `endpoint` set;
  4xx other than 429 fail at once;
- answers esd cannot read (not JSON, not a JSON object, a missing list: `items`) are a
  SourceError naming the system and endpoint, never "no records" (contract §8);
- paged reads through `source.pages(...)` (esd.paging), capped at
  `max_pages` (esd.toml `[http]`, `HttpConfig`).

Connectors never retry or page on their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from esd.config import MAX_WAIT_S
from esd.errors import CredentialsRejected, ReadOnlyViolation, SourceError, Unreachable
from esd.paging import MAX_PAGES, NextRequest, iter_pages
from esd.retry import Retriable, make_retrying, reset_seconds, retry_after_seconds

log = logging.getLogger("esd.http")

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
REQUEST_ID_HEADERS = ("x-request-id", "x-gong-request-id", "x-zendesk-request-id",
                      "x-intercom-request-id", "correlation-id")


class BearerAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class HeaderAuth(httpx.Auth):
    """A secret sent in a vendor header (Gainsight's `AccessKey`)."""

    def __init__(self, header: str, value: str) -> None:
        self._header, self._value = header, value

    def auth_flow(self, request: httpx.Request):
        request.headers[self._header] = self._value
        yield request


class RateLimiter:
    """At most `per_second` requests a second, spaced evenly; thread-safe."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_second
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


@dataclass
class Source:
    """One live system behind a base URL (see the module docstring)."""

    system: str  # "Gong", "Gainsight", ...: the name users see in errors
    client: httpx.Client
    query_paths: Collection[str] = ()  # POST paths that only read
    rate_limiter: RateLimiter | None = None
    # Header(s) holding the wait, first found wins (Help Scout: X-RateLimit-Retry-After).
    retry_after_header: str | tuple[str, ...] = "Retry-After"
    # Header holding the Unix time the limit resets, read when no Retry-After came
    # (Intercom's X-RateLimit-Reset).
    reset_header: str | None = None
    empty_statuses: Collection[int] = ()  # statuses that mean "no data" (Gong: 404)
    max_attempts: int = 5
    max_wait: float = MAX_WAIT_S  # longest Retry-After honoured; also caps the backoff
    backoff: float = 0.5  # first backoff wait in seconds, doubled per attempt, jittered
    max_pages: int = MAX_PAGES  # per endpoint and window (esd.toml [http] max_pages)
    sleep: Callable[[float], None] = time.sleep
    requests: int = field(default=0, init=False)  # sent, retries included

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def query(self, path: str, body: Any) -> Any:
        """A POST that only reads (the path must be one of `query_paths`)."""
        return self.request("POST", path, json=body)

    def pages(self, method: str, path: str, first: Any, next_request: NextRequest,
              fetch: Callable[[Any], Any] | None = None) -> Iterator[Any]:
        """The pages of one paged read (see esd.paging): `first` and the
        requests `next_request` derives are query parameters (GET) or the JSON body
        (POST), sent as they are unless `fetch` sends them its own way."""
        if fetch is None:
            def fetch(request: Any) -> Any:
                return (self.get(path, request) if method == "GET"
                        else self.request(method, path, json=request))
        return iter_pages(fetch, first, next_request, source=self.system,
                          endpoint=f"{method} {path}", max_pages=self.max_pages)

    def error(self, cls: type[SourceError], method: str, path: str, what: str) -> SourceError:
        """`cls` with the message "{system}: {method} {path} {what}" and its structured
        fields (source, endpoint) set."""
        return cls(f"{self.system}: {method} {path} {what}", source=self.system,
                   endpoint=f"{method} {path}")

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Parsed JSON of a successful read, None for an `empty_statuses` answer."""
        if not (method == "GET" or (method == "POST" and path in self.query_paths)):
            raise ReadOnlyViolation(f"{self.system}: refusing {method} {path}: esd only reads",
                                    source=self.system, endpoint=f"{method} {path}")
        retrying = make_retrying(self.max_attempts, self.max_wait, self.backoff, self.sleep)
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(method, path, **kwargs)
        except Retriable as exc:
            raise self.error(Unreachable if exc.transport else SourceError, method, path,
                             f"failed after {self.max_attempts} attempts: {exc}") from None
        return None  # unreachable: tenacity either returns or raises

    def _attempt(self, method: str, path: str, **kwargs: Any) -> Any:
        if self.rate_limiter:
            self.rate_limiter.wait()
        self.requests += 1
        started = time.monotonic()
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise Retriable(f"timed out ({type(exc).__name__})", transport=True) from None
        except httpx.TransportError as exc:
            raise Retriable(f"connection failed ({type(exc).__name__})", transport=True) from None
        log.debug("%s %s %s -> %s in %.2fs", self.system, method, path,
                  response.status_code, time.monotonic() - started)
        return self.check_response(method, path, response)

    def check_response(self, method: str, path: str, response: httpx.Response) -> Any:
        """Parsed JSON of a good answer, or the error it stands for. Vendors whose errors
        live in the body (Gainsight's GSOBJ codes) override this and call super()."""
        status = response.status_code
        if status in self.empty_statuses:
            return None
        if status in RETRY_STATUS:
            raise Retriable(f"status {status}", retry_after=self._wait(method, path, response))
        if status >= 400:
            rid = next((response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers),
                       None)
            what = ("rejected the credentials" if status in (401, 403)
                    else f"answered {status} {response.reason_phrase}")
            suffix = f" (request id {rid})" if rid else ""
            error = CredentialsRejected if status in (401, 403) else SourceError
            raise self.error(error, method, path, what + suffix)
        try:
            answer = response.json()
        except ValueError:
            raise self.error(SourceError, method, path, f"answered {status} with a body "
                             "that is not JSON") from None
        if not isinstance(answer, dict):  # every vendor esd reads answers an object
            raise self.error(SourceError, method, path, f"answered {status} with "
                             f"{_kind(answer)} where an object belongs")
        return answer

    def _wait(self, method: str, path: str, response: httpx.Response) -> float | None:
        """Seconds the server asks to wait (None: unreadable or absent, back off); a
        wait longer than `max_wait` is a SourceError: esd never blocks on it."""
        names = ((self.retry_after_header,) if isinstance(self.retry_after_header, str)
                 else self.retry_after_header)
        value = next((response.headers[n] for n in names if n in response.headers), None)
        wait = retry_after_seconds(value)
        if wait is None and self.reset_header:
            value = response.headers.get(self.reset_header)
            wait = reset_seconds(value)
        if wait is not None and wait > self.max_wait:
            raise self.error(SourceError, method, path, f"answered {response.status_code} "
                             f"asking to wait {wait:.0f}s, more than esd waits "
                             f"(esd.toml [http] max_wait_s = {self.max_wait:g})")
        return wait

    def items(self, method: str, path: str, page: Any, key: str,
              required: bool = True) -> list[dict]:
        """The list of records at `page[key]`; a page that is not an object, a missing
        list (unless not `required`) or a record that is not an object is a SourceError
        naming the system and endpoint: never read as "no records"."""
        if not isinstance(page, dict):
            raise self.error(SourceError, method, path,
                             f"answered {_kind(page)} where an object belongs")
        found = page.get(key)
        if found is None and not required:
            return []
        if not isinstance(found, list):
            what = "no" if found is None else f"{_kind(found)} for its"
            raise self.error(SourceError, method, path, f"answered {what} `{key}` list")
        if not all(isinstance(item, dict) for item in found):
            raise self.error(SourceError, method, path,
                             f"answered a `{key}` entry that is not an object")
        return found

    def missing(self, method: str, path: str, what: str) -> SourceError:
        """The error for a record without a field esd cannot do without."""
        return self.error(SourceError, method, path, f"answered a record without {what}")


def _kind(value: Any) -> str:
    """What a JSON value is, for a message (never the value: it may hold customer text)."""
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number")


def make_client(base_url: str, auth: httpx.Auth | None = None,
                headers: Mapping[str, str] | None = None,
                timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    """An httpx client for one base URL; connectors pass paths relative to it."""
    return httpx.Client(base_url=base_url.rstrip("/"), auth=auth, headers=dict(headers or {}),
                        timeout=timeout, follow_redirects=False)
