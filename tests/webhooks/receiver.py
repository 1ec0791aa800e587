"""A real HTTP receiver for webhook tests, a settable clock, and checks done independently of
segmint (signatures with hmac/hashlib directly).

The receiver (``http.server`` on 127.0.0.1, port 0, in a thread) records every request and
answers from a script: a status code, or ``"hang"`` (wait until released, then 200).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

T0 = datetime(2030, 1, 1, 12, 0, 0)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Answers POSTs from ``script`` (then ``default``) and records them."""

    def __init__(self, script: list[int | str] | None = None, default: int | str = 200):
        self.script = list(script or [])
        self.default = default
        self.requests: list[Received] = []
        self.answered: list[tuple[bytes, int]] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a client that gave up
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def _next_answer(self, received: Received) -> int | str:
        with self._lock:
            self.requests.append(received)
            return self.script.pop(0) if self.script else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received = Received(self.path, dict(self.headers.items()), body)
                answer = receiver._next_answer(received)
                if answer == "hang":
                    receiver.release.wait(20)
                    answer = 200
                self.send_response(int(answer))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                with receiver._lock:
                    receiver.answered.append((body, int(answer)))

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def successes(self) -> list[bytes]:
        with self._lock:
            return [body for body, status in self.answered if 200 <= status < 300]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Clock:
    """A settable naive-UTC clock for Deliverers."""

    def __init__(self, start: datetime = T0):
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)


def expected_signature(secret: str, body: bytes, timestamp: int) -> str:
    """The signature computed here, independently of segmint.webhooks.signing."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_is_valid(secret: str, received: Received) -> bool:
    fields = dict(part.split("=", 1) for part in received.headers["Segmint-Signature"].split(","))
    return hmac.compare_digest(
        fields["v1"], expected_signature(secret, received.body, int(fields["t"]))
    )


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait for ``condition`` (a guard against hanging, not a speed check)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
