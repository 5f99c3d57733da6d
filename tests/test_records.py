"""Symbol classes and record ids: the rules of DESIGN.md."""

from __future__ import annotations

import pytest

from pipeline.records import (
    SymbolClass,
    assign_record_ids,
    class_of_figure,
    classify,
    parse_detainees,
    parse_figure,
)


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


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        # exactly on a bound: "over 10,000" and "over 20,000" are not met
        ("10,000", SymbolClass.UNDER_10000),
        ("10,001", SymbolClass.OVER_10000),
        ("20,000", SymbolClass.OVER_10000),
        ("20,001", SymbolClass.OVER_20000),
        # "about N" is N give or take a tenth: near a bound it fits no class
        ("about 10,000", SymbolClass.UNKNOWN),
        ("about 20,000", SymbolClass.OVER_10000),
        ("~9,500", SymbolClass.UNKNOWN),
        ("c. 8,000", SymbolClass.UNDER_10000),
        ("about 30,000", SymbolClass.OVER_20000),
        ("約12,000", SymbolClass.OVER_10000),
        # "over N": a lower bound supports "over 10,000"/"over 20,000", never "less than"
        ("over 3,000", SymbolClass.UNKNOWN),
        ("over 10,000", SymbolClass.OVER_10000),
        (">16000", SymbolClass.OVER_10000),
        ("16,000+", SymbolClass.OVER_10000),
        ("over 20,000", SymbolClass.OVER_20000),
        ("more than 19,999", SymbolClass.OVER_10000),
        # ranges: the whole range in one class, or "over" by its low end
        ("1,200-1,500", SymbolClass.UNDER_10000),
        ("9,000-10,000", SymbolClass.UNDER_10000),
        ("9,000-11,000", SymbolClass.UNKNOWN),
        ("12,000 – 25,000", SymbolClass.OVER_10000),
        ("21,000 to 30,000", SymbolClass.OVER_20000),
        ("", SymbolClass.UNKNOWN),
    ],
)
def test_class_from_a_figure_at_the_bounds(figure: str, expected: SymbolClass) -> None:
    assert class_of_figure(parse_figure(figure)) is expected
    assert classify("", figure) is expected


@pytest.mark.parametrize("bad", ["many", "about", "over 3,000 or so", "5,000-1,000", "1.5"])
def test_a_figure_that_is_no_count_raises(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_figure(bad)


def test_a_figure_keeps_its_words() -> None:
    assert parse_figure("約 8,000").text() == "about 8,000"  # type: ignore[union-attr]
    assert parse_figure("16000+").text() == "over 16,000"  # type: ignore[union-attr]
    assert parse_detainees("over 16,000") == 16000


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
