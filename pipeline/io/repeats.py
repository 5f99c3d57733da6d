"""Rows alike but for their id: parsed once and made into a line once (issue 14).

A register of a million rows names a hundred thousand places at most, so in the
stage files most rows repeat an earlier one but for their ``record_id``, each
with its name's 2 KB candidates list. The csv module reads and writes a cell a
character at a time (23 s to read a million such rows); here a line that repeats
an earlier one but for the id is not parsed again (:class:`Records`), and a row
alike an earlier one but for the id is written from that row's line
(:class:`LineMaker`). Each remembers up to :data:`MEMO_CHARS` characters of lines,
the earliest first: a name that repeats is met early, and a file of rows all
unlike keeps its memory to that (the geocode stage, reading and writing with both
at their cap, peaked 0.2 GB higher on a 100,000-row register: 0.62 GB).

Why a repeated line gives the csv module's record: the id's cell is plain (no
quote, no separator), so is every cell before it, and the earlier line was one
whole record; the csv module's parse of the rest of the line then starts in the
same state on the same characters, and ends where the earlier one ended.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence

from pipeline.io.cells import _csv_cell, around, guard, unguard

#: Characters of line text :class:`Records` and :class:`LineMaker` each remember.
MEMO_CHARS = 1 << 26


class Lines:
    """A text's lines, counted, one of which can be put back (the csv reader's input)."""

    __slots__ = ("_lines", "back", "count")

    def __init__(self, text: Iterable[str]) -> None:
        self._lines = iter(text)
        self.back: str | None = None
        self.count = 0

    def __iter__(self) -> Lines:
        return self

    def __next__(self) -> str:
        line = self.back
        if line is None:
            line = next(self._lines)
        else:
            self.back = None
        self.count += 1
        return line

    def put_back(self, line: str) -> None:
        self.back = line
        self.count -= 1


def split_at(line: str, delimiter: str, at: int) -> tuple[str, str] | None:
    """A line without its cell ``at``, and that cell; None unless it and every cell
    before it are plain (no quote), so that the line's other cells are those of any
    line with the same rest.

    >>> split_at("b0001,チタ,\\"[1, 2]\\"\\n", ",", 0)
    (',チタ,"[1, 2]"\\n', 'b0001')
    >>> split_at("チタ,b0001\\r\\n", ",", 1), split_at('"a,b",c\\n', ",", 1)
    (('チタ,\\r\\n', 'b0001'), None)
    """
    cut = -1
    for _ in range(at):
        cut = line.find(delimiter, cut + 1)
        if cut < 0:
            return None
    end = line.find(delimiter, cut + 1)
    if end < 0:  # the last cell: up to the line's end
        end = len(line.rstrip("\r\n"))
    if line.find('"', 0, end) >= 0:
        return None
    return line[: cut + 1] + line[end:], line[cut + 1 : end]


#: Checks one record's cells (given the line it starts on); the cells kept, or None
#: for a blank line. Raises for a bad record.
Check = Callable[[int, list[str]], "list[str] | None"]


class Records:
    """The records of a CSV text as the csv module (strict) parses them.

    :meth:`next` gives the next record (the header); :meth:`rows` the checked rows
    after it, each with the line it starts on, a line that repeats an earlier one
    but for the id cell taken from that one. :attr:`start` is the line the record
    being read starts on and ``lines.count`` the lines read, for an error's message.
    """

    def __init__(self, text: Iterable[str], delimiter: str) -> None:
        self.lines = Lines(text)
        self.delimiter = delimiter
        self.reader = csv.reader(self.lines, strict=True, delimiter=delimiter)
        self.start = 1

    def next(self) -> list[str] | None:
        """The next record, parsed; None at the end of the text."""
        self.start = self.lines.count + 1
        return next(self.reader, None)

    def rows(self, at: int, check: Check) -> Iterator[tuple[int, list[str]]]:
        """The checked records, id in cell ``at``; blank ones left out.

        ``check`` sees every record parsed; a repeated line's cells are the earlier
        line's checked cells with its own id, unguarded as ``check`` unguards it.
        """
        memo: dict[str, tuple[list[str], bool]] = {}
        room = MEMO_CHARS
        lines, delimiter = self.lines, self.delimiter
        for line in lines:
            self.start = start = lines.count
            split = split_at(line, delimiter, at)
            if split is not None:
                known = memo.get(split[0])
                if known is not None:
                    others, filled = known
                    own = unguard(split[1])
                    if filled or own.strip():
                        yield start, [*others[:at], own, *others[at:]]
                    continue
            lines.put_back(line)
            record = next(self.reader, None)
            if record is None:
                return
            checked = check(start, record)
            if checked is None:
                continue
            # The checked cells are those of any record of the same other cells
            # (padded, trimmed, unguarded cell by cell), but for being blank.
            if split is not None and room > 0 and lines.count == start:  # one line
                others = checked[:at] + checked[at + 1 :]
                memo[split[0]] = (others, any(cell.strip() for cell in others))
                room -= len(split[0])
            yield start, checked


class LineMaker:
    """CSV lines (LF, cells guarded and quoted as the csv module quotes them) of rows
    given as cells, the line of a row alike an earlier one but for cell ``at`` made
    from that one's.

    >>> make = LineMaker(1)
    >>> make(["チタ", "b1", '=x"y']), make(["チタ", "b2", '=x"y'])
    ('チタ,b1,"\\'=x""y"\\n', 'チタ,b2,"\\'=x""y"\\n')
    """

    def __init__(self, at: int, room: int = MEMO_CHARS) -> None:
        self.at = at
        self.memo: dict[tuple[str, ...], tuple[str, str]] = {}
        self.room = room

    def __call__(self, cells: Sequence[str]) -> str | None:
        """The line of ``cells`` (more than one); None when a cell holds a CR, which
        the csv module quotes only when told to quote every cell."""
        at = self.at
        own = cells[at]
        key = (*cells[:at], *cells[at + 1 :])
        known = self.memo.get(key)
        if known is not None:
            if "\r" in own:
                return None
            return known[0] + _csv_cell(guard(own)) + known[1]
        quoted = [_csv_cell(guard(cell)) for cell in cells]
        before, after = around(quoted, at, "\n")
        line = before + quoted[at] + after
        if "\r" in line:
            return None
        if self.room > 0:
            self.memo[key] = (before, after)
            self.room -= len(before) + len(after)
        return line
