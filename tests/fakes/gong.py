"""A fake Gong API v2 (../shared/api-notes.md §1) built from esd input records.

Serves POST /v2/calls/extensive and POST /v2/calls/transcript in Gong's wire format
(the shapes of ../shared/api-specs/gong/gong-api-v2-openapi.json): Basic auth, the
date filter (from inclusive, to exclusive, on the call's start), `callIds` and
`workspaceId` filters, `records.cursor` pagination (`fake.page_size`; a cursor is only
valid with the identical request), and 404 with Gong's error body for an empty range.

    fake = GongFake(gong_from_portfolio(calls, accounts))   # or GongFake.portfolio()
    with serving(fake): ...   # fake.url is the base URL inside the block

`fake.exchanges` keeps every (request, response) pair so tests can check both against
the OpenAPI document.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from esd.extractors.formats import read_segments
from esd.extractors.transcript import Speakers
from esd.models import Attendee
from fakes.server import FakeAPI, Request, Response

PORTFOLIO = Path(__file__).resolve().parents[2] / "examples" / "portfolio"
ACCESS_KEY = "gong-access-key-1234"
ACCESS_KEY_SECRET = "gong-secret-5678"
WORKSPACE_ID = "623457276584334"
CRM_SYSTEM = "Salesforce"
PAGE_SIZE = 100
MS_PER_WORD, GAP_MS = 380, 700
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class GongData:
    """What the fake serves: CallData records with the full ("Extended") context, and
    each call's monologues by call id (calls without a transcript are absent)."""

    calls: list[dict] = field(default_factory=list)
    transcripts: dict[str, list[dict]] = field(default_factory=dict)


def gong_from_portfolio(calls: list[dict], accounts: list[dict]) -> GongData:
    """Contract-§2 call records as Gong calls: parties from attendees (customers are
    External), the account as a Salesforce Account object, and monologues from
    `transcript` or `transcript_text` (`transcript_url`-only calls get none)."""
    names = {a["id"]: a["name"] for a in accounts}
    data = GongData()
    for n, rec in enumerate(calls):
        call_id = rec["call_id"]
        parties, by_name = [], {}
        for i, att in enumerate(rec.get("attendees") or []):
            party = {"id": _digits(call_id, "party", i), "name": att["name"],
                     "affiliation": "External" if att.get("is_customer") else "Internal",
                     "methods": ["Invitee"]}
            if att.get("email"):
                party["emailAddress"] = att["email"]
            if att.get("title") or att.get("role"):
                party["title"] = att.get("title") or att.get("role")
            if not att.get("is_customer"):
                party["userId"] = _digits(att["name"], "user")
            parties.append(party)
            by_name[att["name"].strip().lower()] = party
        turns = _turns(rec)
        monologues, speaker_ids, clock = [], {}, 2000
        for speaker, text, start_ms in turns:
            key = speaker.strip().lower() if speaker else ""
            if key not in speaker_ids:
                speaker_ids[key] = _digits(call_id, "speaker", key)
                if key in by_name:  # speakers who are not parties keep an orphan id
                    by_name[key]["speakerId"] = speaker_ids[key]
            sentences, clock = _sentences(text, start_ms if start_ms is not None else clock)
            monologues.append({"speakerId": speaker_ids[key], "sentences": sentences})
        if monologues:
            data.transcripts[call_id] = monologues
        account_id = rec["account_id"]
        internal = [p for p in parties if p["affiliation"] == "Internal"]
        meta = {
            "id": call_id, "url": rec.get("url") or rec.get("transcript_url")
            or f"https://app.gong.io/call?id={call_id}",
            "title": rec.get("title") or "Call", "scheduled": rec["occurred_at"],
            "started": rec["occurred_at"], "duration": max(60, clock // 1000),
            "direction": "Conference", "system": "Zoom",
            "scope": "External" if any(p["affiliation"] == "External" for p in parties)
            else "Internal",
            "media": "Video", "language": "eng", "workspaceId": WORKSPACE_ID,
            "isPrivate": False,
        }
        if internal:
            meta["primaryUserId"] = internal[0]["userId"]
        data.calls.append({"metaData": meta, "parties": parties, "context": [{
            "system": CRM_SYSTEM, "objects": [
                {"objectType": "Opportunity", "objectId": f"0065e{n:013d}",
                 "fields": [{"name": "Name", "value": "Renewal"}], "timing": "Now"},
                {"objectType": "Account", "objectId": account_id,
                 "fields": [{"name": "Name", "value": names.get(account_id, "")}],
                 "timing": "Now"}]}]})
    return data


def load_portfolio() -> GongData:
    """The demo portfolio (examples/portfolio) as Gong data."""
    calls = json.loads((PORTFOLIO / "calls.json").read_text())
    accounts = json.loads((PORTFOLIO / "accounts.json").read_text())
    return gong_from_portfolio(calls, accounts)


def _turns(rec: dict) -> list[tuple[str | None, str, int | None]]:
    # Contract §2's line rule and speaker matching: a label that matches an attendee
    # becomes that attendee's party; any other speaker gets none, as in Gong.
    speakers = Speakers([Attendee.model_validate_json(json.dumps(a))
                         for a in rec.get("attendees") or []])
    if rec.get("transcript") is not None:
        return [(_name(speakers, u["speaker"]), u["text"], u.get("start_ms"))
                for u in rec["transcript"]]
    if not rec.get("transcript_text"):
        return []
    out = []
    for seg in read_segments(rec["transcript_text"], speakers.names):
        out.append((_name(speakers, seg.label), seg.text, None))
    return out


def _name(speakers: Speakers, label: str | None) -> str | None:
    found = speakers.match(label)
    return found.name if found else label


def _sentences(text: str, start: int) -> tuple[list[dict], int]:
    out = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        if sentence:
            end = start + MS_PER_WORD * len(sentence.split())
            out.append({"start": start, "end": end, "text": sentence})
            start = end + 200
    return out, start + GAP_MS


def _digits(*parts: Any) -> str:
    # Gong ids are numeric strings of up to 20 digits; stable per input.
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()
    return str(int(digest[:15], 16))


def _error(status: int, message: str) -> Response:
    return Response(status, {"requestId": "fake-" + str(status), "errors": [message]})


class GongFake(FakeAPI):
    """Gong's two call endpoints over `data`; `page_size` is a per-test knob."""

    def __init__(self, data: GongData, access_key: str = ACCESS_KEY,
                 access_key_secret: str = ACCESS_KEY_SECRET) -> None:
        super().__init__("gong")
        self.data = data
        self.page_size = PAGE_SIZE
        self.exchanges: list[tuple[Request, Response]] = []
        token = base64.b64encode(f"{access_key}:{access_key_secret}".encode()).decode()
        self._authorization = f"Basic {token}"
        self.route("POST", "/v2/calls/extensive")(self._extensive)
        self.route("POST", "/v2/calls/transcript")(self._transcript)

    @classmethod
    def portfolio(cls) -> GongFake:
        return cls(load_portfolio())

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.exchanges.clear()
        self.page_size = PAGE_SIZE

    def fail_next(self, path: str, status: int, times: int = 1,
                  headers: dict[str, str] | None = None, body: Any = None) -> None:
        """As FakeAPI.fail_next, with Gong's error body by default."""
        super().fail_next(path, status, times, headers,
                          body if body is not None else _error(status, "injected").body)

    def handle(self, request: Request) -> Response:
        if request.headers.get("authorization") != self._authorization:
            with self._lock:  # Gong checks the credentials before anything else
                self.log.append(request)
            response = _error(401, "Access denied")
        else:
            response = super().handle(request)
        with self._lock:
            self.exchanges.append((request, response))
        return response

    def _extensive(self, request: Request, params: dict) -> Response:
        def shape(call: dict) -> dict:
            out = {"metaData": call["metaData"]}
            if exposed.get("parties"):
                out["parties"] = call["parties"]
            if context in ("Basic", "Extended"):
                out["context"] = [{**c, "objects": [
                    o if context == "Extended" else
                    {"objectType": o["objectType"], "objectId": o["objectId"]}
                    for o in c["objects"]]} for c in call["context"]]
            return out

        selector = (request.body or {}).get("contentSelector") or {}
        context, exposed = selector.get("context", "None"), selector.get("exposedFields") or {}
        return self._page(request, "calls", lambda calls: [shape(c) for c in calls])

    def _transcript(self, request: Request, params: dict) -> Response:
        known = self.data.transcripts
        return self._page(request, "callTranscripts", lambda calls: [
            {"callId": c["metaData"]["id"], "transcript": known[c["metaData"]["id"]]}
            for c in calls], only=lambda c: c["metaData"]["id"] in known)

    def _page(self, request: Request, key: str, render, only=lambda c: True) -> Response:
        body = request.body if isinstance(request.body, dict) else {}
        flt = body.get("filter")
        if not isinstance(flt, dict):
            return _error(400, "filter is required")
        try:
            start, end = (_when(flt.get(k)) for k in ("fromDateTime", "toDateTime"))
        except ValueError:
            return _error(400, "fromDateTime/toDateTime must be ISO-8601")
        ids = set(flt["callIds"]) if flt.get("callIds") is not None else None
        calls = [c for c in self.data.calls if only(c)
                 and (ids is None or c["metaData"]["id"] in ids)
                 and (not flt.get("workspaceId")
                      or c["metaData"]["workspaceId"] == flt["workspaceId"])
                 and (start is None or _when(c["metaData"]["started"]) >= start)
                 and (end is None or _when(c["metaData"]["started"]) < end)]
        query = hashlib.sha256(json.dumps({k: v for k, v in body.items() if k != "cursor"},
                                          sort_keys=True).encode()).hexdigest()[:16]
        offset = 0
        if body.get("cursor"):
            try:
                state = json.loads(base64.urlsafe_b64decode(body["cursor"]))
            except ValueError:
                return _error(400, "Invalid cursor")
            if state.get("q") != query:  # Gong: all other inputs must stay the same
                return _error(400, "The cursor does not match the request")
            offset = state["o"]
        if not calls:
            return _error(404, "No calls found corresponding to the provided filters")
        chunk = calls[offset:offset + self.page_size]
        records = {"totalRecords": len(calls), "currentPageSize": len(chunk),
                   "currentPageNumber": offset // self.page_size}
        if offset + self.page_size < len(calls):
            records["cursor"] = base64.urlsafe_b64encode(json.dumps(
                {"o": offset + self.page_size, "q": query}).encode()).decode()
        return Response(200, {"requestId": "fake-req", "records": records,
                              key: render(chunk)})


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("no offset")
    return moment
