"""Reconcile stage: tie each katakana camp name to a gazetteer place, with a score.

A name is only useful on a map once it is tied to the right settlement, and a
historian must see how sure we are. Every distinct (name, region hint) is matched
once against the whole built gazetteer by several signals, each reported as a
feature of the candidate in the shape of the W3C reconciliation API:

* ``name_exact``: the name in any script is a name of the place: the katakana
  against GeoNames' Japanese names, the Cyrillic candidates of the transliterate
  stage against Cyrillic names, its Latin candidates against Latin names;
* ``kana_similarity``: every Cyrillic gazetteer name is rendered in katakana by
  the Japanese conventions (:func:`pipeline.transliterate.kana_of_cyrillic`) and
  compared with the input on :func:`pipeline.transliterate.match_key` forms, exact
  or near (rapidfuzz, behind a bigram blocking index so that 10,000 names take
  seconds, not minutes);
* ``latin_similarity``: rapidfuzz between the Latin candidates (and romaji) and
  the place's Latin names, a weaker cross-check;
* ``partial_name``: only one word of a compound name matched (スパスク against
  Спасск-Дальний), which is a weaker claim than the whole name;
* ``soviet_name``: the name that matched is a curated name of a period, such as
  Ворошилов (1935-1957), the names POWs heard;
* ``region``: the region hint in 1945 terms (チタ州…) puts the place inside (+1)
  or outside (-1) the unit of 1945;
* ``feature_type``: a feature word of the cell (駅, 炭鉱 …) agrees with the
  place's type (+1) or not (-1);
* ``population`` (log scale) and ``curated`` (a place of the historical gazetteer)
  as priors: a bare name means the larger, camp-related place more often;
* ``unique``: no distant place's name evidence comes near this one's (a name one
  place alone bears is surer than one shared with namesakes).

The region hint is the katakana prefix (チタ州…) and, when the raw file has one,
its English ``region`` column in 1945 terms ("Khabarovsk Krai (Amur Oblast)"),
the most specific unit named. A cell in Latin or Cyrillic letters is matched
against names in that script, not transliterated.

The features are added in a logistic model whose weights live in params.yaml, so
the ``score`` reads as a probability. ``auto`` needs a high score *and* no rival: a
different place far away that scores nearly as well (the many Spassks and
Krasnaya Zaryas) sends the row to ``review``. Manual decisions in
``gazetteer/overrides.csv`` always win and survive reruns.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import logging
import math
import multiprocessing
import re
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from pipeline import overrides as ov
from pipeline import transliterate as tr
from pipeline.errors import InputDataError, ParamsError
from pipeline.gazetteer import Gazetteer, Place, Region, haversine_km, load
from pipeline.io import Row, merge_columns, read_csv, write_csv
from pipeline.names import (
    REGION_WORD_RE,
    fold_cyrillic,
    fold_latin,
    kana_of_cyrillic,
    latin_of_cyrillic,
    match_key,
    romanize,
    script_of,
    split_name,
)
from pipeline.overrides import Override
from pipeline.records import RECONCILE_COLUMNS, Decision, assign_record_ids

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- params


@dataclasses.dataclass(frozen=True)
class ReconcileParams:
    """The ``reconcile`` section of params.yaml.

    Attributes
    ----------
    top_k:
        Candidates kept per name (the ``candidates`` JSON).
    auto_threshold, review_threshold:
        ``auto`` needs a score at or above the first (and no rival); below the
        second nothing is plausible and the row is ``unresolved``.
    auto_margin:
        How far the best must score above every rival for ``auto``.
    rival_km:
        A candidate farther than this from the best is a different place (a
        rival); a nearer one is the same town under another entry.
    fuzzy_floor:
        Lowest katakana similarity (0-1) that makes a place a candidate.
    block_size:
        Gazetteer keys compared in full per name, taken from the bigram index.
    partial_factor:
        Discount of a match on one word of a compound name.
    alternative_evidence, alternative_step:
        Evidence of an exact match on the transliterate stage's second Cyrillic
        candidate, less ``alternative_step`` per further rank (the first counts 1):
        a lower-ranked reading is a guess, and the kana route vouches for the right
        one anyway when it follows the Japanese rules.
    latin_exact:
        Evidence of an exact match on the Latin form of the first Cyrillic
        candidate (a typed Latin name counts 1); it drops by rank like the Cyrillic.
    unique_gap:
        A place's name evidence is unique (feature ``unique``) when no place
        farther than ``rival_km`` comes within this of it.
    weight_*, bias:
        The logistic model: score = 1 / (1 + exp(-(bias + sum weight * feature))).
    """

    top_k: int = 5
    auto_threshold: float = 0.85
    review_threshold: float = 0.45
    auto_margin: float = 0.15
    rival_km: float = 50.0
    fuzzy_floor: float = 0.7
    block_size: int = 150
    partial_factor: float = 0.85
    alternative_evidence: float = 0.85
    alternative_step: float = 0.03
    latin_exact: float = 0.9
    weight_name: float = 6.0
    weight_region: float = 2.0
    weight_population: float = 1.5
    weight_curated: float = 1.0
    weight_soviet_name: float = 0.5
    weight_feature_type: float = 0.5
    weight_unique: float = 0.4
    unique_gap: float = 0.1
    bias: float = -5.2
    #: processes for inputs with at least ``parallel_min`` distinct names (1: none)
    workers: int = 2
    parallel_min: int = 2_000

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise ParamsError(f"reconcile.top_k must be at least 1, got {self.top_k}")
        if not 0 <= self.review_threshold <= self.auto_threshold <= 1:
            raise ParamsError(
                "reconcile: need 0 <= review_threshold <= auto_threshold <= 1, got "
                f"{self.review_threshold} and {self.auto_threshold}"
            )
        if not 0 < self.fuzzy_floor <= 1:
            raise ParamsError(f"reconcile.fuzzy_floor must be in (0, 1], got {self.fuzzy_floor}")


class Feature(enum.StrEnum):
    """The per-candidate signals (W3C reconciliation ``features``)."""

    NAME_EXACT = "name_exact"
    KANA = "kana_similarity"
    LATIN = "latin_similarity"
    PARTIAL = "partial_name"
    SOVIET_NAME = "soviet_name"
    REGION = "region"
    FEATURE_TYPE = "feature_type"
    POPULATION = "population"
    CURATED = "curated"
    UNIQUE = "unique"


#: Evidence of an exact match on a Latin form, which is derived from a Cyrillic guess.
LATIN_EXACT = ReconcileParams.latin_exact


def is_code(name: str) -> bool:
    """Whether a GeoNames alternate name is a code (HTA, VIN), not a name to match.

    >>> is_code("VIN"), is_code("Vin"), is_code("UFA1")
    (True, False, True)
    """
    letters = [ch for ch in name if ch.isalnum()]
    return len(letters) <= 4 and (name.isupper() or any(ch.isdigit() for ch in letters))


def bigrams(key: str) -> list[str]:
    """Bigrams of a key with boundary marks, the blocking units of the kana index.

    >>> bigrams("チタ")
    ['^チ', 'チタ', 'タ$']
    """
    padded = f"^{key}$"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


def population_prior(population: int) -> float:
    """Population on a log scale, 0 for none and 1 from a million up.

    >>> population_prior(0), population_prior(999_999), round(population_prior(10_000), 2)
    (0.0, 1.0, 0.67)
    """
    return min(1.0, math.log10(population + 1) / 6.0)


def sharpen(similarity: float) -> float:
    """Evidence of a near-miss spelling: similarity cubed, so one letter off counts less.

    Six-letter names one letter apart have similarity 0.83, which is often a
    different place; ten letters one apart (0.9) are usually the same one.

    >>> sharpen(1.0), round(sharpen(0.9), 3)
    (1.0, 0.729)
    """
    return similarity**3


def logistic(z: float) -> float:
    """The logistic function.

    >>> logistic(0.0)
    0.5
    """
    return 1.0 / (1.0 + math.exp(-z))


# --------------------------------------------------------------------------- the index


@dataclasses.dataclass(frozen=True)
class NameEntry:
    """One gazetteer name as the matcher sees it."""

    place_id: str
    name: str
    script: str
    period: str
    partial: bool


@dataclasses.dataclass(frozen=True)
class Index:
    """The gazetteer prepared for matching: exact maps per script and a kana bigram index.

    Built once per gazetteer folder and kept in memory (see :func:`get_index`).
    """

    gazetteer: Gazetteer
    kana_keys: tuple[str, ...]
    kana_entries: tuple[tuple[NameEntry, ...], ...]
    key_ids: Mapping[str, int]
    postings: Mapping[str, np.ndarray]
    cyrillic: Mapping[str, tuple[NameEntry, ...]]
    latin: Mapping[str, tuple[NameEntry, ...]]
    latin_by_place: Mapping[str, tuple[str, ...]]
    region_keys: Mapping[str, tuple[str, ...]]
    latin_keys: tuple[str, ...] = ()
    #: kana key -> population of the largest foreign place with that katakana name
    foreign_keys: Mapping[str, int] = dataclasses.field(default_factory=dict)


def _kana_forms(name: str, script: str) -> list[tuple[str, bool]]:
    """Katakana keys of a gazetteer name: the whole name and, for compounds, each word."""
    if script == "Kana":
        return [(match_key(name), False)]
    if script != "Cyrl":
        return []
    forms = [(match_key(kana_of_cyrillic(name)), False)]
    words = [w for w in re.split(r"[\s\-‐–—]+", name) if sum(ch.isalpha() for ch in w) >= 4]
    if len(words) > 1:
        forms.extend((match_key(kana_of_cyrillic(word)), True) for word in words)
    return [(key, partial) for key, partial in forms if key]


_LATIN_UNIT = re.compile(
    r"\b(oblast|oblast'|krai|kray|region|province|aimag|aymag|assr|ssr|ao|autonomous|"
    r"republic|people's|peoples|of|the)\b",
    re.IGNORECASE,
)


def latin_region_key(text: str) -> str:
    """The bare key of an English region name: unit words dropped, then folded.

    >>> latin_region_key("Karaganda Oblast"), latin_region_key("Buryat-Mongol ASSR")
    ('karaganda', 'buryatmongol')
    """
    return fold_latin(_LATIN_UNIT.sub(" ", text))


def build_index(gazetteer: Gazetteer) -> Index:
    """Prepare a loaded gazetteer for matching (a second or two for the whole area)."""
    started = time.perf_counter()
    kana: dict[str, dict[tuple[str, bool], NameEntry]] = defaultdict(dict)
    cyrillic: dict[str, list[NameEntry]] = defaultdict(list)
    latin: dict[str, list[NameEntry]] = defaultdict(list)
    latin_by_place: dict[str, dict[str, None]] = defaultdict(dict)
    for item in gazetteer.names:
        if item.place_id not in gazetteer.places:
            continue
        whole = NameEntry(item.place_id, item.name, item.script, item.period, False)
        for key, partial in _kana_forms(item.name, item.script):
            entry = dataclasses.replace(whole, partial=partial)
            slot = kana[key]
            known = slot.get((item.place_id, partial))
            if known is None or (entry.period and not known.period):
                slot[(item.place_id, partial)] = entry
        if item.script == "Cyrl":
            cyrillic[fold_cyrillic(item.name)].append(whole)
        elif item.script == "Latn" and not is_code(item.name):
            folded = fold_latin(item.name)
            if folded:
                latin[folded].append(whole)
                latin_by_place[item.place_id][folded] = None
    keys = tuple(sorted(kana))
    grams: dict[str, list[int]] = defaultdict(list)
    for number, key in enumerate(keys):
        for gram in dict.fromkeys(bigrams(key)):
            grams[gram].append(number)
    region_keys: dict[str, list[str]] = defaultdict(list)
    for region in gazetteer.regions.values():
        for form in (*region.kana, *region.latin, region.name_1945, region.name_modern):
            # split_name gives the hint without its unit word: 沿海地方 → 沿海.
            bare = REGION_WORD_RE.sub("", form)
            forms = [match_key(form), match_key(bare), fold_latin(form)]
            # English forms: the head before a note or the republic ("Amur Oblast (in
            # Khabarovsk Krai until 1948)" is Amur, not Khabarovsk; "Karaganda Oblast,
            # Kazakh SSR" is Karaganda), each of "Kolyma / Dalstroy", bare.
            head = re.split(r"[,(;]", form)[0]
            for part in [head, *head.split("/")]:
                forms += [fold_latin(part), latin_region_key(part)]
            for key in forms:
                if key and region.region_id not in region_keys[key]:
                    region_keys[key].append(region.region_id)
    index = Index(
        gazetteer=gazetteer,
        kana_keys=keys,
        kana_entries=tuple(tuple(kana[key].values()) for key in keys),
        key_ids={key: number for number, key in enumerate(keys)},
        postings={gram: np.asarray(ids, dtype=np.int32) for gram, ids in grams.items()},
        cyrillic={key: tuple(v) for key, v in cyrillic.items()},
        latin={key: tuple(v) for key, v in latin.items()},
        latin_by_place={pid: tuple(v) for pid, v in latin_by_place.items()},
        region_keys={key: tuple(v) for key, v in region_keys.items()},
        latin_keys=tuple(sorted(latin)),
        foreign_keys=_foreign_keys(gazetteer),
    )
    logger.info(
        "reconcile: indexed %d places, %d kana keys in %.1f s",
        len(gazetteer.places),
        len(keys),
        time.perf_counter() - started,
    )
    return index


def _foreign_keys(gazetteer: Gazetteer) -> dict[str, int]:
    """Kana keys of large foreign places' katakana names, with the largest population."""
    keys: dict[str, int] = {}
    for name, _country, population in gazetteer.foreign:
        key = match_key(name)
        if key:
            keys[key] = max(keys.get(key, 0), population)
    return keys


_INDEX_CACHE: dict[tuple[str, tuple[float, ...]], Index] = {}


def get_index(gazetteer_dir: Path) -> Index:
    """The index of a gazetteer folder, built once per process and file version."""
    gazetteer_dir = Path(gazetteer_dir)
    files = [gazetteer_dir / n for n in ("places.csv", "names.csv", "regions.csv")]
    stamp = tuple(p.stat().st_mtime if p.exists() else -1.0 for p in files)
    cache_key = (str(gazetteer_dir.resolve()), stamp)
    if cache_key not in _INDEX_CACHE:
        _INDEX_CACHE.clear()
        _INDEX_CACHE[cache_key] = build_index(load(gazetteer_dir))
    return _INDEX_CACHE[cache_key]


# --------------------------------------------------------------------------- queries


@dataclasses.dataclass(frozen=True)
class Query:
    """What the matcher knows about one name: kana key, hints and transliterations."""

    text: str
    key: str
    words: tuple[str, ...]
    region_hint: str
    feature_hint: str
    cyrillic: tuple[str, ...]
    latin: tuple[str, ...]
    romaji: str
    typed_latin: bool = False


def split_list(value: str) -> tuple[str, ...]:
    """Split a ``|``-separated cell into its non-empty items.

    >>> split_list("Хабаровск| Хабаровськ |")
    ('Хабаровск', 'Хабаровськ')
    """
    return tuple(item.strip() for item in value.split("|") if item.strip())


def make_query(
    katakana: str,
    region_hint: str | None = None,
    cyrillic: Sequence[str] | None = None,
    latin: Sequence[str] | None = None,
    romaji: str | None = None,
    top_k: int = 5,
) -> Query:
    """Build a query from a cell; transliterations are computed when not given.

    A cell in Latin letters (a register may say "Karaganda") is matched as a
    Latin name, one in Cyrillic as a Cyrillic name: neither is transliterated.
    """
    parts = split_name(katakana)
    name = parts.name
    script = script_of(name)
    if script in ("Latn", "Cyrl"):
        typed = name.replace("・", " ")
        return Query(
            text=katakana,
            key="",
            words=(),
            region_hint=parts.region_hint if region_hint is None else region_hint,
            feature_hint=parts.feature_hint,
            cyrillic=(typed,) if script == "Cyrl" else (),
            latin=(typed,) if script == "Latn" else (latin_of_cyrillic(typed),),
            romaji="",
            typed_latin=script == "Latn",
        )
    if cyrillic is None:
        cyrillic = [cyr for cyr, _ in tr.cyrillic_candidates(name, top_k)] if name else []
    if latin is None:
        latin = [latin_of_cyrillic(cyr) for cyr in cyrillic]
    if romaji is None:
        romaji = romanize(name) if name else ""
    words = tuple(match_key(w) for w in name.split("・") if w)
    return Query(
        text=katakana,
        key=match_key(name) if name else "",
        words=tuple(w for w in words if len(w) >= 3) if len(words) > 1 else (),
        region_hint=parts.region_hint if region_hint is None else region_hint,
        feature_hint=parts.feature_hint,
        cyrillic=tuple(cyrillic),
        latin=tuple(dict.fromkeys(x for x in latin if x)),
        romaji=romaji,
    )


# --------------------------------------------------------------------------- matching


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One ranked place for a name, with its per-feature values."""

    place_id: str
    name: str
    score: float
    features: tuple[tuple[Feature, float], ...]
    matched: str
    evidence: float

    def feature(self, which: Feature) -> float:
        """The value of one feature."""
        return dict(self.features)[which]

    def as_w3c(self, match: bool) -> dict[str, Any]:
        """The W3C reconciliation API's candidate shape (plus the name that matched)."""
        return {
            "id": self.place_id,
            "name": self.name,
            "score": round(self.score, 4),
            "match": match,
            "features": [{"id": str(f), "value": round(v, 4)} for f, v in self.features],
            "description": f"matched {self.matched}",
        }


@dataclasses.dataclass
class _Hit:
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
        """Record one matching name; the strongest (a Soviet-era one on ties) describes the hit.

        ``exact`` values count as they are, near ones (kana, or ``latin`` spelling)
        are sharpened; a Latin near match shows in the Latin feature, not here.
        """
        if exact:
            self.exact = max(self.exact, value)
        elif not latin:
            self.kana = max(self.kana, value)
        strength = (value if exact else sharpen(value)) * (partial_factor if entry.partial else 1.0)
        if strength > self.evidence or (
            strength == self.evidence and entry.period and not self.period
        ):
            self.evidence, self.partial, self.period = strength, entry.partial, entry.period
            self.matched = f"{entry.name} ({entry.script})"


def _kana_hits(query_key: str, index: Index, params: ReconcileParams) -> list[tuple[int, float]]:
    """Keys near ``query_key``: the exact one and those found through shared bigrams."""
    found: dict[int, float] = {}
    exact = index.key_ids.get(query_key)
    if exact is not None:
        found[exact] = 1.0
    arrays = [index.postings[g] for g in dict.fromkeys(bigrams(query_key)) if g in index.postings]
    if not arrays:
        return list(found.items())
    counts = np.bincount(np.concatenate(arrays), minlength=len(index.kana_keys))
    block = min(params.block_size, int(np.count_nonzero(counts)))
    top = np.argpartition(counts, -block)[-block:] if block else np.array([], dtype=np.int64)
    choices = {int(i): index.kana_keys[int(i)] for i in top if counts[int(i)] > 0}
    cutoff = params.fuzzy_floor * 100
    for _, similarity, number in process.extract(
        query_key, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
    ):
        found[number] = max(found.get(number, 0.0), similarity / 100.0)
    return list(found.items())


def gather(query: Query, index: Index, params: ReconcileParams) -> dict[str, _Hit]:
    """Every place that some signal connects to the query, with its best name evidence."""
    hits: dict[str, _Hit] = defaultdict(_Hit)
    factor = params.partial_factor
    keys = [(query.key, False)] + [(w, True) for w in query.words]
    for key, from_word in keys:
        if not key:
            continue
        for number, similarity in _kana_hits(key, index, params):
            for entry in index.kana_entries[number]:
                if from_word and not entry.partial:
                    entry = dataclasses.replace(entry, partial=True)
                exact = similarity >= 1.0 and entry.script == "Kana"
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
    return hits


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
    query: Query, index: Index, params: ReconcileParams, hits: dict[str, _Hit]
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


def _latin_similarity(query: Query, place_id: str, index: Index) -> float:
    names = index.latin_by_place.get(place_id, ())
    best = 0.0
    # Romaji is a weak form of the name (habarofusuku) but it is all a raw cell may give.
    for lat in (*query.latin[:2], query.romaji):
        if not lat:
            continue
        found = process.extractOne(fold_latin(lat), names, scorer=fuzz.ratio)
        if found is not None:
            best = max(best, found[1] / 100.0)
    return best


def hinted_regions(hint: str, index: Index) -> tuple[Region, ...]:
    """The 1945 units a region hint names, the most specific ones.

    The hint is the katakana prefix of a cell (チタ州…) and/or a raw file's
    ``region`` column in English 1945 terms, joined by ``|``: "Karaganda Oblast,
    Kazakh SSR", "Khabarovsk Krai (Amur Oblast)". A whole form is looked up first,
    then each part (at commas, brackets, slashes); a unit that contains another
    named unit gives way to it (Amur Oblast, not all of Khabarovsk Krai).
    """
    if not hint.strip():
        return ()
    ids: list[str] = []
    for item in split_list(hint) or (hint,):
        found = [r for key in _region_keys_of(item) for r in index.region_keys.get(key, ())]
        if found:
            ids.extend(found)
            continue
        for part in re.split(r"[・,()/;]", item):
            for key in _region_keys_of(part, bare=True):
                ids.extend(index.region_keys.get(key, ()))
    regions = [index.gazetteer.regions[r] for r in dict.fromkeys(ids)]
    return tuple(r for r in regions if not any(_contains(r, other) for other in regions))


def _region_keys_of(text: str, bare: bool = False) -> list[str]:
    """Look-up keys of one region form: katakana/kanji by match_key, Latin folded."""
    if not text.strip():
        return []
    if script_of(text) == "Latn":
        return [k for k in (fold_latin(text), latin_region_key(text) if bare else "") if k]
    return [k for k in (match_key(text),) if k]


def _contains(outer: Region, inner: Region) -> bool:
    """Whether ``outer`` is a larger unit that holds all of ``inner``."""
    if outer.region_id == inner.region_id or outer.country != inner.country:
        return False
    if "*" in inner.admin1_codes:
        return False
    return "*" in outer.admin1_codes or set(inner.admin1_codes) < set(outer.admin1_codes)


def _inside(place: Place, region: Region, regions: Mapping[str, Region]) -> bool:
    """Whether a place lay inside a 1945 unit: by its region, its admin1, else by distance.

    A place with a known admin1 is inside or outside by its code: the radius of a
    unit as large as Khabarovsk Krai would take in half of Primorye.
    """
    if place.region_id and place.region_id == region.region_id:
        return True
    own = regions.get(place.region_id)
    if own is not None and _contains(region, own):
        return True
    if place.admin1 and region.admin1_codes:
        return region.covers(place.country, place.admin1)
    if place.country and region.country and place.country != region.country:
        return False
    if (
        place.lat is None
        or place.lon is None
        or region.lat is None
        or region.lon is None
        or region.radius_km is None
    ):
        return False
    return haversine_km(place.lat, place.lon, region.lat, region.lon) <= region.radius_km


_FEATURE_TYPES = {
    "駅": ("station",),
    "炭鉱": ("mine", "coal mine"),
    "鉱山": ("mine",),
    "市": ("city", "town", "populated place"),
    "町": ("town", "populated place", "settlement"),
    "村": ("village", "populated place", "settlement"),
}


def _feature_type_value(hint: str, place: Place) -> float:
    """+1 when a feature word agrees with the place's type, -1 when it contradicts, else 0."""
    wanted = [t for word in split_list(hint) for t in _FEATURE_TYPES.get(word, ())]
    if not wanted or not place.feature_type:
        return 0.0
    kind = place.feature_type.lower()
    return 1.0 if any(w in kind for w in wanted) else -1.0


def score_hits(
    query: Query, hits: Mapping[str, _Hit], index: Index, params: ReconcileParams
) -> list[Candidate]:
    """Turn gathered evidence into ranked, scored candidates (best first)."""
    regions = hinted_regions(query.region_hint, index)
    ranked = sorted(hits.items(), key=lambda item: (-item[1].evidence, item[0]))
    out = []
    kept = ranked[: max(4 * params.top_k, 20)]
    uniques = _unique(kept, index, params)
    for (place_id, hit), unique in zip(kept, uniques, strict=True):
        place = index.gazetteer.places[place_id]
        latin = _latin_similarity(query, place_id, index)
        evidence = max(hit.evidence, 0.9 * sharpen(latin))
        region = 0.0
        if regions:
            inside = any(_inside(place, r, index.gazetteer.regions) for r in regions)
            region = 1.0 if inside else -1.0
        features = (
            (Feature.NAME_EXACT, hit.exact),
            (Feature.KANA, hit.kana),
            (Feature.LATIN, latin),
            (Feature.PARTIAL, 1.0 if hit.partial else 0.0),
            (Feature.SOVIET_NAME, 1.0 if hit.period else 0.0),
            (Feature.REGION, region),
            (Feature.FEATURE_TYPE, _feature_type_value(query.feature_hint, place)),
            (Feature.POPULATION, population_prior(place.population)),
            (Feature.CURATED, 1.0 if place.curated else 0.0),
            (Feature.UNIQUE, unique),
        )
        z = (
            params.bias
            + params.weight_name * evidence
            + params.weight_region * region
            + params.weight_population * population_prior(place.population)
            + params.weight_curated * place.curated
            + params.weight_soviet_name * bool(hit.period)
            + params.weight_feature_type * _feature_type_value(query.feature_hint, place)
            + params.weight_unique * unique
        )
        out.append(Candidate(place_id, place.name, logistic(z), features, hit.matched, evidence))
    out.sort(key=lambda c: (-c.score, c.place_id))
    return out


def _unique(kept: Sequence[tuple[str, _Hit]], index: Index, params: ReconcileParams) -> list[float]:
    """1 for a place whose name evidence no distant place comes near, else 0.

    An exact match on a name that one place alone bears (Провидения) is surer
    than the same match shared with far-off namesakes or near readings; the
    decision still looks at rivals, this lets the score say so.
    """
    places = index.gazetteer.places
    out = []
    for place_id, hit in kept:
        rivals = (
            other
            for other_id, other in kept
            if other_id != place_id
            and other.evidence >= hit.evidence - params.unique_gap
            and _distance(places[place_id], places[other_id]) > params.rival_km
        )
        out.append(0.0 if any(True for _ in rivals) else 1.0)
    return out


def candidates(query: Query, index: Index, params: ReconcileParams) -> list[Candidate]:
    """Ranked candidates for one query."""
    return score_hits(query, gather(query, index, params), index, params)


def _distance(a: Place, b: Place) -> float:
    if None in (a.lat, a.lon, b.lat, b.lon):
        return math.inf
    return haversine_km(a.lat, a.lon, b.lat, b.lon)  # type: ignore[arg-type]


def decide(ranked: Sequence[Candidate], index: Index, params: ReconcileParams) -> Decision:
    """``auto`` only for a high score with no distant rival close behind.

    A rival is a different place more than ``rival_km`` away whose score is within
    ``auto_margin`` of the best, or whose name fits as well while no region hint
    sets the two apart: the same name in several regions is for a human.
    """
    if not ranked or ranked[0].score < params.review_threshold:
        return Decision.UNRESOLVED
    best = ranked[0]
    if best.score < params.auto_threshold:
        return Decision.REVIEW
    places = index.gazetteer.places
    confirmed = best.feature(Feature.REGION) > 0
    for other in ranked[1:]:
        if _distance(places[best.place_id], places[other.place_id]) <= params.rival_km:
            continue
        if other.score >= best.score - params.auto_margin:
            return Decision.REVIEW
        same_name = other.evidence >= best.evidence - 0.02
        if same_name and not confirmed and other.feature(Feature.REGION) >= 0:
            return Decision.REVIEW
    return Decision.AUTO


# --------------------------------------------------------------------------- the stage


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The reconcile columns of one row."""

    place_id: str
    place_name: str
    score: float
    decision: Decision
    candidates: tuple[Candidate, ...]

    def columns(self) -> dict[str, str]:
        """The row's values for RECONCILE_COLUMNS."""
        matched = self.decision in (Decision.AUTO, Decision.OVERRIDE)
        shown = [c.as_w3c(matched and c.place_id == self.place_id) for c in self.candidates]
        return {
            "place_id": self.place_id,
            "place_name": self.place_name,
            "score": f"{self.score:.4f}",
            "decision": str(self.decision),
            "candidates": json.dumps(shown, ensure_ascii=False),
        }


def resolve(query: Query, index: Index, params: ReconcileParams) -> Outcome:
    """Rank and decide one query (no overrides)."""
    ranked = candidates(query, index, params)
    decision = decide(ranked, index, params)
    if decision is Decision.AUTO and _foreign_namesake(query, ranked[0], index):
        decision = Decision.REVIEW
    top = tuple(ranked[: params.top_k])
    if decision is Decision.UNRESOLVED or not top:
        return Outcome("", "", top[0].score if top else 0.0, Decision.UNRESOLVED, top)
    return Outcome(top[0].place_id, top[0].name, top[0].score, decision, top)


def _foreign_namesake(query: Query, best: Candidate, index: Index) -> bool:
    """Whether the name is the usual katakana of a larger place outside the area.

    ベルリン is Berlin before it is the Russian village of Berlin (613 people):
    such a name goes to a human, never to ``auto``.
    """
    foreign = index.foreign_keys.get(query.key, 0)
    return foreign > index.gazetteer.places[best.place_id].population


def apply_override(
    outcome: Outcome, override: Override, index: Index, params: ReconcileParams
) -> Outcome:
    """A manual decision wins: accept ties the row, reject drops one candidate or all."""
    if override.accept:
        place = index.gazetteer.places.get(override.place_id)
        name = place.name if place else override.note
        return Outcome(override.place_id, name, 1.0, Decision.OVERRIDE, outcome.candidates)
    if not override.place_id:
        return Outcome("", "", 0.0, Decision.UNRESOLVED, outcome.candidates)
    kept = [c for c in outcome.candidates if c.place_id != override.place_id]
    if not kept or kept[0].score < params.review_threshold:
        return Outcome("", "", kept[0].score if kept else 0.0, Decision.UNRESOLVED, tuple(kept))
    # A human said no to the first choice: the next one is never taken without a look.
    return Outcome(kept[0].place_id, kept[0].name, kept[0].score, Decision.REVIEW, tuple(kept))


def _query_of_row(row: Row, has_columns: bool, params: ReconcileParams) -> Query:
    # The raw file's region column (English, 1945 terms) adds to the katakana prefix.
    column = row.get("region", "").strip()
    if not has_columns:
        hint = "|".join(h for h in (split_name(row["katakana"]).region_hint, column) if h)
        return make_query(row["katakana"], region_hint=hint, top_k=params.top_k)
    return make_query(
        row["katakana"],
        region_hint="|".join(h for h in (row.get("region_hint", ""), column) if h),
        cyrillic=split_list(row.get("cyrillic_candidates", "")),
        latin=split_list(row.get("latin_candidates", "")),
        romaji=row.get("romaji", ""),
    )


def reconcile_rows(
    rows: Sequence[Row],
    index: Index,
    overrides: Sequence[Override],
    params: ReconcileParams,
    has_columns: bool = True,
) -> dict[str, int]:
    """Fill the reconcile columns of ``rows`` in place; return counts per decision.

    Each distinct query (name, hint, transliterations) is matched once.
    """
    queries = [_query_of_row(row, has_columns, params) for row in rows]
    cache = resolve_all(list(dict.fromkeys(queries)), index, params)
    counts = {str(d): 0 for d in Decision}
    columns: dict[Query, dict[str, str]] = {}  # the candidates' JSON, once per distinct name
    for row, query in zip(rows, queries, strict=True):
        outcome = cache[query]
        override = ov.find(overrides, row.get("record_id", ""), ov.key_of(row["katakana"]))
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


_WORKER: dict[str, Any] = {}


def _resolve_chunk(chunk: list[Query]) -> list[Outcome]:
    return [resolve(query, _WORKER["index"], _WORKER["params"]) for query in chunk]


def resolve_all(
    queries: Sequence[Query], index: Index, params: ReconcileParams
) -> dict[Query, Outcome]:
    """Resolve distinct queries, on ``params.workers`` processes for big inputs.

    Forked workers inherit the index built by this process, so none builds its own.
    """
    started = time.perf_counter()
    workers = params.workers if len(queries) >= params.parallel_min else 1
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        outcomes = _resolve_chunk_with(queries, index, params)
    else:
        _WORKER.update(index=index, params=params)
        size = max(200, len(queries) // (workers * 8))
        chunks = [list(queries[i : i + size]) for i in range(0, len(queries), size)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            outcomes = []
            for number, done in enumerate(pool.imap(_resolve_chunk, chunks), start=1):
                outcomes.extend(done)
                logger.info("reconcile: %d/%d chunks", number, len(chunks))
        _WORKER.clear()
    logger.info(
        "reconcile: %d distinct names on %d process(es) in %.1f s",
        len(queries),
        workers,
        time.perf_counter() - started,
    )
    return dict(zip(queries, outcomes, strict=True))


def _resolve_chunk_with(
    queries: Sequence[Query], index: Index, params: ReconcileParams
) -> list[Outcome]:
    outcomes = []
    for number, query in enumerate(queries, start=1):
        outcomes.append(resolve(query, index, params))
        if number % 5000 == 0:
            logger.info("reconcile: %d/%d distinct names", number, len(queries))
    return outcomes


def run(
    input_path: Path,
    output_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    params: ReconcileParams,
    encoding: str | None = None,
) -> dict[str, int]:
    """Reconcile a transliterated (or raw) CSV; keep every column and row; write atomically.

    Returns
    -------
    dict
        Rows per decision and the number of distinct names matched.
    """
    columns, rows = read_csv(
        Path(input_path), required=("katakana",), encoding=encoding, min_rows=1
    )
    has_columns = "cyrillic_candidates" in columns
    if not has_columns:
        logger.info("%s has no transliterate columns: computing them here", input_path)
    problems = assign_record_ids(rows, str(input_path))
    if problems:
        raise InputDataError(problems[0])
    index = get_index(Path(gazetteer_dir))
    overrides = ov.read(Path(overrides_path), index.gazetteer.places)
    started = time.perf_counter()
    counts = reconcile_rows(rows, index, overrides, params, has_columns)
    logger.info("reconcile: %d rows in %.1f s", len(rows), time.perf_counter() - started)
    out_columns = merge_columns(merge_columns(columns, ["record_id"]), RECONCILE_COLUMNS)
    write_csv(Path(output_path), out_columns, rows)
    return {"rows": len(rows), **counts}


# --------------------------------------------------------------------------- lookup


def lookup(
    name: str,
    gazetteer_dir: Path,
    overrides_path: Path,
    params: ReconcileParams,
    top: int = 10,
    as_json: bool = False,
) -> str:
    """Ranked candidates with their per-feature values for one name (``camps lookup``).

    An override by katakana is applied and shown, as the stage would.
    """
    if top < 1:
        raise ParamsError(f"--top must be at least 1, got {top}")
    if not name.strip():
        raise ParamsError("NAME is empty: give a katakana name such as ライチハ")
    index = get_index(Path(gazetteer_dir))
    overrides = ov.read(Path(overrides_path), index.gazetteer.places)
    wide = dataclasses.replace(params, top_k=top)
    query = make_query(name, top_k=params.top_k)
    outcome = resolve(query, index, wide)
    override = ov.find(overrides, "", ov.key_of(name))
    if override is not None:
        outcome = apply_override(outcome, override, index, wide)
    if as_json:
        payload: dict[str, Any] = {
            "query": name,
            "key": query.key,
            "region_hint": query.region_hint,
            "cyrillic_candidates": list(query.cyrillic),
            **outcome.columns(),
        }
        payload["score"] = round(outcome.score, 4)
        payload["candidates"] = json.loads(outcome.columns()["candidates"])
        return json.dumps(payload, ensure_ascii=False, indent=2)
    return _lookup_table(name, query, outcome, index)


def _lookup_table(name: str, query: Query, outcome: Outcome, index: Index) -> str:
    head = (
        f"{name}: decision {outcome.decision}, place {outcome.place_id or '-'} "
        f"{outcome.place_name}, score {outcome.score:.2f}"
    )
    lines = [head, f"  key {query.key}; Cyrillic guesses: {', '.join(query.cyrillic) or '-'}"]
    if query.region_hint:
        regions = hinted_regions(query.region_hint, index)
        found = ", ".join(r.region_id for r in regions) or "no region of regions.csv"
        lines.append(f"  region hint {query.region_hint} -> {found}")
    if not outcome.candidates:
        lines.append("  no candidate: nothing in the gazetteer is near this name")
        return "\n".join(lines)
    short = {
        Feature.NAME_EXACT: "exact",
        Feature.KANA: "kana",
        Feature.LATIN: "latin",
        Feature.PARTIAL: "part",
        Feature.SOVIET_NAME: "sov",
        Feature.REGION: "region",
        Feature.FEATURE_TYPE: "type",
        Feature.POPULATION: "pop",
        Feature.CURATED: "cur",
        Feature.UNIQUE: "uniq",
    }
    header = f"  {'#':>2} {'score':>5}  {'place_id':<22} {'name':<24}" + "".join(
        f" {short[f]:>6}" for f in Feature
    )
    lines.append(header)
    for rank, cand in enumerate(outcome.candidates, start=1):
        values = dict(cand.features)
        lines.append(
            f"  {rank:>2} {cand.score:5.2f}  {cand.place_id:<22} {cand.name[:24]:<24}"
            + "".join(f" {values[f]:6.2f}" for f in Feature)
            + f"  {cand.matched}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- review


def _parse_accept(text: str) -> tuple[str, str]:
    record_id, sep, place_id = text.partition("=")
    if not sep or not record_id.strip() or not place_id.strip():
        raise ParamsError(
            f"--accept {text!r}: write RECORD_ID=PLACE_ID, e.g. r-1a2b3c4d5e=gn:2017487"
        )
    return record_id.strip(), place_id.strip()


def review(
    input_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    list_only: bool,
    accepts: Sequence[str],
    rejects: Sequence[str],
    note: str = "",
    source: str = "",
    today: datetime.date | None = None,
) -> str:
    """List the review queue, or record accepts and rejects into overrides.csv.

    Each recorded decision replaces an earlier one for the same record and is
    written atomically, so a crash leaves the old overrides file whole.
    """
    if list_only and (accepts or rejects):
        raise ParamsError("--list only lists: drop --accept/--reject, or drop --list to record")
    _, rows = read_csv(Path(input_path), required=("record_id", "katakana", "decision"))
    if not accepts and not rejects:
        return _queue(rows, Path(input_path))
    index = get_index(Path(gazetteer_dir))
    by_id = {row["record_id"]: row for row in rows}
    new: list[Override] = []
    created = (today or datetime.date.today()).isoformat()
    wanted = [(*_parse_accept(a), "accept") for a in accepts] + [
        (r.strip(), "", "reject") for r in rejects
    ]
    for record_id, place_id, decision in wanted:
        if record_id not in by_id:
            raise ParamsError(
                f"{record_id}: no row with this record_id in {input_path}: "
                "pick one from `camps review --list`"
            )
        if place_id and place_id not in index.gazetteer.places:
            raise ParamsError(
                f"{place_id}: not a place id of {gazetteer_dir}/places.csv: pick one from the "
                "row's candidates or from `camps lookup NAME`"
            )
        cells = {
            "record_id": record_id,
            "katakana": by_id[record_id]["katakana"],
            "place_id": place_id,
            "decision": decision,
            "note": note,
            "source": source,
            "created": created,
        }
        override, problems = ov.parse(cells, Path(overrides_path), places=index.gazetteer.places)
        if override is None:
            raise ParamsError("\n".join(problems))
        new.append(override)
    # Refuse to rewrite a file that is already broken; keep every column it has.
    existing = ov.read(Path(overrides_path), index.gazetteer.places)
    ov.write(Path(overrides_path), ov.replace(existing, new), ov.header(Path(overrides_path)))
    counts = f"{len(accepts)} accept(s), {len(rejects)} reject(s)"
    return f"recorded {counts} into {overrides_path}; rerun `camps reconcile` to apply them"


def _queue(rows: Sequence[Row], path: Path) -> str:
    queue = [row for row in rows if row["decision"] == Decision.REVIEW]
    if not queue:
        return f"{path}: the review queue is empty"
    lines = [f"{path}: {len(queue)} row(s) to review"]
    for row in queue:
        lines.append(f"{row['record_id']}  {row['katakana']}  score {row.get('score', '')}")
        try:
            shown = json.loads(row.get("candidates") or "[]")
        except json.JSONDecodeError:
            raise InputDataError(
                f"{path}: record {row['record_id']}, column candidates: not JSON: "
                "rerun `camps reconcile` to rebuild it"
            ) from None
        for cand in shown:
            lines.append(f"    {cand['id']:<22} {cand['name']:<28} {cand['score']:.2f}")
    lines.append("record: camps review --accept RECORD_ID=PLACE_ID | --reject RECORD_ID")
    return "\n".join(lines)


# --------------------------------------------------------------------------- bench

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
    folder = Path(gazetteer_dir) if gazetteer_dir else Path(__file__).parents[1] / "gazetteer/build"
    params = ReconcileParams()
    started = time.perf_counter()
    index = get_index(folder)
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
