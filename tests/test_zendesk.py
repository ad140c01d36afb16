"""The Zendesk connector against a fake Zendesk on 127.0.0.1, plus its pure parts and
the shared ticket text helper."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import httpx
import pytest
from conftest import fake_fixture
from fakes.zendesk import (
    API_TOKEN,
    DEMO,
    EMAIL,
    EXPORT_PATH,
    OAUTH_TOKEN,
    FakeZendesk,
    ZendeskData,
    demo_data,
    zendesk_from_portfolio,
)

from esd.connectors import zendesk
from esd.connectors.files import load_portfolio
from esd.connectors.http import Source
from esd.connectors.tickets import ticket_text
from esd.errors import InputError, SourceError
from esd.models import Ticket, Window

WINDOW = Window(start=datetime(2026, 11, 16, tzinfo=UTC), end=datetime(2026, 11, 23, tzinfo=UTC))
FAST = {"requests_per_minute": 600_000}  # no rate-limit spacing in tests


@pytest.fixture(scope="module")
def demo():
    return load_portfolio(DEMO)


api = fake_fixture(lambda: FakeZendesk(demo_data(), page_size=10))


def env(api, **extra) -> dict[str, str]:
    return {"ZENDESK_URL": api.url, "ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": API_TOKEN,
            **extra}


def pull(cfg, known) -> tuple[zendesk.Pulled, Source, list[float]]:
    source = zendesk.open_source(cfg)
    waits: list[float] = []
    source.sleep = waits.append  # record retry waits instead of sleeping
    try:
        return zendesk.fetch_tickets(source, cfg, WINDOW, known), source, waits
    finally:
        source.close()


def in_window(demo) -> list[Ticket]:
    return sorted((t for t in demo.tickets if t.opened_at in WINDOW),
                  key=lambda t: (t.opened_at, t.ticket_id))


def test_pull_equals_the_demo_tickets_of_the_window(api, demo):
    cfg = zendesk.ZendeskConfig.from_env(env(api), FAST)
    pulled, source, waits = pull(cfg, {a.id for a in demo.accounts})
    expected = in_window(demo)
    assert len(expected) == 77
    assert pulled.records == expected
    assert pulled.unmapped == 2  # an organization with no external id; no organization
    assert waits == []
    # Pagination: start_time first, then the after_cursor of each page until end_of_stream.
    pages = -(-len(api.data.tickets) // 10)
    assert source.requests == len(api.log) == pages > 1
    first, *rest = api.log
    assert first.arg("start_time") == str(int(WINDOW.start.timestamp()))
    assert first.arg("include") == "organizations"
    assert all(r.arg("cursor") and not r.arg("start_time") for r in rest)
    assert {(r.method, r.path) for r in api.log} == {("GET", EXPORT_PATH)}


def test_tickets_of_unknown_accounts_are_dropped_and_counted(api, demo):
    cfg = zendesk.ZendeskConfig.from_env(env(api), FAST)
    known = {a.id for a in demo.accounts}
    dropped = next(t.account_id for t in in_window(demo))
    pulled, _, _ = pull(cfg, known - {dropped})
    own = sum(t.account_id == dropped for t in in_window(demo))
    assert own >= 1
    assert len(pulled.records) == 77 - own and pulled.unmapped == 2 + own
    assert dropped not in {t.account_id for t in pulled.records}


def test_oauth_token_signs_in_with_bearer(api, demo):
    cfg = zendesk.ZendeskConfig.from_env(
        {"ZENDESK_URL": api.url, "ZENDESK_OAUTH_TOKEN": OAUTH_TOKEN}, FAST)
    pulled, _, _ = pull(cfg, {a.id for a in demo.accounts})
    assert len(pulled.records) == 77
    assert api.log[0].headers["authorization"] == f"Bearer {OAUTH_TOKEN}"


def test_429_waits_retry_after_and_goes_on(api, demo):
    cfg = zendesk.ZendeskConfig.from_env(env(api), FAST)
    api.fail_next(EXPORT_PATH, 429, headers={"Retry-After": "3"}, body="Too Many Requests")
    pulled, source, waits = pull(cfg, {a.id for a in demo.accounts})
    assert waits == [3.0]
    assert len(pulled.records) == 77 and source.requests == len(api.log)


def test_5xx_gives_up_naming_system_path_and_status(api):
    cfg = zendesk.ZendeskConfig.from_env(env(api), FAST)
    api.fail_next(EXPORT_PATH, 503, times=10)
    with pytest.raises(SourceError) as exc:
        pull(cfg, set())
    assert str(exc.value) == (f"Zendesk: GET {EXPORT_PATH} failed after 5 attempts: "
                              "status 503")
    assert len(api.log) == 5


def test_bad_credentials_are_rejected_without_showing_the_secret(api, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "not-" + API_TOKEN
    cfg = zendesk.ZendeskConfig.from_env(env(api, ZENDESK_API_TOKEN=wrong), FAST)
    with pytest.raises(SourceError, match="rejected the credentials") as exc:
        pull(cfg, set())
    assert str(exc.value) == (f"Zendesk: GET {EXPORT_PATH} rejected the credentials "
                              "(request id zd-req-401)")
    assert len(api.log) == 1
    assert wrong not in caplog.text and wrong not in repr(cfg)


@pytest.mark.parametrize(("variables", "named"), [
    ({"ZENDESK_URL": "http://127.0.0.1:9"}, "ZENDESK_API_TOKEN (with ZENDESK_EMAIL) or "
                                            "ZENDESK_OAUTH_TOKEN"),
    ({"ZENDESK_URL": "http://127.0.0.1:9", "ZENDESK_API_TOKEN": "t"}, "ZENDESK_EMAIL"),
    ({"ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": "t"}, "ZENDESK_URL or ZENDESK_SUBDOMAIN"),
])
def test_missing_settings_name_the_variable(variables, named):
    with pytest.raises(InputError, match=re.escape(f"environment variable {named} is not set")):
        zendesk.ZendeskConfig.from_env(variables, {})


def test_settings_from_env_and_toml():
    cfg = zendesk.ZendeskConfig.from_env(
        {"ZENDESK_SUBDOMAIN": "lumen", "ZENDESK_OAUTH_TOKEN": "o", "ZENDESK_PAGE_SIZE": "50"},
        {"account_key": "field:crm_account_id", "page_size": 200})
    assert cfg.base_url == "https://lumen.zendesk.com" and cfg.page_size == 50
    assert cfg.account_key == "field:crm_account_id" and cfg.api_token is None
    source = zendesk.open_source(cfg)
    assert source.rate_limiter.interval == pytest.approx(6.0)  # 10 export requests a minute
    source.close()
    with pytest.raises(InputError,
                       match=r"^esd.toml \[zendesk\]: account_key: 'name': use external_id"):
        zendesk.ZendeskConfig.from_env({"ZENDESK_SUBDOMAIN": "x", "ZENDESK_OAUTH_TOKEN": "o"},
                                       {"account_key": "name"})
    with pytest.raises(InputError, match=r"^esd.toml \[zendesk\]: page_size: "
                       r"Input should be less than or equal to 1000$"):
        zendesk.ZendeskConfig.from_env({"ZENDESK_SUBDOMAIN": "x", "ZENDESK_OAUTH_TOKEN": "o"},
                                       {"page_size": 5000})


def test_account_key_variants():
    org = {"external_id": "001A", "domain_names": ["acme.com", "001b"],
           "organization_fields": {"crm": "001C", "n": 7}}
    known = {"001A", "001b", "001C", "7"}
    assert zendesk._account_id(org, "external_id", known) == "001A"
    assert zendesk._account_id(org, "domain", known) == "001b"
    assert zendesk._account_id(org, "field:crm", known) == "001C"
    assert zendesk._account_id(org, "field:n", known) == "7"
    assert zendesk._account_id(org, "external_id", {"001a"}) is None  # ids are never folded
    assert zendesk._account_id({"external_id": None}, "external_id", known) is None


def test_deleted_and_out_of_window_tickets_are_skipped(api, demo):
    account = demo.accounts[0]
    opened = datetime(2026, 11, 17, tzinfo=UTC)
    tickets = [Ticket(account_id=account.id, subject=f"s{i}", body_summary="b", tags=[],
                      opened_at=moment, ticket_id=str(100 + i))
               for i, moment in enumerate([opened, opened, WINDOW.end, WINDOW.start])]
    data = zendesk_from_portfolio(tickets, [account], unmapped=False)
    for raw in data.tickets:
        if raw["id"] == 101:
            raw["status"] = "deleted"
    api.data = data
    try:
        cfg = zendesk.ZendeskConfig.from_env(env(api), FAST)
        pulled, _, _ = pull(cfg, {account.id})
    finally:
        api.data = demo_data()
    assert [t.ticket_id for t in pulled.records] == ["103", "100"]
    assert pulled.unmapped == 0


def test_a_page_without_a_cursor_before_the_end_is_an_error():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"tickets": [], "end_of_stream": False})

    client = httpx.Client(base_url="http://zendesk.test", transport=httpx.MockTransport(handler))
    source = Source("Zendesk", client)
    cfg = zendesk.ZendeskConfig(base_url="http://zendesk.test", oauth_token="o")
    with pytest.raises(SourceError, match="no new after_cursor"):
        zendesk.fetch_tickets(source, cfg, WINDOW, set())


def test_to_ticket_maps_the_fields_and_cleans_the_body():
    raw = {"id": 35436, "subject": None, "raw_subject": "Export broken",
           "description": "<div>Export&nbsp;to <b>CSV</b>\n\n fails.</div>" + " word" * 600,
           "tags": ["export", "enterprise"], "created_at": "2026-11-17T09:14:02Z"}
    ticket = zendesk._to_ticket(raw, "001A")
    assert ticket.ticket_id == "35436" and ticket.account_id == "001A"
    assert ticket.subject == "Export broken" and ticket.tags == ["export", "enterprise"]
    assert ticket.opened_at == datetime(2026, 11, 17, 9, 14, 2, tzinfo=UTC)
    assert ticket.body_summary.startswith("Export to CSV fails. word word")
    assert len(ticket.body_summary) <= 2000 and ticket.body_summary.endswith(" word")


@pytest.mark.parametrize(("given", "expected"), [
    (None, ""),
    ("", ""),
    ("  plain\n\ttext  ", "plain text"),
    ("<p>One</p><p>Two&amp;three</p>", "One Two&three"),
    ("a<br>b<br/>c", "a b c"),
    ("<style>p {color: red}</style><script>x()</script><p>kept</p>", "kept"),
    ("Tom &lt;tom@acme.com&gt; said 3 &lt; 4", "Tom <tom@acme.com> said 3 < 4"),
    ("if a < b then", "if a < b then"),
    ("We <b>need</b> SSO", "We need SSO"),
])
def test_ticket_text(given, expected):
    assert ticket_text(given) == expected


def test_ticket_text_caps_without_splitting_a_word():
    assert ticket_text("alpha beta gamma", limit=12) == "alpha beta"
    assert ticket_text("alpha beta gamma", limit=10) == "alpha beta"
    assert ticket_text("abcdefghij", limit=4) == "abcd"
    long = ticket_text("<p>" + "x" * 5000 + "</p>")
    assert long == "x" * 2000
    assert all(len(ticket_text("word " * n)) <= 2000 for n in (399, 400, 401, 1000))


def test_an_empty_export_is_no_tickets(api):
    api.data = ZendeskData()
    try:
        cfg = zendesk.ZendeskConfig.from_env(env(api), FAST)
        pulled, _, _ = pull(cfg, {"x"})
    finally:
        api.data = demo_data()
    assert pulled.records == [] and pulled.unmapped == 0 and len(api.log) == 1


@pytest.mark.parametrize("body", [
    "null", "[]", '"x"', '{"tickets": [{"id": 1', '{"end_of_stream": true}',
    '{"tickets": [], "after_cursor": null}',  # no end_of_stream: not "the last page"
    '{"tickets": [{"subject": "no id"}], "end_of_stream": true}',
])
def test_an_unreadable_export_page_is_a_source_error_not_no_tickets(api, body):
    api.fail_next(EXPORT_PATH, 200, body=body)
    with pytest.raises(SourceError) as exc:
        pull(zendesk.ZendeskConfig.from_env(env(api), FAST), {"x"})
    assert (exc.value.source, exc.value.endpoint, exc.value.exit_code) == (
        "Zendesk", f"GET {EXPORT_PATH}", 4)
