"""The reconcile stage: fill the reconcile columns of a transliterated CSV."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline import overrides as ov
from pipeline import pool
from pipeline.errors import InputDataError
from pipeline.io import Row, merge_columns, read_csv, write_csv
from pipeline.overrides import Override
from pipeline.progress import progress
from pipeline.reconcile.camp_numbers import CAMP_AREA_COLUMN, read_camp_areas, tie_camp_numbers
from pipeline.reconcile.decision import Outcome, apply_override, resolve
from pipeline.reconcile.index import Index, load_index
from pipeline.reconcile.params import ReconcileParams
from pipeline.reconcile.query import Query, queries_of_rows
from pipeline.records import RECONCILE_COLUMNS, TRANSLITERATE_COLUMNS, Decision, assign_record_ids

logger = logging.getLogger(__name__)


def reconcile_rows(
    rows: Sequence[Row],
    index: Index,
    overrides: Sequence[Override],
    params: ReconcileParams,
    queries: Sequence[Query] | None = None,
) -> dict[str, int]:
    """Fill the reconcile columns of ``rows`` in place; return counts per decision.

    The queries are made from the rows' transliterate columns (:func:`query_of_row`)
    unless given, one per row, by a tool that transliterated raw names itself.
    Each distinct query (name, hint, transliterations) is matched once.
    """
    if queries is None:
        queries = queries_of_rows(rows)
    cache = resolve_all(list(dict.fromkeys(queries)), index, params)
    counts = {str(d): 0 for d in Decision}
    columns: dict[Query, dict[str, str]] = {}  # the candidates' JSON, once per distinct name
    decided = ov.finder(overrides)
    for row, query in zip(rows, queries, strict=True):
        outcome = cache[query]
        override = decided.find_row(row)
        if override is not None:
            outcome = apply_override(outcome, override, index, params)
            row.update(outcome.columns())
        else:
            if query not in columns:
                columns[query] = outcome.columns()
            row.update(columns[query])
        counts[str(outcome.decision)] += 1
    counts["distinct_names"] = len(cache)
    return counts


#: What a forked worker resolves against, set once in the worker by :func:`_worker_start`.
_WORKER: dict[str, Any] = {}


def _worker_start(index: Index, params: ReconcileParams) -> None:
    _WORKER.update(index=index, params=params)


def _resolve_chunk(chunk: list[Query]) -> list[Outcome]:
    return [resolve(query, _WORKER["index"], _WORKER["params"]) for query in chunk]


def resolve_all(
    queries: Sequence[Query], index: Index, params: ReconcileParams
) -> dict[Query, Outcome]:
    """Resolve distinct queries, on ``params.workers`` processes for big inputs.

    Forked workers inherit the index built by this process, so none builds its own.
    The queries are matched in the order of their kana keys, so that the spellings
    and hints of one name fall in one chunk and share its near keys
    (:attr:`Index.near_keys`); the result keeps the order of ``queries``.
    """
    started = time.perf_counter()
    given = queries
    queries = sorted(queries, key=lambda q: q.key)
    workers = params.workers if len(queries) >= params.parallel_min else 1
    size = max(200, len(queries) // (workers * 8))
    chunks = [list(queries[i : i + size]) for i in range(0, len(queries), size)]
    if workers <= 1 or len(chunks) <= 1 or not pool.can_fork():
        outcomes = _resolve_chunk_with(queries, index, params)
    else:
        outcomes = []
        for done in pool.map_chunks(
            _resolve_chunk,
            chunks,
            workers,
            label="reconcile",
            initializer=functools.partial(_worker_start, index, params),
        ):
            outcomes.extend(done)
    logger.info(
        "reconcile: %d distinct names on %d process(es) in %.1f s",
        len(queries),
        workers,
        time.perf_counter() - started,
    )
    found = dict(zip(queries, outcomes, strict=True))
    return {query: found[query] for query in given}


def _resolve_chunk_with(
    queries: Sequence[Query], index: Index, params: ReconcileParams
) -> list[Outcome]:
    shown = progress(queries, len(queries), "reconcile", logger, min_step=5000)
    return [resolve(query, index, params) for query in shown]


def run(
    input_path: Path,
    output_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    params: ReconcileParams,
    encoding: str | None = None,
    camp_areas_path: Path | None = None,
) -> dict[str, int]:
    """Reconcile a transliterated CSV; keep every column and row; write atomically.

    With ``camp_areas_path`` (a raw file of camp areas with ``gupvi_camp_no``,
    such as ``raw/camps.csv``) each row's camp number is tied to its camp area
    (:mod:`pipeline.reconcile.camp_numbers`), in the column ``camp_area_hint``.

    Returns
    -------
    dict
        Rows per decision and the number of distinct names matched.

    Raises
    ------
    InputDataError
        The file lacks ``katakana`` or a column of the transliterate stage (this
        stage never transliterates: run ``camps transliterate`` first).
    """
    columns, rows = read_csv(
        Path(input_path), required=("katakana",), encoding=encoding, min_rows=1
    )
    missing = [name for name in TRANSLITERATE_COLUMNS if name not in columns]
    if missing:
        raise InputDataError(
            f"{input_path}: missing column(s) {', '.join(missing)} of the transliterate stage: "
            f"run `camps transliterate --input {input_path} --output TRANSLITERATED.csv` "
            "first and reconcile its output (or `camps run` for all stages)"
        )
    problems = assign_record_ids(rows, str(input_path))
    if problems:
        raise InputDataError(problems[0])
    index = load_index(Path(gazetteer_dir))
    overrides = ov.read(Path(overrides_path), index.gazetteer.places)
    gone = ov.stale(overrides, rows)
    if gone:
        # Kept in the file (the name may come back); said, so that none is lost unseen.
        logger.warning(
            "reconcile: %d decision(s) of %s apply to no row of %s any more: %s",
            len(gone),
            overrides_path,
            input_path,
            "; ".join(o.label for o in gone),
        )
    started = time.perf_counter()
    counts = reconcile_rows(rows, index, overrides, params)
    logger.info("reconcile: %d rows in %.1f s", len(rows), time.perf_counter() - started)
    out_columns = merge_columns(merge_columns(columns, ["record_id"]), RECONCILE_COLUMNS)
    if camp_areas_path is not None:
        areas = read_camp_areas(Path(camp_areas_path))
        names = {pid: place.name for pid, place in index.gazetteer.places.items()}
        tied = tie_camp_numbers(rows, areas, names)
        counts[str(Decision.REVIEW)] += tied
        counts[str(Decision.UNRESOLVED)] -= tied
        counts["tied_by_camp_number"] = tied
        out_columns = merge_columns(out_columns, [CAMP_AREA_COLUMN])
    write_csv(Path(output_path), out_columns, rows)
    return {"rows": len(rows), **counts, "stale_decisions": len(gone)}
