"""The Gong connector against the fake Gong on 127.0.0.1: the demo portfolio round trip,
pagination, transcript batches, errors, configuration, and the OpenAPI document."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import httpx
import pytest
from conftest import fake_fixture
from fakes.gong import (
    ACCESS_KEY,
    ACCESS_KEY_SECRET,
    PORTFOLIO,
    WORKSPACE_ID,
    GongFake,
    gong_from_portfolio,
)
from fakes.server import Request, Response

from esd.connectors.gong import (
    CALLS_PATH,
    TRANSCRIPT_PATH,
    UNKNOWN_SPEAKER,
    GongConfig,
    _to_call,
    fetch_calls,
    open_source,
)
from esd.connectors.http import Source
from esd.errors import InputError, SourceError
from esd.extractors.transcript import customer_turns
from esd.models import Call, Window

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "tests" / "data" / "api-specs" / "gong" / "gong-api-v2-openapi.json"
WINDOW = Window(start=datetime(2026, 11, 16, tzinfo=UTC), end=datetime(2026, 11, 23, tzinfo=UTC))
ONE_DAY = Window(start=datetime(2026, 11, 17, tzinfo=UTC), end=datetime(2026, 11, 18, tzinfo=UTC))
OPENED: list[Source] = []


@cache
def portfolio() -> tuple[list[dict], list[dict]]:
    return (json.loads((PORTFOLIO / "calls.json").read_text()),
            json.loads((PORTFOLIO / "accounts.json").read_text()))


def account_ids() -> set[str]:
    return {a["id"] for a in portfolio()[1]}


def in_window() -> list[dict]:
    return [c for c in portfolio()[0]
            if WINDOW.start <= datetime.fromisoformat(c["occurred_at"]) < WINDOW.end]


gong = fake_fixture(GongFake.portfolio)


@pytest.fixture(autouse=True)
def _close():
    yield
    while OPENED:
        OPENED.pop().close()


def config(gong, **kw) -> GongConfig:
    kw = {"access_key": ACCESS_KEY, "access_key_secret": ACCESS_KEY_SECRET,
          "requests_per_second": 1000.0, **kw}
    return GongConfig(base_url=gong.url, **kw)


def pull(gong, known: set[str] | None = None, window: Window = WINDOW, **kw):
    """Pull through the real Source; waits are recorded, not slept."""
    cfg = config(gong, **kw)
    source = open_source(cfg)
    waits: list[float] = []
    source.sleep = waits.append
    OPENED.append(source)
    return fetch_calls(source, cfg, window, account_ids() if known is None else known), waits


def normalised(call: Call) -> dict:
    return {
        "account_id": call.account_id, "occurred_at": call.occurred_at,
        "attendees": [(a.name, a.is_customer, a.title) for a in call.attendees],
        "customer_turns": [(t.speaker.name, " ".join(t.text.split()))
                           for t in customer_turns(call)],
        "transcript_url": call.transcript_url,
        "has_transcript": bool(call.transcript or call.transcript_text),
    }


def sent(gong, path: str) -> list[Request]:
    return [r for r in gong.log if r.path == path]


# --- the portfolio round trip ---------------------------------------------------------


def test_pull_matches_the_portfolio_calls_of_the_window(gong):
    pulled, waits = pull(gong)
    expected = {c["call_id"]: Call.model_validate_json(json.dumps(c)) for c in in_window()}
    got = {c.call_id: c for c in pulled.records}
    assert pulled.unmapped == 0 and waits == []
    assert len(pulled.records) == len(got) == len(expected) == 182
    assert {k: normalised(c) for k, c in got.items()} == {
        k: normalised(c) for k, c in expected.items()}
    assert sum(1 for c in got.values() if c.transcript_url) == 3  # transcript_url-only calls
    assert all(c.transcript is None for c in got.values() if c.transcript_url)
    for rec in in_window():  # structured transcripts keep their timings
        if rec.get("transcript"):
            assert [u.start_ms for u in got[rec["call_id"]].transcript] == [
                u["start_ms"] for u in rec["transcript"]]
    # read-only, and transcripts at most one request per 50 calls
    assert {(r.method, r.path) for r in gong.log} == {("POST", CALLS_PATH),
                                                     ("POST", TRANSCRIPT_PATH)}
    assert len(sent(gong, TRANSCRIPT_PATH)) <= math.ceil(182 / 50)
    first = sent(gong, CALLS_PATH)[0].body
    assert first["filter"] == {"fromDateTime": "2026-11-16T00:00:00Z",
                               "toDateTime": "2026-11-23T00:00:00Z"}
    assert first["contentSelector"]["exposedFields"]["parties"] is True
    assert first["contentSelector"]["context"] in ("Basic", "Extended")
    assert_matches_openapi(gong.exchanges)


def test_pagination_is_followed_to_the_end(gong):
    reference = {c.call_id: normalised(c) for c in pull(gong)[0].records}
    gong.reset()
    gong.page_size = 2
    pulled, _ = pull(gong)
    assert {c.call_id: normalised(c) for c in pulled.records} == reference
    calls = sent(gong, CALLS_PATH)
    assert len(calls) == math.ceil(182 / 2)
    assert all(r.body == {**calls[0].body, "cursor": r.body["cursor"]} for r in calls[1:])
    assert len({r.body["cursor"] for r in calls[1:]}) == len(calls) - 1
    assert sum("cursor" in r.body for r in sent(gong, TRANSCRIPT_PATH)) > 0  # paged too


def test_transcripts_are_fetched_in_batches_of_call_ids(gong):
    pulled, _ = pull(gong, transcript_batch=10)
    batches = [r.body["filter"]["callIds"] for r in sent(gong, TRANSCRIPT_PATH)]
    assert len(batches) == math.ceil(182 / 10) and all(len(b) <= 10 for b in batches)
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat)) and set(flat) == {c.call_id for c in pulled.records}


def test_calls_on_unknown_accounts_are_dropped_and_counted(gong):
    dropped = {c["account_id"] for c in in_window()[:5]}
    pulled, _ = pull(gong, known=account_ids() - dropped)
    lost = {c["call_id"] for c in in_window() if c["account_id"] in dropped}
    assert pulled.unmapped == len(lost) > 0
    assert {c.call_id for c in pulled.records} == {c["call_id"] for c in in_window()} - lost
    asked = {i for r in sent(gong, TRANSCRIPT_PATH) for i in r.body["filter"]["callIds"]}
    assert not asked & lost  # no transcript is fetched for a dropped call


def test_workspace_filter_is_sent(gong):
    assert len(pull(gong, workspace_id=WORKSPACE_ID)[0].records) == 182
    assert pull(gong, workspace_id="1")[0].records == []
    assert sent(gong, CALLS_PATH)[-1].body["filter"]["workspaceId"] == "1"


def test_an_empty_range_is_gongs_404_and_no_calls(gong):
    later = Window(start=datetime(2030, 1, 1, tzinfo=UTC), end=datetime(2030, 1, 8, tzinfo=UTC))
    pulled, waits = pull(gong, window=later)
    assert (pulled.records, pulled.unmapped, waits) == ([], 0, [])
    assert [resp.status for _, resp in gong.exchanges] == [404]


# --- failures ---------------------------------------------------------------------------


def test_429_waits_retry_after_then_goes_on(gong):
    gong.fail_next(CALLS_PATH, 429, headers={"Retry-After": "2"})
    gong.fail_next(TRANSCRIPT_PATH, 429, headers={"Retry-After": "1"})
    pulled, waits = pull(gong)
    assert waits == [2.0, 1.0] and len(pulled.records) == 182
    throttled = [(q, r) for q, r in gong.exchanges if r.status == 429]
    assert len(throttled) == 2
    assert_matches_openapi(throttled)


def test_5xx_is_retried_then_a_source_error_naming_gong_path_and_status(gong):
    gong.fail_next(TRANSCRIPT_PATH, 503, times=5)
    with pytest.raises(SourceError) as exc:
        pull(gong)
    assert str(exc.value) == (f"Gong: POST {TRANSCRIPT_PATH} failed after 5 attempts: "
                              "status 503")
    assert len(sent(gong, TRANSCRIPT_PATH)) == 5


def test_rejected_credentials_fail_at_once_without_the_secret(gong):
    with pytest.raises(SourceError, match="rejected the credentials") as exc:
        pull(gong, access_key_secret="wrong-" + ACCESS_KEY_SECRET)
    assert str(exc.value).startswith(f"Gong: POST {CALLS_PATH} ")
    assert ACCESS_KEY_SECRET not in str(exc.value) and ACCESS_KEY not in str(exc.value)
    assert len(gong.log) == 1 and gong.exchanges[0][1].status == 401
    assert gong.exchanges[0][1].body["errors"]


# --- mapping without HTTP -------------------------------------------------------------


def raw_call(**over) -> dict:
    raw = {"metaData": {"id": "77", "started": "2026-11-17T10:00:00-08:00",
                        "url": "https://app.gong.io/call?id=77", "someNewField": 1},
           "parties": [{"name": "Dana CSM", "affiliation": "Internal", "speakerId": "1"},
                       {"name": "Pat VP", "title": "VP", "emailAddress": "pat@acme.example",
                        "affiliation": "External", "speakerId": "2"},
                       {"name": "Lee Ops", "affiliation": "Unknown"}],
           "context": [{"system": "HubSpot", "objects": [{"objectType": "Account",
                                                          "objectId": "hub-1"}]},
                       {"system": "Salesforce", "objects": [
                           {"objectType": "Opportunity", "objectId": "006x"},
                           {"objectType": "Account", "objectId": "001acme"}]}]}
    raw.update(over)
    return raw


MONOLOGUES = [{"speakerId": "2", "topic": None, "sentences": [
    {"start": 1500, "end": 2000, "text": "We need SSO."}, {"start": 2100, "text": " Soon. "}]},
    {"speakerId": "9", "sentences": [{"start": 3000, "text": "Coach here."}]},
    {"speakerId": "1", "sentences": None}]


def test_to_call_maps_parties_speakers_and_times():
    call = _to_call(raw_call(), MONOLOGUES, crm_system="salesforce")
    assert call.call_id == "77" and call.account_id == "001acme"
    assert call.occurred_at == datetime(2026, 11, 17, 18, 0, tzinfo=UTC)
    assert [(a.name, a.is_customer, a.title, a.email) for a in call.attendees] == [
        ("Dana CSM", False, None, None), ("Pat VP", True, "VP", "pat@acme.example"),
        ("Lee Ops", False, None, None)]
    assert [(u.speaker, u.text, u.start_ms) for u in call.transcript] == [
        ("Pat VP", "We need SSO. Soon.", 1500), (UNKNOWN_SPEAKER, "Coach here.", 3000),
        ("Dana CSM", "", None)]
    assert [t.text for t in customer_turns(call)] == ["We need SSO. Soon."]
    assert call.transcript_url is None
    assert call.url == "https://app.gong.io/call?id=77"  # the digest links the quote to it


def test_to_call_account_choice_and_what_it_refuses():
    assert _to_call(raw_call(), None).account_id == "hub-1"  # any system: the first match
    assert _to_call(raw_call(), None, crm_system="Dynamics") is None
    assert _to_call(raw_call(), None, account_object="Opportunity").account_id == "006x"
    assert _to_call(raw_call(context=None), None) is None
    assert _to_call(raw_call(metaData={"id": "77"}), None) is None  # no start time
    assert _to_call("not a call", None) is None


def test_to_call_without_transcript_keeps_the_link_and_tolerates_nulls():
    call = _to_call(raw_call(parties=None), [])
    assert (call.transcript, call.transcript_url) == (None, "https://app.gong.io/call?id=77")
    assert call.attendees == []
    bare = _to_call(raw_call(metaData={"id": 77, "started": "2026-11-17T10:00:00Z"}), None)
    assert (bare.call_id, bare.transcript, bare.transcript_url, bare.url) == (
        "77", [], None, None)


def test_fake_gives_non_attendee_speakers_no_party():
    rec = {"account_id": "a1", "call_id": "5", "occurred_at": "2026-11-17T10:00:00Z",
           "attendees": [{"name": "Ana", "is_customer": False},
                         {"name": "Bo", "is_customer": True}],
           "transcript_text": "intro words\nAna: Hi.\nBo: We need seats.\nmore seats\n"
                              "Cy: not an attendee\nBO: Bye."}
    data = gong_from_portfolio([rec], [{"id": "a1", "name": "A"}])
    call = _to_call(data.calls[0], data.transcripts["5"])
    expected = Call.model_validate_json(json.dumps(rec))
    assert normalised(call) == normalised(expected)
    # "Cy:" opens a turn of its own (contract §2's line rule), by a speaker with no party
    assert [u.speaker for u in call.transcript] == [UNKNOWN_SPEAKER, "Ana", "Bo",
                                                    UNKNOWN_SPEAKER, "Bo"]


# --- configuration ----------------------------------------------------------------------


def test_config_from_env_and_toml():
    env = {"GONG_ACCESS_KEY": "key-123", "GONG_ACCESS_KEY_SECRET": "secret-456"}
    cfg = GongConfig.from_env(env, {})
    assert (cfg.base_url, cfg.account_object, cfg.crm_system, cfg.requests_per_second) == (
        "https://api.gong.io", "Account", None, 3.0)
    assert cfg.access_key_secret.get_secret_value() == "secret-456"
    assert "secret-456" not in repr(cfg) and "key-123" not in repr(cfg)
    section = {"base_url": "https://us-1.api.gong.io", "workspace_id": "42",
               "account_object": "Account", "crm_system": "Salesforce", "transcript_batch": 50}
    cfg = GongConfig.from_env({**env, "GONG_BASE_URL": "http://127.0.0.1:9"}, section)
    assert (cfg.base_url, cfg.workspace_id, cfg.crm_system, cfg.transcript_batch) == (
        "http://127.0.0.1:9", "42", "Salesforce", 50)
    assert GongConfig.from_env(env, section).base_url == "https://us-1.api.gong.io"
    assert GongConfig.from_env({**env, "GONG_WORKSPACE_ID": "7"}, section).workspace_id == "7"
    assert GongConfig.from_env(env, {"workspace_id": 623457276584334}).workspace_id == (
        "623457276584334")


def test_config_api_key_as_key_colon_secret():
    cfg = GongConfig.from_env({"GONG_API_KEY": "key1:sec:ret"}, {})
    assert (cfg.access_key.get_secret_value(), cfg.access_key_secret.get_secret_value()) == (
        "key1", "sec:ret")
    with pytest.raises(InputError, match="GONG_API_KEY") as exc:
        GongConfig.from_env({"GONG_API_KEY": "no-colon-secret-value"}, {})
    assert "no-colon-secret-value" not in str(exc.value) and exc.value.exit_code == 2


@pytest.mark.parametrize("env, named", [
    ({}, "GONG_ACCESS_KEY"),
    ({"GONG_ACCESS_KEY": "k"}, "GONG_ACCESS_KEY_SECRET"),
    ({"GONG_ACCESS_KEY_SECRET": "s"}, "GONG_ACCESS_KEY"),
])
def test_missing_credentials_name_the_variable(env, named):
    with pytest.raises(InputError, match=rf"\b{named}\b"):
        GongConfig.from_env(env, {"base_url": "https://api.gong.io"})


def test_missing_credentials_mention_both_forms():
    with pytest.raises(InputError, match="GONG_ACCESS_KEY.*GONG_API_KEY"):
        GongConfig.from_env({}, {})


@pytest.mark.parametrize("section, named", [
    ({"acount_object": "Account"}, "acount_object"),
    ({"requests_per_second": 0}, "requests_per_second"),
    ({"transcript_batch": "many"}, "transcript_batch"),
])
def test_bad_toml_is_input_error_naming_the_key(section, named):
    with pytest.raises(InputError, match=named):
        GongConfig.from_env({"GONG_API_KEY": "k:s"}, section)


def test_open_source_is_read_only_paced_and_404_empty(gong):
    source = open_source(GongConfig(base_url=gong.url, access_key="k", access_key_secret="s"))
    OPENED.append(source)
    assert source.system == "Gong" and set(source.query_paths) == {CALLS_PATH, TRANSCRIPT_PATH}
    assert set(source.empty_statuses) == {404}
    assert source.rate_limiter.interval == pytest.approx(1 / 3)
    assert isinstance(source.client.auth, httpx.BasicAuth)


# --- the OpenAPI document ---------------------------------------------------------------


@cache
def gong_openapi():
    """Gong's published OpenAPI document, made loadable. It is generated by swagger-core
    and breaks the OpenAPI 3.0 schema in ways that say nothing about the wire format, so
    we repair only those: upper-case parameter styles ("FORM", "SIMPLE"), the internal
    `exampleSetFlag` / `types` keys and an empty `components.extensions`. One real error
    is patched too: `ContextField.value` is typed `object`, yet its own example (and Gong's
    answers) are strings such as "Gong Inc.", so its type is left open."""
    from openapi_core import OpenAPI

    def repair(node):
        if isinstance(node, dict):
            return {k: repair(v.lower() if k == "style" and isinstance(v, str) else v)
                    for k, v in node.items()
                    if not (k == "exampleSetFlag" and isinstance(v, bool))
                    and not (k == "types" and isinstance(v, list))}
        return [repair(x) for x in node] if isinstance(node, list) else node

    spec = repair(json.loads(SPEC.read_text()))
    spec["components"].pop("extensions", None)
    spec["components"]["schemas"]["ContextField"]["properties"]["value"].pop("type")
    return OpenAPI.from_dict(spec)  # also validates the document itself


def assert_matches_openapi(exchanges: list[tuple[Request, Response]]) -> None:
    """Every request sent and every response returned conforms to Gong's document."""
    from openapi_core.testing import MockRequest, MockResponse

    openapi = gong_openapi()
    assert exchanges
    for request, response in exchanges:
        spec_request = MockRequest(
            # The document's only server is a generated placeholder: validate the path,
            # method, headers and body, not the host.
            "https://127.0.0.1:8443", request.method, request.path,
            args=[(k, v) for k, vs in request.query.items() for v in vs],
            headers=request.headers,
            data=json.dumps(request.body).encode() if request.body is not None else None,
            content_type=request.headers.get("content-type", ""))
        openapi.validate_request(spec_request)
        openapi.validate_response(spec_request, MockResponse(
            json.dumps(response.body).encode(), response.status,
            headers={"Content-Type": "application/json", **response.headers}))


def test_fake_extended_context_and_paging_match_openapi(gong):
    gong.page_size = 3
    assert len(pull(gong, window=ONE_DAY, transcript_batch=4)[0].records) > 6
    with httpx.Client(base_url=gong.url, auth=(ACCESS_KEY, ACCESS_KEY_SECRET)) as client:
        body = {"filter": {"callIds": ["6456603409751782576"]},
                "contentSelector": {"context": "Extended", "exposedFields": {"parties": True}}}
        extended = client.post(CALLS_PATH, json=body).json()
    objects = extended["calls"][0]["context"][0]["objects"]
    assert objects[1]["objectType"] == "Account" and objects[1]["fields"][0]["value"]
    assert_matches_openapi(gong.exchanges)


def test_the_openapi_check_can_fail(gong):
    from openapi_core.validation.exceptions import ValidationError

    pull(gong, window=ONE_DAY)
    request, response = next((q, r) for q, r in gong.exchanges if q.path == CALLS_PATH)
    bad_request = Request(request.method, request.path, request.query, request.headers,
                          {**request.body, "contentSelector": {"context": "Everything"}})
    with pytest.raises(ValidationError) as exc:
        assert_matches_openapi([(bad_request, response)])
    assert "Everything" in str(exc.value.__cause__)
    call = response.body["calls"][0]
    bad_body = {**response.body, "calls": [{**call, "metaData": {**call["metaData"],
                                                                  "duration": "long"}}]}
    with pytest.raises(ValidationError) as exc:
        assert_matches_openapi([(request, Response(200, bad_body))])
    assert "'long' is not of type 'integer'" in str(exc.value.__cause__)


# An answer esd cannot read is exit 4 naming Gong and the endpoint (contract §8), never
# "no calls": null, a list or a string where the page object belongs, a truncated body,
# a page without its `calls` list, a call without the fields every call has.
UNREADABLE = ["null", "[]", '"x"', '{"requestId": "r1", "calls": [{"metaData"',
              '{"requestId": "r1", "records": {"totalRecords": 0}}',
              '{"requestId": "r1", "calls": [{"parties": []}]}']


@pytest.mark.parametrize("body", UNREADABLE)
def test_an_unreadable_calls_page_is_a_source_error(gong, body):
    gong.fail_next(CALLS_PATH, 200, body=body)
    with pytest.raises(SourceError) as exc:
        pull(gong)
    assert (exc.value.source, exc.value.endpoint, exc.value.exit_code) == (
        "Gong", f"POST {CALLS_PATH}", 4)


@pytest.mark.parametrize("body", [*UNREADABLE[:4], '{"requestId": "r1"}'])
def test_an_unreadable_transcript_page_is_a_source_error(gong, body):
    gong.fail_next(TRANSCRIPT_PATH, 200, body=body)
    with pytest.raises(SourceError) as exc:
        pull(gong)
    assert (exc.value.source, exc.value.endpoint) == ("Gong", f"POST {TRANSCRIPT_PATH}")
