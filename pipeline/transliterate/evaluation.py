"""How well a model recovers Russian names: gold pairs, held-out pairs, and their scores.

The held-out pairs are the GeoNames places of the split (:func:`is_test_place`);
score them with a model built with ``hold_out=True``, which never saw them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pipeline.names import kana_of_cyrillic, lenient, match_key, split_name
from pipeline.transliterate.corpus import CYRILLIC_RE, KANA_NAME_RE, geonames_places, is_test_place
from pipeline.transliterate.model import Model
from pipeline.transliterate.params import TransliterateParams

Pair = tuple[str, frozenset[str]]


def heldout_pairs(russian_only: bool = False) -> list[Pair]:
    """Katakana → Cyrillic names of the same GeoNames place, for held-out places only.

    The held-out places (one in five, by hash of the geonameid) and every
    Cyrillic name they carry are kept out of a model built with ``hold_out``
    (see :func:`pipeline.transliterate.model.build_model`).
    ``russian_only`` keeps the places in Russia: the map's names come from
    Russian-language maps, while a Latvian or Azerbaijani place's katakana often
    follows the local name (スィグルダ for Sigulda, not Сигулда).
    """
    pairs: list[Pair] = []
    for gid, country, names, *_ in geonames_places():
        if not is_test_place(gid) or (russian_only and country != "RU"):
            continue
        cyrillic = frozenset(n for n in names if CYRILLIC_RE.search(n))
        kana = sorted({n for n in names if KANA_NAME_RE.fullmatch(n)})
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
        for _, _, names, plat, plon, pop in geonames_places()
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
    return frozenset(n for n in names if CYRILLIC_RE.search(n))


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
    pairs: Sequence[Pair], model: Model, k: int = 5, params: TransliterateParams | None = None
) -> dict[str, Any]:
    """Top-1 and top-k accuracy of ``model``'s Cyrillic candidates on (katakana, accepted) pairs.

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
        got = [lenient(name) for name, _ in model.cyrillic_candidates(kana, k, params)]
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
