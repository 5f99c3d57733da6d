"""The transliterate stage: every distinct cell of a raw file, once, in a pool if worth it."""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from pipeline.errors import InputDataError
from pipeline.io import CHUNK_ROWS, Row, merge_columns, write_csv
from pipeline.names import (
    NameParts,
    is_readable,
    latin_of_cyrillic,
    normalize,
    romanize,
    split_name,
)
from pipeline.records import TRANSLITERATE_COLUMNS, RecordIds, check_raw_rows, columns_taken
from pipeline.register import NAME_COLUMN, KanaCounts, choose_columns, must_guess
from pipeline.transliterate.artifact import default_model, make_whole
from pipeline.transliterate.model import Model
from pipeline.transliterate.params import TransliterateParams

logger = logging.getLogger(__name__)


def latin_candidates(cyrillic: Sequence[str]) -> list[str]:
    """BGN/PCGN forms of Cyrillic candidates, deduplicated, in the same order.

    >>> latin_candidates(["Хабаровск", "Хабаровск"])
    ['Khabarovsk']
    """
    return list(dict.fromkeys(latin_of_cyrillic(name) for name in cyrillic))


#: A place name is a few words; a longer cell is kept whole in its row, flagged
#: ``too_long`` and not transliterated (the lattice search grows with the square of
#: a name's length: 10,000 characters took 0.44 GB, a million were killed at 24 GB).
MAX_NAME_CHARS = 1_000


class Transliteration(NamedTuple):
    """Everything the stage adds for one distinct cell (a tuple: made 100,000 times a run)."""

    normalized: str
    parts: NameParts
    romaji: str
    cyrillic: tuple[str, ...]
    latin: tuple[str, ...]


def transliterate_name(
    text: str, model: Model, params: TransliterateParams | None = None
) -> Transliteration:
    """Transliterate one cell: normalised form, parts, Hepburn, ranked Russian forms.

    >>> t = transliterate_name("クラスノヤルスク地方カンスク", default_model())
    >>> t.parts.region_hint, t.romaji, t.cyrillic[0], t.latin[0]
    ('クラスノヤルスク', 'Kansuku', 'Канск', 'Kansk')
    """
    return Transliterator(model, params)(text)


class Transliterator:
    """:func:`transliterate_name` for many cells, each name's readings made once.

    A register spells one name in many cells (イルクーツク州ギムラ, ギムラ駅, ｷﾞﾑﾗ):
    the parts differ, the romaji and the Cyrillic and Latin candidates of the
    name do not, so they are kept by name (in the bench, 100,000 cells have 59,000
    names).
    """

    def __init__(self, model: Model, params: TransliterateParams | None = None) -> None:
        self.model, self.params = model, params or TransliterateParams()
        #: (name, readable) → romaji, Cyrillic and Latin candidates.
        self.readings: dict[tuple[str, bool], tuple[str, tuple[str, ...], tuple[str, ...]]] = {}

    def __call__(self, text: str) -> Transliteration:
        if len(text) > MAX_NAME_CHARS:
            return Transliteration(text, NameParts("", flag="too_long"), "", (), ())
        parts = split_name(text)  # parts.name is normalised already
        key = (parts.name, is_readable(parts.flag))
        readings = self.readings.get(key)
        if readings is None:
            p = self.params
            found = self.model.candidates(parts.name, p.top_k, p.beam, p.lm_weight)
            cyrillic = tuple([name for name, _ in found])
            romaji = romanize(parts.name) if key[1] else ""
            readings = self.readings[key] = (romaji, cyrillic, tuple(latin_candidates(cyrillic)))
        return Transliteration(normalize(text), parts, *readings)


#: Below this many distinct names a process pool costs more than it saves.
_PARALLEL_MIN = 5_000
#: Names per task sent to a worker, at most and at least (the last tasks).
_RUN_MAX, _RUN_MIN = 12_000, 500


def run_sizes(count: int, workers: int) -> list[int]:
    """How many names each task takes: a share of what is left, smaller towards the end.

    A task is a run of consecutive names (in :func:`name_order` they share
    prefixes and states, so a worker's caches serve the whole run); the runs
    shrink as the work runs out ("guided" scheduling), so that no worker is left
    with a big run while the other waits: with equal runs of 12,000 names a
    worker idled up to a second at the end of the bench's 100,000.

    >>> run_sizes(100_000, 2)[:3], run_sizes(100_000, 2)[-3:], sum(run_sizes(100_000, 2))
    ([12000, 12000, 12000], [500, 500, 190], 100000)
    >>> run_sizes(7, 2)
    [4, 3]
    """
    sizes: list[int] = []
    left, share = count, -(-count // workers)  # every worker has work, however few names
    while left > 0:
        size = min(left, share, max(_RUN_MIN, min(_RUN_MAX, left // (2 * workers))))
        sizes.append(size)
        left -= size
    return sizes


_FIELD, _ROW = "\x1f", "\x1e"  # ASCII unit and record separators

#: A run of katakana: the name of a cell is, nearly always, its last one.
_KANA_RUN = re.compile("[ァ-ヺー・]+")


def name_order(texts: Iterable[str]) -> list[str]:
    """Distinct cells in the order they are transliterated: by their (likely) name.

    A register writes one name many ways (イルクーツク州ギムラ, ギムラ, ｷﾞﾑﾗ): the
    name is the last run of katakana of the NFKC form (a region word comes before
    it, a feature word or a camp number after), a guess that costs a microsecond
    where :func:`~pipeline.names.split_name` costs several. In this order the cells
    of one name sit together, so they land in one worker's chunk and are decoded
    once (in the bench, two workers decoded 72,300 names instead of 59,500), and
    the decoder shares the prefixes of names, not of region words. Ties (and
    cells with no katakana) keep their sorted order.

    >>> name_order(["チタ", "イルクーツク州ギムラ", "ギムラ", "ｷﾞﾑﾗ駅"])
    ['イルクーツク州ギムラ', 'ギムラ', 'ｷﾞﾑﾗ駅', 'チタ']
    """
    ordered = sorted(set(texts))
    ordered.sort(key=_likely_name)
    return ordered


def _likely_name(text: str) -> str:
    runs = _KANA_RUN.findall(unicodedata.normalize("NFKC", text))
    return runs[-1] if runs else ""


#: The model a pool worker transliterates with: set by :func:`_worker_start` in each
#: worker (inherited through ``fork``, never pickled), never read in the parent.
_worker_model: Model | None = None


def _transliterate_chunk(texts: list[str], params: TransliterateParams) -> str | list[Any]:
    """Worker body: transliterate a chunk of names, packed into one string to send back.

    One string pickles and unpickles far faster than thousands of tuples. Row
    fields: text, romaji, Cyrillic and Latin candidates (``|``-joined), then, for a
    cell that is not plain katakana, the normalised form and the name parts. A
    chunk whose cells contain the separators goes back as a list of pairs instead.
    """
    rows: list[str] = []
    model = _worker_model
    assert model is not None, "a worker starts with _worker_start(model)"
    transliterate = Transliterator(model, params)
    done = [(text, transliterate(text)) for text in texts]
    for text, t in done:
        fields = [text, t.romaji, "|".join(t.cyrillic), "|".join(t.latin)]
        p = t.parts
        split = (p.name, p.region_hint, p.feature_hint, p.camp_no, p.flag)
        if not (t.normalized == text and split == (text, "", "", "", "")):
            fields += [t.normalized, *split]
        rows.append(_FIELD.join(fields))
    packed = _ROW.join(rows)
    if packed.count(_ROW) != len(rows) - 1 or any(_FIELD in text or "|" in text for text in texts):
        return done
    return packed


def _unpack(packed: str) -> Iterator[tuple[str, Transliteration]]:
    """The rows of :func:`_transliterate_chunk` back as (text, Transliteration).

    The cells of one name sit together and share its readings: they are split once.
    """
    shared = ("", "", "")
    readings: tuple[str, tuple[str, ...], tuple[str, ...]] = ("", (), ())
    for row in packed.split(_ROW):
        text, romaji, cyrillic, latin, *rest = row.split(_FIELD)
        if (romaji, cyrillic, latin) != shared:
            shared = (romaji, cyrillic, latin)
            readings = (
                romaji,
                tuple(cyrillic.split("|")) if cyrillic else (),
                tuple(latin.split("|")) if latin else (),
            )
        if rest:
            yield text, Transliteration(rest[0], NameParts(*rest[1:]), *readings)
        else:
            yield text, Transliteration(text, NameParts(text), *readings)


def _worker_start(model: Model) -> None:
    global _worker_model
    _worker_model = model
    # The workers only add to caches that live as long as they do: the cyclic
    # garbage collector would walk the inherited model again and again for nothing.
    gc.disable()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a big batch makes no cycles, only cache entries."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _transliterate_all(
    distinct: Sequence[str], params: TransliterateParams, model: Model
) -> dict[str, Transliteration]:
    """Transliterate each distinct name once, in ``params.workers`` processes if worth it.

    Names go in :func:`name_order`, so that the cells of one name are decoded once
    and consecutive names share the search over their common prefix (see
    :class:`~pipeline.transliterate.decoder.Decoder`), and in contiguous chunks to
    the workers. The model is built in this process before the
    pool forks, so the workers share it instead of each spending seconds rebuilding it. Progress
    goes to a bar on a terminal, else to the log every twentieth of the way on big
    inputs (:func:`pipeline.progress.progress`).
    """
    # The pool (multiprocessing) and the progress bar: imported here, as ``camps lookup``
    # transliterates a name or two in this process and starts faster without them.
    from pipeline import pool
    from pipeline.progress import progress

    ordered = name_order(distinct)
    results: dict[str, Transliteration] = {}
    if params.workers <= 1 or len(ordered) < _PARALLEL_MIN or not pool.can_fork():
        with _collector_paused():
            shown = progress(ordered, len(ordered), "transliterate", logger, min_step=1000)
            transliterate = Transliterator(model, params)
            for text in shown:
                results[text] = transliterate(text)
        return results
    runs, start = [], 0
    for size in run_sizes(len(ordered), params.workers):
        runs.append(ordered[start : start + size])
        start += size
    worker = functools.partial(_transliterate_chunk, params=params)
    make_whole(model)  # the workers share the loaded model's tables as dicts
    gc.freeze()  # the model is shared with the workers: keep the collector off its pages
    try:
        with _collector_paused():
            for done_chunk in pool.map_chunks(
                worker,
                runs,
                params.workers,
                label="transliterate",
                initializer=functools.partial(_worker_start, model),
            ):
                results.update(_unpack(done_chunk) if isinstance(done_chunk, str) else done_chunk)
    finally:
        gc.unfreeze()
    return results


def run(
    input_path: Path,
    output_path: Path,
    params: TransliterateParams,
    encoding: str | None = None,
    model: Model | None = None,
    *,
    sheet: str | None = None,
    name_column: str | None = None,
    region_column: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, int]:
    """Add romaji and ranked Russian forms to every row of a register (CSV or workbook).

    Each distinct name cell is computed once. Rows whose name is not
    katakana (Latin, kanji, mixed, empty) are kept and flagged in ``name_flag``.
    ``model`` defaults to the stage's (:func:`default_model`, every place).
    ``sheet``, ``name_column`` and ``region_column`` choose what is read
    (:func:`pipeline.register.choose_columns`: by default the first sheet with
    cells, ``katakana`` or the one column of katakana, and ``region``).

    A CSV register is read ``chunk_rows`` rows at a time, twice: first for its
    distinct names and to check its rows and record ids, then to write each
    row with its name's columns, so memory grows with the distinct names, not
    the rows (a third time, before the second, when the column of names is
    found by its cells). A workbook is held whole (calamine reads a sheet at
    once) and gone through the same way.

    Raises
    ------
    InputDataError
        The file cannot be read, has no column of names, repeats a ``record_id``, or
        has a column a stage writes (``lat``, ``decision`` …).
    """
    # The workbook readers (python-calamine): imported here, not by ``camps lookup``.
    from pipeline.io import open_table

    where = str(input_path)
    table = open_table(Path(input_path), (), encoding, 1, sheet, chunk_rows)
    guess = must_guess(table.columns, name_column)
    # Every row is read before any problem is raised, as when the file was read whole:
    # a bad byte in the last line is what the user hears of first.
    known = None if guess else (name_column or NAME_COLUMN)
    counts: Counter[str] = Counter()
    kana = KanaCounts([c for c in table.columns if c != "record_id"] if guess else [])
    ids = RecordIds(where)
    raw_problems: list[str] = []
    for chunk in table.chunks():
        if known in table.columns:
            counts.update(row[known] for row in chunk)
        if guess:
            kana.add(chunk)
        raw_problems += check_raw_rows(chunk, where, start=ids.rows + 2)
        ids.see(chunk)  # ids.rows: the rows seen so far
    chosen = choose_columns(where, table.columns, kana.shares(), name_column, region_column)
    problems = columns_taken(chosen.columns, where) or ids.checked()
    if problems or raw_problems:
        raise InputDataError("\n".join(problems + raw_problems))
    if guess:
        for chunk in table.chunks():
            counts.update(row[chosen.name] for row in chunk)
    results = _transliterate_all(sorted(counts), params, model or default_model())
    added = {text: _added_columns(result) for text, result in results.items()}
    del results
    flagged: Counter[str] = Counter()
    for text, n in counts.items():
        if added[text]["name_flag"]:
            flagged[added[text]["name_flag"]] += n
    for flag, count in sorted(flagged.items()):
        logger.warning("%s: %d row(s) kept and flagged name_flag=%s", input_path, count, flag)

    def transliterated() -> Iterator[Row]:
        for chunk in table.chunks():
            chosen.apply(chunk)
            ids.assign(chunk)
            try:
                for row in chunk:
                    row.update(added[row[NAME_COLUMN]])
            except KeyError:
                raise InputDataError(f"{where}: changed while it was read: run again") from None
            yield from chunk

    out_columns = merge_columns(["record_id"], [*chosen.columns, *TRANSLITERATE_COLUMNS])
    write_csv(output_path, out_columns, transliterated())
    rows = sum(counts.values())
    return {"rows": rows, "distinct": len(counts), "flagged": sum(flagged.values())}


def _added_columns(result: Transliteration) -> dict[str, str]:
    """The columns the stage adds to each row of a name."""
    return {
        "katakana_normalized": result.normalized,
        "region_hint": result.parts.region_hint,
        "romaji": result.romaji,
        "latin_candidates": "|".join(result.latin),
        "cyrillic_candidates": "|".join(result.cyrillic),
        "name_flag": result.parts.flag,
        "feature_hint": result.parts.feature_hint,
        "camp_no_hint": result.parts.camp_no,
    }
