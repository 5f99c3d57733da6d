"""Gathering: every place some name signal connects to a query, with its best evidence."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from pipeline.names import fold_cyrillic, fold_latin
from pipeline.names.byear import by_ear_keys, completed_keys
from pipeline.reconcile.index import Index, NameEntry, bigrams
from pipeline.reconcile.params import ReconcileParams
from pipeline.reconcile.query import Query
from pipeline.records import period_rank


def sharpen(similarity: float) -> float:
    """Evidence of a near-miss spelling: similarity cubed, so one letter off counts less.

    Six-letter names one letter apart have similarity 0.83, which is often a
    different place; ten letters one apart (0.9) are usually the same one.

    >>> sharpen(1.0), round(sharpen(0.9), 3)
    (1.0, 0.729)
    """
    return similarity**3


@dataclasses.dataclass
class Hit:
    """Best evidence gathered for one place while scanning the index (internal)."""

    exact: float = 0.0
    kana: float = 0.0
    evidence: float = 0.0
    partial: bool = False
    period: str = ""
    matched: str = ""

    def add(
        self,
        entry: NameEntry,
        value: float,
        exact: bool,
        partial_factor: float,
        latin: bool = False,
    ) -> None:
        """Record one matching name; the strongest describes the hit.

        On equal strength the name in use in 1945-1956 wins, then any dated name
        (:func:`pipeline.records.period_rank`): a 1950 spelling is of its time.

        ``exact`` values count as they are, near ones (kana, or ``latin`` spelling)
        are sharpened; a Latin near match shows in the Latin feature, not here.
        """
        if exact:
            self.exact = max(self.exact, value)
        elif not latin:
            self.kana = max(self.kana, value)
        strength = (value if exact else sharpen(value)) * (partial_factor if entry.partial else 1.0)
        if strength > self.evidence or (
            strength == self.evidence and period_rank(entry.period) > period_rank(self.period)
        ):
            self.evidence, self.partial, self.period = strength, entry.partial, entry.period
            self.matched = f"{entry.name} ({entry.script})"


def kana_hits(
    query_key: str, index: Index, params: ReconcileParams
) -> tuple[tuple[int, float], ...]:
    """Keys near ``query_key``: the exact one and those found through shared bigrams.

    Worked out once per key and index (kept in :attr:`Index.near_keys`): the many
    spellings and hints of one name in a register come to the same key.
    """
    memo = (query_key, params.block_size, params.fuzzy_floor)
    known = index.near_keys.get(memo)
    if known is None:
        known = index.near_keys[memo] = tuple(_kana_hits(query_key, index, params))
    return known


def _kana_hits(query_key: str, index: Index, params: ReconcileParams) -> list[tuple[int, float]]:
    found: dict[int, float] = {}
    exact = index.key_ids.get(query_key)
    if exact is not None:
        found[exact] = 1.0
    arrays = [index.postings[g] for g in dict.fromkeys(bigrams(query_key)) if g in index.postings]
    if not arrays:
        return list(found.items())
    numbers, shared = np.unique(np.concatenate(arrays), return_counts=True)
    near = blocked_near(query_key, numbers, shared, index, params)
    if near is None:
        counts = np.zeros(len(index.kana_keys), dtype=np.intp)
        counts[numbers] = shared
        near = blocked_near_plain(query_key, counts, index, params)
    for number, similarity in near:
        found[number] = max(found.get(number, 0.0), similarity)
    return list(found.items())


def blocked_near_plain(
    query_key: str, counts: np.ndarray, index: Index, params: ReconcileParams
) -> list[tuple[int, float]]:
    """The near keys among the ``block_size`` keys sharing the most bigrams with the query.

    ``counts`` holds, per kana key, how many of the query's bigrams it has. The keys
    tied at the block's lowest count are taken as :func:`numpy.argpartition` leaves
    them, and those of equal similarity come in its order: this is the rule, and
    :func:`blocked_near` gives its answer without the partition when it can.
    Similarities are 0-1, best first.
    """
    block = min(params.block_size, int(np.count_nonzero(counts)))
    top = np.argpartition(counts, -block)[-block:] if block else np.array([], dtype=np.int64)
    choices = {int(i): index.kana_keys[int(i)] for i in top if counts[int(i)] > 0}
    cutoff = params.fuzzy_floor * 100
    return [
        (number, similarity / 100.0)
        for _, similarity, number in process.extract(
            query_key, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
        )
    ]


def blocked_near(
    query_key: str,
    numbers: np.ndarray,
    shared: np.ndarray,
    index: Index,
    params: ReconcileParams,
) -> list[tuple[int, float]] | None:
    """:func:`blocked_near_plain`'s near keys, found without :func:`numpy.argpartition`.

    ``numbers`` are the keys that share a bigram with the query (ascending) and
    ``shared`` how many. The partition of the counts of all 23,539 keys cost a
    millisecond a key (most counts are tied, its worst case), more than all
    the rest of the key's matching. Its answer is settled by the counts alone except
    in two cases, and then this gives None and the caller partitions:

    * keys tied at the block's lowest count are left out and one of them is near
      the query (which of the tied keys the partition keeps is its own affair);
    * two near keys of equal similarity name one place with names of equal period
      rank: the first one gathered then says which name matched
      (:meth:`Hit.add`), and their order is the partition's.

    Otherwise the keys and similarities are the same, and keys of equal similarity
    name different places, whose hits do not depend on the order they come in.
    """
    block = min(params.block_size, len(numbers))
    if not block:
        return []
    # above[c]: how many keys share at least c bigrams; the block's lowest count is
    # the largest c with a block's worth of keys at or above it.
    above = np.cumsum(np.bincount(shared)[::-1])[::-1]
    lowest = int(np.flatnonzero(above >= block)[-1])
    shorter, longer = near_lengths(len(query_key), params.fuzzy_floor)
    lengths = index.key_lengths[numbers]
    kept = (shared >= lowest) & (lengths >= shorter) & (lengths <= longer)
    numbers, shared = numbers[kept], shared[kept]
    scores = process.cdist(
        [query_key], index.key_array[numbers].tolist(), scorer=fuzz.ratio, dtype=np.float64
    )[0]
    near = scores >= params.fuzzy_floor * 100
    if int(above[lowest]) > block and bool(np.any(near & (shared == lowest))):
        return None
    found = sorted(
        zip(numbers[near].tolist(), (scores[near] / 100.0).tolist(), strict=True),
        key=lambda item: -item[1],
    )
    if _order_matters(found, index):
        return None
    return found


def near_lengths(length: int, floor: float) -> tuple[int, int]:
    """Bounds on the length of a key whose ``fuzz.ratio`` to one of ``length`` can reach ``floor``.

    The ratio is ``2 * LCS / (m + n)`` and the common subsequence is no longer than
    the shorter key, so a key of ``n`` letters needs ``2 * min(m, n) / (m + n) >= floor``;
    the bounds are widened by one letter, so that rounding never drops a key.

    >>> near_lengths(10, 0.7)
    (4, 19)
    """
    return int(length * floor / (2 - floor)) - 1, int(length * (2 - floor) / floor) + 1


def _order_matters(found: Sequence[tuple[int, float]], index: Index) -> bool:
    """Whether two keys of equal similarity name one place by names of equal period rank."""
    seen: dict[tuple[float, str, int], int] = {}
    for number, similarity in found:
        for entry in index.kana_entries[number]:
            slot = (similarity, entry.place_id, period_rank(entry.period))
            if seen.setdefault(slot, number) != number:
                return True
    return False


def gather(query: Query, index: Index, params: ReconcileParams) -> dict[str, Hit]:
    """Every place that some signal connects to the query, with its best name evidence."""
    hits: dict[str, Hit] = defaultdict(Hit)
    factor = params.partial_factor
    keys = [(query.key, False)] + [(w, True) for w in query.words]
    for key, from_word in keys:
        if not key:
            continue
        for number, similarity in kana_hits(key, index, params):
            for entry in index.kana_entries[number]:
                if from_word and not entry.partial:
                    entry = dataclasses.replace(entry, partial=True)
                exact = similarity >= 1.0 and entry.script in ("Kana", "Hani")
                hits[entry.place_id].add(entry, similarity, exact, factor)
    for rank, cyr in enumerate(query.cyrillic):
        value = rank_evidence(rank, 1.0, params)
        for entry in index.cyrillic.get(fold_cyrillic(cyr), ()):
            hits[entry.place_id].add(entry, value, True, factor)
    # A Latin form is derived from a Cyrillic guess: a match on it alone is a step weaker.
    # A name typed in Latin letters is no guess; a near spelling of it counts too.
    first = 1.0 if query.typed_latin else params.latin_exact
    for rank, lat in enumerate(query.latin):
        value = rank_evidence(rank, first, params)
        for entry in index.latin.get(fold_latin(lat), ()):
            hits[entry.place_id].add(entry, value, True, factor)
    if query.typed_latin:
        _typed_latin_hits(query, index, params, hits)
    _by_ear_hits(query.key, index, factor, hits)
    return hits


#: Kana similarity credited to a gazetteer name reached from the spelling by one sound
#: change of spoken Russian (:data:`pipeline.names.byear.SOUND_RULES`), per change:
#: a near spelling, not the name (sharpened like any near one, :func:`sharpen`).
BY_EAR_SIMILARITY = 0.9
#: Kana similarity of a name found by putting back a dropped -ск/-ский (コムソモル for
#: Комсомольск): one change, costed like a sound change. The completed key is the
#: place's whole name, not one word of a compound: it is not a partial match (counted
#: partial as well, the truncation paid three times, and a by-ear truncation inside
#: the hinted region lost to a lookalike rewrite's exact namesake far outside it).
COMPLETED_SIMILARITY = 0.9
#: Keys up to this long may combine two sound changes (ペガワト for Беговат), longer
#: ones one: the same bound as the transliteration lexicon's look-up.
BY_EAR_DEPTH2_MAX = 5


def by_ear_places(key: str, index: Index) -> dict[int, float]:
    """Kana keys of the index a by-ear or truncated spelling may stand for, with similarity.

    Looked up only when the key itself is no gazetteer name (a name that is spelt
    right is never read as another by ear): every key that sound changes reach
    (:func:`pipeline.names.byear.by_ear_keys`), and each of these and the key itself
    with a dropped -ск/-ский put back (:func:`pipeline.names.byear.completed_keys`).
    A completion scores below a by-ear reading of the same key
    (:data:`COMPLETED_SIMILARITY`); it is partial only where the name it reaches is
    one word of a longer one, as any kana match is.
    """
    if not key or key in index.key_ids:
        return {}
    depth = 2 if len(key) <= BY_EAR_DEPTH2_MAX else 1
    variants = {key: 0, **by_ear_keys(key, depth=depth)}
    found: dict[int, float] = {}
    for variant, changes in variants.items():
        value = BY_EAR_SIMILARITY**changes
        number = index.key_ids.get(variant) if changes else None
        if number is not None:
            found[number] = max(found.get(number, 0.0), value)
        for completed in completed_keys(variant) if changes <= 1 else ():
            number = index.key_ids.get(completed)
            if number is not None:
                found[number] = max(found.get(number, 0.0), COMPLETED_SIMILARITY * value)
    return found


def _by_ear_hits(key: str, index: Index, factor: float, hits: dict[str, Hit]) -> None:
    """Add the gazetteer names a by-ear or truncated spelling reaches (:func:`by_ear_places`).

    Not to a place a Cyrillic candidate already names exactly: the transliteration
    offered that reading by the same rules (its lexicon), and counting the rewrite
    again as kana evidence would lift a third-ranked guess (Южне for ユージニ) to ``auto``.
    """
    for number, value in by_ear_places(key, index).items():
        for entry in index.kana_entries[number]:
            if entry.place_id in hits and hits[entry.place_id].exact > 0:
                continue
            hits[entry.place_id].add(entry, value, False, factor)


def rank_evidence(rank: int, first: float, params: ReconcileParams) -> float:
    """Evidence of an exact match on the transliteration of a given rank (0 = best).

    >>> p = ReconcileParams()
    >>> rank_evidence(0, 1.0, p), rank_evidence(1, 1.0, p), round(rank_evidence(3, 0.9, p), 3)
    (1.0, 0.85, 0.705)
    """
    if rank == 0:
        return first
    return max(0.0, params.alternative_evidence * first - params.alternative_step * (rank - 1))


def _typed_latin_hits(
    query: Query, index: Index, params: ReconcileParams, hits: dict[str, Hit]
) -> None:
    """Near Latin spellings of a name typed in Latin letters (Karagandа, Tayshet/Taishet)."""
    typed = fold_latin(query.latin[0]) if query.latin else ""
    if len(typed) < 4:
        return
    cutoff = 100 * max(params.fuzzy_floor, 0.8)
    for key, similarity, _ in process.extract(
        typed, index.latin_keys, scorer=fuzz.ratio, score_cutoff=cutoff, limit=10
    ):
        for entry in index.latin[key]:
            hits[entry.place_id].add(entry, similarity / 100.0, False, params.partial_factor, True)
