"""The ``candidates`` table: each name's ranked candidates, stored once per name.

The reconcile stage gives every row its name's whole candidate list as JSON
(some 4,000 characters); a register names one camp thousands of times, so the
layers would carry the same list thousands of times. The export keeps, on each
row, the best place, its score and the best rival (``best_rival``), plus the key
``name_key`` that joins the row to its candidates here: one row per name and
candidate rank, with the W3C reconciliation fields and one column per feature.

``name_key`` is the normalised name (``katakana_normalized``). A name whose
rows have more than one candidate list (a region hint or a manual decision
changed the ranking for some rows) gets one key per list: the normalised name,
then ``NAME #2``, ``NAME #3`` in the order of the rows' record ids.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

from pipeline.export.results import best_rival_of
from pipeline.export.rows import Body, Placed
from pipeline.records import FEATURE_LABELS, parse_candidates

#: What replaces the ``candidates`` column in the layers: the join key and the best rival.
ROW_COLUMNS = ("name_key", "best_rival")
#: The table's fixed columns; one ``feature_<id>`` column per feature follows them.
TABLE_COLUMNS = (
    "name_key",
    "katakana_normalized",
    "rank",
    "place_id",
    "name",
    "score",
    "match",
    "description",
)
FEATURE_PREFIX = "feature_"
#: The table's integer and real columns (the GeoPackage's and the CSV schema's types).
TABLE_INTEGERS = ("rank", "match")
TABLE_REALS = ("score",)


@dataclasses.dataclass(frozen=True)
class Candidates:
    """The rows' join keys and best rivals, and the table they join to."""

    #: record id -> {name_key, best_rival}; rows alike but for their id share one dict
    per_row: dict[str, dict[str, str]]
    columns: list[str]
    #: column -> its cells, one per table row (None where a row lacks the feature):
    #: a million-row register's table is some 450,000 rows, 0.6 GB held as dicts
    cells: dict[str, list[Any]]
    #: feature column -> what the feature measures (the reconcile stage's words)
    features: dict[str, str]


def layer_columns(columns: Sequence[str]) -> list[str]:
    """The layers' columns: ``candidates`` replaced by :data:`ROW_COLUMNS`.

    >>> layer_columns(["katakana", "candidates", "lat"])
    ['katakana', 'name_key', 'best_rival', 'lat']
    >>> layer_columns(["katakana", "lat"])
    ['katakana', 'lat', 'name_key', 'best_rival']
    """
    if "candidates" not in columns:
        return [*columns, *(c for c in ROW_COLUMNS if c not in columns)]
    out: list[str] = []
    for column in columns:
        if column == "candidates":
            out.extend(c for c in ROW_COLUMNS if c not in columns)
        elif column not in ROW_COLUMNS:
            out.append(column)
    return out


def collect(placed: Sequence[Placed]) -> Candidates:
    """Key every row by its name and list each distinct candidate list once.

    ``placed`` is in record-id order (:func:`pipeline.export.rows.prepare`), so
    the keys and the table are the same on every run. Each distinct list is parsed
    as its first row is met and made into its rows of the table at once: a
    million-row register's lists, parsed, would be some 13 KB each, held together.
    """
    keys: dict[tuple[str, str], str] = {}  # (normalised name, candidates JSON) -> key
    lists_of_name: dict[str, int] = {}
    per_row: dict[str, dict[str, str]] = {}
    rivals: dict[tuple[str, str], str] = {}  # (place id, candidates JSON) -> best rival
    of_body: dict[Body, dict[str, str]] = {}  # rows alike but for id
    features: dict[str, str] = {}
    cells_of: dict[str, list[Any]] = {column: [] for column in TABLE_COLUMNS}
    for p in placed:
        cells = of_body.get(p.body)
        if cells is not None:  # its name and list have their key already: the same cells
            per_row[p.record_id] = cells
            continue
        name = p.row.get("katakana_normalized", "").strip() or p.row.get("katakana", "").strip()
        text = p.row.get("candidates", "").strip()
        place = p.row.get("place_id", "")
        key = keys.get((name, text))
        found = None
        if key is None:
            number = lists_of_name.get(name, 0) + 1
            lists_of_name[name] = number
            key = name if number == 1 else f"{name} #{number}"
            keys[(name, text)] = key
            found = parse_candidates(text)  # checked by rows.prepare already
            _add_rows(cells_of, key, name, found, features)
        if (place, text) not in rivals:
            found = found if found is not None else parse_candidates(text)
            rivals[(place, text)] = best_rival_of(found, place)
        cells = of_body[p.body] = {"name_key": key, "best_rival": rivals[(place, text)]}
        per_row[p.record_id] = cells
    size = len(cells_of["name_key"])
    for column in features:  # a feature the last rows lack
        cells_of[column].extend([None] * (size - len(cells_of[column])))
    return Candidates(per_row, [*TABLE_COLUMNS, *features], cells_of, features)


def _add_rows(
    cells_of: dict[str, list[Any]],
    key: str,
    name: str,
    found: Sequence[dict[str, Any]],
    features: dict[str, str],
) -> None:
    """Add one list's rows to the table's columns (a feature column a row lacks is
    None there: the table's readers give it as empty); ``features`` gets each
    feature column's label."""
    for rank, cand in enumerate(found, start=1):
        at = len(cells_of["name_key"])  # this row's number
        fixed = {
            "name_key": key,
            "katakana_normalized": name,
            "rank": rank,
            "place_id": str(cand.get("id", "")),
            "name": str(cand.get("name", "")),
            "score": cand.get("score"),
            "match": int(bool(cand.get("match"))),
            "description": str(cand.get("description", "")),
        }
        for column, value in fixed.items():
            cells_of[column].append(value)
        for feature in cand.get("features") or ():
            which = str(feature.get("id", ""))
            label = FEATURE_LABELS.get(which) or str(feature.get("name", ""))
            features.setdefault(FEATURE_PREFIX + which, label)
            cells = cells_of.setdefault(FEATURE_PREFIX + which, [])
            cells.extend([None] * (at - len(cells)))
            if len(cells) > at:  # a feature given twice: the last value, as a dict keeps
                cells[at] = feature.get("value")
            else:
                cells.append(feature.get("value"))


def table_frame(table: Candidates) -> Any:
    """The ``candidates`` attribute table as a DataFrame (Int64 and float64 columns typed)."""
    import pandas as pd

    frame = pd.DataFrame({column: table.cells[column] for column in table.columns})
    for column in table.columns:
        if column in TABLE_INTEGERS:
            frame[column] = pd.array(list(frame[column]), dtype="Int64")
        elif column in TABLE_REALS or column in table.features:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        else:
            frame[column] = frame[column].astype(object)
    return frame


def csv_rows(table: Candidates) -> Iterator[dict[str, str]]:
    """The table as text for ``candidates.csv`` (numbers as the reconcile stage wrote
    them), a row at a time: a million-row register's table is a million rows."""
    columns = table.columns
    for cells in zip(*(table.cells[column] for column in columns), strict=True):
        yield dict(zip(columns, ["" if cell is None else str(cell) for cell in cells], strict=True))
