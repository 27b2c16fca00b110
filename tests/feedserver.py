"""A tiny HTTP server on 127.0.0.1 for tests: canned answers per path, request log, ETag/304."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Answer:
    """What the server sends for one path. `hang` = accept the request and never answer."""

    body: bytes = b""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None
    hang: bool = False
    gate: threading.Event | None = None  # `hold`: answered (with the path's answer then) once set


@dataclass(frozen=True)
class Seen:
    """One request the server received, and when (time.monotonic(), at its arrival)."""

    path: str
    headers: Mapping[str, str]
    at: float = field(default_factory=time.monotonic)


class FeedServer:
    """Serves canned answers on 127.0.0.1 (random port) from a background thread.

    Usable as `with FeedServer() as server:` or `async with FeedServer() as server:`;
    being a separate thread, it never blocks the test's event loop.

        server.set("/feed.xml", rss_bytes, headers={"Content-Type": "application/rss+xml"},
                   etag='"v1"')        # answers 304 to If-None-Match: "v1"
        server.url("/feed.xml")        # http://127.0.0.1:PORT/feed.xml
        server.count("/feed.xml")      # requests so far
    Unknown paths get 404.
    """

    def __init__(self) -> None:
        self._answers: dict[str, Answer] = {}
        self._lock = threading.Lock()
        self._released = threading.Event()  # lets hanging handlers finish at shutdown
        self._arrived = threading.Condition(self._lock)  # notified on every request
        self.requests: list[Seen] = []
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # A short poll interval keeps stop() quick (it waits for the serve loop to notice).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def set(
        self,
        path: str,
        body: bytes | str = b"",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        *,
        etag: str | None = None,
    ) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self._answers[path] = Answer(data, status, dict(headers or {}), etag)

    def redirect(self, path: str, to: str, status: int = 302) -> None:
        self.set(path, b"", status, {"Location": to})

    def hang(self, path: str) -> None:
        """Requests to `path` are read, then never answered (until the server stops)."""
        with self._lock:
            self._answers[path] = Answer(hang=True)

    def hold(self, path: str) -> threading.Event:
        """Requests to `path` wait until the returned event is set, then get the answer set
        for `path` by then (`set` it again before releasing to change what they get)."""
        gate = threading.Event()
        with self._lock:
            self._answers[path] = replace(self._answers.get(path, Answer()), gate=gate)
        return gate

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for seen in self.requests if seen.path == path)

    def wait_for_requests(self, path: str, count: int, timeout: float) -> bool:
        """Block until `path` has had `count` requests (True), or `timeout` passes (False)."""
        return self.wait_until(
            lambda seen: sum(1 for s in seen if s.path == path) >= count, timeout
        )

    def wait_until(self, predicate: Callable[[list[Seen]], bool], timeout: float) -> bool:
        """Block until `predicate(requests so far)` holds (True), or `timeout` passes (False)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: predicate(self.requests), timeout)

    def log(self) -> list[Seen]:
        """The requests so far, in order of arrival."""
        with self._lock:
            return list(self.requests)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> FeedServer:
        return self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _current(self, path: str) -> Answer | None:
        with self._lock:
            return self._answers.get(path)

    def _answer_for(self, path: str, headers: Mapping[str, str]) -> Answer | None:
        with self._lock:
            self.requests.append(Seen(path, dict(headers)))
            self._arrived.notify_all()
            return self._answers.get(path)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client went away mid-request (a bot killed by a test): nothing to see
        super().handle_error(request, client_address)


def _handler_for(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            answer = server._answer_for(path, {k.lower(): v for k, v in self.headers.items()})
            if answer is not None and answer.gate is not None:
                answer.gate.wait()
                answer = server._current(path)
            if answer is None:
                self._send(404, {}, b"not found")
            elif answer.hang:
                server._released.wait()
                self.close_connection = True
            elif answer.etag and self.headers.get("If-None-Match") == answer.etag:
                self._send(304, {"ETag": answer.etag}, b"")
            else:
                extra = {"ETag": answer.etag} if answer.etag else {}
                self._send(answer.status, {**answer.headers, **extra}, answer.body)

        def _send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client stopped reading (size caps do that)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
