"""The HTTP face of the service: Starlette routes, CORS, JSONP and the request limits.

OpenRefine (API 0.2) talks to ``/reconcile``: the manifest on a bare GET,
``queries`` and ``extend`` as form fields or JSON, ``callback`` for JSONP.
The 1.0 draft's endpoints live under ``/v1``. Every refusal is a 4xx with a
JSON body ``{"status": "error", "message": ...}``; the matching itself runs in a
worker thread, one request at a time, so that the event loop keeps reading
other clients and timing out slow ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline import overrides as ov
from pipeline.serve import protocol
from pipeline.serve.layers import LiveLayers
from pipeline.serve.review import ReviewApi, ReviewFiles
from pipeline.serve.service import RequestError, Service

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: A JSONP callback is a JavaScript name (dotted), nothing that could run code.
_CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")
#: Form fields a request may have: more is not an API request.
_MAX_FIELDS = 50


def error_body(status: int, message: str) -> JSONResponse:
    """The JSON error of every refusal (the shape OpenRefine's reconciler expects)."""
    return JSONResponse({"status": "error", "code": status, "message": message}, status)


class Api:
    """The routes over one :class:`Service`."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.limits = service.limits
        self._one_at_a_time = anyio.CapacityLimiter(1)

    # -- plumbing -------------------------------------------------------------

    async def _body(self, request: Request) -> bytes:
        if request.method != "POST":
            return b""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_body_bytes:
            raise RequestError(
                413,
                f"the body has {int(declared):,} bytes, over {self.limits.max_body_bytes:,}: "
                "send fewer queries per batch",
            )
        chunks: list[bytes] = []
        size = 0

        async def collect() -> None:
            nonlocal size
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.limits.max_body_bytes:
                    raise RequestError(
                        413,
                        f"the body is over {self.limits.max_body_bytes:,} bytes: "
                        "send fewer queries per batch",
                    )
                chunks.append(chunk)

        try:
            await asyncio.wait_for(collect(), self.limits.read_timeout_s)
        except TimeoutError:
            raise RequestError(
                408, f"the body did not arrive within {self.limits.read_timeout_s:g} s"
            ) from None
        return b"".join(chunks)

    async def fields(self, request: Request) -> dict[str, Any]:
        """Query-string fields, then the body's (form-encoded or a JSON object)."""
        found: dict[str, Any] = dict(request.query_params)
        body = await self._body(request)
        if not body.strip():
            return found
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError(400, "the body is not UTF-8: send UTF-8 text") from None
        if kind == "application/json":
            data = protocol.loads(text, "the body")
            if not isinstance(data, dict):
                raise RequestError(400, "the JSON body must be an object")
            found.update(data)
            return found
        try:
            form = urllib.parse.parse_qs(
                text, keep_blank_values=True, strict_parsing=False, max_num_fields=_MAX_FIELDS
            )
        except ValueError as exc:
            raise RequestError(400, f"the form body cannot be read ({exc})") from None
        found.update({k: v[-1] for k, v in form.items()})
        return found

    def _deadline(self) -> float:
        return time.monotonic() + self.limits.time_limit_s

    async def run(self, work: Callable[[], T]) -> T:
        """CPU-bound work in a thread, one request at a time (the GIL allows no more)."""
        return await anyio.to_thread.run_sync(work, limiter=self._one_at_a_time)

    @staticmethod
    def reply(data: Any, fields: dict[str, Any]) -> Response:
        """JSON, or JSONP when the request names a ``callback``."""
        callback = fields.get("callback")
        if callback is None or callback == "":
            return JSONResponse(data)
        if not isinstance(callback, str) or not _CALLBACK.match(callback) or len(callback) > 100:
            raise RequestError(400, "callback must be a JavaScript function name")
        body = json.dumps(data, ensure_ascii=False)
        return Response(f"/**/{callback}({body});", media_type="application/javascript")

    @staticmethod
    def _json_field(fields: dict[str, Any], name: str) -> Any:
        value = fields[name]
        return protocol.loads(value, name) if isinstance(value, str) else value

    @staticmethod
    def _base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    # -- API 0.2 --------------------------------------------------------------

    async def reconcile(self, request: Request) -> Response:
        """``/reconcile``: manifest, a query batch or a data extension (API 0.2)."""
        fields = await self.fields(request)
        deadline = self._deadline()
        if "queries" in fields:
            raw = self._json_field(fields, "queries")
            keys, asks = protocol.queries_02(raw, self.service)
            results = await self.run(lambda: self.service.reconcile(asks, deadline))
            return self.reply(
                {k: {"result": r} for k, r in zip(keys, results, strict=True)}, fields
            )
        if "extend" in fields:
            ids, props = protocol.extend_query(self._json_field(fields, "extend"), self.service)
            return self.reply(await self.run(lambda: self.service.extend(ids, props)), fields)
        return self.reply(self.service.manifest(self._base(request)), fields)

    async def suggest_entity(self, request: Request) -> Response:
        fields = dict(request.query_params)
        prefix = fields.get("prefix", "")
        limit = _int(fields.get("limit", "10"), "limit", 1, self.limits.max_limit)
        cursor = _int(fields.get("cursor", "0"), "cursor", 0, 1000)
        found = await self.run(lambda: self.service.suggest(prefix, cursor + limit))
        found["result"] = found["result"][cursor:]
        return self.reply(found, fields)

    async def properties(self, request: Request) -> Response:
        fields = dict(request.query_params)
        limit = fields.get("limit")
        count = _int(limit, "limit", 1, 1000) if limit else None
        return self.reply(self.service.propose_properties(fields.get("type", ""), count), fields)

    async def preview(self, request: Request) -> Response:
        place = self._place(request.query_params.get("id", ""))
        return HTMLResponse(self.service.entities.preview(place))

    def _place(self, place_id: str) -> Any:
        place = self.service.entities.places.get(place_id)
        if place is None:
            raise RequestError(404, f"no place {place_id[:60]!r}: ids come from /reconcile")
        return place

    async def place(self, request: Request) -> Response:
        """``/place/{id}``: the place as JSON, or as Linked Places (``?format=lpf``)."""
        place = self._place(request.path_params["place_id"])
        wanted = request.query_params.get("format", "")
        accept = request.headers.get("accept", "")
        base = self._base(request)
        if wanted == "lpf" or (not wanted and "application/ld+json" in accept):
            return JSONResponse(
                self.service.entities.as_lpf(place, base), media_type="application/ld+json"
            )
        if wanted not in ("", "json"):
            raise RequestError(400, f"format must be json or lpf, got {wanted[:20]!r}")
        return self.reply(self.service.entities.as_json(place, base), dict(request.query_params))

    async def lookup(self, request: Request) -> Response:
        """``/lookup?name=…`` or POST ``{"names": [...]}``: plain JSON for one or many names."""
        fields = await self.fields(request)
        deadline = self._deadline()
        if "names" in fields:
            raw: Any = {"names": self._json_field(fields, "names")}
        else:
            raw = {"names": request.query_params.getlist("name")}
            if request.query_params.get("region"):
                raw = {
                    "names": [
                        {"name": n, "region": request.query_params["region"]} for n in raw["names"]
                    ]
                }
        asks = protocol.lookup_query(raw, self.service)
        results = await self.run(lambda: self.service.lookup(asks, deadline))
        return self.reply({"results": results}, fields)

    # -- API 1.0 draft --------------------------------------------------------

    async def manifest_10(self, request: Request) -> Response:
        base = self._base(request) + "/v1"
        return self.reply(self.service.manifest(base, "1.0-draft"), dict(request.query_params))

    async def match_10(self, request: Request) -> Response:
        fields = await self.fields(request)
        deadline = self._deadline()
        asks = protocol.queries_10(fields, self.service)
        results = await self.run(lambda: self.service.reconcile(asks, deadline))
        return JSONResponse({"results": [{"candidates": r} for r in results]})

    async def extend_10(self, request: Request) -> Response:
        fields = await self.fields(request)
        ids, props = protocol.extend_query(fields, self.service)
        done = await self.run(lambda: self.service.extend(ids, props))
        rows = [
            {"id": i, "properties": [{"id": p, "values": v} for p, v in done["rows"][i].items()]}
            for i in ids
        ]
        return JSONResponse({"meta": done["meta"], "rows": rows})

    # -- camps serve --review -------------------------------------------------

    async def review_decide(self, request: Request, reviewer: ReviewApi) -> Response:
        """``POST /review/decide``: a JSON object from this service's own page only."""
        origin = request.headers.get("origin")
        if origin is not None and origin.rstrip("/") != self._base(request):
            raise RequestError(403, "decisions are taken from this service's own page only")
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise RequestError(415, "send the decision as application/json")
        body = await self._body(request)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError(400, "the body is not UTF-8: send UTF-8 text") from None
        return await reviewer.decide(request, protocol.loads(text, "the body"))


def _int(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise RequestError(400, f"{name} must be a whole number, got {str(value)[:20]!r}") from None
    if not low <= number <= high:
        raise RequestError(400, f"{name} must be from {low} to {high}, got {number}")
    return number


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestError)
    return error_body(exc.status, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: f"no such endpoint {request.url.path[:80]}: see the manifest at /reconcile"}
    return error_body(exc.status_code, message.get(exc.status_code, str(exc.detail)))


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("serve: unexpected error on %s", request.url.path)
    return error_body(500, "internal error: the service logged it")


def make_app(
    service: Service, site_dir: Path | None = None, review: ReviewFiles | None = None
) -> Starlette:
    """The ASGI application of ``camps serve`` over a loaded :class:`Service`.

    ``site_dir`` (the export's ``output/site``) is served under ``/site/``, so the
    web map's search also asks this service's ``/lookup`` for any name.
    ``review`` (``--review``) opens ``/review/queue``, ``/review/decide`` and
    ``/review/layers`` (after each decision the service answers with the
    overrides file as it now is, and the layers redraw the rows it decides,
    from ``review.rows_path``); without it they answer 403.
    """
    api = Api(service)
    places = service.index.gazetteer.places
    layers = None
    if review is not None and review.rows_path is not None and review.rows_path.is_file():
        layers = LiveLayers(
            review.rows_path,
            service.index,
            service.reconcile_params,
            service.overrides,
            review.title,
            review.doubt,
        )

    def reload(decided: ov.Override) -> int:
        """/lookup and /reconcile answer with the new decision; the map redraws its rows."""
        if review is None:
            return 0
        service.use_overrides(ov.read(review.overrides_path, places))
        return layers.update(service.overrides, [decided]) if layers is not None else 0

    reviewer = ReviewApi(review, places, reload, layers)

    async def review_decide(request: Request) -> Response:
        return await api.review_decide(request, reviewer)

    both = ["GET", "POST"]
    routes: list[BaseRoute] = [
        Route("/", api.reconcile, methods=both),
        Route("/reconcile", api.reconcile, methods=both),
        Route("/suggest/entity", api.suggest_entity, methods=["GET"]),
        Route("/properties", api.properties, methods=["GET"]),
        Route("/preview", api.preview, methods=["GET"]),
        Route("/place/{place_id:path}", api.place, methods=["GET"]),
        Route("/lookup", api.lookup, methods=both),
        Route("/v1", api.manifest_10, methods=["GET"]),
        Route("/v1/match", api.match_10, methods=["POST"]),
        Route("/v1/suggest/entity", api.suggest_entity, methods=["GET"]),
        Route("/v1/extend", api.extend_10, methods=["POST"]),
        Route("/v1/extend/propose", api.properties, methods=["GET"]),
        Route("/v1/preview", api.preview, methods=["GET"]),
        Route("/review/queue", reviewer.queue, methods=["GET"]),
        Route("/review/decide", review_decide, methods=["POST"]),
        Route("/review/layers", reviewer.layers_json, methods=["GET"]),
    ]
    if site_dir is not None:
        routes.append(Mount("/site", app=StaticFiles(directory=site_dir, html=True), name="site"))
    cors = Middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"], allow_headers=["*"]
    )
    return Starlette(
        routes=routes,
        middleware=[cors],
        exception_handlers={
            RequestError: _refused,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
