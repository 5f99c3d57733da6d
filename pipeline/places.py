"""The built gazetteer as every stage reads it: its files' columns, its records, ``load``.

The gazetteer stage (:mod:`pipeline.gazetteer`) writes ``gazetteer/build/``;
reconcile, geocode and evaluate read it through :func:`load`. Keeping the
contract here, apart from the build, lets those stages use the gazetteer without
importing another stage.

Imports only :mod:`pipeline.io` and :mod:`pipeline.errors`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pipeline.errors import GazetteerError
from pipeline.io import Row, read_csv

PLACE_COLUMNS = (
    "place_id",
    "name",
    "feature_type",
    "country",
    "admin1",
    "region_id",
    "lat",
    "lon",
    "population",
    "geonames_id",
    "point_source",
    "curated",
    "sources",
    "maps",
    "admin_1945",
    "note",
)
NAME_COLUMNS = ("place_id", "name", "lang", "script", "period", "source")
REGION_COLUMNS = (
    "region_id",
    "name_1945",
    "name_modern",
    "country",
    "admin1_codes",
    "kana",
    "latin",
    "lat",
    "lon",
    "radius_km",
    "source",
    "n_places",
)
FOREIGN_COLUMNS = ("name", "country", "population", "geonames_id")


#: Feature type of a curated district (raion; 地区 after a -スキー adjective).
DISTRICT = "district"
#: Radius of a district around its centre: a Siberian raion spans tens of thousands of
#: km² (Tungokochensky 50,900 km², the radius of a disc that size 127 km); a camp
#: named after it is anywhere in it, and a place it holds lies within this of it.
DISTRICT_KM = 130.0

#: Id prefix of a GeoNames postal-code place (a village or station cities500 lacks).
POSTAL_PREFIX = "zip:"


def is_postal(place_id: str) -> bool:
    """Whether a gazetteer id is a GeoNames postal-code place's.

    >>> is_postal("zip:RU:665000"), is_postal("gn:1490256")
    (True, False)
    """
    return place_id.startswith(POSTAL_PREFIX)


@dataclasses.dataclass(frozen=True)
class Place:
    """One place of the built gazetteer."""

    place_id: str
    name: str
    feature_type: str
    country: str
    admin1: str
    region_id: str
    lat: float | None
    lon: float | None
    population: int
    geonames_id: str
    point_source: str
    curated: bool
    sources: str
    maps: str
    admin_1945: str = ""
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Name:
    """One name of a place, tagged by language (BCP 47-like), script and period."""

    place_id: str
    name: str
    lang: str
    script: str
    period: str
    source: str


@dataclasses.dataclass(frozen=True)
class Region:
    """A unit of 1945 (krai, oblast, SSR, country) and the modern admin1 units it covers."""

    region_id: str
    name_1945: str
    name_modern: str
    country: str
    admin1_codes: tuple[str, ...]
    kana: tuple[str, ...]
    latin: tuple[str, ...]
    lat: float | None
    lon: float | None
    radius_km: float | None
    source: str
    n_places: int

    def covers(self, country: str, admin1: str) -> bool:
        """Whether a place in ``country``/``admin1`` lay inside this unit."""
        if country != self.country:
            return False
        return "*" in self.admin1_codes or admin1 in self.admin1_codes


@dataclasses.dataclass(frozen=True)
class Gazetteer:
    """The built gazetteer, as loaded by the stages that match and place names."""

    places: dict[str, Place]
    names: tuple[Name, ...]
    regions: dict[str, Region]
    #: Katakana names of large places outside the area: (name, country, population).
    foreign: tuple[tuple[str, str, int], ...] = ()


def _float(value: str) -> float | None:
    return float(value) if value.strip() else None


def load(gazetteer_dir: Path) -> Gazetteer:
    """Load a built gazetteer folder; the error says how to build it when it is missing."""
    gazetteer_dir = Path(gazetteer_dir)
    needed = [gazetteer_dir / n for n in ("places.csv", "names.csv", "regions.csv")]
    missing = [p for p in needed if not p.exists()]
    if missing:
        raise GazetteerError(
            f"{missing[0]}: the gazetteer is not built: run `dvc repro gazetteer` or "
            f"`camps gazetteer --output-dir {gazetteer_dir}`"
        )
    _, place_rows = read_csv(needed[0], required=PLACE_COLUMNS)
    _, name_rows = read_csv(needed[1], required=NAME_COLUMNS)
    _, region_rows = read_csv(needed[2], required=REGION_COLUMNS)
    places = {r["place_id"]: _place(r) for r in place_rows}
    names = tuple(Name(**{c: r[c] for c in NAME_COLUMNS}) for r in name_rows)
    regions = {r["region_id"]: _region(r) for r in region_rows}
    foreign_path = gazetteer_dir / "foreign_kana.csv"
    foreign = (
        tuple(
            (r["name"], r["country"], int(r["population"] or 0))
            for r in read_csv(foreign_path, required=FOREIGN_COLUMNS)[1]
        )
        if foreign_path.exists()
        else ()
    )
    return Gazetteer(places=places, names=names, regions=regions, foreign=foreign)


def _place(row: Row) -> Place:
    return Place(
        place_id=row["place_id"],
        name=row["name"],
        feature_type=row["feature_type"],
        country=row["country"],
        admin1=row["admin1"],
        region_id=row["region_id"],
        lat=_float(row["lat"]),
        lon=_float(row["lon"]),
        population=int(row["population"] or 0),
        geonames_id=row["geonames_id"],
        point_source=row["point_source"],
        curated=row["curated"] == "1",
        sources=row["sources"],
        maps=row["maps"],
        admin_1945=row["admin_1945"],
        note=row["note"],
    )


def _region(row: Row) -> Region:
    def split(value: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in value.split("|") if v.strip())

    return Region(
        region_id=row["region_id"],
        name_1945=row["name_1945"],
        name_modern=row["name_modern"],
        country=row["country"],
        admin1_codes=split(row["admin1_codes"]),
        kana=split(row["kana"]),
        latin=split(row["latin"]),
        lat=_float(row["lat"]),
        lon=_float(row["lon"]),
        radius_km=_float(row["radius_km"]),
        source=row["source"],
        n_places=int(row["n_places"] or 0),
    )
