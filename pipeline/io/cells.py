"""The rules for one CSV cell: quoting as the csv module quotes, and the formula guard.

Kept apart from the reader and writer (:mod:`pipeline.io.csvfile`) so that the
modules that make lines themselves (:mod:`pipeline.io.repeats`,
:mod:`pipeline.io.workbook`) share one copy of them, and of the joining of a line
around one cell (:func:`around`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: What a spreadsheet takes for the start of a formula (OWASP's CSV-injection list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def guard(cell: str) -> str:
    """A cell that Excel or LibreOffice would run as a formula, made inert with a ``'``.

    Numbers stay numbers (a longitude of -168.5 is not a formula). :func:`unguard`
    undoes it when the pipeline reads its own file back, so the stages see the
    user's text unchanged and only a spreadsheet sees the quote.

    >>> guard("=1+2"), guard("-168.5"), guard("@SUM(A1)"), guard("チタ")
    ("'=1+2", '-168.5', "'@SUM(A1)", 'チタ')
    """
    if cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def unguard(cell: str) -> str:
    """The text :func:`guard` was given.

    >>> unguard("'=1+2"), unguard("'quoted"), unguard("-3")
    ('=1+2', "'quoted", '-3')
    """
    if cell.startswith("'") and cell[1:].startswith(_FORMULA_START):
        return cell[1:]
    return cell


def _csv_cell(cell: str) -> str:
    """A cell as the csv module writes it (minimal quoting, LF line ends, no CR in it).

    >>> _csv_cell("Чита"), _csv_cell('[{"id": 1}, 2]'), _csv_cell("")
    ('Чита', '"[{""id"": 1}, 2]"', '')
    """
    if '"' in cell or "," in cell or "\n" in cell:
        return '"' + cell.replace('"', '""') + '"'
    return cell


def around(quoted: Sequence[str], at: int, end: str) -> tuple[str, str]:
    """A line of quoted cells up to cell ``at`` and after it (``end`` closing it): the
    line of a row alike another but for that cell is ``before + its cell + after``.

    >>> around(["a", "b1", '"c,d"'], 1, "\\n")
    ('a,', ',"c,d"\\n')
    """
    before = "".join(cell + "," for cell in quoted[:at])
    after = "".join("," + cell for cell in quoted[at + 1 :])
    return before, after + end
