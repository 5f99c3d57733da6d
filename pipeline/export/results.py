"""``results.xlsx`` and ``results.csv``: the register as its owner keeps it, with the answers.

One row per input row, in the register's order: every column the register had,
in its order, then readable result columns (:data:`RESULT_COLUMNS`): the place,
its Cyrillic and BGN/PCGN Latin names, the point, the region and country, the
decision, the score, the certainty, radius and what the point stands for (the
geocode method, in words), and the best rival. No JSON and
none of the stages' working columns (those stay in ``stages/*.csv``). The CSV is
UTF-8 with a BOM, so Japanese Excel opens it as UTF-8; the workbook keeps numbers
as numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline import io, style
from pipeline.export.rows import Body, Countries, Placed
from pipeline.names import latin_of_cyrillic, script_of
from pipeline.records import STAGE_COLUMNS, GeocodeMethod

#: The result columns, after the register's own (renamed ``result_…`` on a clash).
RESULT_COLUMNS = (
    "place",
    "cyrillic",
    "latin",
    "lat",
    "lon",
    "region",
    "country",
    "decision",
    "score",
    "certainty",
    "radius_km",
    "method",
    "best_rival",
)
#: Result columns that are numbers (the workbook stores them as numbers).
NUMBER_COLUMNS = ("lat", "lon", "score", "radius_km")
#: What the decisions mean, in the words of the results.
DECISION_WORDS = {
    "auto": "matched",
    "override": "decided by a person",
    "review": "best guess, to review",
    "unresolved": "no place found",
}

#: What a point stands for (the geocode method), in the words of the results.
METHOD_WORDS = {
    GeocodeMethod.PLACE: "a town, settlement or village",
    GeocodeMethod.STATION: "a railway station",
    GeocodeMethod.REGION_CENTROID: "centre of the 1945 region: only the region is known",
    GeocodeMethod.OVERRIDE: "a point set by a person",
    GeocodeMethod.GEONAMES: "GeoNames web service",
    GeocodeMethod.NOMINATIM: "Nominatim (OpenStreetMap) web service",
}


def method_words(method: str) -> str:
    """A ``geocode_method`` value with its meaning.

    >>> method_words("region_centroid")
    'region_centroid (centre of the 1945 region: only the region is known)'
    >>> method_words(""), method_words("other")
    ('', 'other')
    """
    method = method.strip()
    words = {str(k): v for k, v in METHOD_WORDS.items()}.get(method)
    return f"{method} ({words})" if words else method


def original_columns(columns: Sequence[str]) -> list[str]:
    """The register's own columns: those before the first column a stage adds.

    Each stage appends its columns after the ones it was given, so what precedes
    the first of them is the register's (with record_id, given or made); a
    ``place_id`` that reconcile appended is not the register's, one the register
    had is.

    >>> original_columns(["record_id", "katakana", "notes", "romaji", "candidates", "place_id"])
    ['record_id', 'katakana', 'notes']
    """
    own: list[str] = []
    for column in columns:
        if column in STAGE_COLUMNS:
            break
        own.append(column)
    return own


def _candidates(row: dict[str, str]) -> list[dict[str, Any]]:
    try:
        found = json.loads(row.get("candidates") or "[]")
    except json.JSONDecodeError:
        return []
    return found if isinstance(found, list) else []


def cyrillic_of(row: dict[str, str]) -> str:
    """The place's Cyrillic name: the one the match was made on, else the best reading.

    >>> cyrillic_of({"place_id": "a", "candidates": '[{"id": "a", "description": '
    ...     '"matched Сучан (Cyrl)"}]', "cyrillic_candidates": "Сутян|Сучан"})
    'Сучан'
    >>> cyrillic_of({"place_id": "", "candidates": "[]", "cyrillic_candidates": "Сутян|Сучан"})
    'Сутян'
    """
    for cand in _candidates(row):
        if cand.get("id") == row.get("place_id") and row.get("place_id"):
            matched = str(cand.get("description", "")).removeprefix("matched ")
            name = matched.rsplit(" (", 1)[0].strip()
            if name and script_of(name) == "Cyrl":
                return name
    return row.get("cyrillic_candidates", "").split("|")[0].strip()


def best_rival(row: dict[str, str]) -> str:
    """The best candidate that is not the row's place: "name (id, score)", or ""."""
    return best_rival_of(_candidates(row), row.get("place_id"))


def best_rival_of(found: Sequence[Mapping[str, Any]], place_id: str | None) -> str:
    """:func:`best_rival` of a row whose candidates (parsed) are ``found``.

    >>> best_rival_of([{"id": "a", "name": "A", "score": 0.9},
    ...                {"id": "b", "name": "B", "score": 0.25}], "a")
    'B (b, 0.25)'
    """
    for cand in found:
        if cand.get("id") != place_id:
            return f"{cand.get('name', '')} ({cand.get('id', '')}, {float(cand['score']):.2f})"
    return ""


def _region(row: dict[str, str]) -> str:
    hints = [*row.get("region_hint", "").split("|"), row.get("region", "")]
    return " | ".join(dict.fromkeys(h.strip() for h in hints if h.strip()))


class Readings:
    """The result cells that rows of one name share, each worked out once.

    A register repeats a few thousand names many times: rows with the same place
    id, candidates and Cyrillic readings have the same Cyrillic and Latin names,
    and rows at one point the same country (``countries``, the export's memo). Kept
    per :func:`write_results` call, they are the same cells as when each row made its own.
    """

    def __init__(self, countries: Countries | None = None) -> None:
        self.countries = countries or Countries()
        self._names: dict[tuple[str, str, str], tuple[str, str]] = {}

    def names(self, row: dict[str, str]) -> tuple[str, str]:
        """The row's Cyrillic name and its BGN/PCGN Latin (:func:`cyrillic_of`)."""
        key = (
            row.get("place_id", ""),
            row.get("candidates", ""),
            row.get("cyrillic_candidates", ""),
        )
        if key not in self._names:
            cyrillic = cyrillic_of(row)
            self._names[key] = (cyrillic, latin_of_cyrillic(cyrillic) if cyrillic else "")
        return self._names[key]


def result_of(placed: Placed, rival: str, readings: Readings | None = None) -> dict[str, str]:
    """The readable result columns of one row, as text; ``rival`` is its best_rival.

    ``readings`` shares the per-name work between the rows of one register.
    """
    readings = readings or Readings()
    row = placed.row
    point = placed.point
    cyrillic, latin = readings.names(row) if row.get("place_id") or point else ("", "")
    decision = row.get("decision", "").strip()
    radius = row.get("uncertainty_km", "").strip()
    return {
        "place": row.get("place_name", "").strip(),
        "cyrillic": cyrillic,
        "latin": latin,
        "lat": f"{point[1]:.6f}" if point else "",
        "lon": f"{point[0]:.6f}" if point else "",
        "region": _region(row),
        "country": readings.countries.of(point) if point else "",
        "decision": f"{decision} ({DECISION_WORDS[decision]})"
        if decision in DECISION_WORDS
        else "",
        "score": row.get("score", "").strip(),
        "certainty": row.get("certainty", "").strip(),
        "radius_km": radius,
        "method": method_words(row.get("geocode_method", "")),
        "best_rival": rival,
    }


def result_header(columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """The register's columns and the result columns' headers, every one its own.

    A result column named as a register's is ``result_X``; if the register has that
    too, ``result_X_2`` (and so on): two columns of one name would lose one of them
    (a row is read by column name, and a sheet's header names each column once).

    >>> result_header(["record_id", "katakana", "region", "result_region"])[1][4:7]
    ['lon', 'result_region_2', 'country']
    """
    own = original_columns(columns)
    taken, heads = set(own), []
    for column in RESULT_COLUMNS:
        head, number = column if column not in own else f"result_{column}", 1
        while head in taken:
            number += 1
            head = f"result_{column}_{number}"
        taken.add(head)
        heads.append(head)
    return own, heads


def _a_copy(column: str, own: Sequence[str], placed: Sequence[Placed]) -> bool:
    """Whether ``column`` is the stages' copy of the register's name or region column.

    ``--name-column 死亡場所`` (or a column found by its kana) is read as ``katakana``:
    the transliterate stage appends that copy after the register's own columns,
    so the results show the register's column, not the copy as well.
    """
    if column not in ("katakana", "region") or not placed:
        return False
    earlier = own[: own.index(column)]
    return any(all(p.row.get(c, "") == p.row.get(column, "") for p in placed) for c in earlier)


def write_results(
    outputs: io.OutputSet,
    columns: Sequence[str],
    placed: Sequence[Placed],
    rivals: Mapping[str, str],
    order: Sequence[str] | None = None,
    about: style.LayerMetadata | None = None,
    countries: Countries | None = None,
) -> None:
    """Write ``results.xlsx`` and ``results.csv`` into the set's folder, rows in ``order``.

    ``rivals`` is each record id's best_rival (the candidates table found them, once
    per distinct candidate list). ``order`` is the record ids as the register gave
    them (the layers are sorted by id; a person's sheet keeps its own order).
    ``countries`` is the export's memo of each point's country.
    """
    own, heads = result_header(columns)
    own = [c for c in own if not _a_copy(c, own, placed)]
    by_id = {p.record_id: p for p in placed}
    readings = Readings(countries)
    numbers = [c in NUMBER_COLUMNS for c in RESULT_COLUMNS]
    # rows alike but for their id (and with one rival) have the same cells but the id:
    # made once per body, as the CSV line around the id and as the workbook's values
    at = own.index("record_id") if "record_id" in own else -1
    header = [*own, *heads]
    # the workbook's cells as a tuple, each row's record made from it: a dict of a
    # million-row register's 16 cells is 464 bytes, a tuple 168
    made: dict[tuple[Body, str], tuple[str, str, tuple[Any, ...]]] = {}

    def rows() -> Iterator[tuple[str, tuple[str, str, tuple[Any, ...]]]]:
        for record_id in order if order is not None else sorted(by_id):
            p = by_id[record_id]
            rival = rivals[record_id]
            cells = made.get((p.body, rival))
            if cells is None:
                found = result_of(p, rival, readings)
                texts = [found[c] for c in RESULT_COLUMNS]
                values = [_value(t, n) for t, n in zip(texts, numbers, strict=True)]
                mine = [p.row.get(c, "") for c in own]
                record = tuple(map(io.xlsx_cell, [*mine, *values]))
                if at >= 0:
                    before, after = io.excel_csv_around([*mine, *texts], at)
                else:  # the register has no id column: one line for every alike row
                    before, after = io.excel_csv_line([*mine, *texts]), ""
                cells = made[(p.body, rival)] = (before, after, record)
            yield p.record_id, cells

    def lines() -> Iterator[str]:
        for record_id, (before, after, _) in rows():
            yield before + io.excel_csv_cell(record_id) + after if at >= 0 else before

    def records() -> Iterator[dict[str, Any]]:
        for record_id, (*_, cells) in rows():
            record = dict(zip(header, cells, strict=True))
            if at >= 0:
                record[header[at]] = io.xlsx_cell(record_id)
            yield record

    out = outputs.folder
    io.write_excel_csv_lines(out / "results.csv", header, lines())
    cells: Iterator[dict[str, Any]] = records()
    widths = {h: 14 for h in heads} | {"best_rival": 36, "decision": 24}
    sheets: list[tuple[str, Sequence[str], Any]] = [("results", header, cells)]
    if about is not None:
        facts = [("title", about.title), ("description", about.abstract)]
        facts += [("source", f"{short}: {full}") for short, full in about.sources]
        facts += [("rights", r) for r in about.rights]
        sheets.append(("about", ["about", "value"], facts))
    io.write_xlsx(Path(out / "results.xlsx"), sheets, widths | {"value": 100})
    outputs.add(out / "results.csv", out / "results.xlsx")


def _value(text: str, number: bool) -> Any:
    if number and text:
        try:
            return float(text)
        except ValueError:
            return text
    return text
