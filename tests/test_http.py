"""The shared HTTP layer against a real local server: retries, waits, read-only, errors."""

from __future__ import annotations

import logging

import httpx
import pytest
from conftest import fake_fixture
from fakes.server import FakeAPI, Response

from esd.config import HttpConfig, load_section
from esd.connectors.http import (
    BearerAuth,
    RateLimiter,
    ReadOnlyViolation,
    Source,
    make_client,
)
from esd.errors import InputError, SourceError
from esd.retry import reset_seconds

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


def test_reset_seconds_reads_a_unix_time_strictly():
    assert reset_seconds("1000", now=990.0) == 10.0
    assert reset_seconds("900", now=990.0) == 0.0  # in the past
    assert [reset_seconds(v) for v in ("soon", "", None, "-5", "1e9", "12.5")] == [None] * 6


@pytest.mark.parametrize("header", ["3600", "121", "Fri, 01 Jan 2100 00:00:00 GMT"])
def test_a_retry_after_over_max_wait_fails_the_request_at_once(api, header):
    src, waits = source(api)
    api.fail_next("/v1/items", 429, headers={"Retry-After": header})
    with pytest.raises(SourceError) as exc:
        src.get("/v1/items")
    assert (exc.value.source, exc.value.endpoint, exc.value.exit_code) == (
        "Demo", "GET /v1/items", 4)
    assert "max_wait_s = 120" in str(exc.value)
    assert waits == [] and len(api.log) == 1  # never slept, never retried


def test_max_wait_is_the_limit_honoured(api):
    src, waits = source(api, max_wait=5.0)
    api.fail_next("/v1/items", 429, headers={"Retry-After": "5"})
    assert src.get("/v1/items") == {"items": [1, 2]}
    assert waits == [5.0]
    api.fail_next("/v1/items", 503, headers={"Retry-After": "6"})
    with pytest.raises(SourceError, match="asking to wait 6s"):
        src.get("/v1/items")


@pytest.mark.parametrize("header", ["soon", "nan", "-5", "1.5", "Someday, 99 Foo"])
def test_an_unreadable_retry_after_falls_back_to_the_backoff(api, header):
    src, waits = source(api)
    api.fail_next("/v1/items", 429, headers={"Retry-After": header})
    assert src.get("/v1/items") == {"items": [1, 2]}
    assert len(waits) == 1 and 0.25 <= waits[0] <= 0.5  # the first jittered backoff


def test_a_reset_time_past_max_wait_fails_the_request(api):
    import time

    src, waits = source(api, reset_header="X-RateLimit-Reset")
    api.fail_next("/v1/items", 429, headers={"X-RateLimit-Reset": str(int(time.time()) + 3600)})
    with pytest.raises(SourceError, match="max_wait_s"):
        src.get("/v1/items")
    assert waits == []


@pytest.mark.parametrize("body", ["null", "[]", '"x"', "3", '{"items": [1', "<html>"])
def test_an_answer_that_is_no_json_object_is_a_source_error(api, body):
    src, waits = source(api)
    api.fail_next("/v1/items", 200, body=body)
    with pytest.raises(SourceError) as exc:
        src.get("/v1/items")
    assert (exc.value.source, exc.value.endpoint, exc.value.exit_code) == (
        "Demo", "GET /v1/items", 4)
    assert waits == []


def test_items_names_what_is_missing(api):
    src, _ = source(api)
    assert src.items("GET", "/p", {"rows": [{"a": 1}]}, "rows") == [{"a": 1}]
    assert src.items("GET", "/p", {}, "rows", required=False) == []
    for page, what in (({}, "no `rows` list"), ({"rows": {}}, "an object for its `rows`"),
                       ({"rows": [1]}, "not an object"), ([], "a list where an object")):
        with pytest.raises(SourceError, match=what) as exc:
            src.items("GET", "/p", page, "rows")
        assert exc.value.endpoint == "GET /p"


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


@pytest.mark.parametrize("table, wait", [
    ({}, 120.0), ({"max_wait_s": 30}, 30.0), ({"max_wait_seconds": 45}, 45.0),
    ({"max_wait_s": 30, "max_wait_seconds": 45}, 30.0),  # the contract's name wins
])
def test_http_config_max_wait_s_and_its_deprecated_name(api, table, wait):
    cfg = load_section(HttpConfig, table)
    src, _ = source(api)
    cfg.apply(src)
    assert src.max_wait == wait


def test_http_config_rejects_a_bad_max_wait():
    with pytest.raises(InputError, match=r"esd.toml \[http\]: max_wait_s: "):
        load_section(HttpConfig, {"max_wait_s": -1})


@pytest.mark.parametrize("table", [{"max_wait_seconds": 45}, {"max_wait_s": 45}])
def test_every_http_client_reads_one_max_wait(table, tmp_path):
    """Sources, Claude and Slack take [http] max_wait_s (or its old name) from one reader,
    so no client waits longer than the others were told to."""
    from conftest import TEST_REFS

    from esd.app.settings import Extraction
    from esd.delivery.slack import SlackDelivery
    from esd.extractors.claude.factory import claude_extractor
    from esd.references import load_references

    toml = {"http": table}
    source = Source("Demo", make_client("http://127.0.0.1:1"))
    HttpConfig.model_validate(table).apply(source)
    slack = SlackDelivery.from_env({"SLACK_BOT_TOKEN": "xoxb-test"}, toml)
    refs = load_references(TEST_REFS)
    claude = claude_extractor(Extraction(extractor="claude"), refs.taxonomy,
                              {"ANTHROPIC_API_KEY": "sk-test"}, toml)
    try:
        assert (source.max_wait, slack.max_wait_s, claude.client.max_wait) == (45, 45, 45)
    finally:
        claude.close()
        source.client.close()
