"""A local webhook receiver for the notification tests.

It listens on 127.0.0.1, records every request (path, headers, body, JSON), and
answers 200 unless told otherwise: a scripted list of answers (500, 429 with a
``Retry-After`` header or Discord's ``retry_after`` body, anything), a delay before
answering (a slow target), and it can be stopped and started again on the same port
(a target that is down for a while).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    """One scripted answer."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    """One recorded request."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """Records requests; see the module's doc. Use as a context manager or start()/stop()."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers: list[Answer] = []
        self.delay = 0.0
        self.port = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    answer = receiver.answers.pop(0) if receiver.answers else Answer()
                    receiver.requests.append(
                        Received(self.command, self.path, dict(self.headers.items()), body, answer.status)
                    )
                    delay = receiver.delay
                if delay:
                    time.sleep(delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                try:
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up (a slow-target test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (the port is kept for start())."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail(self, status: int = 500, times: int = 1, body: bytes = b"server error") -> None:
        """The next ``times`` requests get ``status``."""
        self.answers += [Answer(status, body) for _ in range(times)]

    def rate_limit(self, seconds: float, *, style: str = "header") -> None:
        """The next request gets a 429 asking to wait ``seconds``: a ``Retry-After`` header
        (Slack, generic) or, with ``style="body"``, Discord's JSON ``retry_after``."""
        if style == "header":
            self.answers.append(Answer(429, b"rate limited", {"Retry-After": f"{seconds:g}"}))
        else:
            body = json.dumps({"message": "You are being rate limited.", "retry_after": seconds, "global": False})
            self.answers.append(Answer(429, body.encode(), {"Content-Type": "application/json"}))

    # -- reading -------------------------------------------------------------------

    def received(self, path: str | None = None, *, status: int | None = 200) -> list[Received]:
        """Recorded requests (to ``path``, answered with ``status``; None: any)."""
        with self._lock:
            return [
                r for r in self.requests if (path is None or r.path == path) and (status is None or r.status == status)
            ]
