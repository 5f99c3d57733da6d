"""A `camps serve` app on a real uvicorn server in a thread, and a tiny HTTP client for tests.

The server binds 127.0.0.1 on a free port the OS picks and stops when the
``with`` block ends (bounded: it fails rather than hangs when it does not start).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def running(app: Any, start_timeout: float = 20.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1:<free port>; yield its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_keep_alive=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def call(
    url: str,
    data: dict[str, Any] | None = None,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, dict[str, str], bytes]:
    """GET (or POST a form / a JSON body); return status, headers (lower-case) and body."""
    body = None
    sent = dict(headers or {})
    if data is not None:
        body = urllib.parse.urlencode(data).encode("utf-8")
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    elif json_body is not None:
        body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        sent["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            got = {k.lower(): v for k, v in response.headers.items()}
            return response.status, got, response.read()
    except urllib.error.HTTPError as exc:
        got = {k.lower(): v for k, v in exc.headers.items()}
        return exc.code, got, exc.read()


def call_json(url: str, **kwargs: Any) -> tuple[int, Any]:
    """:func:`call`, the body parsed as JSON."""
    status, _, body = call(url, **kwargs)
    return status, json.loads(body)


def raw_exchange(port: int, head: bytes, body_parts: list[bytes], pause: float = 0.0) -> bytes:
    """Send a raw request (headers, then body parts with pauses); return what comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head)
        for part in body_parts:
            time.sleep(pause)
            try:
                conn.sendall(part)
            except OSError:  # the server refused and closed: read its answer
                break
        chunks = []
        with contextlib.suppress(OSError):
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                    break
        return b"".join(chunks)


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False
