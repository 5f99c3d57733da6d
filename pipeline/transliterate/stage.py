"""The transliterate stage: every distinct cell of a raw file, once, in a pool if worth it."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import InputDataError
from pipeline.names import (
    NameParts,
    is_readable,
    latin_of_cyrillic,
    normalize,
    romanize,
    split_name,
)
from pipeline.transliterate.artifact import default_model
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


@dataclasses.dataclass(frozen=True)
class Transliteration:
    """Everything the stage adds for one distinct cell."""

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
    params = params or TransliterateParams()
    if len(text) > MAX_NAME_CHARS:
        return Transliteration(text, NameParts("", flag="too_long"), "", (), ())
    parts = split_name(text)  # parts.name is normalised already
    found = model.candidates(parts.name, params.top_k, params.beam, params.lm_weight)
    cyrillic = tuple(name for name, _ in found)
    return Transliteration(
        normalized=normalize(text),
        parts=parts,
        romaji=romanize(parts.name) if is_readable(parts.flag) else "",
        cyrillic=cyrillic,
        latin=tuple(latin_candidates(cyrillic)),
    )


#: Below this many distinct names a process pool costs more than it saves.
_PARALLEL_MIN = 5_000
#: Names per task sent to a worker: contiguous in sorted order, so they share prefixes.
_CHUNK = 2_000


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
    done = [(text, transliterate_name(text, model, params)) for text in texts]
    for text, t in done:
        fields = [text, t.romaji, "|".join(t.cyrillic), "|".join(t.latin)]
        if not (t.normalized == text and t.parts == NameParts(text)):
            fields += [t.normalized, *dataclasses.astuple(t.parts)]
        rows.append(_FIELD.join(fields))
    packed = _ROW.join(rows)
    if packed.count(_ROW) != len(rows) - 1 or any(_FIELD in text or "|" in text for text in texts):
        return done
    return packed


def _unpack(packed: str) -> Iterator[tuple[str, Transliteration]]:
    """The rows of :func:`_transliterate_chunk` back as (text, Transliteration)."""
    for row in packed.split(_ROW):
        text, romaji, cyrillic, latin, *rest = row.split(_FIELD)
        yield (
            text,
            Transliteration(
                rest[0] if rest else text,
                NameParts(*rest[1:]) if rest else NameParts(text),
                romaji,
                tuple(cyrillic.split("|")) if cyrillic else (),
                tuple(latin.split("|")) if latin else (),
            ),
        )


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
            for text in shown:
                results[text] = transliterate_name(text, model, params)
        return results
    size = min(_CHUNK, -(-len(ordered) // params.workers))
    chunks = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    worker = functools.partial(_transliterate_chunk, params=params)
    gc.freeze()  # the model is shared with the workers: keep the collector off its pages
    try:
        # Workers take runs of consecutive chunks (a quarter of their share at a
        # time): fewer states for each one's caches, and still a balanced load.
        per_worker = max(1, len(chunks) // (4 * params.workers))
        with _collector_paused():
            for done_chunk in pool.map_chunks(
                worker,
                chunks,
                params.workers,
                label="transliterate",
                initializer=functools.partial(_worker_start, model),
                batch=per_worker,
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
) -> dict[str, int]:
    """Add romaji and ranked Russian forms to every row of a register (CSV or workbook).

    Each distinct name cell is computed once. Rows whose name is not
    katakana (Latin, kanji, mixed, empty) are kept and flagged in ``name_flag``.
    ``model`` defaults to the stage's (:func:`default_model`, every place).
    ``sheet``, ``name_column`` and ``region_column`` choose what is read
    (:func:`pipeline.register.read_register`: by default the first sheet with
    cells, ``katakana`` or the one column of katakana, and ``region``).

    Raises
    ------
    InputDataError
        The file cannot be read, has no column of names, repeats a ``record_id``, or
        has a column a stage writes (``lat``, ``decision`` …).
    """
    from pipeline.io import merge_columns, write_csv
    from pipeline.records import (
        TRANSLITERATE_COLUMNS,
        assign_record_ids,
        check_raw_rows,
        columns_taken,
    )
    from pipeline.register import read_register

    columns, rows = read_register(input_path, encoding, sheet, name_column, region_column)
    problems = columns_taken(columns, str(input_path))
    problems = problems or assign_record_ids(rows, str(input_path))
    problems += check_raw_rows(rows, str(input_path))
    if problems:
        raise InputDataError("\n".join(problems))
    distinct = sorted({row["katakana"] for row in rows})
    results = _transliterate_all(distinct, params, model or default_model())
    flagged: Counter[str] = Counter()
    for row in rows:
        result = results[row["katakana"]]
        row.update(
            katakana_normalized=result.normalized,
            region_hint=result.parts.region_hint,
            romaji=result.romaji,
            latin_candidates="|".join(result.latin),
            cyrillic_candidates="|".join(result.cyrillic),
            name_flag=result.parts.flag,
            feature_hint=result.parts.feature_hint,
            camp_no_hint=result.parts.camp_no,
        )
        if result.parts.flag:
            flagged[result.parts.flag] += 1
    for flag, count in sorted(flagged.items()):
        logger.warning("%s: %d row(s) kept and flagged name_flag=%s", input_path, count, flag)
    out_columns = merge_columns(["record_id"], [*columns, *TRANSLITERATE_COLUMNS])
    write_csv(output_path, out_columns, rows)
    return {"rows": len(rows), "distinct": len(distinct), "flagged": sum(flagged.values())}
