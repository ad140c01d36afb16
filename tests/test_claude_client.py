"""ClaudeClient against a fake Anthropic API on 127.0.0.1 (../shared/api-notes.md §7)."""

from __future__ import annotations

import json
import logging
import socket
import time

import httpx
import pydantic
import pytest
from anthropic.types import Message
from anthropic.types.messages import MessageBatch, MessageBatchIndividualResponse
from anthropic.types.shared import ErrorResponse
from conftest import fake_fixture
from fakes.anthropic import BATCHES, KEY, MESSAGES, FakeAnthropic, sources

from esd.errors import CredentialsRejected, ModelError, SourceError, Unreachable
from esd.extractors.claude.client import ClaudeClient, Reply
from esd.extractors.claude.cost import Usage

MODEL = "claude-sonnet-5-5"
TOOL = {"name": "record_mentions", "description": "Record every SKU mention.",
        "input_schema": {"type": "object", "properties": {"mentions": {"type": "array"}},
                         "required": ["mentions"]}}
SYSTEM = "You find expansion signals. " + "Taxonomy line about seats and tiers. " * 130


def params(*lines: str, system: str = SYSTEM, cache: bool = True) -> dict:
    """A request in esd's shape (esd/extractors/claude/prompt.py): one source per call, lines as
    `[Speaker]: text`, text HTML-escaped."""
    blocks = [f'<source ref="s{i + 1}" kind="call">\n{line}\n</source>'
              for i, line in enumerate(lines)]
    block = {"type": "text", "text": system}
    if cache:
        block["cache_control"] = {"type": "ephemeral"}
    return {"model": MODEL, "max_tokens": 1024, "tools": [TOOL],
            "tool_choice": {"type": "tool", "name": "record_mentions"}, "system": [block],
            "messages": [{"role": "user", "content": "<sources>\n" + "\n".join(blocks)
                          + "\n</sources>\n\nRecord every SKU mention in these sources."}]}


def seats(request: dict) -> list[dict]:
    """Quote every line that mentions seats as additional-team-seats."""
    return [{"source": ref, "sku": "additional-team-seats", "quote": text,
             "speaker": speaker, "label": "signal", "reason": "none"}
            for ref, lines in sources(request).items() for speaker, text in lines
            if "seats" in text]


api = fake_fixture(FakeAnthropic)


class Clock:
    """A fake clock that `sleep` advances: batch polling without waiting."""

    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make(api, clock):
    clients = []

    def make_client(**options) -> ClaudeClient:
        options = {"backoff": 0.5, "sleep": clock.sleep, "clock": clock, **options}
        client = ClaudeClient(options.pop("api_key", KEY), options.pop("base_url", api.url),
                              **options)
        clients.append(client)
        return client

    yield make_client
    for client in clients:
        client.close()


def assert_backoff(waits: list[float], base: float = 0.5, cap: float = 60.0) -> None:
    """esd.retry's jittered exponential backoff: wait n (from 0) lies in [d/2, d], where
    d = min(cap, base * 2**n)."""
    for n, wait in enumerate(waits):
        d = min(cap, base * 2 ** n)
        assert d / 2 <= wait <= d, f"wait {n}: {wait} not in [{d / 2}, {d}]"


def posts(api: FakeAnthropic, path: str = MESSAGES) -> int:
    return sum(1 for r in api.log if r.method == "POST" and r.path == path)


# -- direct calls -----------------------------------------------------------------------
def test_send_parses_the_tool_call_and_reads_the_cached_prompt_the_second_time(api, make):
    api.responder = seats
    client = make()
    request = params("[Leila Nguyen]: We need 40 more seats &amp; SSO.",
                     "[Tom Becker]: The weather is fine.")
    first, second = client.send(request), client.send(request)

    assert first.mentions == [{"source": "s1", "sku": "additional-team-seats",
                               "quote": "We need 40 more seats & SSO.",
                               "speaker": "Leila Nguyen", "label": "signal", "reason": "none"}]
    assert first.stop_reason == "tool_use"
    assert first.usage.cache_write_tokens >= 1024 and first.usage.cache_read_tokens == 0
    assert second.usage == Usage(first.usage.input_tokens, 0, first.usage.cache_write_tokens,
                                 first.usage.output_tokens)
    assert first.usage.input_tokens > 0 and first.usage.output_tokens > 10
    assert api.sent == [request, request] and client.requests_sent == 2
    headers = api.log[0].headers
    # SDK 2.x sends the key as a bearer token; the API also takes x-api-key.
    assert (headers.get("x-api-key") == KEY or headers.get("authorization") == f"Bearer {KEY}")
    assert headers["anthropic-version"]
    assert api.log[0].body == request


def test_a_short_or_unmarked_prompt_is_not_cached(api, make):
    client = make()
    short, unmarked = params("[A]: hi", system="Be brief."), params("[A]: hi", cache=False)
    for request in (short, short, unmarked, unmarked):
        usage = client.send(request).usage
        assert usage.cache_write_tokens == usage.cache_read_tokens == 0
        assert usage.input_tokens > 0


def test_rate_limits_are_retried_honouring_retry_after(api, make, clock):
    api.rate_limit_next(MESSAGES, times=3, retry_after="7")  # outlasts the SDK's 2 retries
    client = make(max_retries=2)

    reply = client.send(params("[A]: hi"))

    assert reply.mentions == [] and clock.sleeps == [7.0]
    assert posts(api) == 4 and client.requests_sent == 1


@pytest.mark.parametrize("status", [529, 500])
def test_overload_and_server_errors_are_retried_with_backoff(api, make, clock, status):
    if status == 529:
        api.overload_next(MESSAGES, times=4)
    else:
        api.fail_next(MESSAGES, 500, times=4, headers={"retry-after-ms": "1"},
                      body={"type": "error", "error": {"type": "api_error", "message": "x"}})
    client = make(max_retries=1)

    assert client.send(params("[A]: hi")).stop_reason == "tool_use"
    assert len(clock.sleeps) == 2 and posts(api) == 5
    assert_backoff(clock.sleeps)


def test_persistent_overload_is_a_model_error_naming_the_cause(api, make, clock):
    api.overload_next(MESSAGES, times=50)
    client = make(max_retries=1, attempts=4, backoff=2.0, max_backoff=3.0)

    with pytest.raises(ModelError) as raised:
        client.send(params("[A]: hi"))

    assert str(raised.value) == "Anthropic: overloaded (529) after 4 attempts"
    assert raised.value.exit_code == 4 and isinstance(raised.value, SourceError)
    assert (raised.value.source, raised.value.endpoint) == ("anthropic", "POST /v1/messages")
    assert len(clock.sleeps) == 3  # exponential with jitter, capped at max_backoff
    assert_backoff(clock.sleeps, base=2.0, cap=3.0)
    assert posts(api) == 8 and client.requests_sent == 1


def test_a_rejected_key_fails_at_once_without_showing_it(api, make, clock):
    wrong = "sk-ant-wrong-key-999999"
    client = make(api_key=wrong)

    with pytest.raises(CredentialsRejected) as raised:
        client.send(params("[A]: hi"))

    message = str(raised.value)
    assert message.startswith("Anthropic rejected ANTHROPIC_API_KEY (401)")
    assert "invalid x-api-key" in message and wrong not in message
    assert raised.value.exit_code == 4
    assert len(api.log) == 1 and clock.sleeps == []


def test_a_bad_request_is_a_model_error_with_the_apis_message(api, make, clock):
    client = make()
    with pytest.raises(ModelError, match=r"^Anthropic: 400 invalid_request_error: max_tokens"):
        client.send({**params("[A]: hi"), "max_tokens": 0})
    assert posts(api) == 1 and clock.sleeps == []


def test_a_malformed_answer_is_retried(api, make, clock):
    api.responder = seats
    api.malformed_next(times=2)
    client = make()

    reply = client.send(params("[A]: 12 seats please"))

    assert [m["quote"] for m in reply.mentions] == ["12 seats please"]
    assert len(clock.sleeps) == 2 and posts(api) == 3 and client.requests_sent == 3
    assert_backoff(clock.sleeps)
    # The malformed answers were billed too: their output is in the reply's usage.
    assert reply.usage.output_tokens == sum(u["output_tokens"] for u in api.usage_log)


def test_a_model_that_never_calls_the_tool_is_a_model_error(api, make, clock):
    api.responder = lambda request: "Sure! Here are the mentions: none."
    client = make(attempts=3)
    with pytest.raises(ModelError, match=r"no record_mentions call, stop_reason end_turn\) "
                                         r"after 3 attempts$"):
        client.send(params("[A]: hi"))
    assert posts(api) == 3 and len(clock.sleeps) == 2


def test_a_tool_call_of_another_name_is_malformed(api, make):
    client = make(tool_name="other_tool", attempts=1)
    with pytest.raises(ModelError, match="no other_tool call"):
        client.send(params("[A]: hi"))


def test_a_closed_port_is_unreachable_quickly(make):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make(base_url=f"http://127.0.0.1:{port}", max_retries=0, attempts=1)
    started = time.monotonic()
    with pytest.raises(Unreachable) as raised:
        client.send(params("[A]: hi"))
    assert time.monotonic() - started < 2
    assert str(raised.value) == f"Anthropic: connection to 127.0.0.1:{port} failed"
    assert KEY not in str(raised.value) and raised.value.exit_code == 4


def test_a_timeout_is_unreachable(api, make):
    api.slow(MESSAGES, 0.5)
    client = make(max_retries=0, attempts=1, timeout=0.1)
    with pytest.raises(Unreachable, match="timed out"):
        client.send(params("[A]: hi"))


def test_without_base_url_the_sdk_default_host_applies(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    with ClaudeClient(KEY) as client:
        assert client._host == "api.anthropic.com"


# -- batches -----------------------------------------------------------------------
def batch_requests(n: int) -> dict[str, dict]:
    return {f"c{i}": params(f"[Speaker {i}]: We want {i} more seats.") for i in range(n)}


def test_batch_results_are_mapped_by_custom_id(api, make, clock):
    api.responder = seats
    api.errored_ids, api.expired_ids, api.missing_ids = {"c2"}, {"c5"}, {"c6"}
    api.malformed_next(times=1)  # the first request answered: c0
    client = make(poll_interval=20.0)
    requests = batch_requests(7)

    replies, retry = client.send_batch(requests)

    assert set(replies) == {"c1", "c3", "c4"}
    for cid, reply in replies.items():
        assert [m["quote"] for m in reply.mentions] == [f"We want {cid[1:]} more seats."]
        assert isinstance(reply, Reply) and reply.stop_reason == "tool_use"
    assert retry == ["c0", "c2", "c5", "c6"]
    [batch_id] = {r.path.split("/")[4] for r in api.log if r.path.startswith(BATCHES + "/")}
    order = [line["custom_id"] for line in api.results_of(batch_id)]
    assert sorted(order) == ["c0", "c1", "c2", "c3", "c4", "c5"]
    assert order != sorted(order)  # shuffled, so only custom_id can map them
    assert api.sent == list(requests.values()) and client.requests_sent == 7
    assert clock.sleeps == [20.0] and posts(api) == 0
    assert api.log[0].body == {"requests": [{"custom_id": cid, "params": p}
                                            for cid, p in requests.items()]}


def test_batch_polls_until_it_ends(api, make, clock):
    api.polls_to_end = 3
    client = make(poll_interval=5.0)
    replies, retry = client.send_batch(batch_requests(2))
    assert set(replies) == {"c0", "c1"} and retry == []
    assert clock.sleeps == [5.0, 5.0, 5.0]


def test_batch_create_is_retried_when_overloaded(api, make, clock):
    api.overload_next(BATCHES, times=3)
    client = make(max_retries=1)
    replies, retry = client.send_batch(batch_requests(2))
    assert set(replies) == {"c0", "c1"} and posts(api, BATCHES) == 4
    assert_backoff(clock.sleeps[:1])


def test_a_batch_that_never_ends_is_canceled_and_sent_directly(api, make, clock):
    api.polls_to_end = None
    client = make(poll_interval=20.0, batch_timeout=60.0)
    requests = batch_requests(3)

    replies, retry = client.send_batch(requests)

    assert replies == {} and retry == ["c0", "c1", "c2"]
    assert clock.sleeps == [20.0, 20.0, 20.0]
    cancels = [r for r in api.log if r.method == "POST" and r.path.endswith("/cancel")]
    assert len(cancels) == 1 and client.requests_sent == 3


def test_an_empty_batch_sends_nothing(api, make):
    assert make().send_batch({}) == ({}, [])
    assert api.log == []


# -- the fake speaks the SDK's types ---------------------------------------------------
def strict(model: type[pydantic.BaseModel], body: object) -> pydantic.BaseModel:
    """Validate `body` as the SDK's `model` (required fields, literals, unions) and refuse
    keys the SDK does not know at any depth: its models allow extras, so a misspelt
    optional field would pass `model_validate` alone."""
    parsed = model.model_validate(body)

    def walk(value: object, where: str) -> None:
        if isinstance(value, pydantic.BaseModel):
            assert not value.model_extra, f"{where}: unknown fields {value.model_extra}"
            for name in type(value).model_fields:
                walk(getattr(value, name), f"{where}.{name}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]")

    walk(parsed, model.__name__)
    return parsed


def test_fake_responses_validate_against_the_sdk_types(api):
    api.responder = seats
    api.errored_ids, api.expired_ids = {"c1"}, {"c2"}
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=api.url, headers=headers) as http:
        message = http.post(MESSAGES, json=params("[A]: 3 seats")).json()
        strict(Message, message)
        created = http.post(BATCHES, json={"requests": [
            {"custom_id": cid, "params": p} for cid, p in batch_requests(4).items()]}).json()
        assert strict(MessageBatch, created).processing_status == "in_progress"
        ended = http.get(f"{BATCHES}/{created['id']}").json()
        assert strict(MessageBatch, ended).results_url == ended["results_url"]
        results = http.get(ended["results_url"])
        assert results.headers["content-type"] == "application/binary"
        lines = [strict(MessageBatchIndividualResponse, json.loads(line))
                 for line in results.text.splitlines()]
        assert sorted(line.result.type for line in lines) == [
            "errored", "expired", "succeeded", "succeeded"]
        assert ended["request_counts"] == {"processing": 0, "succeeded": 2, "errored": 1,
                                           "canceled": 0, "expired": 1}
        second = http.post(BATCHES, json={"requests": [
            {"custom_id": "x", "params": params("[A]: hi")}]}).json()
        canceling = http.post(f"{BATCHES}/{second['id']}/cancel").json()
        assert strict(MessageBatch, canceling).processing_status == "canceling"
        assert strict(MessageBatch, canceling).cancel_initiated_at is not None
        for response in (http.post(MESSAGES, json={"model": MODEL}),
                         http.post(MESSAGES, json=params("[A]: hi"),
                                   headers={"x-api-key": "nope"})):
            assert response.status_code in (400, 401)
            strict(ErrorResponse, response.json())
    with pytest.raises(pydantic.ValidationError):  # the check can fail
        strict(Message, {k: v for k, v in message.items() if k != "usage"})
    with pytest.raises(AssertionError, match="unknown fields"):
        strict(Message, {**message, "stop_sequnce": None})


def test_nothing_logs_the_key(api, make, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="anthropic")  # the CLI holds it at WARNING
    api.responder = seats
    api.rate_limit_next(MESSAGES, times=3)
    client = make()
    client.send(params("[A]: 5 seats"))
    client.send_batch(batch_requests(2))
    with pytest.raises(CredentialsRejected):
        make(api_key=KEY + "-revoked").send(params("[A]: hi"))

    assert any(r.name == "esd.claude" for r in caplog.records)
    assert any(r.name.startswith("anthropic") for r in caplog.records)  # DEBUG was on
    assert KEY not in caplog.text
    assert all(KEY not in r.getMessage() for r in caplog.records)


# -- answers esd cannot read, long waits, and what is billed ------------------------
def test_a_body_that_is_not_json_is_retried_like_a_5xx(api, make, clock):
    api.responder = seats
    api.fail_next(MESSAGES, 200, times=2, body='{"id": "msg_01", "content": [')
    reply = make(max_retries=0).send(params("[A]: 5 seats"))
    assert [m["quote"] for m in reply.mentions] == ["5 seats"]
    assert posts(api) == 3 and len(clock.sleeps) == 2


@pytest.mark.parametrize("body", ["not json", "null", "[]"])
def test_a_body_that_stays_unreadable_is_a_model_error(api, make, body):
    api.fail_next(MESSAGES, 200, times=4, body=body)
    with pytest.raises(ModelError) as exc:
        make(max_retries=0, attempts=4).send(params("[A]: 5 seats"))
    assert (exc.value.source, exc.value.endpoint, exc.value.exit_code) == (
        "anthropic", "POST /v1/messages", 4)
    assert posts(api) == 4


def test_a_retry_after_over_max_wait_fails_instead_of_blocking(api, make, clock):
    api.rate_limit_next(MESSAGES, times=1, retry_after="3600")
    with pytest.raises(ModelError, match="max_wait_s = 120"):
        make(max_retries=0).send(params("[A]: 5 seats"))
    assert clock.sleeps == [] and posts(api) == 1


def test_an_unreadable_retry_after_falls_back_to_the_backoff(api, make, clock):
    api.responder = seats
    api.rate_limit_next(MESSAGES, times=1, retry_after="soon")
    make(max_retries=0).send(params("[A]: 5 seats"))
    assert posts(api) == 2
    assert_backoff(clock.sleeps)


def test_every_billed_batch_answer_counts_malformed_ones_too(api, make):
    api.responder = seats
    api.malformed_next(times=1)
    client = make()
    replies, retry = client.send_batch(batch_requests(3))
    assert len(replies) == 2 and len(retry) == 1
    billed = client.billed["batch"]
    assert billed.output_tokens == sum(u["output_tokens"] for u in api.usage_log)
    assert billed.output_tokens > sum(r.usage.output_tokens for r in replies.values())
    assert client.billed["direct"] == Usage()
