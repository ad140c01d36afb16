"""A fake Help Scout Mailbox API 2.0 (../shared/api-notes.md §5): the client-credentials
token endpoint, HAL-paged conversations with embedded threads, threads, customers and
organizations, data built from esd input records.

    api = FakeHelpScout(helpscout_from_portfolio(tickets, accounts), page_size=10)
    with serving(api): ...   # api.url is the base URL inside the block

Only tokens issued by `POST /v2/oauth2/token` (for APP_ID / APP_SECRET) are accepted.
"""

from __future__ import annotations

import html
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from esd.connectors.files import load_portfolio
from esd.models import Account, Ticket
from fakes.server import FakeAPI, Request, Response

APP_ID = "hs-app-id-42"
APP_SECRET = "hs-app-secret-9d1e77"
TOKEN_PATH = "/v2/oauth2/token"
CONVERSATIONS_PATH = "/v2/conversations"
DEMO = Path(__file__).resolve().parents[2] / "examples" / "portfolio"
# The demo week (2026-11-16 .. 11-23) and the day before it, which a pull of the week
# must skip; the demo's older weeks (examples/tools/make_past_weeks.py) are left out.
DEMO_SINCE = datetime(2026, 11, 15, tzinfo=UTC)
CHAT_EMBED_CHARS = 40  # embedded chat threads are cut short, as Help Scout does
STATUSES = ("closed", "active", "pending")


@dataclass
class HelpScoutData:
    """Conversations (each with all its threads, oldest first, and a hidden
    `_modifiedAt`), customers and organizations by id."""

    conversations: list[dict[str, Any]] = field(default_factory=list)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    organizations: dict[int, dict[str, Any]] = field(default_factory=dict)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def helpscout_from_portfolio(tickets: list[Ticket], accounts: list[Account],
                             unmapped: bool = True) -> HelpScoutData:
    """Help Scout's view of esd records: one organization per account (property
    `account-id`), one customer and one conversation per ticket.

    Even-numbered conversations carry the custom field `Account ID`; odd ones only
    reach their account through customer -> organization. Each has an HTML customer
    thread (the body), an agent reply and a later customer follow-up; every seventh is
    a chat. Statuses rotate through closed/active/pending; every other conversation
    was last modified six days after it opened. With `unmapped`, two conversations
    map to no account: one whose organization has no `account-id`, one whose customer
    has no organization.
    """
    data = HelpScoutData()
    org_of: dict[str, int] = {}
    for i, account in enumerate(accounts):
        org_id = 5000 + i
        org_of[account.id] = org_id
        data.organizations[org_id] = {
            "id": org_id, "name": account.name, "website": f"www.{org_id}.example.com",
            "domains": [f"{org_id}.example.com"], "properties": [
                {"definitionId": 1001, "slug": "account-id", "name": "Account ID",
                 "type": "text", "value": account.id},
                {"definitionId": 1002, "slug": "segment", "name": "Segment",
                 "type": "text", "value": account.segment}]}
    for i, ticket in enumerate(tickets):
        number = int(ticket.ticket_id) if (ticket.ticket_id or "").isdigit() else 70000 + i
        org_id = org_of[ticket.account_id]
        fields = [{"id": 6688, "name": "Account Type", "value": "33077", "text": "Paid"}]
        if i % 2 == 0:
            fields.append({"id": 6690, "name": "Account ID", "value": ticket.account_id,
                           "text": ticket.account_id})
        modified = ticket.opened_at + (timedelta(days=6) if i % 2 == 0 else timedelta(hours=3))
        data.conversations.append(_conversation(
            data, number, i, ticket.subject, ticket.body_summary, ticket.tags,
            ticket.opened_at, modified, org_id, fields, chat=i % 7 == 3))
    if unmapped and tickets:
        opened = tickets[len(tickets) // 2].opened_at
        data.organizations[9001] = {"id": 9001, "name": "Walk-in", "properties": [
            {"slug": "segment", "name": "Segment", "type": "text", "value": "smb"}]}
        data.conversations.append(_conversation(
            data, 90001, 90001, "Invoice copy", "Please resend the invoice.", ["billing"],
            opened, opened, 9001, []))
        data.conversations.append(_conversation(
            data, 90002, 90002, "Hello", "Who do I talk to about pricing?", [],
            opened, opened, None, []))
    return data


def _conversation(data: HelpScoutData, number: int, i: int, subject: str, body: str,
                  tags: list[str], opened: datetime, modified: datetime, org_id: int | None,
                  fields: list[dict], chat: bool = False) -> dict[str, Any]:
    customer_id = 200000 + number
    data.customers[customer_id] = {
        "id": customer_id, "firstName": "Pat", "lastName": f"Customer {number}",
        "organization": None, "organizationId": org_id,
        "createdAt": "2025-01-01T00:00:00Z"}
    kind = "chat" if chat else "customer"
    author = {"id": customer_id, "type": "customer", "email": f"pat{number}@example.com"}
    agent = {"id": 256, "type": "user", "email": "agent@lumen.example.com"}
    threads = [
        {"id": number * 10 + 1, "type": kind, "state": "published", "createdBy": author,
         "body": f"<div><p>{html.escape(body)}</p>\n<br></div>", "createdAt": _iso(opened)},
        {"id": number * 10 + 2, "type": "chat" if chat else "message", "state": "published",
         "createdBy": agent, "body": "<p>Thanks, we are looking into it.</p>",
         "createdAt": _iso(opened + timedelta(hours=1))},
        {"id": number * 10 + 3, "type": kind, "state": "published", "createdBy": author,
         "body": "<p>Any update on this?</p>", "createdAt": _iso(opened + timedelta(hours=2))},
    ]
    return {
        "id": number, "number": 15000 + i, "threads": len(threads),
        "type": "chat" if chat else "email", "folderId": 493,
        "status": STATUSES[i % len(STATUSES)], "state": "published", "subject": subject,
        "preview": body[:60], "mailboxId": 85, "createdBy": author,
        "createdAt": _iso(opened), "userUpdatedAt": _iso(modified),
        "source": {"type": "chat" if chat else "email", "via": "customer"},
        "tags": [{"id": 9000 + n, "color": "#929499", "tag": tag} for n, tag in enumerate(tags)],
        "cc": [], "bcc": [], "primaryCustomer": {"id": customer_id}, "customFields": fields,
        "_threads": threads, "_modifiedAt": modified,
    }


def demo_data() -> HelpScoutData:
    """The demo portfolio (examples/portfolio) as Help Scout serves it."""
    portfolio = load_portfolio(DEMO)
    tickets = [t for t in portfolio.tickets if t.opened_at >= DEMO_SINCE]
    return helpscout_from_portfolio(tickets, portfolio.accounts)


class FakeHelpScout(FakeAPI):
    """Help Scout over `data`, `page_size` conversations a page (knobs reset)."""

    def __init__(self, data: HelpScoutData | None = None, page_size: int = 10) -> None:
        super().__init__("Help Scout")
        self.data = data or HelpScoutData()
        self.default_page_size = self.page_size = page_size
        self.tokens: set[str] = set()
        self._serial = itertools.count(1)
        self.route("POST", TOKEN_PATH)(self._token)
        for path, handler in ((CONVERSATIONS_PATH, self._conversations),
                              ("/v2/conversations/{id}/threads", self._threads),
                              ("/v2/customers/{id}", self._customer),
                              ("/v2/organizations/{id}", self._organization)):
            self.route("GET", path)(self._signed_in(handler))

    def reset(self) -> None:
        super().reset()
        self.page_size = self.default_page_size

    def _signed_in(self, handler):
        def checked(request: Request, params: dict[str, str]) -> Response:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self.tokens:
                return Response(401, {"error": "invalid_token", "message": "Not authorized"},
                                {"Correlation-Id": "hs-corr-401"})
            return handler(request, params)
        return checked

    def _token(self, request: Request, params: dict[str, str]) -> Response:
        # JSON, form or query parameters are all accepted.
        body = request.body if isinstance(request.body, dict) else {
            k: v[0] for k, v in parse_qs(request.body or "").items()}
        args = {**{k: v[0] for k, v in request.query.items()}, **body}
        if args.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type"})
        if (args.get("client_id"), args.get("client_secret")) != (APP_ID, APP_SECRET):
            return Response(401, {"error": "invalid_client"}, {"Correlation-Id": "hs-corr-1"})
        token = f"hs-access-{next(self._serial)}"
        self.tokens.add(token)
        return Response(200, {"token_type": "bearer", "access_token": token,
                              "expires_in": 172800})

    def _conversations(self, request: Request, params: dict[str, str]) -> Response:
        found = self.data.conversations
        status = request.arg("status", "active")
        if status != "all":
            found = [c for c in found if c["status"] == status]
        since = request.arg("modifiedSince")
        if since:
            moment = datetime.fromisoformat(since)
            found = [c for c in found if c["_modifiedAt"] > moment]
        field_name = request.arg("sortField", "createdAt")
        found = sorted(found, key=lambda c: (c.get(field_name) or "", c["id"]),
                       reverse=request.arg("sortOrder", "desc") == "desc")
        embed = request.arg("embed") == "threads"
        return self._page(request, CONVERSATIONS_PATH, "conversations",
                          [self._public(c, embed) for c in found], self.page_size)

    def _threads(self, request: Request, params: dict[str, str]) -> Response:
        conv = next((c for c in self.data.conversations if str(c["id"]) == params["id"]), None)
        if conv is None:
            return Response(404, {"message": "Conversation not found"})
        return self._page(request, request.path, "threads", conv["_threads"][::-1], 50)

    def _customer(self, request: Request, params: dict[str, str]) -> Response:
        customer = self.data.customers.get(int(params["id"]))
        return Response(200, customer) if customer else Response(404, {"message": "Not found"})

    def _organization(self, request: Request, params: dict[str, str]) -> Response:
        org = self.data.organizations.get(int(params["id"]))
        if not org:
            return Response(404, {"message": "Not found"})
        if request.arg("includeProperties") != "true":
            org = {k: v for k, v in org.items() if k != "properties"}
        return Response(200, org)

    @staticmethod
    def _public(conv: dict[str, Any], embed: bool) -> dict[str, Any]:
        shown = {k: v for k, v in conv.items() if not k.startswith("_")}
        if embed:  # newest first; chat bodies truncated
            threads = [dict(t, body=t["body"][:CHAT_EMBED_CHARS]) if t["type"] == "chat" else t
                       for t in conv["_threads"][::-1]]
            shown["_embedded"] = {"threads": threads}
        return shown

    def _page(self, request: Request, path: str, key: str, items: list, size: int) -> Response:
        number = int(request.arg("page") or 1)
        pages = -(-len(items) // size)
        body: dict[str, Any] = {
            "page": {"size": size, "totalElements": len(items), "totalPages": pages,
                     "number": number},
            "_links": {"self": {"href": f"{self.url}{path}?page={number}"}},
        }
        chunk = items[(number - 1) * size:number * size]
        if chunk:  # `_embedded` is left out when there are no results
            body["_embedded"] = {key: chunk}
        return Response(200, body)
