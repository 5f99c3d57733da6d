"""A user's register as the stages take it in: its file, its name and region columns.

A register is whatever a user keeps: a CSV file or a workbook
(:func:`pipeline.io.open_table`), with the place names in a column called
``katakana`` or in one named as the user named it (死亡場所, "place of death"),
and the 1945 region, if any, in ``region`` or another column. The stages read
``katakana`` and ``region``; this module finds the user's columns and, when
they are named otherwise, adds ``katakana`` and ``region`` as copies at the end,
so every column of the user's stays as it was (a column that is ``katakana``
spelled otherwise, ``Katakana``, is renamed: a copy beside it would be the
same column in a GeoPackage). A header that almost matches
(``Katakana``, full-width ``ｋａｔａｋａｎａ``, a zero-width space) is explained,
never silently taken or silently refused.

It imports :mod:`pipeline.io`, :mod:`pipeline.errors` and the standard library.
"""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from pipeline.errors import InputDataError
from pipeline.io import Row

logger = logging.getLogger(__name__)

NAME_COLUMN = "katakana"
REGION_COLUMN = "region"
#: A column is taken for the names when at least this share of its filled cells
#: holds katakana (a register's other columns: dates, ids, kanji names, notes).
KANA_SHARE = 0.5


@dataclasses.dataclass(frozen=True)
class Columns:
    """A register's columns as the stages read them, and where they come from.

    ``name`` and ``region`` are the user's columns of names and regions;
    ``columns`` are the register's with ``katakana`` (and ``region``) in them:
    the user's column renamed when it is ``katakana`` spelled otherwise, else
    a copy at the end.
    """

    columns: list[str]
    name: str
    region: str | None
    renamed: tuple[tuple[str, str], ...] = ()
    copied: tuple[tuple[str, str], ...] = ()

    def apply(self, rows: Iterable[Row]) -> None:
        """Give ``rows`` (as the file has them) the columns :attr:`columns` names."""
        for row in rows:
            for chosen, wanted in self.renamed:
                row[wanted] = row.pop(chosen)
            for chosen, wanted in self.copied:
                row[wanted] = row[chosen]


def choose_columns(
    where: str,
    columns: Sequence[str],
    shares: Mapping[str, float],
    name_column: str | None = None,
    region_column: str | None = None,
) -> Columns:
    """Find the register's column of names and of regions (options first).

    ``shares`` is each column's :func:`kana_share`, read only when the column
    of names is to be guessed (:func:`must_guess`).

    >>> choose_columns("a.csv", ["id", "死亡場所"], {"id": 0.0, "死亡場所": 1.0}).copied
    (('死亡場所', 'katakana'),)

    Raises
    ------
    InputDataError
        No column of names can be found, or a column the stages write is there
        already: the message lists the columns found and the option to pass.
    """
    name = find_name_column(where, columns, shares, name_column)
    region = find_region_column(where, columns, region_column)
    out = list(columns)
    renamed, copied = [], []
    for chosen, wanted, option in (
        (name, NAME_COLUMN, "--name-column"),
        (region, REGION_COLUMN, "--region-column"),
    ):
        if chosen is None or chosen == wanted:
            continue
        if header_key(chosen) == header_key(wanted):
            # 'Katakana', 'ｋａｔａｋａｎａ': the column itself, spelled otherwise. A copy
            # named katakana beside it would be one column in a GeoPackage: renamed.
            logger.warning(
                "%s: column %r is read as %s, the name the outputs give it", where, chosen, wanted
            )
            out[out.index(chosen)] = wanted
            renamed.append((chosen, wanted))
            continue
        clash = next((c for c in out if c != chosen and header_key(c) == header_key(wanted)), None)
        if clash is not None:
            raise InputDataError(
                f"{where}: row 1, column {clash}: {option} {chosen} is the column to read, "
                f"but the stages write it as {wanted} and the file has a column {clash!r} "
                f"already: rename that column (e.g. to my_{wanted}) or pass {option} {clash}"
            )
        copied.append((chosen, wanted))
        out.append(wanted)
    return Columns(out, name, region, tuple(renamed), tuple(copied))


def must_guess(columns: Sequence[str], given: str | None = None) -> bool:
    """Whether the column of names is found by its cells (none given, no ``katakana``)."""
    return given is None and NAME_COLUMN not in columns


def find_name_column(
    where: str, columns: Sequence[str], shares: Mapping[str, float], given: str | None = None
) -> str:
    """The column that holds the names: ``given``, else ``katakana``, else the one
    column whose cells hold katakana (``shares``: each column's :func:`kana_share`).

    >>> find_name_column("a.csv", ["id", "死亡場所"], {"id": 0.0, "死亡場所": 1.0})
    '死亡場所'
    """
    if given is not None:
        if given in columns:
            return given
        raise InputDataError(
            f"{where}: row 1: --name-column {given}: no such column; columns found: "
            f"{_listed(columns)}{_near_misses(given, columns, '--name-column')}"
        )
    if NAME_COLUMN in columns:
        return NAME_COLUMN
    kana = [c for c in columns if c != "record_id" and shares.get(c, 0.0) >= KANA_SHARE]
    if len(kana) == 1:
        logger.info(
            "%s: reading names from column %r (%.0f%% of its cells are katakana): "
            "pass --name-column NAME for another",
            where,
            kana[0],
            100 * shares[kana[0]],
        )
        return kana[0]
    if len(kana) > 1:
        found = ", ".join(f"{c} ({100 * shares[c]:.0f}%)" for c in kana)
        raise InputDataError(
            f"{where}: row 1: no column katakana, and several columns hold katakana: "
            f"{found}: pass --name-column with the one of place names"
        )
    raise InputDataError(
        f"{where}: row 1: missing column(s) katakana; columns found: {_listed(columns)}"
        f"{_near_misses(NAME_COLUMN, columns, '--name-column')}; no column holds katakana: "
        "name the column of place names katakana or pass --name-column NAME"
    )


def find_region_column(where: str, columns: Sequence[str], given: str | None = None) -> str | None:
    """The column of 1945 regions: ``given``, else ``region`` if there is one, else none."""
    if given is not None:
        if given in columns:
            return given
        raise InputDataError(
            f"{where}: row 1: --region-column {given}: no such column; columns found: "
            f"{_listed(columns)}{_near_misses(given, columns, '--region-column')}"
        )
    if REGION_COLUMN in columns:
        return REGION_COLUMN
    near = _near_misses(REGION_COLUMN, columns, "--region-column")
    if near:
        logger.warning("%s: no column region is read%s", where, near)
    return None


def kana_share(cells: Iterable[str]) -> float:
    """The share of the filled cells that hold a katakana letter (full or half width).

    >>> kana_share(["チタ", "ｶﾝｽｸ", "山田", ""]), kana_share(["ちた"]), kana_share([])
    (0.6666666666666666, 0.0, 0.0)
    """
    counts = KanaCounts(["cell"])
    counts.add({"cell": cell} for cell in cells)
    return counts.shares()["cell"]


class KanaCounts:
    """Filled cells and cells with katakana of each column, added up chunk by chunk."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.filled = dict.fromkeys(columns, 0)
        self.kana = dict.fromkeys(columns, 0)

    def add(self, rows: Iterable[Row]) -> None:
        """Count the cells of the next rows."""
        for row in rows:
            for column in self.filled:
                cell = row.get(column, "")
                if cell.strip():
                    self.filled[column] += 1
                    self.kana[column] += any(_is_katakana(ch) for ch in cell)

    def shares(self) -> dict[str, float]:
        """Each column's :func:`kana_share` of the rows added."""
        return {c: self.kana[c] / n if n else 0.0 for c, n in self.filled.items()}


def _is_katakana(char: str) -> bool:
    return "\u30a1" <= char <= "\u30fa" or "\uff66" <= char <= "\uff9d"


def header_key(name: str) -> str:
    """A column name as a reader sees it: width folded, case folded, invisibles dropped.

    >>> header_key("ｋａｔａｋａｎａ"), header_key("Katakana"), header_key("kata\u200bkana ")
    ('katakana', 'katakana', 'katakana')
    """
    folded = unicodedata.normalize("NFKC", name)
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return visible.strip().casefold()


def _near_misses(wanted: str, columns: Sequence[str], option: str) -> str:
    """'; column X is not Y: why' for each column that looks like ``wanted`` but is not it."""
    notes = []
    for column in columns:
        if column == wanted or header_key(column) != header_key(wanted):
            continue
        why = []
        hidden = [ch for ch in column if unicodedata.category(ch) == "Cf"]
        if hidden:
            names = sorted({f"U+{ord(ch):04X} {unicodedata.name(ch, 'FORMAT')}" for ch in hidden})
            why.append(f"it holds an invisible character ({', '.join(names)})")
        if unicodedata.normalize("NFKC", column) != column:
            why.append("it is written in full-width letters")
        if unicodedata.normalize("NFKC", column).casefold() != unicodedata.normalize(
            "NFKC", column
        ):
            why.append("it has upper-case letters")
        if column != column.strip():
            why.append("it has spaces around it")
        notes.append(
            f"; column {column!r} is not {wanted!r} ({', '.join(why) or 'it differs'}): "
            f"rename it {wanted} or pass {option} {column!r}"
        )
    return "".join(notes)


def _listed(columns: Sequence[str]) -> str:
    return ", ".join(columns) or "(none)"
