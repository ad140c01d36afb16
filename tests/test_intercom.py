"""The Intercom connector against the fake Intercom on 127.0.0.1, and both against the
vendor's OpenAPI document."""

from __future__ import annotations

import json
import math
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import fake_fixture
from fakes.intercom import (
    TOKEN,
    FakeIntercom,
    IntercomData,
    company_of,
    demo_data,
    intercom_from_portfolio,
)
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from esd.connectors import intercom
from esd.connectors.files import load_portfolio
from esd.connectors.http import Source
from esd.connectors.intercom import IntercomConfig, _to_ticket, fetch_tickets, open_source
from esd.errors import InputError, SourceError
from esd.models import Ticket, Window

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "tests" / "data" / "api-specs" / "intercom"
WINDOW = Window(start=datetime(2026, 11, 16, tzinfo=UTC), end=datetime(2026, 11, 23, tzinfo=UTC))
DEMO = load_portfolio(ROOT / "examples" / "portfolio")
KNOWN = {a.id for a in DEMO.accounts}
DEMO_DATA = demo_data()
SEARCH = "/conversations/search"


def _key(t: Ticket):
    return (t.opened_at, t.ticket_id)


EXPECTED = sorted((t for t in DEMO.tickets if t.opened_at in WINDOW), key=_key)


api = fake_fixture(lambda: FakeIntercom(DEMO_DATA))


OPENED = []


@pytest.fixture(autouse=True)
def _reset(api):
    api.data, api.token, api.version = DEMO_DATA, TOKEN, "2.14"
    yield
    while OPENED:
        OPENED.pop().close()


def config(api, token=TOKEN, **section) -> IntercomConfig:
    return IntercomConfig.from_env({"INTERCOM_ACCESS_TOKEN": token, "INTERCOM_URL": api.url},
                                   section)


def pull(api, cfg=None, known=KNOWN, window=WINDOW, **options):
    cfg = cfg or config(api)
    waits: list[float] = []
    source = open_source(cfg, sleep=waits.append, **options)
    OPENED.append(source)
    return fetch_tickets(source, cfg, window, known), waits


def paths(api, method):
    return [r.path for r in api.log if r.method == method]


# --- the round trip ---------------------------------------------------------------


def test_demo_pull_equals_the_demo_tickets_of_the_window(api):
    api.page_size = 7
    pulled, waits = pull(api)
    assert len(EXPECTED) > 14  # several pages, and the test can tell them apart
    assert sorted(pulled.records, key=_key) == EXPECTED
    assert pulled.unmapped == 0 and waits == []
    # Teammate-started conversations were read in full for their customer message.
    teammate = {c["id"] for c in DEMO_DATA.conversations
                if c["source"]["author"]["type"] == "admin"}
    fetched = {p.rsplit("/", 1)[1] for p in paths(api, "GET") if p.startswith("/conversations/")}
    assert fetched == teammate & {t.ticket_id for t in EXPECTED} and fetched


def test_pagination_follows_next_starting_after(api):
    api.page_size = 5
    pulled, _ = pull(api, config(api, per_page=20))
    searches = [(req, resp) for req, resp in api.exchanges if req.path == SEARCH]
    total = searches[0][1].body["total_count"]
    assert len(searches) == math.ceil(total / 5) > 2
    assert "starting_after" not in searches[0][0].body["pagination"]
    for (_, before), (after, _) in zip(searches, searches[1:], strict=False):
        cursor = before.body["pages"]["next"]["starting_after"]
        assert after.body["pagination"] == {"per_page": 20, "starting_after": cursor}
        assert after.body["query"] == searches[0][0].body["query"]
    assert "next" not in searches[-1][1].body["pages"]
    assert sorted(pulled.records, key=_key) == EXPECTED


def test_search_asks_for_the_window_by_created_at_with_version_headers(api):
    pull(api)
    first = api.log[0]
    assert (first.method, first.path) == ("POST", SEARCH)
    start, end = int(WINDOW.start.timestamp()), int(WINDOW.end.timestamp())
    assert first.body == {
        "query": {"operator": "AND", "value": [
            {"field": "created_at", "operator": ">", "value": start - 1},
            {"field": "created_at", "operator": "<", "value": end}]},
        "pagination": {"per_page": 150}}
    for request in api.log:
        assert request.headers["intercom-version"] == "2.14"
        assert request.headers["accept"] == "application/json"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("inclusive", [True, False])
def test_window_is_half_open_whatever_the_bounds_semantics(api, inclusive):
    at = [WINDOW.start - timedelta(seconds=1), WINDOW.start,
          WINDOW.end - timedelta(seconds=1), WINDOW.end]
    tickets = [Ticket(account_id=DEMO.accounts[0].id, subject=f"s{i}", body_summary="b",
                      tags=[], opened_at=moment, ticket_id=str(100 + i))
               for i, moment in enumerate(at)]
    api.data = intercom_from_portfolio(tickets, DEMO.accounts)
    api.inclusive_bounds = inclusive
    pulled, _ = pull(api)
    assert [t.ticket_id for t in pulled.records] == ["101", "102"]


def test_subject_falls_back_to_the_first_line_of_the_message(api):
    chosen = [t.ticket_id for t in EXPECTED[:6]]
    api.data = intercom_from_portfolio(DEMO.tickets, DEMO.accounts, subjectless=chosen,
                                       teammate_started=lambda i: False)
    sources = [c["source"] for c in api.data.conversations if c["id"] in chosen]
    assert {s.get("subject", "absent") for s in sources} == {"", "absent"}
    pulled, _ = pull(api)
    got = {t.ticket_id: t for t in pulled.records}
    for ticket in EXPECTED:
        if ticket.ticket_id in chosen:
            # The fake writes one <p> per sentence: the first line is the first sentence.
            first_sentence = re.split(r"(?<=[.!?])\s+", ticket.body_summary)[0]
            assert got[ticket.ticket_id] == ticket.model_copy(update={"subject": first_sentence})
            assert first_sentence != ticket.subject
        else:
            assert got[ticket.ticket_id] == ticket


# --- account identity ---------------------------------------------------------------


def test_unmapped_conversations_are_dropped_and_counted(api):
    stranger = Ticket(account_id="001-not-in-crm", subject="Hi", body_summary="Hello.",
                      tags=[], opened_at=WINDOW.start + timedelta(hours=1), ticket_id="777")
    api.data = intercom_from_portfolio([*DEMO.tickets, stranger], DEMO.accounts)
    left_out = {EXPECTED[0].account_id, EXPECTED[-1].account_id}
    pulled, _ = pull(api, known=KNOWN - left_out)
    kept = [t for t in EXPECTED if t.account_id not in left_out]
    assert sorted(pulled.records, key=_key) == kept
    assert pulled.unmapped == len(EXPECTED) - len(kept) + 1


def test_contact_company_lookups_are_cached(api):
    pull(api)
    lookups = [p for p in paths(api, "GET") if p.startswith("/contacts/")]
    assert len(lookups) == len(set(lookups)) == len({t.account_id for t in EXPECTED})


def test_a_contact_of_two_known_companies_is_not_guessed(api):
    data = intercom_from_portfolio(DEMO.tickets, DEMO.accounts)
    target = next(c for c in data.conversations if c["id"] == EXPECTED[0].ticket_id)
    contact = target["contacts"]["contacts"][0]["id"]
    other = next(a for a in DEMO.accounts if a.id != EXPECTED[0].account_id)
    data.contact_companies[contact] = [*data.contact_companies[contact], company_of(other)]
    api.data = data
    pulled, _ = pull(api)
    same_contact = [t for t in EXPECTED if t.account_id == EXPECTED[0].account_id]
    assert pulled.unmapped == len(same_contact)
    assert EXPECTED[0].ticket_id not in {t.ticket_id for t in pulled.records}


def test_account_key_is_configurable(api):
    api.data = intercom_from_portfolio(DEMO.tickets, DEMO.accounts,
                                       company_id=lambda a: f"legacy-{a.id}")
    pulled, _ = pull(api)
    assert pulled.records == [] and pulled.unmapped == len(EXPECTED)
    api.reset()
    pulled, _ = pull(api, config(api, account_key="custom_attributes.crm_account_id"))
    assert sorted(pulled.records, key=_key) == EXPECTED


def test_company_on_the_conversation_saves_contact_lookups(api, spec_216):
    api.version = "2.16"
    pulled, _ = pull(api, config(api, version="2.16"))
    assert sorted(pulled.records, key=_key) == EXPECTED
    assert not [p for p in paths(api, "GET") if p.startswith("/contacts/")]
    assert_valid(spec_216, api.exchanges)


# --- failures -----------------------------------------------------------------------


def test_429_waits_retry_after_then_succeeds(api):
    api.fail_next(SEARCH, 429, headers={"Retry-After": "3"})
    pulled, waits = pull(api)
    assert waits == [3.0] and paths(api, "POST")[:2] == [SEARCH, SEARCH]
    assert sorted(pulled.records, key=_key) == EXPECTED


def test_429_with_only_x_ratelimit_reset_waits_until_the_reset(api):
    # What Intercom actually sends (api-notes §4): a Unix time, no Retry-After.
    api.fail_next(SEARCH, 429, headers={"X-RateLimit-Reset": str(int(time.time()) + 5)})
    pulled, waits = pull(api)
    assert len(waits) == 1 and 3 <= waits[0] <= 5
    assert len(pulled.records) == len(EXPECTED)


def test_5xx_until_give_up_is_a_source_error_naming_path_and_status(api):
    api.fail_next(SEARCH, 503, times=3)
    with pytest.raises(SourceError) as exc:
        pull(api, max_attempts=3)
    assert str(exc.value) == f"Intercom: POST {SEARCH} failed after 3 attempts: status 503"
    assert len(api.log) == 3


def test_5xx_on_a_lookup_names_the_lookup_path(api):
    contact = next(p for p in DEMO_DATA.contact_companies)
    api.fail_next(f"/contacts/{contact}/companies", 500, times=2)
    api.data = IntercomData(
        conversations=[c for c in DEMO_DATA.conversations
                       if c["contacts"]["contacts"][0]["id"] == contact],
        contact_companies=DEMO_DATA.contact_companies)
    with pytest.raises(SourceError, match=rf"^Intercom: GET /contacts/{contact}/companies "
                                          r"failed after 2 attempts: status 500$"):
        pull(api, known=KNOWN, window=Window(start=datetime(2026, 1, 1, tzinfo=UTC),
                                             end=datetime(2027, 1, 1, tzinfo=UTC)),
             max_attempts=2)


def test_bad_token_is_rejected_at_once_without_showing_it(api):
    with pytest.raises(SourceError) as exc:
        pull(api, config(api, token="wrong-token-value-123"))
    message = str(exc.value)
    assert message.startswith(f"Intercom: POST {SEARCH} rejected the credentials")
    assert "wrong-token-value-123" not in message and TOKEN not in message
    assert len(api.log) == 1


def test_a_cursor_that_repeats_is_a_source_error_not_a_loop():
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"type": "conversation.list", "conversations": [],
                                         "pages": {"next": {"starting_after": "same"}}})

    client = httpx.Client(base_url="http://intercom.test", transport=httpx.MockTransport(answer))
    source = Source("Intercom", client, query_paths={SEARCH})
    with pytest.raises(SourceError, match="same page cursor twice"):
        fetch_tickets(source, IntercomConfig(token="x"), WINDOW, KNOWN)
    assert source.requests == 2


def test_only_the_search_post_and_gets_are_sent(api):
    pull(api)
    assert set(paths(api, "POST")) == {SEARCH}
    assert {r.method for r in api.log} == {"POST", "GET"}
    assert open_source(config(api)).query_paths == {SEARCH}


# --- configuration ----------------------------------------------------------------


@pytest.mark.parametrize("env", [{}, {"INTERCOM_ACCESS_TOKEN": ""}])
def test_missing_token_is_input_error_naming_the_variable(env):
    with pytest.raises(InputError, match="INTERCOM_ACCESS_TOKEN"):
        IntercomConfig.from_env(env, {"base_url": "http://127.0.0.1:9"})


def test_settings_environment_then_toml_then_defaults():
    env = {"INTERCOM_ACCESS_TOKEN": "t0k"}
    cfg = IntercomConfig.from_env(env, {})
    assert (cfg.base_url, cfg.version, cfg.account_key, cfg.per_page) == (
        "https://api.intercom.io", "2.14", "company_id", 150)
    section = {"base_url": "https://api.eu.intercom.io", "version": "2.16", "per_page": 50,
               "account_key": "custom_attributes.sfdc"}
    cfg = IntercomConfig.from_env(env, section)
    assert (cfg.base_url, cfg.version, cfg.per_page, cfg.account_key) == (
        "https://api.eu.intercom.io", "2.16", 50, "custom_attributes.sfdc")
    cfg = IntercomConfig.from_env({**env, "INTERCOM_URL": "http://proxy", "INTERCOM_VERSION":
                                   "2.13"}, section)
    assert (cfg.base_url, cfg.version) == ("http://proxy", "2.13")
    assert "t0k" not in repr(cfg)


@pytest.mark.parametrize("section, field", [({"per_page": 151}, "per_page"),
                                            ({"version": 2.14}, "version")])
def test_bad_toml_values_are_input_errors(section, field):
    with pytest.raises(InputError, match=rf"^esd.toml \[intercom\]: {field}: "):
        IntercomConfig.from_env({"INTERCOM_ACCESS_TOKEN": "t0k"}, section)


# --- the pure mapper ----------------------------------------------------------------


def _conversation(**source) -> dict:
    return {"id": "42", "created_at": 1795000000,
            "source": {"author": {"type": "user"}, **source},
            "tags": {"type": "tag.list", "tags": [{"name": "sso"}, {"name": "billing"}]}}


def test_to_ticket_maps_fields():
    ticket = _to_ticket(_conversation(subject="  SSO   setup ", body="<p>Hi&nbsp;there</p>"),
                        "acc-1")
    assert ticket == Ticket(account_id="acc-1", ticket_id="42", subject="SSO setup",
                            body_summary="Hi there", tags=["sso", "billing"],
                            opened_at=datetime.fromtimestamp(1795000000, UTC))


@pytest.mark.parametrize("body, subject", [
    ("<p>Export to S3 &amp; GCS</p><p>We need it weekly.</p>", "Export to S3 & GCS"),
    ("<div><b>Seats</b> for the EU team<br>5 more please</div>", "Seats for the EU team"),
    ("<p></p><p>  </p>\n<p>After blanks</p>", "After blanks"),
    ("plain first line\nsecond line", "plain first line"),
    (None, ""),
])
@pytest.mark.parametrize("subject_field", [{}, {"subject": ""}, {"subject": "  "}])
def test_no_subject_means_the_first_line_of_the_first_message(body, subject, subject_field):
    assert _to_ticket(_conversation(body=body, **subject_field), "a").subject == subject


def test_body_is_plain_collapsed_and_capped():
    body = "<p>Need   <i>SAML</i>\n&lt;now&gt;</p>" + "<p>" + "word " * 1000 + "</p>"
    summary = _to_ticket(_conversation(body=body), "a").body_summary
    assert summary.startswith("Need SAML <now> word word")
    assert len(summary) <= 2000 and summary.endswith("word")


def test_first_customer_message_when_a_teammate_started():
    raw = _conversation(body="<p>Checking in!</p>", author={"type": "admin"})
    raw["conversation_parts"] = {"conversation_parts": [
        {"author": {"type": "bot"}, "body": "<p>Fin here</p>"},
        {"author": {"type": "user"}, "body": None},
        {"author": {"type": "lead"}, "body": "<p>We want SSO</p>"},
        {"author": {"type": "user"}, "body": "<p>Later</p>"}]}
    ticket = _to_ticket(raw, "a")
    assert (ticket.subject, ticket.body_summary) == ("Checking in!", "We want SSO")
    raw["conversation_parts"]["conversation_parts"] = []
    assert _to_ticket(raw, "a").body_summary == ""


def test_next_page_body_keeps_the_query():
    cfg = IntercomConfig(token="x", per_page=10)
    first = intercom.search_body(cfg, WINDOW)
    assert intercom.NEXT_PAGE(first, {"pages": {"next": None}}) is None
    second = intercom.NEXT_PAGE(first, {"pages": {"next": {"starting_after": "abc"}}})
    assert second == {**first, "pagination": {"per_page": 10, "starting_after": "abc"}}


# --- the vendor's OpenAPI document --------------------------------------------------

# Intercom's own document fails openapi-spec-validator on an unrelated path
# (`/export/reporting_data/{job_identifier}` declares no path parameter), so the
# whole-document check is off; requests and responses are still validated in full.
_NO_DOC_CHECK = Config(spec_validator_cls=None)


@pytest.fixture(scope="module")
def spec_214():
    return OpenAPI.from_file_path(SPECS / "2.14" / "api.intercom.io.yaml", config=_NO_DOC_CHECK)


@pytest.fixture(scope="module")
def spec_216():
    return OpenAPI.from_file_path(SPECS / "2.16" / "api.intercom.io.yaml", config=_NO_DOC_CHECK)


def _mock_request(request) -> MockRequest:
    # The spec's server is https://api.intercom.io; the fake's host stands in for it.
    return MockRequest("https://api.intercom.io", request.method, request.path,
                       args={k: v[0] for k, v in request.query.items()},
                       headers=request.headers,
                       data=None if request.body is None else json.dumps(request.body).encode())


def _mock_response(request, response) -> MockResponse:
    body = response.body
    if request.path.startswith("/contacts/"):
        # The schema names the list `companies`, the spec's own example and the live API
        # `data` (which the fake serves); check the companies against the schema too.
        body = {**body, "companies": body["data"]}
    return MockResponse(json.dumps(body).encode(), response.status, response.headers)


def assert_valid(spec, exchanges) -> None:
    """Every request against its operation; every 200 against its response schema
    (the document describes no 429/5xx for these operations)."""
    assert exchanges
    for request, response in exchanges:
        mock = _mock_request(request)
        spec.validate_request(mock)
        if response.status == 200:
            spec.validate_response(mock, _mock_response(request, response))


def test_requests_and_responses_match_the_2_14_document(api, spec_214):
    api.page_size = 9
    pull(api)
    kinds = {r.path.split("/")[1] + (":get" if r.method == "GET" else "") for r, _ in
             api.exchanges}
    assert kinds == {"conversations", "conversations:get", "contacts:get"}
    assert_valid(spec_214, api.exchanges)


def test_the_document_check_can_fail(api, spec_214):
    api.page_size = 9
    pull(api)
    request, response = next((q, r) for q, r in api.exchanges if q.path == SEARCH)
    bad_request = type(request)(**{**vars(request), "body": {
        **request.body, "pagination": {"per_page": "150"}}})
    with pytest.raises(Exception, match="not of type 'integer'"):
        spec_214.validate_request(_mock_request(bad_request))
    body = json.loads(json.dumps(response.body))
    body["conversations"][0]["created_at"] = "2026-11-16T01:57:00Z"
    bad_response = type(response)(200, body, response.headers)
    with pytest.raises(Exception, match="not of type 'integer'"):
        spec_214.validate_response(_mock_request(request), _mock_response(request, bad_response))


@pytest.mark.parametrize("body", [
    "null", "[]", '"x"', '{"type": "conversation.list", "conversations": [',
    '{"type": "conversation.list", "total_count": 0}',
    '{"type": "conversation.list", "conversations": [{"created_at": 1}]}',
])
def test_an_unreadable_search_page_is_a_source_error_not_no_tickets(api, body):
    api.fail_next(SEARCH, 200, body=body)
    with pytest.raises(SourceError) as exc:
        pull(api)
    assert (exc.value.source, exc.value.endpoint, exc.value.exit_code) == (
        "Intercom", f"POST {SEARCH}", 4)


@pytest.mark.parametrize("body", ["null", "[]", '{"data": [', '{"type": "list"}',
                                  '{"type": "list", "data": {"id": "1"}}'])
def test_an_unreadable_contact_companies_answer_is_a_source_error(api, body):
    pull(api)
    first = next(p for p in paths(api, "GET") if p.startswith("/contacts/"))
    api.reset()
    api.fail_next(first, 200, body=body)
    with pytest.raises(SourceError) as exc:
        pull(api)
    assert (exc.value.source, exc.value.endpoint) == ("Intercom", f"GET {first}")
