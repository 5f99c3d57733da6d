"""The transliteration model: one object that holds everything learned, and answers with it.

:func:`build_model` learns a :class:`Model` from a :class:`~pipeline.transliterate.corpus.Corpus`
(every GeoNames place, or all but the held-out ones); everything that needs the
learned data is a method of the model or takes it as an argument. Its caches
live on the instance, so two models in one process never see each other's
answers: the held-out evaluation builds its own model and leaves the stage's alone.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import re
import time
from collections.abc import Callable

from pipeline.names import lenient, name_flag, normalize, split_name
from pipeline.transliterate.channel import SMALL_KANA, Channel, learn_channel
from pipeline.transliterate.corpus import training_corpus
from pipeline.transliterate.decoder import Decoder, _second
from pipeline.transliterate.lexicon import Lexicon
from pipeline.transliterate.lm import START, LanguageModel
from pipeline.transliterate.params import TransliterateParams

logger = logging.getLogger(__name__)

#: Weight of the search score in a known name's rank (see :meth:`Model.ranked`).
SEARCH_SHARE = 0.1


@dataclasses.dataclass(frozen=True, eq=False)
class Model:
    """A learned transliteration model: lexicon, letter model, channel, and its own caches.

    Build one with :func:`build_model`; it never changes after (its caches only
    remember answers it has given).
    """

    #: Whether the held-out GeoNames places were kept out of the training data.
    hold_out: bool
    lexicon: Lexicon
    lm: LanguageModel
    channel: Channel
    #: How many distinct training names the letter model learned from.
    n_names: int
    #: One decoder per (beam, lm_weight, strict): each keeps the columns of the last name.
    decoders: dict[tuple[int, float, bool], Decoder] = dataclasses.field(
        default_factory=dict, repr=False
    )
    #: :meth:`_candidates` and :meth:`_known_bonus`, memoised for this model only.
    candidates: Callable[[str, int, int, float], tuple[tuple[str, float], ...]] = dataclasses.field(
        init=False, repr=False
    )
    known_bonus: Callable[[str], float] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "candidates", functools.lru_cache(200_000)(self._candidates))
        object.__setattr__(self, "known_bonus", functools.lru_cache(100_000)(self._known_bonus))

    def cyrillic_candidates(
        self, kana: str, k: int = 5, params: TransliterateParams | None = None
    ) -> list[tuple[str, float]]:
        """Ranked reconstructions of the Russian name behind a katakana name, best first.

        Scores are shares of probability among the k returned (0-1). Names that are
        not katakana (Latin, kanji, empty) give an empty list; nothing raises.

        >>> from pipeline.transliterate import default_model
        >>> [name for name, _ in default_model().cyrillic_candidates("ハバロフスク", 3)][0]
        'Хабаровск'
        >>> default_model().cyrillic_candidates("Tokyo")
        []
        """
        p = params or TransliterateParams()
        return list(self.candidates(normalize(kana), k, p.beam, p.lm_weight))

    def decode(
        self, kana: str, beam: int, lm_weight: float, strict: bool = True, limit: int = 100
    ) -> list[tuple[str, float]]:
        """The ``limit`` best readings of ``kana`` in the lattice of the channel, best first.

        Scored by the transcription costs and the 5-gram model (see :class:`Decoder`).
        ``strict``: ン and ー always follow a vowel in Japanese, so a kana read as a
        bare consonant cannot stand before them (スーチャン is Сучан, never Счан;
        ダラスンスク is Дарасунск, never Дараснск). Should that leave nothing (odd
        input such as ンー), the search is run again without the rule.

        >>> from pipeline.transliterate import default_model
        >>> [text for text, _ in default_model().decode("ハバロフスク", 12, 1.0, limit=2)]
        ['хабаровск', 'хабаловск']
        """
        decoder = self.decoders.get((beam, lm_weight, strict))
        if decoder is None:
            decoder = Decoder(self.channel, self.lm, beam, lm_weight, strict)
            self.decoders[beam, lm_weight, strict] = decoder
        finals = decoder.decode(kana, limit)
        if not finals and strict:
            return self.decode(kana, beam, lm_weight, strict=False, limit=limit)
        return finals

    def _known_bonus(self, known: str) -> float:
        """Per-letter log-probability of a real name under the 5-gram model, times 0.3."""
        logp, state = self.lm.step(START, known.lower().replace("ё", "е"))
        return 0.3 * (logp + self.lm.step(state, "$")[0]) / max(len(known), 1)

    def _candidates(
        self, kana: str, k: int, beam: int, lm_weight: float
    ) -> tuple[tuple[str, float], ...]:
        """The k best readings of a cell, with shares of probability (memoised: ``candidates``)."""
        name = split_name(kana).name if kana else ""
        if not name or name_flag(name):
            return ()
        ranked = self.ranked(name, k, beam, lm_weight)
        if ranked:
            # The modern katakana of a Ukrainian name (ハルキウ, Харків): the reading of the
            # Russian spelling it stands for (ハルコフ, Харков) goes first, as the maps of
            # the time wrote the Russian name.
            first = [
                (text, ranked[0][1] + RUSSIANIZED_BONUS)
                for variant in russianized(name)
                for text, _ in self.ranked(variant, 1, beam, lm_weight)
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

    def ranked(self, name: str, k: int, beam: int, lm_weight: float) -> list[tuple[str, float]]:
        """The k best readings of a normalised name, invented and known, with their scores."""
        # Invented spellings stay lower-case (and are compared in the lenient form) until
        # they make the top k: the title case changes neither.
        scored: dict[str, float] = {
            text: value
            for text, value in self.decode(name, beam, lm_weight, limit=k * 3)
            if text.strip(" -")
        }
        top = max(scored.values(), default=0.0)
        lowest = min(scored.values(), default=0.0)
        for known, bonus in self.lexicon.hits(name, k * 2).items():
            # A spelling that real places carry beats any invented one; between two such
            # spellings the Russian model decides (Благовещенск over Благовешченск), and so
            # does the search's own score, transcription costs included (Клин over Кульн
            # for クリン).
            searched = scored.get(known.lower().replace("ё", "е"), lowest)
            value = top + bonus + self.known_bonus(known) + SEARCH_SHARE * (searched - top)
            scored[known] = max(scored.get(known, -math.inf), value)
        ranked: list[tuple[str, float]] = []
        seen: set[str] = set()
        known_left: tuple[str, float] | None = None
        has_known = False
        for text, value in sorted(scored.items(), key=_second, reverse=True):
            invented = text.islower()
            plain = (
                text.replace("-", "").replace(" ", "").replace("ё", "е")
                if invented
                else lenient(text)
            )
            if plain in seen:  # "Бершина Дарасун" and "Бершина-Дарасун" are one
                continue
            if len(ranked) == k:
                if not invented and not has_known:
                    known_left = (text, value)
                if has_known or known_left:
                    break
                continue
            seen.add(plain)
            has_known = has_known or not invented
            ranked.append((titlecase(text) if invented else text, value))
        # The best name a real place carries is always offered, last: a by-ear spelling
        # (マルシヤンスク) reaches Моршанск only through sound changes, below invented ones.
        if known_left is not None and k > 1:
            ranked[-1] = known_left
        return ranked


def build_model(hold_out: bool = False) -> Model:
    """Learn the Russian place-name model from GeoNames and the OpenCorpora toponyms.

    With ``hold_out``, the held-out places and every Cyrillic name they carry are
    kept out (even when a training place or the toponym list shares the name),
    so the held-out score measures names never seen. A few seconds.
    """
    started = time.perf_counter()
    data = training_corpus(hold_out)
    counts, toponyms = data.model_names()
    lexicon = Lexicon.learn(counts, data)
    # The toponyms teach the letter model only: as lexicon entries they would give
    # rivers and foreign cities (Тура, Парана) the bonus of a known place.
    counts.update(toponyms)
    lm = LanguageModel.learn(counts)
    channel = learn_channel(data.training_pairs())
    logger.debug(
        "transliteration model (hold_out=%s): %d training names, %.1f s",
        hold_out,
        len(counts),
        time.perf_counter() - started,
    )
    return Model(hold_out, lexicon, lm, channel, len(counts))


def titlecase(name: str) -> str:
    """Capitalise each word of a generated name (на/под stay lower-case).

    >>> titlecase("комсомольск-на-амуре"), titlecase("советская гавань")
    ('Комсомольск-на-Амуре', 'Советская Гавань')
    """
    if "-" not in name and " " not in name:
        return name[:1].upper() + name[1:]
    parts = re.split(r"([- ])", name)
    small = {"на", "под", "над", "у"}
    return "".join(p if (p in small and i) else p[:1].upper() + p[1:] for i, p in enumerate(parts))


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
RUSSIANIZED_BONUS = 1.0


def russianized(name: str) -> list[str]:
    """The katakana of the Russian name behind the katakana of a Ukrainian name.

    Empty unless ``name`` ends as only Ukrainian names do. Ukrainian г, written
    with the ハ row, may be a Russian г or х: one variant per kana of that row.

    >>> russianized("ハルキウ")
    ['ハルコフ', 'ガルコフ']
    >>> russianized("パウロフラード")
    ['パフログラード', 'パグログラード']
    >>> russianized("ハバロフスク")
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
        if kana in _HA_TO_GA and out[i + 1] not in SMALL_KANA and out[i : i + 2] != "フカ":
            variants.append(out[:i] + _HA_TO_GA[kana] + out[i + 1 :])
    return variants
