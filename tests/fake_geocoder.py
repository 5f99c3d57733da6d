"""A local HTTP server on 127.0.0.1 that answers like Nominatim's ``/search`` (JSON).

Tests point geopy's Nominatim at it through ``domain`` and ``scheme: http`` so the
online path runs end to end without leaving the machine. Each query can be told
to misbehave: answer slowly, with HTTP 429 or 500, or with a malformed body.
Every request is recorded with its time, so tests can count requests (the
cache) and measure the gaps between them (the rate limit).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

#: Answers in Nominatim's format. Coordinates and names are GeoNames cities500's
#: (ids in comments); no OSM ids are given, since we have none to cite.
ANSWERS: dict[str, list[dict[str, object]]] = {
    # geonames:1489870
    "Тайшет": [
        {
            "lat": "55.93276",
            "lon": "97.98964",
            "display_name": "Тайшет, Иркутская область, Россия",
            "boundingbox": ["55.90", "55.97", "97.93", "98.05"],
            "class": "place",
            "type": "town",
        }
    ],
    # geonames:2037013 (Harbin, China: outside the area on purpose)
    "Харбин": [
        {
            "lat": "45.75",
            "lon": "126.65",
            "display_name": "哈尔滨市, 黑龙江省, 中国",
            "class": "place",
            "type": "city",
        }
    ],
}


@dataclass
class FakeNominatim:
    """The server's state: per-query behaviours and a log of requests."""

    #: query -> behaviours for its 1st, 2nd … request; the last one repeats.
    #: "ok", "slow" (sleeps ``slow_seconds`` then answers), "429", "500", "malformed".
    behaviours: dict[str, list[str]] = field(default_factory=dict)
    slow_seconds: float = 1.0
    requests: list[tuple[float, str]] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def domain(self) -> str:
        return f"{self.host}:{self.port}"

    def count(self, query: str | None = None) -> int:
        with self._lock:
            return sum(1 for _, q in self.requests if query is None or q == query)

    def behaviour(self, query: str) -> str:
        with self._lock:
            self.requests.append((time.monotonic(), query))
            seen = sum(1 for _, q in self.requests if q == query)
        plan = self.behaviours.get(query, ["ok"])
        return plan[min(seen, len(plan)) - 1]


def _handler(state: FakeNominatim) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            return

        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (a timeout test): nothing to answer

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path != "/search":
                self._send(404, b'{"error": "not found"}')
                return
            query = parse_qs(url.query).get("q", [""])[0]
            what = state.behaviour(query)
            if what == "slow":
                time.sleep(state.slow_seconds)
            if what == "429":
                self._send(429, b'{"error": "Too Many Requests"}')
            elif what == "500":
                self._send(500, b"<html>Internal Server Error</html>", "text/html")
            elif what == "malformed":
                self._send(200, b"<html><body>Bad Gateway</body", "text/html")
            else:
                body = json.dumps(ANSWERS.get(query, []), ensure_ascii=False).encode("utf-8")
                self._send(200, body)

    return Handler


def serve(state: FakeNominatim) -> Iterator[FakeNominatim]:
    """Run the server in a thread for the duration of a ``with``/fixture."""
    server = ThreadingHTTPServer((state.host, 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
