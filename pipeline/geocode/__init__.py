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
``certain`` within a radius scaled by its population; a point from general
knowledge (the dossier) is ``less-certain`` with a wider radius; a record that
names only a region (チタ州) or only a camp number gets the region's centroid
and radius and is ``uncertain``. Review rows are at most ``less-certain``.

The map's symbols mark the principal area of a camp (the ministry map's NOTE 2),
so even a ``certain`` point is the place the camp was named after, not a fence.

The stage is a package (the house rule: no module over 600 lines):

* :mod:`pipeline.geocode.params` -- :class:`GeocodeParams` and its checks;
* :mod:`pipeline.geocode.points` -- :class:`Point`, :class:`OfflinePlaces` (the
  gazetteer and its name index), radii, region points and the camp-number rules;
* :mod:`pipeline.geocode.offline` -- the offline :class:`GazetteerGeocoder` (geopy's
  interface over :class:`OfflinePlaces`);
* :mod:`pipeline.geocode.artifact` -- the name index, saved once per gazetteer build;
* :mod:`pipeline.geocode.online` -- the geopy providers, rate limiter, cache, the
  checks of online answers and their parsing;
* :mod:`pipeline.geocode.http` -- the guarded geopy adapter every online request
  goes through (total time limit, size limit, same-server redirects, pacing);
* :mod:`pipeline.geocode.stage` -- :func:`run` and the placing of a row.

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
    GENERAL_KNOWLEDGE_KM,
    OVERRIDE_KM,
    Method,
    NameIndex,
    OfflinePlaces,
    Point,
    at_most_less_certain,
    best_place_id,
    index_names,
    offline_point,
    outside_reason,
    override_point,
    place_point,
    region_fallback,
    region_only,
    region_point,
    settlement_radius_km,
)

if TYPE_CHECKING:
    from pipeline.geocode.offline import GazetteerGeocoder
    from pipeline.geocode.online import (
        GeocodeCache,
        OnlineGeocoder,
        make_online_geocoder,
        online_query,
    )
    from pipeline.geocode.stage import PRINCIPAL_AREA_NOTE, run

#: Names imported on first use, and the module each comes from.
_LAZY = {
    "GazetteerGeocoder": "offline",
    "GeocodeCache": "online",
    "OnlineGeocoder": "online",
    "make_online_geocoder": "online",
    "online_query": "online",
    "PRINCIPAL_AREA_NOTE": "stage",
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
    "GazetteerGeocoder",
    "GeocodeCache",
    "GeocodeParams",
    "Method",
    "NameIndex",
    "OfflinePlaces",
    "OnlineGeocoder",
    "Point",
    "Provider",
    "at_most_less_certain",
    "best_place_id",
    "index_names",
    "make_online_geocoder",
    "offline_point",
    "online_query",
    "outside_reason",
    "override_point",
    "place_point",
    "region_fallback",
    "region_only",
    "region_point",
    "run",
    "settlement_radius_km",
]
