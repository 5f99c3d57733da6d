"""Check the raw camp records and the curated gazetteer before anything is built on them.

Every camp row and every coordinate must say where it comes from, and the later
stages trust the column contracts of DESIGN.md. A bad cell found here costs a
minute; found after export it costs a wrong point on somebody's map. Each
problem is one line naming the file, the row, the column and the fix, so a
user who transcribes a new raw file (for example the ministry map's legend)
can correct it without reading the code.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline import area, io, overrides
from pipeline.errors import InputDataError
from pipeline.io import Row, read_csv
from pipeline.names import scripts_of
from pipeline.records import (
    CURATED_NAME_COLUMNS,
    CURATED_PLACE_COLUMNS,
    CURATED_REGION_COLUMNS,
    MAP_COLUMNS,
    PERIOD_RE,
    SymbolClass,
    class_of_figure,
    parse_figure,
    parse_period,
)

logger = logging.getLogger(__name__)

FEATURE_TYPES = frozenset(
    {"city", "town", "settlement", "station", "region", "district", "mine", "camp"}
)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANG_TAG = re.compile(r"^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-[A-Z]{2})?$")
PERIOD = PERIOD_RE
#: An absolute path of somebody's machine (``/work/…``, ``/home/…``, ``C:\…``); a URL's
#: path (``host/path``) does not match, as its slash follows a letter.
LOCAL_PATH = re.compile(r"(?:^|[\s(\[;|,'\"])(?:/[\w.~-]+){2,}|\b[A-Za-z]:\\\w")
#: Columns that cite where something comes from; none may name a file on one machine.
CITING_COLUMNS = ("source", "sources", "note", "notes", "point_source")
#: Sources that are no source: a period needs one a reader can look up.
GENERAL_KNOWLEDGE = re.compile(r"general knowledge", re.IGNORECASE)


def _problem(path: Path, row: int, column: str, what: str, fix: str) -> str:
    """One problem line: file, row, column, what is wrong, and how to fix it."""
    return f"{path}: row {row}, column {column}: {what}: {fix}"


def _load(
    path: Path, required: Sequence[str], problems: list[str], optional: bool = False
) -> list[Row] | None:
    """Read a CSV through pipeline.io, turning its errors into problem lines."""
    if optional and not Path(path).exists():
        return None
    try:
        return read_csv(path, required=required)[1]
    except InputDataError as exc:
        problems.append(str(exc))
        return None


def _unique(path: Path, rows: list[Row], column: str, problems: list[str]) -> None:
    """Report repeated values of an id column."""
    first: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        value = row.get(column, "").strip()
        if not value:
            continue
        if value in first:
            problems.append(
                _problem(
                    path,
                    number,
                    column,
                    f"'{value}' repeats row {first[value]}",
                    "give each row its own id",
                )
            )
        first.setdefault(value, number)


def _filled(path: Path, rows: list[Row], columns: Iterable[str], problems: list[str]) -> None:
    """Report empty cells in columns every row must fill."""
    for number, row in enumerate(rows, start=2):
        for column in columns:
            if not row.get(column, "").strip():
                problems.append(_problem(path, number, column, "empty", f"fill in the {column}"))


def check_citations(path: Path, number: int, row: Row) -> list[str]:
    """Refuse an absolute local path in a source or note column: cite the publication.

    >>> check_citations(Path("m.csv"), 3, {"note": "from /work/shared/seed/x.txt"})[0][:45]
    'm.csv: row 3, column note: cites a local file'
    >>> check_citations(Path("m.csv"), 3, {"source": "https://bystrov.ustrcr.cz/tabory/3054"})
    []
    """
    out = []
    for column in sorted(row):
        if column in CITING_COLUMNS or column.endswith("_source"):
            found = LOCAL_PATH.search(row[column] or "")
            if found:
                what = f"cites a local file ({found.group(0).strip()})"
                fix = "cite the publication itself (title, year, page or URL), not a path"
                out.append(_problem(path, number, column, what, fix))
    return out


def check_point(path: Path, number: int, row: Row) -> list[str]:
    """Check a place's lat/lon pair: both or neither, numbers, inside the area.

    >>> problem = check_point(Path("p.csv"), 2, {"lat": "131.9", "lon": "43.1", "note": ""})
    >>> problem[0].split(": ")[:3]
    ['p.csv', 'row 2, column lat', '131.9, 43.1 lies outside the former USSR and Mongolia']
    """
    lat, lon = row.get("lat", "").strip(), row.get("lon", "").strip()
    if not lat and not lon:
        if row.get("note", "").strip():
            return []
        fix = "give a point with its point_source, or say in note why there is none"
        return [_problem(path, number, "lat", "no point and no note", fix)]
    try:
        y, x = float(lat), float(lon)
    except ValueError:
        fix = "write decimal degrees (WGS84), both lat and lon, or leave both empty"
        return [_problem(path, number, "lat", f"'{lat}', '{lon}' is not a point", fix)]
    if not area.inside_area(y, x):
        what = f"{lat}, {lon} lies outside the former USSR and Mongolia"
        return [_problem(path, number, "lat", what, "check for swapped lat/lon or a wrong sign")]
    if not row.get("point_source", "").strip():
        fix = "say where the point comes from (geonames:<id> or the source)"
        return [_problem(path, number, "point_source", "empty for a point", fix)]
    return []


def check_place(path: Path, number: int, row: Row, regions: set[str], maps: set[str]) -> list[str]:
    """Check one curated place row (id, type, country, point, GeoNames id, region, maps)."""
    out: list[str] = []
    pid = row["place_id"].strip()
    if not SLUG.match(pid):
        out.append(_problem(path, number, "place_id", f"'{pid}' is not a slug", "use a-z, 0-9, -"))
    if row["feature_type"].strip() not in FEATURE_TYPES:
        fix = f"use one of {', '.join(sorted(FEATURE_TYPES))}"
        out.append(_problem(path, number, "feature_type", f"'{row['feature_type']}'", fix))
    if row["country"].strip() not in area.COUNTRIES:
        fix = "use today's ISO 3166 alpha-2 code of a former Soviet republic or MN"
        out.append(_problem(path, number, "country", f"'{row['country']}'", fix))
    out += check_point(path, number, row)
    gid, source = row["geonames_id"].strip(), row["point_source"].strip()
    if gid and not gid.isdigit():
        out.append(_problem(path, number, "geonames_id", f"'{gid}'", "write the numeric id"))
    if source.startswith("geonames:") and source != f"geonames:{gid}":
        fix = "make point_source geonames:<geonames_id> or fix the id"
        out.append(_problem(path, number, "point_source", f"'{source}' vs id '{gid}'", fix))
    if row["region_id"].strip() not in regions:
        what = f"'{row['region_id']}' is not in regions.csv"
        out.append(_problem(path, number, "region_id", what, "add the region or fix the id"))
    for map_id in _split(row["maps"]):
        if map_id not in maps:
            what = f"map '{map_id}' is not in maps.csv"
            out.append(_problem(path, number, "maps", what, "use an id of maps.csv"))
    if not row["sources"].strip() and not row["note"].strip():
        fix = "cite the source URL(s), or say in note that the place is general knowledge"
        out.append(_problem(path, number, "sources", "no source and no note", fix))
    return out


def _split(cell: str) -> list[str]:
    """Split a ``|``-separated cell into its non-empty parts.

    >>> _split(" A| B ||")
    ['A', 'B']
    """
    return [part.strip() for part in cell.split("|") if part.strip()]


def check_name(path: Path, number: int, row: Row, place_ids: set[str]) -> list[str]:
    """Check one name row: known place, a valid language tag matching the script, a period."""
    out: list[str] = []
    if row["place_id"].strip() not in place_ids:
        what = f"'{row['place_id']}' is not in places.csv"
        out.append(_problem(path, number, "place_id", what, "add the place there first"))
    lang, name = row["lang"].strip(), row["name"].strip()
    if not LANG_TAG.match(lang):
        fix = "use a BCP 47 tag such as en, ru, ja-Kana, ru-Latn"
        out.append(_problem(path, number, "lang", f"'{lang}' is not a language tag", fix))
    else:
        expected = {"ru": "Cyrl", "en": "Latn", "ja-Kana": "Kana"}.get(lang)
        if lang.endswith("-Latn"):
            expected = "Latn"
        found = scripts_of(name)
        if expected and name and found != {expected}:
            # Every letter in the tagged script: a Latin o in a Cyrillic name is caught.
            what = f"'{name}' is {'+'.join(sorted(found)) or 'not'} script, not {expected}"
            out.append(_problem(path, number, "lang", what, "fix the tag or the name"))
    match = PERIOD.match(row["period"].strip()) if row["period"].strip() else None
    if row["period"].strip() and (match is None or not _ordered(row["period"])):
        fix = "write YYYY-YYYY, -YYYY, YYYY- or YYYY (empty when current)"
        out.append(_problem(path, number, "period", f"'{row['period']}'", fix))
    if not name:
        out.append(_problem(path, number, "name", "empty", "fill in the name or drop the row"))
    if not row["source"].strip():
        fix = "cite the source, or write 'dossier (general knowledge)'"
        out.append(_problem(path, number, "source", "empty", fix))
    elif row["period"].strip() and GENERAL_KNOWLEDGE.search(row["source"]):
        what = f"the period '{row['period']}' has no source ('{row['source'].strip()}')"
        fix = "cite a publication or page that gives the years, or empty the period"
        out.append(_problem(path, number, "source", what, fix))
    return out


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two periods share more than the year of a rename (one's end, the other's start).

    >>> _overlap((float("-inf"), 1935), (1935, 1957)), _overlap((1935, 1935), (1930, 1957))
    (False, True)
    """
    low, high = max(a[0], b[0]), min(a[1], b[1])
    if high != low:
        return high > low
    return not ((a[1] == low and b[0] == low) or (b[1] == low and a[0] == low))


def check_rival_periods(path: Path, rows: Sequence[Row]) -> list[str]:
    """Names of one place and language whose periods overlap by more than the year of a rename.

    Spellings of one name share its period; a rival name (another period) may
    share only its boundary year with it: Nikolsk-Ussuriysky ``-1935`` and
    Voroshilov ``1935-1957`` are fine, ``-1940`` and ``1935-1957`` are not.
    """
    seen: dict[tuple[str, str], list[tuple[int, str, tuple[float, float]]]] = {}
    out = []
    for number, row in enumerate(rows, start=2):
        try:
            span = parse_period(row.get("period", ""))
        except ValueError:
            continue  # check_name reports it
        if span is None:
            continue
        key = (row.get("place_id", "").strip(), row.get("lang", "").strip())
        period = row["period"].strip()
        for other_number, other_period, other in seen.get(key, []):
            if other_period == period:
                continue
            if _overlap(span, other):
                what = (
                    f"'{period}' overlaps '{other_period}' of row {other_number}, a rival "
                    "name of the same place"
                )
                fix = "correct one period from its source (a rename year may be shared)"
                out.append(_problem(path, number, "period", what, fix))
        seen.setdefault(key, []).append((number, period, span))
    return out


def _ordered(period: str) -> bool:
    """Whether a period's start year is not after its end year.

    >>> _ordered("1935-1957"), _ordered("1957-1935"), _ordered("-1972")
    (True, False, True)
    """
    years = [int(y) for y in period.strip().split("-") if y]
    return years == sorted(years)


def check_raw_row(path: Path, number: int, row: Row, place_ids: set[str] | None) -> list[str]:
    """Check one raw camp row: katakana, source, class, count and its source, place id."""
    out: list[str] = []
    if not row.get("katakana", "").strip():
        out.append(_problem(path, number, "katakana", "empty", "write the name as printed"))
    if "source" not in row or not row["source"].strip():
        fix = "cite where the row comes from (URL or publication and page)"
        out.append(_problem(path, number, "source", "empty", fix))
    out += _check_class(path, number, row)
    out += check_citations(path, number, row)
    pid = row.get("place_id", "").strip()
    if pid and place_ids is not None and pid not in place_ids:
        what = f"'{pid}' is not a gazetteer place"
        fix = "use a place_id of gazetteer/places.csv (or the built gazetteer), or leave it empty"
        out.append(_problem(path, number, "place_id", what, fix))
    return out


def _check_class(path: Path, number: int, row: Row) -> list[str]:
    """Check symbol_class and the figures against each other and their sources.

    A class printed on the map (``map_no`` filled) stands on its own; without a
    map number there is no class to write: export derives it from ``detainees``.
    Every figure needs its source, and a detainee count the excerpt it comes from.
    """
    printed = row.get("symbol_class", "").strip()
    valid = {c.value for c in SymbolClass}
    if printed and printed not in valid:
        fix = f"use one of {', '.join(sorted(valid))}"
        return [_problem(path, number, "symbol_class", f"'{printed}'", fix)]
    out: list[str] = []
    figures = {}
    for column in ("detainees", "deaths", "burials", "remains_recovered"):
        raw = row.get(column, "").strip()
        try:
            figures[column] = parse_figure(raw)
        except ValueError:
            fix = "write a count such as 40000, 'about 30,000', 'over 16,000' or '1,200-1,500'"
            out.append(_problem(path, number, column, f"'{raw}' is not a count", fix))
            continue
        figure = figures[column]
        if column != "detainees" and figure is not None and figure.qualifier:
            what = f"'{raw}' is not an exact count"
            fix = (
                "write the count itself (the layers hold whole numbers), the words in other_figures"
            )
            out.append(_problem(path, number, column, what, fix))
        source = "remains_source" if column == "remains_recovered" else f"{column}_source"
        if figures[column] is not None and not row.get(source, "").strip():
            fix = f"cite the source that gives the figure, or empty the {column} cell"
            out.append(_problem(path, number, source, "empty for a figure", fix))
    if figures.get("detainees") is not None and not row.get("detainees_excerpt", "").strip():
        fix = "quote the source's words that give the figure (column detainees_excerpt)"
        out.append(_problem(path, number, "detainees_excerpt", "empty for a figure", fix))
    if printed and printed != SymbolClass.UNKNOWN and not row.get("map_no", "").strip():
        derived = class_of_figure(figures.get("detainees")).value
        if figures.get("detainees") is None:
            what = f"'{printed}' without a count of the detained"
        else:
            what = f"'{printed}' written by hand (the count gives '{derived}')"
        fix = (
            "empty it (export derives the class from detainees), or fill map_no when "
            "the class is printed on the map"
        )
        out.append(_problem(path, number, "symbol_class", what, fix))
    return out


def _place_ids(path: Path) -> set[str]:
    """The place ids of a places CSV (curated or built); empty when unreadable."""
    try:
        return {r["place_id"].strip() for r in read_csv(path, required=("place_id",))[1]}
    except InputDataError:
        return set()


def check_gazetteer(
    curated_path: Path, maps_path: Path, problems: list[str]
) -> tuple[set[str], set[str]]:
    """Check maps.csv, regions.csv, places.csv and place_names.csv; return place and map ids."""
    maps = _load(maps_path, MAP_COLUMNS[:4], problems) or []
    _unique(maps_path, maps, "id", problems)
    _filled(maps_path, maps, ("id", "title", "year"), problems)
    for number, row in enumerate(maps, start=2):
        problems.extend(check_citations(maps_path, number, row))
    map_ids = {r["id"].strip() for r in maps}
    regions_path = curated_path.with_name("regions.csv")
    regions = _load(regions_path, CURATED_REGION_COLUMNS[:6], problems) or []
    _unique(regions_path, regions, "region_id", problems)
    _filled(regions_path, regions, ("region_id", "name_1945", "country", "admin1_codes"), problems)
    for number, row in enumerate(regions, start=2):
        if row["country"].strip() and row["country"].strip() not in area.COUNTRIES:
            fix = "use an ISO alpha-2 code of a former Soviet republic or MN"
            problems.append(_problem(regions_path, number, "country", row["country"], fix))
    places = _load(curated_path, CURATED_PLACE_COLUMNS, problems) or []
    _unique(curated_path, places, "place_id", problems)
    _unique(curated_path, places, "geonames_id", problems)
    _filled(curated_path, places, ("place_id", "name"), problems)
    region_ids = {r["region_id"].strip() for r in regions}
    for number, row in enumerate(places, start=2):
        problems.extend(check_place(curated_path, number, row, region_ids, map_ids))
        problems.extend(check_citations(curated_path, number, row))
    place_ids = {r["place_id"].strip() for r in places}
    names_path = curated_path.with_name("place_names.csv")
    names = _load(names_path, CURATED_NAME_COLUMNS, problems) or []
    for number, row in enumerate(names, start=2):
        problems.extend(check_name(names_path, number, row, place_ids))
        problems.extend(check_citations(names_path, number, row))
    problems.extend(check_rival_periods(names_path, names))
    return place_ids, map_ids


class _CuratedOrGeoNames:
    """Curated place ids, and every GeoNames id (``gn:…``): the gazetteer is not built yet."""

    def __init__(self, known: set[str]) -> None:
        self.known = known

    def __contains__(self, place_id: object) -> bool:
        return place_id in self.known or str(place_id).startswith("gn:")


def check_overrides(path: Path, known: set[str], problems: list[str]) -> None:
    """Check overrides.csv by the rules the stages apply (:mod:`pipeline.overrides`).

    GeoNames ids (``gn:…``) can only be checked once the gazetteer is built, so
    they are taken as they are while ``known`` holds curated ids alone.
    """
    built = any(pid.startswith("gn:") for pid in known)
    problems.extend(overrides.check(path, known if built else _CuratedOrGeoNames(known))[1])


def run(
    raw_paths: Sequence[Path],
    curated_path: Path,
    maps_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
) -> list[str]:
    """Check every raw file and the gazetteer files; return one line per problem.

    Parameters
    ----------
    raw_paths
        Raw camp files (``raw/camps.csv``, a user's transcription of the map …).
    curated_path
        ``gazetteer/places.csv``; ``regions.csv`` and ``place_names.csv`` sit beside it.
    maps_path
        ``gazetteer/maps.csv``, the reference maps that places may cite.
    gazetteer_dir
        The built gazetteer; when its ``places.csv`` exists, raw and override
        place ids are checked against it as well.
    overrides_path
        Manual decisions; checked only when the file exists.

    Returns
    -------
    list of str
        Empty when all is well; ``camps validate`` exits 1 otherwise.
    """
    problems: list[str] = []
    curated_ids, _ = check_gazetteer(Path(curated_path), Path(maps_path), problems)
    built_path = Path(gazetteer_dir) / "places.csv"
    built_ids = _place_ids(built_path) if built_path.exists() else set()
    for raw_path in raw_paths:
        rows = _load(Path(raw_path), ("katakana",), problems)
        if rows is None:
            continue
        _unique(Path(raw_path), rows, "record_id", problems)
        for number, row in enumerate(rows, start=2):
            problems.extend(check_raw_row(Path(raw_path), number, row, curated_ids | built_ids))
            pid = row.get("place_id", "").strip()
            if pid and built_ids and pid in curated_ids and pid not in built_ids:
                what = f"'{pid}' is curated but missing from {built_path}"
                fix = "rebuild the gazetteer (camps gazetteer)"
                problems.append(_problem(Path(raw_path), number, "place_id", what, fix))
    check_overrides(Path(overrides_path), curated_ids | built_ids, problems)
    logger.info("validate: %d problem(s)", len(problems))
    return problems


def check_output_set(folder: Path) -> list[str]:
    """Problems of an output folder: incomplete, changed since sealed, or rows lost.

    ``camps export`` and ``camps run`` seal a folder with ``manifest.json`` last
    (:func:`pipeline.io.output_set`). Here every file is checked against its
    hash, and the rows on disk against the input: the features of
    ``camps.geojson`` plus the rows of ``unresolved.csv`` must be the input's rows.
    """
    folder = Path(folder)
    manifest_path = folder / io.MANIFEST
    if not manifest_path.is_file():
        return [
            f"{folder}: no {io.MANIFEST}: the last run into this folder did not finish "
            "(killed, or failed), so its files may be of two runs: run camps run or "
            "camps export again"
        ]
    manifest = io.read_json(manifest_path)
    problems = []
    for name, state in io.unsealed_files(folder, manifest.get("files", {})).items():
        if state == "missing":
            problems.append(
                f"{folder / name}: listed in {io.MANIFEST} but missing: run the export again"
            )
        else:
            problems.append(
                f"{folder / name}: changed since the run that wrote this set (its hash is not "
                f"the one in {io.MANIFEST}): run the export again, or restore the file"
            )
    rows = manifest.get("rows", {})
    geojson, unresolved = folder / "camps.geojson", folder / "unresolved.csv"
    if geojson.is_file() and unresolved.is_file() and "input" in rows:
        placed = len(io.read_json(geojson).get("features", []))
        left = len(io.read_csv(unresolved)[1])
        if placed + left != rows["input"]:
            problems.append(
                f"{folder}: {placed} rows in camps.geojson + {left} in unresolved.csv, but "
                f"the input had {rows['input']}: rows were lost; run the export again"
            )
    problems.extend(check_candidates(folder))
    return problems


def check_candidates(folder: Path) -> list[str]:
    """Problems of ``candidates.csv``: each name's ranks must run 1, 2, 3 … once each,
    and every ``name_key`` of camps.geojson with candidates must be in it."""
    path = Path(folder) / "candidates.csv"
    if not path.is_file():
        return []
    _, table = io.read_csv(path)
    ranks: dict[str, list[int]] = {}
    problems: list[str] = []
    for number, row in enumerate(table, start=2):
        try:
            ranks.setdefault(row.get("name_key", ""), []).append(int(row.get("rank", "")))
        except ValueError:
            what = f"'{row.get('rank', '')}' is not a rank"
            problems.append(_problem(path, number, "rank", what, "run the export again"))
    for key, found in ranks.items():
        if found != list(range(1, len(found) + 1)):
            what = f"name_key '{key}' has ranks {found}, not 1 to {len(found)}"
            problems.append(_problem(path, 0, "rank", what, "run the export again"))
    geojson = Path(folder) / "camps.geojson"
    if geojson.is_file():
        for feature in io.read_json(geojson).get("features", []):
            props = feature.get("properties") or {}
            named = props.get("name_key")
            if named is not None and props.get("best_rival") and named not in ranks:
                what = f"name_key '{named}' of camps.geojson has a rival but no candidates"
                problems.append(_problem(path, 0, "name_key", what, "run the export again"))
                break
    return problems
