"""Geocode stage run: read the reconciled rows, place each row (override, gazetteer,
online provider, region fallback) and write the geocoded file."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geopy.geocoders.base import Geocoder

from pipeline import overrides as ov
from pipeline.errors import GeocoderError
from pipeline.geocode.online import (
    OnlineGeocoder,
    OnlineStopped,
    make_online_geocoder,
    online_query,
)
from pipeline.geocode.params import GeocodeParams, Provider
from pipeline.geocode.points import (
    PLACED_DECISIONS,
    ROW_POINT_COLUMNS,
    OfflinePlaces,
    Point,
    at_most_less_certain,
    best_place_id,
    outside_reason,
    row_point,
)
from pipeline.io import CHUNK_ROWS, Row, merge_columns, read_csv_chunks, write_csv
from pipeline.overrides import Override
from pipeline.places import load
from pipeline.records import GEOCODE_COLUMNS, Decision

logger = logging.getLogger(__name__)

#: Said in the layer metadata by the export stage (the ministry map's NOTE 2).
PRINCIPAL_AREA_NOTE = (
    "The map's symbols show the principal area of the labor camp location "
    "(NOTE 2 of the ministry's map): a point marks the place a camp or camp district "
    "was named after, within uncertainty_km, not the site of a single compound."
)


@dataclass
class Placed:
    """What placing rows worked out once, for the rows that share it (one run's memo).

    ``points``: by the row's :data:`~pipeline.geocode.points.ROW_POINT_COLUMNS`
    (offline, no override: nothing else decides the point); ``reasons``: by point,
    why it lies outside the area; ``columns``: by point, its output cells.
    """

    points: dict[tuple[str, ...], Point | None] = dataclasses.field(default_factory=dict)
    reasons: dict[Point, str | None] = dataclasses.field(default_factory=dict)
    columns: dict[Point, dict[str, str]] = dataclasses.field(default_factory=dict)


@dataclass
class Tally:
    """What placing the rows came to: counts by method, problems, rows left unasked."""

    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    problems: list[str] = dataclasses.field(default_factory=list)
    #: rows not asked because the provider stopped answering (repeated 429s)
    left: list[str] = dataclasses.field(default_factory=list)

    def add(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1


def _geocode_row(
    row: Row,
    where: str,
    override: Override | None,
    offline: OfflinePlaces,
    online: OnlineGeocoder | None,
    tally: Tally,
    placed: Placed,
) -> Point | None:
    def ask(row: Row) -> Point | None:
        assert online is not None
        query = online_query(row, offline.gazetteer)
        if not query:
            return None
        answer = online.fetch(query, where)
        if answer is None:
            tally.add("online_no_result")
            return None
        return online.point(answer, query)

    if override is None and online is None:
        cells = tuple(row.get(column, "") for column in ROW_POINT_COLUMNS)
        if cells in placed.points:
            point = placed.points[cells]
        else:
            point = placed.points[cells] = row_point(row, None, offline)
    else:
        point = row_point(row, override, offline, ask if online is not None else None)
    if point is not None:
        return point
    if row.get("decision", "").strip() not in PLACED_DECISIONS:
        return _online_fallback(row, where, online, tally) if online is not None else None
    logger.warning("%s: no point for place %r", where, best_place_id(row))
    tally.add("unplaced")
    return None


def _online_fallback(row: Row, where: str, online: OnlineGeocoder, tally: Tally) -> Point | None:
    """Ask the provider for a name the gazetteer could not place, by its Cyrillic candidates.

    The best ``online_candidates`` readings of the transliterate stage are asked
    in order (through the cache and the rate limit); the first answer inside the
    former USSR and Mongolia places the row. A web name match was never
    reviewed: the row becomes ``review`` with a ``less-certain`` point, its
    ``place_id`` the provider's page for the feature, so it is on the map and in
    the review queue. An answer outside the area is passed over, not an error.
    """
    readings = [c.strip() for c in row.get("cyrillic_candidates", "").split("|") if c.strip()]
    for query in readings[: online.params.online_candidates]:
        answer = online.fetch(query, where)
        if answer is None:
            tally.add("online_no_result")
            continue
        point = online.point(answer, query)
        if outside_reason(point) is not None:
            tally.add("online_outside")
            continue
        row["decision"] = Decision.REVIEW.value
        row["place_id"] = point.source
        row["place_name"] = str(answer.get("address") or query).split(",")[0].strip()
        tally.add("online_fallback")
        return at_most_less_certain(point)
    return None


def run(
    input_path: Path,
    output_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    params: GeocodeParams,
    encoding: str | None = None,
    geocoder: Geocoder | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, Any]:
    """Add lat, lon, geocode_method, geocode_source, certainty, uncertainty_km to each row.

    ``uncertainty_km`` is the place's extent widened by the doubt of the reading
    (``r + (1 - q) * (R - r)``, see :mod:`pipeline.geocode.radii`).

    Every input row is written, in input order; unresolved rows keep an empty
    point. ``geocoder`` is an online geopy geocoder to use for rows the
    gazetteer cannot place (built from ``params`` when None and the provider is
    not offline). A point outside the former USSR and Mongolia, or a failed
    online request, is reported with its row; with ``fail_on_error`` (default)
    the stage then fails and writes nothing, else the row keeps an empty point.

    The rows stream: ``chunk_rows`` at a time are read, placed and written, so
    memory does not grow with the register (the points of distinct names are kept).
    """
    provider = params.check()
    header, chunks = read_csv_chunks(
        Path(input_path), ("katakana", "decision"), encoding, min_rows=1, chunk_rows=chunk_rows
    )
    offline = OfflinePlaces(load(Path(gazetteer_dir)), params.doubt())
    overrides = ov.read(Path(overrides_path), offline.gazetteer.places)
    if geocoder is None and provider is not Provider.OFFLINE:
        geocoder = make_online_geocoder(params)
    online = OnlineGeocoder(geocoder, params) if geocoder is not None else None
    tally, placed = Tally(), Placed()
    count = 0

    def geocoded() -> Iterator[Row]:
        nonlocal count
        for chunk in chunks:
            geocode_rows(chunk, offline, overrides, online, str(input_path), tally, placed, count)
            count += len(chunk)
            yield from chunk
        _check_tally(tally, online, params)  # raises here: the output is not written

    write_csv(Path(output_path), merge_columns(header, GEOCODE_COLUMNS), geocoded())
    logger.info("geocode: %s", PRINCIPAL_AREA_NOTE)
    report: dict[str, Any] = {"rows": count, **dict(sorted(tally.counts.items()))}
    report["problems"] = len(tally.problems)
    if tally.left:
        report["online_left"] = len(tally.left)
    if online is not None:
        report["requests"] = online.requests
    return report


def _check_tally(tally: Tally, online: OnlineGeocoder | None, params: GeocodeParams) -> None:
    """Log the problems of a run; with ``fail_on_error``, raise them."""
    if tally.left:
        tally.problems.append(
            f"{online.stopped if online else ''}: {len(tally.left)} row(s) left unasked: "
            + ", ".join(tally.left[:20])
            + (" …" if len(tally.left) > 20 else "")
        )
    if tally.problems:
        for problem in tally.problems:
            logger.error("%s", problem)
        if params.fail_on_error:
            raise GeocoderError(
                f"{len(tally.problems)} row(s) could not be geocoded; nothing was written:\n"
                + "\n".join(tally.problems)
            )


def geocode_rows(
    rows: Sequence[Row],
    offline: OfflinePlaces,
    overrides: Sequence[Override],
    online: OnlineGeocoder | None = None,
    source: str = "rows",
    tally: Tally | None = None,
    placed: Placed | None = None,
    before: int = 0,
) -> Tally:
    """Fill the geocode columns of ``rows`` in place, as the stage does; return the tally.

    ``camps serve --review`` calls it too, on the rows a decision changes, so the
    web map redraws them as the next ``camps geocode`` will write them.
    ``source`` names the rows in messages (the input file). A stage that streams
    passes the ``tally`` and ``placed`` of its run to each chunk, and ``before``,
    the rows of the chunks before it (for the row numbers in messages).
    """
    tally = tally if tally is not None else Tally()
    placed = placed if placed is not None else Placed()
    decided = ov.finder(overrides)
    empty = dict.fromkeys(GEOCODE_COLUMNS, "")
    for n, row in enumerate(rows, before + 2):
        rid = row.get("record_id", "")
        where = f"{source}: row {n} (record_id {rid}, {row.get('katakana', '')})"
        # The rule of the reconcile stage: by record_id, else by the row's katakana.
        override = decided.find_row(row)
        point = _place_row(row, where, override, offline, online, tally, placed)
        if point is None:
            row.update(empty)
        else:
            if point not in placed.columns:
                placed.columns[point] = point.columns()
            row.update(placed.columns[point])
        tally.add(str(point.method) if point else "no_point")
    return tally


def _place_row(
    row: Row,
    where: str,
    override: Override | None,
    offline: OfflinePlaces,
    online: OnlineGeocoder | None,
    tally: Tally,
    placed: Placed,
) -> Point | None:
    """Geocode one row and check its point; problems go to the tally, not the output."""
    try:
        point = _geocode_row(row, where, override, offline, online, tally, placed)
    except OnlineStopped:
        tally.left.append(row.get("record_id", "") or where)
        return None
    except GeocoderError as exc:
        tally.problems.append(str(exc))
        return None
    if point is None:
        return None
    if point not in placed.reasons:
        placed.reasons[point] = outside_reason(point)
    reason = placed.reasons[point]
    if reason is not None:
        tally.problems.append(
            f"{where}: the {point.method} point {reason} ({point.source}): fix the "
            "override or gazetteer entry, or mark the row unresolved"
        )
        return None
    return point
