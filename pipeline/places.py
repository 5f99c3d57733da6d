"""The built gazetteer as every stage reads it: its files' columns, its records, ``load``.

The gazetteer stage (:mod:`pipeline.gazetteer`) writes ``gazetteer/build/``;
reconcile, geocode and evaluate read it through :func:`load`. Keeping the
contract here, apart from the build, lets those stages use the gazetteer without
importing another stage.

Reading the CSVs takes seconds, so :func:`load` keeps what it read as a verified
artifact of :mod:`pipeline.artifacts` (keyed by the SHA-256 of each build file and
of this code: a JSON header of the places and regions, then each name column as
UTF-8 bytes and offsets, :func:`save`) and loads that in a few hundredths of a
second, making a place or a name only when it is read (:class:`Places`,
:class:`Names`); a stale, truncated or foreign one is read again from the CSVs
with a warning, never used.

Imports only :mod:`pipeline.io`, :mod:`pipeline.errors` and :mod:`pipeline.artifacts`.
"""

from __future__ import annotations

import array
import dataclasses
import json
import logging
import struct
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

from pipeline import artifacts
from pipeline.artifacts import ArtifactError
from pipeline.errors import GazetteerError
from pipeline.io import Row, read_csv

logger = logging.getLogger(__name__)

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


class Names(Sequence[Name]):
    """The names of a saved gazetteer, kept as columns; each :class:`Name` made when read.

    Making the 120,000 records at once costs a few tenths of a second at every
    start, and ``camps lookup`` reads a few hundred of them (through the reconcile
    index's entries). Equal to the tuple of the same names.
    """

    def __init__(self, columns: Sequence[Sequence[str]]) -> None:
        if len(columns) != len(NAME_COLUMNS) or len({len(c) for c in columns}) > 1:
            raise ValueError(f"names: {len(NAME_COLUMNS)} columns of one length expected")
        self._columns = columns
        self._made: list[Name | None] = [None] * (len(columns[0]) if columns else 0)

    def __len__(self) -> int:
        return len(self._made)

    @overload
    def __getitem__(self, number: int) -> Name: ...
    @overload
    def __getitem__(self, number: slice) -> tuple[Name, ...]: ...
    def __getitem__(self, number: int | slice) -> Name | tuple[Name, ...]:
        if isinstance(number, slice):
            return tuple(self[n] for n in range(len(self))[number])
        found = self._made[number]
        if found is None:
            found = Name(*(column[number] for column in self._columns))
            self._made[number] = found
        return found

    def __iter__(self) -> Iterator[Name]:
        return (self[n] for n in range(len(self)))

    def column(self, field: str) -> Sequence[str]:
        """One field of every name, in order, without making the records."""
        return self._columns[NAME_COLUMNS.index(field)]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


class Places(Mapping[str, Place]):
    """The places of a saved gazetteer by id, each :class:`Place` made when first read.

    Making the 14,000 frozen records at once cost 15-50 ms of every ``camps lookup``,
    which reads a few dozen. Equal to the dict of the same places.
    """

    def __init__(self, rows: Sequence[Sequence[Any]]) -> None:
        width = len(dataclasses.fields(Place))
        if any(len(row) != width for row in rows):
            raise ValueError(f"places: rows of {width} values expected")
        self._rows = {row[0]: row for row in rows}
        self._made: dict[str, Place] = {}

    def __getitem__(self, place_id: str) -> Place:
        found = self._made.get(place_id)
        if found is None:
            found = self._made[place_id] = Place(*self._rows[place_id])
        return found

    def __contains__(self, place_id: object) -> bool:
        return place_id in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


@dataclasses.dataclass(frozen=True)
class Gazetteer:
    """The built gazetteer, as loaded by the stages that match and place names."""

    #: a dict, or the :class:`Places` of a saved gazetteer (each made when first read)
    places: Mapping[str, Place]
    #: a tuple, or the :class:`Names` of a saved gazetteer (each made when first read)
    names: Sequence[Name]
    regions: dict[str, Region]
    #: Katakana names of large places outside the area: (name, country, population).
    foreign: tuple[tuple[str, str, int], ...] = ()
    #: The digest of the build files and code it was loaded from (:func:`inputs`), for
    #: the artifacts derived from it (the indexes); "" for one made in memory.
    key: str = dataclasses.field(default="", compare=False)


def name_column(names: Sequence[Name], field: str) -> Sequence[str]:
    """One field (``place_id``, ``script``…) of every name, in order; cheap on :class:`Names`."""
    if isinstance(names, Names):
        return names.column(field)
    return [getattr(name, field) for name in names]


def _float(value: str) -> float | None:
    return float(value) if value.strip() else None


#: Version of the artifact's layout: bump it when :func:`save` writes something else.
FORMAT = 3
KIND = "gazetteer"
_CODE = ("artifacts.py", "io", "places.py")
_FILES = ("places.csv", "names.csv", "regions.csv", "foreign_kana.csv")


def _needed(gazetteer_dir: Path) -> list[Path]:
    needed = [gazetteer_dir / n for n in _FILES[:3]]
    missing = [p for p in needed if not p.exists()]
    if missing:
        raise GazetteerError(
            f"{missing[0]}: the gazetteer is not built: run `dvc repro gazetteer` or "
            f"`camps gazetteer --output-dir {gazetteer_dir}`"
        )
    return needed


def inputs(gazetteer_dir: Path) -> dict[str, Any]:
    """Everything a loaded gazetteer is made from: the build files' bytes and the code."""
    folder = Path(gazetteer_dir)
    return {
        "format": FORMAT,
        "files": {
            n: artifacts.file_digest(folder / n) if (folder / n).exists() else "missing"
            for n in _FILES
        },
        "code": artifacts.code_digest(_CODE),
    }


def load(gazetteer_dir: Path, folder: Path | None = None) -> Gazetteer:
    """Load a built gazetteer folder; the error says how to build it when it is missing.

    The result is that of :func:`read`, kept in the cache ``folder`` (default
    :func:`pipeline.artifacts.cache_dir`) and loaded from there while the build
    files and the code are the same.
    """
    gazetteer_dir = Path(gazetteer_dir)
    _needed(gazetteer_dir)
    folder = artifacts.cache_dir() if folder is None else Path(folder)
    made_of = inputs(gazetteer_dir)
    key = artifacts.key(made_of)
    found = artifacts.load_or_make(
        logger,
        f"gazetteer {gazetteer_dir}",
        folder,
        lambda: load_saved(folder, made_of),
        lambda: read(gazetteer_dir),
        lambda gazetteer: save(gazetteer, folder, made_of),
        (
            "not saved in {folder} yet, reading the CSVs",
            "reading the CSVs again",
            "kept in memory only; set {env} to a writable folder to load it in a "
            "fraction of a second",
        ),
    )
    return dataclasses.replace(found, key=key)


#: The first bytes of a saved gazetteer (:func:`save`), with its layout's number.
MAGIC = b"camps gazetteer 3\n"
#: The array type of the names' string offsets (little-endian 4-byte ints on save).
_OFFSETS = "i"


def save(gazetteer: Gazetteer, folder: Path, made_of: dict[str, Any]) -> Path:
    """Write the gazetteer and its manifest; OSError if unwritable.

    The places, regions and foreign names are a JSON header; each name column is
    its UTF-8 bytes and where each name starts (:class:`pipeline.artifacts.Strings`),
    so that a load makes only the names it reads (:class:`Names`).
    """
    columns = [artifacts.Strings.encode(name_column(gazetteer.names, c)) for c in NAME_COLUMNS]
    blobs = []
    for text, starts in columns:
        offsets = array.array(_OFFSETS, starts)
        if sys.byteorder != "little":
            offsets.byteswap()
        blobs += [text, offsets.tobytes()]
    header = {
        "places": [dataclasses.astuple(p) for p in gazetteer.places.values()],
        "regions": [dataclasses.astuple(r) for r in gazetteer.regions.values()],
        "foreign": list(gazetteer.foreign),
        "names": len(gazetteer.names),
        "blobs": [len(b) for b in blobs],
    }
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    data = b"".join([MAGIC, struct.pack("<Q", len(head)), head, *blobs])
    return artifacts.write(folder, KIND, made_of, data, ".data")


def _unpack(data: bytes) -> tuple[dict[str, Any], list[artifacts.Strings]]:
    """The header and name columns of :func:`save`'s bytes (ValueError if they do not fit)."""
    if not data.startswith(MAGIC):
        raise ValueError("not a saved gazetteer of this layout")
    at = len(MAGIC) + 8
    (size,) = struct.unpack("<Q", data[len(MAGIC) : at])
    header = json.loads(data[at : at + size])
    at += size
    sizes = header["blobs"]
    if len(sizes) != 2 * len(NAME_COLUMNS) or at + sum(sizes) != len(data):
        raise ValueError("the name columns do not fit the file")
    columns = []
    for text_size, offsets_size in zip(sizes[::2], sizes[1::2], strict=True):
        text = data[at : at + text_size]
        offsets = array.array(_OFFSETS)
        offsets.frombytes(data[at + text_size : at + text_size + offsets_size])
        if sys.byteorder != "little":
            offsets.byteswap()
        at += text_size + offsets_size
        column = artifacts.Strings(text, offsets)
        if len(column) != header["names"]:
            raise ValueError(f"a name column of {len(column)} names, {header['names']} expected")
        columns.append(column)
    return header, columns


def load_saved(folder: Path, made_of: dict[str, Any]) -> Gazetteer:
    """The gazetteer saved for exactly these inputs, verified (:func:`artifacts.read`)."""
    data = artifacts.read(folder, KIND, made_of, ".data")
    try:
        with artifacts.paused_gc():
            raw, columns = _unpack(data)
            places = Places(raw["places"])
            names = Names(columns)
            regions = {row[0]: _region_of(row) for row in raw["regions"]}
            foreign = tuple((str(n), str(c), int(p)) for n, c, p in raw["foreign"])
    except (ValueError, TypeError, KeyError, IndexError, struct.error) as error:
        path = artifacts.paths(folder, KIND, made_of, ".data")[0]
        raise ArtifactError(f"{path}: unreadable ({error})") from error
    return Gazetteer(places=places, names=names, regions=regions, foreign=foreign)


def _region_of(row: list[Any]) -> Region:
    # JSON gives lists where the record holds tuples (admin1_codes, kana, latin).
    values: list[Any] = [tuple(v) if isinstance(v, list) else v for v in row]
    return Region(*values)


def read(gazetteer_dir: Path) -> Gazetteer:
    """Read a built gazetteer folder's CSVs (seconds; :func:`load` keeps the result)."""
    gazetteer_dir = Path(gazetteer_dir)
    needed = _needed(gazetteer_dir)
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
