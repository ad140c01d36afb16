"""A fake Slack Web API (../shared/api-notes.md §6) for esd's delivery.

Serves `users.lookupByEmail`, `conversations.open`, `chat.postMessage`,
`conversations.history`, `reactions.add`, `reactions.remove` and `reactions.get` under
`/api/` (GET or POST, query, form or JSON arguments, as slack_sdk sends them), in the
shapes of ../shared/api-specs/slack/slack_web_openapi_v2.json. Point slack_sdk at it
with `base_url=fake.url + "/api/"`.

Like Slack, it checks the bearer token first, then the bot token's scopes
(`missing_scope` naming the one `needed`), and answers application errors with HTTP
200 and `{"ok": false, "error": ...}`; `chat.postMessage` enforces the block limits a
real workspace does (50 blocks, section text ≤ 3,000, header ≤ 150, ~13k of block text
in all, `text` ≤ 40,000) and keeps every message, metadata included, per channel;
`conversations.history` pages newest first with `response_metadata.next_cursor`. A
message's `reactions` (`[{name, users, count}]`) is absent while it has none, as in
Slack. The CSM reacts with their own user token (`user_token(email)`), as a person in
the Slack app would.

Knobs besides FakeAPI's: `rate_limit(method, retry_after)` (429 with an integer
Retry-After), `server_error(method, after=n)` (an HTML 500 from Slack's edge, optionally
once n calls have gone through), `fail_user(email, error, method)`, `revoke(scope)`
(the bot token loses a scope), `forget_channel(email)`, `delete(channel, ts)`, `history_page_size`,
`drop_after_store(times, after)` (chat.postMessage stores the message, then closes the
connection without answering), `on_post` (a hook called with ("before" | "after", n)
around the n-th stored post: the fault tests SIGKILL the client there); read what was
posted with `messages(channel)` or `messages_to(email)`. `exchanges` holds every
(request, response) pair.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from fakes.server import FakeAPI, Request, Response

TOKEN = "xoxb-1111-2222-fakeslacktoken"
TEAM_ID = "T0ESDTEAM1"
BOT_USER_ID = "U0ESDBOT1"
BOT_ID = "B0ESDBOT01"
# Each method and the scope it needs (api-notes §6; reactions.add/remove act as a user).
SCOPE_OF = {"users.lookupByEmail": "users:read.email", "conversations.open": "im:write",
            "chat.postMessage": "chat:write", "conversations.history": "im:history",
            "reactions.add": "reactions:write", "reactions.remove": "reactions:write",
            "reactions.get": "reactions:read"}
METHODS = tuple(SCOPE_OF)
BOT_SCOPES = frozenset({"users:read", "users:read.email", "im:write", "chat:write",
                        "im:history", "reactions:read"})
MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3_000
HEADER_TEXT_MAX = 150
BLOCKS_TEXT_MAX = 13_000  # undocumented; msg_blocks_too_long near 13.2k (bolt-js#2509)
TEXT_MAX = 40_000


def user_id_for(email: str) -> str:
    return "U" + hashlib.sha1(email.encode()).hexdigest()[:9].upper()


def path(method: str) -> str:
    return f"/api/{method}"


def _ok(**fields: Any) -> Response:
    return Response(200, {"ok": True, **fields})


def _error(error: str, **fields: Any) -> Response:
    return Response(200, {"ok": False, "error": error, **fields})


class FakeSlack(FakeAPI):
    """Slack's Web API for one workspace whose users are `users` (email -> user id)."""

    def __init__(self, users: Mapping[str, str] | list[str] = (), token: str = TOKEN,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__("slack")
        if not isinstance(users, Mapping):
            users = {email: user_id_for(email) for email in users}
        self._initial_users = dict(users)
        self.users = dict(users)
        self.token = token
        self.clock = clock
        self.history_page_size = 100
        self.history_cursor_stuck = False  # hand out the first page's cursor forever
        self.exchanges: list[tuple[Request, Response]] = []
        self._state = threading.Lock()
        self._channels: dict[str, str] = {}  # user id -> DM channel id
        self._messages: dict[str, list[dict]] = {}  # channel -> messages, oldest first
        self._user_errors: dict[tuple[str, str], str] = {}  # (method, email) -> error
        self._errors_after: dict[str, tuple[int, int, int]] = {}  # path -> after, status, n
        self._last_ts = 0.0
        self._drops: list[int] = []  # posts to let through before each dropped one
        self.on_post: Callable[[str, int], None] | None = None
        self.posts = 0  # chat.postMessage calls that stored a message
        self.scopes = set(BOT_SCOPES)  # what the bot token was granted
        for method, handler in zip(METHODS, (self._lookup, self._open, self._post,
                                             self._history, self._react, self._unreact,
                                             self._reactions), strict=True):
            self.route("GET", path(method))(handler)
            self.route("POST", path(method))(handler)

    # -- knobs -------------------------------------------------------------------
    def reset(self) -> None:
        super().reset()
        with self._state:
            self.users = dict(self._initial_users)
            self.history_page_size = 100
            self.history_cursor_stuck = False
            self.exchanges.clear()
            self._channels.clear()
            self._messages.clear()
            self._user_errors.clear()
            self._errors_after.clear()
            self._drops.clear()
            self.on_post = None
            self.posts = 0
            self.scopes = set(BOT_SCOPES)

    def rate_limit(self, method: str, retry_after: str = "0", times: int = 1) -> None:
        """The next `times` calls of `method` get 429 with `Retry-After: retry_after`."""
        self.fail_next(path(method), 429, times, {"Retry-After": retry_after},
                       {"ok": False, "error": "ratelimited"})

    def server_error(self, method: str, status: int = 500, times: int = 1,
                     after: int = 0) -> None:
        """`times` calls of `method`, once `after` more have succeeded, get an HTML
        error page from Slack's edge."""
        with self._state:
            self._errors_after[path(method)] = (after, status, times)

    def drop_after_store(self, times: int = 1, after: int = 0) -> None:
        """The next `times` posts, once `after` more have gone through, are stored and
        then answered by closing the connection (the client cannot know they landed)."""
        with self._state:
            self._drops = [after] + [0] * (times - 1)

    def revoke(self, scope: str) -> None:
        """The bot token no longer has `scope` (an app installed before it was added)."""
        with self._state:
            self.scopes.discard(scope)

    def forget_channel(self, email: str) -> None:
        """The DM with `email` is gone, messages and all (history: channel_not_found);
        conversations.open starts it afresh."""
        with self._state:
            channel = self._channels.pop(self.users[email], None)
            self._messages.pop(channel, None)

    def user_token(self, email: str) -> str:
        """The token of the person with `email`: their reactions.add is their own."""
        return f"xoxp-{self.users[email]}-fakeusertoken"

    def delete(self, channel: str, ts: str) -> None:
        """Remove a message, as chat.delete (or the user) would."""
        with self._state:
            self._messages[channel] = [m for m in self._messages.get(channel, [])
                                       if m["ts"] != ts]

    def fail_user(self, email: str, error: str,
                  method: str = "users.lookupByEmail") -> None:
        """`method` answers `error` (HTTP 200, ok: false) whenever it concerns `email`."""
        with self._state:
            self._user_errors[(method, email)] = error

    def messages(self, channel: str) -> list[dict]:
        """What was posted to `channel`, oldest first (metadata and reactions included)."""
        with self._state:
            return copy.deepcopy(self._messages.get(channel, []))

    def channel_of(self, email: str) -> str | None:
        with self._state:
            return self._channels.get(self.users.get(email, ""))

    def messages_to(self, email: str) -> list[dict]:
        channel = self.channel_of(email)
        return self.messages(channel) if channel else []

    # -- transport ---------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        needed = SCOPE_OF.get(request.path.removeprefix("/api/"))
        if auth == f"Bearer {self.token}" and (needed is None or needed in self.scopes):
            self._arm_server_error(request.path)
            response = super().handle(request)
        elif self._actor(request) is not None and auth != f"Bearer {self.token}":
            response = super().handle(request)  # a person's own token
        else:  # Slack checks the token, then its scopes, before anything else
            with self._lock:
                self.log.append(request)
            if auth == f"Bearer {self.token}":
                response = _error("missing_scope", needed=needed,
                                  provided=",".join(sorted(self.scopes)))
            else:
                response = _error("invalid_auth" if auth else "not_authed")
        with self._lock:
            self.exchanges.append((request, response))
        return response

    def _arm_server_error(self, request_path: str) -> None:
        with self._state:
            pending = self._errors_after.get(request_path)
            if pending is None:
                return
            after, status, times = pending
            if after:
                self._errors_after[request_path] = (after - 1, status, times)
                return
            del self._errors_after[request_path]
        self.fail_next(request_path, status, times, {"Content-Type": "text/html"},
                       f"<html><body><h1>{status} Server Error</h1></body></html>")

    # -- methods -----------------------------------------------------------------
    def _lookup(self, request: Request, _: dict) -> Response:
        email = request_args(request).get("email")
        if not email:
            return _error("invalid_arguments")
        if error := self._user_error("users.lookupByEmail", email):
            return _error(error)
        user_id = self.users.get(email) or next(
            (u for e, u in self.users.items() if e.lower() == email.lower()), None)
        if user_id is None:
            return _error("users_not_found")
        name = email.split("@")[0]
        real = name.replace(".", " ").title()
        return _ok(user={
            "id": user_id, "team_id": TEAM_ID, "name": name, "deleted": False,
            "real_name": real, "tz": "Europe/London", "tz_label": "Greenwich Mean Time",
            "tz_offset": 0, "is_admin": False, "is_owner": False, "is_bot": False,
            "is_app_user": False, "updated": 1763900000,
            "profile": {
                "email": email, "real_name": real, "real_name_normalized": real,
                "display_name": name, "display_name_normalized": name,
                "avatar_hash": "g0123456789a", "title": "Customer Success Manager",
                "phone": "", "skype": "", "status_text": "", "status_emoji": "",
                "fields": None, "team": TEAM_ID,
            },
        })

    def _open(self, request: Request, _: dict) -> Response:
        args = request_args(request)
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            return _error("users_list_not_supplied")
        if len(users) > 1:
            return _error("too_many_users")  # group DMs are not faked
        user_id = users[0]
        email = next((e for e, u in self.users.items() if u == user_id), None)
        if email is None:
            return _error("user_not_found")
        if error := self._user_error("conversations.open", email):
            return _error(error)
        with self._state:
            known = user_id in self._channels
            channel = self._channels.setdefault(
                user_id, "D" + hashlib.sha1(user_id.encode()).hexdigest()[:10].upper())
            self._messages.setdefault(channel, [])
        extra = {"no_op": True, "already_open": True} if known else {}
        return _ok(channel={"id": channel}, **extra)

    def _post(self, request: Request, _: dict) -> Response:
        args = request_args(request)
        channel = args.get("channel")
        with self._state:
            exists = channel in self._messages
        if not exists:
            return _error("channel_not_found")
        if error := self._user_error("chat.postMessage", self._email_of(channel)):
            return _error(error)
        text = args.get("text") or ""
        blocks = _json_arg(args.get("blocks"))
        metadata = _json_arg(args.get("metadata"))
        if not text and not blocks:
            return _error("no_text")
        if blocks is not None and (problems := _block_problems(blocks)):
            return _error("invalid_blocks", errors=problems,
                          response_metadata={"messages": [f"[ERROR] {p}" for p in problems]})
        if blocks and sum(len(_block_text(b)) for b in blocks) > BLOCKS_TEXT_MAX:
            return _error("msg_blocks_too_long")
        if len(text) > TEXT_MAX:
            return _error("msg_too_long")
        if metadata is not None and not (
                isinstance(metadata, dict) and isinstance(metadata.get("event_type"), str)
                and isinstance(metadata.get("event_payload"), dict)):
            return _error("invalid_metadata_format")
        if self.on_post:
            self.on_post("before", self.posts + 1)
        with self._state:
            self.posts += 1
            self._last_ts = max(self.clock(), self._last_ts + 0.000001)
            message = {"type": "message", "text": text, "user": BOT_USER_ID,
                       "ts": f"{self._last_ts:.6f}", "bot_id": BOT_ID, "team": TEAM_ID}
            if blocks:
                message["blocks"] = blocks
            if metadata is not None:
                message["metadata"] = metadata
            self._messages[channel].append(message)
            drop = bool(self._drops) and self._drops[0] == 0
            if drop:
                self._drops.pop(0)
            elif self._drops:
                self._drops[0] -= 1
            posts = self.posts
        if self.on_post:
            self.on_post("after", posts)
        if drop:  # the server's handler closes the socket without an answer
            raise ConnectionAbortedError("fake Slack dropped the connection after storing")
        return _ok(channel=channel, ts=message["ts"], message=dict(message))

    def _history(self, request: Request, _: dict) -> Response:
        args = request_args(request)
        channel = args.get("channel")
        with self._state:
            stored = (copy.deepcopy(self._messages[channel]) if channel in self._messages
                      else None)
        if stored is None:
            return _error("channel_not_found")
        inclusive = _truthy(args.get("inclusive"))
        try:
            oldest = float(args.get("oldest") or 0)
            latest = float(args.get("latest") or "inf")
        except ValueError:
            return _error("invalid_ts_oldest")
        try:
            offset = int(base64.b64decode(args["cursor"]).decode().removeprefix("offset:")
                         ) if args.get("cursor") else 0
        except ValueError:
            return _error("invalid_cursor")
        limit = min(int(args.get("limit") or 100), self.history_page_size)
        window = [m for m in reversed(stored)
                  if (oldest <= float(m["ts"]) <= latest if inclusive
                      else oldest < float(m["ts"]) < latest)]
        if self.history_cursor_stuck:
            offset = 0
        page = window[offset:offset + limit]
        with_metadata = _truthy(args.get("include_all_metadata"))
        messages = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
                    for m in page]
        more = offset + limit < len(window)
        next_cursor = base64.b64encode(f"offset:{offset + limit}".encode()).decode() if more else ""
        return _ok(messages=messages, has_more=more, pin_count=0, channel_actions_ts=None,
                   channel_actions_count=0, response_metadata={"next_cursor": next_cursor})

    def _react(self, request: Request, _: dict) -> Response:
        """reactions.add: the token's user reacts with `name` on a message."""
        args = request_args(request)
        name, user = args.get("name"), self._actor(request)
        if not name:
            return _error("invalid_name")
        with self._state:
            message = self._message(args)
            if isinstance(message, Response):
                return message
            reactions = message.setdefault("reactions", [])
            entry = next((r for r in reactions if r["name"] == name), None)
            if entry is None:
                entry = {"name": name, "users": [], "count": 0}
                reactions.append(entry)
            if user in entry["users"]:
                return _error("already_reacted")
            entry["users"].append(user)
            entry["count"] += 1
        return _ok()

    def _unreact(self, request: Request, _: dict) -> Response:
        """reactions.remove: the token's user takes their `name` reaction back."""
        args = request_args(request)
        name, user = args.get("name"), self._actor(request)
        if not name:
            return _error("invalid_name")
        with self._state:
            message = self._message(args)
            if isinstance(message, Response):
                return message
            reactions = message.get("reactions", [])
            entry = next((r for r in reactions if r["name"] == name), None)
            if entry is None or user not in entry["users"]:
                return _error("no_reaction")
            entry["users"].remove(user)
            entry["count"] -= 1
            message["reactions"] = [r for r in reactions if r["count"]]
            if not message["reactions"]:
                del message["reactions"]  # absent when none, as Slack does
        return _ok()

    def _reactions(self, request: Request, _: dict) -> Response:
        """reactions.get for a message (the full users list, as with `full=true`)."""
        args = request_args(request)
        with self._state:
            message = self._message(args)
            if isinstance(message, Response):
                return message
            found = copy.deepcopy(message)
        found.pop("metadata", None)  # reactions.get does not carry message metadata
        return _ok(type="message", channel=args["channel"], message=found)

    def _message(self, args: dict) -> dict | Response:
        """The stored message `channel`/`timestamp` name, or Slack's error (hold
        `_state`)."""
        channel, ts = args.get("channel"), args.get("timestamp")
        if not channel or not ts:
            return _error("no_item_specified")
        found = next((m for m in self._messages.get(channel, []) if m["ts"] == ts), None)
        return _error("message_not_found") if found is None else found

    def _actor(self, request: Request) -> str | None:
        """The user a token acts for: the bot's, or a person's own (`user_token`)."""
        auth = request.headers.get("authorization", "")
        if auth == f"Bearer {self.token}":
            return BOT_USER_ID
        with self._state:
            known = set(self.users.values())
        user = auth.removeprefix("Bearer xoxp-").removesuffix("-fakeusertoken")
        return user if auth.startswith("Bearer xoxp-") and user in known else None

    def _user_error(self, method: str, email: str | None) -> str | None:
        with self._state:
            return self._user_errors.get((method, email or ""))

    def _email_of(self, channel: str) -> str | None:
        with self._state:
            user = next((u for u, c in self._channels.items() if c == channel), None)
        return next((e for e, u in self.users.items() if u == user), None)


def request_args(request: Request) -> dict[str, Any]:
    """Query string, then the form or JSON body, as one dict (slack_sdk sends form for
    most methods and JSON for chat.postMessage)."""
    args: dict[str, Any] = {k: v[0] for k, v in request.query.items()}
    body = request.body
    if isinstance(body, dict):
        args.update(body)
    elif isinstance(body, str) and body:
        args.update({k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()})
    return args


def _json_arg(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _block_text(block: dict) -> str:
    text = block.get("text")
    return text.get("text", "") if isinstance(text, dict) else ""


def _block_problems(blocks: Any) -> list[str]:
    """What Slack's invalid_blocks would list, for the block types esd sends."""
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    problems = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}/text/text]"
        kind = block.get("type") if isinstance(block, dict) else None
        text = block.get("text") if isinstance(block, dict) else None
        if kind == "divider":
            continue
        if kind not in ("section", "header"):
            problems.append(f"unsupported block type {kind!r} [json-pointer:/blocks/{i}]")
            continue
        allowed = ("mrkdwn", "plain_text") if kind == "section" else ("plain_text",)
        if not isinstance(text, dict) or text.get("type") not in allowed:
            problems.append(f"must provide a {'/'.join(allowed)} text object "
                            f"[json-pointer:/blocks/{i}/text]")
            continue
        limit = SECTION_TEXT_MAX if kind == "section" else HEADER_TEXT_MAX
        length = len(text.get("text") or "")
        if length == 0:
            problems.append(f"must be more than 0 characters {where}")
        elif length > limit:
            problems.append(f"must be less than {limit + 1} characters {where}")
    return problems
