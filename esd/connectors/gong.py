"""Gong API v2: the window's calls, their parties and CRM account, and transcripts.

Two read-only POSTs (../shared/api-notes.md §1): `/v2/calls/extensive` lists the calls
of the window with their parties and CRM context; `/v2/calls/transcript` returns the
monologues of up to `transcript_batch` calls per request. Both page with
`records.cursor` (repeat the identical body plus the cursor) and answer 404 for an empty
range. Retries, 429 waits and the 3 requests/s limit live in `esd.connectors.http`.

A call's account is the `objectId` of the CRM object of type `account_object` in its
context (contract §8); calls with no such object, or one esd does not know, are dropped
and counted in `Pulled.unmapped`, never guessed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr, ValidationError, field_validator

from esd.config import Section, load_section
from esd.connectors.base import Pulled, secret
from esd.connectors.http import RateLimiter, Source, make_client
from esd.errors import InputError
from esd.format import parse_time, utc_z
from esd.models import Attendee, Call, Utterance, Window
from esd.paging import follow_cursor

SYSTEM = "Gong"
DEFAULT_BASE_URL = "https://api.gong.io"
CALLS_PATH = "/v2/calls/extensive"
TRANSCRIPT_PATH = "/v2/calls/transcript"
EMPTY_STATUSES = frozenset({404})  # Gong: "No calls found for the specified period"
CUSTOMER_AFFILIATION = "External"  # Party.affiliation: Internal | External | Unknown
UNKNOWN_SPEAKER = "Unknown speaker"  # a speakerId with no party: never a customer
# "Basic" context carries the CRM object ids, all esd reads; "Extended" adds field values.
CONTENT_SELECTOR = {"context": "Basic", "exposedFields": {"parties": True}}
# Every list answer pages with records.cursor: repeat the identical body plus the cursor.
NEXT_PAGE = follow_cursor(("records", "cursor"), "cursor")

log = logging.getLogger("esd.gong")


class GongConfig(Section):
    """Where Gong lives, how to sign in, and how a call maps to an account."""

    SECTION: ClassVar[str] = "gong"
    ENV: ClassVar[Mapping[str, str]] = {
        "base_url": "GONG_BASE_URL", "workspace_id": "GONG_WORKSPACE_ID",
        "account_object": "GONG_ACCOUNT_OBJECT", "crm_system": "GONG_CRM_SYSTEM"}
    SECRETS: ClassVar[frozenset[str]] = frozenset({"access_key", "access_key_secret"})

    base_url: str = DEFAULT_BASE_URL
    access_key: SecretStr
    access_key_secret: SecretStr
    workspace_id: str | None = None
    account_object: str = "Account"  # CRM object type whose objectId is the account id
    crm_system: str | None = None  # "Salesforce", "HubSpot", ...; None: any system
    requests_per_second: float = Field(3.0, gt=0)
    transcript_batch: int = Field(100, ge=1)  # call ids per transcript request

    @field_validator("workspace_id", "account_object", "crm_system", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        # a workspace id written as a toml number is fine
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @classmethod
    def from_env(cls, env: Mapping[str, str], section: Mapping[str, Any]) -> GongConfig:
        """Credentials from the environment; settings from env, else esd.toml `[gong]`."""
        key, key_secret = _credentials(env)
        return load_section(cls, section, env, access_key=key, access_key_secret=key_secret)


def _credentials(env: Mapping[str, str]) -> tuple[SecretStr, SecretStr]:
    # GONG_ACCESS_KEY + GONG_ACCESS_KEY_SECRET, or GONG_API_KEY as "key:secret" (§8).
    pair = env.get("GONG_ACCESS_KEY") or env.get("GONG_ACCESS_KEY_SECRET")
    if pair or not env.get("GONG_API_KEY"):
        if not pair:
            raise InputError("Gong: environment variables GONG_ACCESS_KEY and "
                             "GONG_ACCESS_KEY_SECRET are not set, nor GONG_API_KEY as "
                             "key:secret (see .env.example)")
        return secret(env, "GONG_ACCESS_KEY", SYSTEM), secret(env, "GONG_ACCESS_KEY_SECRET", SYSTEM)
    key, sep, key_secret = env["GONG_API_KEY"].partition(":")
    if not (sep and key and key_secret):
        raise InputError("Gong: GONG_API_KEY must be the access key and its secret "
                         "joined by a colon (key:secret)")
    return SecretStr(key), SecretStr(key_secret)


def open_source(cfg: GongConfig) -> Source:
    """A Source for Gong: Basic auth, the two query POSTs, 3 requests/s, 404 = empty."""
    auth = httpx.BasicAuth(cfg.access_key.get_secret_value(),
                           cfg.access_key_secret.get_secret_value())
    return Source(SYSTEM, make_client(cfg.base_url, auth),
                  query_paths={CALLS_PATH, TRANSCRIPT_PATH},
                  rate_limiter=RateLimiter(cfg.requests_per_second),
                  empty_statuses=EMPTY_STATUSES)


def fetch_calls(source: Source, cfg: GongConfig, window: Window,
                known_accounts: set[str]) -> Pulled[Call]:
    """The calls that started in `window` on known accounts, with their transcripts."""
    # Gong's filter is to the second: ask for whole seconds around the window, trim here.
    end = window.end + (timedelta(seconds=1) if window.end.microsecond else timedelta())
    flt: dict[str, Any] = {"fromDateTime": utc_z(window.start), "toDateTime": utc_z(end)}
    if cfg.workspace_id:
        flt["workspaceId"] = cfg.workspace_id
    pulled: Pulled[Call] = Pulled()
    kept: dict[str, dict] = {}  # call id -> raw call, in Gong's order
    first = {"filter": flt, "contentSelector": CONTENT_SELECTOR}
    for page in source.pages("POST", CALLS_PATH, first, NEXT_PAGE):
        for raw in source.items("POST", CALLS_PATH, page, "calls"):
            meta = _dict(raw.get("metaData"))
            call_id, started = _str(meta.get("id")), parse_time(meta.get("started"))
            if call_id is None or started is None:  # no call without them (CallBasicData)
                raise source.missing("POST", CALLS_PATH, "metaData.id and metaData.started")
            if started not in window:
                continue
            account = _account_id(raw, cfg.account_object, cfg.crm_system)
            if account is None or account not in known_accounts:
                pulled.unmapped += 1
            else:
                kept.setdefault(call_id, raw)
    transcripts = fetch_transcripts(source, list(kept), cfg.transcript_batch)
    for call_id, raw in kept.items():
        call = _to_call(raw, transcripts.get(call_id), cfg.account_object, cfg.crm_system)
        if call is None:
            log.warning("Gong: call %s dropped: no start time or account", call_id)
            pulled.unmapped += 1
        else:
            pulled.records.append(call)
    return pulled


def fetch_transcripts(source: Source, call_ids: list[str], batch: int) -> dict[str, list]:
    """Monologues by call id, `batch` ids per request; calls with none are absent."""
    out: dict[str, list] = {}
    for i in range(0, len(call_ids), batch):
        body = {"filter": {"callIds": call_ids[i:i + batch]}}
        for page in source.pages("POST", TRANSCRIPT_PATH, body, NEXT_PAGE):
            for entry in source.items("POST", TRANSCRIPT_PATH, page, "callTranscripts"):
                call_id = _str(entry.get("callId"))
                if call_id is None:
                    raise source.missing("POST", TRANSCRIPT_PATH, "callId")
                if call_id and _list(entry.get("transcript")):
                    out.setdefault(call_id, []).extend(entry["transcript"])
    return out


def _to_call(raw: Any, transcript: list | None, account_object: str = "Account",
             crm_system: str | None = None) -> Call | None:
    """One Gong call (CallData) and its monologues as a Call; None without an id, a
    start time or an account id."""
    raw = _dict(raw)
    meta = _dict(raw.get("metaData"))
    call_id, started = _str(meta.get("id")), parse_time(meta.get("started"))
    account = _account_id(raw, account_object, crm_system)
    if not (call_id and started and account):
        return None
    attendees: list[Attendee] = []
    speakers: dict[str, str] = {}
    for party in map(_dict, _list(raw.get("parties"))):
        name = _str(party.get("name")) or _str(party.get("emailAddress")) or _str(
            party.get("phoneNumber"))
        if not name:
            continue  # nameless and unreachable: nothing to show or match
        attendees.append(Attendee(
            name=name, is_customer=party.get("affiliation") == CUSTOMER_AFFILIATION,
            title=_str(party.get("title")), email=_str(party.get("emailAddress"))))
        if _str(party.get("speakerId")):
            speakers[_str(party.get("speakerId"))] = name
    utterances = [_utterance(_dict(m), speakers) for m in _list(transcript)]
    url = _str(meta.get("url"))
    try:
        return Call(account_id=account, call_id=call_id, occurred_at=started,
                    attendees=attendees,
                    # A call without transcript still counts for coverage: keep its link,
                    # or (no link either) an empty transcript.
                    transcript=utterances or (None if url else []),
                    transcript_url=None if utterances else url,
                    url=url)  # the digest links a quote's call id to it
    except ValidationError:
        return None


def _utterance(monologue: dict, speakers: dict[str, str]) -> Utterance:
    sentences = [_dict(s) for s in _list(monologue.get("sentences"))]
    text = " ".join(t.strip() for s in sentences if (t := _str(s.get("text"))))
    start = sentences[0].get("start") if sentences else None
    return Utterance(speaker=speakers.get(_str(monologue.get("speakerId")) or "", UNKNOWN_SPEAKER),
                     text=text,
                     start_ms=int(start) if isinstance(start, int | float) else None)


def _account_id(raw: Any, account_object: str, crm_system: str | None) -> str | None:
    # context: [{system, objects: [{objectType, objectId, ...}]}]; the first match wins.
    for ctx in map(_dict, _list(_dict(raw).get("context"))):
        if crm_system and (ctx.get("system") or "").lower() != crm_system.lower():
            continue
        for obj in map(_dict, _list(ctx.get("objects"))):
            if obj.get("objectType") == account_object and _str(obj.get("objectId")):
                return _str(obj.get("objectId"))
    return None


def _str(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return (value.strip() or None) if isinstance(value, str) else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []
