"""Help Scout conversations as tickets (contract §8), from the Mailbox API 2.0.

Signs in with OAuth2 client credentials (`POST /v2/oauth2/token`, the one POST esd
sends here: it reads nothing but issues a token), then lists every conversation
modified since the window's start, oldest first, with threads embedded, in HAL pages.
A ticket's body is the first customer thread; its account is the conversation's
custom field `Account ID`, else the `account-id` property of the customer's
organization. Help Scout throttles with `X-RateLimit-Retry-After`, not `Retry-After`.
Wire format: ../shared/api-notes.md §5.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Set
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr

from esd.config import Section, load_section
from esd.connectors.base import Pulled, secret
from esd.connectors.http import RateLimiter, Source, make_client
from esd.connectors.tickets import ticket_text
from esd.errors import SourceError
from esd.format import parse_time, utc_z
from esd.models import Ticket, Window
from esd.paging import page_number

SYSTEM = "Help Scout"
BASE_URL = "https://api.helpscout.net"
TOKEN_PATH = "/v2/oauth2/token"
CONVERSATIONS_PATH = "/v2/conversations"
THREADS_PATH = "/v2/conversations/{id}/threads"
CUSTOMER_PATH = "/v2/customers/{id}"
ORGANIZATION_PATH = "/v2/organizations/{id}"
RETRY_AFTER_HEADER = ("X-RateLimit-Retry-After", "Retry-After")  # api-notes §5
ACCOUNT_FIELD = "Account ID"  # conversation custom field (by name)
ORG_PROPERTY = "account-id"  # organization property (by slug)
REQUESTS_PER_MINUTE = 200  # plan-dependent and shared by every app of the account
NEXT_PAGE = page_number(("page", "totalPages"))
# "modifiedSince" filters on "modified after": start a little early, then filter on createdAt.
MODIFIED_MARGIN = timedelta(minutes=1)


class HelpScoutConfig(Section):
    """Where Help Scout is, the app credentials, and where the account id lives."""

    SECTION: ClassVar[str] = "helpscout"
    ENV: ClassVar[Mapping[str, str]] = {
        "base_url": "HELPSCOUT_URL", "account_field": "HELPSCOUT_ACCOUNT_FIELD",
        "org_property": "HELPSCOUT_ORG_PROPERTY",
        "requests_per_minute": "HELPSCOUT_REQUESTS_PER_MINUTE"}
    SECRETS: ClassVar[frozenset[str]] = frozenset({"app_id", "app_secret"})

    base_url: str = BASE_URL
    app_id: SecretStr
    app_secret: SecretStr
    account_field: str = ACCOUNT_FIELD
    org_property: str = ORG_PROPERTY
    requests_per_minute: float = Field(REQUESTS_PER_MINUTE, gt=0)

    @classmethod
    def from_env(cls, env: Mapping[str, str], section: Mapping[str, Any]) -> HelpScoutConfig:
        """Settings from the environment and esd.toml's [helpscout]; a missing credential
        is an InputError naming its variable."""
        return load_section(cls, section, env,
                            app_id=secret(env, "HELPSCOUT_APP_ID", SYSTEM),
                            app_secret=secret(env, "HELPSCOUT_APP_SECRET", SYSTEM))


class TokenAuth(httpx.Auth):
    """`Bearer` once a token is issued; the token request itself goes out bare."""

    def __init__(self) -> None:
        self.token: str | None = None

    def auth_flow(self, request: httpx.Request):
        if self.token:
            request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def open_source(cfg: HelpScoutConfig, sleep: Callable[[float], None] = time.sleep) -> Source:
    """The Help Scout `Source` (no token yet: `fetch_tickets` gets one)."""
    return Source(SYSTEM, make_client(cfg.base_url, TokenAuth()), query_paths={TOKEN_PATH},
                  rate_limiter=RateLimiter(cfg.requests_per_minute / 60, sleep=sleep),
                  retry_after_header=RETRY_AFTER_HEADER,
                  empty_statuses={404},  # a customer or organization deleted meanwhile
                  sleep=sleep)


def fetch_tickets(source: Source, cfg: HelpScoutConfig, window: Window,
                  known_accounts: Set[str]) -> Pulled[Ticket]:
    """Conversations created inside `window` that map to a known account; the rest of
    the window's conversations are counted in `unmapped`."""
    _sign_in(source, cfg)
    organizations = _Organizations(source, cfg.org_property)
    params = {"status": "all", "modifiedSince": utc_z(window.start - MODIFIED_MARGIN),
              "sortField": "createdAt", "sortOrder": "asc", "embed": "threads"}
    pulled: Pulled[Ticket] = Pulled()
    seen: set[Any] = set()
    for page in _pages(source, CONVERSATIONS_PATH, params):
        conversations = _embedded(source, CONVERSATIONS_PATH, page, "conversations")
        for conv in conversations:
            opened = parse_time(conv.get("createdAt"))
            if opened is None or conv.get("id") is None:
                raise source.missing("GET", CONVERSATIONS_PATH, "id and createdAt")
            if opened not in window or conv.get("id") in seen:
                continue
            seen.add(conv.get("id"))
            account = _field_account(conv, cfg.account_field)
            if account is None:
                account = organizations.account_of(conv.get("primaryCustomer") or {})
            if account is None or account not in known_accounts:
                pulled.unmapped += 1
                continue
            threads = None
            if conv.get("type") == "chat" or "threads" not in (conv.get("_embedded") or {}):
                # Embedded chat threads are truncated by design; list them in full.
                path = THREADS_PATH.format(id=conv["id"])
                threads = [t for p in _pages(source, path, {})
                           for t in _embedded(source, THREADS_PATH, p, "threads")]
            pulled.records.append(_to_ticket(conv, account, threads))
        # Oldest first: a page created entirely after the window ends the listing.
        created = [parse_time(c.get("createdAt")) for c in conversations]
        if created and all(c is not None and c >= window.end for c in created):
            break
    pulled.records.sort(key=lambda t: (t.opened_at, t.ticket_id or ""))
    return pulled


def _sign_in(source: Source, cfg: HelpScoutConfig) -> None:
    auth = source.client.auth
    if not isinstance(auth, TokenAuth):
        raise TypeError("Help Scout source not opened with helpscout.open_source")
    body = source.query(TOKEN_PATH, {"grant_type": "client_credentials",
                                     "client_id": cfg.app_id.get_secret_value(),
                                     "client_secret": cfg.app_secret.get_secret_value()})
    token = (body or {}).get("access_token")
    if not token:
        raise source.error(SourceError, "POST", TOKEN_PATH, "issued no access_token")
    auth.token = token


def _pages(source: Source, path: str, params: Mapping[str, Any]) -> Iterator[dict]:
    # HAL pages: page=1..page.totalPages (api-notes §5). A 404 on a sub-resource is empty.
    def fetch(request: dict[str, Any]) -> Any:
        body = source.get(path, request)
        if body is None and path == CONVERSATIONS_PATH:  # not "nothing there": wrong URL
            raise source.error(SourceError, "GET", path, "answered 404 Not Found")
        return body

    yield from source.pages("GET", path, {**params, "page": 1}, NEXT_PAGE, fetch)


class _Organizations:
    """Customer -> organization -> the `account-id` property, each fetched once."""

    def __init__(self, source: Source, prop: str) -> None:
        self.source, self.prop = source, prop
        self._org_of_customer: dict[Any, Any] = {}
        self._account_of_org: dict[Any, str | None] = {}

    def account_of(self, customer: Mapping[str, Any]) -> str | None:
        cid = customer.get("id")
        org_id = customer.get("organizationId")
        if org_id is None and cid is not None:
            if cid not in self._org_of_customer:
                body = self.source.get(CUSTOMER_PATH.format(id=cid)) or {}
                self._org_of_customer[cid] = body.get("organizationId")
            org_id = self._org_of_customer[cid]
        if org_id is None:
            return None
        if org_id not in self._account_of_org:
            body = self.source.get(ORGANIZATION_PATH.format(id=org_id),
                                   {"includeProperties": "true"}) or {}
            self._account_of_org[org_id] = _org_account(body, self.prop)
        return self._account_of_org[org_id]


def _org_account(org: Mapping[str, Any], prop: str) -> str | None:
    for item in org.get("properties") or []:
        if prop in (item.get("slug"), item.get("name")) and item.get("value") not in (None, ""):
            return str(item["value"]).strip()
    return None


def _field_account(conv: Mapping[str, Any], name: str) -> str | None:
    """The conversation's custom field `name` (its label, or its value), if filled in."""
    for item in conv.get("customFields") or []:
        if item.get("name") == name:
            value = item.get("text") or item.get("value")
            return str(value).strip() if value not in (None, "") else None
    return None


def _is_customer_thread(thread: Mapping[str, Any]) -> bool:
    kind, by = thread.get("type"), (thread.get("createdBy") or {}).get("type")
    return thread.get("state", "published") == "published" and (
        kind == "customer" or (kind == "chat" and by == "customer"))


def _to_ticket(conv: Mapping[str, Any], account_id: str,
               threads: list[Mapping[str, Any]] | None = None) -> Ticket:
    """A conversation as a Ticket record; the body is its earliest customer thread
    (`threads`, else the embedded ones; Help Scout lists them newest first)."""
    if threads is None:
        threads = (conv.get("_embedded") or {}).get("threads") or []
    first = min((t for t in threads if _is_customer_thread(t)), default=None,
                key=lambda t: (parse_time(t.get("createdAt")) or datetime.max.replace(
                    tzinfo=UTC), t.get("id") or 0))
    return Ticket(
        account_id=account_id,
        subject=conv.get("subject") or "",
        body_summary=ticket_text(first.get("body") if first else None),
        tags=[str(t["tag"]) for t in conv.get("tags") or [] if t.get("tag")],
        opened_at=parse_time(conv.get("createdAt")),
        ticket_id=str(conv["id"]),
    )


def _embedded(source: Source, path: str, page: Any, key: str) -> list[dict[str, Any]]:
    """The HAL page's `_embedded[key]` records. `_embedded` is left out entirely when
    there are no results, but a page always says how many pages there are: a page
    without `page.totalPages` is an answer esd cannot read (SourceError)."""
    page_info = page.get("page") if isinstance(page, dict) else None
    if not isinstance(page_info, dict) or not isinstance(page_info.get("totalPages"), int):
        raise source.error(SourceError, "GET", path, "answered a page without page.totalPages")
    embedded = page.get("_embedded")
    if embedded is None:
        return []
    return source.items("GET", path, embedded, key, required=False)
