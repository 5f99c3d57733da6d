"""Evaluate stage: how often reconcile finds the right place, measured against gold.

A gold file lists katakana names with the expected modern place name and its
point; an empty ``expected`` marks a name that must not match (Kyoto, London…).
The gold file has no gazetteer ids, so "right" is defined on names and points:

* ``acc_at_1``: the row's place (the decided one; none when unresolved) carries
  one of the expected names (a Latin name of the place within fuzzy ratio 85 of
  one of the ``/``-separated names, or of a one-word name in brackets) *and* lies
  within 25 km of the gold point: the right settlement, not a namesake;
* ``acc_at_25km`` and ``acc_at_161km``: the row's place lies within 25 km (the same
  settlement or its station) or 161 km (100 miles, the usual geoparsing measure)
  of the gold point;
* ``mrr``: mean reciprocal rank of the first candidate within 25 km (0 if none of
  the top k);
* ``auto_precision``: the share of ``auto`` rows whose place is within 25 km of
  the gold point; an auto decision on a negative is wrong;
* ``coverage``: the share of positives not ``unresolved``;
* ``negatives_auto``: negatives decided ``auto`` (must be 0);
* ``brier``: the mean squared gap between the score and being right within 25 km,
  a check that the score reads as a probability; ``ece``: the expected calibration
  error over ten score bins (row-weighted gap of mean score and share right), with
  the ``reliability`` table (per bin) among the labels, on gold, on the names never
  seen (bare and with a region) and on the real spellings.

The curated gazetteer carries katakana spellings from the same dossier that gold
was drawn from, so the same figures are also given with those katakana names
withheld (``without_curated_kana``). ``unseen_names`` is the honest estimate for
names never seen in development: the katakana names GeoNames gives the held-out
places of the transliterate stage's split (names neither its model nor gold saw),
reconciled with every katakana name of those places withheld, scored by place id
and by distance, bare and with the place's 1945 region as a ``region`` column.
The transliterate stage's own accuracy on the same gold is under ``transliterate``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from pipeline import overrides as ov
from pipeline import realnames as rn
from pipeline import reconcile as rc
from pipeline import transliterate as tr
from pipeline.area import haversine_km
from pipeline.errors import InputDataError
from pipeline.io import Row, read_csv, write_json
from pipeline.lookup import query_of
from pipeline.names import fold_latin, match_key
from pipeline.places import Gazetteer, Place
from pipeline.plots import Scored, calibration, split_metrics, write_plots
from pipeline.records import GOLD_COLUMNS, Decision

logger = logging.getLogger(__name__)

NEAR_KM = 25.0
REGION_KM = 161.0
NAME_RATIO = 85.0


@dataclasses.dataclass(frozen=True)
class GoldRow:
    """One gold name: the expected names and point, or none for a negative."""

    katakana: str
    expected: tuple[str, ...]
    lat: float | None
    lon: float | None

    @property
    def positive(self) -> bool:
        """Whether the name must match a place."""
        return bool(self.expected)


def expected_names(text: str) -> tuple[str, ...]:
    """The names an ``expected`` cell accepts: ``/``-separated parts, one-word brackets.

    A bracket of several words is a note ("part of Chita"), not a name.

    >>> expected_names("Novy Urgal / Chegdomyn")
    ('Novy Urgal', 'Chegdomyn')
    >>> expected_names("Karaganda (Qaraghandy)"), expected_names("Kadala (part of Chita)")
    (('Karaganda', 'Qaraghandy'), ('Kadala',))
    """
    brackets = re.findall(r"\(([^()]*)\)", text)
    bare = re.sub(r"\([^()]*\)", " ", text)
    names = [part.strip() for part in bare.split("/") if part.strip()]
    names += [b.strip() for b in brackets if b.strip() and " " not in b.strip()]
    return tuple(dict.fromkeys(names))


def read_gold(path: Path) -> list[GoldRow]:
    """Read a gold CSV; a positive needs a point, and the message says where it is missing."""
    _, rows = read_csv(Path(path), required=GOLD_COLUMNS)
    out = []
    for number, row in enumerate(rows, start=2):
        names = expected_names(row["expected"])
        lat = _coordinate(path, number, "lat", row["lat"], 90.0)
        lon = _coordinate(path, number, "lon", row["lon"], 180.0)
        if names and (lat is None or lon is None):
            raise InputDataError(
                f"{path}: row {number}, column lat: a row with an expected place needs its "
                "lat and lon (decimal degrees)"
            )
        out.append(GoldRow(row["katakana"], names, lat, lon))
    return out


def _coordinate(path: Path, number: int, column: str, text: str, limit: float) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not -limit <= value <= limit:
        raise InputDataError(
            f"{path}: row {number}, column {column}: '{text}' is not a {column} in decimal degrees"
        )
    return value


def _distance(place: Place | None, gold: GoldRow) -> float | None:
    if place is None or None in (place.lat, place.lon, gold.lat, gold.lon):
        return None
    return haversine_km(place.lat, place.lon, gold.lat, gold.lon)  # type: ignore[arg-type]


def _has_name(place: Place, gold: GoldRow, index: rc.Index) -> bool:
    names = {fold_latin(place.name), *index.latin_by_place.get(place.place_id, ())}
    wanted = [fold_latin(n) for n in gold.expected]
    return any(fuzz.ratio(a, b) >= NAME_RATIO for a in names for b in wanted if a and b)


def _near(place: Place | None, gold: GoldRow, km: float) -> bool:
    distance = _distance(place, gold)
    return distance is not None and distance <= km


def _row_of(gold: GoldRow) -> Row:
    return {"katakana": gold.katakana}


def score_rows(
    gold: Sequence[GoldRow],
    index: rc.Index,
    overrides: Sequence[ov.Override],
    model: tr.Model,
    transliterate_params: tr.TransliterateParams,
    params: rc.ReconcileParams,
) -> dict[str, Any]:
    """Transliterate the gold names with ``model``, reconcile them with ``index``; measure.

    See the module doc for the measures.
    """
    rows = [_row_of(g) for g in gold]
    queries = [query_of(g.katakana, model, transliterate_params) for g in gold]
    rc.reconcile_rows(rows, index, overrides, params, queries)
    places = index.gazetteer.places
    positives = [(g, r) for g, r in zip(gold, rows, strict=True) if g.positive]
    negatives = [r for g, r in zip(gold, rows, strict=True) if not g.positive]
    at1 = near = region = covered = 0
    reciprocal = 0.0
    misses: list[str] = []
    scored = [
        Scored(
            score=float(r["score"] or 0),
            decision=r["decision"],
            right=g.positive and _near(places.get(r["place_id"]), g, NEAR_KM),
            positive=g.positive,
            distance_km=_distance(places.get(r["place_id"]), g) if g.positive else None,
        )
        for g, r in zip(gold, rows, strict=True)
    ]
    for g, row in positives:
        place = places.get(row["place_id"])
        right_near = _near(place, g, NEAR_KM)
        at1 += place is not None and right_near and _has_name(place, g, index)
        near += right_near
        region += _near(place, g, REGION_KM)
        covered += row["decision"] != Decision.UNRESOLVED
        reciprocal += _reciprocal_rank(row, g, places)
        if not right_near:
            misses.append(f"{g.katakana}: got {row['place_name'] or '-'} ({row['decision']})")
    auto = [(g, r) for g, r in zip(gold, rows, strict=True) if r["decision"] == Decision.AUTO]
    auto_right = sum(1 for g, r in auto if _near(places.get(r["place_id"]), g, NEAR_KM))
    n_pos = len(positives) or 1
    decisions = {str(d): sum(1 for r in rows if r["decision"] == d) for d in Decision}
    return {
        "acc_at_1": round(at1 / n_pos, 4),
        "acc_at_25km": round(near / n_pos, 4),
        "acc_at_161km": round(region / n_pos, 4),
        "mrr": round(reciprocal / n_pos, 4),
        "auto_precision": round(auto_right / len(auto), 4) if auto else None,
        "auto": len(auto),
        "coverage": round(covered / n_pos, 4),
        "negatives_auto": sum(1 for r in negatives if r["decision"] == Decision.AUTO),
        "negatives_unresolved": sum(1 for r in negatives if r["decision"] == Decision.UNRESOLVED),
        **calibration(scored),
        "decisions": decisions,
        "misses": misses,
        "scored": scored,
    }


def _reciprocal_rank(row: Row, gold: GoldRow, places: Mapping[str, Place]) -> float:
    import json

    for rank, cand in enumerate(json.loads(row["candidates"]), start=1):
        if _near(places.get(cand["id"]), gold, NEAR_KM):
            return 1.0 / rank
    return 0.0


def without_curated_kana(gazetteer: Gazetteer) -> Gazetteer:
    """The gazetteer less the katakana names that did not come from GeoNames."""
    kept = tuple(
        n for n in gazetteer.names if n.script != "Kana" or n.source.startswith("geonames")
    )
    return dataclasses.replace(gazetteer, names=kept)


# --------------------------------------------------------------------------- unseen names

#: Katakana alone (GeoNames also tags romanised forms such as "novuogurado" as kana).
_KANA_ONLY = re.compile("^[\u30a1-\u30fc・＝ ]+$")


@dataclasses.dataclass(frozen=True)
class UnseenName:
    """A katakana name of a held-out GeoNames place, and the 1945 region it lies in."""

    katakana: str
    place_id: str
    region: str


def _region_of(place: Place, gazetteer: Gazetteer) -> str:
    """The English 1945 name of the most specific region covering a place, as a raw file has it."""
    inside = [
        r
        for r in gazetteer.regions.values()
        if r.region_id == place.region_id
        or (place.admin1 and r.covers(place.country, place.admin1))
    ]
    inside.sort(key=lambda r: (r.radius_km or 1e9, r.region_id))
    return inside[0].name_1945 if inside else ""


def unseen_names(
    gazetteer: Gazetteer,
    is_test: Callable[[int], bool] = tr.is_test_place,
    limit: int | None = None,
) -> list[UnseenName]:
    """The GeoNames katakana names of held-out places: names development never saw.

    Held out means the transliterate stage's split (one GeoNames place in five by a
    hash of its geonameid), whose Cyrillic names its model never learnt. Curated
    katakana (the dossier's) are not queries: gold already measures them. ``limit``
    keeps an evenly spread, deterministic sample.
    """
    out: dict[tuple[str, str], UnseenName] = {}
    for name in gazetteer.names:
        place = gazetteer.places.get(name.place_id)
        if (
            place is None
            or name.script != "Kana"
            or not name.source.startswith("geonames")
            or not place.geonames_id.isdigit()
            or not is_test(int(place.geonames_id))
            or not _KANA_ONLY.match(name.name)
        ):
            continue
        item = UnseenName(name.name, place.place_id, _region_of(place, gazetteer))
        out.setdefault((match_key(name.name), place.place_id), item)
    ordered = sorted(out.values(), key=lambda u: (u.place_id, u.katakana))
    if limit is not None and len(ordered) > limit:
        step = len(ordered) / limit
        ordered = [ordered[int(i * step)] for i in range(limit)]
    return ordered


def without_kana_of(gazetteer: Gazetteer, place_ids: set[str]) -> Gazetteer:
    """The gazetteer less every katakana name (GeoNames or curated) of the given places."""
    kept = tuple(n for n in gazetteer.names if n.script != "Kana" or n.place_id not in place_ids)
    return dataclasses.replace(gazetteer, names=kept)


def score_unseen(
    names: Sequence[UnseenName],
    index: rc.Index,
    model: tr.Model,
    transliterate_params: tr.TransliterateParams,
    params: rc.ReconcileParams,
    with_region: bool = False,
) -> dict[str, Any]:
    """Reconcile unseen names and measure the outcome against their own place.

    ``acc_at_1`` is the same place id; ``acc_at_25km``, ``mrr``, ``auto_precision``
    and ``coverage`` are as on gold, measured from the held-out place's point. With
    ``with_region`` each row carries its place's 1945 region in a ``region`` column,
    as a raw register does; rows without one are left out. The names are
    transliterated with ``model`` (a held-out one: the stage's knows these places).
    """
    if with_region:
        names = [n for n in names if n.region]
    rows: list[Row] = [
        {"katakana": n.katakana, "region": n.region if with_region else ""} for n in names
    ]
    queries = [query_of(r["katakana"], model, transliterate_params, r["region"]) for r in rows]
    rc.reconcile_rows(rows, index, [], params, queries)
    places = index.gazetteer.places
    at1 = near = covered = auto = auto_right = 0
    reciprocal = 0.0
    misses: list[str] = []
    scored: list[Scored] = []
    for item, row in zip(names, rows, strict=True):
        truth = places[item.place_id]
        gold = GoldRow(item.katakana, (truth.name,), truth.lat, truth.lon)
        got = places.get(row["place_id"])
        right_near = _near(got, gold, NEAR_KM)
        scored.append(
            Scored(
                float(row["score"] or 0), row["decision"], right_near, True, _distance(got, gold)
            )
        )
        at1 += row["place_id"] == item.place_id
        near += right_near
        covered += row["decision"] != Decision.UNRESOLVED
        reciprocal += _reciprocal_rank(row, gold, places)
        if row["decision"] == Decision.AUTO:
            auto += 1
            auto_right += right_near
            if not right_near:
                misses.append(f"{item.katakana} ({truth.name}): auto {row['place_name']}")
    n = len(names) or 1
    return {
        "names": len(names),
        "acc_at_1": round(at1 / n, 4),
        "acc_at_25km": round(near / n, 4),
        "mrr": round(reciprocal / n, 4),
        "auto": auto,
        "auto_precision": round(auto_right / auto, 4) if auto else None,
        "coverage": round(covered / n, 4),
        **calibration(scored),
        "wrong_auto": misses,
        "scored": scored,
    }


def generalization(
    gazetteer: Gazetteer,
    transliterate_params: tr.TransliterateParams,
    params: rc.ReconcileParams,
    is_test: Callable[[int], bool] = tr.is_test_place,
    limit: int | None = None,
    model: tr.Model | None = None,
) -> dict[str, Any]:
    """Reconcile names never seen in development against a gazetteer that lacks them.

    Every katakana name of the held-out places is withheld from the gazetteer, so
    each must be found through its Cyrillic and Latin names (transliteration, kana
    similarity, Latin similarity), as a new register's names would be. Scored once
    on the bare name and once with the place's 1945 region as a ``region`` column.
    The names are transliterated with ``model``, by default a model built without
    the held-out places (the stage's model knows these places' names).
    """
    names = unseen_names(gazetteer, is_test, limit)
    index = rc.build_index(without_kana_of(gazetteer, {n.place_id for n in names}))
    held_out = model or tr.build_model(hold_out=True)
    return {
        "split": "GeoNames places with tr.is_test_place (one in five by crc32 of the id)",
        **score_unseen(names, index, held_out, transliterate_params, params),
        "with_region": score_unseen(
            names, index, held_out, transliterate_params, params, with_region=True
        ),
    }


def _transliteration(
    gold_path: Path,
    dossier: Path | None,
    held_out: tr.Model,
    params: tr.TransliterateParams,
) -> dict[str, Any]:
    """Gold scores of the stage's model; gold and held-out scores of the held-out model.

    ``held_out`` is a model built with ``hold_out=True``: it never saw the held-out
    GeoNames places. Every score decodes with the params.yaml section, as the stage does.
    """
    pairs = tr.gold_pairs(Path(gold_path), dossier)
    scores = _without_misses(tr.score_candidates(pairs, tr.default_model(), params=params))
    gold_held_out = _without_misses(tr.score_candidates(pairs, held_out, params=params))
    heldout = _without_misses(tr.score_candidates(tr.heldout_pairs(), held_out, params=params))
    # Places in Russia only: the map's names come from Russian-language maps.
    heldout_ru = _without_misses(
        tr.score_candidates(tr.heldout_pairs(russian_only=True), held_out, params=params)
    )
    return {
        "dossier": dossier.name if dossier is not None else None,
        **scores,
        "gold_held_out_model": gold_held_out,
        "heldout_geonames": heldout,
        "heldout_geonames_ru": heldout_ru,
    }


def _without_misses(scores: dict[str, Any]) -> dict[str, Any]:
    """The scores less the long lists (misses, the scored rows), at every level."""
    return {
        k: _without_misses(v) if isinstance(v, dict) else v
        for k, v in scores.items()
        if k not in ("misses", "scored")
    }


def run(
    gold_path: Path,
    gazetteer_dir: Path,
    overrides_path: Path,
    transliterate_params: tr.TransliterateParams,
    params: rc.ReconcileParams,
    output_path: Path | None = None,
    dossier_path: Path | None = None,
    plots_dir: Path | None = None,
    realnames_path: Path | None = None,
) -> str:
    """Measure reconcile (and transliterate) on a gold file; write JSON metrics if asked.

    Gold names are raw katakana: each is transliterated with ``transliterate_params``
    (the params.yaml section), then reconciled with ``params``, as ``camps run`` does.
    ``dossier_path`` (the camp dossier) adds the Cyrillic names it gives to the
    accepted transliterations of its places. ``output_path`` gets the numbers
    (what ``dvc metrics`` reads) and a ``<stem>_labels.json`` beside it the texts
    and lists; ``plots_dir`` the DVC plot data of the full run
    (:mod:`pipeline.plots`).
    ``realnames_path`` (real register spellings, :mod:`pipeline.realnames`) adds
    their scores under ``realnames``.

    Returns
    -------
    str
        A readable summary for the terminal.
    """
    gold = read_gold(Path(gold_path))
    index = rc.load_index(Path(gazetteer_dir))
    overrides = ov.read(Path(overrides_path), index.gazetteer.places)
    stage_model = tr.default_model()
    full = score_rows(gold, index, overrides, stage_model, transliterate_params, params)
    heldout_index = rc.build_index(without_curated_kana(index.gazetteer))
    heldout = score_rows(gold, heldout_index, overrides, stage_model, transliterate_params, params)
    held_out = tr.build_model(hold_out=True)  # one model that never saw the held-out places
    unseen = generalization(index.gazetteer, transliterate_params, params, model=held_out)
    metrics: dict[str, Any] = {
        "gold": Path(gold_path).name,
        "positives": sum(1 for g in gold if g.positive),
        "negatives": sum(1 for g in gold if not g.positive),
        "reconcile": _without_misses(full),
        "without_curated_kana": _without_misses(heldout),
        "unseen_names": _without_misses(unseen),
        "transliterate": _transliteration(
            Path(gold_path), dossier_path, held_out, transliterate_params
        ),
    }
    real_lines: list[str] = []
    if realnames_path is not None:
        real = rn.score_realnames(
            rn.read_realnames(Path(realnames_path)),
            index,
            overrides,
            stage_model,
            transliterate_params,
            params,
        )
        metrics["realnames"] = _without_misses(real)
        real_lines = rn.summary(real, Path(realnames_path).name)
    if output_path is not None:
        numbers, labels = split_metrics(metrics)
        write_json(Path(output_path), numbers)
        write_json(labels_path(Path(output_path)), labels)
    if plots_dir is not None:
        write_plots(Path(plots_dir), full["scored"], unseen["scored"])
    return "\n".join([_summary(metrics, full["misses"], heldout["misses"]), *real_lines])


def reliability_line(table: Sequence[dict[str, str]]) -> str:
    """A reliability table on one line: ``bin mean/observed (count)`` per non-empty bin.

    >>> row = {"bin": "0.9-1.0", "mean_score": "0.95", "observed": "1.0", "count": "3"}
    >>> reliability_line([row])
    '0.9-1.0 0.95/1.0 (3)'
    """
    return "; ".join(f"{r['bin']} {r['mean_score']}/{r['observed']} ({r['count']})" for r in table)


def labels_path(metrics_path: Path) -> Path:
    """The sidecar of a metrics file: ``metrics.json`` -> ``metrics_labels.json``."""
    return metrics_path.with_name(f"{metrics_path.stem}_labels.json")


def _summary(metrics: dict[str, Any], misses: list[str], heldout_misses: list[str]) -> str:
    lines = [
        f"{metrics['gold']}: {metrics['positives']} positives, {metrics['negatives']} negatives"
    ]
    for label in ("reconcile", "without_curated_kana"):
        m = metrics[label]
        lines.append(
            f"{label}: acc@1 {m['acc_at_1']:.3f}  acc@25km {m['acc_at_25km']:.3f}  "
            f"acc@161km {m['acc_at_161km']:.3f}  MRR {m['mrr']:.3f}  coverage {m['coverage']:.3f}"
        )
        precision = "-" if m["auto_precision"] is None else f"{m['auto_precision']:.3f}"
        lines.append(
            f"  auto {m['auto']} (precision {precision}), negatives auto {m['negatives_auto']}, "
            f"Brier {m['brier']:.4f}, ECE {m['ece']:.4f}, decisions {m['decisions']}"
        )
    u = metrics["unseen_names"]
    for label, m in (("unseen names", u), ("unseen names + region column", u["with_region"])):
        precision = "-" if m["auto_precision"] is None else f"{m['auto_precision']:.3f}"
        lines.append(
            f"{label} ({m['names']} held-out GeoNames katakana, their kana withheld): "
            f"acc@1 {m['acc_at_1']:.3f}  acc@25km {m['acc_at_25km']:.3f}  MRR {m['mrr']:.3f}  "
            f"coverage {m['coverage']:.3f}  auto {m['auto']} (precision {precision})  "
            f"Brier {m['brier']:.4f}  ECE {m['ece']:.4f}"
        )
        if m["wrong_auto"]:
            lines.append("  wrong auto: " + "; ".join(m["wrong_auto"][:10]))
    for label, m in (("gold", metrics["reconcile"]), ("unseen names", u)):
        lines.append(f"reliability ({label}): " + reliability_line(m["reliability"]))
    t = dict(metrics["transliterate"])
    parts = {
        "held-out model, gold": t.pop("gold_held_out_model", {}),
        "held-out model, held-out GeoNames": t.pop("heldout_geonames", {}),
        "held-out model, held-out GeoNames, RU": t.pop("heldout_geonames_ru", {}),
    }
    lines.append(f"transliterate (gold): {', '.join(f'{k} {v}' for k, v in t.items())}")
    for label, scores in parts.items():
        lines.append(
            f"transliterate ({label}): " + ", ".join(f"{k} {v}" for k, v in scores.items())
        )
    for label, found in (("misses", misses), ("misses without curated kana", heldout_misses)):
        if found:
            lines.append(f"{label} (> {NEAR_KM:g} km): " + "; ".join(found))
    return "\n".join(lines)
