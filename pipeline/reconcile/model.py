"""The learned score: a fitted logistic model over the features, calibrated to a distribution.

The weights are not set by hand: ``camps calibrate`` (:mod:`pipeline.calibrate`)
fits them on the training split of GeoNames katakana names and the development
sets (a conditional logit of which candidate, or none, is right, by SciPy; or a
scikit-learn logistic regression per candidate), then fits a Platt-style
calibration (slope and offset on the logit) on a calibration split of those
names, and writes both here as JSON, ``pipeline/data/score_model.json`` (a DVC
output, shipped with the package so every register, test and service scores
alike). Scoring needs neither library: it is a dot product and an exponential
per candidate.

The candidates of one name are mutually exclusive readings, so their scores form
a distribution with a "none of these" mass: candidate ``i`` with logit ``z_i``
scores ``exp(a z_i + b) / (1 + sum_j exp(a z_j + b))`` over every candidate kept
for the name. Their sum is below 1 by construction, the rest being the chance
that none is the place. Two near-equal namesakes share the mass (0.49 each, not
0.99 each), which is what a reader of the score should see.

The file is verified on load: its format, its terms (the code's :data:`TERMS`)
and the SHA-256 of its payload; a corrupt or foreign file is an
:class:`~pipeline.artifacts.ArtifactError` whose message says how to rebuild it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.artifacts import ArtifactError
from pipeline.errors import GazetteerError

#: Version of the file's layout: bump it when :meth:`ScoreModel.to_json` changes.
FORMAT = 1
KIND = "reconcile-score-model"
#: The packaged model every index scores with unless another is passed in.
PACKAGED = Path(__file__).resolve().parents[1] / "data" / "score_model.json"
REBUILD = "rebuild it with `camps calibrate` (or `dvc repro calibrate`)"


class ScoreModelError(ArtifactError, GazetteerError):
    """A score model file that must not be used: corrupt, foreign or of another format."""


#: The model's inputs per candidate, derived from its features (see :func:`terms`).
TERMS = (
    "evidence",
    "name_exact",
    "kana_similarity",
    "latin_similarity",
    "partial_name",
    "soviet_name",
    "region_inside",
    "region_outside",
    "type_agrees",
    "type_contradicts",
    "population",
    "curated",
    "unique",
    "shadowed",
)


def terms(features: Mapping[str, float], evidence: float, shadowed: bool) -> tuple[float, ...]:
    """The model's inputs of one candidate, in :data:`TERMS` order.

    ``region`` and ``feature_type`` (+1 agree, -1 disagree, 0 unknown) become two
    terms each, so a region that fits and one that contradicts weigh apart;
    ``shadowed`` says another candidate within ``rival_km`` has better name
    evidence (the same town under a second entry, or a lesser neighbour).

    >>> f = {"name_exact": 1.0, "region": -1.0, "feature_type": 0.0}
    >>> terms(f, 1.0, False)[:2], terms(f, 1.0, False)[6:8]
    ((1.0, 1.0), (0.0, 1.0))
    """
    region = features.get("region", 0.0)
    kind = features.get("feature_type", 0.0)
    return (
        evidence,
        features.get("name_exact", 0.0),
        features.get("kana_similarity", 0.0),
        features.get("latin_similarity", 0.0),
        features.get("partial_name", 0.0),
        features.get("soviet_name", 0.0),
        max(region, 0.0),
        max(-region, 0.0),
        max(kind, 0.0),
        max(-kind, 0.0),
        features.get("population", 0.0),
        features.get("curated", 0.0),
        features.get("unique", 0.0),
        1.0 if shadowed else 0.0,
    )


@dataclasses.dataclass(frozen=True)
class ScoreModel:
    """Fitted weights of the terms, and the calibration of the logit.

    Attributes
    ----------
    coef, intercept:
        The logistic regression: ``z = intercept + sum coef * term``.
    slope, offset:
        The calibration: a candidate's share is ``exp(slope * z + offset)``.
    inputs:
        What the model was made from (file digests, code, params), for staleness.
    info:
        What the fit saw and found (counts, the threshold for precision 1.00 on
        the development sets); informative, never read by scoring.
    """

    coef: tuple[float, ...]
    intercept: float
    slope: float
    offset: float
    inputs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    info: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.coef) != len(TERMS):
            raise ScoreModelError(
                f"score model has {len(self.coef)} weights for {len(TERMS)} terms: {REBUILD}"
            )

    def logit(self, values: Sequence[float]) -> float:
        """The uncalibrated logit of one candidate's terms."""
        return self.intercept + sum(w * v for w, v in zip(self.coef, values, strict=True))

    def distribution(self, logits: Sequence[float]) -> list[float]:
        """Calibrated scores of one name's candidates; they sum to less than 1.

        >>> m = ScoreModel((0.0,) * len(TERMS), 0.0, 1.0, 0.0)
        >>> [round(p, 4) for p in m.distribution([0.0, 0.0])]
        [0.3333, 0.3333]
        >>> m.distribution([])
        []
        """
        shifted = [self.slope * z + self.offset for z in logits]
        top = max([0.0, *shifted])  # 0 is the "none of these" logit
        weights = [math.exp(s - top) for s in shifted]
        total = math.exp(-top) + sum(weights)
        return [w / total for w in weights]

    def to_json(self) -> bytes:
        """The file's bytes: the payload and the SHA-256 of its canonical form."""
        payload = {
            "kind": KIND,
            "format": FORMAT,
            "terms": list(TERMS),
            "coef": [round(c, 6) for c in self.coef],
            "intercept": round(self.intercept, 6),
            "slope": round(self.slope, 6),
            "offset": round(self.offset, 6),
            "inputs": dict(self.inputs),
            "info": dict(self.info),
        }
        record = {**payload, "sha256": _digest(payload)}
        return (json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _digest(payload: Mapping[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse(data: bytes, where: Path | str = "score model") -> ScoreModel:
    """A verified model from a file's bytes; :class:`ArtifactError` saying the fix otherwise."""
    try:
        record = json.loads(data)
    except (UnicodeDecodeError, ValueError) as error:
        raise ScoreModelError(f"{where}: not JSON ({error}): {REBUILD}") from error
    if not isinstance(record, dict) or record.get("kind") != KIND:
        raise ScoreModelError(f"{where}: not a reconcile score model: {REBUILD}")
    if record.get("format") != FORMAT or record.get("terms") != list(TERMS):
        raise ScoreModelError(
            f"{where}: written for format {record.get('format')} with other terms "
            f"(this code reads format {FORMAT}): {REBUILD}"
        )
    claimed = record.pop("sha256", None)
    if claimed != _digest(record):
        raise ScoreModelError(
            f"{where}: checksum differs from its content (edited or truncated): {REBUILD}"
        )
    try:
        return ScoreModel(
            coef=tuple(float(c) for c in record["coef"]),
            intercept=float(record["intercept"]),
            slope=float(record["slope"]),
            offset=float(record["offset"]),
            inputs=record.get("inputs", {}),
            info=record.get("info", {}),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ScoreModelError(f"{where}: unreadable ({error}): {REBUILD}") from error


def load(path: Path = PACKAGED) -> ScoreModel:
    """The verified model in ``path``; :class:`ScoreModelError` (saying the fix) else."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScoreModelError(f"{path}: no score model: {REBUILD}") from None
    return parse(data, path)
