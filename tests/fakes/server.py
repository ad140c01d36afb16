"""A tiny real HTTP server on 127.0.0.1 for vendor fakes (one thread per server).

Each vendor fake is a `FakeAPI` with routes; tests steer it with scenario knobs:

    api.fail_next("/v2/calls/extensive", 429, headers={"Retry-After": "2"})
    api.fail_next("/v2/calls/transcript", 503, times=2)
    api.slow("/v2/calls/extensive", seconds=1.0)

and read `api.log` (every request: method, path, query, headers, JSON body) to assert
what a connector sent. Knobs and the log are cleared by `api.reset()`, which
tests/conftest.py calls before every test for each fake inside a `serving(...)` block:

    with serving(api):     # api.url is the base URL until the block ends
        ...
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, raw text, or None

    def arg(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, [default])[0]


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request, dict[str, str]], Response]


class FakeAPI:
    """Routes plus scenario knobs; serve it with `serve()`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[tuple[str, str, Handler]] = []
        self.log: list[Request] = []
        self._failures: dict[str, list[Response]] = {}
        self._slow: dict[str, float] = {}
        self._lock = threading.Lock()
        self.url = ""
        self.latency = 0.0  # seconds added to every request (benchmarks)

    def route(self, method: str, pattern: str):
        """Register a handler; `{name}` segments in the pattern become path params."""
        def register(fn: Handler) -> Handler:
            self.routes.append((method, pattern, fn))
            return fn
        return register

    def fail_next(self, path: str, status: int, times: int = 1,
                  headers: dict[str, str] | None = None, body: Any = None) -> None:
        with self._lock:
            self._failures.setdefault(path, []).extend(
                [Response(status, body if body is not None else {"error": status},
                          dict(headers or {}))] * times)

    def slow(self, path: str, seconds: float) -> None:
        self._slow[path] = seconds

    def reset(self) -> None:
        with self._lock:
            self.log.clear()
            self._failures.clear()
            self._slow.clear()

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.log.append(request)
            queued = self._failures.get(request.path)
            failure = queued.pop(0) if queued else None
        if self.latency:
            time.sleep(self.latency)
        if request.path in self._slow:
            time.sleep(self._slow[request.path])
        if failure:
            return failure
        for method, pattern, fn in self.routes:
            params = _match(pattern, request.path)
            if method == request.method and params is not None:
                return fn(request, params)
        return Response(404, {"error": f"no route {request.method} {request.path}"})

    def serve(self) -> ThreadingHTTPServer:
        """Start serving on 127.0.0.1 on a free port; sets `self.url`. Stop it with
        `stop(server)`."""
        api = self

        class _Handler(BaseHTTPRequestHandler):
            def _do(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                response = api.handle(request)
                payload = b"" if response.body is None else (
                    response.body.encode() if isinstance(response.body, str)
                    else json.dumps(response.body).encode())
                self.send_response(response.status)
                headers = {"Content-Type": "application/json", **response.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _do

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        server = _QuietServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        return server


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # A client that gave up (the timeout tests) leaves a broken pipe: expected here.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _match(pattern: str, path: str) -> dict[str, str] | None:
    want, got = pattern.strip("/").split("/"), path.strip("/").split("/")
    if len(want) != len(got):
        return None
    params = {}
    for w, g in zip(want, got, strict=True):
        if w.startswith("{") and w.endswith("}"):
            params[w[1:-1]] = g
        elif w != g:
            return None
    return params


def stop(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


SERVED: list[FakeAPI] = []  # the fakes inside a `serving` block, in the order served


@contextmanager
def serving(*apis: FakeAPI) -> Iterator[None]:
    """Serve each fake for the duration of the block; stop them all, even on error."""
    servers: list[ThreadingHTTPServer] = []
    try:
        for api in apis:
            servers.append(api.serve())
            SERVED.append(api)
        yield
    finally:
        for api, server in zip(apis, servers, strict=False):
            stop(server)
            SERVED.remove(api)
