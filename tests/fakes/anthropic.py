"""A fake Anthropic Messages and Message Batches API (../shared/api-notes.md §7).

Serves `POST /v1/messages`, `POST /v1/messages/batches`, `GET /v1/messages/batches/{id}`,
`GET .../{id}/results` (JSON Lines, in shuffled order) and `POST .../{id}/cancel` in the
shapes of the anthropic SDK's own types (tests/test_claude_client.py validates them).
Point the SDK at it with `base_url=fake.url`.

Like the API, it checks the key first: `x-api-key: <key>` or, as SDK 2.x sends it,
`Authorization: Bearer <key>`, plus an `anthropic-version` header; else 401
`authentication_error`. Answers come from `responder(params) -> list[dict]` (the forced
tool call's `mentions`; a `str` makes a text-only answer instead). `sources(params)`
reads the `<source>` blocks of a request back, so a responder can quote them.

Usage is estimated at a token per 4 characters; a request whose last system block has
`cache_control` and whose tools + system prefix reaches `min_cache_tokens` writes that
prefix to the cache the first time and reads it afterwards.

Knobs besides FakeAPI's: `key`, `responder`, `tool_stop_reason`, `min_cache_tokens`,
`polls_to_end` (batch status reads until a batch ends; None: never), `errored_ids`,
`expired_ids`,
`missing_ids` (left out of the results file), `malformed_next(times)`,
`rate_limit_next(path, times, retry_after)`, `overload_next(path, times)`. Read `sent`
(every params received, direct or batched), `usage_log`, `results_of(batch_id)`.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import random
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fakes.server import FakeAPI, Request, Response

KEY = "sk-ant-test-key-000000"
MESSAGES = "/v1/messages"
BATCHES = "/v1/messages/batches"
# SDK speed-up: the SDK honours `retry-after-ms` before `retry-after`, so its own retries
# of the failures below take a millisecond instead of 0.5-8 s.
FAST_RETRY = {"retry-after-ms": "1"}
_SOURCE = re.compile(r'<source ref="([^"]*)" kind="[^"]*">\n(.*?)\n?</source>', re.DOTALL)
_LINE = re.compile(r"^\[(.*?)\]: (.*)$")
_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def sources(params: dict) -> dict[str, list[tuple[str, str]]]:
    """The user message's sources: ref -> [(speaker, unescaped line text)]."""
    parts = []
    for message in params.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [b.get("text", "") for b in content if isinstance(b, dict)]
    found: dict[str, list[tuple[str, str]]] = {}
    for ref, body in _SOURCE.findall("\n".join(parts)):
        lines = [_LINE.match(line) for line in body.split("\n")]
        found[ref] = [(html.unescape(m[1]), html.unescape(m[2])) for m in lines if m]
    return found


def error(status: int, kind: str, message: str, headers: dict[str, str] | None = None,
          ) -> Response:
    return Response(status, {"type": "error", "error": {"type": kind, "message": message}},
                    dict(headers or {}))


def _tokens(value: Any) -> int:
    return math.ceil(len(json.dumps(value)) / 4) if value is not None else 0


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class FakeAnthropic(FakeAPI):
    """The Messages API for one key; batches live in memory."""

    def __init__(self, key: str = KEY, seed: int = 7) -> None:
        super().__init__("anthropic")
        self._initial_key, self.seed = key, seed
        self._state = threading.Lock()
        self._ids = itertools.count(1)
        self._init_state()
        self.route("POST", MESSAGES)(self._messages)
        self.route("POST", BATCHES)(self._create_batch)
        self.route("GET", BATCHES + "/{id}")(self._retrieve_batch)
        self.route("GET", BATCHES + "/{id}/results")(self._results)
        self.route("POST", BATCHES + "/{id}/cancel")(self._cancel)

    def _init_state(self) -> None:
        self.key = self._initial_key
        self.responder: Callable[[dict], list[dict] | str] = lambda params: []
        self.min_cache_tokens = 1024
        self.polls_to_end: int | None = 1
        self.tool_stop_reason = "tool_use"  # "max_tokens": a tool answer cut off
        self.errored_ids: set[str] = set()
        self.expired_ids: set[str] = set()
        self.missing_ids: set[str] = set()
        self.sent: list[dict] = []
        self.usage_log: list[dict] = []
        self._malformed = 0
        self._cache: set[str] = set()
        self._batches: dict[str, dict] = {}

    # -- knobs -------------------------------------------------------------------
    def reset(self) -> None:
        super().reset()
        with self._state:
            self._init_state()

    def rate_limit_next(self, path: str = MESSAGES, times: int = 1, retry_after: str = "0",
                        ) -> None:
        """The next `times` requests to `path` get 429 with `retry-after: retry_after`."""
        self.fail_next(path, 429, times, {"retry-after": retry_after, **FAST_RETRY},
                       error(429, "rate_limit_error", "Number of request tokens has exceeded "
                             "your per-minute rate limit").body)

    def overload_next(self, path: str = MESSAGES, times: int = 1) -> None:
        """The next `times` requests to `path` get 529 `overloaded_error`."""
        self.fail_next(path, 529, times, dict(FAST_RETRY),
                       error(529, "overloaded_error", "Overloaded").body)

    def malformed_next(self, times: int = 1) -> None:
        """The next `times` answers (direct or batched) are text, without the tool call."""
        with self._state:
            self._malformed += times

    def results_of(self, batch_id: str) -> list[dict]:
        """The result lines of an ended batch, in the order the results file gives them."""
        with self._state:
            return list(self._batches[batch_id]["results"] or [])

    # -- transport ---------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        given = request.headers.get("x-api-key") or request.headers.get(
            "authorization", "").removeprefix("Bearer ")
        if given == self.key and request.headers.get("anthropic-version"):
            response = super().handle(request)
        else:
            with self._lock:
                self.log.append(request)
            response = error(401, "authentication_error", "invalid x-api-key")
        # A fresh Response: fail_next queues the same object `times` times.
        return Response(response.status, response.body,
                        {"request-id": f"req_{next(self._ids):024x}", **response.headers})

    # -- messages ------------------------------------------------------------------
    def _messages(self, request: Request, _: dict) -> Response:
        if problem := _invalid(request.body):
            return error(400, "invalid_request_error", problem)
        with self._state:
            self.sent.append(request.body)
        return Response(200, self._answer(request.body, batch=False))

    def _answer(self, params: dict, batch: bool) -> dict:
        """A Message for `params`, with usage as the API would count it."""
        choice = params.get("tool_choice") or {}
        tools = params.get("tools") or []
        name = choice.get("name") or (tools[0].get("name") if tools else None)
        answer = self.responder(params)
        with self._state:
            malformed, self._malformed = self._malformed > 0, max(0, self._malformed - 1)
        if isinstance(answer, str) or malformed or name is None:
            text = answer if isinstance(answer, str) else "I found no mentions."
            content = [{"type": "text", "text": text, "citations": None}]
            stop, output = "end_turn", _tokens(text)
        else:
            tool_input = {"mentions": answer}
            content = [{"type": "tool_use", "id": f"toolu_{next(self._ids):024x}",
                        "name": name, "input": tool_input}]
            stop, output = self.tool_stop_reason, _tokens(tool_input) + 10
        usage = self._usage(params, output, batch)
        return {"id": f"msg_{next(self._ids):024x}", "type": "message", "role": "assistant",
                "model": params["model"], "content": content, "stop_reason": stop,
                "stop_sequence": None, "usage": usage}

    def _usage(self, params: dict, output: int, batch: bool) -> dict:
        prefix = [params.get("tools"), params.get("system")]
        total = _tokens([*prefix, params.get("messages")])
        prefix_tokens = _tokens(prefix)
        system = params.get("system")
        marked = isinstance(system, list) and bool(system) and "cache_control" in system[-1]
        write = read = 0
        if marked and prefix_tokens >= self.min_cache_tokens:
            key = json.dumps([params.get("model"), *prefix], sort_keys=True)
            with self._state:
                cached = key in self._cache
                self._cache.add(key)
            write, read = (0, prefix_tokens) if cached else (prefix_tokens, 0)
        usage = {"input_tokens": total - write - read, "output_tokens": output,
                 "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
                 "cache_creation": {"ephemeral_5m_input_tokens": write,
                                    "ephemeral_1h_input_tokens": 0},
                 "server_tool_use": None, "service_tier": "batch" if batch else "standard"}
        with self._state:
            self.usage_log.append(usage)
        return usage

    # -- batches -------------------------------------------------------------------
    def _create_batch(self, request: Request, _: dict) -> Response:
        body = request.body if isinstance(request.body, dict) else {}
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            return error(400, "invalid_request_error", "requests: must be a non-empty list")
        ids = [r.get("custom_id") if isinstance(r, dict) else None for r in requests]
        for index, item in enumerate(requests):
            if not isinstance(ids[index], str) or not _CUSTOM_ID.match(ids[index]):
                return error(400, "invalid_request_error", f"requests.{index}.custom_id: "
                             "must match ^[a-zA-Z0-9_-]{1,64}$")
            if problem := _invalid(item.get("params")):
                return error(400, "invalid_request_error", f"requests.{index}.params.{problem}")
        if len(set(ids)) != len(ids):
            return error(400, "invalid_request_error", "requests: custom_id must be unique")
        now = datetime.now(UTC)
        batch_id = f"msgbatch_{next(self._ids):024x}"
        with self._state:
            self.sent += [item["params"] for item in requests]
            self._batches[batch_id] = {
                "requests": requests, "polls": 0, "results": None, "ended_at": None,
                "status": "in_progress", "cancel_initiated_at": None,
                "created_at": now.isoformat().replace("+00:00", "Z"),
                "expires_at": (now + timedelta(days=1)).isoformat().replace("+00:00", "Z")}
        return Response(200, self._batch_object(batch_id))

    def _retrieve_batch(self, request: Request, params: dict) -> Response:
        batch_id = params["id"]
        with self._state:
            batch = self._batches.get(batch_id)
        if batch is None:
            return error(404, "not_found_error", f"No batch with id {batch_id}")
        if batch["status"] != "ended":
            batch["polls"] += 1
            if batch["status"] == "canceling":
                self._end(batch, canceled=True)
            elif self.polls_to_end is not None and batch["polls"] >= self.polls_to_end:
                self._end(batch, canceled=False)
        return Response(200, self._batch_object(batch_id))

    def _cancel(self, request: Request, params: dict) -> Response:
        with self._state:
            batch = self._batches.get(params["id"])
            if batch is not None and batch["status"] == "in_progress":
                batch["status"], batch["cancel_initiated_at"] = "canceling", _now()
        if batch is None:
            return error(404, "not_found_error", f"No batch with id {params['id']}")
        return Response(200, self._batch_object(params["id"]))

    def _results(self, request: Request, params: dict) -> Response:
        with self._state:
            batch = self._batches.get(params["id"])
        if batch is None or batch["results"] is None:
            return error(404, "not_found_error", "Batch results are not available yet")
        lines = "".join(json.dumps(line) + "\n" for line in batch["results"])
        return Response(200, lines, {"Content-Type": "application/binary"})

    def _end(self, batch: dict, canceled: bool) -> None:
        results = []
        for item in batch["requests"]:
            custom_id = item["custom_id"]
            if custom_id in self.missing_ids:
                continue
            if canceled:
                result: dict = {"type": "canceled"}
            elif custom_id in self.errored_ids:
                result = {"type": "errored", "error": {"type": "error", "error": {
                    "type": "overloaded_error", "message": "Overloaded"}}}
            elif custom_id in self.expired_ids:
                result = {"type": "expired"}
            else:
                result = {"type": "succeeded",
                          "message": self._answer(item["params"], batch=True)}
            results.append({"custom_id": custom_id, "result": result})
        shuffled = list(results)
        random.Random(f"{self.seed}:{len(results)}").shuffle(shuffled)
        if len(shuffled) > 1 and shuffled == results:  # results never in request order
            shuffled.reverse()
        with self._state:
            batch.update(results=shuffled, status="ended", ended_at=_now())

    def _batch_object(self, batch_id: str) -> dict:
        with self._state:
            batch = dict(self._batches[batch_id])
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        if batch["results"] is None:
            counts["processing"] = len(batch["requests"])
        for line in batch["results"] or []:
            counts[line["result"]["type"]] += 1
        ended = batch["status"] == "ended"
        return {"id": batch_id, "type": "message_batch",
                "processing_status": batch["status"], "request_counts": counts,
                "ended_at": batch["ended_at"], "created_at": batch["created_at"],
                "expires_at": batch["expires_at"], "archived_at": None,
                "cancel_initiated_at": batch["cancel_initiated_at"],
                "results_url": f"{self.url}{BATCHES}/{batch_id}/results" if ended else None}


def _invalid(params: Any) -> str | None:
    """The first problem the API would report for a messages body, minimally checked."""
    if not isinstance(params, dict):
        return "body: must be a JSON object"
    if not isinstance(params.get("model"), str) or not params["model"]:
        return "model: Field required"
    max_tokens = params.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        return "max_tokens: must be an integer greater than or equal to 1"
    if not isinstance(params.get("messages"), list) or not params["messages"]:
        return "messages: must be a non-empty list"
    return None
