"""Matching speed: synthetic names made from the gazetteer's own Cyrillic names."""

from __future__ import annotations

import time
from pathlib import Path

from pipeline.names import kana_of_cyrillic
from pipeline.reconcile.decision import resolve
from pipeline.reconcile.index import Index, load_index
from pipeline.reconcile.params import ReconcileParams
from pipeline.reconcile.query import Query, make_query
from pipeline.records import Decision

#: Spelling changes that real katakana names show (long marks, ヴ/ブ, a slipped kana).
_BENCH_EDITS = (
    lambda k: k,
    lambda k: k[:1] + "ー" + k[1:],
    lambda k: k.replace("ヴ", "ブ").replace("バ", "ワ"),
    lambda k: k[:-1] + "ク",
    lambda k: k[:2] + "ッ" + k[2:],
    lambda k: k[1:],
)


def synthetic_queries(index: Index, n_names: int) -> list[Query]:
    """``n_names`` distinct synthetic names made from the gazetteer's own Cyrillic names.

    Each is a katakana rendering with one of a few real-world spelling changes,
    so exact hits, near misses and misses all occur, as in a register.
    """
    sources = sorted({n.name for n in index.gazetteer.names if n.script == "Cyrl"})
    queries: dict[str, Query] = {}
    for edit in _BENCH_EDITS:
        for cyr in sources:
            kana = edit(kana_of_cyrillic(cyr))
            if len(kana) < 2 or kana in queries:
                continue
            queries[kana] = make_query(kana, "", [cyr] if len(queries) % 2 else [], [], "")
            if len(queries) >= n_names:
                return list(queries.values())
    return list(queries.values())


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
