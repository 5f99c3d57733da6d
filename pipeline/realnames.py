"""Score the pipeline on real register spellings (``raw/realnames_dev.csv``).

The dev gold (:mod:`pipeline.evaluate`) holds dictionary spellings; this set holds
katakana exactly as Diet minutes, burial lists, memoirs and museum captions wrote
them (by ear, with typesetting slips, region prefixes and feature words), each
with the region the source gives, and, where a source pins the place down, its
Russian name and point. Each row falls in one of three kinds:

* ``identifiable``: a Russian name is given (``cyrillic``) and the place is in
  the USSR or Mongolia. Right when the row's place lies within 25 km of the
  given point, or, without a point, carries the named place's name (a Cyrillic
  or Latin name of the place within fuzzy ratio 85 of one the row gives);
* ``not_ussr``: a Manchurian place (ハイラル): it must never be ``auto``;
* ``unidentified``: no source identifies the place (no ``cyrillic``): it must be
  ``review`` or ``unresolved``, never ``auto`` onto a guess.

``brier`` and ``ece`` (with the ``reliability`` table) count a row right as
``right`` does. ``auto_precision`` counts every ``auto`` row: right on an identifiable row, wrong
on the other two kinds. The region the source gives goes in as a raw ``region``
column, in Japanese, as a user's register would carry it.

A tool over the transliterate and reconcile stages (through :mod:`pipeline.lookup`);
never imports click.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from pipeline import overrides as ov
from pipeline import reconcile as rc
from pipeline import transliterate as tr
from pipeline.area import haversine_km
from pipeline.errors import InputDataError
from pipeline.io import read_csv
from pipeline.lookup import query_of
from pipeline.names import fold_cyrillic, fold_latin
from pipeline.places import Place
from pipeline.plots import Scored, calibration
from pipeline.records import REALNAMES_COLUMNS, Decision

NEAR_KM = 25.0
NAME_RATIO = 85.0
#: Words of a ``cyrillic``/``latin`` cell that say what the place is, not its name.
_KIND_WORDS = re.compile(
    r"\b(станция|район|область|station|district|oblast)\b", re.IGNORECASE | re.UNICODE
)


@dataclasses.dataclass(frozen=True)
class RealRow:
    """One real spelling: the cell, the region the source gives and what it is."""

    katakana: str
    region: str
    names: tuple[str, ...]
    lat: float | None
    lon: float | None
    not_ussr: bool

    @property
    def kind(self) -> str:
        """``identifiable``, ``not_ussr`` or ``unidentified`` (see the module doc)."""
        if self.not_ussr:
            return "not_ussr"
        return "identifiable" if self.names else "unidentified"


def _names_of(cyrillic: str, latin: str) -> tuple[str, ...]:
    """'Бекабад (Беговат)' and 'Bekabad (Begovat)' → every name, kind words dropped.

    >>> _names_of("Карымская (станция)", "Karymskaya (station)")
    ('Карымская', 'Karymskaya')
    """
    out = []
    for cell in (cyrillic, latin):
        for part in re.split(r"[()/]", cell):
            part = _KIND_WORDS.sub(" ", part).strip(" ,;")
            if part and not re.search(r"[\u3000-\u9fff]", part):
                out.append(part)
    return tuple(dict.fromkeys(out)) if cyrillic.strip() else ()


def read_realnames(path: Path) -> list[RealRow]:
    """Read a real-spellings CSV (the columns of :data:`REALNAMES_COLUMNS`)."""
    _, rows = read_csv(Path(path), required=REALNAMES_COLUMNS)
    out = []
    for number, row in enumerate(rows, start=2):
        try:
            lat = float(row["lat"]) if row["lat"].strip() else None
            lon = float(row["lon"]) if row["lon"].strip() else None
        except ValueError:
            raise InputDataError(
                f"{path}: row {number}, column lat/lon: '{row['lat']}, {row['lon']}' is not a "
                "point in decimal degrees; leave both empty when no source gives one"
            ) from None
        out.append(
            RealRow(
                katakana=row["katakana"],
                region=row["region_given"],
                names=_names_of(row["cyrillic"], row["latin"]),
                lat=lat,
                lon=lon,
                not_ussr=row["not_ussr"].strip().lower() == "yes",
            )
        )
    return out


def _is_right(
    place: Place | None, real: RealRow, index: rc.Index, cyrillic: dict[str, list[str]]
) -> bool:
    if place is None or real.kind != "identifiable":
        return False
    if real.lat is not None and real.lon is not None:
        if place.lat is None or place.lon is None:
            return False
        return haversine_km(place.lat, place.lon, real.lat, real.lon) <= NEAR_KM
    wanted = [fold_cyrillic(n).lower() for n in real.names] + [fold_latin(n) for n in real.names]
    have = [fold_cyrillic(place.name).lower(), fold_latin(place.name)]
    have += cyrillic.get(place.place_id, [])
    have += list(index.latin_by_place.get(place.place_id, ()))
    return any(fuzz.ratio(a, b) >= NAME_RATIO for a in have for b in wanted if a and b)


def score_realnames(
    real: Sequence[RealRow],
    index: rc.Index,
    overrides: Sequence[ov.Override],
    model: tr.Model,
    transliterate_params: tr.TransliterateParams,
    params: rc.ReconcileParams,
) -> dict[str, Any]:
    """Transliterate and reconcile the real spellings as ``camps run`` would; measure.

    Returns the numbers of the module doc and, under ``misses``, one line per
    identifiable row placed wrong and per row wrongly ``auto``.
    """
    rows = [{"katakana": r.katakana, "region": r.region} for r in real]
    queries = [query_of(r.katakana, model, transliterate_params, r.region) for r in real]
    rc.reconcile_rows(rows, index, overrides, params, queries)
    places = index.gazetteer.places
    cyrillic: dict[str, list[str]] = {}
    for name in index.gazetteer.names:
        if name.script == "Cyrl":
            cyrillic.setdefault(name.place_id, []).append(fold_cyrillic(name.name).lower())
    kinds = {k: 0 for k in ("identifiable", "not_ussr", "unidentified")}
    right = auto = auto_right = not_ussr_auto = unidentified_auto = 0
    misses: list[str] = []
    scored: list[Scored] = []
    for item, row in zip(real, rows, strict=True):
        kinds[item.kind] += 1
        ok = _is_right(places.get(row["place_id"]), item, index, cyrillic)
        positive = item.kind == "identifiable"
        scored.append(Scored(float(row["score"] or 0), row["decision"], ok, positive, None))
        right += ok
        is_auto = row["decision"] == Decision.AUTO
        auto += is_auto
        auto_right += is_auto and ok
        not_ussr_auto += is_auto and item.kind == "not_ussr"
        unidentified_auto += is_auto and item.kind == "unidentified"
        if (item.kind == "identifiable" and not ok) or (is_auto and not ok):
            misses.append(f"{item.katakana}: got {row['place_name'] or '-'} ({row['decision']})")
    n = kinds["identifiable"] or 1
    return {
        "rows": len(real),
        **kinds,
        "right": right,
        "acc_identifiable": round(right / n, 4),
        "auto": auto,
        "auto_precision": round(auto_right / auto, 4) if auto else None,
        "not_ussr_auto": not_ussr_auto,
        "unidentified_auto": unidentified_auto,
        **calibration(scored),
        "misses": misses,
        "scored": scored,
    }


def summary(scores: dict[str, Any], label: str) -> list[str]:
    """Lines for the terminal: the figures, then the misses."""
    precision = "-" if scores["auto_precision"] is None else f"{scores['auto_precision']:.3f}"
    lines = [
        f"{label}: {scores['rows']} rows ({scores['identifiable']} identifiable, "
        f"{scores['not_ussr']} not USSR, {scores['unidentified']} unidentified): "
        f"right {scores['right']}/{scores['identifiable']} ({scores['acc_identifiable']:.3f}), "
        f"auto {scores['auto']} (precision {precision}), not-USSR auto "
        f"{scores['not_ussr_auto']}, unidentified auto {scores['unidentified_auto']}, "
        f"Brier {scores['brier']:.4f}, ECE {scores['ece']:.4f}"
    ]
    if scores["misses"]:
        lines.append(f"  {label} misses: " + "; ".join(scores["misses"]))
    return lines
