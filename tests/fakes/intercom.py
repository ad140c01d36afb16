"""A fake Intercom (API 2.14 wire format, ../shared/api-notes.md §4) built from esd records.

Routes: `POST /conversations/search` (created_at queries with `=`, `<`, `>`, AND/OR
groups, cursor pages via `pages.next.starting_after`), `GET /conversations/{id}` (with
`conversation_parts`) and `GET /contacts/{id}/companies`. Every request must carry the
bearer token and the expected `Intercom-Version`.

Knobs besides FakeAPI's: `page_size` (caps `per_page`), `inclusive_bounds` (whether
`>`/`<` include the bound: the spec's table says "Greater (or equal) than", other
Intercom pages say strictly), `version` (at 2.16 conversations carry their `company`,
priorities are levels and an unassigned conversation's assignee ids are 0, as that
version's document says). `exchanges` holds every (request, response) pair.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esd.models import Account, Ticket
from fakes.server import FakeAPI, Request, Response

TOKEN = "dG9rOmZha2UtaW50ZXJjb20tdG9rZW4="
DEMO = Path(__file__).resolve().parents[2] / "examples" / "portfolio"
DATE_FIELDS = frozenset({"created_at", "updated_at", "waiting_since", "snoozed_until"})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class IntercomData:
    """Full conversations (list items plus `conversation_parts`), and each contact's
    companies. A conversation's `_company` is served only as a 2.16-style `company`."""

    conversations: list[dict[str, Any]] = field(default_factory=list)
    contact_companies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _hex_id(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:24]


def _html(text: str) -> str:
    """Text as Intercom stores a message: one escaped <p> per sentence."""
    return "".join(f"<p>{html.escape(s)}</p>" for s in _SENTENCE_END.split(text) if s)


def company_of(account: Account, company_id: Callable[[Account], str] = lambda a: a.id
               ) -> dict[str, Any]:
    return {
        "type": "company", "id": _hex_id("company", account.id), "app_id": "esdfake1",
        "company_id": company_id(account), "name": account.name,
        "created_at": 1700000000, "updated_at": 1700000000, "remote_created_at": 1700000000,
        "monthly_spend": int(account.arr // 12), "session_count": 0, "user_count": 1,
        "plan": {}, "custom_attributes": {"crm_account_id": account.id},
        "tags": {"type": "tag.list", "tags": []},
        "segments": {"type": "segment.list", "segments": []},
    }


def intercom_from_portfolio(tickets: Iterable[Ticket], accounts: Iterable[Account], *,
                            subjectless: Collection[str] = (),
                            teammate_started: Callable[[int], bool] = lambda i: i % 4 == 3,
                            company_id: Callable[[Account], str] = lambda a: a.id
                            ) -> IntercomData:
    """One conversation per ticket (id = ticket_id), one contact per account.

    A ticket whose id is in `subjectless` becomes a chat with no subject (absent or
    "", alternately), so its subject comes back as the first line of its body; every
    other ticket keeps its subject, so the round trip is exact. Where
    `teammate_started(i)`, a teammate opened the conversation and the customer's
    message is its first part. A ticket of an account not in `accounts` gets a
    contact with no company.
    """
    by_id = {a.id: a for a in accounts}
    data = IntercomData()
    tag_ids: dict[str, str] = {}
    for i, ticket in enumerate(tickets):
        account = by_id.get(ticket.account_id)
        contact_id = _hex_id("contact", ticket.account_id)
        company = company_of(account, company_id) if account else None
        data.contact_companies[contact_id] = [company] if company else []
        created = int(ticket.opened_at.timestamp())
        customer = {"type": "user", "id": contact_id, "name": "Pat Customer",
                    "email": f"pat@{contact_id[:8]}.example.com"}
        teammate = {"type": "admin", "id": "991267001", "name": "Sam CSM",
                    "email": "sam@lumen.example.com"}
        source: dict[str, Any] = {
            "type": "email", "id": str(403900000 + i), "delivered_as": "customer_initiated",
            "subject": ticket.subject, "body": _html(ticket.body_summary), "author": customer,
            "attachments": [], "url": None, "redacted": False,
        }
        parts: list[dict[str, Any]] = []
        if ticket.ticket_id in subjectless:
            source["type"] = "conversation"
            if i % 2:
                source["subject"] = ""
            else:
                del source["subject"]
        if teammate_started(i):
            source.update(delivered_as="admin_initiated", author=teammate,
                          body="<p>Hi there,</p><p>How is the rollout going?</p>")
            parts = [
                _part(i, 1, customer, _html(ticket.body_summary), created + 60),
                _part(i, 2, teammate, "<p>Thanks, looking into it.</p>", created + 120),
            ]
        data.conversations.append({
            "type": "conversation", "id": ticket.ticket_id or str(900000 + i),
            "title": None, "created_at": created, "updated_at": created + 600,
            "waiting_since": None, "snoozed_until": None, "open": True, "state": "open",
            "read": False, "priority": "not_priority", "admin_assignee_id": None,
            "team_assignee_id": None,
            "tags": {"type": "tag.list", "tags": [
                {"type": "tag", "name": name,
                 "id": tag_ids.setdefault(name, str(123000 + len(tag_ids)))}
                for name in ticket.tags]},
            "source": source,
            "contacts": {"type": "contact.list", "contacts": [
                {"type": "contact", "id": contact_id, "external_id": None}]},
            "custom_attributes": {},
            "conversation_parts": {"type": "conversation_part.list",
                                   "conversation_parts": parts, "total_count": len(parts)},
            "_company": company,
        })
    return data


def _part(i: int, n: int, author: dict[str, Any], body: str, at: int) -> dict[str, Any]:
    return {"type": "conversation_part", "id": str(i * 10 + n), "part_type": "comment",
            "body": body, "created_at": at, "updated_at": at, "notified_at": at,
            "author": author, "attachments": [], "redacted": False}


def demo_data() -> IntercomData:
    """The demo portfolio's tickets and accounts (examples/portfolio)."""
    from esd.connectors.files import load_portfolio

    portfolio = load_portfolio(DEMO)
    return intercom_from_portfolio(portfolio.tickets, portfolio.accounts)


def _error(status: int, code: str, message: str) -> Response:
    return Response(status, {"type": "error.list", "request_id": "b1f2c3d4-0000-4000-8000-"
                             "000000000001", "errors": [{"code": code, "message": message}]},
                    {"X-Request-Id": "b1f2c3d4-0000-4000-8000-000000000001"})


class _BadQuery(ValueError):
    pass


class FakeIntercom(FakeAPI):
    def __init__(self, data: IntercomData | None = None, token: str = TOKEN,
                 version: str = "2.14") -> None:
        super().__init__("intercom")
        self.data = data or IntercomData()
        self.token, self.version = token, version
        self.exchanges: list[tuple[Request, Response]] = []
        self.reset()
        self.route("POST", "/conversations/search")(self._search)
        self.route("GET", "/conversations/{conversation_id}")(self._conversation)
        self.route("GET", "/contacts/{contact_id}/companies")(self._companies)

    def reset(self) -> None:
        super().reset()
        self.exchanges = []
        self.page_size = 150
        self.inclusive_bounds = True

    def handle(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            response = _error(401, "unauthorized", "Access Token Invalid")
        elif request.headers.get("intercom-version") != self.version:
            response = _error(400, "intercom_version_invalid",
                              f"expected Intercom-Version {self.version}")
        else:
            response = None
        if response is None:
            response = super().handle(request)
        else:
            with self._lock:
                self.log.append(request)
        self.exchanges.append((request, response))
        return response

    def _served(self, conversation: dict[str, Any], parts: bool) -> dict[str, Any]:
        out = {k: v for k, v in conversation.items()
               if not k.startswith("_") and (parts or k != "conversation_parts")}
        if tuple(map(int, self.version.split("."))) >= (2, 16):
            out.update(company=conversation["_company"], priority="none",
                       admin_assignee_id=out["admin_assignee_id"] or 0,
                       team_assignee_id=out["team_assignee_id"] or 0)
        return out

    def _search(self, request: Request, params: dict[str, str]) -> Response:
        body = request.body if isinstance(request.body, dict) else {}
        if "query" not in body:
            return _error(400, "parameter_not_found", "query is required")
        try:
            found = [c for c in self.data.conversations if self._matches(c, body["query"])]
        except _BadQuery as exc:
            return _error(400, "query_invalid", str(exc))
        found.sort(key=lambda c: (c["created_at"], c["id"]))
        paging = body.get("pagination") or {}
        per_page = min(int(paging.get("per_page") or 20), 150, self.page_size)
        signature = hashlib.sha1(json.dumps(body["query"], sort_keys=True).encode())
        offset = 0
        if paging.get("starting_after"):
            try:
                raw_offset, sig = base64.b64decode(paging["starting_after"]).decode().split(":")
                offset = int(raw_offset)
            except ValueError:
                return _error(400, "cursor_invalid", "starting_after is not a cursor")
            if sig != signature.hexdigest()[:12]:
                return _error(400, "cursor_invalid", "the query changed between pages")
        page = found[offset:offset + per_page]
        pages: dict[str, Any] = {"type": "pages", "page": offset // per_page + 1,
                                 "per_page": per_page,
                                 "total_pages": math.ceil(len(found) / per_page)}
        if offset + per_page < len(found):
            cursor = f"{offset + per_page}:{signature.hexdigest()[:12]}"
            pages["next"] = {"per_page": per_page,
                             "starting_after": base64.b64encode(cursor.encode()).decode()}
        return Response(200, {"type": "conversation.list", "pages": pages,
                              "total_count": len(found),
                              "conversations": [self._served(c, False) for c in page]})

    def _matches(self, conversation: dict[str, Any], query: dict[str, Any]) -> bool:
        if query.get("operator") in ("AND", "OR"):
            items = query.get("value")
            if not isinstance(items, list) or not 1 <= len(items) <= 15:
                raise _BadQuery("a group needs 1 to 15 filters")
            combine = all if query["operator"] == "AND" else any
            return combine([self._matches(conversation, q) for q in items])
        name, op, want = query.get("field"), query.get("operator"), query.get("value")
        if not isinstance(name, str):
            raise _BadQuery(f"bad filter {query!r}")
        got: Any = conversation
        for part in name.split("."):
            got = got.get(part) if isinstance(got, dict) else None
        # Date fields take only =, < and > with a Unix timestamp (api-notes §4).
        if name in DATE_FIELDS and (op not in ("=", "<", ">") or isinstance(want, bool)
                                    or not isinstance(want, int)):
            raise _BadQuery(f"{name} accepts only =, < or > with a Unix timestamp")
        if op == "=":
            return got == want
        if op == "!=":
            return got != want
        if op in ("IN", "NIN"):
            return (got in want) == (op == "IN")
        if op in ("<", ">"):
            if got is None:
                return False
            if got == want:
                return self.inclusive_bounds
            return got < want if op == "<" else got > want
        raise _BadQuery(f"operator {op!r} is not supported by this fake")

    def _conversation(self, request: Request, params: dict[str, str]) -> Response:
        for conversation in self.data.conversations:
            if conversation["id"] == params["conversation_id"]:
                return Response(200, self._served(conversation, True))
        return _error(404, "conversation_not_found", "Conversation Not Found")

    def _companies(self, request: Request, params: dict[str, str]) -> Response:
        companies = self.data.contact_companies.get(params["contact_id"])
        if companies is None:
            return _error(404, "not_found", "User Not Found")
        return Response(200, {"type": "list", "data": companies, "total_count": len(companies),
                              "pages": {"type": "pages", "next": None, "page": 1,
                                        "per_page": 50, "total_pages": 1}})
