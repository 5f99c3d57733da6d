"""Spellings by ear: the sound changes of spoken Russian as Japanese wrote them down.

A register's カクイ is Кокуй heard with akanye, its ペガワト is Беговат heard with
akanye and a ペ/ベ slip, its コムツモール is Комсомол(ьск) with ツ set for ソ and the
-ск dropped. Both stages need the rewrites: transliterate offers the lexicon names
they reach, reconcile looks the gazetteer's own names up by them (a curated
historical name such as Беговат is in no lexicon). Pure functions of strings.
"""

from __future__ import annotations

import functools
from collections import defaultdict

_A_COL, _O_COL = "アカガサザタダナハバパマヤラ", "オコゴソゾトドノホボポモヨロ"
_I_COL, _E_COL = "イキギシジチニヒビピミリ", "エケゲセゼテネヘベペメレ"
_U_COL = "ブムルスクプフズグツヌ"


def _pairs(a: str, b: str) -> list[tuple[str, str]]:
    return list(zip(a, b, strict=True))


def _both_ways(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return pairs + [(new, old) for old, new in pairs]


#: The sound changes of spoken Russian as Japanese heard them, as rewrites of a match
#: key (:func:`pipeline.names.match_key`: small kana large, ヴ as ブ, ワ as バ): what
#: the ear wrote → how the dictionary spells it. One name per rule, so that each can
#: be tested (and switched off) on its own.
SOUND_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    # unstressed о spoken [a]: カクイ for Кокуй (コクイ), マルシャンスク for Моршанск
    "akanye": tuple(_pairs(_A_COL, _O_COL)),
    # unstressed е, я spoken [i]: シフタマ for Шахтама (シャフタマ), リニングラード
    "ikanye": tuple(_pairs(_I_COL, _E_COL) + [(k, k + "ヤ") for k in _I_COL[1:]]),
    # a voiced consonant heard voiceless (final, before a voiceless one): キスネル (Кизнер)
    "devoicing": tuple(_pairs("トクスシプフ", "ドグズジブブ")),
    # ё printed е, read either way: アルテム and アルチョム for Артём
    "yo_ye": tuple(
        _both_ways([(e, i + "ヨ") for i, e in zip(_I_COL[1:], _E_COL[1:], strict=True)])
    ),
    # ы heard as イ, и heard as ウイ: クイビシェフ, ルイ for ли
    "y_i": tuple(_both_ways([(i, u + "イ") for i, u in _pairs("ビミリキピ", "ブムルクプ")])),
    # a cluster heard whole, broken or lost: ст as ス, щ (シチ) as シ, a lost vowel kana
    "clusters": (("ス", "スト"), ("シ", "シチ"), ("スト", "ス")),
    # listening slips between near sounds: セ/シェ, ス/シ, ツ/ス/チ, ブ/ボ, ペ/ベ, パ/バ
    "slips": (
        *_both_ways([("セ", "シエ"), ("ス", "シ"), ("ツ", "ス"), ("ツ", "チ"), ("ブ", "ボ")]),
        *[("ペ", "ベ"), ("パ", "バ"), ("ポ", "ボ"), ("ピ", "ビ"), ("プ", "ブ")],
    ),
    # kana that look alike in a hand-written or typeset register, set one for the
    # other: ツ/ソ, ツ/シ, ソ/ン (コムツモール for Комсомол(ьск), the Diet minutes of 1950)
    "lookalike": tuple(_both_ways([("ツ", "ソ"), ("ツ", "シ"), ("ン", "ソ")])),
}


@functools.lru_cache(maxsize=8)
def _rewrites(rules: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Heard kana → the dictionary kana it may stand for, under ``rules``."""
    table: dict[str, list[str]] = defaultdict(list)
    for rule in rules:
        for heard, meant in SOUND_RULES[rule]:
            table[heard].append(meant)
    return {heard: tuple(dict.fromkeys(meant)) for heard, meant in table.items()}


def by_ear_keys(key: str, rules: tuple[str, ...] | None = None, depth: int = 2) -> dict[str, int]:
    """Keys a by-ear spelling may stand for, each with the number of sound changes used.

    Every change rewrites one kana (or two: シエ, スト) of the match key ``key``
    by one of the ``rules`` (names of :data:`SOUND_RULES`; None: all); up to
    ``depth`` changes are combined (ペガワト → ベゴワト for Беговат takes two).

    >>> keys = by_ear_keys("カクイ")
    >>> keys["コクイ"], "カクイ" in keys
    (1, False)
    >>> by_ear_keys("タイセト", ("slips",))["タイシエト"]
    1
    """
    table = _rewrites(tuple(SOUND_RULES) if rules is None else rules)
    found: dict[str, int] = {}
    frontier = [key]
    for step in range(1, depth + 1):
        nxt = []
        for text in frontier:
            for i in range(len(text)):
                for width in (1, 2):
                    heard = text[i : i + width]
                    for meant in table.get(heard, ()) if len(heard) == width else ():
                        new = text[:i] + meant + text[i + width :]
                        if new != key and new not in found:
                            found[new] = step
                            nxt.append(new)
        frontier = nxt
    return found


#: Shortest key a truncation is looked up for: コムソモル (5) is a word, チタ is not.
TRUNCATED_MIN = 5


def completed_keys(key: str) -> tuple[str, ...]:
    """Keys of the names a truncated spelling may stand for: the -ск/-ский suffix put back.

    A listener or a clerk wrote the word a town is named after and dropped the
    suffix that makes it a town's name: コムツモール for Комсомольск (Комсомол + ьск),
    a final ル being ль (リ before a consonant). Only keys of :data:`TRUNCATED_MIN`
    kana or more: a short word is too many names' stem.

    >>> completed_keys("コムソモル")
    ('コムソモルスク', 'コムソモリスク', 'コムソモルスキ', 'コムソモリスキ')
    >>> completed_keys("チタ")
    ()
    """
    if len(key) < TRUNCATED_MIN:
        return ()
    stems = [key] + ([key[:-1] + "リ"] if key.endswith("ル") else [])
    return tuple(stem + suffix for suffix in ("スク", "スキ") for stem in stems)
