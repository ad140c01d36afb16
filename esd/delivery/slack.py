"""Each CSM's digest as a Slack DM (contract §1, §8, §11; api-notes §6).

`SlackDelivery` is the `esd.delivery.ledger.Messenger` that talks to Slack through slack_sdk's
`WebClient`: `users.lookupByEmail` then `conversations.open` for the DM channel,
`chat.postMessage` for each message of the digest, `conversations.history` to find a
digest an interrupted run may already have posted. Every message carries Slack message
metadata (`event_type` "esd_digest", the marker plus `part`/`parts` as payload), which
is what `find_posted` looks for.

Slack answers application errors with HTTP 200 and `ok: false`; slack_sdk raises
`SlackApiError` for those and for any non-200 status. 429s are retried on Retry-After
by `RateLimitErrorRetryHandler` (up to 3 times); nothing else is retried beyond
slack_sdk's default single retry of a dropped connection, since posting twice is worse
than reporting a miss that the next run reconciles. Every failure becomes a
`DeliveryError` naming the CSM's email and Slack's error code, never the token.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from esd.delivery.mrkdwn import fallback_text, to_blocks
from esd.errors import DeliveryError, InputError, SourceError
from esd.paging import follow_cursor, iter_pages

log = logging.getLogger("esd.slack")

DEFAULT_API_URL = "https://slack.com/api/"
EVENT_TYPE = "esd_digest"
HISTORY_PAGE = 100
NEXT_PAGE = follow_cursor(("response_metadata", "next_cursor"), "cursor")
RATE_LIMIT_RETRIES = 3
TIMEOUT_SECONDS = 30

# What to tell the operator for the errors a misconfigured app meets first.
_HINTS = {
    "users_not_found": "no Slack user has this email",
    "invalid_auth": "SLACK_BOT_TOKEN was rejected",
    "not_authed": "SLACK_BOT_TOKEN was rejected",
    "account_inactive": "the bot token belongs to a deactivated app or user",
    "token_revoked": "SLACK_BOT_TOKEN was revoked",
    "ratelimited": "Slack kept rate-limiting after retries",
    "channel_not_found": "the DM channel is gone or the bot cannot see it",
    "cannot_dm_bot": "the email belongs to a bot user",
    "user_disabled": "the Slack user is deactivated",
}


class SlackDelivery:
    """Posts digests as DMs; see the module docstring."""

    def __init__(self, token: str, base_url: str = DEFAULT_API_URL, *,
                 timeout: int = TIMEOUT_SECONDS,
                 rate_limit_retries: int = RATE_LIMIT_RETRIES) -> None:
        base_url = base_url if base_url.endswith("/") else base_url + "/"
        # slack_sdk's own log lines (it logs connection failures at ERROR) go through
        # esd's logger, so esd's handler and secret filter apply to them too.
        self.client = WebClient(token=token, base_url=base_url, timeout=timeout, logger=log)
        self.client.retry_handlers.append(
            RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
        self._host = urlsplit(base_url).netloc or base_url
        self._channels: dict[str, str] = {}  # email -> DM channel id

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackDelivery:
        """From SLACK_BOT_TOKEN and SLACK_API_URL (contract §8)."""
        token = (env.get("SLACK_BOT_TOKEN") or "").strip()
        if not token:
            raise InputError(
                "SLACK_BOT_TOKEN is not set: esd run needs a Slack bot token (scopes "
                "users:read, users:read.email, im:write, chat:write, im:history) to DM "
                "each CSM. Use esd dry-run to write the digests without posting.")
        return cls(token, (env.get("SLACK_API_URL") or "").strip() or DEFAULT_API_URL)

    def dm_channel(self, email: str) -> str:
        """The id of the DM channel between the bot and the Slack user with `email`."""
        if email not in self._channels:
            user = self._call(email, "users.lookupByEmail", self.client.users_lookupByEmail,
                              email=email)
            opened = self._call(email, "conversations.open", self.client.conversations_open,
                                users=user["user"]["id"])
            self._channels[email] = opened["channel"]["id"]
        return self._channels[email]

    def post_digest(self, channel: str, markdown: str, marker: dict) -> list[str]:
        """Post the digest as one message or, if it is too long, several in order;
        return their ts. Each carries the marker (plus part/parts) as metadata."""
        email = str(marker.get("owner", channel))
        messages = to_blocks(markdown)
        if not messages:
            raise DeliveryError(f"Slack delivery to {email}: the digest is empty",
                                source="slack")
        text = fallback_text(markdown)
        posted: list[str] = []
        for part, blocks in enumerate(messages, start=1):
            try:
                response = self._call(
                    email, "chat.postMessage", self.client.chat_postMessage,
                    channel=channel, blocks=blocks,
                    text=text if part == 1 else f"{text}\n(part {part} of {len(messages)})",
                    unfurl_links=False, unfurl_media=False,
                    metadata={"event_type": EVENT_TYPE,
                              "event_payload": {**marker, "part": part,
                                                "parts": len(messages)}})
            except DeliveryError as exc:
                if posted:
                    raise DeliveryError(f"{exc} (after posting part {len(posted)} of "
                                        f"{len(messages)})", source=exc.source,
                                        endpoint=exc.endpoint) from None
                raise
            posted.append(response["ts"])
        return posted

    def find_posted(self, channel: str, marker: dict, oldest: float) -> str | None:
        """The ts of the first message of a digest for the marker's week and owner that
        is in `channel` since `oldest`, complete with all its parts; else None.

        A digest cut short by a crash counts as not posted, so it is sent again whole
        rather than left cut (contract §11). A channel Slack no longer knows holds no
        digest: None, so the caller opens the DM afresh instead of failing every run."""
        email = str(marker.get("owner", channel))
        parts: dict[int, str] = {}
        wanted = 1

        def history(request: dict) -> dict | None:
            response = self._call(email, "conversations.history",
                                  self.client.conversations_history, **request,
                                  tolerate={"channel_not_found"})
            return None if response is None else response.data

        first = {"channel": channel, "oldest": f"{oldest:.6f}", "limit": HISTORY_PAGE,
                 "include_all_metadata": True, "cursor": None}
        pages = iter_pages(history, first, NEXT_PAGE, source="slack",
                           endpoint="conversations.history")
        try:
            for page in pages:
                for message in page.get("messages") or []:
                    payload = _payload(message)
                    if (payload is not None and payload.get("week") == marker.get("week")
                            and payload.get("owner") == marker.get("owner")):
                        part = _int(payload.get("part"), 1)
                        parts.setdefault(part, message["ts"])
                        wanted = max(wanted, _int(payload.get("parts"), 1))
        except SourceError as exc:  # a cursor that does not advance, or the page cap
            raise DeliveryError(f"Slack conversations.history failed for {email}: {exc}",
                                source="slack", endpoint="conversations.history") from None
        if 1 in parts and all(p in parts for p in range(1, wanted + 1)):
            return parts[1]
        return None

    def _call(self, csm: str, method: str, fn: Any, /, *,
              tolerate: Collection[str] = (), **kwargs: Any) -> Any:
        """One Web API call; every failure as a DeliveryError that names the CSM, except
        the Slack error codes in `tolerate`, which return None."""
        try:
            return fn(**kwargs)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            if data.get("error") in tolerate:
                return None
            raise DeliveryError(_describe(csm, method, exc.response), source="slack",
                                endpoint=method) from None
        except (SlackClientError, OSError) as exc:
            reason = type(exc).__name__
            raise DeliveryError(f"Slack {method} failed for {csm}: could not reach "
                                f"{self._host} ({reason})", source="slack",
                                endpoint=method) from None


def _describe(csm: str, method: str, response: Any) -> str:
    status = getattr(response, "status_code", None)
    data = getattr(response, "data", None)
    data = data if isinstance(data, dict) else {}
    error = data.get("error")
    # A non-JSON answer (an HTML page from the edge) comes back from slack_sdk as a long
    # "error" sentence; only Slack's own short codes are worth repeating.
    code = error if isinstance(error, str) and re.fullmatch(r"\w{1,60}", error) else None
    details = []
    if code and status and status != 200:
        details.append(f"HTTP {status}")
    if code in _HINTS:
        details.append(_HINTS[code])
    if code == "missing_scope" and isinstance(data.get("needed"), str):
        details.append(f"the app needs the {data['needed']} scope")
    what = code or (f"HTTP {status}" if status else "an unexpected answer")
    return f"Slack {method} failed for {csm}: {what}" + (
        f" ({'; '.join(details)})" if details else "")


def _payload(message: dict) -> dict | None:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload")
    if metadata.get("event_type") == EVENT_TYPE and isinstance(payload, dict):
        return payload
    return None


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
