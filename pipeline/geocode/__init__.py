"""Geocode stage: give every placed row a WGS84 point, its method, source and certainty.

The default geocoder is offline: a geopy :class:`~geopy.geocoders.base.Geocoder`
over the built gazetteer, so ``dvc repro`` gives the same map on a machine with
no network. Users who want to reach further (a settlement the gazetteer lacks)
choose an online provider in ``params.yaml`` (Nominatim, or the GeoNames web
service); it is asked only for rows the gazetteer cannot place (an unresolved
name by its best Cyrillic readings: the row becomes ``review``), through geopy's
:class:`~geopy.extra.rate_limiter.RateLimiter`, with retries and backoff, and an
on-disk cache so that a rerun makes no request.

Certainty follows the evidence, not the name: a GeoNames settlement point is
``certain``; a point from general knowledge (the dossier) is ``less-certain``; a
record that names only a region (チタ州) or only a camp number gets the region's
centroid and is ``uncertain``. A camp district (第十六地区) is the camp area its
number ties to, else the region it is named after (ハバロフスク地方第十六地区:
``region_centroid``, ``uncertain``), else the town (チタ第24地区: ``place``,
``less-certain``, at least 15 km): never ``certain``, since a camp's branches
lay around the place it was named after. Review rows are at most ``less-certain``.

``geocode_method`` says what the point stands for: ``place`` (a town,
settlement or village), ``station``, ``region_centroid``, ``override``, or the
online provider (``geonames``, ``nominatim``).

``uncertainty_km`` is the expected distance from the point to the camp
(:mod:`pipeline.geocode.radii`)::

    uncertainty_km = r + (1 - q) * (R - r)

with ``r`` the extent of what the point stands for (a town by its population, a
station 2 km, a region its radius, an override its own), ``R`` the radius of
the 1945 region around the place (where a wrong reading still most likely
lies), and ``q`` the probability that the reading is right: the reconcile
probability ``score``, lowered on a ``review`` row (``review_doubt``) and when
the place's name was a lower-ranked transliteration (``rank_doubt`` per rank);
1 for an override.

The map's symbols mark the principal area of a camp (the ministry map's NOTE 2),
so even a ``certain`` point is the place the camp was named after, not a fence.

The stage is a package (the house rule: no module over 600 lines):

* :mod:`pipeline.geocode.params` -- :class:`GeocodeParams` and its checks;
* :mod:`pipeline.geocode.radii` -- the radius formula: extent, reading doubt,
  the 1945 region around a place;
* :mod:`pipeline.geocode.points` -- :class:`Point`, :class:`OfflinePlaces` (the
  gazetteer and its name index), region points and the camp-number rules;
* :mod:`pipeline.geocode.offline` -- the offline :class:`GazetteerGeocoder` (geopy's
  interface over :class:`OfflinePlaces`);
* :mod:`pipeline.geocode.artifact` -- the name index, saved once per gazetteer build;
* :mod:`pipeline.geocode.online` -- the geopy providers, rate limiter, cache, the
  checks of online answers and their parsing;
* :mod:`pipeline.geocode.http` -- the guarded geopy adapter every online request
  goes through (total time limit, size limit, same-server redirects, pacing);
* :mod:`pipeline.geocode.stage` -- :func:`run` and :func:`geocode_rows`, the placing of rows.

It may import :mod:`pipeline.area`, :mod:`pipeline.geonames`, :mod:`pipeline.io`,
:mod:`pipeline.names`, :mod:`pipeline.overrides`, :mod:`pipeline.places`,
:mod:`pipeline.params`, :mod:`pipeline.records` and :mod:`pipeline.errors`, never
another stage.

What needs geopy (the geocoders, :func:`run`) is imported on first use (PEP 562):
geopy and the HTTP clients it loads cost a good part of a second, which
``camps lookup`` and ``camps serve`` (only the offline rules) need not pay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pipeline.geocode.params import PUBLIC_NOMINATIM, GeocodeParams, Provider
from pipeline.geocode.points import (
    Method,
    NameIndex,
    OfflinePlaces,
    Point,
    at_most_less_certain,
    best_place_id,
    camp_number,
    district_point,
    index_names,
    offline_point,
    outside_reason,
    override_point,
    place_point,
    region_fallback,
    region_only,
    region_point,
    row_point,
    settlement_radius_km,
    widen,
)
from pipeline.geocode.radii import (
    GENERAL_KNOWLEDGE_KM,
    OVERRIDE_KM,
    Doubt,
    RegionRadii,
    reading_probability,
    reading_rank,
    widened_km,
)

if TYPE_CHECKING:
    from pipeline.geocode.offline import GazetteerGeocoder
    from pipeline.geocode.online import (
        GeocodeCache,
        OnlineGeocoder,
        make_online_geocoder,
        online_query,
    )
    from pipeline.geocode.stage import PRINCIPAL_AREA_NOTE, Tally, geocode_rows, run

#: Names imported on first use, and the module each comes from.
_LAZY = {
    "GazetteerGeocoder": "offline",
    "GeocodeCache": "online",
    "OnlineGeocoder": "online",
    "make_online_geocoder": "online",
    "online_query": "online",
    "PRINCIPAL_AREA_NOTE": "stage",
    "Tally": "stage",
    "geocode_rows": "stage",
    "run": "stage",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "GENERAL_KNOWLEDGE_KM",
    "OVERRIDE_KM",
    "PRINCIPAL_AREA_NOTE",
    "PUBLIC_NOMINATIM",
    "Doubt",
    "GazetteerGeocoder",
    "GeocodeCache",
    "GeocodeParams",
    "Method",
    "NameIndex",
    "OfflinePlaces",
    "OnlineGeocoder",
    "Point",
    "Provider",
    "RegionRadii",
    "Tally",
    "at_most_less_certain",
    "best_place_id",
    "camp_number",
    "district_point",
    "geocode_rows",
    "index_names",
    "make_online_geocoder",
    "offline_point",
    "online_query",
    "outside_reason",
    "override_point",
    "place_point",
    "reading_probability",
    "reading_rank",
    "region_fallback",
    "region_only",
    "region_point",
    "row_point",
    "run",
    "settlement_radius_km",
    "widen",
    "widened_km",
]
