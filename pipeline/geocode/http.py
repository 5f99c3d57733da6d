"""Geocode HTTP: the guarded geopy adapter every online request goes through.

geopy's own ``RequestsAdapter`` reads a whole body whatever its size or pace and
follows redirects anywhere; a hostile or broken server could then hold a run for
ever (one byte a second), fill the memory (a 194 KB gzip answer that inflates to
200 MB) or send the run to another host past the rate limit. This adapter:

* paces *every* HTTP request, redirect hops included, through one callable
  (the stage's rate limit), so a redirect loop cannot outrun 1 request/s;
* follows a redirect only to the same server (scheme, host, port), at most
  :data:`MAX_REDIRECTS` times;
* gives the whole request (headers and body) one deadline, checked between reads
  of whatever bytes have arrived, so a trickling body times out;
* stops reading once the *decoded* body passes ``max_bytes``.

:func:`server_of` normalises a server's address (case, trailing dot, default
port) for the cache key and for the public-Nominatim guard.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from geopy.adapters import AdapterHTTPError, BaseSyncAdapter
from geopy.exc import (
    GeocoderParseError,
    GeocoderServiceError,
    GeocoderTimedOut,
    GeocoderUnavailable,
)

#: Same-server redirects followed before the request is refused.
MAX_REDIRECTS = 3
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CHUNK = 65536


class RefusedAnswer(GeocoderServiceError):
    """A server's answer the pipeline will not use: too big, redirected away, bad shape.

    A subclass, so the stage does not retry it as it retries a plain service error.
    """


def server_of(scheme: str, domain: str) -> str:
    """``scheme://host:port`` of a provider's server, normalised.

    >>> server_of("https", "Nominatim.OpenStreetMap.org.:443")
    'https://nominatim.openstreetmap.org:443'
    >>> server_of("http", "127.0.0.1:8080/nominatim")
    'http://127.0.0.1:8080'
    """
    scheme = (scheme or "https").strip().lower()
    parts = urlsplit(f"{scheme}://{domain.strip()}")
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:  # a port that is not a number: the request will fail with it
        port = 0
    return f"{scheme}://{host}:{port}"


def host_of(scheme: str, domain: str) -> str:
    """The normalised host name alone (for the public-server guard).

    >>> host_of("https", " NOMINATIM.openstreetmap.org.:443 ")
    'nominatim.openstreetmap.org'
    """
    return urlsplit(server_of(scheme, domain)).hostname or ""


class GuardedAdapter(BaseSyncAdapter):
    """A geopy adapter over ``requests`` with a pace, a deadline, a size limit, no escape.

    Built by :func:`pipeline.geocode.online.make_online_geocoder` through
    ``functools.partial`` (geopy passes ``proxies`` and ``ssl_context``).
    """

    def __init__(
        self,
        *,
        proxies: Any,
        ssl_context: Any,
        pace: Callable[[], None],
        check: Callable[[Any], None],
        total_seconds: float,
        max_bytes: int,
    ) -> None:
        super().__init__(proxies=proxies, ssl_context=ssl_context)
        self.pace = pace
        self.check = check
        self.total_seconds = total_seconds
        self.max_bytes = max_bytes
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or netrc from the environment
        if proxies:
            self.session.proxies = proxies
        # requests retries nothing by default: retries are the stage's, each paced

    def get_json(self, url: str, *, timeout: float, headers: dict[str, str]) -> Any:
        body = self._fetch(url, headers)
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise GeocoderParseError(
                f"not JSON: {body[:80].decode('utf-8', 'replace')!r}"
            ) from None
        self.check(data)  # the provider's shape, before geopy parses it
        return data

    def get_text(self, url: str, *, timeout: float, headers: dict[str, str]) -> str:
        return self._fetch(url, headers).decode("utf-8", "replace")

    def _fetch(self, url: str, headers: dict[str, str]) -> bytes:
        origin = _origin(url)
        deadline = time.monotonic() + self.total_seconds
        for _hop in range(MAX_REDIRECTS + 1):
            self.pace()
            left = deadline - time.monotonic()
            if left <= 0:
                raise GeocoderTimedOut(f"no answer within {self.total_seconds:g} s in all")
            try:
                response = self.session.get(
                    url, headers=headers, timeout=left, stream=True, allow_redirects=False
                )
            except requests.Timeout:
                raise GeocoderTimedOut(f"no answer within {self.total_seconds:g} s") from None
            except requests.RequestException as exc:
                raise GeocoderUnavailable(str(exc)) from None
            with response:
                if response.is_redirect:
                    target = urljoin(url, response.headers.get("location", ""))
                    if _origin(target) != origin:
                        raise RefusedAnswer(
                            f"redirected to another server ({_origin(target)}): not followed"
                        )
                    url = target
                    continue
                body = self._read(response, deadline)
                if response.status_code >= 400:
                    raise AdapterHTTPError(
                        f"Non-successful status code {response.status_code}",
                        status_code=response.status_code,
                        headers=response.headers,
                        text=body.decode("utf-8", "replace"),
                    )
                return body
        raise RefusedAnswer(f"more than {MAX_REDIRECTS} redirects")

    def _read(self, response: requests.Response, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise RefusedAnswer(f"answer of {int(declared):,} bytes (limit {self.max_bytes:,})")
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                if time.monotonic() > deadline:
                    raise GeocoderTimedOut(
                        f"answer not complete within {self.total_seconds:g} s (a slow body)"
                    )
                # read1: what has arrived (at most one read), decoded: a trickle or
                # a gzip bomb is seen between reads, never after the whole body
                chunk = response.raw.read1(_CHUNK, decode_content=True)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > self.max_bytes:
                    raise RefusedAnswer(
                        f"answer over {self.max_bytes:,} bytes once decoded: not read further"
                    )
                chunks.append(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if "timed out" in str(exc).lower():
                raise GeocoderTimedOut(f"answer not complete within the limit ({exc})") from None
            raise GeocoderUnavailable(f"answer broken off: {type(exc).__name__}: {exc}") from None

    def __del__(self) -> None:
        session = getattr(self, "session", None)
        if session is not None:
            with contextlib.suppress(TypeError):  # interpreter shutdown
                session.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return server_of(parts.scheme, parts.netloc)
