"""Zendesk Support tickets (contract §8), read from the incremental cursor export.

One pass over `GET /api/v2/incremental/tickets/cursor.json` from the window's start,
with the tickets' organizations sideloaded (`include=organizations`); the export
returns every ticket *changed* since then, so tickets are deduplicated by id and kept
when created inside the window. A ticket's account is its organization's
`external_id` (or a domain, or an organization field: `account_key` in esd.toml).
Wire format: ../shared/api-notes.md §3.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Set
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr, field_validator

from esd.config import Section, load_section
from esd.connectors.base import Pulled, setting
from esd.connectors.http import BearerAuth, RateLimiter, Source, make_client
from esd.connectors.tickets import ticket_text
from esd.errors import InputError, SourceError
from esd.format import parse_time
from esd.models import Ticket, Window
from esd.paging import dig

SYSTEM = "Zendesk"
BASE_URL = "https://{subdomain}.zendesk.com"
EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
SIDELOAD = "organizations"
PAGE_SIZE = 1000  # the export's maximum
REQUESTS_PER_MINUTE = 10  # the incremental export's own limit (30 with High Volume)
ACCOUNT_KEY = "external_id"  # or "domain", or "field:<organization field key>"
DELETED = "deleted"


class ZendeskConfig(Section):
    """Where Zendesk is, how to sign in, and how an organization names its account."""

    SECTION: ClassVar[str] = "zendesk"
    ENV: ClassVar[Mapping[str, str]] = {
        "subdomain": "ZENDESK_SUBDOMAIN", "email": "ZENDESK_EMAIL",
        "account_key": "ZENDESK_ACCOUNT_KEY", "page_size": "ZENDESK_PAGE_SIZE",
        "requests_per_minute": "ZENDESK_REQUESTS_PER_MINUTE"}
    SECRETS: ClassVar[frozenset[str]] = frozenset({"api_token", "oauth_token"})

    base_url: str  # ZENDESK_URL, else https://{subdomain}.zendesk.com
    subdomain: str | None = None
    email: str | None = None  # with api_token: Basic `{email}/token:{api_token}`
    api_token: SecretStr | None = None
    oauth_token: SecretStr | None = None  # used when there is no email + api_token
    account_key: str = ACCOUNT_KEY
    page_size: int = Field(PAGE_SIZE, ge=1, le=1000)
    requests_per_minute: float = Field(REQUESTS_PER_MINUTE, gt=0)

    @field_validator("account_key")
    @classmethod
    def _known_account_key(cls, key: str) -> str:
        if key not in ("external_id", "domain") and not (
                key.startswith("field:") and key[len("field:"):].strip()):
            raise ValueError(f"{key!r}: use external_id, domain or "
                             "field:<organization field key>")
        return key

    @classmethod
    def from_env(cls, env: Mapping[str, str], section: Mapping[str, Any]) -> ZendeskConfig:
        """Settings from the environment and esd.toml's [zendesk]; a missing credential
        is an InputError naming its variable."""
        section = section if isinstance(section, Mapping) else {}
        base_url = setting(env, section, "ZENDESK_URL", "base_url")
        if not base_url:
            subdomain = setting(env, section, "ZENDESK_SUBDOMAIN", "subdomain")
            if not subdomain:
                raise InputError(f"{SYSTEM}: environment variable ZENDESK_URL or "
                                 "ZENDESK_SUBDOMAIN is not set (see .env.example)")
            base_url = BASE_URL.format(subdomain=subdomain)
        email = setting(env, section, "ZENDESK_EMAIL", "email")
        api_token, oauth_token = env.get("ZENDESK_API_TOKEN"), env.get("ZENDESK_OAUTH_TOKEN")
        if api_token and email:
            oauth_token = None
        elif oauth_token:
            api_token = None
        elif api_token:
            raise InputError(f"{SYSTEM}: environment variable ZENDESK_EMAIL is not set (the "
                             "API token signs in as {email}/token; see .env.example)")
        else:
            raise InputError(f"{SYSTEM}: environment variable ZENDESK_API_TOKEN (with "
                             "ZENDESK_EMAIL) or ZENDESK_OAUTH_TOKEN is not set "
                             "(see .env.example)")
        return load_section(cls, section, env, base_url=base_url, api_token=api_token,
                            oauth_token=oauth_token)


def open_source(cfg: ZendeskConfig, sleep: Callable[[float], None] = time.sleep) -> Source:
    """The Zendesk `Source`: API token (Basic) or OAuth (Bearer), export rate limit."""
    if cfg.api_token is not None:
        auth: httpx.Auth = httpx.BasicAuth(f"{cfg.email}/token",
                                           cfg.api_token.get_secret_value())
    elif cfg.oauth_token is not None:
        auth = BearerAuth(cfg.oauth_token.get_secret_value())
    else:  # from_env never builds this; a hand-made config might
        raise InputError(f"{SYSTEM}: no credential (ZENDESK_API_TOKEN or ZENDESK_OAUTH_TOKEN)")
    return Source(SYSTEM, make_client(cfg.base_url, auth),
                  rate_limiter=RateLimiter(cfg.requests_per_minute / 60, sleep=sleep),
                  sleep=sleep)


def fetch_tickets(source: Source, cfg: ZendeskConfig, window: Window,
                  known_accounts: Set[str]) -> Pulled[Ticket]:
    """Tickets created inside `window` whose organization maps to a known account;
    the rest of the window's tickets are counted in `unmapped`."""
    latest: dict[Any, dict[str, Any]] = {}
    organizations: dict[Any, dict[str, Any]] = {}
    for page in source.pages("GET", EXPORT_PATH, _first_request(cfg, window), _next_export_page):
        # The sideload is present when asked for; a page without it has no organizations.
        for org in source.items("GET", EXPORT_PATH, page, SIDELOAD, required=False):
            organizations[org.get("id")] = org
        for raw in source.items("GET", EXPORT_PATH, page, "tickets"):
            if raw.get("id") is None or parse_time(raw.get("created_at")) is None:
                raise source.missing("GET", EXPORT_PATH, "id and created_at")
            latest[raw["id"]] = raw  # a ticket changed twice comes twice: keep the last
    pulled: Pulled[Ticket] = Pulled()
    for raw in latest.values():
        opened = parse_time(raw.get("created_at"))
        if raw.get("status") == DELETED or opened is None or opened not in window:
            continue
        org = organizations.get(raw.get("organization_id"))
        account = _account_id(org, cfg.account_key, known_accounts) if org else None
        if account is None:
            pulled.unmapped += 1
        else:
            pulled.records.append(_to_ticket(raw, account))
    pulled.records.sort(key=lambda t: (t.opened_at, t.ticket_id or ""))
    return pulled


def _first_request(cfg: ZendeskConfig, window: Window) -> dict[str, Any]:
    # First page by start_time, then after_cursor until end_of_stream (api-notes §3).
    return {"start_time": int(window.start.timestamp()), "include": SIDELOAD,
            "per_page": cfg.page_size}


def _next_export_page(params: dict[str, Any], page: Any) -> dict[str, Any] | None:
    """The export's next request: its `after_cursor` in place of `start_time`, until
    `end_of_stream`; a page without `end_of_stream`, or not the end yet and naming no
    cursor, is an error (never read as the last page)."""
    end = page.get("end_of_stream") if isinstance(page, dict) else None
    if not isinstance(end, bool):
        raise SourceError(f"{SYSTEM}: GET {EXPORT_PATH} answered no end_of_stream flag",
                          source=SYSTEM, endpoint=f"GET {EXPORT_PATH}")
    if end:
        return None
    cursor = dig(page, "after_cursor")
    if not cursor:
        raise SourceError(f"{SYSTEM}: GET {EXPORT_PATH} gave no new after_cursor before "
                          "end_of_stream", source=SYSTEM, endpoint=f"GET {EXPORT_PATH}")
    rest = {k: v for k, v in params.items() if k not in ("start_time", "cursor")}
    return {"cursor": cursor, **rest}


def _account_id(org: Mapping[str, Any], account_key: str, known: Set[str]) -> str | None:
    """The known account an organization names under `account_key`, else None."""
    if account_key == "domain":
        candidates = org.get("domain_names") or []
    elif account_key.startswith("field:"):
        fields = org.get("organization_fields") or {}
        candidates = [fields.get(account_key[len("field:"):].strip())]
    else:
        candidates = [org.get("external_id")]
    for value in candidates:
        if value is not None and str(value).strip() in known:
            return str(value).strip()
    return None


def _to_ticket(raw: Mapping[str, Any], account_id: str) -> Ticket:
    """A ticket of the export as a Ticket record (`description` is the first comment)."""
    return Ticket(
        account_id=account_id,
        subject=raw.get("subject") or raw.get("raw_subject") or "",
        body_summary=ticket_text(raw.get("description")),
        tags=[str(tag) for tag in raw.get("tags") or []],
        opened_at=parse_time(raw.get("created_at")),
        ticket_id=str(raw["id"]),
    )

