"""The lexicon: real Russian place names, keyed by how their katakana would be spelt.

An invented spelling only competes with the names that real places carry; the
lexicon finds those by :func:`pipeline.names.match_key` of the name's usual
katakana, of the katakana GeoNames gives the place, after dropping an affix
(ノヴォ…, …スカヤ), or one plausible edit away.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from pipeline.names import kana_of_cyrillic, match_key, plain_kana, romanize
from pipeline.transliterate.channel import by_ear_keys, spells
from pipeline.transliterate.corpus import Corpus

#: Words glued to a name (Verkhne-, Novo-, the adjectival -ская …): the bare name is
#: looked up too (ダラスンスク → Дарасун, ベルシーナ・ダラスン → Дарасун).
_AFFIX_PREFIXES = ("ベルフネ", "ベルシーナ", "ニージネ", "ニジネ", "ノヴォ", "スターラヤ")
_AFFIX_SUFFIXES = ("スカヤ", "スキー", "スコエ", "スク")
#: Bonus over the best invented spelling: an exact key wins; a name found only after
#: dropping an affix, or one edit away, is offered below the best invented one.
_EXACT_BONUS, _AFFIX_BONUS, _NEAR_BONUS = 4.0, -0.5, -1.5
#: Bonus of a name reached by sound changes of spoken Russian (:data:`SOUND_RULES`),
#: per change: offered below the best invented spelling, so a dictionary reading
#: that fits still ranks first, and only when the key itself names no real place.
_BY_EAR_BONUS = -1.0
#: Keys up to this long may combine two sound changes (ペガワト for Беговат); longer
#: ones one, which keeps the look-up to a few dozen keys.
_BY_EAR_DEPTH2_MAX = 5

#: Keys whose :meth:`Lexicon._reached` is remembered at most (then it starts again).
_REACHED_MAX = 200_000

#: Keys shorter than this get no edit-distance look-up: チタ is one edit from too much.
NEAR_MIN = 4


def deletions(key: str) -> set[str]:
    """The key and every string one letter shorter (symmetric-delete neighbourhood).

    Two keys within one substitution, insertion or deletion share a member, so
    シエルロワゴラ (the ヤ dropped) meets シエルロバヤゴラ, and ナリリスク meets ノリリスク.

    >>> sorted(deletions("チタ"))
    ['タ', 'チ', 'チタ']
    """
    return {key} | {key[:i] + key[i + 1 :] for i in range(len(key))}


@functools.lru_cache(maxsize=1)
def affix_keys() -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(map(match_key, _AFFIX_PREFIXES)), tuple(map(match_key, _AFFIX_SUFFIXES))


@functools.lru_cache(maxsize=100_000)
def standard_kana(known: str) -> str:
    """The usual katakana of a lexicon name, as :func:`plain_kana` compares them."""
    return plain_kana(kana_of_cyrillic(known))


@dataclasses.dataclass(frozen=True)
class Lexicon:
    """Lexicon names by key (most places first), by one-letter deletion, and their katakana."""

    #: match key → the Russian names whose katakana has it, most common first.
    #: (Each table is a dict, or in a model loaded from its artifact a
    #: :class:`~pipeline.transliterate.artifact.Table` that makes a key's value when
    #: first read: 86,000 near keys made at once would cost a tenth of a second.)
    names: Mapping[str, tuple[str, ...]]
    #: Lexicon keys by each of their one-letter deletions, for edit-distance-1 look-ups.
    near: Mapping[str, Sequence[str]]
    #: Katakana spellings GeoNames gives a lexicon name (ウラジオストク for Владивосток).
    spelled: Mapping[str, frozenset[str]]
    #: (key, limit) → what :meth:`_reached` found for it, filled as names are looked up.
    reached: dict[tuple[str, int], tuple[tuple[str, float], ...]] = dataclasses.field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def learn(cls, counts: Counter[str], corpus: Corpus) -> Lexicon:
        """The lexicon of the Russian names ``counts`` and the corpus' katakana names."""
        names: defaultdict[str, list[str]] = defaultdict(list)
        for name, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            names[match_key(kana_of_cyrillic(name))].append(name)
        spelled: defaultdict[str, set[str]] = defaultdict(set)
        corpus.add_training_katakana(names, spelled)
        near: defaultdict[str, list[str]] = defaultdict(list)
        for key in names:
            if len(key) >= NEAR_MIN:
                for variant in deletions(key):
                    near[variant].append(key)
        return cls(
            {k: tuple(v) for k, v in names.items()},
            {k: tuple(v) for k, v in near.items()},
            {k: frozenset(v) for k, v in spelled.items()},
        )

    def hits(self, name: str, limit: int) -> dict[str, float]:
        """Lexicon names whose key equals, or nearly equals, the key of ``name``, with a bonus."""
        key = match_key(name)
        hits: dict[str, float] = {}
        plain = plain_kana(name)
        for known in self.names.get(key, ())[:limit]:
            # A key folds ヴ into ブ and drops long marks: ヴォルホフ has the key of
            # Болхов (ボルホフ), which it cannot spell. Such a name is only near.
            fits = (
                plain in self.spelled.get(known, ())
                or plain == standard_kana(known)
                or spells(name, known)
            )
            hits.setdefault(known, _EXACT_BONUS if fits else _NEAR_BONUS)
        reached = self.reached.get((key, limit))
        if reached is None:
            reached = self._reached(key, limit)
            if len(self.reached) >= _REACHED_MAX:  # bound the memory on huge inputs
                self.reached.clear()
            self.reached[key, limit] = reached
        for known, bonus in reached:
            hits.setdefault(known, bonus)
        return hits

    def _reached(self, key: str, limit: int) -> tuple[tuple[str, float], ...]:
        """The names :meth:`hits` finds beyond the key itself, in its order, first bonus kept.

        They depend on the key alone (an affix dropped, one edit, sound changes), and
        the spellings of a register share keys (the 59,500 distinct names of the
        transliterate bench have 17,000), so :meth:`hits` looks them up once per key.
        """
        out: dict[str, float] = {}

        def put(keys: Iterable[str], bonus: float) -> None:
            for other in keys:
                for known in self.names.get(other, ())[:limit]:
                    out.setdefault(known, bonus)

        bare = {key[len(p) :] for p in affix_keys()[0] if key.startswith(p)}
        bare |= {key[: -len(s)] for s in affix_keys()[1] if key.endswith(s)}
        put(sorted(b for b in bare if len(b) >= 3), _AFFIX_BONUS)
        if len(key) >= NEAR_MIN:
            near = {found for v in deletions(key) for found in self.near.get(v, ())}
            put(sorted(found for found in near - {key} if plausible_edit(key, found)), _NEAR_BONUS)
        if len(key) >= 3 and key not in self.names:
            depth = 2 if len(key) <= _BY_EAR_DEPTH2_MAX else 1
            for variant, changes in by_ear_keys(key, depth=depth).items():
                for known in self.names.get(variant, ())[:limit]:
                    out.setdefault(known, _BY_EAR_BONUS * changes)
        return tuple(out.items())


def plausible_edit(key: str, other: str) -> bool:
    """Whether two keys one edit apart may be one name misheard or misspelt.

    A kana dropped or added is (クタイス for Кутаиси, シエルロワゴラ); a kana replaced
    only by one of its own consonant (ナウスキ for Наушки, ナリリスク for Норильск):
    ロンドン is not a misspelt ロンドコ (Лондоко).

    >>> plausible_edit("ナウスキ", "ナウシキ"), plausible_edit("ロンドン", "ロンドコ")
    (True, False)
    """
    if len(key) != len(other):
        return True
    return all(kana_row(a) == kana_row(b) for a, b in zip(key, other, strict=True) if a != b)


def kana_row(kana: str) -> str:
    """The row of the kana table a kana is in (ン apart from the ナ row; vowels are "").

    >>> [kana_row(k) for k in "チツフヘジザンナア"]
    ['t', 't', 'h', 'h', 'z', 'z', 'ン', 'n', '']
    """
    if kana == "ン":
        return kana
    first = romanize(kana).lower()[:1]
    first = {"c": "t", "f": "h", "j": "z"}.get(first, first)  # chi, tsu, fu, ji in Hepburn
    return "" if first in ("a", "i", "u", "e", "o") else first
