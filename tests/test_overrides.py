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


def _ov(path: Path, **cells: str) -> overrides.Override:
    found, problems = overrides.parse(_row(**cells), path, 2)
    assert found is not None, problems
    return found


def test_scopes_name_region_record_and_the_old_shape(tmp_path: Path) -> None:
    """Issue 16: a decision is for a name (and region when it says so), one record on request."""
    path = tmp_path / "o.csv"
    by_name = _ov(path, katakana="スパスク", place_id="spassk-dalny", decision="accept")
    in_region = _ov(
        path,
        katakana="スパスク",
        scope="region",
        region="カザフ",
        place_id="spassk-karaganda",
        decision="accept",
    )
    one = _ov(path, record_id="r9", katakana="スパスク", scope="record", decision="reject")
    # The old shape (no scope): a record_id means that record, none means the name.
    old_record = _ov(path, record_id="r9", katakana="スパスク", decision="reject")
    old_name = _ov(path, katakana="スパスク", place_id="spassk-dalny", decision="accept")
    assert (old_record.scope, old_name.scope, by_name.scope) == ("record", "name", "name")
    found = [by_name, in_region, one]
    row = {"record_id": "r1", "katakana": "スパスク"}
    assert overrides.find_row(found, row) is by_name
    # A new column or another record id changes nothing: the name decides.
    assert overrides.find_row(found, row | {"record_id": "r-new", "extra": "x"}) is by_name
    assert overrides.find_row(found, row | {"katakana": "カザフ共和国スパスク"}) is in_region
    assert overrides.find_row(found, row | {"region": "Kazakh SSR", "region_hint": "カザフ"}) is (
        in_region
    )
    assert overrides.find_row(found, row | {"record_id": "r9"}) is one


def test_stale_decisions_are_listed_never_dropped(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    kept = _ov(path, katakana="スパスク", place_id="spassk-dalny", decision="accept")
    gone = _ov(path, katakana="ライチハ", decision="reject")
    record = _ov(path, record_id="r-gone", scope="record", decision="reject")
    rows = [{"record_id": "r1", "katakana": "スパスク"}]
    assert overrides.stale([kept, gone, record], rows) == [gone, record]
    assert [o.label for o in overrides.stale([kept, gone, record], rows)] == ["ライチハ", "r-gone"]


def test_bad_scope_and_contradictions(tmp_path: Path) -> None:
    path = _file(
        tmp_path / "o.csv",
        [
            _row(katakana="チタ", scope="town", decision="reject"),
            _row(katakana="チタ", scope="region", decision="reject"),
            _row(scope="name", record_id="r1", decision="reject"),
        ],
    )
    _, problems = overrides.check(path)
    assert any(
        "row 2, column scope: 'town' must be one of name, region, record" in p for p in problems
    )
    assert any("row 3, column region: scope region needs the region" in p for p in problems)
    assert any("row 4, column katakana: scope name needs the katakana name" in p for p in problems)
    a = _ov(path, katakana="チタ", place_id="chita", decision="accept")
    b = _ov(path, katakana="チタ", decision="reject")
    assert overrides.contradictions([a, a, b]) == [(a, b)]
    assert overrides.replace([a], [b]) == [b]
