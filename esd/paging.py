"""Paging: one generic loop and the small strategies the vendors need (dlt's paginator
idea, as functions).

A strategy is `next_request(request, page) -> request | None`: given the request just
sent and the page it answered, the next request, or None when the listing is done. A
request is whatever the connector's `fetch` takes (query parameters or a JSON body, as
a dict). `iter_pages` sends them one after another and enforces contract §8 "Paging and
answers" once for every vendor:

- non-advancing: a request sent before (the same cursor, next link or offset) stops the
  listing with a SourceError naming the source and endpoint (exit 4), never a loop;
- page cap: more than `max_pages` pages (esd.toml `[http] max_pages`, default 10,000
  per endpoint and window) is a SourceError too.

Strategies: `follow_cursor` (Gong `records.cursor`, Intercom `pages.next.starting_after`,
Slack `response_metadata.next_cursor`), `page_number` (Help Scout `page` /
`page.totalPages`) and `offset_until_short` (Gainsight limit/offset until a short page).
Zendesk's incremental export (`after_cursor` until `end_of_stream`) composes `dig` in
zendesk.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from esd.errors import SourceError

MAX_PAGES = 10_000  # per endpoint and window (contract §8)

Request = TypeVar("Request")
NextRequest = Callable[[Any, Any], Any]
Path = str | Sequence[str]  # "cursor" or ("records", "cursor")


def dig(value: Any, path: Path) -> Any:
    """`value[a][b]...` along `path`, None where a step is missing or not an object."""
    for key in (path,) if isinstance(path, str) else path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def with_value(request: dict, path: Path, value: Any) -> dict:
    """A copy of `request` with `value` at `path` (nested dicts copied, not changed)."""
    keys = (path,) if isinstance(path, str) else tuple(path)
    inner = request.get(keys[0]) if len(keys) > 1 else None
    if len(keys) > 1:
        value = with_value(inner if isinstance(inner, dict) else {}, keys[1:], value)
    return {**request, keys[0]: value}


def _text(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return (value.strip() or None) if isinstance(value, str) else None


def follow_cursor(cursor_at: Path, param: Path) -> NextRequest:
    """The same request with the page's cursor (at `cursor_at`) put at `param`; done when
    the page has no cursor."""

    def next_request(request: dict, page: Any) -> dict | None:
        cursor = _text(dig(page, cursor_at))
        return with_value(request, param, cursor) if cursor else None

    return next_request


def page_number(total_at: Path, param: str = "page") -> NextRequest:
    """Page `param` + 1 while it is below the page's total page count (at `total_at`)."""

    def next_request(request: dict, page: Any) -> dict | None:
        total = dig(page, total_at)
        number = request[param]
        if not isinstance(total, int) or isinstance(total, bool) or number >= total:
            return None
        return {**request, param: number + 1}

    return next_request


def offset_until_short(limit: int, param: str = "offset",
                       count: Callable[[Any], int] = len) -> NextRequest:
    """Offset `param` moved past the page's rows while pages are full (`limit` rows);
    a short page is the last."""

    def next_request(request: dict, page: Any) -> dict | None:
        rows = count(page)
        return {**request, param: request[param] + rows} if rows >= limit else None

    return next_request


def _key(request: Any) -> str:
    return json.dumps(request, sort_keys=True, default=str)


def iter_pages(fetch: Callable[[Request], Any], first: Request, next_request: NextRequest,
               *, source: str, endpoint: str, max_pages: int = MAX_PAGES) -> Iterator[Any]:
    """Every page from `first` on, as `fetch` answers them; `fetch` answering None (an
    empty answer, such as Gong's 404) ends the listing.

    Raises SourceError (with `source` and `endpoint` set) when a request repeats one
    already sent, or when the listing needs more than `max_pages` pages.
    """
    request: Any = first
    sent: set[str] = set()
    while request is not None:
        key = _key(request)
        if key in sent:
            raise SourceError(f"{source}: {endpoint} returned the same page cursor twice "
                              "(paging does not advance)", source=source, endpoint=endpoint)
        if len(sent) >= max_pages:
            raise SourceError(f"{source}: {endpoint} has more than {max_pages} pages (the "
                              "page cap, esd.toml [http] max_pages)",
                              source=source, endpoint=endpoint)
        sent.add(key)
        page = fetch(request)
        if page is None:
            return
        yield page
        request = next_request(request, page)
