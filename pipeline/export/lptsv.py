"""LP-TSV v0.5 (camps.lp.tsv): WHG's simpler, delimited upload format.

Built from the same Linked Places features as ``camps.lpf.json`` (one source of
truth), so both files say the same of a place. The columns follow
LinkedPasts/linked-places-format ``tsv_0.5.md``: the required ``id``, ``title``,
``title_source``, ``fclasses``/``aat_types`` and ``start``; ``matches`` with WHG's
alias (``gn:NNN``), ``variants`` as ``name@lang``, and ``approximation`` in
kilometres (the row's ``uncertainty_km``). Multiple values are joined with ``;``;
the file has no quoting, so a tab, newline or ``;`` inside a value becomes a space.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pipeline.export.citations import geonames_of
from pipeline.export.rows import Placed

if TYPE_CHECKING:  # the features make their LP-TSV lines with lptsv_row
    from pipeline.export.lpf import Features

COLUMNS = (
    "id",
    "title",
    "title_source",
    "title_uri",
    "fclasses",
    "aat_types",
    "types",
    "start",
    "end",
    "ccodes",
    "matches",
    "variants",
    "lon",
    "lat",
    "geo_source",
    "geo_id",
    "approximation",
    "description",
)
_UNSAFE = re.compile(r"[\t\r\n;]+")


def _cell(text: str) -> str:
    return _UNSAFE.sub(" ", text).strip()


def _joined(values: Iterable[str]) -> str:
    return ";".join(dict.fromkeys(v for v in (_cell(x) for x in values) if v))


def lptsv_row(feature: Mapping[str, Any], record_id: str, uncertainty_km: str) -> dict[str, str]:
    """One LP-TSV row of a Linked Places feature."""
    props = feature["properties"]
    title = props["title"]
    names = feature["names"]
    # A row with no name at all (an empty katakana cell) has no name to cite.
    title_name = next((n for n in names if n["toponym"] == title), names[0] if names else {})
    title_cite = (title_name.get("citations") or [{"label": "unknown"}])[0]
    (point,) = feature["geometry"]["geometries"]
    point_cite = (point.get("citations") or [{}])[0]
    timespan = feature["when"]["timespans"][0]
    types = feature.get("types", [])
    # aat_types lists one id per term of types, in the same order (tsv_0.5.md).
    terms = [t["sourceLabels"][0]["label"] for t in types]
    aat = [t.get("identifier", "").removeprefix("aat:") for t in types]
    gids = [geonames_of(link["identifier"]) for link in feature.get("links", [])]
    return {
        "id": record_id,
        "title": _cell(title),
        "title_source": _cell(title_cite.get("label", "unknown")),
        "title_uri": title_cite.get("@id", ""),
        "fclasses": _joined(props["fclasses"]),
        "aat_types": ";".join(aat),
        "types": ";".join(_cell(t) for t in terms),
        "start": timespan["start"]["in"],
        "end": timespan["end"]["in"],
        "ccodes": _joined(props["ccodes"]),
        "matches": _joined(f"gn:{gid}" for gid in gids if gid),
        "variants": _joined(f"{n['toponym']}@{n['lang']}" for n in names if n["toponym"] != title),
        "lon": f"{point['coordinates'][0]:.6f}",
        "lat": f"{point['coordinates'][1]:.6f}",
        "geo_source": _cell(point_cite.get("label", "")),
        "geo_id": point_cite.get("@id", ""),
        "approximation": uncertainty_km.strip(),
        "description": _cell(
            f"{types[0]['sourceLabels'][0]['label']}, symbol class {props['symbol_class']}, "
            f"decision {props['decision']}"
        ),
    }


def line_after_id(feature: Mapping[str, Any], uncertainty_km: str) -> str:
    """A feature's LP-TSV line after its ``id`` cell and tab (:func:`lptsv_row`): the
    same for every row of one body, which differ in their id only."""
    assert COLUMNS[0] == "id"
    row = lptsv_row(feature, "", uncertainty_km)
    return "\t".join(row.get(column, "") for column in COLUMNS[1:]) + "\n"


def lptsv_text(rows: Iterable[Mapping[str, str]]) -> str:
    """The TSV text: a header and one line per row, unquoted (tsv_0.5.md)."""
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join(row.get(c, "") for c in COLUMNS) for row in rows]
    return "\n".join(lines) + "\n"


def lptsv_of(camps: Iterable[Placed], features: Features) -> Iterator[bytes]:
    """:func:`lptsv_text` of the placed rows' features (``features``: the export's) in
    UTF-8, a line at a time; each body's line after its id is made once, with its
    feature (:meth:`~pipeline.export.lpf.Features.tsv_line`): alike rows differ in
    their id only."""
    yield ("\t".join(COLUMNS) + "\n").encode("utf-8")
    for placed in camps:
        yield features.tsv_line(placed)
