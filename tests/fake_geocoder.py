"""A local HTTP server on 127.0.0.1 that answers like Nominatim's ``/search`` (JSON)
and GeoNames' ``/searchJSON``.

Tests point geopy's Nominatim at it through ``domain`` and ``scheme: http`` so the
online path runs end to end without leaving the machine. Each query can be told
to misbehave: answer slowly, with HTTP 429 or 500, or with a malformed body, and
the hostile answers of issue 21: a body that trickles one byte at a time, a gzip
bomb, a redirect to this server, to another one or in a loop, a 429 with a huge
Retry-After, a JSON string, number or list of junk, a GeoNames population "1e5".
Every request is recorded with its time, so tests can count requests (the
cache) and measure the gaps between them (the rate limit).
"""

from __future__ import annotations

import functools
import gzip
import io
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
    # geonames:2017370 (Чита)
    "Чита": [
        {
            "lat": "52.03171",
            "lon": "113.50087",
            "display_name": "Чита, Забайкальский край, Россия",
            "class": "place",
            "type": "city",
        }
    ],
    # geonames:1497337 (asked by the fallback for the register spelling ナリリスク)
    "Норильск": [
        {
            "lat": "69.3535",
            "lon": "88.2027",
            "display_name": "Норильск, Красноярский край, Россия",
            "class": "place",
            "type": "city",
        }
    ],
    # geonames:1514402 (asked for the register spelling ベカワード)
    "Бекабад": [
        {
            "lat": "40.22083",
            "lon": "69.26972",
            "display_name": "Бекабад, Ташкентская область, Узбекистан",
            "class": "place",
            "type": "town",
        }
    ],
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
    #: "ok", "slow" (sleeps ``slow_seconds`` then answers), "429", "500", "malformed",
    #: "trickle" (one byte every ``slow_seconds``), "gzip_bomb" (about 200 MB inflated),
    #: "redirect_same" (to this server's own /search), "redirect_away" (to another
    #: port), "redirect_loop" (to itself for ever), "429_forever" (Retry-After: 100000),
    #: "json_string", "json_number", "json_junk" (a list of strings), "bad_population".
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

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _trickle(self, body: bytes) -> None:
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(state.slow_seconds)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _gzip_bomb(self) -> None:
            body = gzip_bomb()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_GET(self) -> None:
            url = urlparse(self.path)
            geonames = url.path == "/searchJSON"
            if url.path not in ("/search", "/searchJSON"):
                self._send(404, b'{"error": "not found"}')
                return
            query = parse_qs(url.query).get("q", [""])[0]
            what = state.behaviour(query)
            answer = _geonames(ANSWERS.get(query, [])) if geonames else ANSWERS.get(query, [])
            body = json.dumps(answer, ensure_ascii=False).encode("utf-8")
            if what == "slow":
                time.sleep(state.slow_seconds)
            if what == "trickle":
                self._trickle(body)
            elif what == "gzip_bomb":
                self._gzip_bomb()
            elif what == "redirect_same":
                self._redirect(self.path + "&hop=1")
            elif what == "redirect_away":
                self._redirect(f"http://127.0.0.1:{state.port + 1}{self.path}")
            elif what == "redirect_loop":
                self._redirect(self.path)
            elif what == "429_forever":
                try:
                    self.send_response(429)
                    self.send_header("Retry-After", "100000")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    pass
            elif what == "json_string":
                self._send(200, json.dumps(query, ensure_ascii=False).encode("utf-8"))
            elif what == "json_number":
                self._send(200, b"1e400")
            elif what == "json_junk":
                self._send(200, b'["a", {"lat": "north"}, [1, 2]]')
            elif what == "bad_population":
                bad = {"geonames": [dict(_geonames(ANSWERS["Тайшет"])["geonames"][0])]}
                bad["geonames"][0]["population"] = "1e5"
                self._send(200, json.dumps(bad, ensure_ascii=False).encode("utf-8"))
            elif what == "429":
                self._send(429, b'{"error": "Too Many Requests"}')
            elif what == "500":
                self._send(500, b"<html>Internal Server Error</html>", "text/html")
            elif what == "malformed":
                self._send(200, b"<html><body>Bad Gateway</body", "text/html")
            else:
                self._send(200, body)

    return Handler


@functools.cache
def gzip_bomb() -> bytes:
    """About 200 MB of spaces gzipped into about 194 KB (the probe's bomb)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as gz:
        block = b" " * 1_000_000
        for _ in range(200):
            gz.write(block)
    return out.getvalue()


def _geonames(results: list[dict[str, object]]) -> dict[str, object]:
    """The same places in the GeoNames ``searchJSON`` shape."""
    return {
        "totalResultsCount": len(results),
        "geonames": [
            {
                "lat": r["lat"],
                "lng": r["lon"],
                "name": str(r["display_name"]).split(",")[0],
                "countryCode": "RU",
                "population": 40000,
            }
            for r in results
        ],
    }


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
