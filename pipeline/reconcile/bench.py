"""Matching speed: synthetic names made from the gazetteer's own Cyrillic names."""

from __future__ import annotations

import time
from pathlib import Path

from pipeline import synthetic
from pipeline.names import kana_of_cyrillic
from pipeline.reconcile.decision import resolve
from pipeline.reconcile.index import Index, load_index
from pipeline.reconcile.params import ReconcileParams
from pipeline.reconcile.query import Query, make_query
from pipeline.records import Decision


def synthetic_queries(index: Index, n_names: int) -> list[Query]:
    """``n_names`` distinct synthetic names made from the gazetteer's own Cyrillic names.

    Each is a katakana rendering, as it is or in a register's spelling
    (:mod:`pipeline.synthetic`), so exact hits, near misses and misses all occur.
    """
    sources = sorted({n.name for n in index.gazetteer.names if n.script == "Cyrl"})
    kana = [kana_of_cyrillic(cyr) for cyr in sources]
    return [
        # Half the queries carry the Cyrillic reading a transliteration would give.
        make_query(name, "", [sources[base]] if number % 2 else [], [], "")
        for number, (name, base) in enumerate(synthetic.distinct_spellings(kana, n_names))
        if len(name) >= 2
    ]


def bench(n_names: int = 10_000, gazetteer_dir: Path | None = None) -> dict[str, float]:
    """Time the matching of ``n_names`` distinct names against the whole gazetteer.

    Returns the index build time (once per process), the matching time and
    names per second; the target is 10,000 names in 30 s on 2 cores.
    """
    folder = Path(gazetteer_dir) if gazetteer_dir else Path(__file__).parents[2] / "gazetteer/build"
    params = ReconcileParams()
    started = time.perf_counter()
    index = load_index(folder)
    built = time.perf_counter() - started
    queries = synthetic_queries(index, n_names)
    started = time.perf_counter()
    decisions = [resolve(q, index, params).decision for q in queries]
    seconds = time.perf_counter() - started
    return {
        "names": len(queries),
        "index_seconds": round(built, 2),
        "match_seconds": round(seconds, 2),
        "names_per_second": round(len(queries) / seconds, 1) if seconds else 0.0,
        "auto_share": round(decisions.count(Decision.AUTO) / (len(queries) or 1), 3),
    }
