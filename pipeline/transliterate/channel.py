"""The transcription channel: how each kana unit may be read in Cyrillic, and at what cost.

:func:`options` reads the forward tables of :mod:`pipeline.names.cyrillic`
backwards and adds the older and rarer readings with hand-set costs (the same
for every model); :func:`learn_channel` re-estimates the costs on the katakana
and Russian names of a model's training places.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

# The by-ear rewrites live in pipeline.names (reconcile uses them too); re-exported here.
from pipeline.names.byear import SOUND_RULES as SOUND_RULES
from pipeline.names.byear import by_ear_keys as by_ear_keys
from pipeline.names.cyrillic import BARE, KANA_ROWS, SOFT

#: Kana unit → (Cyrillic chunk, its model form with ё as е, cost), cheapest first.
Channel = dict[str, tuple[tuple[str, str, float], ...]]

SLOT_VOWELS = ("а", "е", "и", "о", "у", "ы", "я", "ю", "ё")


@functools.lru_cache(maxsize=1)
def options() -> dict[str, tuple[tuple[str, float], ...]]:
    """Kana unit → (Cyrillic chunk, cost): the forward tables read backwards, plus variants.

    Costs are negative log-weights: 0 for the standard reading, more for the
    older or rarer ones (バ for в, ワ for ва, シエ for ше).
    """
    table: dict[str, dict[str, float]] = defaultdict(dict)

    def add(kana: str, cyr: str, cost: float) -> None:
        if kana and (cyr not in table[kana] or table[kana][cyr] > cost):
            table[kana][cyr] = cost

    for cons, row in KANA_ROWS.items():
        for slot, vowel in enumerate(SLOT_VOWELS):
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
SMALL_KANA = frozenset("ァィゥェォャュョ")
_SPLIT_SYLLABLE_COST = 3.0


def align(
    kana: str, target: str, options: dict[str, tuple[tuple[str, float], ...]], longest: int
) -> list[tuple[str, str]] | None:
    """The cheapest segmentation of ``kana`` into options that spells ``target``, or None.

    >>> align("ハバロフスク", "хабаровск", options(), max_unit())
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


def learn_channel(pairs: Iterable[tuple[str, str]]) -> Channel:
    """Kana unit → (Cyrillic chunk, its model form, cost), costs learned from training pairs.

    Each training pair (a katakana and a Russian name of one training place) is
    aligned with the hand-set options; the cost of writing Cyrillic chunk c as
    kana u becomes -log P(u | c), smoothed towards the hand-set costs. This is
    the channel of a noisy-channel model: the 5-gram model supplies P(c), so the
    choice ル → л or р is left to it, while how often в is written フ rather than
    ヴ is counted. ``pairs`` come from
    :meth:`pipeline.transliterate.corpus.Corpus.training_pairs`, so held-out places never enter.
    """
    table = options()
    longest = max_unit()
    used: Counter[tuple[str, str]] = Counter()
    for kana, target in pairs:
        used.update(align(kana, target, table, longest) or ())
    per_chunk: Counter[str] = Counter()
    for (_, cyr), count in used.items():
        per_chunk[cyr] += count
    channel: Channel = {}
    for unit, choices in table.items():
        z = sum(math.exp(-cost) for _, cost in choices)
        row = []
        for cyr, cost in choices:
            prior = _PRIOR_WEIGHT * math.exp(-cost) / z
            share = (used[unit, cyr] + prior) / (per_chunk[cyr] + _PRIOR_WEIGHT)
            cost = -math.log(share)
            if unit in SMALL_KANA:  # a small kana read alone splits a syllable (シ+ェ)
                cost = max(cost, _SPLIT_SYLLABLE_COST)
            row.append((cyr, cyr.replace("ё", "е"), cost))
        channel[unit] = tuple(sorted(row, key=lambda item: item[2]))
    return channel


@functools.lru_cache(maxsize=1)
def max_unit() -> int:
    return max(len(k) for k in options())


@functools.lru_cache(maxsize=100_000)
def spells(kana: str, known: str) -> bool:
    """Whether the transcription options can read ``kana`` as ``known``.

    Spaces and hyphens are ignored, and so are doubled letters, which katakana
    writes once (スパスク for Спасск).

    >>> spells("ボロシロフ", "Ворошилов"), spells("スパスク", "Спасск")
    (True, True)
    >>> spells("ヴォルホフ", "Болхов")
    False
    """
    target = re.sub(r"(.)\1", r"\1", re.sub(r"[\s\-]", "", known.lower().replace("ё", "е")))
    return readable(kana.replace("・", ""), target, chunks(), max_unit())


@functools.lru_cache(maxsize=1)
def chunks() -> dict[str, tuple[str, ...]]:
    """Kana unit → the distinct Cyrillic chunks of its :func:`options`, ё as е."""
    return {
        unit: tuple(dict.fromkeys(cyr.replace("ё", "е") for cyr, _ in choices))
        for unit, choices in options().items()
    }


def readable(kana: str, target: str, chunks: dict[str, tuple[str, ...]], longest: int) -> bool:
    """Whether :func:`align` finds a segmentation (``chunks`` from :func:`chunks`).

    The same graph as :func:`align`'s (kana position, target position), searched
    depth first for any path instead of the cheapest: it visits only the pairs
    that a prefix of ``target`` reaches and stops at the first full reading, where
    the costed table walks every pair (``lexicon.hits`` asks this for each exact key).

    >>> readable("ボロシロフ", "ворошилов", chunks(), max_unit())
    True
    >>> readable("ヴォルホフ", "болхов", chunks(), max_unit())
    False
    """
    n, m = len(kana), len(target)
    seen = {(0, 0)}
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if i == n:
            if j == m:
                return True
            continue
        for end in range(i + 1, min(i + longest, n) + 1):
            for chunk in chunks.get(kana[i:end], ()):
                if target.startswith(chunk, j):
                    pair = (end, j + len(chunk))
                    if pair not in seen:
                        seen.add(pair)
                        todo.append(pair)
    return False
