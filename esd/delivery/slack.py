"""Each CSM's digest as a Slack DM (contract §1, §8, §11; api-notes §6).

`SlackDelivery` is the `esd.delivery.ledger.Messenger` that talks to Slack through slack_sdk's
`WebClient`: `users.lookupByEmail` (or `esd.toml [slack.users]`) then `conversations.open`
for the DM channel, `chat.postMessage` for each message of the digest,
`conversations.history` to find the messages an earlier attempt may already have
posted, and to read the CSMs' reactions on delivered signals (`read_reactions`, contract
§12). Every message carries Slack message metadata (`event_type` "esd_digest", the
marker plus `part`/`parts`, and `signal` on a strong signal's own message, as payload),
which is what `find_parts` and `read_reactions` look for.

Slack answers application errors with HTTP 200 and `ok: false`; slack_sdk raises
`SlackApiError` for those and for any non-200 status. slack_sdk's own retries are off
(its connection-error retry would post a message twice, its rate-limit retry sleeps
whatever Retry-After says): a 429 is retried here after Retry-After when that is at
most `[http] max_wait_s` (default 120 s); a longer or unreadable one fails the call.
A post whose fate is unknown (connection dropped or timed out after sending, or a 5xx
from Slack's edge) is looked up in the DM's history before it is tried again, never
re-sent blind. Every failure becomes a `DeliveryError` naming the CSM's email and
Slack's error code, never the token or a password of SLACK_API_URL.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from esd.config import MAX_WAIT_S, TOML, http_settings
from esd.delivery.mrkdwn import fallback_text, signal_sections, to_blocks
from esd.delivery.reactions import verdicts
from esd.delivery.slack_answers import (
    EVENT_TYPE,
    as_int,
    describe,
    esd_payload,
    header,
    same_digest,
)
from esd.errors import DeliveryError, InputError, PostUnknown, SourceError
from esd.paging import follow_cursor, iter_pages
from esd.redact import redact_text
from esd.retry import Retriable, make_retrying, retry_after_seconds

log = logging.getLogger("esd.slack")

DEFAULT_API_URL = "https://slack.com/api/"
HISTORY_PAGE = 100
NEXT_PAGE = follow_cursor(("response_metadata", "next_cursor"), "cursor")
RATE_LIMIT_RETRIES = 3
POST_ATTEMPTS = 3  # tries of one message whose earlier tries' fate was unknown
TIMEOUT_SECONDS = 30
# The bot token's scopes: find each CSM by email, open the DM, post, and read the DM's
# history (reconciliation, and the reactions on delivered signals, contract §12).
SCOPES = ("users:read", "users:read.email", "im:write", "chat:write", "im:history",
          "reactions:read")
USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class _SdkFilter(logging.Filter):
    """slack_sdk's DEBUG lines carry headers and bodies: drop them. Its warnings and
    errors repeat what esd reports itself for each CSM, so they show only with -v, with
    URL passwords masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not logging.getLogger("esd").isEnabledFor(
                logging.DEBUG):
            return False
        record.msg, record.args = redact_text(record.getMessage()), ()
        return True


_sdk_log = logging.getLogger("esd.slack.sdk")
_sdk_log.addFilter(_SdkFilter())


class SlackMessage(NamedTuple):
    """One message of a digest: its blocks, its notification text, and the strong
    signal it carries alone (contract §12), if any."""

    blocks: list[dict]
    text: str
    signal_id: str | None = None


class SlackDelivery:
    """Posts digests as DMs; see the module docstring."""

    def __init__(self, token: str, base_url: str = DEFAULT_API_URL, *,
                 timeout: int = TIMEOUT_SECONDS,
                 rate_limit_retries: int = RATE_LIMIT_RETRIES,
                 max_wait_s: float = MAX_WAIT_S, users: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        base_url = _without_userinfo(base_url if base_url.endswith("/") else base_url + "/")
        # slack_sdk's log lines go through esd's logger (and its secret filter).
        self.client = WebClient(token=token, base_url=base_url, timeout=timeout,
                                logger=_sdk_log, retry_handlers=[])
        self.rate_limit_retries = rate_limit_retries
        self.max_wait_s = max_wait_s
        self.users = {k.strip().lower(): v.strip() for k, v in (users or {}).items()}
        self.sleep = sleep
        self._host = urlsplit(base_url).netloc or base_url
        self._channels: dict[str, str] = {}  # email -> DM channel id
        self.requests: Counter[str] = Counter()  # method -> HTTP requests sent, retries too

    @classmethod
    def from_env(cls, env: Mapping[str, str], toml: Mapping[str, Any] | None = None
                 ) -> SlackDelivery:
        """From SLACK_BOT_TOKEN and SLACK_API_URL (contract §8), `[slack.users]` and
        `[http] max_wait_s` of esd.toml."""
        token = (env.get("SLACK_BOT_TOKEN") or "").strip()
        if not token:
            raise InputError(
                "SLACK_BOT_TOKEN is not set: esd run needs a Slack bot token (scopes "
                f"{', '.join(SCOPES)}) to DM each CSM and read their reactions. Use esd "
                "dry-run to write the digests without posting.")
        toml = toml or {}
        return cls(token, (env.get("SLACK_API_URL") or "").strip() or DEFAULT_API_URL,
                   max_wait_s=http_settings(toml).max_wait_s, users=_users(toml.get("slack")))

    def dm_channel(self, email: str) -> str:
        """The id of the DM channel between the bot and the Slack user with `email`
        (or the user `[slack.users]` names for it)."""
        if email not in self._channels:
            target = self.users.get(email.strip().lower(), email)
            if USER_ID.fullmatch(target):
                user_id = target
            else:
                user = self._call(email, "users.lookupByEmail",
                                  self.client.users_lookupByEmail, email=target)
                user_id = user["user"]["id"]
            opened = self._call(email, "conversations.open", self.client.conversations_open,
                                users=user_id)
            self._channels[email] = opened["channel"]["id"]
        return self._channels[email]

    def find_user(self, email: str) -> str | None:
        """The Slack user id of the CSM with `email` (looked up under the address
        `[slack.users]` gives for it, if any; a user id given there is taken as it is),
        None when Slack has no user with that address (`esd check`, before a run)."""
        target = self.users.get(email.strip().lower(), email)
        if USER_ID.fullmatch(target):
            return target
        found = self._call(email, "users.lookupByEmail", self.client.users_lookupByEmail,
                           email=target, tolerate={"users_not_found"})
        return None if found is None else found["user"]["id"]

    @staticmethod
    def split(markdown: str, signal_ids: Sequence[str] = ()) -> list[SlackMessage]:
        """The digest as Slack messages, in order: each strong signal named in
        `signal_ids` in a message of its own (the first of its messages carries its id),
        the rest between them; a piece too long for one message continues in the next."""
        title = fallback_text(markdown)
        messages: list[SlackMessage] = []
        for text, sid in signal_sections(markdown, signal_ids):
            notice = fallback_text(text) if sid else title
            for i, blocks in enumerate(to_blocks(text)):
                messages.append(SlackMessage(blocks, notice, sid if i == 0 else None))
        if len(messages) > 1 and not signal_ids:
            total = len(messages)
            messages = [m if part == 1 else m._replace(text=f"{m.text}\n(part {part} of {total})")
                        for part, m in enumerate(messages, start=1)]
        return messages

    def post_part(self, channel: str, message: tuple, marker: dict, oldest: float) -> str:
        """Post one message of a digest (`marker` holds its `part` and `parts`); its ts.

        A try whose fate is unknown is looked up in the DM's history (since `oldest`)
        before the next; a refused long Retry-After is looked up too, then fails."""
        email = str(marker.get("owner", channel))
        blocks, text = message[0], message[1]
        retrying = make_retrying(POST_ATTEMPTS, max_delay=4.0, sleep=self.sleep)

        def attempt() -> str:
            try:
                return self._call(
                    email, "chat.postMessage", self.client.chat_postMessage, write=True,
                    channel=channel, blocks=blocks, text=text, unfurl_links=False,
                    unfurl_media=False,
                    metadata={"event_type": EVENT_TYPE, "event_payload": marker})["ts"]
            except PostUnknown as exc:
                if ts := self.find_parts(channel, marker, oldest).get(marker.get("part", 1)):
                    return ts
                raise Retriable(str(exc)) from None
            except DeliveryError as exc:
                if exc.field == "Retry-After" and (ts := self.find_parts(
                        channel, marker, oldest).get(marker.get("part", 1))):
                    return ts
                raise

        try:
            return retrying(attempt)
        except Retriable as exc:
            raise DeliveryError(f"{exc}; not in the DM's history after {POST_ATTEMPTS} "
                                "tries", source="slack", endpoint="chat.postMessage") from None

    def post_digest(self, channel: str, markdown: str, marker: dict,
                    oldest: float | None = None) -> list[str]:
        """Post the whole digest, one message or several in order; their ts."""
        email = str(marker.get("owner", channel))
        messages = self.split(markdown)
        if not messages:
            raise DeliveryError(f"Slack delivery to {email}: the digest is empty",
                                source="slack")
        oldest = time.time() - 3600 if oldest is None else oldest
        posted: list[str] = []
        for part, message in enumerate(messages, start=1):
            try:
                posted.append(self.post_part(
                    channel, message, {**marker, "part": part, "parts": len(messages)}, oldest))
            except DeliveryError as exc:
                if posted:
                    raise DeliveryError(f"{exc} (after posting part {len(posted)} of "
                                        f"{len(messages)})", source=exc.source,
                                        endpoint=exc.endpoint) from None
                raise
        return posted

    def find_parts(self, channel: str, marker: dict, oldest: float) -> dict[int, str]:
        """part -> ts of every message of the marker's digest (week, owner, generation)
        in `channel` since `oldest`. A channel Slack no longer knows holds none."""
        return self._scan(channel, marker, oldest)[0]

    def find_posted(self, channel: str, marker: dict, oldest: float) -> str | None:
        """The ts of the first message of the marker's digest when all its parts are in
        `channel` since `oldest`; else None (a cut digest is not a posted one)."""
        found, wanted = self._scan(channel, marker, oldest)
        complete = 1 in found and all(p in found for p in range(1, wanted + 1))
        return found[1] if complete else None

    def read_reactions(self, channel: str, oldest: float, email: str) -> dict[str, str]:
        """signal id -> outcome (converted or noise) for every message of esd's in the DM
        `channel` since `oldest` that carries one strong signal and a verdict reaction
        (esd.delivery.reactions). One paged conversations.history walk: one request per
        CSM for weeks of digests, where reactions.get would take one per signal."""
        seen, ambiguous = verdicts(self._history(channel, oldest, email))
        if ambiguous:
            log.info("%s reacted both ways on %s: not recorded", email, ", ".join(ambiguous))
        return seen

    def _scan(self, channel: str, marker: dict, oldest: float) -> tuple[dict[int, str], int]:
        """The digest's messages found (part -> ts) and how many parts they say it has."""
        parts: dict[int, str] = {}
        wanted = 1
        email = str(marker.get("owner", channel))
        for message in self._history(channel, oldest, email, tolerate={"channel_not_found"}):
            payload = esd_payload(message)
            if payload is not None and same_digest(payload, marker):
                parts.setdefault(as_int(payload.get("part"), 1), message["ts"])
                wanted = max(wanted, as_int(payload.get("parts"), 1))
        return parts, wanted

    def _history(self, channel: str, oldest: float, email: str,
                 tolerate: Collection[str] = ()) -> Iterator[dict]:
        """Every message of `channel` after `oldest`, newest first, metadata included
        (a tolerated error code: none). An answer esd cannot read, a cursor that does
        not advance and the page cap are DeliveryErrors naming `email`."""
        def history(request: dict) -> dict | None:
            response = self._call(email, "conversations.history",
                                  self.client.conversations_history, **request,
                                  tolerate=tolerate)
            return None if response is None else response.data

        first = {"channel": channel, "oldest": f"{oldest:.6f}", "limit": HISTORY_PAGE,
                 "include_all_metadata": True, "cursor": None}
        try:
            for page in iter_pages(history, first, NEXT_PAGE, source="slack",
                                   endpoint="conversations.history"):
                messages = page.get("messages")
                if not isinstance(messages, list) or not all(
                        isinstance(m, dict) and isinstance(m.get("ts"), str) for m in messages):
                    raise SourceError("answered in a shape esd cannot read (messages is not "
                                      "a list of messages with a ts)")
                yield from messages
        except SourceError as exc:  # a cursor that does not advance, the page cap
            raise DeliveryError(f"Slack conversations.history failed for {email}: {exc}",
                                source="slack", endpoint="conversations.history") from None

    def _call(self, csm: str, method: str, fn: Any, /, *, tolerate: Collection[str] = (),
              write: bool = False, **kwargs: Any) -> Any:
        """One Web API call, repeated after a 429's Retry-After (up to max_wait_s) and,
        for reads, once after a dropped connection. Every failure is a DeliveryError
        naming the CSM (PostUnknown when a write may have landed), except the Slack
        error codes in `tolerate`, which return None."""
        for attempt in range(self.rate_limit_retries + 2):
            self.requests[method] += 1
            try:
                return fn(**kwargs)
            except SlackApiError as exc:
                response = exc.response
                data = response.data if isinstance(response.data, dict) else {}
                if data.get("error") in tolerate:
                    return None
                if response.status_code == 429:
                    wait = self._rate_limit_wait(csm, method, response)
                    if attempt < self.rate_limit_retries:
                        self.sleep(wait)
                        continue
                kind = PostUnknown if write and response.status_code >= 500 else DeliveryError
                raise kind(describe(csm, method, response), source="slack",
                           endpoint=method) from None
            except (SlackClientError, OSError) as exc:
                if not write and attempt == 0:
                    continue  # a read is safe to repeat
                kind = PostUnknown if write else DeliveryError
                raise kind(f"Slack {method} failed for {csm}: could not reach {self._host} "
                           f"({type(exc).__name__})", source="slack", endpoint=method) from None
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _rate_limit_wait(self, csm: str, method: str, response: Any) -> float:
        raw = header(response.headers, "retry-after")
        wait = retry_after_seconds(raw)
        if wait is not None and wait <= self.max_wait_s:
            return wait
        shown = repr((raw or "")[:40])
        why = ("unreadable" if wait is None else
               f"more than [http] max_wait_s = {self.max_wait_s:g} s")
        raise DeliveryError(f"Slack {method} failed for {csm}: rate-limited with Retry-After "
                            f"{shown}, {why}", source="slack", endpoint=method,
                            field="Retry-After")


def _without_userinfo(url: str) -> str:
    """SLACK_API_URL without user-info: Slack authenticates with the bot token, and a
    password must not travel into slack_sdk's URLs and log lines."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path,
                       parts.query, parts.fragment))


def _users(slack: Any) -> dict[str, str]:
    """`[slack.users]`: CSM email -> Slack user id (U123) or the email Slack knows."""
    users = slack.get("users", {}) if isinstance(slack, Mapping) else {}
    if not isinstance(users, Mapping):
        raise InputError(f"{TOML} [slack.users]: not a table", file=TOML, field="slack.users")
    for email, target in users.items():
        if not isinstance(target, str) or not (USER_ID.fullmatch(target.strip())
                                               or "@" in target):
            raise InputError(f'{TOML} [slack.users]: "{email}": must be a Slack user id '
                             '(U123...) or an email', file=TOML, field=f"slack.users.{email}")
    return dict(users)
