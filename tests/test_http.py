"""The shared HTTP layer against a real local server: retries, waits, read-only, errors."""

from __future__ import annotations

import logging

import httpx
import pytest
from conftest import fake_fixture
from fakes.server import FakeAPI, Response

from esd.connectors.http import (
    BearerAuth,
    RateLimiter,
    ReadOnlyViolation,
    Source,
    make_client,
    parse_retry_after,
)
from esd.errors import SourceError

SECRET = "s3cr3t-token-value"


def demo_api() -> FakeAPI:
    fake = FakeAPI("demo")

    @fake.route("GET", "/v1/items")
    def items(request, params):
        if request.headers.get("authorization") != f"Bearer {SECRET}":
            return Response(401, {"error": "bad token"}, {"x-request-id": "req-9"})
        return Response(200, {"items": [1, 2]})

    @fake.route("POST", "/v1/query")
    def query(request, params):
        return Response(200, {"echo": request.body})

    return fake


api = fake_fixture(demo_api)


OPENED: list[Source] = []


def source(api, token=SECRET, **kw) -> tuple[Source, list[float]]:
    waits: list[float] = []
    client = make_client(api.url, BearerAuth(token), timeout=httpx.Timeout(0.5))
    src = Source("Demo", client, query_paths={"/v1/query"}, sleep=waits.append, **kw)
    OPENED.append(src)
    return src, waits


@pytest.fixture(autouse=True)
def _close():
    yield
    while OPENED:
        OPENED.pop().close()


def test_429_waits_retry_after_then_succeeds(api):
    src, waits = source(api)
    api.fail_next("/v1/items", 429, headers={"Retry-After": "2"})
    api.fail_next("/v1/items", 503)
    assert src.get("/v1/items") == {"items": [1, 2]}
    assert waits[0] == 2.0 and 0 < waits[1] <= 1.0  # Retry-After, then jittered backoff
    assert src.requests == 3 and len(api.log) == 3


def test_gives_up_after_max_attempts_naming_system_path_status(api):
    src, waits = source(api, max_attempts=3)
    api.fail_next("/v1/items", 500, times=5)
    with pytest.raises(SourceError) as exc:
        src.get("/v1/items", params={"token": SECRET})
    assert str(exc.value) == "Demo: GET /v1/items failed after 3 attempts: status 500"
    assert len(api.log) == 3 and len(waits) == 2


def test_timeout_is_retried(api):
    src, _ = source(api, max_attempts=2)
    api.slow("/v1/items", 1.0)
    with pytest.raises(SourceError, match="timed out"):
        src.get("/v1/items")
    assert len(api.log) == 2


def test_bad_credentials_fail_at_once_without_the_secret(api, caplog):
    caplog.set_level(logging.DEBUG)
    src, waits = source(api, token="wrong-" + SECRET)
    with pytest.raises(SourceError) as exc:
        src.get("/v1/items")
    assert str(exc.value) == "Demo: GET /v1/items rejected the credentials (request id req-9)"
    assert waits == [] and len(api.log) == 1
    assert SECRET not in caplog.text and "GET /v1/items -> 401" in caplog.text


def test_only_reads_reach_the_server(api):
    src, _ = source(api)
    assert src.query("/v1/query", {"q": 1}) == {"echo": {"q": 1}}
    for method, path in (("POST", "/v1/items"), ("DELETE", "/v1/items"), ("PUT", "/v1/query")):
        with pytest.raises(ReadOnlyViolation):
            src.request(method, path)
    assert [(r.method, r.path) for r in api.log] == [("POST", "/v1/query")]


def test_empty_status_means_no_data(api):
    src, _ = source(api, empty_statuses={404})
    assert src.get("/v1/nothing-here") is None


def test_retry_after_forms():
    assert parse_retry_after("7", 60) == 7.0
    assert parse_retry_after("900", 60) == 60.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 60) == 0.0  # in the past
    assert parse_retry_after("soon", 60) is None


def test_rate_limiter_spaces_requests():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(3, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limiter.wait()
    assert slept == pytest.approx([1 / 3, 1 / 3, 1 / 3])


def test_reset_time_header_is_read_when_no_retry_after(api):
    import time

    src, waits = source(api, reset_header="X-RateLimit-Reset")
    api.fail_next("/v1/items", 429, headers={"X-RateLimit-Reset": str(int(time.time()) + 4)})
    assert src.get("/v1/items") == {"items": [1, 2]}
    assert 2.5 <= waits[0] <= 4
    plain, plain_waits = source(api)  # without the declaration: jittered backoff
    api.fail_next("/v1/items", 429, headers={"X-RateLimit-Reset": str(int(time.time()) + 4)})
    plain.get("/v1/items")
    assert plain_waits[0] <= 0.5


def test_errors_carry_source_and_endpoint(api):
    src, _ = source(api, token="wrong")
    with pytest.raises(SourceError) as exc:
        src.get("/v1/items")
    assert (exc.value.source, exc.value.endpoint) == ("Demo", "GET /v1/items")
    assert (exc.value.reachable, exc.value.authorised) == (True, False)
    api.fail_next("/v1/query", 503)
    api.fail_next("/v1/query", 503)
    src, _ = source(api, max_attempts=2)
    with pytest.raises(SourceError) as exc:
        src.query("/v1/query", {})
    assert (exc.value.endpoint, exc.value.reachable, exc.value.authorised) == (
        "POST /v1/query", True, True)
    with pytest.raises(ReadOnlyViolation) as exc:
        src.request("DELETE", "/v1/items")
    assert (exc.value.source, exc.value.endpoint) == ("Demo", "DELETE /v1/items")
