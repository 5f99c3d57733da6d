"""The reconcile stage's fast paths give what the plain ones give, on real spellings.

The plain kana blocking (:func:`~pipeline.reconcile.matching.blocked_near_plain`,
an ``argpartition`` of every key's bigram count) is the rule; the fast one answers
without it or says it cannot. Both are run on the keys of the development sets'
real spellings (``raw/realnames_dev.csv``, ``raw/gold_dev.csv``) and their
misspellings (:mod:`pipeline.synthetic`) against the built gazetteer.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import numpy as np
import pytest

from pipeline import reconcile as rc
from pipeline import synthetic
from pipeline.io import read_csv
from pipeline.reconcile import matching
from pipeline.reconcile.index import bigrams

REPO = Path(__file__).resolve().parents[1]
PARAMS = rc.ReconcileParams()


@pytest.fixture(scope="module")
def index() -> rc.Index:
    """The built gazetteer's index (every place the stage matches against)."""
    return rc.load_index(REPO / "gazetteer" / "build")


def _cells() -> list[str]:
    cells = []
    for name in ("realnames_dev.csv", "gold_dev.csv"):
        _, rows = read_csv(REPO / "raw" / name)
        cells += [row["katakana"] for row in rows]
    rng = random.Random(1945)
    return cells + [synthetic.misspell(cell, rng) for cell in cells for _ in range(3)]


def _queries() -> list[rc.Query]:
    return list(dict.fromkeys(rc.make_query(cell) for cell in _cells()))


def _keys() -> list[str]:
    return list(dict.fromkeys(k for q in _queries() for k in (q.key, *q.words) if k))


def _shared(key: str, index: rc.Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The keys sharing a bigram with ``key`` and how many, sparse and dense."""
    arrays = [index.postings[g] for g in dict.fromkeys(bigrams(key)) if g in index.postings]
    joined = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int32)
    numbers, shared = np.unique(joined, return_counts=True)
    return numbers, shared, np.bincount(joined, minlength=len(index.kana_keys))


def test_fast_blocking_equals_the_partition_or_defers_to_it(index: rc.Index) -> None:
    answered, deferred = 0, 0
    for key in _keys():
        numbers, shared, counts = _shared(key, index)
        plain = matching.blocked_near_plain(key, counts, index, PARAMS)
        fast = matching.blocked_near(key, numbers, shared, index, PARAMS)
        if fast is None:
            deferred += 1
            continue
        answered += 1
        assert dict(fast) == dict(plain), key
        # best first in both; within equal similarity the order is free (see below)
        assert [s for _, s in fast] == [s for _, s in plain], key
    # Both ways are taken on real names, so neither is left untested.
    assert answered > 2 * deferred > 0, (answered, deferred)


def test_fast_blocking_on_a_narrow_block_and_a_low_floor(index: rc.Index) -> None:
    """Other params move the block's lowest count and the length bounds: still equal."""
    for params in (
        dataclasses.replace(PARAMS, block_size=40, fuzzy_floor=0.6),
        dataclasses.replace(PARAMS, block_size=1000, fuzzy_floor=0.95),
    ):
        answered = 0
        for key in _keys()[:150]:
            numbers, shared, counts = _shared(key, index)
            fast = matching.blocked_near(key, numbers, shared, index, params)
            if fast is not None:
                answered += 1
                assert dict(fast) == dict(matching.blocked_near_plain(key, counts, index, params))
        assert answered > 0


def test_fast_blocking_leaves_every_outcome_as_it_was(
    index: rc.Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys of equal similarity may come in another order: no column of a row changes."""
    queries = _queries()
    fast = {q: rc.resolve(q, index, PARAMS).columns() for q in queries}
    index.near_keys.clear()
    monkeypatch.setattr(matching, "blocked_near", lambda *args: None)
    try:
        plain = {q: rc.resolve(q, index, PARAMS).columns() for q in queries}
    finally:
        index.near_keys.clear()
    assert fast == plain


@pytest.mark.parametrize("length", [1, 2, 3, 5, 8, 13, 21])
@pytest.mark.parametrize("floor", [0.5, 0.7, 0.85, 1.0])
def test_near_lengths_keep_every_key_that_can_reach_the_floor(length: int, floor: float) -> None:
    from rapidfuzz import fuzz

    shorter, longer = matching.near_lengths(length, floor)
    query = "ア" * length
    for other in range(1, 3 * length + 3):
        # the best case: the shorter key is a subsequence of the longer one
        if fuzz.ratio(query, "ア" * other) >= floor * 100:
            assert shorter <= other <= longer, (length, other)
