"""The one paging loop and its strategies (contract §8 "Paging and answers"): pure
functions first, then the loop's two guards, then the guards as the connectors meet
them (httpx.MockTransport: no socket needed to answer pages)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from esd.connectors import gainsight, gong, helpscout, intercom, zendesk
from esd.connectors.http import Source
from esd.errors import SourceError
from esd.models import Window
from esd.paging import (
    dig,
    follow_cursor,
    iter_pages,
    offset_until_short,
    page_number,
    with_value,
)

WINDOW = Window(start=datetime(2026, 11, 16, tzinfo=UTC), end=datetime(2026, 11, 23, tzinfo=UTC))


# --- strategies --------------------------------------------------------------------------


def test_dig_and_with_value():
    page = {"records": {"cursor": "c1"}, "list": [1]}
    assert dig(page, ("records", "cursor")) == "c1"
    assert dig(page, ("list", "x")) is None and dig(None, "a") is None
    body = {"filter": {"a": 1}, "pagination": {"per_page": 10}}
    moved = with_value(body, ("pagination", "starting_after"), "x")
    assert moved == {"filter": {"a": 1}, "pagination": {"per_page": 10, "starting_after": "x"}}
    assert body == {"filter": {"a": 1}, "pagination": {"per_page": 10}}  # not changed


def test_follow_cursor():
    nxt = follow_cursor(("records", "cursor"), "cursor")
    body = {"filter": {"callIds": ["1"]}}
    assert nxt(body, {"records": {"cursor": "abc"}}) == {**body, "cursor": "abc"}
    assert nxt({**body, "cursor": "abc"}, {"records": {"cursor": "def"}})["cursor"] == "def"
    assert nxt(body, {"records": {}}) is None
    assert nxt(body, {"records": {"cursor": ""}}) is None
    assert nxt(body, None) is None


def test_page_number_until_total_pages():
    nxt = page_number(("page", "totalPages"))
    assert nxt({"status": "all", "page": 1}, {"page": {"totalPages": 3}}) == {
        "status": "all", "page": 2}
    assert nxt({"page": 3}, {"page": {"totalPages": 3}}) is None
    assert nxt({"page": 1}, {}) is None  # no page block: one page


def test_offset_until_short():
    nxt = offset_until_short(2)
    assert nxt({"limit": 2, "offset": 0}, [{}, {}]) == {"limit": 2, "offset": 2}
    assert nxt({"limit": 2, "offset": 2}, [{}]) is None
    assert nxt({"limit": 2, "offset": 4}, []) is None


# --- the loop ----------------------------------------------------------------------------


def pages_of(answers: dict, first, next_request, **kw) -> tuple[list, list]:
    sent: list = []

    def fetch(request):
        sent.append(request)
        return answers.get(request.get("cursor"))

    pages = list(iter_pages(fetch, first, next_request, source="Demo",
                            endpoint="GET /v1/items", **kw))
    return pages, sent


NEXT = follow_cursor("next", "cursor")


def test_iter_pages_follows_until_done_and_none_ends():
    answers = {None: {"n": 1, "next": "b"}, "b": {"n": 2, "next": "c"}, "c": {"n": 3}}
    pages, sent = pages_of(answers, {"q": 1}, NEXT)
    assert [p["n"] for p in pages] == [1, 2, 3]
    assert sent == [{"q": 1}, {"q": 1, "cursor": "b"}, {"q": 1, "cursor": "c"}]
    pages, _ = pages_of({None: {"n": 1, "next": "gone"}}, {"q": 1}, NEXT)
    assert [p["n"] for p in pages] == [1]  # "gone" answers None: the listing ends


def test_a_cursor_seen_before_stops_with_a_source_error():
    answers = {None: {"next": "a"}, "a": {"next": "b"}, "b": {"next": "a"}}
    with pytest.raises(SourceError, match="^Demo: GET /v1/items returned the same page "
                       "cursor twice") as exc:
        pages_of(answers, {}, NEXT)
    assert (exc.value.source, exc.value.endpoint, exc.value.exit_code) == (
        "Demo", "GET /v1/items", 4)


def test_the_page_cap_stops_with_a_source_error():
    answers = {None: {"next": "1"}, **{str(i): {"next": str(i + 1)} for i in range(1, 10)}}
    pages, _ = pages_of(answers, {}, NEXT, max_pages=11)
    assert len(pages) == 10  # under the cap: every page
    with pytest.raises(SourceError, match=r"GET /v1/items has more than 3 pages .*max_pages")\
            as exc:
        pages_of(answers, {}, NEXT, max_pages=3)
    assert (exc.value.source, exc.value.endpoint) == ("Demo", "GET /v1/items")
    pages, sent = pages_of({None: {"next": "1"}, "1": {}}, {}, NEXT, max_pages=2)
    assert len(pages) == len(sent) == 2  # exactly the cap is fine


# --- the guards as each connector meets them ---------------------------------------------


def endless(body_of):
    """A server answering every request with a new cursor (or the same one)."""
    count = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        count["n"] += 1
        return httpx.Response(200, json=body_of(count["n"]))

    return handler, count


def mock_source(system: str, handler, query_paths=(), **kw) -> Source:
    client = httpx.Client(base_url="http://vendor.test", transport=httpx.MockTransport(handler))
    return Source(system, client, query_paths=set(query_paths), **kw)


def test_gong_stops_at_the_page_cap():
    handler, count = endless(lambda n: {"records": {"cursor": f"c{n}"}, "calls": []})
    source = mock_source("Gong", handler, {gong.CALLS_PATH}, max_pages=4)
    cfg = gong.GongConfig(access_key="k", access_key_secret="s")
    with pytest.raises(SourceError, match="more than 4 pages") as exc:
        gong.fetch_calls(source, cfg, WINDOW, set())
    assert exc.value.endpoint == f"POST {gong.CALLS_PATH}" and count["n"] == 4


def test_zendesk_stops_when_after_cursor_repeats():
    handler, count = endless(lambda n: {"tickets": [], "end_of_stream": False,
                                            "after_cursor": "same"})
    source = mock_source("Zendesk", handler)
    cfg = zendesk.ZendeskConfig(base_url="http://vendor.test", oauth_token="o")
    with pytest.raises(SourceError, match="same page cursor twice") as exc:
        zendesk.fetch_tickets(source, cfg, WINDOW, set())
    assert exc.value.endpoint == f"GET {zendesk.EXPORT_PATH}" and count["n"] == 2


def test_intercom_stops_at_the_page_cap():
    handler, count = endless(lambda n: {"conversations": [],
                                            "pages": {"next": {"starting_after": f"s{n}"}}})
    source = mock_source("Intercom", handler, {intercom.SEARCH_PATH}, max_pages=3)
    with pytest.raises(SourceError, match="more than 3 pages"):
        intercom.fetch_tickets(source, intercom.IntercomConfig(token="t"), WINDOW, set())
    assert count["n"] == 3


def test_helpscout_stops_at_the_page_cap():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == helpscout.TOKEN_PATH:
            return httpx.Response(200, json={"access_token": "tok"})
        return httpx.Response(200, json={"page": {"totalPages": 50}})

    client = httpx.Client(base_url="http://vendor.test", auth=helpscout.TokenAuth(),
                          transport=httpx.MockTransport(handler))
    source = Source("Help Scout", client, query_paths={helpscout.TOKEN_PATH}, max_pages=5)
    cfg = helpscout.HelpScoutConfig(app_id="i", app_secret="s")
    with pytest.raises(SourceError, match="more than 5 pages") as exc:
        helpscout.fetch_tickets(source, cfg, WINDOW, set())
    assert exc.value.endpoint == f"GET {helpscout.CONVERSATIONS_PATH}"
    assert source.requests == 1 + 5  # the token, then the capped pages


def test_gainsight_pages_by_offset_and_stops_at_the_page_cap():
    offsets: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offsets.append(json.loads(request.content)["offset"])
        return httpx.Response(200, json={"result": True, "data": {"records": [
            {"SfdcAccountId": f"A{offsets[-1] + i}"} for i in range(2)]}})

    cfg = gainsight.GainsightConfig(base_url="http://vendor.test", token="t", page_size=2)
    path = "/v1/data/objects/query/Company"
    source = mock_source("Gainsight", handler, {path}, max_pages=3)
    with pytest.raises(SourceError, match=f"POST {path} has more than 3 pages"):
        gainsight.fetch_accounts(source, cfg)
    assert offsets == [0, 2, 4]
