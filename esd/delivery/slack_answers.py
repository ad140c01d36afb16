"""Reading Slack's answers (api-notes §6): an error as one sentence for the operator, a
header, and the esd metadata a message carries.

Slack answers application errors with HTTP 200, `ok: false` and a short code; a
`missing_scope` answer names the scope it needed. `describe` turns either into "Slack
METHOD failed for CSM: code (hint)", never with the token or a URL's password.
"""

from __future__ import annotations

import re
from typing import Any

EVENT_TYPE = "esd_digest"  # the metadata event type of every message esd posts

# What to tell the operator for the errors a misconfigured app meets first.
HINTS = {
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


def describe(csm: str, method: str, response: Any) -> str:
    """A failed call as one sentence naming the CSM, the method and Slack's error code."""
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
    if code in HINTS:
        details.append(HINTS[code])
    if code == "missing_scope" and isinstance(data.get("needed"), str):
        details += [f"the app needs the {data['needed'][:80]} scope",
                    "add it under OAuth & Permissions at api.slack.com/apps and reinstall "
                    "the app"]
    what = code or (f"HTTP {status}" if status else "an unexpected answer")
    return f"Slack {method} failed for {csm}: {what}" + (
        f" ({'; '.join(details)})" if details else "")


def header(headers: Any, name: str) -> str | None:
    """Header `name` (lower case) of a slack_sdk response, whatever the key's case."""
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) and value else str(value)
    return None


def esd_payload(message: Any) -> dict | None:
    """The payload of esd's metadata on a history message, None for any other message."""
    metadata = (message.get("metadata") if isinstance(message, dict) else None) or {}
    payload = metadata.get("event_payload") if isinstance(metadata, dict) else None
    if metadata.get("event_type") == EVENT_TYPE and isinstance(payload, dict):
        return payload
    return None


def as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def same_digest(payload: dict, marker: dict) -> bool:
    """Whether a message's payload belongs to the marker's digest (week, owner,
    generation, and the reviewer of a preview: a preview is never the digest itself)."""
    return (payload.get("week") == marker.get("week")
            and payload.get("owner") == marker.get("owner")
            and as_int(payload.get("gen"), 0) == as_int(marker.get("gen"), 0)
            and payload.get("preview") == marker.get("preview"))
