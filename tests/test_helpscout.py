"""The Help Scout connector against a fake Help Scout on 127.0.0.1, plus its pure parts."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from conftest import fake_fixture
from fakes.helpscout import (
    APP_ID,
    APP_SECRET,
    CONVERSATIONS_PATH,
    DEMO,
    TOKEN_PATH,
    FakeHelpScout,
    HelpScoutData,
    demo_data,
    helpscout_from_portfolio,
)

from esd.connectors import helpscout
from esd.connectors.files import load_portfolio
from esd.connectors.http import Source
from esd.errors import InputError, SourceError
from esd.models import Ticket, Window

WINDOW = Window(start=datetime(2026, 11, 16, tzinfo=UTC), end=datetime(2026, 11, 23, tzinfo=UTC))
FAST = {"requests_per_minute": 600_000}  # no rate-limit spacing in tests


@pytest.fixture(scope="module")
def demo():
    return load_portfolio(DEMO)


api = fake_fixture(lambda: FakeHelpScout(demo_data(), page_size=10))


@pytest.fixture(autouse=True)
def _restore(api):
    yield
    api.data = DEMO_DATA


DEMO_DATA = demo_data()


def config(api, **extra) -> helpscout.HelpScoutConfig:
    return helpscout.HelpScoutConfig.from_env(
        {"HELPSCOUT_URL": api.url, "HELPSCOUT_APP_ID": APP_ID, "HELPSCOUT_APP_SECRET": APP_SECRET,
         **extra}, FAST)


def pull(cfg, known) -> tuple[helpscout.Pulled, Source, list[float]]:
    source = helpscout.open_source(cfg)
    waits: list[float] = []
    source.sleep = waits.append  # record retry waits instead of sleeping
    try:
        return helpscout.fetch_tickets(source, cfg, WINDOW, known), source, waits
    finally:
        source.close()


def in_window(demo) -> list[Ticket]:
    return sorted((t for t in demo.tickets if t.opened_at in WINDOW),
                  key=lambda t: (t.opened_at, t.ticket_id))


def test_pull_equals_the_demo_tickets_of_the_window(api, demo):
    pulled, source, waits = pull(config(api), {a.id for a in demo.accounts})
    assert len(in_window(demo)) == 77
    assert pulled.records == in_window(demo)
    assert pulled.unmapped == 2  # an organization without account-id; no organization
    assert waits == []
    sent = [(r.method, r.path) for r in api.log]
    assert sent[0] == ("POST", TOKEN_PATH) and api.log[0].body["grant_type"] == "client_credentials"
    assert all(method == "GET" for method, _ in sent[1:]) and source.requests == len(api.log)
    listing = [r for r in api.log if r.path == CONVERSATIONS_PATH]
    assert [r.arg("page") for r in listing] == [str(n) for n in range(1, len(listing) + 1)]
    assert len(listing) > 1  # paginated
    first = listing[0]
    assert (first.arg("status"), first.arg("sortField"), first.arg("sortOrder"),
            first.arg("embed")) == ("all", "createdAt", "asc", "threads")
    assert first.arg("modifiedSince") == "2026-11-15T23:59:00Z"
    # Chat conversations (embedded threads truncated) are read in full, once each.
    threads = [r.path for r in api.log if r.path.endswith("/threads")]
    chats = {f"/v2/conversations/{c['id']}/threads" for c in api.data.conversations
             if c["type"] == "chat" and c["createdAt"] < "2026-11-23"
             and c["createdAt"] >= "2026-11-16"}
    assert chats and sorted(threads) == sorted(chats)
    # Customers and organizations are looked up only without the custom field, once each.
    lookups = Counter(r.path for r in api.log if "/customers/" in r.path
                      or "/organizations/" in r.path)
    assert lookups and max(lookups.values()) == 1
    assert all(r.arg("includeProperties") == "true" for r in api.log
               if "/organizations/" in r.path)


def test_tickets_of_unknown_accounts_are_dropped_and_counted(api, demo):
    known = {a.id for a in demo.accounts}
    dropped = next(t.account_id for t in in_window(demo))
    own = sum(t.account_id == dropped for t in in_window(demo))
    pulled, _, _ = pull(config(api), known - {dropped})
    assert len(pulled.records) == 77 - own and pulled.unmapped == 2 + own


def test_the_custom_field_decides_when_filled_in(api, demo):
    account = demo.accounts[0]
    other = demo.accounts[1]
    opened = datetime(2026, 11, 18, tzinfo=UTC)
    tickets = [Ticket(account_id=account.id, subject=f"s{i}", body_summary="b", tags=[],
                      opened_at=opened + timedelta(hours=i), ticket_id=str(100 + i))
               for i in range(3)]
    data = helpscout_from_portfolio(tickets, [account, other], unmapped=False)
    data.conversations[0]["customFields"][-1].update(value=other.id, text=other.id)
    data.conversations[2]["customFields"][-1].update(value="not-a-known-id", text="")
    api.data = data
    pulled, _, _ = pull(config(api), {account.id, other.id})
    assert [(t.ticket_id, t.account_id) for t in pulled.records] == [
        ("100", other.id), ("101", account.id)]
    assert pulled.unmapped == 1


def test_listing_stops_after_a_page_past_the_window(api, demo):
    account = demo.accounts[0]
    tickets = [Ticket(account_id=account.id, subject=f"s{i}", body_summary="b", tags=["t"],
                      opened_at=WINDOW.start + timedelta(hours=12 * i), ticket_id=str(100 + i))
               for i in range(60)]  # 14 inside the window, 46 after it
    api.data = helpscout_from_portfolio(tickets, [account], unmapped=False)
    pulled, _, _ = pull(config(api), {account.id})
    assert [t.ticket_id for t in pulled.records] == [str(100 + i) for i in range(14)]
    assert len([r for r in api.log if r.path == CONVERSATIONS_PATH]) == 3  # of 6 pages


def test_429_honours_x_ratelimit_retry_after(api, demo):
    api.fail_next(CONVERSATIONS_PATH, 429, headers={"X-RateLimit-Retry-After": "7"})
    pulled, source, waits = pull(config(api), {a.id for a in demo.accounts})
    assert waits == [7.0]
    assert len(pulled.records) == 77 and source.requests == len(api.log)


def test_5xx_gives_up_naming_system_path_and_status(api):
    api.fail_next(CONVERSATIONS_PATH, 502, times=10)
    with pytest.raises(SourceError) as exc:
        pull(config(api), set())
    assert str(exc.value) == (f"Help Scout: GET {CONVERSATIONS_PATH} failed after 5 attempts: "
                              "status 502")
    assert [r.path for r in api.log] == [TOKEN_PATH] + [CONVERSATIONS_PATH] * 5


def test_bad_credentials_are_rejected_without_showing_the_secret(api, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "not-" + APP_SECRET
    cfg = config(api, HELPSCOUT_APP_SECRET=wrong)
    with pytest.raises(SourceError, match="rejected the credentials") as exc:
        pull(cfg, set())
    assert str(exc.value) == (f"Help Scout: POST {TOKEN_PATH} rejected the credentials "
                              "(request id hs-corr-1)")
    assert len(api.log) == 1
    assert wrong not in caplog.text and wrong not in repr(cfg) and APP_ID not in repr(cfg)


def test_a_wrong_base_url_is_an_error_not_an_empty_week(api):
    cfg = config(api, HELPSCOUT_URL=api.url + "/nothing-here")
    api.route("POST", "/nothing-here" + TOKEN_PATH)(api.routes[0][2])
    try:
        with pytest.raises(SourceError, match=f"GET {CONVERSATIONS_PATH} answered 404"):
            pull(cfg, set())
    finally:
        api.routes.pop()


def test_no_conversations_is_no_tickets(api):
    api.data = HelpScoutData()
    pulled, _, _ = pull(config(api), {"x"})
    assert pulled.records == [] and pulled.unmapped == 0
    assert [r.path for r in api.log] == [TOKEN_PATH, CONVERSATIONS_PATH]


@pytest.mark.parametrize("missing", ["HELPSCOUT_APP_ID", "HELPSCOUT_APP_SECRET"])
def test_missing_credentials_name_the_variable(missing):
    variables = {"HELPSCOUT_APP_ID": "i", "HELPSCOUT_APP_SECRET": "s"}
    del variables[missing]
    with pytest.raises(InputError, match=f"environment variable {missing} is not set"):
        helpscout.HelpScoutConfig.from_env(variables, {})


def test_settings_from_env_and_toml():
    cfg = helpscout.HelpScoutConfig.from_env(
        {"HELPSCOUT_APP_ID": "i", "HELPSCOUT_APP_SECRET": "s",
         "HELPSCOUT_ACCOUNT_FIELD": "CRM Account"},
        {"account_field": "ignored", "org_property": "crm-id", "requests_per_minute": 60})
    assert cfg.base_url == "https://api.helpscout.net"
    assert (cfg.account_field, cfg.org_property) == ("CRM Account", "crm-id")
    source = helpscout.open_source(cfg)
    assert source.retry_after_header == ("X-RateLimit-Retry-After", "Retry-After")
    assert source.rate_limiter.interval == pytest.approx(1.0)
    assert source.query_paths == {TOKEN_PATH}
    source.close()
    with pytest.raises(InputError, match=r"^esd.toml \[helpscout\]: requests_per_minute: "
                       r"Input should be greater than 0$"):
        helpscout.HelpScoutConfig.from_env({"HELPSCOUT_APP_ID": "i",
                                            "HELPSCOUT_APP_SECRET": "s"},
                                           {"requests_per_minute": 0})


def test_to_ticket_takes_the_first_customer_thread_cleaned_and_capped():
    conv = {
        "id": 2391938111, "subject": "Need Help", "createdAt": "2026-11-17T14:39:56Z",
        "tags": [{"id": 1, "color": "#929499", "tag": "vip"}, {"id": 2, "tag": "sso"}],
        "_embedded": {"threads": [
            {"id": 4, "type": "customer", "createdAt": "2026-11-17T16:00:00Z",
             "body": "<p>Follow-up</p>", "createdBy": {"type": "customer"}},
            {"id": 3, "type": "note", "createdAt": "2026-11-17T15:00:00Z", "body": "internal"},
            {"id": 2, "type": "message", "createdAt": "2026-11-17T14:50:00Z", "body": "Hi!"},
            {"id": 1, "type": "customer", "createdAt": "2026-11-17T14:39:56Z",
             "createdBy": {"type": "customer"},
             "body": "<div>We&#39;d like <b>SSO</b>.<br/>\n\n Thanks</div>" + "<p>more</p>" * 900},
        ]},
    }
    ticket = helpscout._to_ticket(conv, "001A")
    assert ticket.ticket_id == "2391938111" and ticket.subject == "Need Help"
    assert ticket.tags == ["vip", "sso"]
    assert ticket.opened_at == datetime(2026, 11, 17, 14, 39, 56, tzinfo=UTC)
    assert ticket.body_summary.startswith("We'd like SSO. Thanks more more")
    assert 1990 <= len(ticket.body_summary) <= 2000
    chat = [{"id": 7, "type": "chat", "createdBy": {"type": "user"}, "body": "Agent first",
             "createdAt": "2026-11-17T14:00:00Z"},
            {"id": 8, "type": "chat", "createdBy": {"type": "customer"}, "body": "Customer",
             "createdAt": "2026-11-17T14:01:00Z"}]
    assert helpscout._to_ticket(conv, "001A", chat).body_summary == "Customer"
    assert helpscout._to_ticket({**conv, "_embedded": {}}, "001A").body_summary == ""


def test_account_lookups():
    conv = {"customFields": [{"name": "Account Type", "value": "1"},
                             {"name": "Account ID", "value": " 001A ", "text": " 001A "}]}
    assert helpscout._field_account(conv, "Account ID") == "001A"
    assert helpscout._field_account({"customFields": [{"name": "Account ID", "value": ""}]},
                                    "Account ID") is None
    assert helpscout._field_account({}, "Account ID") is None
    org = {"properties": [{"slug": "industry", "value": "x"},
                          {"slug": "account-id", "name": "Account ID", "value": "001B"}]}
    assert helpscout._org_account(org, "account-id") == "001B"
    assert helpscout._org_account(org, "Account ID") == "001B"
    assert helpscout._org_account({}, "account-id") is None


@pytest.mark.parametrize("body", [
    "null", "[]", '"x"', '{"_embedded": {"conversations": [',
    '{"_links": {}}',  # no page.totalPages: not "no results"
    '{"_embedded": {"conversations": {}}, "page": {"totalPages": 1, "number": 1}}',
    '{"_embedded": {"conversations": [{"subject": "no id"}]}, "page": {"totalPages": 1}}',
])
def test_an_unreadable_conversations_page_is_a_source_error(api, body):
    api.fail_next(CONVERSATIONS_PATH, 200, body=body)
    with pytest.raises(SourceError) as exc:
        pull(config(api), {"x"})
    assert (exc.value.source, exc.value.endpoint, exc.value.exit_code) == (
        "Help Scout", f"GET {CONVERSATIONS_PATH}", 4)
