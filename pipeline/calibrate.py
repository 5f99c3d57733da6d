"""Calibrate stage: learn the reconcile score from data and calibrate it (``camps calibrate``).

The score of a candidate must mean what it says: 0.9 should be right nine times
in ten. The weights of the reconcile features are therefore fitted, not set:

1. *Training names*: the katakana names GeoNames gives the places of the
   transliterate stage's **training** split (the held-out split, which
   ``camps evaluate`` measures as "names never seen", is never read), looked up
   with every katakana name of those places withheld and transliterated by the
   held-out model, bare and with the place's 1945 region, as
   :func:`pipeline.evaluate.generalization` does for the held-out ones; plus
   the development sets, ``raw/gold_dev.csv`` and ``raw/realnames_dev.csv``,
   reconciled as ``camps evaluate`` does (their negatives and unidentified rows
   teach "none of these").
2. Each name's kept candidates (:func:`pipeline.reconcile.featurize`) get a label:
   the one candidate that is right is the best-evidence place within 25 km of the
   truth that no nearer, better entry shadows; the rest, 0.
3. The weights are fitted on the names outside the calibration split (a
   name's share of the calibration split is fixed by a hash of the name:
   ``calibration_share``), by ``objective``: ``binary``, a
   :class:`sklearn.linear_model.LogisticRegression` of each candidate alone
   (right or not); or ``conditional``, a conditional logit maximising, over
   the names, the log softmax of the right candidate among the name's
   candidates and a "none of these" option of logit 0 (or of "none" when no
   candidate is right), L2-penalised, by L-BFGS (:func:`scipy.optimize.minimize`);
   each name is fitted a second time with its right candidate taken out, "none"
   then being right, so that the level of the logits against "none" is learned
   (a GeoNames name almost always has its place among the candidates).
4. On the calibration split, Platt scaling of the distribution: a slope and
   an offset of the logit, fitted by maximum likelihood of which candidate (or
   none) is right, with the scores of one name normalised against a "none of
   these" mass (:meth:`pipeline.reconcile.ScoreModel.distribution`).
5. ``auto_threshold_dev``: the lowest threshold (in steps of 0.01) at which every
   ``auto`` row of the development sets is right, printed for ``params.yaml``.

The model is written as verified JSON (:mod:`pipeline.reconcile.model`) with
the digests of everything it was made from; when the file on disk has exactly
these inputs and verifies, nothing is fitted. A stale or corrupt file is fitted
again with a warning saying why. A tool over the transliterate and reconcile
stages (through :mod:`pipeline.evaluate` and :mod:`pipeline.realnames`); never
imports click.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline import artifacts
from pipeline import evaluate as ev
from pipeline import realnames as rn
from pipeline import reconcile as rc
from pipeline import transliterate as tr
from pipeline.area import haversine_km
from pipeline.errors import ParamsError
from pipeline.io import write_text
from pipeline.lookup import query_of
from pipeline.params import check_range
from pipeline.places import Gazetteer
from pipeline.reconcile import model as score_model

logger = logging.getLogger(__name__)

#: The source whose change makes a fitted model stale (besides the data files).
_CODE = (
    "calibrate.py",
    "evaluate.py",
    "realnames.py",
    "lookup.py",
    "names",
    "reconcile",
    "transliterate",
)
#: Decision params that do not change a fit (the threshold is what the fit proposes).
_NOT_INPUTS = ("auto_threshold", "workers", "parallel_min")


@dataclasses.dataclass(frozen=True)
class CalibrateParams:
    """The ``calibrate`` section of params.yaml.

    Attributes
    ----------
    calibration_share:
        Share of the training names (by a hash of the name) kept apart for the
        calibration fit; the logistic regression never sees them.
    regularization:
        ``C`` of the logistic regression (inverse L2 strength).
    dev_weight:
        Weight of a development-set name against a GeoNames one in the fit. The
        GeoNames names teach how readings match; the development sets are camp
        names, where a curated place or a town outweighs a namesake village, and
        are few (some 180 against 1,100).
    objective:
        ``binary``: a logistic regression of each candidate alone (right or
        not); ``conditional``: a conditional logit of which of a name's
        candidates, or none of them, is right, the choice the score is used for.
    """

    calibration_share: float = 0.3
    regularization: float = 1.0
    dev_weight: float = 5.0
    objective: str = "binary"

    def __post_init__(self) -> None:
        check_range("calibrate", "calibration_share", self.calibration_share, 0.05, 0.95)
        check_range("calibrate", "dev_weight", self.dev_weight, 0.0, 100.0)
        if self.objective not in OBJECTIVES:
            raise ParamsError(
                f"calibrate.objective must be one of {', '.join(OBJECTIVES)}, "
                f"got {self.objective!r}"
            )
        if not self.regularization > 0:
            raise ParamsError(
                f"calibrate.regularization must be above 0, got {self.regularization}"
            )


@dataclasses.dataclass(frozen=True)
class Example:
    """One name's candidates as the model sees them, and which one is right."""

    source: str
    katakana: str
    terms: tuple[tuple[float, ...], ...]
    right: int | None  # index into terms; None: none of these

    def in_calibration(self, share: float) -> bool:
        """Whether the name is in the calibration split (a fixed hash of the name).

        >>> Example("gold_dev", "チタ", (), None).in_calibration(0.0)
        False
        """
        return zlib.crc32(f"{self.source}:{self.katakana}".encode()) % 1000 < 1000 * share


def _label(featured: Sequence[rc.Featured], index: rc.Index, lat: float, lon: float) -> int | None:
    """The right candidate: the first (best evidence) unshadowed place within 25 km."""
    places = index.gazetteer.places
    for number, item in enumerate(featured):
        place = places[item.place_id]
        if place.lat is None or place.lon is None or item.terms[-1] > 0:
            continue
        if haversine_km(place.lat, place.lon, lat, lon) <= ev.NEAR_KM:
            return number
    return None


def _examples(
    source: str,
    items: Sequence[tuple[str, str, float | None, float | None]],
    index: rc.Index,
    model: tr.Model,
    t_params: tr.TransliterateParams,
    params: rc.ReconcileParams,
) -> list[Example]:
    """Examples of (katakana, region, lat, lon) items; no point: no right candidate."""
    out = []
    for katakana, region, lat, lon in items:
        query = query_of(katakana, model, t_params, region)
        featured = rc.featurize(query, rc.gather(query, index, params), index, params)
        right = None if lat is None or lon is None else _label(featured, index, lat, lon)
        out.append(Example(source, katakana, tuple(f.terms for f in featured), right))
    return out


def training_examples(
    gazetteer_dir: Path,
    gold_path: Path,
    realnames_path: Path,
    t_params: tr.TransliterateParams,
    params: rc.ReconcileParams,
) -> list[Example]:
    """Every training name (module doc, step 1) with its featured candidates."""
    full = rc.load_index(Path(gazetteer_dir), model=None)
    gazetteer: Gazetteer = full.gazetteer
    names = ev.unseen_names(gazetteer, is_test=lambda gid: not tr.is_test_place(gid))
    withheld = rc.build_index(
        ev.without_kana_of(gazetteer, {n.place_id for n in names}), model=None
    )
    held_out = tr.build_model(hold_out=True)
    places = gazetteer.places

    def point(place_id: str) -> tuple[float | None, float | None]:
        return places[place_id].lat, places[place_id].lon

    bare = [(n.katakana, "", *point(n.place_id)) for n in names]
    regional = [(n.katakana, n.region, *point(n.place_id)) for n in names if n.region]
    gold = [(g.katakana, "", g.lat, g.lon) for g in ev.read_gold(Path(gold_path))]
    real = [
        (r.katakana, r.region, r.lat, r.lon)
        for r in rn.read_realnames(Path(realnames_path))
        if r.kind != "identifiable" or r.lat is not None
    ]
    stage_model = tr.default_model()
    return [
        *_examples("geonames", bare, withheld, held_out, t_params, params),
        *_examples("geonames+region", regional, withheld, held_out, t_params, params),
        *_examples("gold_dev", gold, full, stage_model, t_params, params),
        *_examples("realnames_dev", real, full, stage_model, t_params, params),
    ]


def _flatten(examples: Sequence[Example]) -> tuple[Any, Any, Any, Any]:
    """Candidates' terms with a leading 1 (the intercept), their name's number, and the labels.

    The labels are ``right[n]``: the candidate row of name ``n`` that is right,
    or -1 for "none of these".
    """
    import numpy as np

    rows = [(1.0, *t) for e in examples for t in e.terms]
    owner = [n for n, e in enumerate(examples) for _ in e.terms]
    starts = np.cumsum([0] + [len(e.terms) for e in examples])[:-1]
    right = [-1 if e.right is None else int(starts[n]) + e.right for n, e in enumerate(examples)]
    x = np.array(rows, dtype=np.float64).reshape(len(rows), len(score_model.TERMS) + 1)
    return x, np.array(owner, dtype=np.intp), np.array(right, dtype=np.intp), len(examples)


def _choice_loss(z: Any, owner: Any, right: Any, names: int, weight: Any) -> tuple[float, Any]:
    """Weighted negative log likelihood of which candidate (or none) is right; d/dz.

    Each name's candidates and a "none of these" option with logit 0 form one
    softmax (:meth:`pipeline.reconcile.ScoreModel.distribution`).
    """
    import numpy as np

    top = np.zeros(names)
    np.maximum.at(top, owner, z)
    shares = np.exp(z - top[owner])
    total = np.exp(-top)
    np.add.at(total, owner, shares)
    log_norm = top + np.log(total)
    chosen = np.where(right >= 0, z[np.maximum(right, 0)], 0.0)
    loss = float((weight * (log_norm - chosen)).sum())
    grad = weight[owner] * shares / total[owner]
    np.subtract.at(grad, right[right >= 0], weight[right >= 0])
    return loss, grad


def _binary_weights(x: Any, owner: Any, right: Any, weight: Any, c: float) -> Any:
    """Per-candidate logistic regression (right or not, each candidate alone); [b, w...]."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    y = np.zeros(len(x), dtype=np.intp)
    y[right[right >= 0]] = 1
    regression = LogisticRegression(C=c, max_iter=5000)
    regression.fit(x[:, 1:], y, sample_weight=weight[owner])
    return np.concatenate([regression.intercept_, regression.coef_[0]])


def _conditional_weights(x: Any, owner: Any, right: Any, weight: Any, c: float) -> Any:
    """Conditional logit: which of a name's candidates, or none (logit 0), is right; [b, w...].

    Maximises the weighted log likelihood of the names' choices less an L2
    penalty ``|w|^2 / 2c`` (the intercept is not shrunk), by L-BFGS from zero.
    """
    import numpy as np
    from scipy.optimize import minimize

    names = len(weight)
    penalty = np.full(x.shape[1], 1.0 / c)
    penalty[0] = 0.0

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        loss, dz = _choice_loss(x @ w, owner, right, names, weight)
        return loss + 0.5 * float(penalty @ (w * w)), x.T @ dz + penalty * w

    found = minimize(
        objective, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 5000}
    )
    return found.x


#: How the weights are fitted (``calibrate.objective``).
OBJECTIVES = {"binary": _binary_weights, "conditional": _conditional_weights}


def _withdrawn(examples: Sequence[Example]) -> list[Example]:
    """Each name again with its right candidate taken out: then none of these is right.

    GeoNames names almost always have their place among the candidates, so
    without these the choice "none" is hardly ever seen and the level of the
    logits against it (the intercept, and terms every candidate of a name
    shares, like the region) is barely learned.
    """
    return [
        dataclasses.replace(e, terms=e.terms[: e.right] + e.terms[e.right + 1 :], right=None)
        for e in examples
        if e.right is not None and len(e.terms) > 1
    ]


def fit(examples: Sequence[Example], params: CalibrateParams) -> rc.ScoreModel:
    """Fit the weights (``params.objective``), then the calibration, on the examples."""
    import numpy as np
    from scipy.optimize import minimize

    share = params.calibration_share
    fitting = [e for e in examples if not e.in_calibration(share) and e.terms]
    calibrating = [e for e in examples if e.in_calibration(share) and e.terms]
    if params.objective == "conditional":
        fitting += _withdrawn(fitting)
    x, owner, right, names = _flatten(fitting)
    positives = int((right >= 0).sum())
    if positives == 0 or positives == len(x):
        raise ParamsError("calibrate: the training names give no right and wrong candidates")
    weight = np.array(
        [1.0 if e.source.startswith("geonames") else params.dev_weight for e in fitting]
    )
    weights = OBJECTIVES[params.objective](x, owner, right, weight, params.regularization)
    intercept, coef = float(weights[0]), tuple(float(c) for c in weights[1:])
    cx, c_owner, c_right, c_names = _flatten(calibrating)
    logits = cx @ weights
    ones = np.ones(c_names)

    def calibration(ab: np.ndarray) -> tuple[float, np.ndarray]:
        loss, dz = _choice_loss(ab[0] * logits + ab[1], c_owner, c_right, c_names, ones)
        return loss, np.array([float(dz @ logits), float(dz.sum())])

    scaled = minimize(calibration, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    slope, offset = (float(v) for v in scaled.x)
    by_source: dict[str, int] = {}
    for e in examples:
        by_source[e.source] = by_source.get(e.source, 0) + 1
    info = {
        "objective": params.objective,
        "names": dict(sorted(by_source.items())),
        "fit_names": names,
        "fit_candidates": len(x),
        "fit_positives": positives,
        "calibration_names": len(calibrating),
        "calibration_log_loss": round(float(scaled.fun) / (len(calibrating) or 1), 6),
    }
    return rc.ScoreModel(coef, intercept, slope, offset, {}, info)


def auto_threshold(scored: Sequence[Any], floor: float) -> float:
    """The lowest threshold (0.01 steps, at least ``floor``) with every ``auto`` right.

    ``scored`` are the development rows decided with ``auto_threshold`` at
    ``floor``: a row is ``auto`` at a higher threshold exactly when it is ``auto``
    here and scores at least that much.

    >>> from pipeline.plots import Scored
    >>> rows = [Scored(0.93, "auto", True, True, 1.0), Scored(0.874, "auto", False, True, 90.0)]
    >>> auto_threshold(rows, 0.45)
    0.88
    """
    wrong = [r.score for r in scored if r.decision == "auto" and not r.right]
    if not wrong:
        return round(floor, 2)
    return round(max(floor, math.floor(max(wrong) * 100 + 1e-9) / 100 + 0.01), 2)


def dev_threshold(
    model: rc.ScoreModel,
    gazetteer_dir: Path,
    gold_path: Path,
    realnames_path: Path,
    t_params: tr.TransliterateParams,
    params: rc.ReconcileParams,
) -> float:
    """The calibrated ``auto`` threshold for precision 1.00 on both development sets."""
    index = rc.load_index(Path(gazetteer_dir), model=model)
    low = dataclasses.replace(params, auto_threshold=params.review_threshold)
    stage_model = tr.default_model()
    gold = ev.score_rows(ev.read_gold(Path(gold_path)), index, [], stage_model, t_params, low)
    real = rn.score_realnames(
        rn.read_realnames(Path(realnames_path)), index, [], stage_model, t_params, low
    )
    return auto_threshold([*gold["scored"], *real["scored"]], params.review_threshold)


def inputs(
    gazetteer_dir: Path,
    gold_path: Path,
    realnames_path: Path,
    params: CalibrateParams,
    t_params: tr.TransliterateParams,
    r_params: rc.ReconcileParams,
) -> dict[str, Any]:
    """Everything a fit is made from: the staleness key stored in the model file."""
    reconcile = {k: v for k, v in dataclasses.asdict(r_params).items() if k not in _NOT_INPUTS}
    return {
        "gazetteer_names": artifacts.file_digest(Path(gazetteer_dir) / "names.csv"),
        "gazetteer_places": artifacts.file_digest(Path(gazetteer_dir) / "places.csv"),
        "gold": artifacts.file_digest(Path(gold_path)),
        "realnames": artifacts.file_digest(Path(realnames_path)),
        "code": artifacts.code_digest(_CODE),
        "params": {
            "calibrate": dataclasses.asdict(params),
            "reconcile": reconcile,
            "transliterate": dataclasses.asdict(t_params),
        },
    }


def _current(output_path: Path, made_of: dict[str, Any]) -> rc.ScoreModel | None:
    """The model on disk when it verifies and has exactly these inputs; else None (logged)."""
    if not Path(output_path).exists():
        logger.info("calibrate: no model at %s yet, fitting one", output_path)
        return None
    try:
        found = score_model.load(output_path)
    except artifacts.ArtifactError as error:
        logger.warning("calibrate: %s; fitting again", error)
        return None
    if dict(found.inputs) != made_of:
        changed = sorted(k for k in made_of if found.inputs.get(k) != made_of[k])
        logger.warning(
            "calibrate: %s is stale (made from other %s); fitting again",
            output_path,
            ", ".join(changed) or "inputs",
        )
        return None
    return found


def run(
    gazetteer_dir: Path,
    gold_path: Path,
    realnames_path: Path,
    output_path: Path,
    params: CalibrateParams,
    t_params: tr.TransliterateParams,
    r_params: rc.ReconcileParams,
    force: bool = False,
) -> str:
    """Fit (unless the file on disk is current) and write the score model; a summary."""
    made_of = inputs(gazetteer_dir, gold_path, realnames_path, params, t_params, r_params)
    found = None if force else _current(Path(output_path), made_of)
    if found is not None:
        logger.info("calibrate: %s is up to date", output_path)
    else:
        examples = training_examples(gazetteer_dir, gold_path, realnames_path, t_params, r_params)
        fitted = fit(examples, params)
        threshold = dev_threshold(
            fitted, gazetteer_dir, gold_path, realnames_path, t_params, r_params
        )
        info = {**fitted.info, "auto_threshold_dev": threshold}
        found = dataclasses.replace(fitted, inputs=made_of, info=info)
        write_text(Path(output_path), found.to_json().decode())
        logger.info("calibrate: wrote %s", output_path)
    return summary(found, r_params)


def summary(found: rc.ScoreModel, r_params: rc.ReconcileParams) -> str:
    """The weights, the calibration and the proposed threshold, for the terminal."""
    weights = ", ".join(f"{t} {w:+.2f}" for t, w in zip(score_model.TERMS, found.coef, strict=True))
    info = found.info
    lines = [
        f"score model: intercept {found.intercept:+.2f}; {weights}",
        f"calibration: slope {found.slope:.3f}, offset {found.offset:+.3f} "
        f"({info.get('calibration_names')} names; log loss {info.get('calibration_log_loss')})",
        f"training names: {info.get('names')}; fit on {info.get('fit_names')} names, "
        f"{info.get('fit_candidates')} candidates, {info.get('fit_positives')} right",
        f"auto_threshold for precision 1.00 on the development sets: "
        f"{info.get('auto_threshold_dev')} (params.yaml has {r_params.auto_threshold})",
    ]
    return "\n".join(lines)
