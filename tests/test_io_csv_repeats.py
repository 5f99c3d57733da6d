"""Reading a line alike an earlier one but for its id gives the csv module's record.

:class:`pipeline.io.repeats.Records` parses such a line once (a million-row
register repeats its names); these tests hold the rows read to those read with
nothing remembered, on real rows and on lines made of every character that
matters, wherever the id stands.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import InputDataError
from pipeline.io import read_csv, repeats
from pipeline.io.repeats import Records

REPO = Path(__file__).resolve().parents[1]

CELL = st.text(alphabet=st.sampled_from(list(",\"\n\r '=+-@\taチ\x00")), max_size=6)
#: Ids as registers write them, and those that need care: guarded, blank, quoted.
OWN = st.one_of(st.sampled_from(["b0001", "'=1", "'+7", "'quoted", "", " ", '"a,b"']), CELL)
ENDS = st.sampled_from(["\n", "\r\n", "\r"])


def _read(path: Path, remember: bool) -> object:
    """The rows read_csv gives, or the message it refuses the file with."""
    with pytest.MonkeyPatch.context() as patch:
        if not remember:
            patch.setattr(repeats, "MEMO_CHARS", 0)
        try:
            return read_csv(path)
        except InputDataError as exc:
            return str(exc)


def _cell_text(cell: str, quote: bool) -> str:
    return '"' + cell.replace('"', '""') + '"' if quote else cell


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(1, 4),
    at=st.integers(0, 4),
    bodies=st.lists(st.lists(st.tuples(CELL, st.booleans()), min_size=4, max_size=4), min_size=1),
    picks=st.lists(
        st.tuples(st.integers(0, 5), OWN, st.booleans(), ENDS, st.integers(-1, 1)), max_size=10
    ),
)
def test_lines_alike_but_for_their_id_are_read_as_when_nothing_is_remembered(
    tmp_path_factory: pytest.TempPathFactory,
    width: int,
    at: int,
    bodies: list[list[tuple[str, bool]]],
    picks: list[tuple[int, str, bool, str, int]],
) -> None:
    # Cells raw or quoted, ids of any text (quotes and separators too), any line end,
    # a cell short or over, broken quotes among them: the same rows, or the same refusal.
    at = min(at, width - 1)
    names = [f"c{i}" for i in range(width)]
    names[at] = "record_id"
    text = ",".join(names) + "\n"
    for body, own, quoted, end, ragged in picks:
        cells = [_cell_text(c, q) for c, q in bodies[body % len(bodies)][: width - 1 + ragged]]
        cells.insert(at, _cell_text(own, quoted))
        text += ",".join(cells) + end
    path = tmp_path_factory.mktemp("r") / "in.csv"
    path.write_bytes(text.encode("utf-8"))
    assert _read(path, True) == _read(path, False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a repeated line's own id unguarded, as the line it repeats had its id
        ("record_id,name\n'=1,チタ\n'=2,チタ\n", [["=1", "チタ"], ["=2", "チタ"]]),
        # blank cells around a filled id: a row; around a blank one: a blank line
        ("name,record_id\n,b1\n,\n, \n,b2\n", [["", "b1"], ["", "b2"]]),
        # a line that starts a record of several lines is not a record of its own
        ('record_id,note\n1,"a\nb"\n2,"a\nc"\n', [["1", "a\nb"], ["2", "a\nc"]]),
        # short and long lines padded and trimmed as the first of them was
        (
            "record_id,a,b\n1,x\n2,x\n3,x,y,\n4,x,y,\n",
            [["1", "x", ""], ["2", "x", ""], ["3", "x", "y"], ["4", "x", "y"]],
        ),
    ],
)
def test_a_repeated_line_reads_as_its_own_record(
    tmp_path: Path, text: str, expected: list[list[str]]
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode("utf-8"))
    for remember in (True, False):
        read = _read(path, remember)
        assert not isinstance(read, str), read
        columns, rows = read
        assert [[row[c] for c in columns] for row in rows] == expected


def test_a_register_alike_but_for_its_ids_is_parsed_once_per_line(tmp_path: Path) -> None:
    # Real rows (2 KB of candidates each) repeated under other ids, as a register
    # repeats its places: read as the csv module reads them, each line parsed once.
    source = REPO / "output" / "stages" / "geocoded.csv"
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    assert header.startswith("record_id,")
    copies = [f"{n}{line}" for n in range(3) for line in body]  # ids 0vladivostok, ...
    path = tmp_path / "register.csv"
    path.write_text(header + "".join(copies), encoding="utf-8")
    columns, rows = read_csv(path)
    expected = list(csv.DictReader(io.StringIO(header + "".join(copies), newline="")))
    assert [row["record_id"] for row in rows] == [row["record_id"] for row in expected]
    assert rows == [{k: v for k, v in row.items() if k in columns} for row in expected]
    assert _read(path, True) == _read(path, False)

    with path.open(encoding="utf-8", newline="") as handle:
        records = Records(handle, ",")
        assert records.next() == columns
        read = list(records.rows(0, lambda _, cells: cells))
    one_line = sum(1 for line in body if line.count('"') % 2 == 0)
    assert len(read) == len(copies)
    assert records.reader.line_num == 1 + len(body) + 2 * (len(body) - one_line)
