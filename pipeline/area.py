"""The area of the map: today's states on the territory of the USSR, and Mongolia.

One home for the facts every stage checks a place or a point against: the
country codes (:data:`COUNTRIES`), coarse boxes around the area that catch
swapped or sign-flipped coordinates (:func:`inside_area`), and the country of
a point (:func:`country_of`, from the nearest GeoNames place; no boundary file).

The points and countries of cities500 that :func:`country_of` searches are read
from the 80 MB GeoNames file once and kept as a verified ``.npz`` artifact of
:mod:`pipeline.artifacts` (keyed by the file's digest and this code): reading the
JSON takes seconds, loading the arrays a few milliseconds.

Imports only :mod:`pipeline.geonames` and :mod:`pipeline.artifacts`: any stage may use it.
"""

from __future__ import annotations

import functools
import io
import logging
import math
from pathlib import Path
from typing import Any

from pipeline import artifacts, geonames
from pipeline.artifacts import ArtifactError

logger = logging.getLogger(__name__)

#: Version of the world-places artifact's layout: bump it when its arrays change.
WORLD_FORMAT = 1
WORLD_KIND = "world-places"

#: ISO 3166 codes of today's states on the territory of the former USSR, and Mongolia.
COUNTRIES: tuple[str, ...] = (
    *("RU", "UA", "BY", "KZ", "UZ", "KG", "TJ", "TM"),
    *("GE", "AM", "AZ", "MD", "LT", "LV", "EE", "MN"),
)

#: Coarse boxes (lat_min, lat_max, lon_min, lon_max) around the former USSR and Mongolia.
#: They catch swapped or sign-flipped coordinates and points in China, Japan or
#: Korea's heartlands; they are not a border: slivers of neighbours (eastern
#: Poland, northern Iran, Hokkaido's eastern tip) fall inside.
BOXES: tuple[tuple[float, float, float, float], ...] = (
    (44.3, 70.5, 19.6, 60.0),  # European USSR, Baltic to Urals, Crimea
    (38.3, 44.5, 39.9, 50.9),  # Caucasus
    (35.1, 55.5, 46.5, 87.4),  # Central Asia and the Kazakh steppe
    (49.0, 82.0, 60.0, 180.0),  # Siberia and the Far East north of the Amur
    (64.0, 72.0, -180.0, -168.0),  # Chukotka east of the antimeridian
    (42.2, 49.0, 127.5, 141.5),  # Primorye and the Amur bend
    (45.8, 49.0, 141.5, 144.8),  # southern Sakhalin
    (43.3, 49.0, 145.2, 157.0),  # Kuril Islands
    (41.5, 52.2, 87.7, 120.0),  # Mongolia
)


def inside_area(lat: float, lon: float) -> bool:
    """Whether a point lies in one of the boxes around the former USSR and Mongolia.

    >>> inside_area(43.1, 131.9), inside_area(131.9, 43.1)  # Vladivostok, swapped
    (True, False)
    >>> inside_area(39.9, 116.4), inside_area(35.7, 139.7)  # Beijing, Tokyo
    (False, False)
    """
    return any(a <= lat <= b and c <= lon <= d for a, b, c, d in BOXES)


def read_world_points() -> tuple[Any, Any, Any]:
    """cities500 worldwide, by geonameid as text: latitudes, longitudes (degrees), countries."""
    import numpy as np

    def keep(city: dict[str, Any]) -> Any:
        # Only id, point and country: the alternate names would cost ~1.5 GB.
        if "geonameid" not in city:
            return city
        return (city["geonameid"], city["latitude"], city["longitude"], city["countrycode"])

    rows = sorted(geonames.read_cities500(keep).values())
    lat_deg = np.array([float(row[1]) for row in rows])
    lon_deg = np.array([float(row[2]) for row in rows])
    return lat_deg, lon_deg, np.array([row[3] for row in rows], dtype="<U3")


def world_inputs() -> dict[str, Any]:
    """What the world points are made from: the GeoNames file's bytes and the code."""
    return {
        "format": WORLD_FORMAT,
        "geonames": artifacts.file_digest(geonames.cities500_path()),
        "code": artifacts.code_digest(("area.py", "geonames.py", "artifacts.py")),
    }


def load_world_points(folder: Path, made_of: dict[str, Any]) -> tuple[Any, Any, Any]:
    """The saved world points for these inputs, verified (FileNotFoundError if none)."""
    import numpy as np

    data = artifacts.read(folder, WORLD_KIND, made_of, ".npz")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            found = arrays["lat"], arrays["lon"], arrays["country"]
        if not len(found[0]) == len(found[1]) == len(found[2]):
            raise ValueError("arrays of different lengths")
    except (ValueError, KeyError, OSError, TypeError) as error:
        path = artifacts.paths(folder, WORLD_KIND, made_of, ".npz")[0]
        raise ArtifactError(f"{path}: unreadable ({error})") from error
    return found


def save_world_points(points: tuple[Any, Any, Any], folder: Path, made_of: dict[str, Any]) -> Path:
    """Write the world points (uncompressed ``.npz``) and their manifest; OSError if unwritable."""
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, lat=points[0], lon=points[1], country=points[2])
    return artifacts.write(folder, WORLD_KIND, made_of, buffer.getvalue(), ".npz")


def world_points(folder: Path | None = None) -> tuple[Any, Any, Any]:
    """:func:`read_world_points`, from the cache folder once saved there."""
    folder = artifacts.cache_dir() if folder is None else Path(folder)
    made_of = world_inputs()
    return artifacts.load_or_make(
        logger,
        "world places (GeoNames cities500)",
        folder,
        lambda: load_world_points(folder, made_of),
        read_world_points,
        lambda points: save_world_points(points, folder, made_of),
        artifacts.BUILD_WORDS,
    )


@functools.lru_cache(maxsize=1)
def _world_places() -> tuple[Any, Any, Any, tuple[str, ...], Any]:
    """GeoNames cities500 worldwide: lat, lon (radians), cos(lat), countries, an STRtree."""
    import numpy as np
    import shapely

    lat_deg, lon_deg, countries = world_points()
    tree = shapely.STRtree(shapely.points(lon_deg, lat_deg))
    lats, lons = np.radians(lat_deg), np.radians(lon_deg)
    return lats, lons, np.cos(lats), tuple(str(c) for c in countries), tree


@functools.lru_cache(maxsize=65_536)
def country_of(lat: float, lon: float) -> str:
    """The country of the nearest GeoNames place (cities500, worldwide) to a point.

    Places lie densely enough that the nearest one is on the same side of a
    border except within a few km of it; this needs no boundary file and no
    network, and a coastal point (Sovetskaya Gavan) has a country where a
    coarse coastline would miss it. A spatial index gives the places in a
    growing box around the point; the nearest of them by great-circle distance
    answers. Cached: a register repeats the same few thousand places many times.
    """
    import numpy as np
    import shapely

    lats, lons, cos_lats, countries, tree = _world_places()
    near = None
    # Degrees of latitude; the box is widened in longitude so that it is about square
    # on the ground. The nearest place inside it is the true nearest unless another
    # lies just outside a side while this one sits in a corner: near a border that
    # can only mistake two places a few km apart, which the check tolerates anyway.
    stretch = 1 / max(0.05, math.cos(math.radians(lat)))
    for half in (1.0, 4.0, 16.0):
        wide = half * stretch
        found = tree.query(shapely.box(lon - wide, lat - half, lon + wide, lat + half))
        if len(found):
            near = found
            break
    if near is None:  # nothing within 16 degrees: every place (a point at sea)
        near = np.arange(len(countries))
    p, q = math.radians(lat), math.radians(lon)
    # haversine without the constant factors: the argmin is all we need
    h = (
        np.sin((lats[near] - p) / 2) ** 2
        + math.cos(p) * cos_lats[near] * np.sin((lons[near] - q) / 2) ** 2
    )
    return countries[int(near[int(np.argmin(h))])]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km.

    >>> round(haversine_km(43.12, 131.89, 48.48, 135.07))
    645
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))
