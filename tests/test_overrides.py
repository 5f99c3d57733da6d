"""gazetteer/overrides.csv: the one reader, finder and writer (pipeline/overrides.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import overrides
from pipeline.errors import InputDataError
from pipeline.io import read_csv, write_csv
from pipeline.records import OVERRIDE_COLUMNS

COLUMNS = [*OVERRIDE_COLUMNS, "uncertainty_km", "x"]


def _file(path: Path, rows: list[dict[str, str]]) -> Path:
    write_csv(path, COLUMNS, rows)
    return path


def _row(**cells: str) -> dict[str, str]:
    return dict.fromkeys(COLUMNS, "") | cells


def test_missing_file_is_no_override(tmp_path: Path) -> None:
    assert overrides.read(tmp_path / "none.csv") == []
    assert overrides.check(tmp_path / "none.csv") == ([], [])


def test_read_parses_every_column(tmp_path: Path) -> None:
    path = _file(
        tmp_path / "o.csv",
        [
            _row(
                katakana="チタ州カダラ",
                lat="52.0",
                lon="113.4",
                decision="Accept",
                uncertainty_km="3",
            )
        ],
    )
    [found] = overrides.read(path, places={"a"})
    assert (found.key, found.lat, found.lon, found.uncertainty_km) == ("カダラ", 52.0, 113.4, 3.0)
    assert found.accept and found.has_point and found.row == 2
    assert dict(found.cells)["x"] == "" and dict(found.cells)["decision"] == "Accept"


def test_every_problem_is_listed_with_row_and_column(tmp_path: Path) -> None:
    path = _file(
        tmp_path / "o.csv",
        [
            _row(record_id="r1", place_id="nowhere", decision="accept"),
            _row(record_id="r2", decision="accept"),
            _row(record_id="r3", lat="91", lon="10", decision="accept"),
            _row(record_id="r4", place_id="a", decision="reject", uncertainty_km="far"),
        ],
    )
    with pytest.raises(InputDataError) as caught:
        overrides.read(path, places={"a"})
    message = str(caught.value)
    assert "row 2, column place_id: 'nowhere' is not a place of the gazetteer" in message
    assert "row 3, column place_id: an accept needs a place_id or a point" in message
    assert "row 4, column lat: '91' is not a lat in decimal degrees" in message
    assert "row 5, column uncertainty_km: 'far' is not a radius in km" in message


def test_find_by_record_then_by_katakana_last_row_wins(tmp_path: Path) -> None:
    path = _file(
        tmp_path / "o.csv",
        [
            _row(katakana="スパスク", place_id="a", decision="accept"),
            _row(katakana="スパースク", place_id="b", decision="accept"),
            _row(record_id="r1", place_id="c", decision="accept"),
        ],
    )
    found = overrides.read(path)
    assert overrides.find(found, "r1", overrides.key_of("スパスク")).place_id == "c"  # type: ignore[union-attr]
    assert overrides.find(found, "r2", overrides.key_of("スパスク")).place_id == "b"  # type: ignore[union-attr]
    assert overrides.find(found, "r2", overrides.key_of("チタ")) is None


def test_write_keeps_every_column_and_cell(tmp_path: Path) -> None:
    path = _file(
        tmp_path / "o.csv",
        [_row(record_id="r1", lat="52.043110", lon="113.5", decision="accept", x="kept")],
    )
    before = path.read_bytes()
    found = overrides.read(path)
    overrides.write(path, found, overrides.header(path))
    assert path.read_bytes() == before
    new, problems = overrides.parse(
        {"record_id": "r1", "place_id": "a", "decision": "reject"}, path
    )
    assert new is not None and not problems
    overrides.write(path, overrides.replace(found, [new]), overrides.header(path))
    header, rows = read_csv(path)
    assert header == COLUMNS
    assert [(r["record_id"], r["decision"]) for r in rows] == [("r1", "reject")]
