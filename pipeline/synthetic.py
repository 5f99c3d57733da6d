"""One generator of synthetic names for every benchmark: how registers spell names.

Real registers (the 41,362 names of Japan's register of the dead, the ~700,000
Soviet registration cards) repeat a few thousand place names many times, in many
spellings. :func:`misspell` makes one hand-written spelling of a name (long vowels
dropped or added, ヴ for ブ, a stray ッ, a region prefix, half-width kana);
:func:`distinct_spellings` makes ``n`` distinct names from a list of correct ones.
``camps bench`` (whole registers), the transliteration bench and the reconcile
bench all draw from here, so their figures speak of the same kind of input.

Imports nothing from the pipeline.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence

REGION_PREFIXES = ("チタ州", "ハバロフスク地方", "沿海地方", "イルクーツク州", "カザフ共和国")


def _halfwidth_table() -> dict[str, str]:
    """Full-width katakana → half-width, the inverse of NFKC on U+FF61–U+FF9F."""
    table: dict[str, str] = {}
    for code in range(0xFF61, 0xFFA0):
        half = chr(code)
        full = unicodedata.normalize("NFKC", half)
        if len(full) == 1:
            table.setdefault(full, half)
    for char in "ガギグゲゴザジズゼゾダヂヅデドバビブベボ":
        base = unicodedata.normalize("NFD", char)[0]
        if base in table:
            table[char] = table[base] + "ﾞ"
    for char in "パピプペポ":
        table[char] = table[unicodedata.normalize("NFD", char)[0]] + "ﾟ"
    return table


HALFWIDTH = _halfwidth_table()


def misspell(name: str, rng: random.Random) -> str:
    """One hand-written spelling of ``name``: what registers and memoirs do to names.

    >>> [misspell("ハバロフスク", random.Random(seed)) for seed in (0, 3, 7, 10)]
    ['ハバロフスク', 'ハバロフスーク', 'ハヴァロフスク', 'ﾊﾊﾞﾛﾌｽｸ']
    """
    roll = rng.random()
    if roll < 0.15:
        return name.replace("ー", "")
    if roll < 0.25 and len(name) > 2:
        cut = rng.randrange(1, len(name))
        return name[:cut] + "ー" + name[cut:]
    if roll < 0.35:
        return name.replace("ブ", "ヴ").replace("バ", "ヴァ")
    if roll < 0.42 and len(name) > 3:
        cut = rng.randrange(1, len(name) - 1)
        return name[:cut] + "ッ" + name[cut:]
    if roll < 0.52:
        return rng.choice(REGION_PREFIXES) + name
    if roll < 0.60:
        return "".join(HALFWIDTH.get(char, char) for char in name)
    return name


def distinct_spellings(bases: Sequence[str], n: int, seed: int = 1945) -> list[tuple[str, int]]:
    """Up to ``n`` distinct names, each with the index of the base it was spelled from.

    The bases come first as they are, then misspellings of them in rounds until
    ``n`` distinct names exist or fifty rounds in a row add none.

    >>> distinct_spellings(["チタ", "カンスク"], 4, seed=1)
    [('チタ', 0), ('カンスク', 1), ('イルクーツク州チタ', 0), ('イルクーツク州カンスク', 1)]
    """
    rng = random.Random(seed)
    made: dict[str, int] = {}
    for number, base in enumerate(bases):
        if len(made) >= n:
            break
        made.setdefault(base, number)
    idle = 0
    while len(made) < n and idle < 50:
        before = len(made)
        for number, base in enumerate(bases):
            made.setdefault(misspell(base, rng), number)
            if len(made) >= n:
                break
        idle = idle + 1 if len(made) == before else 0
    return list(made.items())
