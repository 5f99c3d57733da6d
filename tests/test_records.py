"""Symbol classes and record ids: the rules of DESIGN.md."""

from __future__ import annotations

import pytest

from pipeline.records import SymbolClass, assign_record_ids, classify, parse_detainees


@pytest.mark.parametrize(
    ("printed", "count", "expected"),
    [
        ("", "40,000", SymbolClass.OVER_20000),
        ("", "20000", SymbolClass.OVER_10000),
        ("", "10,311", SymbolClass.OVER_10000),
        ("", "10000", SymbolClass.UNDER_10000),
        ("", "1,445", SymbolClass.UNDER_10000),
        ("", "", SymbolClass.UNKNOWN),
        ("unknown", "", SymbolClass.UNKNOWN),
        ("small", "", SymbolClass.SMALL),
        ("over_20000", "500", SymbolClass.OVER_20000),
    ],
)
def test_class_from_printed_symbol_then_count(
    printed: str, count: str, expected: SymbolClass
) -> None:
    assert classify(printed, count) is expected


def test_invalid_class_and_count_raise() -> None:
    with pytest.raises(ValueError):
        classify("huge", "")
    with pytest.raises(ValueError):
        parse_detainees("many")
    with pytest.raises(ValueError):
        parse_detainees("-5")


def test_record_ids_are_stable_and_unique() -> None:
    rows = [{"katakana": "チタ"}, {"katakana": "チタ"}, {"katakana": "カンスク", "record_id": "k1"}]
    again = [dict(r) for r in rows]
    assert assign_record_ids(rows, "a.csv") == []
    assign_record_ids(again, "a.csv")
    assert [r["record_id"] for r in rows] == [r["record_id"] for r in again]
    assert len({r["record_id"] for r in rows}) == 3


def test_duplicate_given_ids_are_reported_with_rows() -> None:
    rows = [{"katakana": "チタ", "record_id": "x"}, {"katakana": "カンスク", "record_id": "x"}]
    problems = assign_record_ids(rows, "a.csv")
    assert problems == [
        "a.csv: row 3, column record_id: 'x' repeats row 2: "
        "give each row its own id or leave the column empty"
    ]
