"""What the matcher knows about one name (:class:`Query`), from a cell and its transliterations.

The transliterations come from the transliterate stage (its columns, or its
functions called by the tools that start from raw katakana): this package never
transliterates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from pipeline.io import Row
from pipeline.names import latin_of_cyrillic, match_key, script_of, split_name


@dataclasses.dataclass(frozen=True)
class Query:
    """What the matcher knows about one name: kana key, hints and transliterations."""

    text: str
    key: str
    words: tuple[str, ...]
    region_hint: str
    feature_hint: str
    cyrillic: tuple[str, ...]
    latin: tuple[str, ...]
    romaji: str
    typed_latin: bool = False
    #: the cell's ``name_flag`` (``region_only``: the name is a region, not a town)
    flag: str = ""


def split_list(value: str) -> tuple[str, ...]:
    """Split a ``|``-separated cell into its non-empty items.

    >>> split_list("Хабаровск| Хабаровськ |")
    ('Хабаровск', 'Хабаровськ')
    """
    return tuple(item.strip() for item in value.split("|") if item.strip())


def make_query(
    katakana: str,
    region_hint: str | None = None,
    cyrillic: Sequence[str] = (),
    latin: Sequence[str] | None = None,
    romaji: str = "",
) -> Query:
    """Build a query from a cell and the transliterate stage's forms of it.

    ``cyrillic`` are the ranked Russian candidates, ``latin`` their BGN/PCGN
    forms (derived from ``cyrillic`` when None), ``romaji`` the Hepburn reading.
    A cell in Latin letters (a register may say "Karaganda") is matched as a
    Latin name, one in Cyrillic as a Cyrillic name: neither needs transliterations.

    >>> make_query("チタ州カダラ", cyrillic=["Кадала"]).latin
    ('Kadala',)
    """
    parts = split_name(katakana)
    name = parts.name
    script = script_of(name)
    if script in ("Latn", "Cyrl"):
        typed = name.replace("・", " ")
        return Query(
            text=katakana,
            key="",
            words=(),
            region_hint=parts.region_hint if region_hint is None else region_hint,
            feature_hint=parts.feature_hint,
            cyrillic=(typed,) if script == "Cyrl" else (),
            latin=(typed,) if script == "Latn" else (latin_of_cyrillic(typed),),
            romaji="",
            typed_latin=script == "Latn",
        )
    if latin is None:
        latin = [latin_of_cyrillic(cyr) for cyr in cyrillic]
    words = tuple(match_key(w) for w in name.split("・") if w)
    return Query(
        text=katakana,
        key=match_key(name) if name else "",
        words=tuple(w for w in words if len(w) >= 3) if len(words) > 1 else (),
        region_hint=parts.region_hint if region_hint is None else region_hint,
        feature_hint=parts.feature_hint,
        cyrillic=tuple(cyrillic),
        latin=tuple(dict.fromkeys(x for x in latin if x)),
        romaji=romaji,
        flag=parts.flag,
    )


#: The columns :func:`query_of_row` reads: rows equal in these make one query.
QUERY_COLUMNS = (
    "katakana",
    "region_hint",
    "region",
    "cyrillic_candidates",
    "latin_candidates",
    "romaji",
)


def queries_of_rows(
    rows: Iterable[Row], made: dict[tuple[str, ...], Query] | None = None
) -> list[Query]:
    """:func:`query_of_row` of each row, made once per distinct :data:`QUERY_COLUMNS`.

    A register repeats its names many times: the repeats share one query object.
    ``made`` keeps the queries made (by their cells) from one call to the next.
    """
    made = {} if made is None else made
    out = []
    for row in rows:
        cells = tuple(row.get(column, "") for column in QUERY_COLUMNS)
        query = made.get(cells)
        if query is None:
            query = made[cells] = query_of_row(row)
        out.append(query)
    return out


def query_of_row(row: Row) -> Query:
    """The query of a row that has the transliterate stage's columns.

    The raw file's ``region`` column (English, 1945 terms) adds to the katakana
    prefix that the transliterate stage put in ``region_hint``.
    """
    column = row.get("region", "").strip()
    return make_query(
        row["katakana"],
        region_hint="|".join(h for h in (row.get("region_hint", ""), column) if h),
        cyrillic=split_list(row.get("cyrillic_candidates", "")),
        latin=split_list(row.get("latin_candidates", "")),
        romaji=row.get("romaji", ""),
    )
