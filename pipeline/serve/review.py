"""``camps serve --review``: the review queue and decisions over HTTP, for the web map.

``GET /review/queue`` is the queue of the reconciled CSV by name (row counts,
region, candidates with their points, the reason it waits) less the names the
overrides file decides already; ``POST /review/decide`` records one decision
(accept a candidate, reject all, or place a point) with who, when and why;
``GET /review/layers`` is the web map's FeatureCollection with every decision
drawn (:mod:`pipeline.serve.layers`), which the page draws after each one.
Every write goes through :func:`pipeline.review.decide`, so the overrides file
has one writer, its lock held from read to rename. Without ``--review`` all
three answer 403: the service is read-only.
"""

from __future__ import annotations

import dataclasses
import datetime
import getpass
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pipeline import overrides as ov
from pipeline import review
from pipeline.errors import InputDataError, ParamsError
from pipeline.places import Place
from pipeline.serve.layers import LiveLayers
from pipeline.serve.service import RequestError

if TYPE_CHECKING:
    from pipeline.geocode.radii import Doubt

#: The fields a decision may carry; anything else is a mistake worth a 400.
DECIDE_FIELDS = frozenset(("name", "region", "action", "place_id", "lat", "lon", "who", "why"))
#: Longest name, who or why accepted (a decision is a short note, not a document).
MAX_TEXT = 500


@dataclasses.dataclass(frozen=True)
class ReviewFiles:
    """What a served review reads and writes."""

    input_path: Path
    gazetteer_dir: Path
    overrides_path: Path
    #: the geocoded CSV the served site was exported from: its layers are redrawn live
    rows_path: Path | None = None
    #: the layers' title (params.yaml ``export.title``)
    title: str = ""
    #: how a reading's doubt widens a redrawn row's radius (params.yaml ``geocode``)
    doubt: Doubt | None = None


def queue_json(files: ReviewFiles, places: Mapping[str, Place] | None = None) -> dict[str, Any]:
    """The pending queue as the page reads it (``places``: the loaded gazetteer's)."""
    items = review.pending(files.input_path, files.gazetteer_dir, files.overrides_path, places)
    return {
        "names": len(items),
        "rows": sum(q.rows for q in items),
        "queue": [
            {
                "katakana": q.katakana,
                "region": q.region,
                "scope": q.scope,
                "rows": q.rows,
                "record_ids": list(q.record_ids),
                "score": q.score,
                "reason": q.reason,
                "candidates": [dataclasses.asdict(c) for c in q.candidates],
            }
            for q in items
        ],
    }


def _text(body: dict[str, Any], name: str, required: bool = False) -> str:
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RequestError(400, f"{name} must be a string")
    if len(value) > MAX_TEXT:
        raise RequestError(400, f"{name} is over {MAX_TEXT} characters")
    if required and not value.strip():
        raise RequestError(400, f"{name} is required")
    return value.strip()


def _degrees(body: dict[str, Any], name: str, limit: float) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RequestError(400, f"{name} must be a number of decimal degrees")
    try:
        number = float(value)
    except ValueError:
        raise RequestError(400, f"{name} must be a number of decimal degrees") from None
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise RequestError(400, f"{name} must be from -{limit:g} to {limit:g}, got {value!r:.30}")
    return number


def _user() -> str:
    """Who runs the service (it binds 127.0.0.1: the person at this machine), else unknown."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def parse_decision(body: Any) -> dict[str, Any]:
    """Check a ``/review/decide`` body; raise a 400 naming the field that is wrong."""
    if not isinstance(body, dict):
        raise RequestError(400, "the body must be a JSON object")
    unknown = sorted(set(body) - DECIDE_FIELDS)
    if unknown:
        known = ", ".join(sorted(DECIDE_FIELDS))
        raise RequestError(400, f"unknown field(s) {', '.join(unknown)[:100]}: use {known}")
    action = _text(body, "action", True)
    if action not in review.ACTIONS:
        raise RequestError(400, f"action must be one of {', '.join(review.ACTIONS)}")
    out: dict[str, Any] = {
        "name": _text(body, "name", True),
        "region": _text(body, "region"),
        "action": action,
        "place_id": _text(body, "place_id", action == "accept"),
        "who": _text(body, "who") or _user(),
        "why": _text(body, "why"),
        "point": None,
    }
    if action == "place":
        out["point"] = (_degrees(body, "lat", 90.0), _degrees(body, "lon", 180.0))
    elif "lat" in body or "lon" in body:
        raise RequestError(400, "lat and lon go with action place only")
    return out


class ReviewApi:
    """The review routes over :class:`ReviewFiles`, or refusals when there are none.

    ``on_saved`` is called with each decision once written and answers how many
    rows of ``layers`` (the live map, if any) it redrew.
    """

    def __init__(
        self,
        files: ReviewFiles | None,
        places: Mapping[str, Place] | None = None,
        on_saved: Callable[[ov.Override], int] | None = None,
        layers: LiveLayers | None = None,
    ) -> None:
        self.files = files
        self.places = places
        self.on_saved = on_saved
        self.layers = layers
        self._one_writer = anyio.CapacityLimiter(1)

    def _files(self) -> ReviewFiles:
        if self.files is None:
            raise RequestError(
                403, "read-only: start `camps serve --review` to review (on 127.0.0.1 only)"
            )
        return self.files

    async def queue(self, request: Request) -> Response:
        files = self._files()
        try:
            found = await anyio.to_thread.run_sync(lambda: queue_json(files, self.places))
        except (InputDataError, ParamsError) as exc:
            raise RequestError(409, str(exc)) from None
        return JSONResponse(found)

    async def decide(self, request: Request, body: Any) -> Response:
        files = self._files()
        asked = parse_decision(body)
        when = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")

        def write() -> tuple[ov.Override, int]:
            done = review.decide(
                files.input_path,
                files.gazetteer_dir,
                files.overrides_path,
                asked["name"],
                asked["action"],
                place_id=asked["place_id"],
                point=asked["point"],
                region=asked["region"],
                note=asked["why"],
                reviewer=asked["who"],
                when=when,
                places=self.places,
            )
            redrawn = self.on_saved(done) if self.on_saved is not None else 0
            return done, redrawn

        try:
            done, redrawn = await anyio.to_thread.run_sync(write, limiter=self._one_writer)
        except ParamsError as exc:
            raise RequestError(400, str(exc)) from None
        except InputDataError as exc:
            raise RequestError(409, str(exc)) from None
        return JSONResponse({"status": "ok", "decision": dict(done.cells), "rows_redrawn": redrawn})

    async def layers_json(self, request: Request) -> Response:
        """``GET /review/layers``: the map's features with every decision so far drawn."""
        self._files()
        layers = self.layers
        if layers is None:
            raise RequestError(
                409,
                "no geocoded rows to redraw: start `camps serve --review --rows "
                "output/stages/geocoded.csv` (the file the site was exported from)",
            )
        return JSONResponse(await anyio.to_thread.run_sync(layers.collection))
