"""The gazetteer prepared for matching: exact maps per script and a kana bigram index.

Built once from a loaded gazetteer (:func:`build_index`, or :func:`load_index` from
a built folder) and passed to every query: no module keeps one.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from pipeline.artifacts import paused_gc
from pipeline.names import (
    REGION_WORD_RE,
    fold_cyrillic,
    fold_latin,
    kana_of_cyrillic,
    match_key,
)
from pipeline.places import Gazetteer, load
from pipeline.reconcile.model import PACKAGED, ScoreModel
from pipeline.reconcile.model import load as load_model
from pipeline.records import period_rank

logger = logging.getLogger(__name__)


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

    Built once per gazetteer (:func:`build_index`, :func:`load_index`) and passed in.
    """

    gazetteer: Gazetteer
    kana_keys: tuple[str, ...]
    kana_entries: Sequence[tuple[NameEntry, ...]]
    key_ids: Mapping[str, int]
    postings: Mapping[str, np.ndarray]
    cyrillic: Mapping[str, tuple[NameEntry, ...]]
    latin: Mapping[str, tuple[NameEntry, ...]]
    latin_by_place: Mapping[str, tuple[str, ...]]
    region_keys: Mapping[str, tuple[str, ...]]
    latin_keys: tuple[str, ...] = ()
    #: kana key -> population of the largest foreign place with that katakana name
    foreign_keys: Mapping[str, int] = dataclasses.field(default_factory=dict)
    #: the learned score (None: features only, as ``camps calibrate`` needs them)
    model: ScoreModel | None = None
    #: :func:`~pipeline.reconcile.matching.kana_hits` of each kana key asked, by
    #: (key, block_size, fuzzy_floor): filled as names are matched, since the spellings
    #: of a register share keys (100,000 rows: 26,764 distinct names, 13,109 keys)
    near_keys: dict[tuple[str, int, float], tuple[tuple[int, float], ...]] = dataclasses.field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    #: the kana keys as an array (numpy picks a block of them at once) and their lengths
    #: (a key too short or too long for ``fuzzy_floor`` is never compared)
    key_array: np.ndarray = dataclasses.field(init=False, compare=False, repr=False)
    key_lengths: np.ndarray = dataclasses.field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        keys = np.array(self.kana_keys, dtype=object)
        object.__setattr__(self, "key_array", keys)
        lengths = np.fromiter(map(len, self.kana_keys), dtype=np.int64, count=len(keys))
        object.__setattr__(self, "key_lengths", lengths)


def _kana_forms(name: str, script: str) -> list[tuple[str, bool]]:
    """Katakana keys of a gazetteer name: the whole name and, for compounds, each word.

    A kanji exonym of the period (伯力, 浦塩斯徳) is keyed as written: a register in
    kanji matches it exactly.
    """
    if script in ("Kana", "Hani"):
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


#: What matching derives from one gazetteer name (see :func:`derive`): its kana keys
#: with the partial flag, and its folded Cyrillic or Latin key ("" for none).
Derived = tuple[list[tuple[str, bool]], str]


def derive(name: str, script: str) -> Derived:
    """The keys of one gazetteer name: the costly part of :func:`build_index`, saved once.

    >>> derive("Чита", "Cyrl")
    ([('チタ', False)], 'чита')
    """
    if script == "Cyrl":
        folded = fold_cyrillic(name)
    elif script == "Latn" and not is_code(name):
        folded = fold_latin(name)
    else:
        folded = ""
    return _kana_forms(name, script), folded


def build_index(gazetteer: Gazetteer, model: ScoreModel | Path | None = PACKAGED) -> Index:
    """Prepare a loaded gazetteer for matching (a few seconds for the whole area).

    :func:`load_index` loads the result saved by :mod:`pipeline.reconcile.artifact`.
    ``model`` is the score model or the file to load it from (by default the
    packaged one); ``None`` builds an index that gives features but no scores.
    """
    if isinstance(model, Path):
        model = load_model(model)
    started = time.perf_counter()
    kana: dict[str, dict[tuple[str, bool], NameEntry]] = defaultdict(dict)
    cyrillic: dict[str, list[NameEntry]] = defaultdict(list)
    latin: dict[str, list[NameEntry]] = defaultdict(list)
    latin_by_place: dict[str, dict[str, None]] = defaultdict(dict)
    for item in gazetteer.names:
        if item.place_id not in gazetteer.places:
            continue
        whole = NameEntry(item.place_id, item.name, item.script, item.period, False)
        name_forms, folded = derive(item.name, item.script)
        for key, partial in name_forms:
            entry = dataclasses.replace(whole, partial=partial)
            slot = kana[key]
            known = slot.get((item.place_id, partial))
            if known is None or period_rank(entry.period) > period_rank(known.period):
                slot[(item.place_id, partial)] = entry
        if item.script == "Cyrl":
            cyrillic[folded].append(whole)
        elif item.script == "Latn" and folded:
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
        model=model,
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


def load_index(gazetteer_dir: Path, model: ScoreModel | Path | None = PACKAGED) -> Index:
    """Load a built gazetteer folder and its index, both from the cache once saved.

    ``model`` as in :func:`build_index` (the saved index holds no score model).
    """
    from pipeline.reconcile.artifact import cached_index  # it imports this module

    with paused_gc():  # 120,000 names and their entries: see paused_gc
        return cached_index(load(Path(gazetteer_dir)), model=model)
