"""The reconcile stage: fill the reconcile columns of a transliterated CSV."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline import overrides as ov
from pipeline import pool
from pipeline.errors import InputDataError
from pipeline.io import CHUNK_ROWS, Row, merge_columns, read_csv_chunks, write_csv
from pipeline.overrides import Override
from pipeline.progress import progress
from pipeline.reconcile.camp_numbers import CAMP_AREA_COLUMN, read_camp_areas, tie_camp_numbers
from pipeline.reconcile.decision import Outcome, apply_override, resolve
from pipeline.reconcile.index import Index, load_index
from pipeline.reconcile.params import ReconcileParams
from pipeline.reconcile.query import Query, queries_of_rows
from pipeline.records import RECONCILE_COLUMNS, TRANSLITERATE_COLUMNS, Decision, RecordIds

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
    outcomes = resolve_all(list(dict.fromkeys(queries)), index, params)
    filler = Filler({q: settle(o) for q, o in outcomes.items()}, index, params, outcomes)
    filler.fill(rows, queries, ov.finder(overrides))
    return filler.counts()


#: A query's decision and reconcile columns (the candidates as JSON): all a row needs
#: of its :class:`Outcome` unless an override applies.
Settled = tuple[str, dict[str, str]]


def settle(outcome: Outcome) -> Settled:
    """The decision and columns of an outcome (smaller than it, and made once)."""
    return str(outcome.decision), outcome.columns()


class Filler:
    """Fills rows' reconcile columns from the settled outcomes of their distinct queries.

    A row with an override takes the query's full outcome (``outcomes``, else
    resolved again, once). The counts per decision add up over every chunk filled.
    """

    def __init__(
        self,
        settled: dict[Query, Settled],
        index: Index,
        params: ReconcileParams,
        outcomes: dict[Query, Outcome] | None = None,
    ) -> None:
        self.settled, self.index, self.params = settled, index, params
        self.outcomes = dict(outcomes or {})
        self.decisions = {str(d): 0 for d in Decision}

    def fill(self, rows: Sequence[Row], queries: Sequence[Query], decided: ov.Finder) -> None:
        """Fill ``rows`` (their queries in ``queries``), overrides first."""
        for row, query in zip(rows, queries, strict=True):
            override = decided.find_row(row)
            if override is not None:
                if query not in self.outcomes:
                    self.outcomes[query] = resolve(query, self.index, self.params)
                outcome = apply_override(self.outcomes[query], override, self.index, self.params)
                row.update(outcome.columns())
                decision = str(outcome.decision)
            else:
                decision, columns = self.settled[query]
                row.update(columns)
            self.decisions[decision] += 1

    def counts(self) -> dict[str, int]:
        """Rows per decision, and the distinct names matched."""
        return {**self.decisions, "distinct_names": len(self.settled)}


#: What a forked worker resolves against, set once in the worker by :func:`_worker_start`.
_WORKER: dict[str, Any] = {}


def _worker_start(index: Index, params: ReconcileParams) -> None:
    _WORKER.update(index=index, params=params)


def _resolve_chunk(chunk: list[Query], settled: bool = False) -> list[Any]:
    index, params = _WORKER["index"], _WORKER["params"]
    if settled:
        return [settle(resolve(query, index, params)) for query in chunk]
    return [resolve(query, index, params) for query in chunk]


def resolve_all(
    queries: Sequence[Query], index: Index, params: ReconcileParams
) -> dict[Query, Outcome]:
    """Resolve distinct queries, on ``params.workers`` processes for big inputs.

    Forked workers inherit the index built by this process, so none builds its own.
    The queries are matched in the order of their kana keys, so that the spellings
    and hints of one name fall in one chunk and share its near keys
    (:attr:`Index.near_keys`); the result keeps the order of ``queries``.
    """
    return _resolve_many(queries, index, params, settled=False)


def settle_all(
    queries: Sequence[Query], index: Index, params: ReconcileParams
) -> dict[Query, Settled]:
    """:func:`resolve_all`, each outcome :func:`settle`-d where it is resolved (on the
    workers): what the stage keeps of a register's distinct names."""
    return _resolve_many(queries, index, params, settled=True)


def _resolve_many(
    queries: Sequence[Query], index: Index, params: ReconcileParams, settled: bool
) -> dict[Query, Any]:
    started = time.perf_counter()
    given = queries
    queries = sorted(queries, key=lambda q: q.key)
    workers = params.workers if len(queries) >= params.parallel_min else 1
    size = max(200, len(queries) // (workers * 8))
    chunks = [list(queries[i : i + size]) for i in range(0, len(queries), size)]
    outcomes: list[Any] = []
    if workers <= 1 or len(chunks) <= 1 or not pool.can_fork():
        shown = progress(queries, len(queries), "reconcile", logger, min_step=5000)
        for query in shown:
            outcome = resolve(query, index, params)
            outcomes.append(settle(outcome) if settled else outcome)
    else:
        for done in pool.map_chunks(
            functools.partial(_resolve_chunk, settled=settled),
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


def run(
    input_path: Path,
    output_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    params: ReconcileParams,
    encoding: str | None = None,
    camp_areas_path: Path | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, int]:
    """Reconcile a transliterated CSV; keep every column and row; write atomically.

    With ``camp_areas_path`` (a raw file of camp areas with ``gupvi_camp_no``,
    such as ``raw/camps.csv``) each row's camp number is tied to its camp area
    (:mod:`pipeline.reconcile.camp_numbers`), in the column ``camp_area_hint``.

    The file is read twice, ``chunk_rows`` rows at a time: first for its distinct
    names (matched together, on the workers) and its record ids, then to fill and
    write the rows, so memory grows with the distinct names, not the rows.

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

    def read() -> tuple[list[str], Iterator[list[Row]]]:
        return read_csv_chunks(Path(input_path), ("katakana",), encoding, 1, chunk_rows)

    columns, first = read()
    missing = [name for name in TRANSLITERATE_COLUMNS if name not in columns]
    if missing:
        raise InputDataError(
            f"{input_path}: missing column(s) {', '.join(missing)} of the transliterate stage: "
            f"run `camps transliterate --input {input_path} --output TRANSLITERATED.csv` "
            "first and reconcile its output (or `camps run` for all stages)"
        )
    index = load_index(Path(gazetteer_dir))
    overrides = ov.read(Path(overrides_path), index.gazetteer.places)
    ids = RecordIds(str(input_path))
    made: dict[tuple[str, ...], Query] = {}
    distinct: dict[Query, None] = {}
    for chunk in first:
        ids.see(chunk)
        distinct.update(dict.fromkeys(queries_of_rows(chunk, made)))
    problems = ids.checked()
    if problems:
        raise InputDataError(problems[0])
    started = time.perf_counter()
    filler = Filler(settle_all(list(distinct), index, params), index, params)
    del distinct
    out_columns = merge_columns(merge_columns(columns, ["record_id"]), RECONCILE_COLUMNS)
    areas = read_camp_areas(Path(camp_areas_path)) if camp_areas_path is not None else None
    if areas is not None:
        out_columns = merge_columns(out_columns, [CAMP_AREA_COLUMN])
    names = {pid: place.name for pid, place in index.gazetteer.places.items()}
    decided = ov.finder(overrides)
    rows, tied = 0, 0
    gone = list(overrides)

    def reconciled() -> Iterator[Row]:
        nonlocal rows, tied, gone
        for chunk in read()[1]:
            ids.assign(chunk)
            taken = {id(o) for o in gone} - {id(o) for o in ov.stale(gone, chunk)}
            gone = [o for o in gone if id(o) not in taken]
            filler.fill(chunk, queries_of_rows(chunk, made), decided)
            if areas is not None:
                tied += tie_camp_numbers(chunk, areas, names)
            rows += len(chunk)
            yield from chunk

    write_csv(Path(output_path), out_columns, reconciled())
    if gone:
        # Kept in the file (the name may come back); said, so that none is lost unseen.
        logger.warning(
            "reconcile: %d decision(s) of %s apply to no row of %s any more: %s",
            len(gone),
            overrides_path,
            input_path,
            "; ".join(o.label for o in gone),
        )
    logger.info("reconcile: %d rows in %.1f s", rows, time.perf_counter() - started)
    counts = filler.counts()
    if areas is not None:
        counts[str(Decision.REVIEW)] += tied
        counts[str(Decision.UNRESOLVED)] -= tied
        counts["tied_by_camp_number"] = tied
    return {"rows": rows, **counts, "stale_decisions": len(gone)}
