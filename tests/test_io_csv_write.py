"""write_csv writes each line as the csv module's writer does, cell for cell.

:func:`pipeline.io.write_csv` joins the cells itself (a reconciled row's
candidates cell is 2 KB of JSON that the csv writer scanned a character at a
time); the csv module is the rule, and these tests hold the two to the same bytes
on the committed stage files and on cells made of every character that matters.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.io import Row, read_csv, write_csv
from pipeline.io.cells import guard

REPO = Path(__file__).resolve().parents[1]


def _by_the_csv_module(columns: list[str], rows: list[Row]) -> str:
    """What write_csv wrote before it joined cells itself: csv.writer, row by row."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    for row in rows:
        cells = [guard(row.get(name, "")) for name in columns]
        (quoted if "\r" in "".join(cells) else writer).writerow(cells)
    return out.getvalue()


def _written(tmp_path: Path, columns: list[str], rows: list[Row]) -> str:
    target = tmp_path / "out.csv"
    write_csv(target, columns, rows)
    return target.read_bytes().decode("utf-8")


def test_stage_files_are_written_as_the_csv_module_writes_them(tmp_path: Path) -> None:
    for name in ("transliterated.csv", "reconciled.csv", "geocoded.csv"):
        columns, rows = read_csv(REPO / "output" / "stages" / name)
        assert _written(tmp_path, columns, rows) == _by_the_csv_module(columns, rows), name


CELL = st.text(alphabet=st.sampled_from(list(",\"\n\r '=+-@\taチ\u2028\x00")), max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(CELL, min_size=1, max_size=4), min_size=1, max_size=5))
def test_any_cells_are_written_as_the_csv_module_writes_them(
    tmp_path_factory: object, cells: list[list[str]]
) -> None:
    width = max(map(len, cells))
    columns = [f"c{i}" for i in range(width)]
    rows: list[Row] = [dict(zip(columns, line, strict=False)) for line in cells]
    folder = tmp_path_factory.mktemp("w")  # type: ignore[attr-defined]
    assert _written(folder, columns, rows) == _by_the_csv_module(columns, rows)


def test_one_column_of_empty_cells(tmp_path: Path) -> None:
    # the csv module quotes a record that is one empty cell: a blank line is no record
    rows: list[Row] = [{"a": ""}, {"a": "x"}]
    assert _written(tmp_path, ["a"], rows) == 'a\n""\nx\n'


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(CELL, min_size=2, max_size=4), min_size=1, max_size=3),
    st.lists(st.tuples(st.integers(0, 2), CELL), min_size=1, max_size=8),
    st.integers(0, 4),
)
def test_rows_alike_but_for_their_id_are_written_as_the_csv_module_writes_them(
    tmp_path_factory: pytest.TempPathFactory,
    bodies: list[list[str]],
    picks: list[tuple[int, str]],
    at: int,
) -> None:
    # write_csv makes the line of a row alike an earlier one but for its record_id
    # from that one's: the same bytes as the csv module's, wherever the id stands.
    width = max(map(len, bodies)) + 1
    columns = [f"c{i}" for i in range(width - 1)]
    columns.insert(min(at, width - 1), "record_id")
    rows: list[Row] = []
    others = [c for c in columns if c != "record_id"]
    for body, own in picks:  # a short body leaves its last columns out of the row
        row = dict(zip(others, bodies[body % len(bodies)], strict=False))
        rows.append({**row, "record_id": own})
    folder = tmp_path_factory.mktemp("w")
    assert _written(folder, columns, rows) == _by_the_csv_module(columns, rows)


def test_a_register_alike_but_for_its_ids_is_written_as_the_csv_module_writes_it(
    tmp_path: Path,
) -> None:
    # Real rows, each repeated with other ids, as a register repeats a place.
    columns, rows = read_csv(REPO / "output" / "stages" / "geocoded.csv")
    register = [{**row, "record_id": f"{row['record_id']}-{n}"} for n in range(3) for row in rows]
    assert _written(tmp_path, columns, register) == _by_the_csv_module(columns, register)
