"""Intercom conversations as tickets (contract §8, `ESD_TICKET_SOURCE=intercom`).

One search for the conversations created in the window (`POST /conversations/search`,
a read, followed by `pages.next.starting_after`), then, per conversation, its company:
the conversation's own `company` where the API version carries one (2.16+), else the
companies of its contacts (`GET /contacts/{id}/companies`, cached). The company's
`company_id` (or the configured `account_key`) is the account id; conversations that
map to no known account, or to several, are dropped and counted, never guessed.

Where a teammate started the conversation, the first customer message is in the
conversation's parts, which only `GET /conversations/{id}` returns.

Wire format: ../shared/api-notes.md §4 and the vendored OpenAPI document.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from esd.config import Section, load_section
from esd.connectors.base import Pulled, secret
from esd.connectors.http import BearerAuth, Source, make_client
from esd.connectors.tickets import ticket_text
from esd.errors import SourceError
from esd.format import parse_time
from esd.models import Ticket, Window
from esd.paging import follow_cursor

SYSTEM = "Intercom"
DEFAULT_URL = "https://api.intercom.io"
DEFAULT_VERSION = "2.14"
DEFAULT_ACCOUNT_KEY = "company_id"
PER_PAGE = 150  # the search API's maximum
SEARCH_PATH = "/conversations/search"
CONVERSATION_PATH = "/conversations/{id}"
CONTACT_COMPANIES_PATH = "/contacts/{id}/companies"
NEXT_PAGE = follow_cursor(("pages", "next", "starting_after"), ("pagination", "starting_after"))
CUSTOMER_AUTHORS = frozenset({"user", "lead", "contact"})
SUBJECT_LIMIT = 250  # a subject taken from a message's first line is capped here

# Line ends in a message body, for "the first line" when a conversation has no subject.
_LINE_END = re.compile(r"<br\s*/?>|</(?:p|div|li|h[1-6]|blockquote|pre|tr)\s*>|\n", re.I)


class IntercomConfig(Section):
    """Where and how to read Intercom: environment first, then esd.toml `[intercom]`."""

    SECTION: ClassVar[str] = "intercom"
    ENV: ClassVar[Mapping[str, str]] = {"base_url": "INTERCOM_URL",
                                        "version": "INTERCOM_VERSION"}
    SECRETS: ClassVar[frozenset[str]] = frozenset({"token"})

    token: SecretStr
    base_url: str = DEFAULT_URL
    version: str = DEFAULT_VERSION
    # A company field holding the CRM account id; a dotted path reaches into
    # custom attributes ("custom_attributes.sfdc_account_id").
    account_key: str = Field(DEFAULT_ACCOUNT_KEY, min_length=1)
    per_page: int = Field(PER_PAGE, ge=1, le=PER_PAGE)

    @classmethod
    def from_env(cls, env: Mapping[str, str], section: Mapping[str, Any]) -> IntercomConfig:
        """Settings from `env` (INTERCOM_*) and the `[intercom]` table; a missing
        INTERCOM_ACCESS_TOKEN or a bad table value is an InputError (exit 2)."""
        return load_section(cls, section, env, token=secret(env, "INTERCOM_ACCESS_TOKEN", SYSTEM))


def open_source(cfg: IntercomConfig, **options: Any) -> Source:
    """A read-only Source for Intercom; `options` go to `Source` (tests pass `sleep`)."""
    client = make_client(cfg.base_url, BearerAuth(cfg.token.get_secret_value()),
                         headers={"Intercom-Version": cfg.version,
                                  "Accept": "application/json"})
    # Intercom's 429 carries no Retry-After, only X-RateLimit-Reset, a Unix time
    # (api-notes §4).
    return Source(SYSTEM, client, query_paths={SEARCH_PATH},
                  reset_header="X-RateLimit-Reset", **options)


def fetch_tickets(source: Source, cfg: IntercomConfig, window: Window,
                  known_accounts: set[str]) -> Pulled[Ticket]:
    """The conversations created in `window` as Tickets of known accounts."""
    pulled: Pulled[Ticket] = Pulled()
    companies: dict[str, list[dict[str, Any]]] = {}  # contact id -> its companies
    for conversation in _search(source, cfg, window):
        account = _account_of(source, cfg, conversation, known_accounts, companies)
        if account is None:
            pulled.unmapped += 1
            continue
        if not _customer_started(conversation):
            # The list item has no parts; the full conversation does.
            path = CONVERSATION_PATH.format(id=conversation["id"])
            conversation = source.get(path) or conversation
        pulled.records.append(_to_ticket(conversation, account))
    return pulled


def search_body(cfg: IntercomConfig, window: Window) -> dict[str, Any]:
    """The first search request for `window`.

    Date fields accept only `=`, `<` and `>`, in whole seconds, and the docs disagree
    on whether `>`/`<` include the bound: the query asks for a little more than the
    half-open window and `_search` trims it exactly.
    """
    after = math.floor(window.start.timestamp()) - 1
    before = math.ceil(window.end.timestamp())
    return {
        "query": {"operator": "AND", "value": [
            {"field": "created_at", "operator": ">", "value": after},
            {"field": "created_at", "operator": "<", "value": before},
        ]},
        "pagination": {"per_page": cfg.per_page},
    }


def _search(source: Source, cfg: IntercomConfig, window: Window):
    seen_ids: set[str] = set()
    for page in source.pages("POST", SEARCH_PATH, search_body(cfg, window), NEXT_PAGE):
        for conversation in source.items("POST", SEARCH_PATH, page, "conversations"):
            if conversation.get("id") in (None, ""):
                raise source.missing("POST", SEARCH_PATH, "id")
            cid = str(conversation.get("id"))
            if cid in seen_ids or _opened_at(conversation) not in window:
                continue
            seen_ids.add(cid)
            yield conversation


def _account_of(source: Source, cfg: IntercomConfig, conversation: Mapping[str, Any],
                known: set[str], cache: dict[str, list[dict[str, Any]]]) -> str | None:
    """The one known account the conversation belongs to, else None."""
    company = conversation.get("company")
    if company:  # 2.16+: the conversation names its company; that decides
        key = _company_key(company, cfg.account_key)
        return key if key in known else None
    contacts = (conversation.get("contacts") or {}).get("contacts") or []
    found: set[str] = set()
    for contact in contacts:
        contact_id = contact.get("id")
        if not contact_id:
            continue
        if contact_id not in cache:
            path = CONTACT_COMPANIES_PATH.format(id=contact_id)
            answer = source.get(path)
            # The spec's schema names the list `companies`; its example and the live
            # API use `data`. A contact's companies are not paged past the first page.
            key = "companies" if isinstance(answer, dict) and "data" not in answer else "data"
            cache[contact_id] = source.items("GET", path, answer, key)
        found.update(k for c in cache[contact_id]
                     if (k := _company_key(c, cfg.account_key)) in known)
    return found.pop() if len(found) == 1 else None


def _company_key(company: Mapping[str, Any], account_key: str) -> str | None:
    value: Any = company
    for part in account_key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return None if value in (None, "") else str(value)


def _customer_started(conversation: Mapping[str, Any]) -> bool:
    author = (conversation.get("source") or {}).get("author") or {}
    return author.get("type") in CUSTOMER_AUTHORS


def _opened_at(conversation: Mapping[str, Any]) -> datetime:
    opened = parse_time(conversation.get("created_at"), epoch="s")
    if opened is None:
        raise SourceError(f"{SYSTEM}: POST {SEARCH_PATH}: conversation {conversation.get('id')}"
                          " has no created_at", source=SYSTEM, endpoint=f"POST {SEARCH_PATH}")
    return opened


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _first_customer_body(conversation: Mapping[str, Any]) -> str | None:
    if _customer_started(conversation):
        return conversation["source"].get("body")
    parts = (conversation.get("conversation_parts") or {}).get("conversation_parts") or []
    for part in parts:
        if (part.get("author") or {}).get("type") in CUSTOMER_AUTHORS and part.get("body"):
            return part["body"]
    return None


def first_line(html_or_text: str | None, limit: int = SUBJECT_LIMIT) -> str:
    """The first non-empty line of a message, as plain text."""
    for chunk in _LINE_END.split(html_or_text or ""):
        if line := ticket_text(chunk, limit):
            return line
    return ""


def _to_ticket(raw: Mapping[str, Any], account_id: str) -> Ticket:
    """One conversation (a search item, or the full conversation with its parts)."""
    source = raw.get("source") or {}
    subject = " ".join((source.get("subject") or "").split()) or first_line(source.get("body"))
    tags = (raw.get("tags") or {}).get("tags") or []
    return Ticket(
        account_id=account_id,
        ticket_id=str(raw["id"]),
        subject=subject,
        body_summary=ticket_text(_first_customer_body(raw)),
        tags=[t["name"] for t in tags if t.get("name")],
        opened_at=_opened_at(raw),
    )
