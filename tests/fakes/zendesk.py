"""A fake Zendesk Support: the incremental cursor ticket export with sideloaded
organizations (../shared/api-notes.md §3), data built from esd input records.

    api = FakeZendesk(zendesk_from_portfolio(tickets, accounts), page_size=10)
    with serving(api): ...   # api.url is the base URL inside the block

Auth: Basic `{EMAIL}/token:{API_TOKEN}` or `Bearer {OAUTH_TOKEN}`, else 401.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from esd.connectors.files import load_portfolio
from esd.models import Account, Ticket
from fakes.server import FakeAPI, Request, Response

EMAIL = "ops@lumen.example.com"
API_TOKEN = "zd-api-token-7f3a9c"
OAUTH_TOKEN = "zd-oauth-token-51be02"
EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
DEMO = Path(__file__).resolve().parents[2] / "examples" / "portfolio"
# The demo week (2026-11-16 .. 11-23) and the day before it, which a pull of the week
# must skip; the demo's older weeks (examples/tools/make_past_weeks.py) are left out.
DEMO_SINCE = datetime(2026, 11, 15, tzinfo=UTC)
ORG_BASE, UNMAPPED_ORG = 360000, 999001


@dataclass
class ZendeskData:
    """Raw tickets (in export order: by generated_timestamp) and organizations."""

    tickets: list[dict[str, Any]] = field(default_factory=list)
    organizations: list[dict[str, Any]] = field(default_factory=list)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zendesk_from_portfolio(tickets: list[Ticket], accounts: list[Account],
                           unmapped: bool = True) -> ZendeskData:
    """Zendesk's view of esd records: one organization per account (`external_id` = the
    account id, a domain, an `crm_account_id` field), one ticket per record.

    Every other ticket was last changed six days after it opened (so tickets from before
    a window come back from an export that starts inside it), and the middle ticket is
    exported twice, as the export does for a ticket changed again (the older version
    first). With `unmapped`, two
    tickets map to no account: one of an organization without an external id, one
    with no organization at all.
    """
    orgs = {}
    for i, account in enumerate(accounts):
        orgs[account.id] = {
            "id": ORG_BASE + i, "name": account.name, "external_id": account.id,
            "domain_names": [f"{account.id.lower()}.example.com"],
            "organization_fields": {"crm_account_id": account.id, "segment": account.segment},
            "tags": [account.segment], "created_at": "2024-01-02T03:04:05Z",
        }
    raw = []
    for i, ticket in enumerate(tickets):
        number = int(ticket.ticket_id) if (ticket.ticket_id or "").isdigit() else 70000 + i
        changed = ticket.opened_at + (timedelta(days=6) if i % 2 == 0 else timedelta(hours=1))
        raw.append(_ticket(number, ticket.subject, ticket.body_summary, ticket.tags,
                           ticket.opened_at, changed, orgs[ticket.account_id]["id"]))
    if unmapped and tickets:
        opened = tickets[len(tickets) // 2].opened_at
        orgs["(none)"] = {"id": UNMAPPED_ORG, "name": "Walk-in Customers", "external_id": None,
                          "domain_names": [], "organization_fields": {}}
        raw.append(_ticket(90001, "Invoice copy", "Please resend the invoice.", ["billing"],
                           opened, opened, UNMAPPED_ORG))
        raw.append(_ticket(90002, "Hello", "Who do I talk to about pricing?", [],
                           opened, opened, None))
    if tickets:  # the middle ticket also comes as it was before its last change
        edited = raw[len(tickets) // 2]
        raw.append(dict(edited, subject="(before an edit) " + edited["subject"],
                        generated_timestamp=edited["generated_timestamp"] - 1))
    raw.sort(key=lambda t: t["generated_timestamp"])
    return ZendeskData(raw, list(orgs.values()))


def _ticket(number: int, subject: str, body: str, tags: list[str], opened: datetime,
            changed: datetime, org_id: int | None) -> dict[str, Any]:
    return {
        "id": number, "url": f"https://lumen.zendesk.com/api/v2/tickets/{number}.json",
        "external_id": None, "type": "question", "subject": subject, "raw_subject": subject,
        "description": f"<p>{html.escape(body)}</p>\n", "priority": "normal",
        "status": "open", "requester_id": 20000 + number, "submitter_id": 20000 + number,
        "assignee_id": 235323, "organization_id": org_id, "group_id": 1, "tags": list(tags),
        "custom_fields": [{"id": 27642, "value": None}], "via": {"channel": "email"},
        "created_at": _iso(opened), "updated_at": _iso(changed),
        "generated_timestamp": int(changed.timestamp()),
    }


def demo_data() -> ZendeskData:
    """The demo portfolio (examples/portfolio) as Zendesk serves it."""
    portfolio = load_portfolio(DEMO)
    tickets = [t for t in portfolio.tickets if t.opened_at >= DEMO_SINCE]
    return zendesk_from_portfolio(tickets, portfolio.accounts)


class FakeZendesk(FakeAPI):
    """The export endpoint over `data`, `page_size` tickets a page (knobs reset)."""

    def __init__(self, data: ZendeskData | None = None, page_size: int = 10) -> None:
        super().__init__("Zendesk")
        self.data = data or ZendeskData()
        self.default_page_size = self.page_size = page_size
        self.route("GET", EXPORT_PATH)(self._export)

    def reset(self) -> None:
        super().reset()
        self.page_size = self.default_page_size

    def authorized(self, request: Request) -> bool:
        basic = base64.b64encode(f"{EMAIL}/token:{API_TOKEN}".encode()).decode()
        return request.headers.get("authorization") in (f"Basic {basic}",
                                                         f"Bearer {OAUTH_TOKEN}")

    def _export(self, request: Request, params: dict[str, str]) -> Response:
        if not self.authorized(request):
            return Response(401, {"error": "Couldn't authenticate you"},
                            {"X-Zendesk-Request-Id": "zd-req-401"})
        cursor = request.arg("cursor")
        if cursor:
            start, offset = json.loads(base64.urlsafe_b64decode(cursor))
        elif request.arg("start_time", "").isdigit():
            start, offset = int(request.arg("start_time")), 0
        else:
            return Response(400, {"error": "InvalidPaginationParameter",
                                  "description": "start_time or cursor is required"})
        size = min(int(request.arg("per_page") or 1000), 1000, self.page_size)
        matching = [t for t in self.data.tickets if t["generated_timestamp"] >= start]
        page = matching[offset:offset + size]
        done = offset + size >= len(matching)
        after = base64.urlsafe_b64encode(json.dumps([start, offset + size]).encode()).decode()
        body: dict[str, Any] = {
            "tickets": page,
            "after_url": f"{self.url}{EXPORT_PATH}?cursor={after}",
            "after_cursor": after, "before_url": None, "before_cursor": None,
            "end_of_stream": done,
        }
        if "organizations" in (request.arg("include") or "").split(","):
            wanted = {t["organization_id"] for t in page}
            body["organizations"] = [o for o in self.data.organizations if o["id"] in wanted]
        return Response(200, body)
